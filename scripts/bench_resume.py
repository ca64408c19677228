#!/usr/bin/env python3
"""Resume after a kill against a clean rerun (issue #19, item 1).

    scripts/bench_resume.py [--rows 1000000] [--page-size 50000] [--no-build] [--sfpg BIN]

Against one `sfpg-emulator` (job delay 0) and a throwaway PostgreSQL (scripts/bench_load.py's), the built-in
contacts job with `page_size` set, `sfpg run contacts --full` into an empty table:
  direct      an uninterrupted run below the resume threshold (the direct first load: COPY into the target)
  staged      an uninterrupted run above it (pages committed one by one into an UNLOGGED sfpg_stage table)
  resume      a staged run SIGKILLed once half its pages are in the ledger, then rerun: the rerun's time and bytes
  clean       the same kill, its staged pages dropped, then rerun as before resume existed (direct first load)
Bytes are the decoded CSV bytes the rerun downloaded (`sync.bytes_downloaded` of its log); pages from the
emulator's per-job counter (`GET /__emulator/jobs/{id}/pages`).
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_load import Emulator, Postgres, log  # noqa: E402
from bench_sync import phases  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--rows", type=int, default=1_000_000)
parser.add_argument("--page-size", type=int, default=50_000)
parser.add_argument("--no-build", action="store_true")
parser.add_argument("--sfpg", help="the sfpg binary (sfpg-emulator beside it); default a release build of this tree")
parser.add_argument("--only", action="append", choices=["direct", "staged", "resume", "clean"],
                    help="run only these scenarios (repeatable; default all); at 10M rows each costs minutes")
parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed first run")
args = parser.parse_args()
if not args.no_build and not args.sfpg:
    subprocess.run([os.path.join(root, "scripts/build-release")], check=True)
    subprocess.run([os.path.join(root, "scripts/build-release"), "--product", "sfpg-emulator"], check=True)
sfpg = args.sfpg or os.path.join(root, ".build/release/sfpg")
work = tempfile.mkdtemp(prefix="sfpg-bench-resume-")
os.chmod(work, 0o755)
pg = emulator = None
NEVER = "999999999999"


def served(job):
    with urllib.request.urlopen(f"{emulator.base}/__emulator/jobs/{job}/pages") as response:
        return json.load(response)["pagesServed"]


def finished(stderr):
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "sync finished":
            return entry
    raise RuntimeError("no 'sync finished' line: " + stderr[-2000:])


def command():
    return [sfpg, "run", "contacts", "--full", "--jobs-directory", jobs, "--database-url", pg.conninfo,
            "--log-level", "debug", "--log-format", "json"]


def reset():
    pg.psql("TRUNCATE public.salesforce_contacts; DELETE FROM sfpg.sync_logs; DELETE FROM sfpg.sync_state; "
            "DELETE FROM sfpg.resume_runs")
    for table in pg.psql("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                         "WHERE schemaname = 'sfpg_stage'").splitlines():
        pg.psql(f"DROP TABLE {table}")
    pg.psql("CHECKPOINT")


def run(threshold):
    emulator.peak_kib(reset=True)
    start = time.perf_counter()
    process = subprocess.run(command(), env={**env, "SFPG_RESUME_MIN_RECORDS": threshold}, capture_output=True,
                             text=True)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(process.stderr[-3000:])
    loaded = int(pg.psql("SELECT count(*) FROM public.salesforce_contacts"))
    if loaded != args.rows:
        raise RuntimeError(f"loaded {loaded} rows, not {args.rows}")
    done = finished(process.stderr)
    return {"wall": round(wall, 2), "bytes": int(done.get("sync.bytes_downloaded", 0)),
            "pages": int(done.get("sync.pages", 0)), "path": done.get("sync.path"), **phases(process.stderr),
            "emulatorPeakMiB": round(emulator.peak_kib() / 1024), "load1": os.getloadavg()[0]}


def kill_at_half():
    """A staged run SIGKILLed once half its pages are staged; returns (seconds until the kill, staged pages, bytes,
    the Bulk job)."""
    reset()
    total = -(-args.rows // args.page_size)
    start = time.perf_counter()
    process = subprocess.Popen(command(), env={**env, "SFPG_RESUME_MIN_RECORDS": "1"}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    while int(pg.psql("SELECT count(*) FROM sfpg.resume_pages") or 0) < total // 2:
        if process.poll() is not None:
            raise RuntimeError("the run ended before half its pages were staged")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = time.perf_counter() - start
    pages, staged_bytes = pg.psql("SELECT count(*) || ' ' || sum(bytes) FROM sfpg.resume_pages").split()
    job = pg.psql("SELECT bulk_job_ids[1] FROM sfpg.resume_runs")
    return round(killed, 2), int(pages), int(staged_bytes), job


try:
    pg = Postgres(work)
    log(f"emulator with {args.rows:,} contacts")
    emulator = Emulator(sfpg, args.rows, seed=19)
    env = {**os.environ, **emulator.env}
    jobs = os.path.join(work, "jobs")
    os.makedirs(jobs)
    with open(os.path.join(root, "jobs/contacts.yaml")) as f:
        job_file = f.read()
    with open(os.path.join(jobs, "contacts.yaml"), "w") as f:
        f.write(job_file + f"\npage_size: {args.page_size}\n")
    subprocess.run([sfpg, "migrate", "--database-url", pg.conninfo, "--log-level", "warning"], check=True,
                   stdout=subprocess.DEVNULL)
    results = {}
    wanted = lambda name: not args.only or name in args.only
    if not args.no_warm_up:
        reset()
        run(NEVER)  # warm-up: the emulator's first generation of the pages
    for name, threshold in (("direct", NEVER), ("staged", "1")):
        if not wanted(name):
            continue
        reset()
        results[name] = run(threshold)
        log(f"{name}: {results[name]}")
    for name in ("resume", "clean"):
        if not wanted(name):
            continue
        killed, pages, staged_bytes, bulk_job = kill_at_half()
        if name == "clean":
            # As before resume existed: nothing staged survives, the rerun starts from scratch.
            reset()
        before = served(bulk_job)
        results[name] = run(NEVER)
        results[name].update(killedAfter=killed, stagedPages=pages, stagedBytes=staged_bytes,
                             pagesServedToRerun=served(bulk_job) - before)
        log(f"{name}: {results[name]}")
    print(f"{args.rows:,} contacts, page_size {args.page_size}, sfpg run contacts --full into an empty table")
    for name, r in results.items():
        extra = (f", killed after {r['killedAfter']} s with {r['stagedPages']} pages staged, rerun fetched "
                 f"{r['pagesServedToRerun']} pages of the old job") if "killedAfter" in r else ""
        print(f"  {name:7} wall {r['wall']:7.2f} s  downloaded {r['bytes'] / 1e6:8.1f} MB in {r['pages']} pages  "
              f"path {r['path']}  download+COPY {r['downloadCopySeconds']} s  merge+commit {r['mergeCommitSeconds']} s"
              f"{extra}; emulator peak {r['emulatorPeakMiB']} MiB, load {r['load1']:.1f}")
    print(json.dumps(results))
finally:
    if emulator:
        emulator.stop()
    if pg:
        pg.stop()
    shutil.rmtree(work, ignore_errors=True)
