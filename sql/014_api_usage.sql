-- What each run spent of the org's daily allowances (issue 19): api_calls_used becomes the whole run's calls
-- (preflight, Bulk jobs, pages, cleanup), and these say what `sfpg plan` forecasts from.
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS result_bytes bigint;              -- uncompressed CSV bytes downloaded
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS bulk_jobs integer;                -- Bulk query jobs created
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS bulk_job_seconds double precision; -- submit → last JobComplete
