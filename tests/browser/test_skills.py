"""Routing by skill in a real browser: a manager tags items in the item browser, sets a
rule and grants a skill on the skills page; a rater without the skill labels by keyboard
and never meets a tagged item, while the rater with it does."""

import pytest

from raters.models import Membership
from tests.browser.conftest import ARTIFACTS, log_in, wait_for_next_panel
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _label_everything(page, base_url, project, limit=12) -> list[str]:
    """The texts of the items the workbench shows, answering each with key 1."""
    seen = []
    page.goto(f"{base_url}/projects/{project.pk}/label/")
    for _ in range(limit):
        page.wait_for_load_state()
        panel = page.locator("#wb-item-slot .wb-panel")
        if page.get_by_text("There is nothing left for you to label").count():
            break
        panel.wait_for()
        item = panel.get_attribute("data-item")
        seen.append(panel.locator(".wb-item .field-text").first.inner_text().strip())
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        wait_for_next_panel(page, item)
    return seen


def test_a_manager_tags_items_and_grants_a_skill_and_only_that_rater_gets_them(live_server, page):
    project = ProjectFactory(overlap=2)
    MembershipFactory(
        project=project, user=UserFactory(username="mona"), role=Membership.Role.MANAGER
    )
    for name in ("rita", "deb"):
        MembershipFactory(project=project, user=UserFactory(username=name))
    german = [ItemFactory(project=project, data={"text": f"Deutsch {n}"}) for n in range(3)]
    for n in range(3):
        ItemFactory(project=project, data={"text": f"Plain {n}"})

    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/items/?text=Deutsch")
    for item in german:
        page.locator(f'#items tbody tr[data-item="{item.pk}"]').get_by_role("checkbox").check()
    page.get_by_label("Bulk action").select_option("tag")
    page.get_by_label("Tag to add or remove").fill("lang:de")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("3 items tagged 'lang:de'.").wait_for()

    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.locator("#skills-link").click()
    page.get_by_label("New rule's tag").fill("lang:de")
    page.get_by_label("New rule's level").fill("70")
    page.get_by_role("button", name="Save rules").click()
    page.get_by_text("Skill rules saved.").wait_for()
    form = page.locator("#skill-grant")
    form.get_by_label("Rater").select_option(label="deb")
    form.get_by_label("Tag").fill("lang:de")
    form.get_by_label("Level").fill("85")
    form.get_by_label("Reason").fill("native speaker")
    form.get_by_role("button", name="Apply").click()
    page.get_by_text("deb: lang:de granted 85.").wait_for()
    assert (
        page.locator(
            '#rater-skills tr[data-rater="deb"] td[data-tag="lang:de"] strong'
        ).inner_text()
        == "85"
    )
    assert "native speaker" in page.locator("#skill-audit").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "skills-page.png", full_page=True)
    page.context.clear_cookies()

    log_in(page, live_server.url, "rita")
    rita_saw = _label_everything(page, live_server.url, project)
    assert sorted(rita_saw) == ["Plain 0", "Plain 1", "Plain 2"]
    page.context.clear_cookies()

    log_in(page, live_server.url, "deb")
    deb_saw = _label_everything(page, live_server.url, project)
    assert {t for t in deb_saw if t.startswith("Deutsch")} == {
        "Deutsch 0",
        "Deutsch 1",
        "Deutsch 2",
    }
