-- Where the deletes check of incremental runs (issue 18) starts next: getDeleted's `latestDateCovered` (Salesforce's
-- clock, whole minutes), a key sweep's snapshot less the job's overlap, or a full run's snapshot. Every deletion up to
-- this instant is reflected in the table. NULL: unknown (no full run since this column exists); the next check is a
-- key sweep. Written in the run's transaction, so a run that did not commit re-reads the same window.
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS deletes_covered_until timestamptz;
