"""Many raters racing for the last slots: the queue's invariants hold on real PostgreSQL."""

import threading

import pytest
from django.db import connection
from django.db.models import Count

from annotation.models import Annotation, Assignment
from annotation.services import annotation_submit, assignment_next
from tasks.models import Item
from tests.conftest import make_raters
from tests.factories import ItemFactory, ProjectFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _label_until_empty(rater, project, errors):
    try:
        while (a := assignment_next(rater=rater, project=project)) is not None:
            annotation_submit(
                rater=rater, item=a.item, value="yes", idempotency_key=f"{rater.pk}:{a.item_id}"
            )
    except Exception as exc:  # collected and asserted on in the main thread
        errors.append(exc)
    finally:
        connection.close()


def test_32_raters_racing_for_the_last_slots_never_break_an_invariant():
    project = ProjectFactory(overlap=3)
    ItemFactory.create_batch(4, project=project)
    raters = make_raters(project, 32)
    errors: list[Exception] = []
    barrier = threading.Barrier(len(raters))

    def run(rater):
        barrier.wait()
        _label_until_empty(rater, project, errors)

    threads = [threading.Thread(target=run, args=(r,)) for r in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    per_item = dict(Annotation.objects.values_list("item_id").annotate(n=Count("id")))
    assert len(per_item) == 4 and set(per_item.values()) == {3}, per_item
    pairs = Annotation.objects.values("item_id", "rater_id").annotate(n=Count("id"))
    assert all(p["n"] == 1 for p in pairs)
    for item in Item.objects.filter(project=project):
        assert (item.n_done, item.n_open) == (per_item[item.pk], 0)
    assert not Assignment.objects.filter(status="active").exists()
    project.refresh_from_db()
    assert (project.n_annotations, project.n_complete) == (12, 4)


def test_one_rater_in_two_tabs_gets_a_single_lease():
    project = ProjectFactory(overlap=3)
    ItemFactory.create_batch(10, project=project)
    (rater,) = make_raters(project, 1)
    leases, barrier = [], threading.Barrier(8)

    def grab():
        barrier.wait()
        try:
            leases.append(assignment_next(rater=rater, project=project).item_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(leases) == 8 and len(set(leases)) == 1
    assert Assignment.objects.filter(rater=rater, status="active").count() == 1
