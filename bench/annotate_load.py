"""Load benchmark of the work queue: K simulated annotators against a running Vox server.

    python bench/annotate_load.py --url http://127.0.0.1:8077 --items 1000000 \
        --concurrency 32 --duration 60

Each annotator loops over HTTP: POST next, then POST submit (with --combined, one
submit-and-next request per item instead). With --browser each annotator is a browser
instead: it logs in with a password, keeps the session and CSRF cookies, opens the
workbench and then posts each answer as static/js/workbench.js does (a form post with
X-CSRFToken, HX-Request and X-Vox-Fetch, whose JSON reply brings the next prefetched item),
labelling the prefetched item while the server stores the answer. The project, its items and its raters are
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


class BrowserClient(Client):
    """A browser's HTTP/1.1 connection: cookies kept, forms posted, CSRF carried."""

    def __init__(self, url: str):
        super().__init__(url, "")
        self.head = f"Host: {self.host}:{self.port}\r\nConnection: keep-alive\r\n"
        self.cookies: dict[str, str] = {}

    async def request(self, method, path, form=None, headers=None):
        from urllib.parse import urlencode

        payload = urlencode(form or {}, doseq=True).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if self.cookies:
            extra += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
        if method == "POST":
            extra += "Content-Type: application/x-www-form-urlencoded\r\n"
        request = (
            f"{method} {path} HTTP/1.1\r\n{self.head}{extra}Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        for attempt in range(2):
            start = time.perf_counter()
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                self.writer.write(request)
                status, headers_in, raw = await self._response()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                await self.close()
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - start) * 1000
            for cookie in headers_in.get("set-cookie-all", []):
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            if headers_in.get("connection", "").lower() == "close":
                await self.close()
            return status, headers_in, raw, elapsed
        raise RuntimeError("unreachable")

    async def _response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict = {"set-cookie-all": []}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                headers[name] = value.strip()
                if name == "set-cookie":
                    headers["set-cookie-all"].append(value.strip())
        if "content-length" in headers:
            raw = await self.reader.readexactly(int(headers["content-length"]))
        else:
            raw = await self.reader.read()
            headers["connection"] = "close"
        return status, headers, raw

    async def login(self, username: str, password: str) -> None:
        import re

        _, _, page, _ = await self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        status, _, _, _ = await self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed with {status}")


def _panels(html: bytes) -> list[tuple[str, str]]:
    """(item id, idempotency key) of each item form in a workbench fragment, in order."""
    import re

    return re.findall(
        rb'name="item_id" value="(\d+)">\s*<input type="hidden" name="idempotency_key" '
        rb'value="([0-9a-f]+)"',
        html,
    )


async def browser_annotator(client, project_id, stop_at, stats: Stats, rng):
    """One signed-in browser labelling until `stop_at`, as workbench.js does."""
    try:
        status, _, page, _ = await client.request("GET", f"/projects/{project_id}/label/")
        if status != 200:
            stats.errors_other += 1
            return
        panels = _panels(page)  # the item on screen, then the prefetched one
        submit_url = f"/projects/{project_id}/label/submit/"
        while panels and time.monotonic() < stop_at:
            shown, panels = panels[0], panels[1:]
            started = time.monotonic()
            status, _, raw, ms = await client.request(
                "POST",
                submit_url,
                {
                    "item_id": shown[0].decode(),
                    "idempotency_key": shown[1].decode(),
                    "active_ms": "1000",
                    "value": rng.choice(["yes", "no"]),
                    # The prefetched item the browser put on screen, as workbench.js sends it.
                    **({"shown": panels[0][0].decode()} if panels else {}),
                },
                {
                    "X-CSRFToken": client.cookies.get("csrftoken", ""),
                    "HX-Request": "true",
                    "X-Vox-Fetch": "1",
                },
            )
            measured = started >= stats.measure_from
            if measured:
                stats.submit_ms.append(ms)
                # The next item was on screen already (prefetched) unless none was.
                stats.next_ms.append(0.0 if panels else ms)
            if status >= 500:
                stats.errors_5xx += 1
                break
            reply = json.loads(raw) if status == 200 else None
            if reply is None or reply.get("redirect"):
                stats.errors_other += 1
                break
            if not reply["ok"]:
                stats.refused += 1
                panels = _panels(reply["current_html"].encode())
                continue
            stats.measured += measured
            stats.browser_submits.append(shown[1].decode())
            if (
                panels
                and reply["item_id"] is not None
                and str(reply["item_id"]) == panels[0][0].decode()
            ):
                panels = panels + _panels(reply["next_html"].encode())
            elif "current_html" in reply:  # what workbench.js does on a mismatch
                panels = _panels(reply["current_html"].encode())
            else:
                _, _, page, _ = await client.request("GET", f"/projects/{project_id}/label/")
                panels = _panels(page)
    finally:
        await client.close()


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
        self.connection_errors = 0
        self.refused = 0
        # --browser: the idempotency keys of the answers the server took (its replies
        # carry no annotation id).
        self.browser_submits: list[str] = []


async def annotator(url, token, project_id, stop_at, stats: Stats, combined: bool, rng):
    client = Client(url, token)
    base = f"/api/projects/{project_id}"
    item = None
    try:
        while time.monotonic() < stop_at:
            try:
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
            except (OSError, asyncio.IncompleteReadError):
                # The connection died twice in a row (a killed web worker, in
                # bench/chaos.py): no answer came, so nothing is acknowledged; start over.
                stats.connection_errors += 1
                item = None
                await client.close()
    finally:
        await client.close()


def run_browsers(url, usernames, password, project_id, duration, seed=0, warmup=0.0):
    """Run one browser annotator per username; returns (Stats, measured seconds)."""
    stats = Stats()

    async def main():
        # Everyone signs in first: a sign-in is a deliberately slow password hash (PBKDF2,
        # about 0.7 s of CPU here), which annotators pay once a day, not once a label. Signed
        # in during the measured seconds, 32 of them took most of the first ten.
        clients = [BrowserClient(url) for _ in usernames]
        await asyncio.gather(
            *(c.login(n, password) for c, n in zip(clients, usernames, strict=True))
        )
        stats.measure_from = time.monotonic() + warmup
        stop_at = stats.measure_from + duration
        await asyncio.gather(
            *(
                browser_annotator(c, project_id, stop_at, stats, random.Random(seed + i))
                for i, c in enumerate(clients)
            )
        )
        return time.monotonic() - stats.measure_from

    return stats, asyncio.run(main())


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


BROWSER_PASSWORD = "bench-browser-password"


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
    parser.add_argument(
        "--browser", action="store_true", help="browsers: session, CSRF, the workbench's posts"
    )
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
        *(["--password", BROWSER_PASSWORD] if args.browser else []),
    )
    setup_s = time.perf_counter() - setup_start
    if args.browser:
        stats, elapsed = run_browsers(
            args.url,
            setup["usernames"],
            BROWSER_PASSWORD,
            setup["project_id"],
            args.duration,
            args.seed,
            warmup=args.warmup,
        )
        acknowledged = len(stats.browser_submits)
    else:
        stats, elapsed = run_annotators(
            args.url,
            setup["tokens"],
            setup["project_id"],
            args.duration,
            args.combined,
            args.seed,
            warmup=args.warmup,
        )
        acknowledged = len(stats.acknowledged)
    check = manage("check", "--project", str(setup["project_id"]))
    lost = acknowledged - check["annotations"]
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
        "mode": "browser"
        if args.browser
        else "submit-and-next"
        if args.combined
        else "next-then-submit",
        "duration_s": round(elapsed, 2),
        "setup_s": round(setup_s, 2),
        "warmup_s": args.warmup,
        "annotations": acknowledged,
        "annotations_measured": stats.measured,
        "annotations_per_s": round(stats.measured / elapsed, 1),
        "next_ms": percentiles(stats.next_ms),
        "submit_ms": percentiles(stats.submit_ms),
        "errors_5xx": stats.errors_5xx,
        "errors_other": stats.errors_other,
        "connection_errors": stats.connection_errors,
        "refused_409": stats.refused,
        "violations": sum(violations.values()),
        "violation_detail": violations,
        "project_id": setup["project_id"],
    }


if __name__ == "__main__":
    result = main()
    print(json.dumps(result))
    sys.exit(1 if result["violations"] or result["errors_5xx"] else 0)
