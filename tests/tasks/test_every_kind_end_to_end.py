"""Every label kind end to end: schema, import, one annotation through the API, export."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotation.selectors import project_counts
from raters.models import Membership
from tasks import kinds
from tasks import schema as schemas
from tasks.models import Project
from tests.factories import MembershipFactory, UserFactory

KINDS = {
    "single_choice": (
        {"choices": [{"value": "pos", "hotkey": "p", "description": "Upbeat"}, "neg"]},
        {"text": "Great film"},
        "pos",
        "pos",
    ),
    "multi_choice": (
        {"choices": ["spam", "offensive", "fine"], "max_selected": 2},
        {"text": "Buy now!!!"},
        ["offensive", "spam"],
        ["spam", "offensive"],
    ),
    "likert": (
        {
            "scale": 7,
            "low_label": "Awful",
            "high_label": "Superb",
            "dimensions": ["helpfulness", "harmlessness", {"name": "honesty", "label": "Honest"}],
        },
        {"text": "An answer"},
        {"helpfulness": 6, "harmlessness": "7", "honesty": 5},
        {"helpfulness": 6, "harmlessness": 7, "honesty": 5},
    ),
    "pairwise": (
        {
            "allow_tie": True,
            "allow_both_bad": True,
            "strength": "scale",
            "flags": ["acceptable", "factual_error"],
            "rationale": "optional",
        },
        {"prompt": [{"role": "user", "content": "Hi"}], "response_a": "Hello", "response_b": "Yo"},
        {"choice": "B", "strength": 3, "flags": {"A": ["factual_error"]}, "rationale": " clearer "},
        {
            "choice": "B",
            "strength": 3,
            "flags": {"A": ["factual_error"], "B": []},
            "rationale": "clearer",
        },
    ),
    "ranking": (
        {"allow_ties": True, "max_responses": 4},
        {"prompt": "Rank these", "responses": ["one", {"text": "two"}, "three"]},
        {"ranking": [[2], [1, 0]]},
        {"ranking": [[2], [0, 1]]},
    ),
    "span_tagging": (
        {"labels": ["PER", {"value": "ORG", "label": "Organisation", "hotkey": "o"}]},
        {"text": "Ada Lovelace wrote to the Royal Society.", "context": "A letter"},
        [{"label": "ORG", "text": "Royal Society"}, {"start": "0", "end": 12, "label": "PER"}],
        {
            "spans": [
                {"start": 0, "end": 12, "label": "PER", "text": "Ada Lovelace"},
                {"start": 26, "end": 39, "label": "ORG", "text": "Royal Society"},
            ]
        },
    ),
    "demonstration": (
        {"min_length": 3, "show_draft": True},
        {"prompt": "Write a haiku", "draft": "old pond"},
        {"text": "  an old silent pond  "},
        {"text": "an old silent pond"},
    ),
    "rubric": (
        {
            "target": "turns",
            "scale": 5,
            "criteria": ["helpfulness", {"name": "honesty", "rationale": "required"}],
        },
        {
            "conversation": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Bye"},
                {"role": "assistant", "content": "Later"},
            ]
        },
        {
            "ratings": [
                {"scores": {"helpfulness": "4", "honesty": 5}, "rationales": {"honesty": " fine "}},
                {"scores": {"helpfulness": 2, "honesty": 3}, "rationales": {"honesty": "curt"}},
            ]
        },
        {
            "ratings": [
                {"scores": {"helpfulness": 4, "honesty": 5}, "rationales": {"honesty": "fine"}},
                {"scores": {"helpfulness": 2, "honesty": 3}, "rationales": {"honesty": "curt"}},
            ]
        },
    ),
}


@pytest.fixture
def people(db):
    boss = UserFactory(username="boss", is_superuser=False)
    from django.contrib.auth.models import Permission

    boss.user_permissions.add(Permission.objects.get(codename="add_project"))
    worker = UserFactory(username="worker")
    return boss, worker


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_goes_from_schema_to_export(people, kind, django_capture_on_commit_callbacks):
    schema, data, answer, canonical = KINDS[kind]
    boss, worker = people
    manager_api = api(boss)

    # Schema, through the API.
    response = manager_api.post(
        "/api/projects/",
        {"name": kind, "kind": kind, "schema": schema, "overlap": 1},
        format="json",
    )
    assert response.status_code == 201, response.data
    project_id = response.data["id"]
    MembershipFactory(project_id=project_id, user=worker, role=Membership.Role.ANNOTATOR)

    # Import, through the API, with the preview step.
    body = json.dumps({**data, "external_id": f"{kind}-1"}).encode() + b"\n"
    upload = SimpleUploadedFile("items.jsonl", body)
    response = manager_api.post(
        f"/api/projects/{project_id}/imports/",
        {"file": upload, "preview": "true"},
        format="multipart",
    )
    assert response.status_code == 202 and response.data["status"] == "preview"
    job_id = response.data["id"]
    preview = manager_api.get(f"/api/imports/{job_id}/preview/").data
    assert preview["errors"] == [] and preview["rows"][0]["line"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(f"/api/imports/{job_id}/commit/")
    assert response.status_code == 202
    job = manager_api.get(f"/api/imports/{job_id}/").data
    assert (job["status"], job["n_created"]) == ("done", 1), job["errors"]

    # One annotation, through the API.
    worker_api = api(worker)
    leased = worker_api.post(f"/api/projects/{project_id}/next/").data["item"]
    if leased["presentation"].get("swapped"):
        # The rater saw the sides swapped and answers about what they saw; Vox stores the
        # answer about the item's own sides.
        assert leased["data"] == {
            **data,
            "response_a": data["response_b"],
            "response_b": data["response_a"],
        }
        canonical = schemas.pairwise_unswap(canonical, True)
    else:
        assert leased["data"] == data
    response = worker_api.post(
        f"/api/projects/{project_id}/annotations/",
        {"item_id": leased["item_id"], "value": answer, "next": False},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["annotation"]["value"] == canonical

    # Export, JSONL and CSV.
    lines = b"".join(
        manager_api.get(f"/api/projects/{project_id}/export/?type=items_jsonl").streaming_content
    ).decode()
    row = json.loads(lines)
    assert row["data"] == data and row["external_id"] == f"{kind}-1"
    assert row["n_annotations"] == 1 and row["is_gold"] is False
    # Before any aggregation run the label is the raters' vote, and says so.
    if kinds.get(kind).aggregation_methods:
        assert row["label_source"] == "vote" and row["label"] is not None
    else:
        assert (row["label"], row["label_source"]) == (None, None)
    assert row["annotations"][0]["value"] == canonical
    assert row["annotations"][0]["rater"] == "worker"
    if kind == "single_choice":
        assert row["votes"] == {"pos": 1}
    if kind == "likert":
        assert row["votes"]["harmlessness"] == {"7": 1}
    csv_text = b"".join(
        manager_api.get(f"/api/projects/{project_id}/export/?type=items_csv").streaming_content
    ).decode()
    (csv_row,) = list(csv.DictReader(io.StringIO(csv_text)))
    assert csv_row["external_id"] == f"{kind}-1" and csv_row["n_annotations"] == "1"
    assert json.loads(csv_row["annotations"])[0]["value"] == canonical
    assert project_counts(Project.objects.get(pk=project_id))["n_annotations"] == 1


def test_an_invalid_schema_through_the_api_names_the_field(people):
    boss, _ = people
    response = api(boss).post(
        "/api/projects/",
        {
            "name": "x",
            "kind": "single_choice",
            "schema": {"choices": ["a", {"value": "b", "hotkey": "ab"}]},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.data == {"choices[1].hotkey": ["must be a single character"]}
