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
import asyncio
import json
import os
import random
import subprocess
import sys
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
    """One annotator's HTTP/1.1 connection, kept alive where the server allows it.

    asyncio rather than a thread per annotator: the load generator shares the server's two
    cores, and 32 threads contending for one interpreter cost it more CPU than the requests.
    """

    def __init__(self, url: str, token: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.head = (
            f"Host: {self.host}:{self.port}\r\nAuthorization: Token {token}\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, body: dict | None = None) -> tuple[int, dict | None, float]:
        payload = json.dumps(body or {}).encode()
        request = (
            f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        for attempt in range(2):
            start = time.perf_counter()
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                self.writer.write(request)
                status, headers, raw = await self._response()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                await self.close()
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - start) * 1000
            if headers.get("connection", "").lower() == "close":
                await self.close()
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            return status, data, elapsed
        raise RuntimeError("unreachable")

    async def _response(self) -> tuple[int, dict, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            raw = await self.reader.readexactly(int(headers["content-length"]))
        else:  # no length: the body runs to the end of the connection
            raw = await self.reader.read()
            headers["connection"] = "close"
        return status, headers, raw


class Stats:
    def __init__(self, measure_from: float = 0.0):
        # Requests that start before `measure_from` (time.monotonic) warm the server up:
        # their answers count for the invariants but not for the rate or the latencies.
        self.measure_from = measure_from
        self.measured = 0
        self.next_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.acknowledged: set[int] = set()
        self.errors_5xx = 0
        self.errors_other = 0
        self.refused = 0


async def annotator(url, token, project_id, stop_at, stats: Stats, combined: bool, rng):
    client = Client(url, token)
    base = f"/api/projects/{project_id}"
    item = None
    try:
        while time.monotonic() < stop_at:
            if item is None:
                started = time.monotonic()
                status, body, ms = await client.post(f"{base}/next/")
                if started >= stats.measure_from:
                    stats.next_ms.append(ms)
                if status >= 500:
                    stats.errors_5xx += 1
                    continue
                if status != 200:
                    stats.errors_other += 1
                    continue
                item = body["item"]
                if item is None:
                    break
            started = time.monotonic()
            status, body, ms = await client.post(
                f"{base}/annotations/",
                {
                    "item_id": item["item_id"],
                    "value": rng.choice(["yes", "no"]),
                    "idempotency_key": uuid.uuid4().hex,
                    "active_ms": 1000,
                    "next": combined,
                },
            )
            measured = started >= stats.measure_from
            if measured:
                stats.submit_ms.append(ms)
            if status == 201:
                stats.acknowledged.add(body["annotation"]["id"])
                stats.measured += measured
                item = body.get("next") if combined else None
                if combined and item is None:
                    break
            elif status >= 500:
                stats.errors_5xx += 1
            elif status == 409:
                stats.refused += 1
                item = None
            else:
                stats.errors_other += 1
                item = None
    finally:
        await client.close()


def run_annotators(
    url, tokens, project_id, duration, combined=False, seed=0, combined_of=None, warmup=0.0
):
    """Run one annotator per token for `warmup` + `duration` seconds.

    Returns (Stats, measured seconds). `combined_of(i)` picks the mode per annotator
    (default: `combined` for all).
    """
    stats = Stats()

    async def main():
        stats.measure_from = time.monotonic() + warmup
        stop_at = stats.measure_from + duration
        await asyncio.gather(
            *(
                annotator(
                    url,
                    token,
                    project_id,
                    stop_at,
                    stats,
                    combined_of(i) if combined_of else combined,
                    random.Random(seed + i),
                )
                for i, token in enumerate(tokens)
            )
        )
        return time.monotonic() - stats.measure_from

    measured_s = asyncio.run(main())
    return stats, measured_s


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
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before measuring starts"
    )
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
    stats, elapsed = run_annotators(
        args.url,
        setup["tokens"],
        setup["project_id"],
        args.duration,
        args.combined,
        args.seed,
        warmup=args.warmup,
    )
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
        "warmup_s": args.warmup,
        "annotations": len(stats.acknowledged),
        "annotations_measured": stats.measured,
        "annotations_per_s": round(stats.measured / elapsed, 1),
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
