"""A real Celery worker process, on the real broker and database, runs an import job."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import ImportJob, Item
from tasks.services import import_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(celery_workers):
    return celery_workers()


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
        assert worker.poll() is None, worker.log.read_text()
        time.sleep(0.2)
    assert job.status == "done", (job.status, job.errors)
    assert job.n_created == 250
    assert Item.objects.filter(project=project).count() == 250
    project.refresh_from_db()
    assert project.n_items == 250
    assert ImportJob.objects.get(pk=job.pk).finished_at is not None
