-- A full run of a job with `split: N` reads the object with up to 16 Bulk query jobs: the in-flight bookkeeping and
-- the run log hold all their ids, comma-separated, so a later run can abort and delete every one of them.
ALTER TABLE sfpg.sync_state ALTER COLUMN bulk_job_id TYPE text;
ALTER TABLE sfpg.sync_logs ALTER COLUMN salesforce_job_id TYPE text;
