-- A logical sharded run is one job definition read once (issue 17). The fingerprint (query, table, key, shard
-- count) keeps a job file edited between shard attempts from mixing two definitions into one "complete" run;
-- abandoned_at marks a run superseded by a newer one, whose shards alone may then commit (the older snapshot's
-- sweep would delete rows the newer one loaded); records_swept lets the sweep bound hold over the whole run
-- rather than per shard (10% of a 5-row shard is 0 rows).
ALTER TABLE sfpg.shard_runs ADD COLUMN IF NOT EXISTS fingerprint text;
ALTER TABLE sfpg.shard_runs ADD COLUMN IF NOT EXISTS abandoned_at timestamptz;
ALTER TABLE sfpg.shards ADD COLUMN IF NOT EXISTS records_swept bigint;
