import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import ImportJob
from tasks.services import import_create


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_runs_a_job_off_the_request_thread(settings, project, manager, monkeypatch):
    settings.VOX_JOBS = "thread"
    ran_on = []
    import tasks.services

    original = tasks.services.import_run

    def spy(**kwargs):
        ran_on.append(threading.current_thread().name)
        original(**kwargs)

    monkeypatch.setattr(tasks.services, "import_run", spy)
    job = import_create(
        project=project,
        user=manager,
        upload=SimpleUploadedFile("a.jsonl", b'{"text": "x"}\n{"text": "y"}\n'),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not ImportJob.objects.get(pk=job.pk).is_finished:
        time.sleep(0.05)
    job.refresh_from_db()
    assert (job.status, job.n_created) == ("done", 2)
    assert (
        ran_on and ran_on[0].startswith("vox-job") and ran_on[0] != threading.current_thread().name
    )
