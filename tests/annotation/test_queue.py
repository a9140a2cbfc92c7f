from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.models import Annotation, Assignment
from annotation.services import (
    SubmitRefused,
    annotation_submit,
    assignment_next,
    assignment_skip,
    counters_fold,
    leases_reclaim,
)
from tasks.models import Item
from tests.conftest import make_raters
from tests.factories import ItemFactory


def label(rater, project, value="yes", key=None):
    assignment = assignment_next(rater=rater, project=project)
    assert assignment is not None
    annotation_submit(
        rater=rater,
        item=assignment.item,
        value=value,
        idempotency_key=key or f"{rater.pk}-{assignment.item_id}",
    )
    return assignment.item


def test_it_never_serves_an_item_twice_to_one_rater(project, rater, items):
    seen = [label(rater, project).pk for _ in items]
    assert len(set(seen)) == len(items)
    assert assignment_next(rater=rater, project=project) is None


def test_no_item_gets_more_labels_than_its_overlap(project, items):
    raters = make_raters(project, 5)
    for r in raters:
        while (a := assignment_next(rater=r, project=project)) is not None:
            annotation_submit(
                rater=r, item=a.item, value="no", idempotency_key=f"{r.pk}-{a.item_id}"
            )
    for item in Item.objects.filter(project=project):
        assert item.annotations.count() == project.overlap == item.n_done
    counters_fold(project_id=project.pk)
    project.refresh_from_db()
    assert project.n_complete == len(items)
    assert project.n_annotations == len(items) * project.overlap


def test_items_closest_to_completion_are_served_first(project, items):
    first, second = make_raters(project, 2)
    started = label(first, project)
    assert assignment_next(rater=second, project=project).item == started


def test_higher_priority_items_come_first(project, items):
    urgent = ItemFactory(project=project, priority=10)
    rater = make_raters(project, 1)[0]
    assert assignment_next(rater=rater, project=project).item == urgent


def test_reloading_gives_back_the_same_lease(project, rater, items):
    first = assignment_next(rater=rater, project=project)
    again = assignment_next(rater=rater, project=project)
    assert first.pk == again.pk
    assert Assignment.objects.filter(rater=rater, status="active").count() == 1


def test_a_skipped_item_is_never_served_to_that_rater_again(project, rater, items):
    skipped = assignment_next(rater=rater, project=project).item
    assignment_skip(rater=rater, item=skipped, reason="unreadable")
    served = [label(rater, project).pk for _ in range(len(items) - 1)]
    assert skipped.pk not in served
    assert assignment_next(rater=rater, project=project) is None
    assert Assignment.objects.get(rater=rater, item=skipped).skip_reason == "unreadable"


def test_an_abandoned_lease_returns_to_the_pool_after_it_expires(project, items):
    project.overlap = 1
    project.save()
    slow, fast = make_raters(project, 2)
    held = assignment_next(rater=slow, project=project)
    Assignment.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    served = {label(fast, project).pk for _ in items}
    assert held.item_id in served


def test_a_replayed_submit_returns_the_first_result(project, rater, items):
    a = assignment_next(rater=rater, project=project)
    first = annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="k1")
    replay = annotation_submit(rater=rater, item=a.item, value="no", idempotency_key="k1")
    assert replay.pk == first.pk and replay.value == "yes"
    assert Annotation.objects.filter(rater=rater).count() == 1
    assert Item.objects.get(pk=a.item_id).n_done == 1


def test_a_submit_for_an_item_not_leased_to_the_rater_is_not_found(project, rater, items):
    from django.http import Http404

    with pytest.raises(Http404):
        annotation_submit(rater=rater, item=items[0], value="yes", idempotency_key="x")
    assert not Annotation.objects.exists()


def test_a_late_submit_is_accepted_while_its_lease_is_not_reclaimed(project, rater, items):
    a = assignment_next(rater=rater, project=project)
    Assignment.objects.filter(pk=a.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="late")
    item = Item.objects.get(pk=a.item_id)
    assert (item.n_done, item.n_open) == (1, 0)


def test_a_late_submit_is_refused_once_its_lease_was_reclaimed(project, rater, items):
    a = assignment_next(rater=rater, project=project)
    Assignment.objects.filter(pk=a.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    leases_reclaim(project=project)
    with pytest.raises(SubmitRefused, match="expired"):
        annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="late")
    item = Item.objects.get(pk=a.item_id)
    assert (item.n_done, item.n_open) == (0, 0)


def test_a_late_submit_is_refused_once_others_took_the_slots(project, rater, items):
    a = assignment_next(rater=rater, project=project)
    Assignment.objects.filter(pk=a.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    for other in make_raters(project, project.overlap):
        assert label(other, project) == a.item
    with pytest.raises(SubmitRefused, match="expired"):
        annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key="late")
    assert Item.objects.get(pk=a.item_id).n_done == project.overlap


def test_an_invalid_value_is_refused_and_nothing_is_stored(project, rater, items):
    from tasks.schema import SchemaError

    a = assignment_next(rater=rater, project=project)
    with pytest.raises(SchemaError, match="must be one of"):
        annotation_submit(rater=rater, item=a.item, value="maybe", idempotency_key="bad")
    assert not Annotation.objects.exists()
