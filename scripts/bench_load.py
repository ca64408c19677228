#!/usr/bin/env python3
"""Orchestrates scripts/bench-load (stdlib only): emulator → page files → throwaway PostgreSQL → sfpg vs psql.

Both contenders load the same page files with the same staging DDL, COPY column list and merge SQL (taken from
`sfpg-bench load --print-sql`, i.e. from sfpg's own LoadPlan), in one transaction each. Scenario (a) loads into
an empty table; (b) re-loads every row, ~10% of them newer, into the table (a) left. Within a rep each contender
runs (a) then (b) on its own fresh table, and the contenders alternate which goes first.
"""
import argparse, json, math, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
import http.client as httpclient, urllib.parse, urllib.request

API = "62.0"


def log(message):
    print(message, file=sys.stderr, flush=True)


def psql(conninfo, sql):
    """One statement through psql; its unaligned output, stripped."""
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_pg_bin():
    for candidate in ["/usr/local/bin", *sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        if os.access(os.path.join(candidate, "initdb"), os.X_OK):
            return candidate
    sys.exit("initdb not found in /usr/local/bin or /usr/lib/postgresql/*/bin")


class Postgres:
    """A throwaway cluster set up like ThrowawayPostgres (fsync off, unix socket only), as the postgres user."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pg")
        self.port = free_port()
        self.bin = find_pg_bin()
        self.started = False
        os.makedirs(self.dir + "/socket")
        for path in (workdir, self.dir, self.dir + "/socket"):
            os.chmod(path, 0o755)
        as_postgres = ["/usr/sbin/runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:
            subprocess.run(["chown", "-R", "postgres", self.dir], check=True)
        self.as_postgres = as_postgres
        subprocess.run(as_postgres + [self.bin + "/initdb", "-D", self.dir + "/data", "-U", "postgres", "-A", "trust",
                                      "-E", "UTF8", "--no-locale", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
        options = (f"-p {self.port} -k {self.dir}/socket -c listen_addresses='' -c fsync=off -c full_page_writes=off "
                   "-c synchronous_commit=off -c max_connections=200")
        subprocess.run(as_postgres + [self.bin + "/pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/server.log",
                                      "-w", "-o", options, "start"], check=True, stdout=subprocess.DEVNULL)
        self.started = True
        self.conninfo = f"host={self.dir}/socket port={self.port} user=postgres dbname=postgres"

    def psql(self, sql):
        return psql(self.conninfo, sql)

    def stop(self):
        if self.started:
            self.started = False
            subprocess.run(self.as_postgres + [self.bin + "/pg_ctl", "-D", self.dir + "/data", "-w", "stop", "-m",
                                               "fast"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def sibling(sfpg, name):
    """A tool built next to the sfpg binary: sfpg-emulator, sfpg-bench."""
    return os.path.join(os.path.dirname(sfpg), name)


class Emulator:
    """`sfpg-emulator --port 0` (built next to sfpg) as a child; stdout line-buffered through stdbuf so the exports arrive."""

    def __init__(self, sfpg, rows, seed, result_cache_mb=0, binary=None, extra=(), exports=6):
        command = [binary or sibling(sfpg, "sfpg-emulator"), "--port", "0", "--contacts", str(rows), "--seed", str(seed),
                   "--job-delay-ms", "0", *extra]
        if result_cache_mb:
            command += ["--result-cache-mb", str(result_cache_mb)]
        if shutil.which("stdbuf"):
            command = ["stdbuf", "-oL"] + command
        # stderr to a file: a pipe nobody drains would block the emulator once it wrote 64 KiB.
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.errors, text=True)
        self.env = {}
        while len(self.env) < exports:
            line = self.process.stdout.readline()
            if not line:
                self.errors.seek(0)
                raise RuntimeError("emulator exited: " + self.errors.read().decode(errors="replace"))
            match = re.match(r"export (SF_\w+)='(.*)'$", line.strip())
            if match:
                self.env[match.group(1)] = match.group(2)
        self.base = self.env["SF_LOGIN_URL"].rstrip("/")

    def peak_kib(self, reset=False):
        """The emulator's peak resident set (VmHWM, KiB) since it started or the last reset; `reset` starts a new
        peak (Linux `clear_refs` 5), so each scenario reports its own."""
        with open(f"/proc/{self.process.pid}/status") as f:
            peak = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
        if reset:
            with open(f"/proc/{self.process.pid}/clear_refs", "w") as f:
                f.write("5")
        return peak

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def http(method, url, token=None, body=None, form=None):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = "Bearer " + token
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    return urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method), timeout=600)


def fetch_pages(emulator, soql, operation, directory):
    """One Bulk API 2.0 query job; every result page (raw CSV, header row included) into its own file."""
    env = emulator.env
    grant = json.load(http("POST", emulator.base + "/services/oauth2/token", form={
        "grant_type": "password", "client_id": env["SF_CLIENT_ID"], "client_secret": env["SF_CLIENT_SECRET"],
        "username": env["SF_USERNAME"], "password": env["SF_PASSWORD"] + env["SF_SECURITY_TOKEN"]}))
    token, instance = grant["access_token"], grant["instance_url"].rstrip("/")
    jobs = f"{instance}/services/data/v{API}/jobs/query"
    job = json.load(http("POST", jobs, token, body={"operation": operation, "query": soql, "contentType": "CSV"}))
    while True:
        state = json.load(http("GET", f"{jobs}/{job['id']}", token))["state"]
        if state == "JobComplete":
            break
        if state in ("Failed", "Aborted"):
            raise RuntimeError(f"Bulk job {job['id']} ended {state}")
        time.sleep(0.2)
    os.makedirs(directory)
    # A kept-alive connection: urllib sends `Connection: close`, and the emulator (HTTPHandler.write) then closes
    # the channel before a large body has drained, truncating the page. Lengths are checked either way.
    parts = urllib.parse.urlsplit(instance)
    connection = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=600)
    locator, page, total = None, 0, 0
    try:
        while True:
            path = f"{parts.path}/services/data/v{API}/jobs/query/{job['id']}/results"
            connection.request("GET", path + (f"?locator={locator}" if locator else ""),
                               headers={"Authorization": "Bearer " + token})
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"results page {page + 1}: HTTP {response.status} {response.read()[:500]!r}")
            name = f"{directory}/page-{page + 1:05d}.csv"
            with open(name, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
            expected = int(response.headers.get("Content-Length") or -1)
            if expected >= 0 and os.path.getsize(name) != expected:
                raise RuntimeError(f"{name}: {os.path.getsize(name)} bytes, Content-Length {expected}")
            total += int(response.headers.get("Sforce-NumberOfRecords") or 0)
            locator = response.headers.get("Sforce-Locator")
            page += 1
            if not locator or locator == "null":
                return page, total
    finally:
        connection.close()


def run_measured(command, stdin_path=None):
    """Runs a child, returns (wall seconds, peak RSS KiB from wait4, stdout)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, stderr=err)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {stderr[-2000:]}")
    return wall, usage.ru_maxrss, stdout


def psql_script(sql, pages_dir):
    copy = sql["copySQL"].replace("COPY ", "\\copy ", 1)
    files = sorted(f for f in os.listdir(pages_dir) if f.endswith(".csv"))
    lines = ["\\timing on", "BEGIN;", "SET LOCAL statement_timeout = 0;", sql["stagingDDL"] + ";"]
    for name in files:
        path = os.path.join(pages_dir, name).replace("'", "''")
        lines.append(copy.replace("FROM STDIN WITH (FORMAT csv,", f"FROM '{path}' WITH (FORMAT csv, HEADER true,"))
    lines += ["\\echo BENCH-MERGE", "ANALYZE " + sql["staging"] + ";", sql["mergeSQL"] + ";", "COMMIT;"]
    return "\n".join(lines) + "\n"


def psql_times(output):
    """Sums psql's \\timing lines before and after the merge marker: (copy seconds, merge+commit seconds)."""
    before, _, after = output.partition("BENCH-MERGE")
    ms = lambda text: sum(float(m) for m in re.findall(r"^Time: ([\d.]+) ms", text, re.M)) / 1000
    return ms(before), ms(after)


def median_range(values):
    return statistics.median(values), min(values), max(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--changed", type=float, default=0.10, help="share of records changed for scenario (b)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", help="where pages and the cluster go (default: a new temp dir)")
    parser.add_argument("--out", help="JSON output (default: <root>/bench-out/load.json)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (pages, cluster log)")
    args = parser.parse_args()

    sfpg = os.path.join(args.root, ".build/release/sfpg")
    workdir = tempfile.mkdtemp(prefix="sfpg-bench-", dir=args.workdir)
    emulator = postgres = None
    try:
        postgres = Postgres(workdir)
        subprocess.run([sfpg, "migrate", "--database-url", postgres.conninfo, "--log-level", "warning"], check=True,
                       stdout=subprocess.DEVNULL)
        sql = json.loads(subprocess.run([sibling(sfpg, "sfpg-bench"), "load", "--print-sql", "--database-url", postgres.conninfo,
                                         "--log-level", "warning"], check=True, capture_output=True, text=True).stdout)
        sql["staging"] = re.match(r"CREATE TEMP TABLE (\S+) ", sql["stagingDDL"]).group(1)
        table = re.search(r"INSERT INTO (\S+) AS t", sql["mergeSQL"]).group(1)

        log(f"emulator: {args.rows:,} contacts; downloading page set (a)")
        emulator = Emulator(sfpg, args.rows, args.seed)
        t = time.perf_counter()
        pages_a = fetch_pages(emulator, sql["soql"], sql["operation"], workdir + "/pages-a")
        log(f"  {pages_a[0]} pages, {pages_a[1]:,} rows in {time.perf_counter() - t:.1f}s")
        # Random picks repeat; ask for enough updates that about `changed` of the records end up changed.
        updates = round(-args.rows * math.log(1 - args.changed))
        http("POST", emulator.base + "/__emulator/randomRound",
             body={"object": "Contact", "seed": args.seed + 1, "updates": updates}).read()
        pages_b = fetch_pages(emulator, sql["soql"], sql["operation"], workdir + "/pages-b")
        log(f"  page set (b): {pages_b[0]} pages, {pages_b[1]:,} rows")
        emulator.stop()
        emulator = None
        sizes = {k: sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
                 for k, d in (("a", workdir + "/pages-a"), ("b", workdir + "/pages-b"))}

        def reset():
            postgres.psql(f"TRUNCATE {table}; DELETE FROM sfpg.sync_logs; DELETE FROM sfpg.sync_state")
            postgres.psql(f"VACUUM ANALYZE {table}")

        def settle():
            # Same starting point for every timed load: target vacuumed and analyzed, dirty buffers written.
            postgres.psql(f"VACUUM ANALYZE {table}")
            postgres.psql("CHECKPOINT")

        def sfpg_load(pages_dir):
            wall, rss, out = run_measured([sibling(sfpg, "sfpg-bench"), "load", "--pages", pages_dir, "--database-url",
                                           postgres.conninfo, "--log-level", "warning"])
            report = json.loads(out.strip().splitlines()[-1])
            return {"wall": wall, "rssKiB": rss, "copy": report["copySeconds"], "merge": report["mergeCommitSeconds"],
                    "inserted": report["inserted"], "updated": report["updated"], "unchanged": report["unchanged"],
                    "cpu": report["cpuUserSeconds"] + report["cpuSystemSeconds"]}

        def psql_load(pages_dir):
            script = os.path.join(workdir, "load.sql")
            with open(script, "w") as f:
                f.write(psql_script(sql, pages_dir))
            wall, rss, out = run_measured(["psql", "-X", "-q", "-A", "-v", "ON_ERROR_STOP=1", "-d", postgres.conninfo,
                                           "-f", script])
            copy, merge = psql_times(out)
            counts = re.findall(r"^(\d+)\|(\d+)\|(\d+)\|(\d+)\|", out, re.M)
            inserted, updated = (int(counts[-1][1]), int(counts[-1][2])) if counts else (None, None)
            return {"wall": wall, "rssKiB": rss, "copy": copy, "merge": merge, "inserted": inserted,
                    "updated": updated}

        contenders = {"sfpg": sfpg_load, "psql": psql_load}
        results = {s: {c: [] for c in contenders} for s in ("a", "b")}
        for rep in range(args.reps):
            order = ["sfpg", "psql"] if rep % 2 == 0 else ["psql", "sfpg"]
            for name in order:
                reset()
                for scenario, pages_dir in (("a", workdir + "/pages-a"), ("b", workdir + "/pages-b")):
                    settle()
                    result = contenders[name](pages_dir)
                    results[scenario][name].append(result)
                    log(f"rep {rep + 1} {name:4} ({scenario}): {result['wall']:.2f}s wall, copy {result['copy']:.2f}s, "
                        f"merge {result['merge']:.2f}s, {result['rssKiB'] / 1024:.1f} MiB, "
                        f"+{result['inserted']} ~{result['updated']}")
        report(args, results, pages_a, pages_b, sizes)
    finally:
        if emulator:
            emulator.stop()
        if postgres:
            postgres.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(args, results, pages_a, pages_b, sizes):
    titles = {"a": "(a) into an empty table", "b": f"(b) re-load, ~{args.changed:.0%} changed"}
    pages = {"a": pages_a, "b": pages_b}
    summary = {}
    lines = [f"sfpg load benchmark: {args.rows:,} Contact rows (12 fields), {args.reps} reps, "
             f"{sizes['a'] / 1e6:.0f} MB CSV per page set, {pages_a[0]} pages",
             "", "| scenario | contender | wall median (min–max) | copy | merge+commit | rows/s | peak RSS |",
             "|---|---|---|---|---|---|---|"]
    for scenario in ("a", "b"):
        summary[scenario] = {}
        for name, runs in results[scenario].items():
            wall = median_range([r["wall"] for r in runs])
            rss = max(r["rssKiB"] for r in runs) / 1024
            entry = {"wallMedian": wall[0], "wallMin": wall[1], "wallMax": wall[2],
                     "copyMedian": statistics.median(r["copy"] for r in runs),
                     "mergeMedian": statistics.median(r["merge"] for r in runs),
                     "rowsPerSecond": pages[scenario][1] / wall[0], "peakRSSMiB": rss, "runs": runs}
            summary[scenario][name] = entry
            lines.append(f"| {titles[scenario]} | {name} | {wall[0]:.2f} s ({wall[1]:.2f}–{wall[2]:.2f}) | "
                         f"{entry['copyMedian']:.2f} s | {entry['mergeMedian']:.2f} s | "
                         f"{entry['rowsPerSecond']:,.0f} | {rss:.1f} MiB |")
        ratios = [s["wall"] / p["wall"] for s, p in zip(results[scenario]["sfpg"], results[scenario]["psql"])]
        summary[scenario]["ratio"] = summary[scenario]["sfpg"]["wallMedian"] / summary[scenario]["psql"]["wallMedian"]
        summary[scenario]["pairedRatios"] = ratios
    lines.append("")
    for scenario in ("a", "b"):
        s = summary[scenario]
        lines.append(f"{titles[scenario]}: sfpg/psql = {s['ratio']:.3f}× (median walls; per rep "
                     + ", ".join(f"{r:.3f}" for r in s["pairedRatios"]) + "); target ≤ 1.10×")
    sfpg_rss = max(summary[s]["sfpg"]["peakRSSMiB"] for s in ("a", "b"))
    lines.append(f"sfpg peak RSS: {sfpg_rss:.1f} MiB (target < 64 MiB)")
    print("\n".join(lines))
    out = args.out or os.path.join(args.root, "bench-out", "load.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"rows": args.rows, "reps": args.reps, "changed": args.changed, "pageSetBytes": sizes,
                   "pages": pages_a[0], "date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
                   "results": summary, "table": lines}, f, indent=2)
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
