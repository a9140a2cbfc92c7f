import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import ImportJob, Item
from tasks.services import ImportRejected, import_create


def upload(name, body: bytes):
    return SimpleUploadedFile(name, body, content_type="application/octet-stream")


def jsonl(*rows) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def run_import(project, user, name, body):
    job = import_create(project=project, user=user, upload=upload(name, body))
    return ImportJob.objects.get(pk=job.pk)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Imports are queued on commit; run the queued job as the real dispatcher would."""

    def run(*args):
        with django_capture_on_commit_callbacks(execute=True):
            job = run_import(*args)
        job.refresh_from_db()
        return job

    return run


def test_a_jsonl_file_becomes_items_with_their_fields(project, manager, run_on_commit):
    job = run_on_commit(
        project,
        manager,
        "items.jsonl",
        jsonl({"text": "a", "external_id": "x1"}, {"text": "b", "priority": 5}),
    )
    assert job.status == "done" and job.n_created == 2
    assert sorted(Item.objects.values_list("data", flat=True), key=str) == [
        {"text": "a"},
        {"text": "b"},
    ]
    assert Item.objects.get(external_id="x1").priority == 0
    # The manager's priority is kept apart from the queue's (uncertainty-first order).
    assert (
        Item.objects.get(data__text="b").manager_priority
        == 5
        == Item.objects.get(data__text="b").priority
    )
    project.refresh_from_db()
    assert project.n_items == 2


def test_a_csv_file_with_a_header_becomes_items(project, manager, run_on_commit):
    job = run_on_commit(project, manager, "items.csv", b"external_id,text\nc1,hello\nc2,world\n")
    assert job.status == "done" and job.n_created == 2
    assert Item.objects.get(external_id="c2").data == {"text": "world"}


def test_reimporting_the_same_external_ids_reports_duplicates_instead_of_doubling(
    project, manager, run_on_commit
):
    body = jsonl({"text": "a", "external_id": "x1"}, {"text": "b", "external_id": "x2"})
    run_on_commit(project, manager, "one.jsonl", body)
    again = run_on_commit(
        project, manager, "again.jsonl", body + jsonl({"text": "c", "external_id": "x3"})
    )
    assert (again.n_created, again.n_duplicates) == (1, 2)
    assert Item.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (b'{"text": "ok"}\n{"text": "broken"\n', 2, "(line)", "not valid JSON"),
        (b'{"text": "ok"}\n{"text": "x", "score": NaN}\n', 2, "(line)", "NaN, Infinity"),
        (b'{"text": "ok"}\n{"text": "\xff\xfe"}\n', 2, "(line)", "not valid UTF-8"),
        (b'{"text": "ok"}\n\n[1, 2]\n', 3, "(record)", "must be a JSON object"),
        (b'{"text": "ok", "priority": "high"}\n', 1, "priority", "must be an integer"),
        (
            b'{"text": "a", "external_id": "d"}\n{"text": "b", "external_id": "d"}\n',
            2,
            "external_id",
            "appears twice",
        ),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_saved(
    project, manager, run_on_commit, body, line, field, message
):
    job = run_on_commit(project, manager, "bad.jsonl", body)
    assert job.status == "failed"
    assert job.errors[0]["line"] == line and job.errors[0]["field"] == field
    assert message in job.errors[0]["message"]
    assert not Item.objects.exists()


def test_pairwise_items_need_a_prompt_and_two_responses(manager, run_on_commit):
    from tests.factories import MembershipFactory, ProjectFactory

    pairwise = ProjectFactory(kind="pairwise", schema={"allow_tie": True, "allow_both_bad": True})
    MembershipFactory(project=pairwise, user=manager, role="manager")
    body = jsonl(
        {"prompt": "p", "response_a": "a", "response_b": "b"}, {"prompt": "p", "response_a": "a"}
    )
    job = run_on_commit(pairwise, manager, "pairs.jsonl", body)
    assert job.errors == [{"line": 2, "field": "response_b", "message": "is required"}]
    assert not Item.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_stored(project, manager, settings):
    settings.VOX_IMPORT_MAX_BYTES = 10
    with pytest.raises(ImportRejected, match="limit is 10"):
        import_create(project=project, user=manager, upload=upload("big.jsonl", b"x" * 11))
    assert not ImportJob.objects.exists()


def test_an_unknown_file_type_is_refused(project, manager):
    with pytest.raises(ImportRejected, match="unsupported file type"):
        import_create(project=project, user=manager, upload=upload("items.xlsx", b"x"))


def test_an_import_with_enough_labels_starts_the_first_aggregation_run(
    project, manager, run_on_commit, settings
):
    from aggregation.models import AggregationRun

    settings.VOX_AGGREGATION_FIRST_RUN = 20
    votes = [{"rater": f"c{r}", "value": "yes"} for r in range(3)]
    job = run_on_commit(
        project,
        manager,
        "items.jsonl",
        jsonl(*({"text": f"t{i}", "labels": votes} for i in range(7))),
    )
    assert (job.status, job.n_labels) == ("done", 21)
    (run,) = AggregationRun.objects.filter(project=project)
    assert (run.trigger, run.status) == ("annotations", "done")


def test_a_finished_import_row_also_redraws_the_projects_counters(
    client, project, manager, run_on_commit
):
    from django.urls import reverse

    job = run_on_commit(project, manager, "items.jsonl", jsonl({"text": "a"}, {"text": "b"}))
    client.force_login(manager)
    html = client.get(reverse("tasks:import-status", args=[job.pk])).content.decode()
    assert '<span class="stat-value" id="stat-complete" hx-swap-oob="true">0 / 2</span>' in html
    assert "<template>" in html  # a <tr> reply can carry them only inside a template
