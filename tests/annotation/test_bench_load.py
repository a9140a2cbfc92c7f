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
