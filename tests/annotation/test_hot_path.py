"""The queue's hot path: written-out statements, token checks and the trimmed API views."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.base import Message
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils.functional import empty
from rest_framework.authtoken.models import Token

from aggregation.models import AggregationRun
from aggregation.services import aggregation_settings_update
from annotation.models import Annotation
from annotation.services import annotation_submit, assignment_next, counters_fold
from config.middleware import LazyMessageMiddleware
from tests.conftest import make_raters
from tests.factories import ItemFactory


def label(rater, project):
    assignment = assignment_next(rater=rater, project=project)
    annotation_submit(
        rater=rater, item=assignment.item, value="yes", idempotency_key=f"k{assignment.item_id}"
    )
    return assignment.item


@pytest.mark.django_db(transaction=True)
def test_the_queue_keeps_working_after_the_database_connection_is_replaced(project, rater, items):
    first = label(rater, project)
    connection.close()  # a new server session has none of the prepared statements
    second = label(rater, project)
    assert first != second
    assert Annotation.objects.filter(rater=rater).count() == 2
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            prepared = {name for (name,) in cursor.fetchall()}
        assert {
            "vox_seat_user_held",
            "vox_claim_head_lease",
            "vox_lease",
            "vox_answer_insert",
        } <= prepared


def test_a_malformed_api_submit_is_refused_field_by_field_and_nothing_is_saved(
    client, project, rater, items
):
    client.force_login(rater)
    client.post(reverse("api:next-item", args=[project.pk]))
    response = client.post(
        reverse("api:annotation-submit", args=[project.pk]),
        {"item_id": "abc", "active_ms": -5, "next": "yes", "idempotency_key": "x" * 65},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"item_id", "value", "active_ms", "next", "idempotency_key"}
    assert not Annotation.objects.exists()


def test_the_queue_api_takes_a_token_and_refuses_a_wrong_or_inactive_one(
    client, project, rater, items
):
    token = Token.objects.create(user=rater)
    url = reverse("api:next-item", args=[project.pk])
    ok = client.post(url, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ok.status_code == 200 and ok.json()["item"] is not None
    # 403, not 401: session authentication comes first and sends no WWW-Authenticate.
    assert client.post(url, HTTP_AUTHORIZATION="Token not-a-token").status_code == 403
    rater.is_active = False
    rater.save()
    assert client.post(url, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403


def test_new_labels_reach_the_aggregation_trigger_through_the_counter_fold(
    project, rater, items, django_capture_on_commit_callbacks
):
    aggregation_settings_update(project=project, run_every_annotations=2)
    label(rater, project)
    # Submits touch only the rater's shard; the fold after them moves the count on.
    with django_capture_on_commit_callbacks(execute=True):
        label(rater, project)
        counters_fold(project_id=project.pk)
    run = AggregationRun.objects.get()
    assert run.trigger == "annotations"


def test_a_request_that_shows_no_message_never_builds_the_message_storage(rf: RequestFactory):
    request = rf.get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    middleware = LazyMessageMiddleware(lambda r: HttpResponse())
    response = middleware(request)
    assert request._messages._wrapped is empty
    assert "messages" not in response.cookies


def test_a_message_added_in_one_request_is_shown_on_the_next(rf: RequestFactory):
    def add(request):
        request._messages.add(20, "Saved.")
        return HttpResponse()

    first = rf.post("/")
    SessionMiddleware(lambda r: None).process_request(first)
    response = LazyMessageMiddleware(add)(first)
    second = rf.get("/")
    second.COOKIES["messages"] = response.cookies["messages"].value
    SessionMiddleware(lambda r: None).process_request(second)

    def show(request):
        shown.extend(get_messages(request))
        return HttpResponse()

    shown: list[Message] = []
    LazyMessageMiddleware(show)(second)
    assert [m.message for m in shown] == ["Saved."]


def own_backlog(project, rater, n_own, n_others, others_done):
    """n_own items this rater labelled, waiting for other raters, at the head of the queue;
    then n_others items with others_done labels from someone else."""
    from django.utils import timezone

    from annotation.models import Assignment
    from annotation.queue import CLAIM_HEAD

    assert n_own > CLAIM_HEAD
    own = ItemFactory.create_batch(n_own, project=project, n_done=1)
    others = ItemFactory.create_batch(n_others, project=project, n_done=others_done)
    now = timezone.now()
    Assignment.objects.bulk_create(
        Assignment(
            project=project,
            item=item,
            rater=rater,
            status="submitted",
            leased_at=now,
            expires_at=now,
        )
        for item in own
    )
    return own, others


def test_a_rater_whose_own_unfinished_items_fill_the_head_of_the_queue_gets_a_fresh_item(
    project, rater
):
    own, deeper = own_backlog(project, rater, n_own=70, n_others=3, others_done=1)
    fresh = ItemFactory.create_batch(2, project=project)
    # The claim looks no further than the head: a fresh item, not a partly labelled one
    # behind the rater's own 70 (the price of a claim that does not grow with the backlog).
    assert assignment_next(rater=rater, project=project).item == fresh[0]
    # Anyone else still gets the items closest to completion first.
    (second,) = make_raters(project, 1, prefix="s")
    assert assignment_next(rater=second, project=project).item == own[0]


def test_with_no_fresh_item_left_the_claim_walks_past_the_raters_own_items(project, rater):
    own, others = own_backlog(project, rater, n_own=70, n_others=3, others_done=1)
    assert assignment_next(rater=rater, project=project).item == others[0]
