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
        project=project, filename="a.jsonl", file=upload, status="running", heartbeat_at=old,
        attempts=3,
    )  # fmt: skip
    # Its worker died on the first attempt: beat runs it again.
    retried = ImportJob.objects.create(
        project=project, filename="d.jsonl", status="running", heartbeat_at=old, attempts=1
    )
    moving = ImportJob.objects.create(
        project=project, filename="b.jsonl", status="running", heartbeat_at=timezone.now()
    )
    finished = ImportJob.objects.create(
        project=project, filename="c.jsonl", status="done", heartbeat_at=old
    )
    export = ExportJob.objects.create(
        project=project, status="running", heartbeat_at=old, attempts=3
    )
    path = stuck.file.name
    assert default_storage.exists(path)
    result = jobs_watchdog.apply().get()
    assert (result["importjob"], result["exportjob"]) == (1, 1)
    assert (result["importjob_retried"], result["exportjob_retried"]) == (1, 0)
    retried.refresh_from_db()
    assert retried.status == "running"  # left for the delivery that beat queued
    stuck.refresh_from_db(), moving.refresh_from_db(), finished.refresh_from_db()
    export.refresh_from_db()
    assert stuck.status == "failed" and "worker running this job stopped" in str(stuck.errors)
    assert "3 time(s)" in str(stuck.errors)
    assert not default_storage.exists(path)
    assert export.status == "failed" and "stopped" in export.error
    assert (moving.status, finished.status) == ("running", "done")
    assert "tasks.jobs.jobs_watchdog" in {
        e["task"] for e in django_settings.CELERY_BEAT_SCHEDULE.values()
    }
    result = jobs_watchdog.apply().get()
    assert (result["importjob"], result["exportjob"]) == (0, 0)  # idempotent
    assert result["importjob_retried"] == 1  # the one above, still waiting for its worker


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
    settings.VOX_JOB_STALE_S, settings.VOX_JOB_MAX_ATTEMPTS = 1, 1
    time.sleep(1.5)
    job.refresh_from_db()
    assert job.status == "running"  # nobody else would ever finish it
    assert jobs_watchdog.apply().get()["importjob"] == 1
    job.refresh_from_db()
    assert job.status == "failed" and not job.file
    assert not Item.objects.filter(project=project).exists()


@pytest.mark.django_db
def test_beat_queues_again_a_job_whose_message_was_lost_and_a_second_copy_does_nothing(
    project, manager, settings, django_capture_on_commit_callbacks
):
    settings.VOX_JOB_STALE_S = 600
    upload = SimpleUploadedFile("items.jsonl", b'{"text": "a"}\n{"text": "b"}\n')
    lost = ImportJob.objects.create(
        project=project, filename="a.jsonl", file=upload, status="queued", created_by=manager
    )
    ImportJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        result = jobs_watchdog.apply().get()
    assert result["importjob_requeued"] == 1
    lost.refresh_from_db()
    assert lost.status == "done" and lost.n_created == 2
    services.import_run(job_id=lost.pk)  # the first copy, arriving late: nothing happens
    assert Item.objects.filter(project=project).count() == 2


@pytest.mark.django_db
def test_a_second_delivery_leaves_a_job_whose_worker_is_alive(project, settings):
    settings.VOX_JOB_STALE_S = 600
    running = ExportJob.objects.create(
        project=project, status="running", heartbeat_at=timezone.now()
    )
    services.export_run(job_id=running.pk)
    running.refresh_from_db()
    assert running.status == "running" and not running.file


@pytest.mark.django_db
def test_a_job_whose_worker_died_runs_again_to_the_end(
    project, manager, settings, django_capture_on_commit_callbacks
):
    settings.VOX_JOB_STALE_S = 600
    upload = SimpleUploadedFile("items.jsonl", b'{"text": "a"}\n')
    job = ImportJob.objects.create(
        project=project, filename="a.jsonl", file=upload, status="running", attempts=1,
        heartbeat_at=timezone.now() - timedelta(seconds=601), created_by=manager,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_watchdog.apply().get()["importjob_retried"] == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.n_created) == ("done", 2, 1)
