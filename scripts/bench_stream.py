#!/usr/bin/env python3
"""Change events → PostgreSQL latency of `sfpg serve` (issue #20).

    scripts/bench-stream [--rate 200] [--seconds 300] [--contacts 20000] [--no-build] [--sfpg BIN] [--emulator BIN]

One `sfpg-emulator` with its Pub/Sub API, one throwaway PostgreSQL, the contacts job with `stream: true`, and
`sfpg serve` (the release binary). Once serve is ready (its first batch run loaded the table and the subscription is
live and its position stored, after `sfpg run contacts --full`), the emulator's driver makes mixed creates, updates, soft deletes and undeletes at `--rate` per second for
`--seconds`. Each change is stamped with the emulator's time (SystemModstamp, the event's commitTimestamp); a
deferred constraint trigger on the table records the time each row version was committed (it runs at COMMIT, so the
row is visible an instant later). Latency = commit time - mutation time, per (record, modstamp), on the same clock.
There are fewer row versions than events: a record deleted and undeleted within one micro-batch is re-read once
(an undelete carries no fields) and commits as one version.
While it runs, serve's resident set (VmRSS) is sampled every half second. When the stream has drained, serve is
stopped and `sfpg verify contacts` compares the table with the org (exit 0: no drift).
"""
import argparse, json, os, shutil, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_load import Emulator, Postgres, free_port, http, log  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--rate", type=float, default=200, help="changes per second")
parser.add_argument("--seconds", type=float, default=300, help="how long the emulator changes records")
parser.add_argument("--contacts", type=int, default=20_000, help="records in the org before the stream starts")
parser.add_argument("--no-build", action="store_true")
parser.add_argument("--sfpg", help="the sfpg binary; default this tree's release build")
parser.add_argument("--emulator", help="the sfpg-emulator binary; default the one beside sfpg, else the debug build")
parser.add_argument("--json", help="also write the figures to this file")
args = parser.parse_args()
if not args.no_build and not args.sfpg:
    subprocess.run([os.path.join(root, "scripts/build-release"), "--product", "sfpg"], check=True)
sfpg = args.sfpg or os.path.join(root, ".build/release/sfpg")
emulator_bin = args.emulator or next(
    (p for p in (os.path.join(os.path.dirname(sfpg), "sfpg-emulator"), os.path.join(root, ".build/debug/sfpg-emulator"))
     if os.access(p, os.X_OK)), None)
if not emulator_bin:
    sys.exit("bench-stream: no sfpg-emulator (swift build --product sfpg-emulator)")

TRIGGER = """
CREATE TABLE public.bench_seen (id text NOT NULL, modstamp timestamptz, committed timestamptz NOT NULL);
CREATE FUNCTION public.bench_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.bench_seen VALUES (NEW.salesforce_id, NEW.system_modstamp, clock_timestamp());
    RETURN NULL;
END $$;
-- Deferred: runs at COMMIT, after every statement of sfpg's batch transaction.
CREATE CONSTRAINT TRIGGER bench_seen AFTER INSERT OR UPDATE ON public.salesforce_contacts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.bench_seen();
"""


class Sampler(threading.Thread):
    """VmRSS of a process every half second, until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.halt = pid, [], threading.Event()

    def run(self):
        start = time.monotonic()
        while not self.halt.wait(0.5):
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    status = dict(line.split(":", 1) for line in f if ":" in line)
                self.samples.append((time.monotonic() - start, int(status["VmRSS"].split()[0]) / 1024))
            except (OSError, KeyError):
                return


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


work = tempfile.mkdtemp(prefix="sfpg-bench-stream-")
os.chmod(work, 0o755)
pg = emulator = serve = None
try:
    pg = Postgres(work)
    log(f"emulator with {args.contacts:,} contacts and its Pub/Sub API ({emulator_bin})")
    emulator = Emulator(sfpg, args.contacts, seed=20, binary=emulator_bin, extra=["--pubsub-port", "0", "--pubsub-keepalive-ms", "1000"], exports=7)
    jobs = os.path.join(work, "jobs")
    os.makedirs(jobs)
    with open(os.path.join(root, "jobs/contacts.yaml")) as f:
        job_file = f.read()
    with open(os.path.join(jobs, "contacts.yaml"), "w") as f:
        f.write(job_file + "\nstream: true\n")
    env = {**os.environ, **emulator.env}
    common = ["--jobs-directory", jobs, "--database-url", pg.conninfo]
    subprocess.run([sfpg, "migrate", "--log-level", "warning", *common], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([sfpg, "run", "contacts", "--full", "--log-level", "warning", *common], check=True, env=env,
                   stdout=subprocess.DEVNULL)

    port = free_port()
    serve_log = open(os.path.join(work, "serve.log"), "w+")
    serve = subprocess.Popen([sfpg, "serve", "--port", str(port), "--log-format", "json", *common], env=env,
                             stdout=subprocess.DEVNULL, stderr=serve_log)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    # Steady state: the table loaded, and a first (keepalive) batch stored the stream's position after the heal
    # that a subscription without one starts with.
    position = "SELECT count(*) FROM sfpg.sync_state WHERE stream_replay_id IS NOT NULL"
    while get(base + "/ready")[0] != 200 or pg.psql(position) != "1":
        if serve.poll() is not None or time.monotonic() - started > 300:
            serve_log.seek(0)
            raise RuntimeError("sfpg serve did not get ready: " + serve_log.read()[-3000:])
        time.sleep(0.2)
    log(f"serve ready after {time.monotonic() - started:.1f} s (subscription live, position stored)")
    pg.psql(TRIGGER)
    sampler = Sampler(serve.pid)
    sampler.start()

    published = json.loads(get(emulator.base + "/__emulator/pubsub/drive")[1])["published"]
    drive_start = time.time()
    http("POST", emulator.base + "/__emulator/pubsub/drive",
         body={"object": "Contact", "perSecond": args.rate, "seconds": args.seconds, "seed": 20}).read()
    log(f"driving {args.rate:g} changes/s for {args.seconds:g} s")
    while True:
        time.sleep(1)
        state = json.loads(get(emulator.base + "/__emulator/pubsub/drive")[1] or "{}")
        if not state.get("running", True):
            break
    mutations, events = state["mutations"], state["published"] - published
    driven = time.time() - drive_start
    # Drained: no new row version for 5 s.
    last, quiet = None, time.monotonic()
    while time.monotonic() - quiet < 5:
        time.sleep(0.5)
        now = pg.psql("SELECT count(*) FROM public.bench_seen")
        if now != last:
            last, quiet = now, time.monotonic()
    sampler.halt.set()
    sampler.join()
    with open(f"/proc/{serve.pid}/status") as f:
        peak = int(next(line for line in f if line.startswith("VmHWM")).split()[1]) / 1024
    serve.send_signal(signal.SIGTERM)
    serve_exit = serve.wait(timeout=60)

    rows = pg.psql(f"""
        SELECT extract(epoch FROM committed - modstamp) FROM (
            SELECT DISTINCT ON (id, modstamp) id, modstamp, committed FROM public.bench_seen
            WHERE modstamp >= to_timestamp({drive_start}) ORDER BY id, modstamp, committed) s""").split()
    latencies = [float(r) for r in rows]
    verify = subprocess.run([sfpg, "verify", "contacts", "--log-level", "warning", *common], env=env,
                            capture_output=True, text=True)
    rss = [mib for _, mib in sampler.samples]
    minute = [mib for t, mib in sampler.samples if t <= 60] or rss
    tail = [mib for t, mib in sampler.samples if t >= sampler.samples[-1][0] - 60] or rss
    figures = {
        "rate": args.rate, "seconds": round(driven, 1), "mutations": mutations, "events": events, "measured": len(latencies),
        "p50": round(percentile(latencies, 50), 3), "p95": round(percentile(latencies, 95), 3),
        "p99": round(percentile(latencies, 99), 3), "max": round(max(latencies), 3),
        "mean": round(statistics.fmean(latencies), 3),
        "rssMiB": {"firstMinuteMax": round(max(minute), 1), "lastMinuteMax": round(max(tail), 1),
                   "max": round(max(rss), 1), "peakHWM": round(peak, 1)},
        "emulatorPeakMiB": round(emulator.peak_kib() / 1024), "serveExit": serve_exit, "verifyExit": verify.returncode, "load1": round(os.getloadavg()[0], 2),
    }
    print(f"sfpg serve, {args.contacts:,} contacts, {mutations:,} changes at {args.rate:g}/s over {driven:.0f} s "
          f"(emulator {os.path.basename(os.path.dirname(emulator_bin))}, sfpg {os.path.basename(os.path.dirname(sfpg))})")
    print(f"  {events:,} change events published; mutation → row committed, {len(latencies):,} row versions: p50 {figures['p50']:.3f} s  "
          f"p95 {figures['p95']:.3f} s  p99 {figures['p99']:.3f} s  max {figures['max']:.3f} s")
    print(f"  sfpg RSS: first minute ≤ {max(minute):.1f} MiB, last minute ≤ {max(tail):.1f} MiB, "
          f"peak (VmHWM) {peak:.1f} MiB")
    print(f"  the emulator took {driven:.0f} s for {args.seconds:g} s of changes, peak RSS {figures['emulatorPeakMiB']} MiB")
    print(f"  sfpg serve exit {serve_exit} on SIGTERM; sfpg verify exit {verify.returncode} "
          f"({'no drift' if verify.returncode == 0 else verify.stderr.strip()[-500:]}); load {figures['load1']}")
    print(json.dumps(figures))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if verify.returncode != 0 or serve_exit != 0:
        sys.exit(1)
finally:
    if serve and serve.poll() is None:
        serve.kill()
        serve.wait()
    if emulator:
        emulator.stop()
    if pg:
        pg.stop()
    shutil.rmtree(work, ignore_errors=True)
