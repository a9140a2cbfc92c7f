"""Guideline acknowledgement, as people meet it in the browser."""

import time

import pytest

from annotation.models import Annotation
from raters.models import Membership
from tasks.models import GuidelineAck
from tasks.services import items_insert, project_create
from tests.browser.conftest import log_in, log_out
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_annotator_must_confirm_new_guidelines_before_the_next_item(
    live_server, page, screenshot
):
    base = live_server.url
    boss, worker = UserFactory(username="mona"), UserFactory(username="rita")
    project = project_create(
        user=boss, name="Toxicity", kind="single_choice", schema={"choices": ["toxic", "fine"]}
    )
    MembershipFactory(project=project, user=worker, role=Membership.Role.ANNOTATOR)
    items_insert(project=project, records=[{"text": f"comment {i}"} for i in range(3)])

    # The manager writes and publishes version 1 with a preview and a worked example.
    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/guidelines/edit/")
    page.get_by_label("Guidelines (Markdown)").fill("# Toxicity\n\nInsults are **toxic**.")
    page.locator("#preview strong").get_by_text("toxic").wait_for()
    page.get_by_label("Example for “toxic”").fill("*You idiot* is toxic.")
    screenshot("guideline-editor")
    page.get_by_role("button", name="Publish version 1").click()
    page.get_by_text("Version 1 published").wait_for()
    assert "not yet" in page.locator("#acks").inner_text()
    log_out(page)

    # The annotator is sent to the guidelines before any item, confirms, then labels.
    log_in(page, base, "rita")
    page.goto(f"{base}/projects/{project.pk}/label/")
    page.get_by_role("button", name="I have read version 1").wait_for()
    assert "Insults are toxic." in page.locator(".markdown").first.inner_text()
    assert "You idiot" in page.get_by_text("is toxic.").first.inner_text()
    screenshot("guideline-ack")
    page.get_by_role("button", name="I have read version 1").click()
    page.locator(".wb-item").wait_for()
    page.wait_for_load_state()  # the keyboard script runs once the page has loaded
    assert GuidelineAck.objects.filter(user=worker, guideline__version=1).exists()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    # The screen moves on at once and the answer travels in the background: wait for it.
    deadline = time.monotonic() + 10
    while not Annotation.objects.filter(rater=worker).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Annotation.objects.get(rater=worker).guideline_version == 1
    log_out(page)

    # The manager sees the acknowledgement with its time.
    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/guidelines/edit/")
    assert "not yet" not in page.locator("#acks").inner_text()
