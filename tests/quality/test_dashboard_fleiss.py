"""Fleiss' kappa on the project dashboard and in its JSON, checked against the worked
example of Wikipedia's "Fleiss' kappa" article: 14 raters put 10 subjects in 5 categories."""

from fractions import Fraction

import pytest
from django.urls import reverse

from quality.dashboard_services import dashboard_snapshot_compute
from quality.numeric import fleiss_kappa_detail
from raters.models import Membership
from tasks import schema as schemas
from tests.aggregation.helpers import annotate
from tests.aggregation.test_kinds import make
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, UserFactory

# counts[i][j]: raters who put subject i in category j.
COUNTS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
CATEGORIES = ["c1", "c2", "c3", "c4", "c5"]


def hand_kappa() -> float:
    """Fleiss (1971) by the textbook formula, in exact fractions."""
    n, N = 14, len(COUNTS)
    p_j = [Fraction(sum(row[j] for row in COUNTS), N * n) for j in range(5)]
    p_i = [Fraction(sum(c * (c - 1) for c in row), n * (n - 1)) for row in COUNTS]
    p_bar, p_e = sum(p_i) / N, sum(p * p for p in p_j)
    return float((p_bar - p_e) / (1 - p_e))


def test_the_hand_computation_is_the_articles_0_210():
    # p_j = .143 .200 .279 .150 .229, P-bar = .378, P_e = .213: kappa = .210.
    assert hand_kappa() == pytest.approx(0.2099, abs=1e-4)


def votes():
    for i, row in enumerate(COUNTS):
        raters = iter(range(14))
        for j, c in enumerate(row):
            for _ in range(c):
                yield i, next(raters), j


def test_fleiss_kappa_detail_gives_the_hand_computed_kappa_and_what_it_stands_on():
    item, rater, label = map(list, zip(*votes(), strict=True))
    f = fleiss_kappa_detail(item + [10], rater + [0], label + [0])  # one lone vote: unused
    assert f.kappa == pytest.approx(hand_kappa())
    assert (f.n_items, f.n_labels, f.n_votes) == (10, 5, 140)


@pytest.fixture
def fleiss_project(db):
    project = make(schemas.SINGLE_CHOICE, {"choices": CATEGORIES})
    boss = UserFactory(username="boss")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 14)
    items = ItemFactory.create_batch(len(COUNTS), project=project)
    for i, r, j in votes():
        annotate(items[i], raters[r], CATEGORIES[j])
    dashboard_snapshot_compute(project_id=project.pk)
    return project, boss


def test_the_project_dashboard_and_its_json_show_fleiss_kappa_with_its_counts(
    client, fleiss_project
):
    project, boss = fleiss_project
    client.force_login(boss)
    html = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert 'id="fleiss"' in html and f"{hand_kappa():.3f}" in html
    assert "10 items with two or more raters, 5 labels, 140 votes" in html
    for name in ("dashboards:api-project", "dashboards:api-agreement"):
        data = client.get(reverse(name, args=[project.pk])).json()
        fleiss = data["figures"]["fleiss"] if "figures" in data else data["fleiss"]
        assert fleiss["kappa"] == pytest.approx(hand_kappa(), abs=1e-4)
        assert (fleiss["n_items"], fleiss["n_labels"], fleiss["n_votes"]) == (10, 5, 140)


def test_kinds_whose_answers_are_not_one_label_show_no_fleiss_kappa(client, db):
    project = make(schemas.MULTI_CHOICE, {"choices": ["x", "y"]})
    boss = UserFactory(username="boss")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 2)
    item = ItemFactory(project=project)
    for r in raters:
        annotate(item, r, ["x"])
    dashboard_snapshot_compute(project_id=project.pk)
    client.force_login(boss)
    html = client.get(reverse("dashboards:project", args=[project.pk])).content.decode()
    assert 'id="fleiss"' not in html
    data = client.get(reverse("dashboards:api-project", args=[project.pk])).json()
    assert data["figures"]["fleiss"] is None
