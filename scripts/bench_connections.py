#!/usr/bin/env python3
"""A/B of two sfpg binaries on the same `sfpg run contacts --full` (issue #12, item 3: connection reuse).

    scripts/bench_connections.py --a BIN --b BIN --emulator BIN [--rows 100000] [--page-size 500] [--reps 3]
                                 [--tls] [--connections 4,1] [--delay-ms 0]

The built-in contacts job with `page_size` added, into a throwaway PostgreSQL (scripts/bench_load.py's), against
one `sfpg-emulator` (job delay 0). The binaries alternate who goes first per rep, after one untimed warm-up run.
Per run: wall time, the API calls from sfpg.sync_logs, the TCP connections the emulator accepted during the run
(`GET /__emulator/connections`), and the phases from sfpg's JSON log. `--delay-ms D` puts scripts/delay_proxy.py
between sfpg and the emulator (RTT = 2 × D) and logs in with an access token fetched directly, so every request
crosses the delayed link; on loopback a handshake costs almost nothing, over a WAN each one costs round trips.
Build B as the "before": e.g. A at HEAD, B the same commit with the change reverted, both with scripts/build-release.
"""
import argparse, json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_load import Postgres  # noqa: E402
from bench_sync import phases  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--a", required=True, help="sfpg binary A (e.g. with connection reuse)")
parser.add_argument("--b", required=True, help="sfpg binary B (e.g. a connection per request)")
parser.add_argument("--emulator", required=True, help="sfpg-emulator binary (needs GET /__emulator/connections)")
parser.add_argument("--rows", type=int, default=100_000)
parser.add_argument("--page-size", type=int, default=500)
parser.add_argument("--reps", type=int, default=3)
parser.add_argument("--tls", action="store_true")
parser.add_argument("--connections", default="4,1", help="--download-connections values, comma-separated")
parser.add_argument("--delay-ms", type=float, default=0, help="one-way delay of a proxy in between")
args = parser.parse_args()
binaries = {"A": args.a, "B": args.b}
work = tempfile.mkdtemp(prefix="sfpg-bench-connections-")
os.chmod(work, 0o755)
pg = emulator = proxy = None
try:
    pg = Postgres(work)
    command = ["stdbuf", "-oL", args.emulator, "--port", "0", "--contacts", str(args.rows), "--job-delay-ms", "0"]
    emulator = subprocess.Popen(command + (["--tls"] if args.tls else []), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    exports = {}
    while not ("CURL_CA_BUNDLE" in exports if args.tls else sum(k.startswith("SF_") for k in exports) >= 6):
        line = emulator.stdout.readline()
        if not line:
            raise RuntimeError("the emulator exited")
        match = re.match(r"export (\w+)='(.*)'$", line.strip())
        if match:
            exports[match.group(1)] = match.group(2)
    env = {**os.environ, **exports}
    base = env["SF_LOGIN_URL"].rstrip("/")
    ca = ["--cacert", exports["CURL_CA_BUNDLE"]] if args.tls else []
    if args.tls:
        env["SF_CA_BUNDLE"] = exports["CURL_CA_BUNDLE"]

    def curl(*arguments):
        return json.loads(subprocess.run(["curl", "-sS", *ca, *arguments], check=True, capture_output=True,
                                         text=True).stdout)

    def accepted():
        return curl(base + "/__emulator/connections")["accepted"]

    if args.delay_ms:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            proxy_port = probe.getsockname()[1]
        proxy = subprocess.Popen([sys.executable, os.path.join(root, "scripts/delay_proxy.py"), str(proxy_port),
                                  base.rsplit(":", 1)[1], str(args.delay_ms)], stdout=subprocess.PIPE, text=True)
        proxy.stdout.readline()
        form = (f"grant_type=password&client_id={env['SF_CLIENT_ID']}&client_secret={env['SF_CLIENT_SECRET']}"
                f"&username={env['SF_USERNAME']}&password={env['SF_PASSWORD']}{env['SF_SECURITY_TOKEN']}")
        token = curl("-d", form, base + "/services/oauth2/token")["access_token"]
        for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_USERNAME", "SF_PASSWORD", "SF_SECURITY_TOKEN", "SF_LOGIN_URL"):
            env.pop(name, None)
        env["SF_ACCESS_TOKEN"] = token
        env["SF_INSTANCE_URL"] = base.rsplit(":", 1)[0] + f":{proxy_port}"

    jobs = os.path.join(work, "jobs")
    os.makedirs(jobs)
    with open(os.path.join(root, "jobs/contacts.yaml")) as f:
        job = f.read()
    with open(os.path.join(jobs, "contacts.yaml"), "w") as f:
        f.write(job + f"\npage_size: {args.page_size}\n")
    subprocess.run([args.a, "migrate", "--database-url", pg.conninfo, "--log-level", "warning"], check=True,
                   stdout=subprocess.DEVNULL)
    results = {}

    def run(name, connections):
        pg.psql("TRUNCATE public.salesforce_contacts; DELETE FROM sfpg.sync_logs; DELETE FROM sfpg.sync_state")
        pg.psql("CHECKPOINT")
        before = accepted()
        start = time.perf_counter()
        process = subprocess.run(
            [binaries[name], "run", "contacts", "--full", "--jobs-directory", jobs, "--database-url", pg.conninfo,
             "--log-level", "debug", "--log-format", "json", "--download-connections", str(connections)],
            env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if process.returncode != 0:
            raise RuntimeError(process.stderr[-2000:])
        # The reading after the run comes on a connection of its own.
        opened = accepted() - before - 1
        calls = int(pg.psql("SELECT api_calls_used FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1"))
        loaded = int(pg.psql("SELECT count(*) FROM public.salesforce_contacts"))
        if loaded != args.rows:
            raise RuntimeError(f"{name} loaded {loaded} rows, not {args.rows}")
        return {"wall": wall, "calls": calls, "connections": opened, **phases(process.stderr)}

    counts = [int(c) for c in args.connections.split(",")]
    for connections in counts:
        run("A", connections)
    for rep in range(args.reps):
        for connections in counts:
            for name in ("A", "B") if rep % 2 == 0 else ("B", "A"):
                result = run(name, connections)
                results.setdefault((name, connections), []).append(result)
                print(name, connections, json.dumps(result), file=sys.stderr, flush=True)
    print(f"{args.rows:,} contacts, page_size {args.page_size}, {'https' if args.tls else 'http'}, one-way delay "
          f"{args.delay_ms:g} ms, {args.reps} reps (medians)")
    for connections in counts:
        median = {}
        for name in ("A", "B"):
            runs = results[(name, connections)]
            median[name] = {key: statistics.median(r[key] for r in runs if r[key] is not None)
                            for key in ("wall", "calls", "connections", "downloadCopySeconds")}
            m = median[name]
            print(f"  {connections} conn {name}: wall {m['wall']:.2f} s (runs {[round(r['wall'], 2) for r in runs]}), "
                  f"download+COPY {m['downloadCopySeconds']:.2f} s, API calls {m['calls']:.0f}, "
                  f"connections {m['connections']:.0f}")
        print(f"  {connections} conn A/B: wall {median['A']['wall'] / median['B']['wall']:.3f}, download+COPY "
              f"{median['A']['downloadCopySeconds'] / median['B']['downloadCopySeconds']:.3f}")
finally:
    for child in (proxy, emulator):
        if child and child.poll() is None:
            child.terminate()
            child.wait(timeout=30)
    if pg:
        pg.stop()
    shutil.rmtree(work, ignore_errors=True)
