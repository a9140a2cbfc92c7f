"""bench/chaos.py at a small size: a web worker, a Celery pool process mid-export and Redis
are killed during a load run of `bin/serve`, and nothing is lost or left unfinished.

The benchmark runs the real server on a database of its own, so this test makes one and
drops it afterwards; it needs PostgreSQL and redis-server."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]


@pytest.fixture
def chaos_db():
    if connection.vendor != "postgresql":
        pytest.skip("bench/chaos.py runs on PostgreSQL: set DATABASE_URL")
    if not shutil.which("redis-server"):
        pytest.skip("bench/chaos.py starts a redis-server of its own")
    db = connection.settings_dict
    name = f"vox_chaos_{uuid.uuid4().hex[:8]}"
    dsn = dict(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
               password=db["PASSWORD"], dbname="postgres")  # fmt: skip
    admin = psycopg2.connect(**dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{db['USER']}:{db['PASSWORD']}@{dsn['host']}:{dsn['port']}/{name}"
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_a_run_with_killed_processes_loses_no_label_and_leaves_no_job_unfinished(chaos_db):
    env = {**os.environ, "DATABASE_URL": chaos_db}
    env.pop("REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), "--items", "20000",
         "--concurrency", "8", "--duration", "15", "--port", "8091", "--redis-port", "6391"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    faults = result["faults"]
    assert faults["web_worker_killed"] and faults["celery_pool_process_killed"]
    assert faults["redis_restarted"]
    assert result["annotations_acknowledged"] > 0
    assert result["after"]["acknowledged_missing"] == result["after"]["acknowledged_twice"] == 0
    assert result["after"]["leases_past_expiry"] == 0
    assert not any(result["after"]["jobs_unfinished"].values())
    assert all(a == b for a, b in result["after"]["counters"].values())
    assert result["queue"]["pairs_twice"] == result["queue"]["items_above_k"] == 0
    assert result["ok"], result
