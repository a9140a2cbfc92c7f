"""A small run of bench/annotate_load.py against a live server, so the benchmark cannot rot."""

import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import annotate_load  # noqa: E402

# The benchmark measures the production shape; the in-memory SQLite test database
# cannot take concurrent writers from the live server's threads.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def command(*args) -> dict:
    out = io.StringIO()
    call_command("bench_annotate", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_load_benchmark_labels_every_slot_without_breaking_an_invariant(live_server):
    setup = command("setup", "--items", "20", "--overlap", "3", "--raters", "4")
    # Half the annotators use submit-and-next, half next-then-submit.
    stats, _ = annotate_load.run_annotators(
        live_server.url,
        setup["tokens"],
        setup["project_id"],
        60,
        combined_of=lambda i: i % 2 == 0,
    )
    check = command("check", "--project", str(setup["project_id"]))
    assert stats.errors_5xx == stats.errors_other == 0
    # 4 raters, overlap 3, 20 items: every slot is filled exactly once.
    assert len(stats.acknowledged) == check["annotations"] == 60
    assert check["pairs_twice"] == check["items_above_k"] == check["items_with_wrong_n_done"] == 0
    assert annotate_load.percentiles(stats.next_ms)["n"] > 0


def test_the_production_server_with_its_fast_lane_keeps_every_invariant(tmp_path):
    """The benchmark against granian serving config.wsgi as `make serve` runs it, with two
    worker processes: the fast lane answers next and submit across processes, and in each
    process its threads take turns at the gate (config/gate.py) on one connection."""
    import os
    import socket
    import subprocess
    import time
    from urllib.request import urlopen

    from django.db import connection

    db = connection.settings_dict
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}",
        "DEBUG": "0",
        "VOX_HTTPS": "0",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VOX_JOBS": "thread",
        "VOX_WEB_NEXT_FIRST": "1",
    }
    granian = Path(sys.executable).parent / "granian"
    log = tmp_path / "granian.log"
    server = subprocess.Popen(
        [str(granian), "--interface", "wsgi", "--port", str(port), "--workers", "2",
         "--blocking-threads", "8", "--runtime-mode", "st", "config.wsgi:application"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"granian did not start:\n{log.read_text()}")
                time.sleep(0.2)
        setup = command("setup", "--items", "30", "--overlap", "2", "--raters", "6")
        stats, _ = annotate_load.run_annotators(
            f"http://127.0.0.1:{port}",
            setup["tokens"],
            setup["project_id"],
            60,
            combined_of=lambda i: i % 2 == 0,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    check = command("check", "--project", str(setup["project_id"]))
    assert stats.errors_5xx == stats.errors_other == 0, log.read_text()
    assert len(stats.acknowledged) == check["annotations"] == 60
    assert check["pairs_twice"] == check["items_above_k"] == check["items_with_wrong_n_done"] == 0


def test_the_gold_timing_benchmark_serves_gold_and_live_items_alike(live_server):
    import asyncio

    import gold_timing

    setup = command(
        "setup", "--items", "40", "--overlap", "1", "--raters", "1", "--gold", "40",
        "--gold-rate", "0.5",
    )  # fmt: skip
    samples = asyncio.run(
        gold_timing.label(live_server.url, setup["tokens"][0], setup["project_id"], 30, 2)
    )
    gold = set(command("gold-ids", "--project", str(setup["project_id"]))["gold_ids"])
    served_gold = [s for s in samples if s[0] in gold]
    served_live = [s for s in samples if s[0] not in gold]
    assert len(samples) == 30 and served_gold and served_live
    # Same statuses and reply keys for both; AUC is the script's to report, not a test's.
    assert {(s[2], s[5], tuple(s[6])) for s in samples} == {(200, 201, ("annotation",))}


def test_the_gold_timing_auc_is_the_mann_whitney_statistic():
    import gold_timing

    assert gold_timing.auc([2.0, 3.0], [1.0]) == 1.0
    assert gold_timing.auc([1.0], [2.0, 3.0]) == 0.0
    assert gold_timing.auc([1.0, 1.0], [1.0]) == 0.5
    assert gold_timing.auc([1.0, 3.0], [2.0]) == 0.5
    assert gold_timing.separability([1.0], [2.0, 3.0]) == 1.0
