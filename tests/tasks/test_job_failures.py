"""No job stays running for ever: an import or export that raises is marked failed with a
readable error (an import's upload removed), and one whose worker is killed is failed by
the beat job once it has made no progress for VOX_JOB_STALE_S."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tasks import importer, services
from tasks.export import ExportOptions
from tasks.jobs import jobs_watchdog
from tasks.models import ExportJob, ImportJob, Item
from tasks.services import export_create, import_create


def _raise(*args, **kwargs):
    raise RuntimeError("the disk is on fire")


@pytest.mark.django_db
def test_an_import_that_raises_is_failed_with_the_reason_and_its_upload_removed(
    project, manager, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importer, "import_validate", _raise)
    upload = SimpleUploadedFile("items.jsonl", b'{"text": "a"}\n')
    with django_capture_on_commit_callbacks(execute=True):
        job = import_create(project=project, user=manager, upload=upload)
    path = job.file.name
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    (error,) = job.errors
    assert error["field"] == "(job)" and "the disk is on fire" in error["message"]
    assert not job.file and not default_storage.exists(path) and not Item.objects.exists()


@pytest.mark.django_db
def test_an_export_that_raises_is_failed_with_the_reason_and_leaves_no_partial_file(
    project, manager, items, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "export_stream", _raise)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        export_create(project=project, user=manager, options=ExportOptions(format="items_jsonl"))
    job = ExportJob.objects.get(project=project)
    assert job.status == "failed" and "the disk is on fire" in job.error
    assert not job.file


@pytest.mark.django_db
def test_beat_fails_running_jobs_that_stopped_moving_and_leaves_the_rest(
    project, manager, settings
):
    settings.VOX_JOB_STALE_S = 600
    old = timezone.now() - timedelta(seconds=601)
    upload = SimpleUploadedFile("items.jsonl", b'{"text": "a"}\n')
    stuck = ImportJob.objects.create(
        project=project, filename="a.jsonl", file=upload, status="running", heartbeat_at=old
    )
    moving = ImportJob.objects.create(
        project=project, filename="b.jsonl", status="running", heartbeat_at=timezone.now()
    )
    finished = ImportJob.objects.create(
        project=project, filename="c.jsonl", status="done", heartbeat_at=old
    )
    export = ExportJob.objects.create(project=project, status="running", heartbeat_at=old)
    path = stuck.file.name
    assert default_storage.exists(path)
    assert jobs_watchdog.apply().get() == {"importjob": 1, "exportjob": 1}
    stuck.refresh_from_db(), moving.refresh_from_db(), finished.refresh_from_db()
    export.refresh_from_db()
    assert stuck.status == "failed" and "worker running this job stopped" in str(stuck.errors)
    assert not default_storage.exists(path)
    assert export.status == "failed" and "stopped" in export.error
    assert (moving.status, finished.status) == ("running", "done")
    assert "tasks.jobs.jobs_watchdog" in {
        e["task"] for e in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert jobs_watchdog.apply().get() == {"importjob": 0, "exportjob": 0}  # idempotent


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_is_failed_by_beat_and_saves_nothing(
    celery_workers, project, manager, settings
):
    worker = celery_workers()
    body = b"".join(f'{{"text": "sentence {i}"}}\n'.encode() for i in range(400_000))
    job = import_create(project=project, user=manager, upload=SimpleUploadedFile("big.jsonl", body))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == "running" and job.bytes_read > 0:
            break
        assert worker.poll() is None, worker.log.read_text()
        time.sleep(0.05)
    assert job.status == "running" and job.bytes_read < job.size_bytes, "killed too late"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    settings.VOX_JOB_STALE_S = 1
    time.sleep(1.5)
    job.refresh_from_db()
    assert job.status == "running"  # nobody else would ever finish it
    assert jobs_watchdog.apply().get()["importjob"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and not job.file
    assert not Item.objects.filter(project=project).exists()
