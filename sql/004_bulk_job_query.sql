-- The SOQL of the Bulk job in flight, so the next run reuses a crashed run's job only if it selected the same
-- fields (a job file may have changed in between).
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS bulk_job_query text;
