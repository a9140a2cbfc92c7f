"""Model leaderboards from runs: trust-weighted Bradley–Terry for pairwise projects, and
Plackett–Luce for ranking projects whose items name their models."""

import pytest

from raters.models import Membership
from tasks import schema as schemas
from tests.aggregation.helpers import annotate, annotate_table
from tests.aggregation.test_kinds import make, pair, run_now
from tests.conftest import make_raters
from tests.factories import ItemFactory


def board_of(run):
    return {row["model"]: row for row in run.stats["leaderboard"]}


def test_a_low_trust_raters_comparisons_pull_less_so_the_trusted_rater_decides(db):
    project = make(schemas.PAIRWISE, {})
    trusted, spam1, spam2 = make_raters(project, 3)
    items = [
        ItemFactory(project=project, meta={"model_a": "big", "model_b": "small"}) for _ in range(10)
    ]
    # The trusted rater prefers small every time; two raters who fail gold prefer big.
    annotate_table(items, [trusted, spam1, spam2], [[pair("B"), pair("A"), pair("A")]] * 10)
    unweighted = run_now(project, method="majority")
    assert [r["model"] for r in unweighted.stats["leaderboard"]] == ["big", "small"]
    assert unweighted.stats["leaderboard_weights"] == "uniform"

    for user, right in ((trusted, 20), (spam1, 2), (spam2, 2)):
        Membership.objects.filter(project=project, user=user).update(
            gold_n=20, gold_score_sum=right
        )
    weighted = run_now(project, method="majority")
    assert weighted.stats["leaderboard_weights"] == "gold"
    assert [r["model"] for r in weighted.stats["leaderboard"]] == ["small", "big"]
    # The counts stay raw: weights change the pull, not what the raters answered.
    small = board_of(weighted)["small"]
    assert (small["wins"], small["losses"], small["ties"]) == (10, 20, 0)
    assert small["ci_low"] < small["score"] < small["ci_high"]
    assert weighted.stats["leaderboard_interval"] == "sandwich"
    assert weighted.stats["leaderboard_fit"] == "bradley_terry"


def test_the_pairwise_win_matrix_counts_wins_losses_and_ties_exactly(db):
    project = make(schemas.PAIRWISE, {})
    raters = make_raters(project, 3)
    ab = ItemFactory(project=project, meta={"model_a": "a", "model_b": "b"})
    ca = ItemFactory(project=project, meta={"model_a": "c", "model_b": "a"})
    unnamed = ItemFactory(project=project)
    itself = ItemFactory(project=project, meta={"model_a": "a", "model_b": "a"})
    annotate_table(
        [ab, ca, unnamed, itself],
        raters,
        [
            [pair("A"), pair("A"), pair("B")],  # a beats b twice, b beats a once
            [pair("tie"), pair("both_bad"), pair("B")],  # c ties a twice, a beats c once
            [pair("A"), pair("A"), pair("A")],  # names no models: not counted
            [pair("A"), pair("B"), pair("A")],  # a against itself: not counted
        ],
    )
    run = run_now(project, method="majority", parameters={"bootstrap": True})
    wm = run.stats["win_matrix"]
    k = {m: wm["models"].index(m) for m in "abc"}
    assert wm["wins"][k["a"]][k["b"]] == 2 and wm["wins"][k["b"]][k["a"]] == 1
    assert wm["wins"][k["a"]][k["c"]] == 1 and wm["wins"][k["c"]][k["a"]] == 0
    assert wm["ties"][k["a"]][k["c"]] == wm["ties"][k["c"]][k["a"]] == 2
    assert wm["models"] == [r["model"] for r in run.stats["leaderboard"]]
    a = board_of(run)["a"]
    assert (a["n_comparisons"], a["wins"], a["losses"], a["ties"]) == (6, 3, 1, 2)
    assert run.stats["leaderboard_interval"] == "bootstrap over raters"


def rank_item(project, models, n=3):
    return ItemFactory(
        project=project,
        data={"prompt": "p", "responses": [f"r{i}" for i in range(n)]},
        meta={"models": models} if models is not None else {},
    )


@pytest.mark.parametrize("method", ["plackett_luce", "borda"])
def test_ranking_projects_rank_the_models_their_items_name_with_intervals(db, method):
    project = make(schemas.RANKING, {"allow_ties": True})
    r1, r2, r3 = make_raters(project, 3)
    first = rank_item(project, ["alpha", "beta", "gamma"])
    second = rank_item(project, ["gamma", "alpha", "beta"])
    twice = rank_item(project, ["alpha", "alpha", "beta"])  # one model twice: left out
    unnamed = rank_item(project, None)
    annotate(first, r1, {"ranking": [[0], [1], [2]]})
    annotate(first, r2, {"ranking": [[0], [1], [2]]})
    annotate(first, r3, {"ranking": [[1], [0, 2]]})
    annotate(second, r1, {"ranking": [[0], [1], [2]]})
    for item in (twice, unnamed):
        annotate(item, r1, {"ranking": [[2], [1], [0]]})
    run = run_now(project, method=method)
    rows = run.stats["leaderboard"]
    assert [r["model"] for r in rows] == ["alpha", "beta", "gamma"]
    for r in rows:
        assert r["ci_low"] < r["score"] < r["ci_high"]
    wm = run.stats["win_matrix"]
    assert wm["models"] == ["alpha", "beta", "gamma"]
    # alpha-beta 3-1, alpha-gamma 2-1 with a tie, beta-gamma 3-1.
    assert wm["wins"] == [[0, 3, 2], [1, 0, 3], [1, 1, 0]]
    assert wm["ties"] == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
    assert board_of(run)["alpha"]["n_comparisons"] == 3 + 1 + 2 + 1 + 1
    assert run.stats["leaderboard_interval"] == "hessian"
    assert run.stats["leaderboard_fit"] == "plackett_luce"


def test_a_ranking_leaderboard_is_narrower_with_more_rankings(db):
    def width(n_rankers):
        project = make(schemas.RANKING, {})
        raters = make_raters(project, n_rankers, prefix=f"n{n_rankers}-")
        item = rank_item(project, ["x", "y", "z"])
        orders = [[[0], [1], [2]], [[1], [0], [2]], [[0], [2], [1]]]
        for k, rater in enumerate(raters):
            annotate(item, rater, {"ranking": orders[k % 3]})
        x = board_of(run_now(project))["x"]
        return x["ci_high"] - x["ci_low"]

    assert width(24) < 0.6 * width(6)
