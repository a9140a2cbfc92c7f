"""Model suggestions in a real browser: the manager turns them on for half the raters, a
rater in that half sees the model's label beside the answer (never pre-selected) on every
item, one outside it never does, and the dashboard compares how often each agrees with
the model."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation.models import Annotation
from modelruns.services import model_run_upload
from modelruns.suggestions import in_shown_group
from quality.dashboard_services import dashboard_snapshot_compute
from quality.models import QualityPolicy
from raters.models import Membership
from tests.browser.conftest import log_in, wait_for_next_panel, wait_until
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _label(page, base_url, project, n, key):
    """Answer n items with one number key; returns each panel's suggestion (None: no hint) and
    whether an answer was already ticked when the item came up."""
    page.goto(f"{base_url}/projects/{project.pk}/label/")
    seen = []
    for _ in range(n):
        page.wait_for_load_state()
        panel = page.locator("#wb-item-slot .wb-panel")
        panel.wait_for()
        item = panel.get_attribute("data-item")
        hint = panel.locator(".wb-suggestion")
        ticked = panel.locator("input[type=radio]:checked").count() > 0
        seen.append((hint.get_attribute("data-suggestion") if hint.count() else None, ticked))
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        wait_for_next_panel(page, item)
    return seen


def test_half_the_raters_see_the_models_label_and_the_dashboard_measures_the_anchoring(
    live_server, page, screenshot
):
    project = ProjectFactory(overlap=3)
    manager = UserFactory(username="mona")
    MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    raters = [UserFactory(username=f"rater{i}") for i in range(12)]
    for user in raters:
        MembershipFactory(project=project, user=user)
    shown = next(u for u in raters if in_shown_group(project.pk, u.pk, 50))
    hidden = next(u for u in raters if not in_shown_group(project.pk, u.pk, 50))
    items = [ItemFactory(project=project, data={"text": f"Item {i}"}) for i in range(3)]
    body = "\n".join(json.dumps({"item_id": i.pk, "probs": [0.8, 0.2]}) for i in items)
    model_run_upload(
        project=project,
        user=manager,
        name="bert",
        version="1",
        file=SimpleUploadedFile("p.jsonl", body.encode()),
    )

    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/quality/")
    assert "off" in page.locator("#suggestion-status").inner_text()
    page.get_by_label("Suggest share").fill("50")
    page.get_by_role("button", name="Save rules").click()
    page.wait_for_load_state()
    assert QualityPolicy.objects.get(project=project).suggest_share == 50
    assert "on for 50% of raters" in page.locator("#suggestion-status").inner_text()
    page.context.clear_cookies()

    log_in(page, live_server.url, shown.username)
    page.goto(f"{live_server.url}/projects/{project.pk}/label/")
    page.locator("#wb-item-slot .wb-suggestion").wait_for()
    screenshot("suggestions-workbench")
    assert _label(page, live_server.url, project, 3, "1") == [("yes", False)] * 3
    page.context.clear_cookies()
    log_in(page, live_server.url, hidden.username)
    assert _label(page, live_server.url, project, 3, "2") == [(None, False)] * 3
    page.context.clear_cookies()
    wait_until(lambda: Annotation.objects.filter(project=project).count() == 6)
    groups = sorted(
        (a.rater.username, a.presentation["suggestion_shown"]) for a in Annotation.objects.all()
    )
    assert groups == sorted([(shown.username, True)] * 3 + [(hidden.username, False)] * 3)

    dashboard_snapshot_compute(project_id=project.pk)
    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/dashboards/")
    card = page.locator("#anchoring")
    assert card.locator("tr[data-group=shown] td").nth(2).inner_text() == "3"
    assert card.locator("tr[data-group=hidden] td").nth(2).inner_text() == "3"
    # The shown rater took the model's "yes" every time, the control never did.
    assert "+100 points" in card.locator("#anchoring-effect").inner_text()
    screenshot("suggestions-dashboard")
