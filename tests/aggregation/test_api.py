from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aggregation.models import AggregationRun
from aggregation.services import (
    aggregation_annotations_count,
    aggregation_note_new_annotations,
    aggregation_settings_update,
)
from tests.aggregation.helpers import annotate_table
from tests.conftest import make_raters
from tests.factories import ItemFactory


@pytest.fixture
def labelled(project):
    raters = make_raters(project, 3)
    items = ItemFactory.create_batch(3, project=project)
    annotate_table(items, raters, [["yes", "yes", "no"]] * 3)
    return items


def runs_url(project):
    return reverse("api:aggregation-run-list", args=[project.pk])


def test_a_manager_starts_a_run_and_reads_its_progress(
    client, project, manager, labelled, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            runs_url(project), {"method": "dawid_skene"}, content_type="application/json"
        )
    assert response.status_code == 202
    run_id = response.json()["id"]
    detail = client.get(reverse("api:aggregation-run-detail", args=[project.pk, run_id])).json()
    assert detail["status"] == "done" and detail["phase"] == "done" and detail["percent"] == 100
    assert detail["stats"]["n_items"] == 3 and detail["is_current"]
    assert client.get(runs_url(project)).json()["results"][0]["id"] == run_id
    scores = client.get(reverse("api:rater-score-list", args=[project.pk])).json()
    assert {s["rater"] for s in scores} == {"r0", "r1", "r2"}


def test_annotators_and_outsiders_get_404(client, project, manager, rater, outsider, labelled):
    run = AggregationRun.objects.create(project=project, method="majority")
    for user in (rater, outsider):
        client.force_login(user)
        assert client.get(runs_url(project)).status_code == 404
        assert (
            client.post(runs_url(project), {}, content_type="application/json").status_code == 404
        )
        detail = reverse("api:aggregation-run-detail", args=[project.pk, run.pk])
        assert client.get(detail).status_code == 404
        assert client.get(reverse("api:rater-score-list", args=[project.pk])).status_code == 404
    assert AggregationRun.objects.count() == 1


def test_a_run_of_another_project_is_404_even_for_a_manager(client, project, manager):
    other = AggregationRun.objects.create(project=ItemFactory().project, method="majority")
    client.force_login(manager)
    url = reverse("api:aggregation-run-detail", args=[project.pk, other.pk])
    assert client.get(url).status_code == 404


def test_a_bad_method_is_refused_naming_the_field(client, project, manager):
    client.force_login(manager)
    response = client.post(
        runs_url(project),
        {"method": "glad", "parameters": {"max_iter": -1.5}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "parameters.max_iter" in response.json()
    assert not AggregationRun.objects.exists()


def test_new_annotations_queue_one_run_per_threshold_and_never_two_queued(
    project, labelled, django_capture_on_commit_callbacks
):
    aggregation_settings_update(project=project, run_every_annotations=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert not aggregation_annotations_count(project.pk)
        assert not aggregation_annotations_count(project.pk)
        assert not AggregationRun.objects.exists()
        assert aggregation_annotations_count(project.pk)
        assert AggregationRun.objects.filter(status="queued", trigger="annotations").count() == 1
        for _ in range(10):
            aggregation_annotations_count(project.pk)
    assert AggregationRun.objects.count() == 1
    assert len(callbacks) == 1  # one job enqueued


def test_a_threshold_reached_again_within_the_gap_waits_and_fires_after_it(
    project, labelled, settings, django_capture_on_commit_callbacks
):
    settings.VOX_AGGREGATION_MIN_GAP_S = 60
    aggregation_settings_update(project=project, run_every_annotations=2)
    with django_capture_on_commit_callbacks(execute=False):
        assert aggregation_annotations_count(project.pk, n=2)
        first = AggregationRun.objects.get()
        AggregationRun.objects.filter(pk=first.pk).update(status="done")
        # A second threshold a moment later: no run, and the count is kept, not lost.
        assert not aggregation_annotations_count(project.pk, n=5)
        assert AggregationRun.objects.count() == 1
        project.aggregation_settings.refresh_from_db()
        assert project.aggregation_settings.pending_annotations == 5
        AggregationRun.objects.filter(pk=first.pk).update(
            created_at=timezone.now() - timedelta(seconds=61)
        )
        assert aggregation_annotations_count(project.pk)
    assert AggregationRun.objects.filter(trigger="annotations").count() == 2


def test_the_submit_hook_counts_only_after_the_submit_commits(
    project, labelled, django_capture_on_commit_callbacks
):
    aggregation_settings_update(project=project, run_every_annotations=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        aggregation_note_new_annotations(project.pk)
        aggregation_note_new_annotations(project.pk)
    assert project.aggregation_settings.pending_annotations == 0
    assert len(callbacks) == 2
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    run = AggregationRun.objects.get()
    assert run.trigger == "annotations" and run.status == "done"


def test_the_counter_is_kept_without_a_settings_row_and_zero_turns_it_off(
    project, labelled, settings, django_capture_on_commit_callbacks
):
    settings.VOX_AGGREGATION_FIRST_RUN = 0
    aggregation_annotations_count(project.pk, n=499)
    assert project.aggregation_settings.pending_annotations == 499
    assert not AggregationRun.objects.exists()
    aggregation_settings_update(project=project, run_every_annotations=0)
    with django_capture_on_commit_callbacks(execute=False):
        aggregation_annotations_count(project.pk, n=10_000)
    assert not AggregationRun.objects.exists()


def test_a_fresh_project_runs_early_once_then_waits_for_the_threshold(
    project, labelled, settings, django_capture_on_commit_callbacks
):
    settings.VOX_AGGREGATION_FIRST_RUN, settings.VOX_AGGREGATION_MIN_GAP_S = 20, 0
    with django_capture_on_commit_callbacks(execute=True):
        assert not aggregation_annotations_count(project.pk, n=19)
        assert aggregation_annotations_count(project.pk)  # the 20th label: the first run
        assert not aggregation_annotations_count(project.pk, n=20)  # then run_every (500)
    (run,) = AggregationRun.objects.all()
    assert run.trigger == "annotations" and run.status == "done"


def test_the_schedule_queues_only_projects_with_new_annotations(
    project, labelled, django_capture_on_commit_callbacks
):
    from aggregation.services import aggregation_schedule_due

    assert aggregation_schedule_due() == 0
    aggregation_annotations_count(project.pk, n=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert aggregation_schedule_due() == 1
    run = AggregationRun.objects.get()
    assert run.trigger == "schedule" and run.status == "done"
    assert aggregation_schedule_due() == 0


def test_a_manager_marks_a_project_subjective_and_an_annotator_cannot(db):
    from rest_framework.test import APIClient

    from raters.models import Membership
    from tests.factories import MembershipFactory, ProjectFactory, UserFactory

    project = ProjectFactory()
    boss, worker = UserFactory(username="boss"), UserFactory(username="worker")
    MembershipFactory(project=project, user=boss, role=Membership.Role.MANAGER)
    MembershipFactory(project=project, user=worker, role=Membership.Role.ANNOTATOR)
    client = APIClient()
    client.force_authenticate(boss)
    url = f"/api/projects/{project.pk}/aggregation-settings/"
    reply = client.patch(url, {"subjective": True, "method": "dawid_skene"}, format="json")
    assert reply.status_code == 200 and reply.data["subjective"] is True
    bad = client.patch(url, {"method": "bradley_terry"}, format="json")
    assert bad.status_code == 400
    client.force_authenticate(worker)
    assert client.get(url).status_code == 404


def test_a_manager_reads_a_runs_label_per_item_in_item_order(
    client, project, manager, labelled, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = client.post(
            runs_url(project), {"method": "majority"}, content_type="application/json"
        ).json()["id"]
    url = reverse("api:aggregation-result-list", args=[project.pk, run_id])
    page = client.get(url, {"limit": 2}).json()
    assert page["count"] == 3 and page["next"]
    rows = page["results"] + client.get(page["next"]).json()["results"]
    assert [r["item_id"] for r in rows] == sorted(item.pk for item in labelled)
    assert [r["external_id"] for r in rows] == [
        item.external_id for item in sorted(labelled, key=lambda i: i.pk)
    ]
    assert {r["label"] for r in rows} == {"yes"}
    assert all(r["n_votes"] == 3 and 0 < r["confidence"] <= 1 for r in rows)


def test_results_of_a_run_are_404_to_annotators(client, project, manager, rater, labelled):
    run = AggregationRun.objects.create(project=project, method="majority")
    client.force_login(rater)
    url = reverse("api:aggregation-result-list", args=[project.pk, run.pk])
    assert client.get(url).status_code == 404


def test_the_openapi_document_describes_the_paginated_lists_as_pages(client, manager):
    client.force_login(manager)
    doc = client.get("/api/schema/", {"format": "json"}).json()
    for path, component in [
        ("/api/projects/{project_id}/aggregation-runs/", "PaginatedAggregationRunList"),
        (
            "/api/projects/{project_id}/aggregation-runs/{run_id}/results/",
            "PaginatedItemResultList",
        ),
        ("/api/projects/{project_id}/items/", "PaginatedItemList"),
    ]:
        get = doc["paths"][path]["get"]
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{component}"}
        assert {"limit", "offset"} <= {p["name"] for p in get["parameters"]}
    assert set(doc["components"]["schemas"]["PaginatedItemResultList"]["required"]) == {
        "count",
        "results",
    }
