-- What each run proved before it committed (or why it refused to): Salesforce's record count for the Bulk job,
-- the records the result pages announced and delivered, and the rows a full sweep removed. `records_processed`
-- (the seed's column) stays the number of rows staged by COPY.
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_expected bigint;    -- the job's numberRecordsProcessed
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_downloaded bigint;  -- Σ records of the result pages
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS result_pages integer;
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS failure_reason text;       -- e.g. 'incomplete', 'sweep_limit'
