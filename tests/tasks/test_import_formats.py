"""Imports of every format: JSON arrays, CSV with structured cells, pre-existing labels,
the field-mapping preview, and every malformed file named by line and field."""

import json

import pytest
from django.contrib.auth import get_user_model

from annotation.models import Annotation
from tasks import schema as schemas
from tasks.models import Item, Project
from tasks.services import import_commit, import_create, import_preview
from tests.tasks.conftest import upload

PAIRWISE = {"allow_tie": True, "allow_both_bad": False, "flags": ["factual_error"]}


def jsonl(*rows) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def pair(i, **extra):
    return {"prompt": f"p{i}", "response_a": f"a{i}", "response_b": f"b{i}", **extra}


def assert_rejected(job, line, field, message):
    assert job.status == "failed", job.errors
    first = job.errors[0]
    assert (first["line"], first["field"]) == (line, field), first
    assert message in first["message"], first
    assert not Item.objects.exists()
    assert not Annotation.objects.exists()


def test_a_json_array_streams_into_items(make_project, run):
    project = make_project("pairwise", PAIRWISE)
    body = json.dumps([pair(i, external_id=f"x{i}") for i in range(3)], indent=2).encode()
    job = run(project, "pairs.json", body)
    assert (job.status, job.n_created) == ("done", 3)
    assert Item.objects.get(external_id="x2").data == pair(2)


def test_a_json_array_longer_than_one_read_chunk_keeps_every_item(make_project, run, monkeypatch):
    from tasks.importer import _JsonArray

    monkeypatch.setattr(_JsonArray, "CHUNK", 7)  # cuts every item, number and string
    project = make_project("pairwise", PAIRWISE)
    body = json.dumps([pair(i, priority=10 + i) for i in range(40)]).encode()
    job = run(project, "pairs.json", body)
    assert (job.status, job.n_created) == ("done", 40), job.errors
    assert sorted(Item.objects.values_list("priority", flat=True)) == list(range(10, 50))


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (b'{"prompt": "p"}', 1, "(file)", "must be a JSON array"),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": "b"},\n{"prompt": }\n]',
            3,
            "(record)",
            "not valid JSON",
        ),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": "b"},\n',
            3,
            "(file)",
            "ends before the array is closed",
        ),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": "b"},\n]',
            3,
            "(file)",
            "comma before ]",
        ),
        (
            b'[{"prompt": "p", "response_a": "a", "response_b": "b"}]\n\n[]',
            3,
            "(file)",
            "more after the closing ]",
        ),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": "b"}\n{"prompt": "q"}]',
            3,
            "(file)",
            "expected , or ]",
        ),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": "b"},\n{"prompt": "\xff"}]',
            3,
            "(line)",
            "not valid UTF-8",
        ),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": "b"},\n\n"text"]',
            4,
            "(record)",
            "must be a JSON object",
        ),
        (
            b'[\n{"prompt": "p", "response_a": "a", "response_b": 7}]',
            2,
            "response_b",
            "must be a string",
        ),
    ],
)
def test_a_malformed_json_array_is_named_by_line_and_saves_nothing(
    make_project, run, body, line, field, message
):
    assert_rejected(run(make_project("pairwise", PAIRWISE), "bad.json", body), line, field, message)


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (jsonl(pair(1), {"prompt": "p", "response_a": "a"}), 2, "response_b", "is required"),
        (jsonl(pair(1), pair(2, response_a=["not", "text"])), 2, "response_a", "must be a string"),
        (
            jsonl(pair(1), pair(2, prompt=[{"role": "robot", "content": "x"}])),
            2,
            "prompt[0].role",
            "must be one of",
        ),
        (jsonl(pair(1), pair(2, priority=1.5)), 2, "priority", "must be an integer"),
        (jsonl(pair(1), pair(2, meta="nope")), 2, "meta", "must be an object"),
        (jsonl(pair(1), pair(2, response_a="a\u0000b")), 2, "response_a", "NUL"),
        (jsonl(pair(1)) + b'{"prompt": "p"\n', 2, "(line)", "not valid JSON"),
        (jsonl(pair(1)) + b'{"prompt": "\xc3\x28"}\n', 2, "(line)", "not valid UTF-8"),
    ],
)
def test_a_malformed_jsonl_line_is_named_and_saves_nothing(
    make_project, run, body, line, field, message
):
    assert_rejected(
        run(make_project("pairwise", PAIRWISE), "bad.jsonl", body), line, field, message
    )


def test_a_ranking_item_with_too_many_responses_for_the_schema_is_named(make_project, run):
    project = make_project("ranking", {"max_responses": 4})
    body = jsonl(
        {"prompt": "p", "responses": ["a", "b", "c"]},
        {"prompt": "p", "responses": ["a", "b", "c", "d", "e"]},
    )
    assert_rejected(run(project, "rank.jsonl", body), 2, "responses", "at most 4")


def test_a_line_over_the_item_size_limit_is_named(make_project, run, settings):
    settings.VOX_IMPORT_MAX_ITEM_BYTES = 200
    body = jsonl(pair(1), pair(2, response_a="x" * 300))
    job = run(make_project("pairwise", PAIRWISE), "big.jsonl", body)
    assert_rejected(job, 2, "(line)", "VOX_IMPORT_MAX_ITEM_BYTES")


def test_a_json_array_item_over_the_size_limit_is_named(make_project, run, settings):
    settings.VOX_IMPORT_MAX_ITEM_BYTES = 200
    body = json.dumps([pair(1), pair(2, response_a="x" * 300)], indent=1).encode()
    job = run(make_project("pairwise", PAIRWISE), "big.json", body)
    assert job.errors[0]["field"] == "(record)" and job.errors[0]["line"] == 7
    assert "VOX_IMPORT_MAX_ITEM_BYTES" in job.errors[0]["message"]
    assert not Item.objects.exists()


def test_a_file_with_more_items_than_the_limit_is_refused_with_the_setting_named(
    make_project, run, settings
):
    settings.VOX_IMPORT_MAX_ITEMS = 2
    job = run(make_project("pairwise", PAIRWISE), "many.jsonl", jsonl(*(pair(i) for i in range(3))))
    assert_rejected(job, 3, "(file)", "VOX_IMPORT_MAX_ITEMS")


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (b"prompt,response_a,response_b\np,a,b\np,a,b,extra\n", 3, "(line)", "more cells"),
        (b"prompt,response_a,response_b\np,a,b\np,\xff,b\n", 3, "(line)", "not valid UTF-8"),
        (b"prompt,response_a\np,a\n", 2, "response_b", "is required"),
        (
            b"prompt,response_a,response_b,priority\np,a,b,1\np,a,b,high\n",
            3,
            "priority",
            "must be an integer",
        ),
        (
            b'prompt,response_a,response_b,labels\np,a,b,"[{""rater"": 1"\n',
            2,
            "labels",
            "not valid JSON",
        ),
    ],
)
def test_a_malformed_csv_row_is_named_and_saves_nothing(
    make_project, run, body, line, field, message
):
    assert_rejected(run(make_project("pairwise", PAIRWISE), "bad.csv", body), line, field, message)


def test_csv_cells_for_structured_fields_are_read_as_json(make_project, run):
    project = make_project("ranking", {"allow_ties": True})
    body = (
        b"external_id,prompt,responses,meta\n"
        b'r1,"[{""role"": ""user"", ""content"": ""hi""}]","[""a"", ""b"", ""c""]",'
        b'"{""source"": ""m1""}"\n'
    )
    job = run(project, "rank.csv", body)
    assert job.status == "done", job.errors
    item = Item.objects.get(external_id="r1")
    assert item.data == {
        "prompt": [{"role": "user", "content": "hi"}],
        "responses": ["a", "b", "c"],
    }
    assert item.meta == {"source": "m1"}


def test_pre_existing_labels_become_annotations_by_inactive_external_raters(make_project, run):
    project = make_project("pairwise", PAIRWISE, overlap=2)
    body = jsonl(
        pair(
            1,
            external_id="p1",
            labels=[
                {"rater": "crowd_17", "value": {"choice": "A"}},
                {
                    "rater": "crowd_18",
                    "value": {"choice": "tie", "flags": {"B": ["factual_error"]}},
                },
            ],
        ),
        pair(2, external_id="p2", labels=[{"rater": "crowd_17", "value": {"choice": "B"}}]),
        pair(3, external_id="p3"),
    )
    job = run(project, "labelled.jsonl", body)
    assert (job.status, job.n_created, job.n_labels) == ("done", 3, 3), job.errors
    crowd = get_user_model().objects.get(username="ext:crowd_17")
    assert not crowd.is_active and not crowd.has_usable_password()
    values = {
        (a.item.external_id, a.rater.username): a.value
        for a in Annotation.objects.select_related("item", "rater")
    }
    assert values[("p1", "ext:crowd_18")] == {
        "choice": "tie",
        "flags": {"A": [], "B": ["factual_error"]},
        "rationale": "",
    }
    assert values[("p2", "ext:crowd_17")]["choice"] == "B"
    assert dict(Item.objects.values_list("external_id", "n_done")) == {"p1": 2, "p2": 1, "p3": 0}
    project.refresh_from_db()
    assert (project.n_items, project.n_annotations, project.n_complete) == (3, 3, 1)


@pytest.mark.parametrize(
    ("labels", "field", "message"),
    [
        ([{"rater": "c1", "value": {"choice": "both_bad"}}], "labels[0].value.choice", "one of"),
        (
            [{"rater": "c1", "value": {"choice": "A"}}, {"rater": "c1", "value": {"choice": "B"}}],
            "labels[1].rater",
            "labels this item twice",
        ),
        ([{"rater": "has space", "value": {"choice": "A"}}], "labels[0].rater", "rater name"),
        ([{"rater": "c1"}], "labels[0].value", "is required"),
        ({"rater": "c1"}, "labels", "must be a list"),
    ],
)
def test_a_bad_pre_existing_label_is_named_and_saves_nothing(
    make_project, run, labels, field, message
):
    body = jsonl(
        pair(1, labels=[{"rater": "ok", "value": {"choice": "A"}}]), pair(2, labels=labels)
    )
    assert_rejected(run(make_project("pairwise", PAIRWISE), "l.jsonl", body), 2, field, message)
    assert not get_user_model().objects.filter(username__startswith="ext:").exists()


def test_reimporting_labelled_items_skips_them_and_their_labels(make_project, run):
    project = make_project("pairwise", PAIRWISE)
    labels = [{"rater": "c1", "value": {"choice": "A"}}]
    body = jsonl(pair(1, external_id="p1", labels=labels), pair(2, external_id="p2"))
    run(project, "one.jsonl", body)
    again = run(
        project,
        "again.json",
        json.dumps([pair(1, external_id="p1", labels=labels), pair(3, external_id="p3")]).encode(),
    )
    assert (again.n_created, again.n_duplicates, again.n_labels) == (1, 1, 0)
    assert Item.objects.count() == 3 and Annotation.objects.count() == 1
    project.refresh_from_db()
    assert (project.n_items, project.n_annotations) == (3, 1)


def test_the_preview_maps_fields_and_waits_for_a_commit(make_project, manager, run):
    project = make_project("pairwise", PAIRWISE)
    body = jsonl(
        pair(1, external_id="e1", meta={"model_a": "m"}, topic="cooking"),
        {"prompt": "p", "response_a": "a"},
    )
    job = import_create(project=project, user=manager, upload=upload("p.jsonl", body), preview=True)
    assert job.status == "preview"
    preview = import_preview(job=job)
    roles = {f["field"]: f for f in preview["fields"]}
    assert roles["response_b"]["required"] and roles["response_b"]["role"] == "shown to raters"
    assert "never shown" in roles["meta"]["role"]
    assert "re-import" in roles["external_id"]["role"]
    assert roles["topic"]["required"] is False
    assert preview["errors"] == [{"line": 2, "field": "response_b", "message": "is required"}]
    assert [r["line"] for r in preview["rows"]] == [1, 2]
    assert not Item.objects.exists()


def test_committing_a_previewed_import_runs_it_once(
    make_project, manager, django_capture_on_commit_callbacks
):
    project = make_project("pairwise", PAIRWISE)
    job = import_create(
        project=project, user=manager, upload=upload("p.jsonl", jsonl(pair(1))), preview=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_commit(job=job)
        import_commit(job=job)
    job.refresh_from_db()
    assert (job.status, job.n_created, job.percent) == ("done", 1, 100)
    assert Project.objects.get(pk=project.pk).n_items == 1


def test_the_field_roles_list_required_fields_even_when_missing():
    roles = schemas.field_roles("ranking", ["prompt", "labels"])
    assert [(r["field"], r["present"]) for r in roles] == [
        ("prompt", True),
        ("responses", False),
        ("labels", True),
    ]
