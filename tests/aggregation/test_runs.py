import pytest
from django.db import connection

from aggregation.loading import _load_copy, _load_rows, annotation_arrays, value_columns
from aggregation.models import AggregationRun, ItemResult
from aggregation.selectors import aggregate_for_items, aggregate_stream, aggregation_run_current
from aggregation.services import (
    TEST_DELAY,
    AggregationRejected,
    aggregation_run_execute,
    aggregation_run_request,
    aggregation_settings_update,
)
from tests.aggregation.helpers import annotate, annotate_table
from tests.conftest import make_raters
from tests.factories import ItemFactory


@pytest.fixture
def labelled(project):
    """Four items, three raters; the third rater disagrees on item 2. One gold item."""
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(4, project=project)
    annotate_table(
        items,
        raters,
        [
            ["yes", "yes", "yes"],
            ["no", "no", "no"],
            ["yes", "yes", "no"],
            ["no", None, "no"],
        ],
    )
    gold = ItemFactory(project=project, is_gold=True)
    for r in raters:
        annotate(gold, r, "no")
    return items, raters, gold


def run_now(project, **kw):
    run = aggregation_run_request(project=project, **kw)
    aggregation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_a_run_stores_one_result_per_labelled_item_and_becomes_current(project, labelled):
    items, _, _ = labelled
    run = run_now(project, method="majority")
    assert run.status == "done" and run.is_current and run.percent == 100
    assert run.stats["n_items"] == 4 and run.timings["total_s"] >= 0
    result = aggregate_for_items(project, [i.pk for i in items])
    assert [result[i.pk]["label"] for i in items] == ["yes", "no", "yes", "no"]
    assert result[items[2].pk]["distribution"] == pytest.approx({"yes": 2 / 3, "no": 1 / 3})
    assert result[items[2].pk]["confidence"] == pytest.approx(2 / 3)
    assert result[items[3].pk]["n_votes"] == 2


def test_gold_annotations_never_count_as_labels(project, labelled):
    _, _, gold = labelled
    run = run_now(project, method="dawid_skene")
    assert not ItemResult.objects.filter(run=run, item=gold).exists()
    assert gold.pk not in aggregate_for_items(project, [gold.pk])
    assert run.stats["n_annotations"] == 11  # 12 answers on live items, minus one missing


@pytest.mark.parametrize(
    "method", ["majority", "weighted", "dawid_skene", "one_coin", "mace", "glad"]
)
def test_every_categorical_method_agrees_on_a_clear_crowd(project, labelled, method):
    items, _, _ = labelled
    run_now(project, method=method)
    got = [r["label"] for r in aggregate_stream(project)]
    assert got == ["yes", "no", "yes", "no"]


def test_running_the_job_twice_leaves_one_result_set(project, labelled):
    run = run_now(project)
    aggregation_run_execute(run_id=run.pk)
    assert ItemResult.objects.filter(run=run).count() == 4
    assert AggregationRun.objects.get(pk=run.pk).attempts == 1


def test_a_new_run_replaces_the_current_one_and_keeps_the_old_results(project, labelled):
    first = run_now(project, method="majority")
    second = run_now(project, method="dawid_skene")
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert aggregation_run_current(project) == second
    assert {r["run_id"] for r in aggregate_stream(project)} == {second.pk}
    assert ItemResult.objects.filter(run=first).count() == 4


def test_a_failing_fit_marks_the_run_failed_and_the_old_results_stay_current(
    project, labelled, monkeypatch
):
    good = run_now(project, method="majority")
    from aggregation import methods

    def broken(*args, **kwargs):
        raise FloatingPointError("posterior is not finite")

    monkeypatch.setattr(methods, "fit", broken)
    bad = run_now(project, method="dawid_skene")
    assert bad.status == "failed"
    assert "posterior is not finite" in bad.error
    assert aggregation_run_current(project) == good


def test_a_run_held_by_a_live_worker_is_not_taken_twice(project, labelled):
    run = aggregation_run_request(project=project, method="majority")
    AggregationRun.objects.filter(pk=run.pk).update(status="running", attempts=1)
    from django.utils import timezone

    AggregationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
    aggregation_run_execute(run_id=run.pk)
    assert ItemResult.objects.filter(run=run).count() == 0
    assert AggregationRun.objects.get(pk=run.pk).status == "running"


def test_a_run_lost_with_its_worker_too_often_is_marked_failed(project, labelled, settings):
    from datetime import timedelta

    from django.utils import timezone

    run = aggregation_run_request(project=project, method="majority")
    old = timezone.now() - timedelta(seconds=settings.VOX_AGGREGATION_STALE_S + 1)
    AggregationRun.objects.filter(pk=run.pk).update(
        status="running", attempts=settings.VOX_AGGREGATION_MAX_ATTEMPTS, heartbeat_at=old
    )
    aggregation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed"
    assert "gave up after 3 attempt" in run.error


def test_a_stale_run_is_taken_over_by_the_redelivered_job(project, labelled, settings):
    from datetime import timedelta

    from django.utils import timezone

    run = aggregation_run_request(project=project, method="majority")
    old = timezone.now() - timedelta(seconds=settings.VOX_AGGREGATION_STALE_S + 1)
    AggregationRun.objects.filter(pk=run.pk).update(status="running", attempts=1, heartbeat_at=old)
    aggregation_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "done" and run.attempts == 2 and run.is_current


def test_unknown_methods_and_parameters_are_refused_by_name(project):
    with pytest.raises(AggregationRejected, match="method: must be one of"):
        aggregation_run_request(project=project, method="bradley_terry")
    with pytest.raises(AggregationRejected, match="parameters.speed: is not a parameter"):
        aggregation_run_request(project=project, method="mace", parameters={"speed": 1})
    with pytest.raises(AggregationRejected, match="parameters.max_iter: must be a int"):
        aggregation_run_request(project=project, method="mace", parameters={"max_iter": "x"})
    assert not AggregationRun.objects.exists()


def test_a_second_request_while_one_is_queued_returns_the_queued_run(
    project, labelled, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = aggregation_run_request(project=project, method="majority")
        again = aggregation_run_request(project=project, method="majority")
    assert first.pk == again.pk
    assert len(callbacks) == 1


def test_the_test_delay_parameter_is_not_open_to_managers(project):
    with pytest.raises(AggregationRejected):
        aggregation_run_request(project=project, method="majority", parameters={TEST_DELAY: 5})


def test_subjective_projects_lead_with_the_distribution(project, labelled):
    aggregation_settings_update(project=project, subjective=True)
    run = run_now(project)
    assert run.method == "majority"
    first = next(aggregate_stream(project))
    assert list(first)[:2] == ["item_id", "distribution"]
    assert run.stats["subjective"] is True


def test_subjective_weighted_vote_never_weights_by_agreement(project, labelled):
    aggregation_settings_update(project=project, subjective=True)
    run = run_now(project, method="weighted")
    assert run.stats["weights"] == "uniform"
    objective = run_now(project, method="weighted", parameters={"weights": "agreement"})
    assert objective.stats["weights"] == "uniform"


def test_objective_weighted_vote_uses_gold_when_raters_have_it(project, labelled):
    from raters.models import Membership

    assert run_now(project, method="weighted").stats["weights"] == "agreement"
    Membership.objects.filter(project=project).update(gold_n=10, gold_score_sum=9)
    assert run_now(project, method="weighted").stats["weights"] == "gold"


@pytest.mark.postgres
def test_the_copy_loader_and_the_row_loader_read_the_same_arrays(project, labelled):
    fields = ("id", "item_id", "rater_id", "duration_ms", "active_ms")
    cols = value_columns(project)
    fast = _load_copy(project.pk, fields, cols)
    slow = _load_rows(project.pk, fields, cols)
    order_f, order_s = fast[0].argsort(), slow[0].argsort()
    for a, b in zip(fast, slow, strict=True):
        assert a[order_f].tolist() == b[order_s].tolist()
    assert connection.vendor == "postgresql"


def test_loaded_arrays_code_ids_once_and_skip_gold(project, labelled):
    items, raters, gold = labelled
    arrays = annotation_arrays(project)
    assert arrays.n == 11
    assert arrays.item_ids.tolist() == sorted(i.pk for i in items)
    assert gold.pk not in arrays["item_id"]
    assert (arrays.item_ids[arrays.item_idx] == arrays["item_id"]).all()
    assert set(arrays["label"].tolist()) == {0, 1}


def test_beat_fails_runs_whose_job_is_gone_past_redelivery_and_leaves_recent_ones(
    project, labelled, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from aggregation.jobs import aggregation_watchdog

    grace = timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        + settings.VOX_AGGREGATION_STALE_S
        + 1
    )
    lost = aggregation_run_request(project=project, method="majority")
    AggregationRun.objects.filter(pk=lost.pk).update(
        status="running", attempts=1, heartbeat_at=timezone.now() - grace
    )
    # Only stale, not yet past redelivery: the broker will hand the job back.
    stale = AggregationRun.objects.create(
        project=project, method="majority", status="running", attempts=1,
        heartbeat_at=timezone.now() - timedelta(seconds=settings.VOX_AGGREGATION_STALE_S + 1),
    )  # fmt: skip
    never_taken = AggregationRun.objects.create(project=project, method="mace", status="queued")
    AggregationRun.objects.filter(pk=never_taken.pk).update(created_at=timezone.now() - grace)
    assert aggregation_watchdog.apply().get() == 2
    statuses = dict(AggregationRun.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "failed", stale.pk: "running", never_taken.pk: "failed"}
    assert "start the run again" in AggregationRun.objects.get(pk=lost.pk).error
    assert aggregation_watchdog.apply().get() == 0
