-- Shard mode (`sfpg run JOB --full --shard I/N`): N processes, often on N machines, each load one Id range of one
-- logical full run. PostgreSQL is their only coordinator: the first shard to arrive records the ranges here, every
-- other shard (and every rerun) reads them, and the shard that commits last completes the run.

-- One row per logical run of a sharded job. `boundaries` are the agreed range boundaries (N - 1 of them, or fewer
-- when the object has too few Ids to split that often); shards never compute their own, so data that changes
-- between their starts cannot leave a gap or an overlap.
CREATE TABLE IF NOT EXISTS sfpg.shard_runs (
    id           bigserial PRIMARY KEY,
    job_name     text NOT NULL,
    run_name     text NOT NULL,                 -- --shard-run (in Kubernetes the Job's name), else generated
    shard_count  integer NOT NULL CHECK (shard_count >= 2),
    boundaries   text[] NOT NULL,
    log_id       bigint NOT NULL,               -- the logical run's one sfpg.sync_logs row
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,                   -- set by the shard that committed last
    UNIQUE (job_name, run_name)
);
CREATE INDEX IF NOT EXISTS shard_runs_job_started_idx ON sfpg.shard_runs (job_name, started_at);

-- One row per shard of a logical run, created with the run (all 'pending').
CREATE TABLE IF NOT EXISTS sfpg.shards (
    run_id             bigint NOT NULL REFERENCES sfpg.shard_runs (id) ON DELETE CASCADE,
    shard_index        integer NOT NULL,
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    attempts           integer NOT NULL DEFAULT 0,
    bulk_job_id        text,                    -- the shard's Bulk job: in flight until the shard commits
    records_expected   bigint,
    records_downloaded bigint,
    result_pages       integer,
    records_processed  bigint,
    records_inserted   bigint,
    records_updated    bigint,
    records_deleted    bigint,
    records_unchanged  bigint,
    max_modstamp       timestamptz,             -- the largest watermark value this shard loaded
    api_calls_used     integer,
    error_message      text,
    started_at         timestamptz,
    finished_at        timestamptz,
    PRIMARY KEY (run_id, shard_index)
);
