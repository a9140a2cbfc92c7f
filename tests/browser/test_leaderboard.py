"""The model leaderboard as a manager sees it, from the project page."""

import numpy as np
import pytest

from raters.models import Membership
from tasks import schema as schemas
from tests.aggregation.helpers import annotate
from tests.aggregation.test_kinds import make, pair, run_now
from tests.browser.conftest import log_in
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODELS = ["alpaca-7b", "llama-7b", "vicuna-7b", "<b>opt-6.7b</b>"]
STRENGTH = [1.0, 0.2, 0.6, -0.8]


@pytest.fixture
def arena():
    project = make(schemas.PAIRWISE, {}, name="Arena: which answer is better?")
    boss = UserFactory(username="mona")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 4)
    rng = np.random.default_rng(0)
    for _ in range(40):
        a, b = rng.choice(len(MODELS), 2, replace=False)
        item = ItemFactory(
            project=project,
            data={"prompt": "p", "response_a": "x", "response_b": "y"},
            meta={"model_a": MODELS[a], "model_b": MODELS[b]},
        )
        p_a = 1 / (1 + np.exp(STRENGTH[b] - STRENGTH[a]))
        for rater in raters[:3]:
            u = rng.random()
            annotate(item, rater, pair("tie" if u > 0.9 else "A" if u < 0.9 * p_a else "B"))
    run_now(project, method="majority")
    return project


def test_a_manager_opens_the_leaderboard_from_the_project_page(
    live_server, page, screenshot, arena
):
    log_in(page, live_server.url, "mona")
    page.goto(f"{live_server.url}/projects/{arena.pk}/")
    page.locator("#leaderboard-link").click()
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == len(MODELS)
    assert rows.first.get_attribute("data-model") in ("alpaca-7b", "vicuna-7b")
    assert rows.last.get_attribute("data-model") == "<b>opt-6.7b</b>"
    # The model name is text, not markup.
    assert page.get_by_text("<b>opt-6.7b</b>").count() >= 1
    assert page.locator("#leaderboard b").count() == 0
    assert page.locator("#win-matrix tbody tr").count() == len(MODELS)
    screenshot("leaderboard")
