"""The first flow, as people do it: a manager sets up, an annotator labels by keyboard."""

import json

import pytest
from django.contrib.auth.models import Permission

from annotation.models import Annotation
from tasks.ids import decode_item_id
from tests.browser.conftest import log_in, log_out
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_up_a_project_and_an_annotator_labels_three_items_by_keyboard(
    live_server, page, screenshot, tmp_path
):
    base = live_server.url
    boss = UserFactory(username="mona")
    boss.user_permissions.add(Permission.objects.get(codename="add_project"))
    UserFactory(username="rita")

    # The manager creates a project, uploads items and adds an annotator.
    log_in(page, base, "mona")
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Sentiment")
    page.get_by_role("button", name="Add a choice").click()
    for i, choice in enumerate(("positive", "negative", "neutral")):
        page.get_by_label("Choice value").nth(i).fill(choice)
    page.get_by_label("Overlap").fill("1")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Sentiment").wait_for()
    # The item fields of the kind, with a line to copy, are one click away.
    page.get_by_text("Item fields for single choice").click()
    page.locator(".item-fields pre").get_by_text('"text": "The battery lasts').wait_for()
    screenshot("project-item-fields")
    items = tmp_path / "items.jsonl"
    items.write_text(
        "".join(
            json.dumps({"text": f"Review number {i}: <b>not bold</b>", "external_id": f"r{i}"})
            + "\n"
            for i in range(5)
        )
    )
    page.get_by_label("File", exact=True).set_input_files(items)
    page.get_by_role("button", name="Upload and preview").click()
    page.locator("#field-map").get_by_text("shown to raters").first.wait_for()
    screenshot("import-preview")
    page.get_by_role("button", name="Start import").click()
    page.get_by_text("5 items added").wait_for()
    # The counters show the import (here it ran before the page was drawn; the redraw of a
    # background import's counters is tests/tasks/test_import.py's).
    page.wait_for_function("document.getElementById('stat-complete').textContent.trim() == '0 / 5'")
    page.locator("#id_username").fill("rita")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("rita added as annotator").wait_for()
    screenshot("manager-project")
    log_out(page)

    # The annotator labels three items with number keys and Enter; htmx swaps, no reload.
    log_in(page, base, "rita")
    page.get_by_role("link", name="Start labeling").click()
    page.locator(".wb-item").wait_for()
    assert "<b>not bold</b>" in page.locator(".wb-item").inner_text()
    page.evaluate("window.__sameDocument = true")
    screenshot("workbench-classification")
    seen = []
    for key in ("1", "2", "1"):
        item_id = page.locator('input[name="item_id"]').first.input_value()
        seen.append(decode_item_id(int(item_id)))
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_function(
            "id => document.querySelector('input[name=item_id]')?.value !== id", arg=item_id
        )
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#done-total").inner_text() == "3"
    # The workbench shows the next item at once and posts the answer in the background.
    for _ in range(100):
        if Annotation.objects.count() == 3:
            break
        page.wait_for_timeout(100)
    labels = dict(Annotation.objects.values_list("item_id", "value"))
    assert labels == {seen[0]: "positive", seen[1]: "negative", seen[2]: "positive"}
    log_out(page)

    # The manager sees the progress and downloads the export.
    log_in(page, base, "mona")
    page.get_by_role("link", name="Manage").click()
    assert page.locator("#by-rater").get_by_text("rita").is_visible()
    assert page.locator("#stat-annotations").inner_text() == "3"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSONL export").click()
    rows = [json.loads(line) for line in open(download.value.path(), encoding="utf-8")]
    labelled = {r["item_id"]: r["annotations"] for r in rows if r["annotations"]}
    assert set(labelled) == set(seen)
    assert all(a[0]["rater"] == "rita" and a[0]["created_at"] for a in labelled.values())
    assert labelled[seen[1]][0]["value"] == "negative"
    screenshot("manager-progress")
