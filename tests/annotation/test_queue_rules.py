from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation.models import Annotation, Assignment
from annotation.selectors import project_counts
from annotation.services import (
    SubmitRefused,
    annotation_submit,
    annotation_undo,
    assignment_next,
    assignment_next_any,
    assignment_prefetch,
    assignment_skip,
    counters_fold,
)
from raters.models import Membership
from tasks import schema as schemas
from tasks.ids import decode_item_id
from tasks.models import Item
from tests.conftest import make_raters
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory


def test_an_unqualified_rater_gets_no_live_item(project, rater, items):
    Membership.objects.filter(user=rater).update(stage="training")
    assert assignment_next(rater=rater, project=project) is None
    assert assignment_prefetch(rater=rater, project=project) is None
    assert not Assignment.objects.exists()
    Membership.objects.filter(user=rater).update(stage="warned")
    assert assignment_next(rater=rater, project=project) is not None


def test_next_across_projects_skips_projects_where_the_rater_is_not_qualified(db):
    rater = UserFactory(username="ria")
    training, live = ProjectFactory(), ProjectFactory()
    ItemFactory(project=training)
    live_item = ItemFactory(project=live)
    MembershipFactory(project=training, user=rater, stage="training")
    MembershipFactory(project=live, user=rater)
    assert assignment_next_any(rater=rater).item == live_item


def test_a_prefetched_item_holds_a_slot_and_becomes_the_lease_after_submit(project, items):
    project.overlap = 1
    project.save()
    rita, other = make_raters(project, 2)
    first = assignment_next(rater=rita, project=project)
    queued = assignment_prefetch(rater=rita, project=project)
    assert queued.status == "queued" and queued.item_id != first.item_id
    assert queued.item_id not in {
        a.item_id for a in [assignment_next(rater=other, project=project)] if a
    }
    annotation_submit(rater=rita, item=first.item, value="yes", idempotency_key="p1")
    now_open = assignment_next(rater=rita, project=project)
    assert now_open.item_id == queued.item_id and now_open.status == "active"


def test_undo_takes_back_the_last_submit_and_leases_the_item_again(project, rater, items):
    a = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=a.item, value="no", idempotency_key="u1")
    following = assignment_next(rater=rater, project=project)
    again = annotation_undo(rater=rater, project=project)
    assert again.item_id == a.item_id and again.undone_value == "no"
    assert not Annotation.objects.exists()
    assert Assignment.objects.get(pk=following.pk).status == "expired"
    assert (Item.objects.get(pk=a.item_id).n_done, Item.objects.get(pk=a.item_id).n_open) == (0, 1)
    annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="u2")
    counters_fold(project_id=project.pk)
    project.refresh_from_db()
    assert project.n_annotations == 1
    assert Annotation.objects.get().value == "yes"


def test_undo_is_refused_after_the_window(settings, project, rater, items):
    a = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=a.item, value="no", idempotency_key="w1")
    Annotation.objects.update(created_at=timezone.now() - timedelta(seconds=3600))
    with pytest.raises(SubmitRefused, match="no longer"):
        annotation_undo(rater=rater, project=project)
    assert Annotation.objects.count() == 1


def test_project_counters_survive_folding_twice(project, items):
    raters = make_raters(project, 2)
    for r in raters:
        while (a := assignment_next(rater=r, project=project)) is not None:
            annotation_submit(rater=r, item=a.item, value="no", idempotency_key=str(a.item_id))
    assert project_counts(project)["n_complete"] == len(items)
    counters_fold(project_id=project.pk)
    counters_fold(project_id=project.pk)
    project.refresh_from_db()
    assert (project.n_annotations, project.n_complete) == (2 * len(items), len(items))


def test_a_pairwise_answer_is_stored_about_the_items_own_sides(db):
    project = ProjectFactory(
        kind=schemas.PAIRWISE,
        schema=schemas.schema_validate(schemas.PAIRWISE, {"strength": "labels", "flags": ["x"]}),
    )
    item = ItemFactory(project=project, data={"prompt": "p", "response_a": "a", "response_b": "b"})
    (rater,) = make_raters(project, 1)
    lease = assignment_next(rater=rater, project=project)
    Assignment.objects.filter(pk=lease.pk).update(presentation={"swapped": True})
    shown = {"choice": "A", "strength": 3, "flags": {"A": ["x"], "B": []}}
    annotation_submit(rater=rater, item=item, value=shown, idempotency_key="s")
    stored = Annotation.objects.get()
    assert stored.value["choice"] == "B" and stored.value["flags"] == {"A": [], "B": ["x"]}
    assert stored.presentation == {"swapped": True}


def test_a_skip_then_the_api_skip_release_the_lease(client, project, rater, items):
    a = assignment_next(rater=rater, project=project)
    assignment_skip(rater=rater, item=a.item, reason="typo")
    client.force_login(rater)
    first = client.post(reverse("api:next-item", args=[project.pk])).json()["item"]
    body = client.post(
        reverse("api:item-skip", args=[project.pk]),
        {"item_id": first["item_id"], "reason": "off-topic"},
        content_type="application/json",
    ).json()
    assert body["item"]["item_id"] not in (a.item.public_id, first["item_id"])
    skipped = Assignment.objects.get(item_id=decode_item_id(first["item_id"]))
    assert skipped.skip_reason == "off-topic"


def test_the_api_undo_returns_the_item_and_the_answer_taken_back(client, project, rater, items):
    client.force_login(rater)
    first = client.post(reverse("api:next-item", args=[project.pk])).json()["item"]
    client.post(
        reverse("api:annotation-submit", args=[project.pk]),
        {"item_id": first["item_id"], "value": "yes", "idempotency_key": "k"},
        content_type="application/json",
    )
    body = client.post(reverse("api:annotation-undo", args=[project.pk])).json()
    assert body["item"]["item_id"] == first["item_id"] and body["value"] == "yes"
    again = client.post(reverse("api:annotation-undo", args=[project.pk]))
    assert again.status_code == 409


def test_a_rater_never_reaches_another_raters_items_or_other_projects(
    client, project, rater, outsider, items
):
    other = make_raters(project, 1, prefix="o")[0]
    theirs = assignment_next(rater=other, project=project)
    annotation_submit(rater=other, item=theirs.item, value="no", idempotency_key="o1")
    client.force_login(rater)
    # An item leased to someone else cannot be submitted, skipped or read by this rater.
    for name in ("api:annotation-submit", "api:item-skip"):
        response = client.post(
            reverse(name, args=[project.pk]),
            {"item_id": theirs.item_id, "value": "yes"},
            content_type="application/json",
        )
        assert response.status_code == 404
    # The next item carries no one's answers.
    body = client.post(reverse("api:next-item", args=[project.pk])).json()
    assert "annotations" not in str(body) and "no" not in body["item"]["data"].values()
    # A project they are not in does not exist for them.
    client.force_login(outsider)
    assert client.post(reverse("api:next-item", args=[project.pk])).status_code == 404
    assert client.get(reverse("annotation:label", args=[project.pk])).status_code == 404
    assert client.get(reverse("tasks:project-export", args=[project.pk])).status_code == 404


def test_undoing_the_answer_that_completed_an_item_takes_back_its_completion(project, items):
    first, second = make_raters(project, 2, prefix="c")
    a = assignment_next(rater=first, project=project)
    annotation_submit(rater=first, item=a.item, value="no", idempotency_key="c1")
    b = assignment_next(rater=second, project=project)
    assert b.item_id == a.item_id  # closest to completion first
    annotation_submit(rater=second, item=b.item, value="no", idempotency_key="c2")
    project.refresh_from_db()
    assert project_counts(project)["n_complete"] == 1
    annotation_undo(rater=second, project=project)
    counters_fold(project_id=project.pk)
    project.refresh_from_db()
    assert (project.n_annotations, project.n_complete) == (1, 0)
    annotation_submit(rater=second, item=b.item, value="yes", idempotency_key="c3")
    counters_fold(project_id=project.pk)
    project.refresh_from_db()
    assert (project.n_annotations, project.n_complete) == (2, 1)
