"""Load benchmark of the work queue: K simulated annotators against a running Vox server.

    python bench/annotate_load.py --url http://127.0.0.1:8077 --items 1000000 \
        --concurrency 32 --duration 60

Each annotator loops over HTTP: POST next, then POST submit (with --combined, one
submit-and-next request per item instead). The project, its items and its raters are
created first with `manage.py bench_annotate setup` (run here, so this script needs the
server's DATABASE_URL in its environment), and the invariants are read back at the end
with `manage.py bench_annotate check`. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str) -> dict:
    python = os.environ.get("VOX_PYTHON") or str(ROOT / ".venv" / "bin" / "python")
    out = subprocess.run(
        [python, str(ROOT / "manage.py"), "bench_annotate", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


class Client:
    """One annotator's HTTP connection (reopened when the server closes it)."""

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict | None, float]:
        payload = json.dumps(body or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            start = time.perf_counter()
            try:
                self.conn.request("POST", path, body=payload, headers=self.headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - start) * 1000
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            return response.status, data, elapsed
        raise RuntimeError("unreachable")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.next_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.acknowledged: set[int] = set()
        self.errors_5xx = 0
        self.errors_other = 0
        self.refused = 0


def annotator(url, token, project_id, stop_at, stats: Stats, combined: bool, rng):
    client = Client(url, token)
    base = f"/api/projects/{project_id}"
    next_ms, submit_ms, acked = [], [], []
    errors_5xx = errors_other = refused = 0
    item = None
    while time.monotonic() < stop_at:
        if item is None:
            status, body, ms = client.post(f"{base}/next/")
            next_ms.append(ms)
            if status >= 500:
                errors_5xx += 1
                continue
            if status != 200:
                errors_other += 1
                continue
            item = body["item"]
            if item is None:
                break
        status, body, ms = client.post(
            f"{base}/annotations/",
            {
                "item_id": item["item_id"],
                "value": rng.choice(["yes", "no"]),
                "idempotency_key": uuid.uuid4().hex,
                "active_ms": 1000,
                "next": combined,
            },
        )
        submit_ms.append(ms)
        if status == 201:
            acked.append(body["annotation"]["id"])
            item = body.get("next") if combined else None
            if combined and item is None:
                break
        elif status >= 500:
            errors_5xx += 1
        elif status == 409:
            refused += 1
            item = None
        else:
            errors_other += 1
            item = None
    with stats.lock:
        stats.next_ms += next_ms
        stats.submit_ms += submit_ms
        stats.acknowledged.update(acked)
        stats.errors_5xx += errors_5xx
        stats.errors_other += errors_other
        stats.refused += refused


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", required=True, help="the running server, e.g. http://127.0.0.1:8077"
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--combined", action="store_true", help="submit-and-next in one request")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    setup_start = time.perf_counter()
    setup = manage(
        "setup",
        "--items",
        str(args.items),
        "--overlap",
        str(args.overlap),
        "--raters",
        str(args.concurrency),
    )
    setup_s = time.perf_counter() - setup_start
    stats = Stats()
    start = time.monotonic()
    stop_at = start + args.duration
    threads = [
        threading.Thread(
            target=annotator,
            args=(
                args.url,
                token,
                setup["project_id"],
                stop_at,
                stats,
                args.combined,
                random.Random(args.seed + i),
            ),
        )
        for i, token in enumerate(setup["tokens"])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    check = manage("check", "--project", str(setup["project_id"]))
    lost = len(stats.acknowledged) - check["annotations"]
    violations = {
        "pairs_twice": check["pairs_twice"],
        "items_above_k": check["items_above_k"],
        "items_with_wrong_n_done": check["items_with_wrong_n_done"],
        # Acknowledged but not stored, or stored without an acknowledgement.
        "lost_or_unacknowledged_submits": abs(lost),
        "submitted_leases_without_annotation": check["submitted_leases_without_annotation"],
    }
    return {
        "url": args.url,
        "items": args.items,
        "overlap": args.overlap,
        "concurrency": args.concurrency,
        "mode": "submit-and-next" if args.combined else "next-then-submit",
        "duration_s": round(elapsed, 2),
        "setup_s": round(setup_s, 2),
        "annotations": len(stats.acknowledged),
        "annotations_per_s": round(len(stats.acknowledged) / elapsed, 1),
        "next_ms": percentiles(stats.next_ms),
        "submit_ms": percentiles(stats.submit_ms),
        "errors_5xx": stats.errors_5xx,
        "errors_other": stats.errors_other,
        "refused_409": stats.refused,
        "violations": sum(violations.values()),
        "violation_detail": violations,
        "project_id": setup["project_id"],
    }


if __name__ == "__main__":
    result = main()
    print(json.dumps(result))
    sys.exit(1 if result["violations"] or result["errors_5xx"] else 0)
