"""Import uploads and export files are deleted after their keep period; the rows stay."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tasks.models import ExportJob, ImportJob
from tasks.services import job_files_prune


def export_job(project, manager, *, days_ago):
    job = ExportJob.objects.create(
        project=project,
        created_by=manager,
        format="items_jsonl",
        status=ExportJob.Status.DONE,
        finished_at=timezone.now() - timedelta(days=days_ago),
    )
    job.file.save(f"export-{days_ago}.jsonl", ContentFile(b'{"item_id": 1}\n'))
    return job


def import_job(project, manager, status, *, days_ago):
    when = timezone.now() - timedelta(days=days_ago)
    job = ImportJob.objects.create(
        project=project, created_by=manager, filename="items.jsonl", status=status
    )
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=when, finished_at=when if status != "preview" else None
    )
    job.refresh_from_db()
    job.file.save("items.jsonl", ContentFile(b'{"text": "a"}\n'))
    return job


def test_an_export_file_is_deleted_after_its_keep_period_and_the_page_says_so(
    project, manager, client, settings
):
    settings.VOX_EXPORT_KEEP_DAYS = 7
    old, recent = export_job(project, manager, days_ago=8), export_job(project, manager, days_ago=2)
    old_path = old.file.name
    assert job_files_prune() == {"imports": 0, "exports": 1}
    old.refresh_from_db()
    recent.refresh_from_db()
    assert not old.file and not default_storage.exists(old_path)
    assert recent.file and default_storage.exists(recent.file.name)
    client.force_login(manager)
    assert client.get(reverse("tasks:export-file", args=[old.pk])).status_code == 404
    assert "File removed" in client.get(reverse("tasks:project-detail", args=[project.pk])).text
    api = APIClient()
    api.force_authenticate(manager)
    assert api.get(f"/api/exports/{old.pk}/").data["download"] is None
    assert job_files_prune() == {"imports": 0, "exports": 0}  # twice is harmless


def test_finished_and_abandoned_import_uploads_are_deleted_but_a_waiting_one_is_kept(
    project, manager, settings
):
    settings.VOX_IMPORT_KEEP_DAYS = 1
    done = import_job(project, manager, "done", days_ago=2)
    left = import_job(project, manager, "preview", days_ago=2)
    queued = import_job(project, manager, "queued", days_ago=2)
    fresh = import_job(project, manager, "done", days_ago=0)
    assert job_files_prune() == {"imports": 2, "exports": 0}
    for job in (done, left, queued, fresh):
        job.refresh_from_db()
    assert not done.file and not left.file
    assert left.status == "cancelled"
    assert queued.file and fresh.file
