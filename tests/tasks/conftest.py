import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.services import import_create, project_create


def upload(name, body: bytes):
    return SimpleUploadedFile(name, body, content_type="application/octet-stream")


@pytest.fixture
def make_project(manager):
    def make(kind, schema, overlap=3):
        return project_create(user=manager, name=kind, kind=kind, schema=schema, overlap=overlap)

    return make


@pytest.fixture
def run(manager, django_capture_on_commit_callbacks):
    def run_(project, name, body):
        with django_capture_on_commit_callbacks(execute=True):
            job = import_create(project=project, user=manager, upload=upload(name, body))
        job.refresh_from_db()
        return job

    return run_
