-- The org a job's table was read from (issue 18): the 18-character org Id of the session that committed its first
-- run. A run whose session belongs to another org (a refreshed sandbox, a wrong SF_LOGIN_URL) is refused before
-- any Bulk job, since its watermark and keys mean nothing there; `sfpg run JOB --full --accept-new-org` replaces it.
-- NULL: the job never committed a run since this column exists; the next committed run records it.
ALTER TABLE sfpg.sync_state ADD COLUMN IF NOT EXISTS org_id text;
