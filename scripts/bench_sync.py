#!/usr/bin/env python3
"""Orchestrates scripts/bench-sync (issue #6): `sfpg run` end to end against a shell pipeline and a Python peer.

One throwaway PostgreSQL and one emulator with N generated Contacts (34 fields, nasty text included) serve every
contender in the same run. Per rep: (a) `sfpg run --full` into an empty table; (b) 10% of records changed, then an
incremental run, then another 10% changed and a full run; (c) 1% changed, incremental; (d) the shell pipeline
`curl | gunzip` into one `psql` session (a COPY FROM STDIN per page) + the same merge SQL, into an empty table and after 10% changed; (e) simple-salesforce
Bulk 2.0 + psycopg COPY + the same merge, likewise; (cap) with the emulator's per-connection cap (8 MB/s, 50 ms),
sfpg full into an empty table with 1 and with 4 download connections; (f) "COPY alone", the floor: the Bulk
result pages saved to local files once (untimed), then one `psql` session `\\copy`-ing every file straight into the
same empty target table (with its indexes) in one transaction — no Salesforce, no staging, no merge; (split) sfpg
full into an empty table with the job's `split: 4` (four Bulk jobs over Id ranges, one run); (verify) `sfpg verify`
of a clean table, then with --drift of the rows drifted (a third deleted from the table, a third with an older
modstamp, a third hidden from the integration user): verify, verify --repair, verify again. Reuses
scripts/bench_load.py's cluster, emulator and measuring helpers.
"""
import argparse, contextlib, json, math, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_load import API, Emulator, Postgres, fetch_pages, http, log, psql, run_measured  # noqa: E402

# 34 Contact fields → column and type: every describe type the emulator generates, long free text included.
FIELDS = [
    ("Id", "sf_id", "varchar(18) PRIMARY KEY"), ("IsDeleted", "is_deleted", "boolean NOT NULL DEFAULT false"),
    ("AccountId", "account_id", "varchar(18)"), ("LastName", "last_name", "text"), ("FirstName", "first_name", "text"),
    ("Salutation", "salutation", "text"), ("Name", "name", "text"), ("MailingStreet", "mailing_street", "text"),
    ("MailingCity", "mailing_city", "text"), ("MailingState", "mailing_state", "text"),
    ("MailingPostalCode", "mailing_postal_code", "text"), ("MailingCountry", "mailing_country", "text"),
    ("MailingLatitude", "mailing_latitude", "numeric"), ("MailingLongitude", "mailing_longitude", "numeric"),
    ("Phone", "phone", "text"), ("MobilePhone", "mobile_phone", "text"), ("Email", "email", "text"),
    ("Title", "title", "text"), ("Department", "department", "text"), ("LeadSource", "lead_source", "text"),
    ("Birthdate", "birthdate", "date"), ("Description", "description", "text"), ("OwnerId", "owner_id", "varchar(18)"),
    ("HasOptedOutOfEmail", "has_opted_out_of_email", "boolean"), ("DoNotCall", "do_not_call", "boolean"),
    ("CreatedDate", "created_date", "timestamptz"), ("LastModifiedDate", "last_modified_date", "timestamptz"),
    ("SystemModstamp", "system_modstamp", "timestamptz NOT NULL"), ("Languages__c", "languages", "text"),
    ("Score__c", "score", "numeric"), ("Lifetime_Value__c", "lifetime_value", "numeric(16,2)"),
    ("Is_VIP__c", "is_vip", "boolean"), ("Notes__c", "notes", "text"), ("Last_Survey__c", "last_survey", "timestamptz"),
]
TABLE = "public.bench_contacts"
assert len(FIELDS) == 34


def job_yaml(overlap, split=1):
    lines = ["object: Contact", f"table: {TABLE}", "fields:"] + [f"  {f}: {c}" for f, c, _ in FIELDS]
    extra = [f"split: {split}"] if split > 1 else []
    return "\n".join(lines + ["key: Id", "watermark: SystemModstamp", "deletes: soft", f"overlap: {overlap}"]
                     + extra + [""])


def table_ddl():
    # `synced_at` as `sfpg describe` writes it (TableDesign): with its default, so a first load can copy straight into
    # the table. Without one the run must stage and merge, and until now this benchmark measured only that path.
    columns = [f"{c} {t}" for _, c, t in FIELDS] + ["deleted_at timestamptz", "synced_at timestamptz NOT NULL DEFAULT now()"]
    return (f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} ({', '.join(columns)}); "
            f"CREATE INDEX ON {TABLE} (email); CREATE INDEX ON {TABLE} (last_modified_date);")


SHELL = r"""#!/usr/bin/env bash
# The plain pipeline a shell engineer writes: Bulk 2.0 job with curl, every page curl | gunzip into ONE psql session
# (each page a COPY … FROM STDIN of that session's input, ended by \.) into an unlogged staging table, then one
# INSERT … ON CONFLICT merge (sfpg's merge SQL) in one transaction. One session for all pages, not one psql per page:
# the strongest shell baseline, with no connection or backend start per page.
set -euo pipefail
auth="Authorization: Bearer $TOKEN"
jobs="$INSTANCE/services/data/v$API/jobs/query"
id=$(curl -sSf -H "$auth" -H 'Content-Type: application/json' -d "$(jq -n --arg q "$SOQL" '{operation:"query",query:$q}')" "$jobs" | jq -r .id)
until [ "$(curl -sSf -H "$auth" "$jobs/$id" | jq -r .state)" = JobComplete ]; do sleep 0.2; done
{
  echo "DROP TABLE IF EXISTS public.bench_stage; $STAGE_DDL;"
  locator=""
  while :; do
    url="$jobs/$id/results"; [ -n "$locator" ] && url="$url?locator=$locator"
    echo "$COPY;"
    # tr: psql reads COPY data line by line with fgets, so a NUL byte (Salesforce text can hold one) would cut a line.
    curl -sSf -H "$auth" -H 'Accept-Encoding: gzip' -D "$WORK/headers" "$url" | gunzip | tr -d '\000'
    echo '\.'
    locator=$(tr -d '\r' < "$WORK/headers" | awk -F': ' 'tolower($1)=="sforce-locator"{print $2}')
    [ -z "$locator" ] || [ "$locator" = null ] && break
  done
  cat <<SQL
SET statement_timeout = 0;
BEGIN;
ANALYZE public.bench_stage;
$MERGE;
DROP TABLE public.bench_stage;
COMMIT;
SQL
} | psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB"
"""


class Database:
    """Another database of the same cluster, with the cluster's psql."""

    def __init__(self, cluster, name):
        self.conninfo = cluster.conninfo.replace("dbname=postgres", f"dbname={name}")

    def psql(self, sql):
        return psql(self.conninfo, sql)


def phases(stderr):
    """Seconds per phase of one `sfpg run` from its JSON debug log: Bulk job (submit → complete), download + COPY
    (complete → last page handed over), merge + commit (→ sync finished)."""
    from datetime import datetime
    marks, path = {}, None
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message", "")
        key = {"bulk query submitted": "submitted", "bulk query complete": "complete", "sync finished": "finished",
               "Downloaded results": "downloaded", "Downloaded results in parallel": "downloaded"}.get(message)
        if key and "ts" in entry:
            marks[key] = datetime.fromisoformat(entry["ts"].replace("Z", "+00:00")).timestamp()
        if key == "finished":
            path = entry.get("sync.path")
    span = lambda a, b: round(marks[b] - marks[a], 3) if a in marks and b in marks else None
    return {"jobSeconds": span("submitted", "complete"), "downloadCopySeconds": span("complete", "downloaded"),
            "mergeCommitSeconds": span("downloaded", "finished"), "path": path}


class Bench:
    def __init__(self, args, workdir):
        self.args, self.workdir = args, workdir
        self.sfpg = os.path.join(args.root, ".build/release/sfpg")
        self.before = None  # (binary, database, emulator) of --before, set up by setup()
        self.results = {}
        self.round_seed = 1000

    def setup(self, postgres, emulator):
        self.pg, self.emu = postgres, emulator
        self.jobs_dir = os.path.join(self.workdir, "jobs")
        os.makedirs(self.jobs_dir)
        self.job_file = os.path.join(self.jobs_dir, "contacts.yaml")
        with open(self.job_file, "w") as f:
            f.write(job_yaml(self.args.overlap))
        # The same job with `split`, in a directory of its own (two job files may not share a table unswept).
        self.split_jobs_dir = os.path.join(self.workdir, "jobs-split")
        os.makedirs(self.split_jobs_dir)
        with open(os.path.join(self.split_jobs_dir, "contacts.yaml"), "w") as f:
            f.write(job_yaml(self.args.overlap, self.args.split))
        self.pages_dir = None
        subprocess.run([self.sfpg, "migrate", "--database-url", self.pg.conninfo, "--log-level", "warning"],
                       check=True, stdout=subprocess.DEVNULL)
        self.pg.psql(table_ddl())
        if self.args.before:
            # The other build gets a database of its own (its schema, its watermarks), same cluster and emulator.
            self.pg.psql("CREATE DATABASE before")
            before_db = Database(self.pg, "before")
            subprocess.run([self.args.before, "migrate", "--database-url", before_db.conninfo, "--log-level", "warning"],
                           check=True, stdout=subprocess.DEVNULL)
            before_db.psql(table_ddl())
            # And an emulator of its own, with the same seed: each build's incremental runs then re-read only the
            # overlap of its own rounds of changes, not the other's as well.
            self.before = (self.args.before, before_db, Emulator(self.sfpg, self.args.rows, self.args.seed,
                                                                  self.args.result_cache_mb))
        sql = json.loads(subprocess.run(
            [os.path.join(os.path.dirname(self.sfpg), "sfpg-bench"), "load", "--print-sql", "--job", self.job_file, "--database-url", self.pg.conninfo,
             "--log-level", "warning"], check=True, capture_output=True, text=True).stdout)
        sql["staging"] = re.match(r"CREATE TEMP TABLE (\S+) ", sql["stagingDDL"]).group(1)
        self.sql = sql
        self.env = dict(os.environ, **emulator.env)
        grant = json.load(http("POST", emulator.base + "/services/oauth2/token", form={
            "grant_type": "password", "client_id": emulator.env["SF_CLIENT_ID"],
            "client_secret": emulator.env["SF_CLIENT_SECRET"], "username": emulator.env["SF_USERNAME"],
            "password": emulator.env["SF_PASSWORD"] + emulator.env["SF_SECURITY_TOKEN"]}))
        self.token, self.instance = grant["access_token"], grant["instance_url"].rstrip("/")
        self.shell = os.path.join(self.workdir, "pipeline.sh")
        with open(self.shell, "w") as f:
            f.write(SHELL)
        stage = sql["staging"]
        self.shell_env = dict(
            os.environ, TOKEN=self.token, INSTANCE=self.instance, API=API, SOQL=sql["soql"], DB=self.pg.conninfo,
            WORK=self.workdir,
            STAGE_DDL=sql["stagingDDL"].replace("CREATE TEMP TABLE " + stage, "CREATE UNLOGGED TABLE public.bench_stage")
            .replace(" ON COMMIT DROP", ""),
            COPY=sql["copySQL"].replace("COPY " + stage, "COPY public.bench_stage", 1)
            .replace("(FORMAT csv,", "(FORMAT csv, HEADER true,", 1),
            MERGE=sql["mergeSQL"].replace(stage, "public.bench_stage"))
        self.peer_config = os.path.join(self.workdir, "peer.json")
        with open(self.peer_config, "w") as f:
            json.dump({"instance": self.instance, "token": self.token, "apiVersion": API, "object": "Contact",
                       "soql": sql["soql"], "pageSize": 50_000, "conninfo": self.pg.conninfo,
                       "stagingDDL": sql["stagingDDL"], "copySQL": sql["copySQL"], "mergeSQL": sql["mergeSQL"],
                       "staging": stage}, f)
        if self.before:
            # Untimed, as the main warm-up: builds the other emulator's data and warms its caches.
            with self.using(*self.before):
                self.reset()
                self.sfpg_run("full")

    # -- state ------------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def using(self, binary, database, emulator):
        """Runs the block's sfpg scenarios with another build against its own database and emulator."""
        saved = self.sfpg, self.pg, self.emu, self.env
        self.sfpg, self.pg, self.emu, self.env = binary, database, emulator, dict(os.environ, **emulator.env)
        try:
            yield
        finally:
            self.sfpg, self.pg, self.emu, self.env = saved

    def reset(self):
        self.pg.psql(f"TRUNCATE {TABLE}; DELETE FROM sfpg.sync_logs; DELETE FROM sfpg.sync_state; DELETE FROM sfpg.shard_runs")

    def settle(self):
        self.pg.psql(f"VACUUM ANALYZE {TABLE}")
        self.pg.psql("CHECKPOINT")

    def change(self, share):
        """Edits about `share` of the records upstream (random picks repeat, hence the log)."""
        self.round_seed += 1
        updates = round(-self.args.rows * math.log(1 - share))
        http("POST", self.emu.base + "/__emulator/randomRound",
             body={"object": "Contact", "seed": self.round_seed, "updates": updates}).read()

    def faults(self, body):
        http("POST", self.emu.base + "/__emulator/faults", body=body).read()

    # -- contenders -------------------------------------------------------------------------------------------------
    def sfpg_run(self, mode, connections=4, jobs_dir=None):
        command = [self.sfpg, "run", "contacts", "--" + mode, "--jobs-directory", jobs_dir or self.jobs_dir,
                   "--database-url", self.pg.conninfo, "--log-level", "debug", "--log-format", "json",
                   "--download-connections", str(connections)]
        result = self.measure(command, self.env)
        result.update(phases(result.pop("stderr")))
        return result

    def shard_run(self, shards):
        """`sfpg run --full --shard i/N` for every i, started together as a Kubernetes Indexed Job would, one named
        logical run. Wall: until the last shard exits; RSS: the largest shard's; CPU: all shards'."""
        self.settle()
        self.shard_runs = getattr(self, "shard_runs", 0) + 1
        name = f"bench-{os.getpid()}-{self.shard_runs}"
        start = time.perf_counter()
        logs = [tempfile.TemporaryFile() for _ in range(shards)]
        processes = [subprocess.Popen(
            [self.sfpg, "run", "contacts", "--full", "--shard", f"{i}/{shards}", "--shard-run", name,
             "--jobs-directory", self.jobs_dir, "--database-url", self.pg.conninfo, "--log-level", "warning"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=logs[i]) for i in range(shards)]
        rss, cpu, failures = 0, 0.0, []
        for process, log_file in zip(processes, logs):
            _, status, usage = os.wait4(process.pid, 0)
            rss, cpu = max(rss, usage.ru_maxrss), cpu + usage.ru_utime + usage.ru_stime
            if os.waitstatus_to_exitcode(status) != 0:
                log_file.seek(0)
                failures.append(log_file.read().decode()[-2000:])
            log_file.close()
        wall = time.perf_counter() - start
        if failures:
            raise RuntimeError(f"shard failed: {failures[0]}")
        counts = self.pg.psql("SELECT status || ' ' || records_inserted || '/' || records_updated || '/' || "
                              "records_unchanged FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1")
        rows = int(self.pg.psql(f"SELECT count(*) FROM {TABLE}"))
        return {"wall": wall, "rssKiB": rss, "cpu": cpu, "rows": rows, "counts": counts}

    def copy_alone_run(self):
        """The floor: every result page, saved once to a local file, `\\copy`-ed by one psql session straight into
        the empty target table (its primary key and indexes included), in one transaction."""
        if self.pages_dir is None:
            self.pages_dir = os.path.join(self.workdir, "pages")
            pages, total = fetch_pages(self.emu, self.sql["soql"], self.sql["operation"], self.pages_dir)
            # psql's \\copy reads lines with fgets, so a NUL byte (Salesforce text can hold one) would cut a line
            # short: removed once here, untimed, as the shell pipeline's `tr -d '\\000'` does.
            # In 1 MiB chunks: this process's peak RSS is what every later child's ru_maxrss starts from (fork).
            for name in os.listdir(self.pages_dir):
                path = os.path.join(self.pages_dir, name)
                with open(path, "rb") as src, open(path + ".tmp", "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk.replace(b"\0", b""))
                os.replace(path + ".tmp", path)
            log(f"  saved {pages} result pages ({total:,} records) for COPY alone")
        copy = self.sql["copySQL"].replace("COPY " + self.sql["staging"], "\\copy " + TABLE, 1)
        lines = ["BEGIN;"]
        for name in sorted(f for f in os.listdir(self.pages_dir) if f.endswith(".csv")):
            path = os.path.join(self.pages_dir, name).replace("'", "''")
            lines.append(copy.replace("FROM STDIN WITH (FORMAT csv,", f"FROM '{path}' WITH (FORMAT csv, HEADER true,", 1))
        lines.append("COMMIT;")
        script = os.path.join(self.workdir, "copy-alone.sql")
        with open(script, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.measure(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.pg.conninfo, "-f", script],
                            os.environ)

    def shell_run(self):
        return self.measure(["bash", self.shell], self.shell_env)

    def peer_run(self):
        return self.measure([self.args.venv + "/bin/python", os.path.join(self.args.root, "scripts/bench_sync_peer.py"),
                             self.peer_config], os.environ)

    def verify_run(self, repair=False, codes=(0,)):
        """`sfpg verify contacts [--repair]`; its sync_logs row gives the windows, records and API calls."""
        command = [self.sfpg, "verify", "contacts", "--jobs-directory", self.jobs_dir, "--database-url", self.pg.conninfo,
                   "--log-level", "warning"] + (["--repair"] if repair else [])
        result = self.measure(command, self.env, codes)
        result["counts"] = self.pg.psql(
            "SELECT 'windows ' || windows_checked || ', compared ' || records_compared || ', missing ' || records_missing "
            "|| ', stale ' || records_stale || ', extra ' || records_extra || ', repaired ' || records_repaired "
            "|| ', api calls ' || api_calls_used FROM sfpg.sync_logs WHERE sync_type = 'verify' ORDER BY id DESC LIMIT 1")
        result["apiCalls"] = int(self.pg.psql(
            "SELECT api_calls_used FROM sfpg.sync_logs WHERE sync_type = 'verify' ORDER BY id DESC LIMIT 1"))
        return result

    def drift(self, share):
        """Drifts `share` of the rows behind sfpg's back: a third deleted from the table, a third given a modstamp 40
        days older (a missed update), a third hidden from the integration user in the emulator."""
        n = max(3, round(self.args.rows * share)) // 3
        ids = self.pg.psql(f"SELECT sf_id FROM {TABLE} ORDER BY md5(sf_id) LIMIT {3 * n}").split()
        quoted = lambda part: ",".join(f"'{i}'" for i in part)
        self.pg.psql(f"DELETE FROM {TABLE} WHERE sf_id IN ({quoted(ids[:n])})")
        self.pg.psql(f"UPDATE {TABLE} SET system_modstamp = system_modstamp - interval '40 days' "
                     f"WHERE sf_id IN ({quoted(ids[n:2 * n])})")
        http("POST", self.emu.base + "/__emulator/records/Contact/hide", body={"ids": ids[2 * n:]}).read()

    def measure(self, command, env, codes=(0,)):
        self.settle()
        self.emu.peak_kib(reset=True)
        start = time.perf_counter()
        # Output goes to files, not pipes: wait4 reads nothing until the child exits, and a debug log over a pipe's
        # 64 KiB (a 10M-row run logs two lines per page) would block the child forever.
        with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
            process = subprocess.Popen(command, env=env, stdout=out_file, stderr=err_file)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            out_file.seek(0)
            err_file.seek(0)
            out, err = out_file.read().decode(), err_file.read().decode()
        if os.waitstatus_to_exitcode(status) not in codes:
            raise RuntimeError(f"{command[:2]} failed: {err[-3000:]}{out[-1000:]}")
        counts = self.pg.psql("SELECT records_inserted || '/' || records_updated || '/' || records_unchanged "
                              "FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1") if "run" in command else ""
        rows = int(self.pg.psql(f"SELECT count(*) FROM {TABLE}"))
        return {"wall": wall, "rssKiB": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime, "rows": rows,
                "counts": counts, "stderr": err, "emulatorPeakKiB": self.emu.peak_kib(), "load1": os.getloadavg()[0]}

    def record(self, name, result):
        result.pop("stderr", None)
        self.results.setdefault(name, []).append(result)
        log(f"  {name:28} {result['wall']:7.2f}s  phases {result.get('jobSeconds')}/{result.get('downloadCopySeconds')}/"
            f"{result.get('mergeCommitSeconds')}"
            f"  {result['wall']:7.2f}s  cpu {result['cpu']:5.2f}s  rss {result['rssKiB'] / 1024:6.1f} MiB"
            f"  rows {result['rows']:,}  {result['counts']}  {result.get('path') or ''}"
            f"  emulator peak {result.get('emulatorPeakKiB', 0) / 1024:.0f} MiB  load {result.get('load1', 0):.1f}")

    def verify_against_salesforce(self, name):
        """Untimed: a plain full sync right after `name` must find nothing to insert, update or delete — the table
        then holds every record Salesforce returns, at its current SystemModstamp, and nothing else."""
        result = self.sfpg_run("full")
        counts = result["counts"]
        inserted, updated, _ = (int(x) for x in counts.split("/"))
        deleted = int(self.pg.psql("SELECT records_deleted FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1") or 0)
        ok = inserted == 0 and updated == 0 and deleted == 0
        log(f"  {name}: {'verified' if ok else 'DIFFERS'} (a plain full sync after it: {inserted} inserted, "
            f"{updated} updated, {deleted} deleted)")
        self.results.setdefault("verifications", []).append({"scenario": name, "ok": ok, "counts": counts})
        if not ok:
            raise RuntimeError(f"{name} left a table that differs from Salesforce's records")

    def empty(self, name, run):
        """Times `run` into an empty table; with the emulator's result cache, after one untimed run that warms it
        for this contender's way of fetching pages on the current data."""
        if self.args.result_cache_mb:
            self.reset()
            run()
        self.reset()
        self.record(name, run())

    def rep(self, number):
        only = self.args.only
        log(f"rep {number}")
        if not only or "sfpg" in only:
            contenders = [("sfpg", self.sfpg, self.pg, self.emu)] + ([("before",) + self.before] if self.before else [])
            # Alternating who goes first, so neither build always meets the other's leftovers (dirty pages, WAL).
            for label, binary, database, emulator in contenders if number % 2 else reversed(contenders):
                with self.using(binary, database, emulator):
                    self.empty(f"a_{label}_full_empty", lambda: self.sfpg_run("full"))
                    self.change(0.10)
                    self.record(f"b_{label}_incremental_10pct", self.sfpg_run("incremental"))
                    self.change(0.10)
                    self.record(f"b_{label}_full_10pct", self.sfpg_run("full"))
                    self.change(0.01)
                    self.record(f"c_{label}_incremental_1pct", self.sfpg_run("incremental"))
        if not only or "copy" in only:
            self.reset()
            self.record("f_copy_alone_empty", self.copy_alone_run())
        if not only or "split" in only:
            self.empty(f"a_sfpg_full_empty_split{self.args.split}", lambda: self.sfpg_run("full", jobs_dir=self.split_jobs_dir))
            self.verify_against_salesforce(f"a_sfpg_full_empty_split{self.args.split}")
        if not only or "shard" in only:
            self.empty(f"a_sfpg_full_empty_shard{self.args.shards}", lambda: self.shard_run(self.args.shards))
            self.verify_against_salesforce(f"a_sfpg_full_empty_shard{self.args.shards}")
            self.change(0.10)
            self.record(f"b_sfpg_full_10pct_shard{self.args.shards}", self.shard_run(self.args.shards))
        if not only or "shell" in only:
            self.empty("d_shell_empty", self.shell_run)
            self.change(0.10)
            self.record("d_shell_10pct", self.shell_run())
        if not only or "python" in only:
            self.empty("e_python_empty", self.peer_run)
            self.change(0.10)
            self.record("e_python_10pct", self.peer_run())
        if not only or "verify" in only:
            self.reset()
            load = self.sfpg_run("full")
            log(f"  verify: the table loaded by a full sync in {load['wall']:.1f}s, emulator peak "
                f"{load['emulatorPeakKiB'] / 1024:.0f} MiB")
            self.record("v_sfpg_verify_clean", self.verify_run())
            self.drift(self.args.drift)
            self.record("v_sfpg_verify_drift", self.verify_run(codes=(7,)))
            self.record("v_sfpg_verify_repair", self.verify_run(repair=True))
            self.record("v_sfpg_verify_after_repair", self.verify_run())
            http("POST", self.emu.base + "/__emulator/records/Contact/unhide", body={"ids": self.pg.psql(
                f"SELECT sf_id FROM {TABLE} WHERE is_deleted").split()}).read()
        if not only or "cap" in only:
            self.faults({"kind": "bandwidth", "bytesPerSecond": self.args.cap_bytes})
            self.faults({"kind": "latencyMs", "ms": self.args.cap_latency_ms})
            try:
                for connections in (1, 4):
                    self.reset()
                    self.record(f"cap_sfpg_full_{connections}conn", self.sfpg_run("full", connections))
            finally:
                self.faults({"kind": "clear"})


def summarize(bench, args, meta):
    rows = args.rows
    summary = {}
    for name, runs in bench.results.items():
        if name == "verifications":
            continue
        walls = [r["wall"] for r in runs]
        med = statistics.median(walls)
        summary[name] = {"wallMedian": med, "wallMin": min(walls), "wallMax": max(walls),
                         "rowsPerSecond": rows / med, "peakRSSMiB": max(r["rssKiB"] for r in runs) / 1024,
                         "cpuMedian": statistics.median(r["cpu"] for r in runs), "runs": runs,
                         "emulatorPeakMiB": max(r.get("emulatorPeakKiB", 0) for r in runs) / 1024,
                         "load1Median": statistics.median(r.get("load1", 0) for r in runs)}
        for phase in ("jobSeconds", "downloadCopySeconds", "mergeCommitSeconds"):
            values = [r[phase] for r in runs if r.get(phase) is not None]
            if values:
                summary[name][phase + "Median"] = statistics.median(values)
    ratios = {}

    def ratio(key, a, b):
        if a in summary and b in summary:
            ratios[key] = summary[a]["wallMedian"] / summary[b]["wallMedian"]

    for scenario in ("a_{}_full_empty", "b_{}_incremental_10pct", "b_{}_full_10pct", "c_{}_incremental_1pct"):
        ratio(scenario.format("sfpg") + "_vs_before (target <= 1.05)", scenario.format("sfpg"), scenario.format("before"))
    ratio("before_full10_vs_shell_10pct", "b_before_full_10pct", "d_shell_10pct")
    ratio("before_full_vs_shell_empty", "a_before_full_empty", "d_shell_empty")
    ratio("full_vs_copy_alone_empty", "a_sfpg_full_empty", "f_copy_alone_empty")
    ratio("full10_vs_copy_alone_empty", "b_sfpg_full_10pct", "f_copy_alone_empty")
    ratio(f"split{args.split}_vs_copy_alone_empty", f"a_sfpg_full_empty_split{args.split}", "f_copy_alone_empty")
    ratio(f"split{args.split}_vs_full_empty", f"a_sfpg_full_empty_split{args.split}", "a_sfpg_full_empty")
    ratio(f"split{args.split}_vs_shell_empty", f"a_sfpg_full_empty_split{args.split}", "d_shell_empty")
    ratio(f"shard{args.shards}_vs_full_empty", f"a_sfpg_full_empty_shard{args.shards}", "a_sfpg_full_empty")
    ratio(f"shard{args.shards}_10pct_vs_full_10pct", f"b_sfpg_full_10pct_shard{args.shards}", "b_sfpg_full_10pct")
    ratio("full_vs_shell_empty (target <= 0.9)", "a_sfpg_full_empty", "d_shell_empty")
    ratio("full10_vs_shell_10pct (target <= 1.0)", "b_sfpg_full_10pct", "d_shell_10pct")
    ratio("full10_vs_shell_empty (target <= 1.0)", "b_sfpg_full_10pct", "d_shell_empty")
    ratio("full_vs_python_empty (target <= 0.5)", "a_sfpg_full_empty", "e_python_empty")
    ratio("full10_vs_python_10pct (target <= 0.5)", "b_sfpg_full_10pct", "e_python_10pct")
    ratio("incremental1_vs_full (target <= 0.1)", "c_sfpg_incremental_1pct", "a_sfpg_full_empty")
    ratio("cap_1conn_over_4conn (target >= 2.5)", "cap_sfpg_full_1conn", "cap_sfpg_full_4conn")
    one, four = summary.get("cap_sfpg_full_1conn", {}), summary.get("cap_sfpg_full_4conn", {})
    if one.get("downloadCopySecondsMedian") and four.get("downloadCopySecondsMedian"):
        ratios["cap_download_phase_1conn_over_4conn (target >= 2.5)"] = (
            one["downloadCopySecondsMedian"] / four["downloadCopySecondsMedian"])
    lines = [f"sfpg sync benchmark, {meta['date']}, {meta['machine']}: {rows:,} Contacts × 34 fields, "
             f"{args.reps} reps (median, min–max)"
             + (f"; emulator result cache {args.result_cache_mb} MiB (into-empty scenarios timed warm)" if args.result_cache_mb else ""), "",
             "| scenario | wall median (min–max) | rows/s | client CPU | client peak RSS | job / download+COPY / merge | emulator peak RSS | load avg |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        split = " / ".join(f"{s[k + 'Median']:.1f}" if k + "Median" in s else "–"
                           for k in ("jobSeconds", "downloadCopySeconds", "mergeCommitSeconds"))
        lines.append(f"| {name} | {s['wallMedian']:.2f} s ({s['wallMin']:.2f}–{s['wallMax']:.2f}) | "
                     f"{s['rowsPerSecond']:,.0f} | {s['cpuMedian']:.2f} s | {s['peakRSSMiB']:.1f} MiB | {split} s | "
                     f"{s['emulatorPeakMiB']:.0f} MiB | {s['load1Median']:.1f} |")
    lines.append("")
    for key, value in ratios.items():
        lines.append(f"- {key}: {value:.3f}")
    print("\n".join(lines))
    out = args.out or os.path.join(args.root, "bench-out", "sync.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(dict(meta, rows=rows, reps=args.reps, results=summary, ratios=ratios, table=lines,
                       verifications=bench.results.get("verifications", [])), f, indent=2)
    log(f"wrote {out}")


def ensure_venv(path):
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        log(f"creating the Python peer's virtual environment in {path}")
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "simple-salesforce", "psycopg[binary]"], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", action="append", choices=["sfpg", "copy", "split", "shard", "shell", "python", "cap", "verify"],
                        help="run only these contenders (repeatable); default all")
    parser.add_argument("--overlap", default="5m",
                        help="the job's incremental overlap; the emulator stamps a whole change round within ~100 s, "
                             "so the default 5m re-reads the previous round too, which a real org's day would not")
    parser.add_argument("--drift", type=float, default=0.001, help="the (verify) scenario's share of drifted rows")
    parser.add_argument("--split", type=int, default=4, help="the (split) scenario's `split: N`")
    parser.add_argument("--shards", type=int, default=4, help="the (shard) scenario's N processes (`--shard i/N`)")
    parser.add_argument("--result-cache-mb", type=int, default=0,
                        help="the emulator keeps this many MiB of rendered pages across jobs over unchanged data; each "
                             "into-an-empty-table scenario then runs once untimed first, so every contender is timed "
                             "against a warm emulator (the figures then exclude CSV generation)")
    parser.add_argument("--cap-bytes", type=int, default=8_000_000, help="per-connection cap for (cap), bytes/s")
    parser.add_argument("--cap-latency-ms", type=int, default=50)
    parser.add_argument("--venv", help="the Python peer's virtual environment (default: <root>/bench-out/venv)")
    parser.add_argument("--out", help="JSON output (default: <root>/bench-out/sync.json)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--before", help="another sfpg build (e.g. an older commit's release binary) that runs the (sfpg) "
                        "scenarios too, in a database of its own, alternating with this one; ratios sfpg/before")
    args = parser.parse_args()
    args.venv = args.venv or os.path.join(args.root, "bench-out", "venv")
    # SIGTERM unwinds like Ctrl-C, so the cluster and the emulator are stopped by the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.only or "python" in args.only:
        ensure_venv(args.venv)
    workdir = tempfile.mkdtemp(prefix="sfpg-bench-sync-")
    os.chmod(workdir, 0o755)
    bench = Bench(args, workdir)
    emulator = postgres = None
    meta = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
            "machine": f"{os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().release}, "
                       f"{subprocess.run(['postgres', '--version'], capture_output=True, text=True).stdout.strip() if shutil.which('postgres') else 'PostgreSQL'}"}
    try:
        postgres = Postgres(workdir)
        log(f"emulator: {args.rows:,} contacts")
        t = time.perf_counter()
        emulator = Emulator(bench.sfpg, args.rows, args.seed, args.result_cache_mb)
        bench.setup(postgres, emulator)
        # Warm-up, untimed: builds the emulator's data and warms both servers' caches. Verify alone begins with a
        # full sync of its own (at 10M rows a warm-up costs minutes).
        if args.only != ["verify"]:
            bench.reset()
            warm = bench.sfpg_run("full")
            log(f"ready in {time.perf_counter() - t:.1f}s (warm-up full sync {warm['wall']:.1f}s)")
        for rep in range(args.reps):
            bench.rep(rep + 1)
        summarize(bench, args, meta)
    finally:
        if emulator:
            emulator.stop()
        if bench.before:
            bench.before[2].stop()
        if postgres:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
