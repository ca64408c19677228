-- Resume (issue 19): a large run stages its result pages in an UNLOGGED table of schema sfpg_stage that outlives
-- the session, one page per transaction together with its ledger row, so a killed run's rerun reuses the Bulk
-- jobs, skips the pages already staged and downloads only the rest. UNLOGGED: the pages can always be read again
-- from Salesforce, so they are not worth WAL; a crash of the database server empties the table, and the ledger
-- (which is logged) then disagrees with it: the final proof refuses that run and the next one starts over.
CREATE SCHEMA IF NOT EXISTS sfpg_stage;

-- One resumable run per job (scope '') or per shard of a sharded run (scope 'shard <run id>/<index>').
CREATE TABLE IF NOT EXISTS sfpg.resume_runs (
    job_name     text NOT NULL,
    scope        text NOT NULL DEFAULT '',
    -- What the staged rows were read for (query, table, columns, split): a changed job file starts over.
    fingerprint  text NOT NULL,
    bulk_job_ids text[] NOT NULL,
    -- The split run's Id range boundaries (one Bulk job per range, in order); empty for a single job.
    boundaries   text[] NOT NULL DEFAULT '{}',
    stage_table  text NOT NULL,
    records_expected bigint,
    started_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_name, scope)
);

-- The ledger: one row per staged page, committed with the page's COPY.
CREATE TABLE IF NOT EXISTS sfpg.resume_pages (
    job_name     text NOT NULL,
    scope        text NOT NULL DEFAULT '',
    bulk_job_id  text NOT NULL,
    page_index   integer NOT NULL,
    -- The Sforce-Locator that followed the page (the locator chain resumes there); NULL when the page was the last
    -- or came from the resultPages listing.
    next_locator text,
    records      bigint NOT NULL,
    bytes        bigint NOT NULL,
    staged_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_name, scope, bulk_job_id, page_index),
    FOREIGN KEY (job_name, scope) REFERENCES sfpg.resume_runs ON DELETE CASCADE
);
