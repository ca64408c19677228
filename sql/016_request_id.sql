-- Which batch run of `sfpg serve` wrote the row (`POST /sync/…` answers 202 with it as runId; scheduled runs get
-- one too), so a caller finds its run's rows. NULL for `sfpg run`, `sfpg verify` and the stream's own heals.
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS request_id text;
CREATE INDEX IF NOT EXISTS sync_logs_request_idx ON sfpg.sync_logs (request_id) WHERE request_id IS NOT NULL;
