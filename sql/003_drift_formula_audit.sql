-- Schema drift, formula freshness and the field-level audit trail (issue #5).

-- The Salesforce fields a job's table was last loaded with: a field added to the job later is backfilled by a
-- narrow query instead of a full reload. NULL until the first run that records it.
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS synced_fields text[];
-- When the job's calculated (formula) fields were last re-read; they change without moving SystemModstamp.
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS calculated_refreshed_at timestamptz;

-- One row per changed record of a job with `audit: true`, written in the transaction of the merge that made it.
-- changes: {"column": {"old": …, "new": …}, …} for the columns whose values differ.
CREATE TABLE IF NOT EXISTS sfpg.changes (
    id              bigserial PRIMARY KEY,
    run_id          bigint,                 -- sfpg.sync_logs.id; NULL for a formula refresh or backfill
    job_name        text NOT NULL,
    record_key      text NOT NULL,
    operation       text NOT NULL CHECK (operation IN ('insert', 'update', 'delete', 'undelete')),
    changes         jsonb NOT NULL,
    system_modstamp timestamptz,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS changes_job_key_idx ON sfpg.changes (job_name, record_key, id);
CREATE INDEX IF NOT EXISTS changes_job_recorded_idx ON sfpg.changes (job_name, recorded_at);
