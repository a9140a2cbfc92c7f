"""A real Celery worker process, on the real broker and database, runs an import job."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tasks.models import ImportJob, Item
from tasks.services import import_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker(settings):
    if not django_settings.REDIS_URL:
        pytest.skip("needs a broker: set REDIS_URL")
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a shared database: set DATABASE_URL to PostgreSQL")
    db = connection.settings_dict
    queue = f"vox-test-{uuid.uuid4().hex[:8]}"
    settings.VOX_JOBS, settings.VOX_JOBS_QUEUE = "celery", queue
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "VOX_JOBS": "celery",
        "VOX_JOBS_QUEUE": queue,
        "VOX_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_real_worker_imports_a_file_into_the_database(worker, project, manager):
    body = b"".join(
        f'{{"text": "sentence {i}", "external_id": "w{i}"}}\n'.encode() for i in range(250)
    )
    job = import_create(
        project=project, user=manager, upload=SimpleUploadedFile("items.jsonl", body)
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.2)
    assert job.status == "done", (job.status, job.errors)
    assert job.n_created == 250
    assert Item.objects.filter(project=project).count() == 250
    project.refresh_from_db()
    assert project.n_items == 250
    assert ImportJob.objects.get(pk=job.pk).finished_at is not None
