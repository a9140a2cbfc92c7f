"""A changed guideline section in a real browser: the manager publishes a new version that
rewrites one section; the rater whose work that section governs re-qualifies on its gold
before more live items, and the other rater goes straight back to labelling."""

import pytest

from quality.models import GoldItem, Requalification
from quality.services import gold_create
from raters.models import Membership
from raters.services import skill_grant, skill_rules_set
from tasks.services import guideline_ack, guideline_publish, items_insert, project_create
from tests.browser.conftest import log_in, log_out
from tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

V1 = "## Sentiment\nThe writer's attitude.\n\n## Sarcasm\nSarcasm counts as negative.\n"


def test_a_changed_section_sends_only_the_affected_rater_to_requalification(
    live_server, page, screenshot
):
    base = live_server.url
    mona = UserFactory(username="mona")
    project = project_create(
        user=mona, name="Reviews", kind="single_choice", schema={"choices": ["yes", "no"]}
    )
    rita, nina = UserFactory(username="rita"), UserFactory(username="nina")
    for user in (rita, nina):
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    items_insert(project=project, records=[{"text": f"review {i}"} for i in range(4)])
    skill_rules_set(project=project, rules=[{"tag": "lang:de"}])
    skill_grant(
        membership=Membership.objects.get(project=project, user=rita),
        tag="lang:de",
        level=90,
        actor=mona,
        reason="German reviews",
    )
    for n in range(2):
        gold_create(
            project=project,
            data={"text": f"Na toll, schon wieder kaputt {n}"},
            pool=GoldItem.Pool.CALIBRATION,
            answer="no",
            meta={"tags": ["lang:de"]},
            sections=["sarcasm"],
        )
    v1 = guideline_publish(project=project, user=mona, body=V1)
    for user in (rita, nina):
        guideline_ack(guideline=v1, user=user)

    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/guidelines/edit/")
    page.get_by_label("Guidelines (Markdown)").fill(
        V1.replace("counts as negative", "counts as its literal meaning")
    )
    page.get_by_role("button", name="Publish version 2").click()
    page.get_by_text("Version 2 published").wait_for()
    log_out(page)
    assert list(Requalification.objects.values_list("membership__user__username", flat=True)) == [
        "rita"
    ]

    # Rita reads version 2, then must re-qualify on the sarcasm gold.
    log_in(page, base, "rita")
    page.goto(f"{base}/projects/{project.pk}/label/")
    page.get_by_role("button", name="I have read version 2").click()
    page.locator("#requalification").wait_for()
    assert "sarcasm" in page.locator("#requalification").inner_text()
    screenshot("requalification-due")
    page.get_by_role("button", name="Start the re-qualification").click()
    for _ in range(2):
        page.locator(".practice-form").wait_for()
        page.wait_for_load_state()
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    page.get_by_text("You passed.").wait_for()
    page.goto(f"{base}/projects/{project.pk}/label/")
    page.locator(".wb-item").wait_for()
    log_out(page)

    # Nina's work has no German items: she confirms version 2 and labels at once.
    log_in(page, base, "nina")
    page.goto(f"{base}/projects/{project.pk}/label/")
    page.get_by_role("button", name="I have read version 2").click()
    page.locator(".wb-item").wait_for()
