"""The item browser in a real browser: the filter form swaps the table, select-all ticks
the rows, a bulk action reports back, and answers show by pseudonym, all under the site's
Content-Security-Policy."""

import pytest

from quality.dashboard_services import dashboard_snapshot_compute
from raters.models import Membership
from raters.pseudonyms import rater_pseudonym
from tasks.models import Item
from tests.aggregation.helpers import annotate
from tests.aggregation.test_kinds import run_now
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_filter_swaps_the_table_and_a_bulk_action_sets_the_priority_of_ticked_rows(
    live_server, strict_page
):
    page = strict_page
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    project = ProjectFactory(overlap=2)
    MembershipFactory(
        project=project, user=UserFactory(username="mona"), role=Membership.Role.MANAGER
    )
    ItemFactory.create_batch(55, project=project)
    done = ItemFactory(project=project, data={"text": "<b>finished</b> one"})
    Item.objects.filter(pk=done.pk).update(n_done=2)
    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("link", name="Items").click()
    assert page.locator("#items tbody tr").count() == 50
    assert page.get_by_role("link", name="Next").count() == 1
    page.get_by_label("State").select_option("complete")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**state=complete**")
    page.locator("#items tbody tr").first.wait_for()
    assert page.locator("#items tbody tr").count() == 1
    assert "<b>finished</b> one" in page.locator("#items tbody tr td.preview").inner_text()
    page.get_by_label("Select all").check()
    page.get_by_label("Bulk action").select_option("priority")
    page.get_by_label("Priority").fill("9")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "item-browser.png", full_page=True)
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("1 item priority set.").wait_for()
    assert "state=complete" in page.url  # back to the filtered list
    assert Item.objects.get(pk=done.pk).priority == 9
    assert not Item.objects.filter(project=project, priority=9).exclude(pk=done.pk).exists()
    assert violations == []


def test_a_manager_finds_the_split_items_by_agreement_reads_the_answers_and_tags_them(
    live_server, strict_page
):
    page = strict_page
    project = ProjectFactory(overlap=3)
    MembershipFactory(
        project=project, user=UserFactory(username="mona"), role=Membership.Role.MANAGER
    )
    raters = make_raters(project, 3)
    agreed, split = ItemFactory(project=project), ItemFactory(project=project)
    for r in raters:
        annotate(agreed, r, "yes")
    for r, v in zip(raters, ("yes", "no", "no"), strict=True):
        annotate(split, r, v)
    Item.objects.filter(project=project).update(n_done=3)  # as the submit path counts them
    run_now(project, method="majority")
    dashboard_snapshot_compute(project_id=project.pk)
    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/items/")
    page.get_by_label("Agreement below").fill("0.9")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**agreement_below=0.9**")
    page.locator(f'#items tbody tr[data-item="{agreed.pk}"]').wait_for(state="detached")
    row = page.locator(f'#items tbody tr[data-item="{split.pk}"]')
    answers = row.locator("td.answers").inner_text()
    for r in raters:
        assert rater_pseudonym(project.pk, r.pk) in answers
        assert r.username not in answers
    assert "0.67" in row.inner_text()
    row.get_by_role("checkbox").check()
    page.get_by_label("Bulk action").select_option("tag")
    page.get_by_label("Tag to add or remove").fill("recheck")
    page.screenshot(path=ARTIFACTS / "item-browser-agreement.png", full_page=True)
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("1 item tagged 'recheck'.").wait_for()
    page.goto(f"{live_server.url}/projects/{project.pk}/items/?tag=recheck")
    assert page.locator("#items tbody tr").count() == 1
    assert page.locator(f'#items tbody tr[data-item="{split.pk}"] .tag').inner_text() == "recheck"
