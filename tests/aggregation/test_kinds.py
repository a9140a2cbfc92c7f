import pytest

from aggregation.selectors import aggregate_for_items
from aggregation.services import aggregation_run_execute, aggregation_run_request
from tasks import kinds
from tasks import schema as schemas
from tests.aggregation.helpers import annotate, annotate_table
from tests.conftest import make_raters
from tests.factories import ItemFactory, ProjectFactory


def run_now(project, **kw):
    run = aggregation_run_request(project=project, **kw)
    aggregation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    return run


def make(kind, schema, **kw):
    return ProjectFactory(kind=kind, schema=schemas.schema_validate(kind, schema), **kw)


def pair(choice, strength=None):
    value = {"choice": choice, "flags": {"A": [], "B": []}, "rationale": ""}
    if strength is not None:
        value["strength"] = strength
    return value


def test_multi_choice_is_aggregated_tag_by_tag(db):
    project = make(schemas.MULTI_CHOICE, {"choices": ["spam", "rude", "ok"]})
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(2, project=project)
    annotate_table(
        items,
        raters,
        [[["spam", "rude"], ["spam"], ["spam", "rude"]], [["ok"], ["ok"], ["rude"]]],
    )
    run_now(project, method="majority")
    got = aggregate_for_items(project, [i.pk for i in items])
    assert got[items[0].pk]["label"] == ["spam", "rude"]
    assert got[items[1].pk]["label"] == ["ok"]
    assert got[items[0].pk]["distribution"]["rude"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("method", ["mean", "median", "bias_corrected"])
def test_likert_is_summarised_per_dimension(db, method):
    project = make(schemas.LIKERT, {"scale": 5, "dimensions": ["helpful", "honest"]})
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(2, project=project)
    annotate_table(
        items,
        raters,
        [
            [{"helpful": 5, "honest": 1}, {"helpful": 4, "honest": 2}, {"helpful": 5, "honest": 1}],
            [{"helpful": 1, "honest": 5}, {"helpful": 2, "honest": 5}, {"helpful": 1, "honest": 4}],
        ],
    )
    run_now(project, method=method)
    got = aggregate_for_items(project, [i.pk for i in items])
    first, second = got[items[0].pk], got[items[1].pk]
    assert first["label"]["helpful"] > 4 and first["label"]["honest"] < 2
    assert second["label"]["helpful"] < 2 and second["label"]["honest"] > 4
    assert first["distribution"]["helpful"] == pytest.approx([0, 0, 0, 1 / 3, 2 / 3])
    assert first["extra"]["helpful"]["median"] == 5


def test_pairwise_keeps_the_margin_and_builds_a_model_leaderboard(db):
    project = make(schemas.PAIRWISE, {"strength": "labels"})
    raters = make_raters(project, 3)
    items = [
        ItemFactory(project=project, meta={"model_a": "big", "model_b": "small"}) for _ in range(6)
    ] + [ItemFactory(project=project, meta={"model_a": "small", "model_b": "tiny"})]
    table = [[pair("A", 3), pair("A", 2), pair("B", 1)] for _ in range(6)]
    table.append([pair("A", 1), pair("tie"), pair("A", 2)])
    annotate_table(items, raters, table)
    run = run_now(project)
    got = aggregate_for_items(project, [i.pk for i in items])
    assert got[items[0].pk]["label"] == "A"
    assert got[items[0].pk]["extra"]["margin"] > 0
    assert got[items[0].pk]["extra"]["mean_strength"] == pytest.approx((3 + 2 - 1) / 3, abs=1e-4)
    board = run.stats["leaderboard"]
    assert [row["model"] for row in board] == ["big", "small", "tiny"]
    assert board[0]["ci_low"] < board[0]["score"] < board[0]["ci_high"]
    assert board[0]["n_comparisons"] == 18


def test_both_bad_counts_as_no_preference(db):
    project = make(schemas.PAIRWISE, {})
    raters = make_raters(project, 3)
    item = ItemFactory(project=project)
    annotate_table([item], raters, [[pair("both_bad"), pair("both_bad"), pair("A")]])
    run_now(project, method="majority")
    got = aggregate_for_items(project, [item.pk])[item.pk]
    assert got["label"] == "tie"
    assert got["extra"]["both_bad"] == pytest.approx(2 / 3)


def test_an_even_split_between_a_and_b_is_a_tie_not_the_side_shown_first(db):
    project = make(schemas.PAIRWISE, {})
    raters = make_raters(project, 2)
    split_ab, split_ba, for_b = (ItemFactory(project=project) for _ in range(3))
    annotate_table(
        [split_ab, split_ba, for_b],
        raters,
        [[pair("A"), pair("B")], [pair("B"), pair("A")], [pair("B"), pair("B")]],
    )
    run_now(project, method="majority")
    got = aggregate_for_items(project, [split_ab.pk, split_ba.pk, for_b.pk])
    assert [got[i.pk]["label"] for i in (split_ab, split_ba, for_b)] == ["tie", "tie", "B"]
    # Before any run, the export's vote label says the same.
    kind = kinds.get("pairwise")
    assert kind.vote_label({}, [{"choice": "A"}, {"choice": "B"}]) == "tie"
    assert kind.vote_label({}, [{"choice": "B"}, {"choice": "A"}, {"choice": "A"}]) == "A"


@pytest.mark.parametrize("method", ["plackett_luce", "borda"])
def test_rankings_order_each_items_responses(db, method):
    project = make(schemas.RANKING, {"allow_ties": True})
    raters = make_raters(project, 3)
    item = ItemFactory(project=project, data={"prompt": "p", "responses": ["a", "b", "c"]})
    for r, ranking in zip(raters, [[[2], [0], [1]], [[2], [1], [0]], [[2], [0, 1]]], strict=True):
        annotate(item, r, {"ranking": ranking})
    run_now(project, method=method)
    got = aggregate_for_items(project, [item.pk])[item.pk]
    assert got["label"][0] == 2
    assert set(got["distribution"]) == {"0", "1", "2"}
    assert got["n_votes"] == 3
