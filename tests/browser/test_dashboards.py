"""The dashboards in a real browser, seeded from a simulated crowd with two spammers."""

import time

import pytest
from django.db import connection

from quality.models import Adjudication, RelabelRequest
from raters.models import Membership
from tests.browser.conftest import log_in
from tests.factories import UserFactory
from tests.quality.dashboard_crowd import crowd_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(check, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def seeded(settings):
    if connection.vendor == "postgresql":
        # Jobs on the embedded thread pool, so "run now" really runs in the background and
        # the page has something to poll.
        settings.VOX_JOBS = "thread"
    boss = UserFactory(username="mona")
    project, users = crowd_project(manager=boss)
    return boss, project, users


def test_spammers_stand_out_unsorted_and_a_bulk_action_suspends_them(
    live_server, page, screenshot, seeded
):
    boss, project, _ = seeded
    base = live_server.url
    log_in(page, base, "mona")
    # Alphabetical order: the spammers are found by highlight and flags, not by position.
    page.goto(f"{base}/projects/{project.pk}/dashboards/raters/?sort=rater")
    rows = page.locator("#raters tbody tr")
    assert rows.count() == 11
    for name in ("spam_fast", "spam_same"):
        row = page.locator(f'tr[data-rater="{name}"]')
        assert "at-risk" in row.get_attribute("class")
    assert page.locator('tr[data-rater="spam_fast"] .flag-bad', has_text="fast").count() == 1
    assert (
        page.locator('tr[data-rater="spam_same"] .flag-bad', has_text="straight-lining").count()
        == 1
    )
    assert page.locator("tr.at-risk[data-rater^=careful]").count() == 0
    screenshot("dashboard-calibration")

    page.locator('tr[data-rater="spam_fast"] input[type=checkbox]').check()
    page.locator('tr[data-rater="spam_same"] input[type=checkbox]').check()
    page.get_by_label("Bulk action").select_option("suspend")
    page.get_by_label("Reason").fill("answers at random or always the same")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "suspend: " in page.locator(".messages").inner_text()
    stages = dict(
        Membership.objects.filter(project=project, user__username__startswith="spam").values_list(
            "user__username", "stage"
        )
    )
    assert stages == {"spam_fast": "suspended", "spam_same": "suspended"}

    page.locator('tr[data-rater="spam_fast"] a').first.click()
    page.wait_for_load_state()
    assert "At risk" in page.locator(".risk-banner").inner_text()
    assert "suspended" in page.locator("#audit").inner_text()
    screenshot("dashboard-rater")


def test_the_project_dashboard_runs_now_with_a_live_progress_bar_and_links_to_review(
    live_server, page, screenshot, seeded
):
    boss, project, _ = seeded
    base = live_server.url
    log_in(page, base, "mona")
    page.goto(f"{base}/projects/{project.pk}/dashboards/")
    assert page.locator("#disputed tbody tr").count() == 20
    before = page.locator("#run").get_attribute("data-run")
    page.get_by_role("button", name="Run now").click()
    page.wait_for_selector(f'#run:not([data-run="{before}"])')
    # The bar follows the run through htmx polling until it is done.
    page.wait_for_selector('#run[data-status="done"]', timeout=30_000)
    # Done: the fragment no longer carries a polling trigger.
    assert page.locator("#run").get_attribute("hx-trigger") is None
    page.reload()
    screenshot("dashboard-project")

    page.locator("#disputed a", has_text="review").first.click()
    page.wait_for_url("**/review/*/")
    page.wait_for_load_state()
    assert page.locator("#answers tr").count() == 11
    assert "careful0" not in page.locator("#answers").inner_text()
    screenshot("dashboard-review")
    first = int(page.url.rstrip("/").split("/")[-1])
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    assert wait_for(lambda: Adjudication.objects.filter(item_id=first).exists())
    assert Adjudication.objects.get(item_id=first).label == "neutral"
    page.wait_for_url(lambda url: not url.rstrip("/").endswith(f"/{first}"))
    page.wait_for_load_state()
    second = int(page.url.rstrip("/").split("/")[-1])
    page.keyboard.press("b")
    assert wait_for(lambda: RelabelRequest.objects.filter(item_id=second).exists())


def test_select_all_works_under_the_content_security_policy_with_no_violation(
    live_server, strict_page, seeded
):
    page = strict_page
    boss, project, _ = seeded
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    log_in(page, live_server.url, "mona")
    response = page.goto(f"{live_server.url}/projects/{project.pk}/dashboards/raters/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    boxes = page.locator("#raters tbody input[type=checkbox]")
    page.get_by_label("Select all").check()
    assert boxes.count() == 11
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.get_by_label("Select all").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))
    assert violations == []


def test_the_api_docs_render_offline_from_vendored_files_under_the_policy(live_server, strict_page):
    page = strict_page
    outside, violations = [], []

    def offline(route):
        # As with no network: anything not served by Vox fails.
        if route.request.url.startswith((live_server.url, "blob:", "data:")):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", offline)
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    page.goto(f"{live_server.url}/api/docs/")
    page.locator("h1", has_text="Vox API").wait_for(timeout=20_000)
    assert page.locator("text=/api/projects/").count() > 0  # the operations are listed
    # Redoc's footer links to its maker with a logo from their CDN; the policy blocks that
    # image, and nothing else of the page comes from outside.
    assert all("cdn.redoc.ly" in u for u in outside), outside
    assert all("cdn.redoc.ly" in v for v in violations), violations


def test_a_likert_raters_page_draws_their_ratings_against_the_final_ones(
    live_server, page, screenshot
):
    from aggregation.scoring import rater_scores_compute
    from aggregation.services import aggregation_run_execute, aggregation_run_request
    from tasks import schema as schemas
    from tests.aggregation.helpers import annotate_table
    from tests.conftest import make_raters
    from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

    boss = UserFactory(username="mona")
    project = ProjectFactory(
        kind=schemas.LIKERT,
        schema=schemas.schema_validate(schemas.LIKERT, {"scale": 5, "dimensions": ["fluency"]}),
        overlap=3,
    )
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(10, project=project)
    ratings = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
    table = [[{"fluency": x}, {"fluency": x}, {"fluency": min(5, x + 1)}] for x in ratings]
    annotate_table(items, raters, table)
    aggregation_run_execute(run_id=aggregation_run_request(project=project, method="median").pk)
    rater_scores_compute(project_id=project.pk)
    m = Membership.objects.get(project=project, user=raters[2])
    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{project.pk}/dashboards/raters/{m.pk}/")
    page.get_by_role("heading", name="Ratings against the final rating").wait_for()
    assert page.get_by_text("Quadratic-weighted κ against it").count() == 1
    screenshot("rater-ordinal-confusion")
