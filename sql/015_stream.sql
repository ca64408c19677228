-- Change Data Capture (sfpg serve, issue #20): where a job's event stream was applied up to. The replay id commits
-- in the transaction of the rows it applied, so a restart from it applies every event exactly once; the
-- fingerprint of the job the events were applied for tells a changed job file (which heals with a batch run).
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS stream_replay_id bytea;
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS stream_applied_at timestamptz;
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS stream_fingerprint text;
