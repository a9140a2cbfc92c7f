"""Items a reviewer sends back get more labels through the normal queue, then close."""

from annotation.services import annotation_submit, assignment_next
from quality.dashboard_services import relabel_request
from quality.models import RelabelRequest
from tests.conftest import make_raters


def label_everything(raters, project):
    for r in raters:
        while (a := assignment_next(rater=r, project=project)) is not None:
            annotation_submit(rater=r, item=a.item, value="yes", idempotency_key=str(a.item_id))


def test_a_sent_back_item_collects_its_extra_labels_beyond_overlap_and_then_closes(
    project, manager, items
):
    first = make_raters(project, project.overlap, prefix="first")
    label_everything(first, project)
    disputed = items[0]
    disputed.refresh_from_db()
    assert disputed.n_done == project.overlap
    relabel_request(item=disputed, user=manager, extra_labels=2, reason="split vote")
    later = make_raters(project, 3, prefix="later")
    served = [assignment_next(rater=r, project=project) for r in later]
    assert [a.item_id if a else None for a in served][:2] == [disputed.pk, disputed.pk]
    assert served[2] is None
    for r, a in zip(later[:2], served[:2], strict=True):
        annotation_submit(rater=r, item=a.item, value="no", idempotency_key="x")
    disputed.refresh_from_db()
    assert disputed.n_done == project.overlap + 2
    assert assignment_next(rater=later[2], project=project) is None
    assert RelabelRequest.objects.get().resolved_at is not None


def test_an_adjudicated_label_overrides_the_aggregate_and_is_marked_in_exports(
    project, manager, items
):
    import csv
    import io
    import json

    from quality.dashboard_services import adjudication_set
    from tasks.export import ExportOptions, export_stream

    label_everything(make_raters(project, project.overlap), project)
    adjudication_set(item=items[1], label="no", user=manager, note="expert call")
    rows = [
        json.loads(line) for line in "".join(export_stream(project, ExportOptions())).splitlines()
    ]
    decided = {r["item_id"]: r for r in rows}
    assert decided[items[1].pk]["label"] == "no" and decided[items[1].pk]["adjudicated"] is True
    assert decided[items[0].pk]["adjudicated"] is False
    table = list(
        csv.DictReader(
            io.StringIO("".join(export_stream(project, ExportOptions(format="items_csv"))))
        )
    )
    assert {r["item_id"]: r["adjudicated"] for r in table}[str(items[1].pk)] == "true"


def test_a_sent_back_item_is_never_served_again_to_a_rater_who_labelled_it(project, manager, items):
    # So aggregation never sees one rater twice on an item from the platform itself (the
    # duplicate rule of aggregation.numeric._votes matters only for files).
    import numpy as np

    from aggregation.loading import annotation_arrays

    first = make_raters(project, project.overlap, prefix="first")
    label_everything(first, project)
    items[0].refresh_from_db()  # the request counts from the item's labels so far
    relabel_request(item=items[0], user=manager, extra_labels=2, reason="split vote")
    assert [assignment_next(rater=r, project=project) for r in first] == [None, None]
    label_everything(make_raters(project, 2, prefix="later"), project)
    arrays = annotation_arrays(project)
    pairs = arrays.item_idx * arrays.rater_ids.size + arrays.rater_idx
    assert arrays.n == len(items) * project.overlap + 2
    assert np.unique(pairs).size == pairs.size
