-- What `sfpg verify` found, on its own sfpg.sync_logs row (sync_type = 'verify'): the count windows it compared
-- (Salesforce's aggregate counts against the table's live rows), the records it compared key by key in the windows
-- whose counts differed, what it found and what `--repair` fixed. api_calls_used holds the calls it spent.
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS windows_checked integer;
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_compared bigint;
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_missing bigint;   -- live in Salesforce, not live in the table
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_stale bigint;     -- the table's modstamp older than Salesforce's
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_extra bigint;     -- live in the table, gone from Salesforce
ALTER TABLE sfpg.sync_logs ADD COLUMN IF NOT EXISTS records_repaired bigint;
