"""Dynamic overlap in a real browser: once two trusted raters agree on an item, the
workbench stops serving it, while an item they disagree on goes to a third rater."""

import pytest

from annotation.models import Annotation
from quality.services import policy_update
from raters.models import Membership
from tasks.models import Item
from tests.browser.conftest import log_in, wait_for_next_panel, wait_until
from tests.browser.test_skills import _label_everything
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _label(page, base_url, project, username, keys):
    """Answer the items the workbench shows, in order, with the given number keys."""
    log_in(page, base_url, username)
    page.goto(f"{base_url}/projects/{project.pk}/label/")
    seen = []
    for key in keys:
        page.wait_for_load_state()
        panel = page.locator("#wb-item-slot .wb-panel")
        panel.wait_for()
        item = panel.get_attribute("data-item")
        seen.append(panel.locator(".wb-item .field-text").first.inner_text().strip())
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        wait_for_next_panel(page, item)
    page.context.clear_cookies()
    return seen


def test_a_dynamic_overlap_project_stops_serving_an_item_once_two_trusted_raters_agree(
    live_server, page
):
    project = ProjectFactory(overlap=3)
    policy_update(project=project, confidence_target=0.95, overlap_min=2)
    for name in ("ann", "bob", "cat"):
        MembershipFactory(project=project, user=UserFactory(username=name))
    # Ann and Bob have a record on check questions; Cat is new.
    Membership.objects.filter(project=project, user__username__in=["ann", "bob"]).update(
        gold_n=30, gold_score_sum=29.0
    )
    agreed = ItemFactory(project=project, data={"text": "Agreed item"})
    split = ItemFactory(project=project, data={"text": "Split item"})

    assert _label(page, live_server.url, project, "ann", ["1", "1"]) == [
        "Agreed item",
        "Split item",
    ]
    assert _label(page, live_server.url, project, "bob", ["1", "2"]) == [
        "Agreed item",
        "Split item",
    ]
    wait_until(lambda: Annotation.objects.filter(project=project).count() == 4)
    assert Item.objects.get(pk=agreed.pk).settled
    assert not Item.objects.get(pk=split.pk).settled

    log_in(page, live_server.url, "cat")
    assert _label_everything(page, live_server.url, project) == ["Split item"]
    assert Item.objects.get(pk=agreed.pk).n_done == 2
