"""Next and submit in two statements each on PostgreSQL, and their fall-backs.

The queue's seat (one statement) brings the token's user, the membership, the project and
the rater's lease; the claim and its lease are one statement, and a submit of a held lease
is one batch, the same for gold and live items. Whatever the batch cannot vouch for is
decided after it, so these tests pin both that the short way is taken and that the
refusals still say the right thing.
"""

from datetime import timedelta

import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotation import queue
from annotation.fastlane import QueueFastLane
from annotation.models import Annotation, Assignment, CounterShard
from annotation.queue import CLAIM_LEASE
from annotation.services import annotation_submit, assignment_next, counters_fold
from quality.models import QualityPolicy
from tasks.models import Item
from tests.annotation.test_fast_lane import Wsgi

pytestmark = pytest.mark.postgres


def statements(queries) -> list[str]:
    # Savepoints are the test's own transaction at work, not round trips of the queue.
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def queue_statements(queries) -> list[str]:
    # Tests run the gold scoring and trust rules inline (a worker's job in production, at
    # most once a second per process, with the counter fold): they are ORM queries, and
    # every statement of the queue is prepared on PostgreSQL.
    return [
        q["sql"][:70]
        for q in queries
        if q["sql"].startswith("EXECUTE vox_") and "vox_fold" not in q["sql"]
    ]


@pytest.mark.django_db(transaction=True)
def test_next_and_submit_over_the_api_are_two_statements_each_and_three_together(
    project, rater, items
):
    """Through the served application, as token clients reach it (the fast lane), with no
    transaction around the requests: the production shape."""
    # No silent gold draws here: a draw that hits reads the gold pool (a third statement).
    QualityPolicy.objects.create(
        project=project, adaptive_gold=False, gold_rate=0.0, gold_rate_floor=0.0
    )
    token = Token.objects.create(user=rater).key
    lane = Wsgi(QueueFastLane(get_wsgi_application()))
    auth = {"authorization": f"Token {token}"}
    next_url = reverse("api:next-item", args=[project.pk])
    submit_url = reverse("api:annotation-submit", args=[project.pk])
    # The first request of a connection prepares the statements; count the second item.
    _, _, body = lane.post(next_url, **auth)
    lane.post(
        submit_url, {"item_id": body["item"]["item_id"], "value": "yes", "next": False}, **auth
    )
    with CaptureQueriesContext(connection) as next_queries:
        _, _, body = lane.post(next_url, **auth)
    with CaptureQueriesContext(connection) as submit_queries:
        code, _, answer = lane.post(
            submit_url, {"item_id": body["item"]["item_id"], "value": "no", "next": False}, **auth
        )
    assert code == 201
    assert len(queue_statements(next_queries)) == 2, queue_statements(next_queries)
    assert len(queue_statements(submit_queries)) == 2, queue_statements(submit_queries)
    # Submit-and-next: the batch ends with the seat as it left it, so the claim follows.
    _, _, body = lane.post(next_url, **auth)
    with CaptureQueriesContext(connection) as combined_queries:
        code, _, combined = lane.post(
            submit_url, {"item_id": body["item"]["item_id"], "value": "yes"}, **auth
        )
    assert code == 201 and combined["next"] is not None
    assert len(queue_statements(combined_queries)) == 3, queue_statements(combined_queries)
    stored = Annotation.objects.get(pk=answer["annotation"]["id"])
    item = Item.objects.get(pk=stored.item_id)
    assert stored.value == "no" and stored.rater == rater
    assert (item.n_done, item.n_open) == (1, 0)
    assert Assignment.objects.get(item=item, rater=rater).status == "submitted"


@pytest.mark.parametrize("reclaimed", [False, True], ids=["not reclaimed", "reclaimed"])
def test_a_late_submit_is_taken_until_the_lease_is_reclaimed_and_refused_after(
    project, rater, items, reclaimed
):
    assignment = assignment_next(rater=rater, project=project)
    seat = queue.seat_read(project.pk, user=rater, item=assignment.item.public_id)
    # The lease runs out after the seat's read; with "reclaimed" another request gives its
    # slot back to the queue before the submit arrives.
    Assignment.objects.filter(pk=assignment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    if reclaimed:
        queue.leases_reclaim(project=project)

    def submit():
        return queue.submit(seat, value="yes", idempotency_key="late")

    if not reclaimed:
        assert submit().pk
        item = Item.objects.get(pk=assignment.item_id)
        assert (item.n_done, item.n_open) == (1, 0)
        assert Annotation.objects.filter(rater=rater).count() == 1
    else:
        with pytest.raises(queue.Refused, match="lease on this item changed"):
            submit()
        assert not Annotation.objects.filter(rater=rater).exists()
        assert Assignment.objects.get(pk=assignment.pk).status == "expired"
        assert Item.objects.get(pk=assignment.item_id).n_open == 0


def test_a_replayed_submit_returns_the_first_result_and_is_stored_once(project, rater, items):
    assignment = assignment_next(rater=rater, project=project)
    seat = queue.seat_read(project.pk, user=rater, item=assignment.item.public_id)
    first = queue.submit(seat, value="yes", idempotency_key="once")
    # The client did not hear the answer and sends the same submit with the lease it had.
    again = queue.submit(seat, value="yes", idempotency_key="once")
    assert again.pk == first.pk
    assert Annotation.objects.filter(rater=rater).count() == 1
    item = Item.objects.get(pk=assignment.item_id)
    assert (item.n_done, item.n_open) == (1, 0)
    assert sum(CounterShard.objects.values_list("n_annotations", flat=True)) == 1


def test_a_key_reused_on_another_item_is_refused_and_leaves_that_lease_held(project, rater, items):
    from annotation.services import SubmitRefused

    first = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=first.item, value="yes", idempotency_key="k")
    second = assignment_next(rater=rater, project=project)
    seat = queue.seat_read(project.pk, user=rater, item=second.item.public_id)
    with pytest.raises(SubmitRefused, match="already used for another item"):
        queue.submit(seat, value="no", idempotency_key="k")
    # Nothing of the refused batch stayed behind.
    assert Assignment.objects.get(pk=second.pk).status == "active"
    assert Item.objects.get(pk=second.item_id).n_done == 0


def test_the_counter_fold_moves_every_shard_once_in_one_statement(project, items):
    from tests.conftest import make_raters

    raters = make_raters(project, 3)
    for rater in raters:
        assignment = assignment_next(rater=rater, project=project)
        annotation_submit(
            rater=rater, item=assignment.item, value="yes", idempotency_key=f"f{rater.pk}"
        )
    with CaptureQueriesContext(connection) as queries:
        moved = counters_fold(project_id=project.pk)
    assert moved == len({r.pk % CounterShard.SHARDS for r in raters})
    assert len(statements(queries)) == 1
    project.refresh_from_db()
    assert project.n_annotations == 3
    assert counters_fold(project_id=project.pk) == 0
    project.refresh_from_db()
    assert project.n_annotations == 3


@pytest.mark.django_db(transaction=True)
def test_the_claims_check_of_the_raters_own_items_looks_up_one_lease_per_candidate(
    project, rater, items
):
    """The generic plan, made once per connection and often on a lease table with no
    statistics yet (a fresh database), must find the rater's lease on each candidate by
    (item, rater). Probing by rater and filtering by item read every lease of the rater for
    every candidate: a next cost 2.5 ms after 400 labels at K = 1, and growing."""
    for item in items[:5]:
        Assignment.objects.create(
            project=project, item=item, rater=rater, status="submitted",
            leased_at=timezone.now(), expires_at=timezone.now(),
        )  # fmt: skip
    claim = CLAIM_LEASE[0]
    now = timezone.now()
    values = {
        "project": project.pk, "k": project.overlap, "first": project.overlap, "rater": rater.pk,
        "now": now,
        "expires": now, "presentation": "{}", "priority": 0, "status": "active",
        "shuffle": False, "gold": False, "gold_at": 0, "blocked": [],
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(claim.prepare_sql().replace(claim.name, "vox_test_plan", 1))
        try:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            args = ", ".join(["%s"] * len(claim._names))
            cursor.execute(
                f"EXPLAIN EXECUTE vox_test_plan({args})", [values[n] for n in claim._names]
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE vox_test_plan")
    own_check = plan[plan.index("SubPlan") :]
    assert "assignment_unique_item_rater" in own_check, plan
    assert "Index Cond: (rater_id" not in own_check, plan
