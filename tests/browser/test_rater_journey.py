"""A rater's journey: training, qualification, live labeling with a silent gold item,
suspension by the trust rules, and reinstatement by an admin."""

import pytest
from django.contrib.auth.models import Permission

from quality.models import GoldResponse
from quality.services import gold_create, policy_update
from raters.models import Membership, Stage
from tasks.services import membership_add, project_create
from tests.browser.conftest import log_in, log_out
from tests.factories import ItemFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project():
    boss = UserFactory(username="mona")
    boss.user_permissions.add(Permission.objects.get(codename="add_project"))
    project = project_create(
        user=boss,
        name="Sentiment",
        kind="single_choice",
        schema={"choices": ["positive", "negative"]},
        overlap=3,
    )
    policy_update(
        project=project,
        requires_qualification=True,
        training_items_required=2,
        qualification_items=3,
        qualification_pass=0.66,
        gold_rate=1.0,
        adaptive_gold=False,
        suspend_min_gold=2,
        suspend_below=0.5,
        warn_below=0.75,
    )
    for i in range(2):
        gold_create(
            project=project,
            data={"text": f"Training sentence {i}, lovely."},
            pool="training",
            answer="positive",
            explanation="Lovely is praise.",
        )
    for i in range(3):
        gold_create(
            project=project,
            data={"text": f"Test sentence {i}, awful."},
            pool="qualification",
            answer="negative",
        )
    for i in range(3):
        gold_create(
            project=project,
            data={"text": f"Review {100 + i}: a fine film."},
            pool="injection",
            answer="positive",
            explanation="SECRET-EXPLANATION",
        )
    ItemFactory.create_batch(3, project=project, data={"text": "Review 7: dull."})
    UserFactory(username="nina")
    membership_add(project=project, username="nina", role="annotator")
    return project


def answer(page, key):
    # The keyboard script loads with the page; keys pressed before it runs would be lost.
    page.wait_for_load_state()
    page.keyboard.press(key)
    page.keyboard.press("Enter")


def test_training_qualification_live_gold_suspension_and_reinstatement(
    live_server, page, screenshot, project
):
    base = live_server.url
    log_in(page, base, "nina")
    page.get_by_role("link", name="Start labeling").click()
    # Not qualified yet: Vox sends her to her standing page instead of live items.
    assert page.locator("#my-stage").inner_text() == "Training"
    page.get_by_role("button", name="Start training").click()

    answer(page, "2")  # wrong on purpose: feedback shows the expected answer and why
    page.locator("#feedback").wait_for()
    assert "Expected: positive." in page.locator("#feedback").inner_text()
    assert "Lovely is praise." in page.locator("#feedback").inner_text()
    screenshot("training-feedback")
    answer(page, "1")
    page.get_by_text("Session complete").wait_for()
    page.get_by_role("link", name="Continue").click()
    assert page.locator("#my-stage").inner_text() == "Qualifying"

    page.get_by_role("button", name="Take the qualification test").click()
    for _ in range(3):
        progress = (
            page.locator("#session-progress").inner_text()
            if page.locator("#session-progress").count()
            else ""
        )
        answer(page, "2")
        page.wait_for_function(
            "p => document.querySelector('#session-progress')?.innerText !== p "
            "|| document.querySelector('#session-score')",
            arg=progress,
        )
    assert page.locator("#session-score").inner_text() == "100%"
    page.get_by_role("link", name="Continue").click()
    assert page.locator("#my-stage").inner_text() == "Qualified"

    # Live labeling: with a gold rate of 1 every slot is a silent gold item.
    page.get_by_role("link", name="Label live items").click()
    page.locator(".wb-item").wait_for()
    html = page.content()
    assert "SECRET-EXPLANATION" not in html and "gold" not in html.lower()
    screenshot("live-with-silent-gold")
    answer(page, "2")
    page.wait_for_function("() => document.querySelector('#done-total')?.innerText === '1'")
    answer(page, "2")
    # The second wrong gold answer suspends her; the next swap sends her to her standing.
    page.wait_for_url(f"{base}/projects/{project.pk}/me/")
    assert page.locator("#my-stage").inner_text() == "Suspended"
    assert "lower bound" in page.locator(".notice-action").first.inner_text()
    # Her standing agrees with the notice: a band, with no count of check answers.
    assert page.locator("#my-accuracy").get_attribute("data-band") == "at risk"
    assert GoldResponse.objects.filter(mode="injection").count() == 2
    screenshot("rater-suspended")
    log_out(page)

    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/quality/")
    row = page.locator('tr[data-rater="nina"]')
    assert "at-risk" in row.get_attribute("class")
    row.get_by_label("Action for nina").select_option("reinstate")
    row.get_by_label("Reason for nina").fill("Talked it through; reviewed guidelines")
    row.get_by_role("button", name="Apply").click()
    page.get_by_text("nina: reinstate done.").wait_for()
    screenshot("quality-page")
    membership = Membership.objects.get(user__username="nina")
    assert membership.stage == Stage.QUALIFIED
    assert membership.transitions.first().actor.username == "mona"
    log_out(page)

    log_in(page, base, "nina")
    page.goto(f"{base}/projects/{project.pk}/me/")
    assert page.locator("#my-stage").inner_text() == "Qualified"
    assert "Talked it through" in page.content()
