"""The model leaderboard page and its JSON: managers only, escaped names, clear empty states,
and the same figures on both."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from raters.models import Membership
from tasks import schema as schemas
from tests.aggregation.helpers import annotate, annotate_table
from tests.aggregation.test_kinds import make, pair, run_now
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, UserFactory

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def arena(db):
    project = make(schemas.PAIRWISE, {})
    boss = UserFactory(username="boss")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 3)
    items = [
        ItemFactory(project=project, meta={"model_a": EVIL, "model_b": "plain"}) for _ in range(4)
    ] + [ItemFactory(project=project, meta={"model_a": "plain", "model_b": "third"})]
    for item, answers in zip(items, [["A", "A", "B"]] * 4 + [["tie", "A", "A"]], strict=True):
        for rater, choice in zip(raters, answers, strict=True):
            annotate(item, rater, pair(choice))
    return project, boss, raters


def page(project):
    return reverse("dashboards:leaderboard", args=[project.pk])


def api(project):
    return reverse("api:leaderboard", args=[project.pk])


def test_a_manager_sees_the_scores_and_win_matrix_with_model_names_escaped(client, arena):
    project, boss, _ = arena
    run_now(project, method="majority")
    client.force_login(boss)
    html = client.get(page(project)).content.decode()
    assert 'id="leaderboard"' in html and 'id="win-matrix"' in html
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "8–4–0" in html  # the evil model against plain: 8 wins, 4 losses, no tie


def test_the_json_has_the_same_figures_as_the_page(client, arena):
    project, boss, _ = arena
    run_now(project, method="majority")
    client.force_login(boss)
    data = client.get(api(project)).json()
    html = client.get(page(project)).content.decode()
    assert data["state"] == "ready" and data["interval"] == "sandwich"
    assert [r["model"] for r in data["rows"]] == data["win_matrix"]["models"]
    for row in data["rows"]:
        for key in ("score", "ci_low", "ci_high"):
            assert f"{row[key]:.1f}" in html
        cells = f'<td class="num">{row["n_comparisons"]}</td><td class="num">{row["wins"]}</td>'
        assert cells in html
    plain = next(r for r in data["rows"] if r["model"] == "plain")
    assert (plain["wins"], plain["losses"], plain["ties"]) == (6, 8, 1)


@pytest.mark.parametrize("who", ["annotator", "outsider", "anonymous"])
def test_annotators_outsiders_and_visitors_never_see_the_leaderboard(client, arena, who):
    project, _, raters = arena
    run_now(project, method="majority")
    if who == "annotator":
        client.force_login(raters[0])
    elif who == "outsider":
        client.force_login(UserFactory(username="stranger"))
    for url in (page(project), api(project)):
        assert client.get(url).status_code in ((302, 403) if who == "anonymous" else (404,))


def test_before_any_run_the_page_and_json_say_there_is_no_run_yet(client, arena):
    project, boss, _ = arena
    client.force_login(boss)
    html = client.get(page(project)).content.decode()
    assert 'data-state="no_run"' in html and "No aggregation run has finished yet" in html
    assert client.get(api(project)).json()["state"] == "no_run"


def test_items_that_name_no_models_get_a_hint_saying_what_to_add(client, db):
    project = make(schemas.PAIRWISE, {})
    boss = UserFactory(username="boss2")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 2)
    item = ItemFactory(project=project)
    annotate_table([item], raters, [[pair("A"), pair("B")]])
    run_now(project, method="majority")
    client.force_login(boss)
    html = client.get(page(project)).content.decode()
    assert 'data-state="no_models"' in html and "model_a and model_b" in html
    data = client.get(api(project)).json()
    assert data["state"] == "no_models" and data["rows"] == [] and data["win_matrix"] is None


def test_kinds_without_models_have_no_leaderboard_page_or_link(client, project, manager):
    client.force_login(manager)
    assert client.get(page(project)).status_code == 404
    assert client.get(api(project)).status_code == 404
    detail = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    assert 'id="leaderboard-link"' not in detail


def test_the_project_page_and_dashboard_link_to_the_leaderboard(client, arena):
    project, boss, _ = arena
    client.force_login(boss)
    for name in ("tasks:project-detail", "dashboards:project"):
        html = client.get(reverse(name, args=[project.pk])).content.decode()
        assert f'href="{page(project)}" id="leaderboard-link"' in html, name


def test_a_ranking_project_shows_its_plackett_luce_leaderboard(client, db):
    project = make(schemas.RANKING, {})
    boss = UserFactory(username="boss3")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    raters = make_raters(project, 2)
    item = ItemFactory(
        project=project,
        data={"prompt": "p", "responses": ["a", "b", "c"]},
        meta={"models": ["m-a", "m-b", EVIL]},
    )
    annotate_table([item], raters, [[{"ranking": [[2], [0], [1]]}, {"ranking": [[2], [1], [0]]}]])
    run_now(project)
    client.force_login(boss)
    html = client.get(page(project)).content.decode()
    data = client.get(api(project)).json()
    assert "Plackett–Luce" in html and EVIL not in html
    assert data["fit"] == "plackett_luce" and data["rows"][0]["model"] == EVIL
    assert data["win_matrix"]["wins"][0] == [0, 2, 2]  # the evil model first both times


def test_the_page_costs_the_same_queries_with_many_models_as_with_two(client, db):
    def queries(n_models):
        project = make(schemas.PAIRWISE, {})
        boss = UserFactory(username=f"boss-{n_models}")
        MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
        raters = make_raters(project, 2, prefix=f"q{n_models}-")
        for k in range(n_models - 1):
            item = ItemFactory(project=project, meta={"model_a": f"m{k}", "model_b": f"m{k + 1}"})
            annotate_table([item], raters, [[pair("A"), pair("B")]])
        run_now(project, method="majority")
        client.force_login(boss)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page(project)).status_code == 200
        return len(ctx.captured_queries)

    assert queries(12) == queries(2)
