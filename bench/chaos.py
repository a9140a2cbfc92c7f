"""Does anything get lost when processes die? A load run with faults thrown in.

    DATABASE_URL=postgres://... python bench/chaos.py --items 100000 --duration 40

Starts `bin/serve` (granian web workers, a Celery worker with two pool processes, beat) on
PostgreSQL with a Redis of its own (--redis-port, so restarting it disturbs nothing
else), and runs K simulated annotators (bench/annotate_load.py, next then submit) for
--duration seconds. During the run it
1. SIGKILLs one granian web worker (granian starts a new one);
2. queues an export and SIGKILLs the Celery pool process that runs it, mid-job;
3. stops Redis and starts it again, empty (the broker and the cache lose everything).
Then it waits for beat to settle the queue and the jobs (short timeouts are set for the
run) and checks, with `manage.py bench_annotate check` and `chaos-check`:
- every submit that got a 2xx is stored exactly once, and no pair or item is over;
- no item is over its overlap and every item's n_done is its count;
- no lease is left past its expiry;
- every import, export and aggregation job ended done or failed;
- the project's counters equal the exact counts.
Prints one JSON object; "ok" is true when all of these hold.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate_load import ROOT, manage, run_annotators  # noqa: E402


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def find(pattern: str, session: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True)
    found = []
    for line in out.stdout.splitlines():
        pid, sid, args = line.strip().split(None, 2)
        if int(sid) == session and pattern in args:
            found.append(int(pid))
    return found


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout:
            return proc
        time.sleep(0.05)
    raise RuntimeError("redis did not start")


def export_status(db, export_id: int) -> str:
    with db.cursor() as cur:
        cur.execute("SELECT status FROM tasks_exportjob WHERE id = %s", [export_id])
        return cur.fetchone()[0]


def wait_http(url: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"no server at {url}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--port", type=int, default=8079)
    parser.add_argument("--redis-port", type=int, default=6390)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--settle", type=float, default=150.0, help="seconds to wait for beat")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/chaos.py needs DATABASE_URL on PostgreSQL")

    redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
    os.environ["REDIS_URL"] = redis_url  # for manage() too
    env = {
        **os.environ,
        # Short enough to settle within the run: leases, stale jobs, redelivery, the fold.
        "VOX_LEASE_SECONDS": "15",
        "VOX_JOB_STALE_S": "10",
        "VOX_JOB_VISIBILITY_S": "20",
        "VOX_AGGREGATION_STALE_S": "10",
    }
    url = f"http://127.0.0.1:{args.port}"
    redis = start_redis(args.redis_port)
    server = subprocess.Popen(
        [str(ROOT / "bin" / "serve"), "127.0.0.1", str(args.port), str(args.web_workers)],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=open(Path(tempfile.gettempdir()) / "vox-chaos-server.log", "w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    faults: dict[str, object] = {}
    try:
        wait_http(url)
        setup = manage(
            "setup", "--items", str(args.items), "--overlap", "3",
            "--raters", str(args.concurrency),
        )  # fmt: skip
        project_id = setup["project_id"]
        result: dict = {}

        def load():
            result["stats"], result["elapsed"] = run_annotators(
                url, setup["tokens"], project_id, args.duration, False, 0, warmup=0.0
            )

        loader = threading.Thread(target=load)
        started = time.monotonic()
        loader.start()

        def at(fraction: float) -> None:
            time.sleep(max(0.0, started + fraction * args.duration - time.monotonic()))

        # 1. A web worker dies.
        at(0.2)
        granian = find("granian", server.pid)
        workers = [c for g in granian for c in children(g) if c in granian]
        victim = workers[0] if workers else None
        if victim:
            os.kill(victim, signal.SIGKILL)
        faults["web_worker_killed"] = victim

        # 2. A Celery pool process dies mid-export.
        at(0.35)
        export_id = manage("export", "--project", str(project_id))["export_id"]
        db = psycopg2.connect(os.environ["DATABASE_URL"])
        db.autocommit = True
        status = export_status(db, export_id)
        deadline = time.monotonic() + 15
        while status != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
            status = export_status(db, export_id)
        celery = find("celery -A config worker", server.pid)
        pool = [c for p in celery for c in children(p) if c in celery]
        before = {p: cpu_ticks(p) for p in pool}
        time.sleep(0.3)
        busy = max(pool, key=lambda p: cpu_ticks(p) - before[p]) if pool else None
        status = export_status(db, export_id)
        if busy:
            os.kill(busy, signal.SIGKILL)
        faults["celery_pool_process_killed"] = busy
        faults["export_status_when_killed"] = status
        db.close()

        # 3. Redis restarts, empty.
        at(0.6)
        redis.terminate()
        redis.wait(timeout=10)
        time.sleep(1.0)
        redis = start_redis(args.redis_port)
        faults["redis_restarted"] = True

        loader.join()
        stats = result["stats"]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(str(a) for a in stats.acknowledged))
            acknowledged_file = fh.name

        # Beat reclaims leases, folds counters and fails or finishes jobs; wait for it.
        settle_end = time.monotonic() + args.settle
        while True:
            chaos = manage(
                "chaos-check", "--project", str(project_id), "--acknowledged", acknowledged_file
            )
            counters_equal = all(a == b for a, b in chaos["counters"].values())
            settled = (
                chaos["leases_past_expiry"] == 0
                and not any(chaos["jobs_unfinished"].values())
                and counters_equal
            )
            if settled or time.monotonic() > settle_end:
                break
            time.sleep(3)
        settle_s = round(time.monotonic() - (started + args.duration), 1)
        check = manage("check", "--project", str(project_id))
        queue_ok = (
            check["pairs_twice"] == 0
            and check["items_above_k"] == 0
            and check["items_with_wrong_n_done"] == 0
        )
        ok = bool(
            queue_ok
            and settled
            and chaos["acknowledged_missing"] == 0
            and chaos["acknowledged_twice"] == 0
        )
        return {
            "ok": ok,
            "items": args.items,
            "concurrency": args.concurrency,
            "duration_s": round(result["elapsed"], 1),
            "annotations_acknowledged": len(stats.acknowledged),
            "annotations_per_s": round(len(stats.acknowledged) / result["elapsed"], 1),
            "errors_5xx": stats.errors_5xx,
            "errors_other": stats.errors_other,
            # Requests whose connection a killed web worker cut (twice in a row): no answer.
            "connection_errors": stats.connection_errors,
            "refused_409": stats.refused,
            "faults": faults,
            "settle_s": settle_s,
            "queue": check,
            "after": chaos,
        }
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        redis.terminate()


if __name__ == "__main__":
    print(json.dumps(main()))
