"""Aggregation jobs on a real Celery worker process, the real broker and PostgreSQL.

Redelivery is real too: a worker is killed with SIGKILL while it holds the job
(acks_late), and a fresh worker gets the unacknowledged message back from Redis once the
visibility timeout has passed.
"""

import os
import signal
import time

import pytest
from django.conf import settings as django_settings

from aggregation import jobs
from aggregation.models import AggregationRun, ItemResult
from aggregation.selectors import aggregation_run_current
from aggregation.services import TEST_DELAY, aggregation_run_request
from tests.aggregation.helpers import annotate, annotate_table
from tests.conftest import make_raters
from tests.factories import ItemFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
STALE_S = 2


@pytest.fixture
def workers(celery_workers):
    def start(**extra_env):
        # Short clocks so that a killed worker's job comes back within the test.
        return celery_workers(
            VOX_JOB_VISIBILITY_S=str(STALE_S), VOX_AGGREGATION_STALE_S=str(STALE_S), **extra_env
        )

    return start


@pytest.fixture
def labelled(project):
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(6, project=project)
    annotate_table(items, raters, [["yes", "yes", "no"], ["no", "no", "yes"]] * 3)
    gold = ItemFactory(project=project, is_gold=True)
    for r in raters:
        annotate(gold, r, "yes")
    return items, gold


def wait_for(predicate, proc, timeout=90, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, proc.log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{proc.log.read_text()}")


def status(run):
    run.refresh_from_db()
    return run.status


def test_a_real_worker_runs_the_job_and_a_redelivery_changes_nothing(workers, project, labelled):
    items, gold = labelled
    worker = workers()
    run = aggregation_run_request(project=project, method="dawid_skene")
    wait_for(lambda: status(run) == "done", worker, what="the run to finish")
    assert run.is_current and run.attempts == 1
    assert ItemResult.objects.filter(run=run).count() == 6
    assert not ItemResult.objects.filter(item=gold).exists()
    first = list(ItemResult.objects.filter(run=run).order_by("item_id").values_list("id", "label"))

    # The broker delivers the same job again (as after a lost acknowledgement).
    jobs.aggregation_run_execute.apply_async(args=[run.pk], queue=django_settings.VOX_JOBS_QUEUE)
    wait_for(
        lambda: worker.log.read_text().count("aggregation_run_execute") >= 4,
        worker,
        what="the redelivered job to be received and finish",
    )
    run.refresh_from_db()
    assert run.attempts == 1 and run.status == "done"
    assert (
        list(ItemResult.objects.filter(run=run).order_by("item_id").values_list("id", "label"))
        == first
    )


def kill_mid_run(workers, project):
    """A current run, then a second run whose worker is SIGKILLed while fitting."""
    first_worker = workers()
    good = aggregation_run_request(project=project, method="majority")
    wait_for(lambda: status(good) == "done", first_worker, what="the first run")
    slow = aggregation_run_request(
        project=project, method="dawid_skene", internal_parameters={TEST_DELAY: 60}
    )
    wait_for(
        lambda: status(slow) == "running" and slow.phase == "fitting",
        first_worker,
        what="the second run to be fitting",
    )
    os.kill(first_worker.pid, signal.SIGKILL)
    first_worker.wait(timeout=10)
    # Nothing of the killed run is visible: the previous results stay current and complete.
    assert aggregation_run_current(project) == good
    assert not ItemResult.objects.filter(run=slow).exists()
    assert ItemResult.objects.filter(run=good).count() == 6
    # Past the visibility timeout and the heartbeat's staleness, a new worker gets it back.
    time.sleep(STALE_S + 1.5)
    return good, slow


def test_a_job_whose_worker_is_killed_mid_run_is_redelivered_and_completes(
    workers, project, labelled
):
    good, slow = kill_mid_run(workers, project)
    second_worker = workers()
    wait_for(lambda: status(slow) == "done", second_worker, what="the redelivered run")
    assert slow.attempts == 2 and slow.is_current
    assert ItemResult.objects.filter(run=slow).count() == 6
    good.refresh_from_db()
    assert not good.is_current
    assert AggregationRun.objects.filter(project=project, is_current=True).count() == 1


def test_a_run_whose_worker_is_lost_too_often_is_marked_failed_with_the_reason(
    workers, project, labelled
):
    good, slow = kill_mid_run(workers, project)
    second_worker = workers(VOX_AGGREGATION_MAX_ATTEMPTS="1")
    wait_for(lambda: status(slow) == "failed", second_worker, what="the run to be failed")
    assert "gave up after 1 attempt" in slow.error
    assert aggregation_run_current(project) == good
    assert not ItemResult.objects.filter(run=slow).exists()
