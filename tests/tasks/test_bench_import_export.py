"""The import/export benchmark runs at a small size, so it cannot rot."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_prints_its_figures_as_one_json_object(tmp_path):
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
        [sys.executable, str(ROOT / "bench" / "import_export.py"), "--items", "300"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["items"] == 300 and result["annotations"] == 900
    for key in ("import_s", "import_peak_rss_mb", "export_s", "export_peak_rss_mb"):
        assert result[key] > 0
    assert result["export_bytes"] > result["file_bytes"] / 2
