"""A manager's old export files are cleaned up, and the project page says so."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from raters.models import Membership
from tasks.models import ExportJob
from tasks.services import items_insert
from tests.browser.conftest import log_in
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_export_clears_out_an_old_file_and_the_page_says_it_is_gone(
    live_server, page, screenshot, settings
):
    settings.VOX_EXPORT_STREAM_MAX_ITEMS = 1  # exports run as jobs that leave a file
    settings.VOX_EXPORT_KEEP_DAYS = 7
    project = ProjectFactory(name="Sentiment")
    items_insert(project=project, records=[{"text": f"t{i}"} for i in range(3)])
    manager = UserFactory(username="mona")
    MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    old = ExportJob.objects.create(
        project=project,
        created_by=manager,
        format="items_csv",
        status=ExportJob.Status.DONE,
        finished_at=timezone.now() - timedelta(days=8),
    )
    old.file.save("old-export.csv", ContentFile(b"item_id\n1\n"))

    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    old_row = page.locator(f"#export-{old.pk}")
    assert old_row.get_by_role("link", name="Download").is_visible()

    # Any new export (or import) starts a prune, in the embedded mode as with Celery.
    page.get_by_label("Format").select_option("items_jsonl")
    page.get_by_role("button", name="Export").click()
    page.wait_for_load_state()
    new = ExportJob.objects.exclude(pk=old.pk).get()
    new_row = page.locator(f"#export-{new.pk}")
    new_row.get_by_role("link", name="Download").wait_for()
    assert "File removed" in old_row.inner_text()
    assert old_row.get_by_role("link", name="Download").count() == 0
    screenshot("export-old-file-removed")
    with page.expect_download() as download:
        new_row.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename.endswith(".jsonl")
    old.refresh_from_db()
    assert not old.file
