"""The item browser benchmark runs at a small size, so it cannot rot."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_the_browser_benchmark_prints_its_timings_as_one_json_object(tmp_path):
    env = dict(os.environ)
    if connection.vendor == "postgresql":
        # The suite's own test database: the benchmark deletes its project afterwards.
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "item_browser.py"), "--items", "500"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["items"] == 500
    for key in ("first_page_ms", "deep_page_ms", "gold_first_page_ms", "complete_first_page_ms"):
        assert result[key] > 0
