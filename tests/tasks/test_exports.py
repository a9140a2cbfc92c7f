"""Exports: vote counts, preference pairs, CSV formula neutralisation, gold marking, jobs,
and that nothing an annotator can fetch contains an export."""

import csv
import io
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Annotation
from quality.dashboard_services import dashboard_snapshot_compute
from tasks.export import ExportOptions, ExportRefused, export_stream, neutralise
from tasks.models import Item
from tasks.services import items_insert, project_create
from tests.aggregation.test_kinds import run_now
from tests.factories import UserFactory


def text(project, **options):
    return "".join(export_stream(project, ExportOptions(**options)))


def labelled(manager, kind, schema, records, overlap=3):
    project = project_create(user=manager, name=kind, kind=kind, schema=schema, overlap=overlap)
    items_insert(project=project, records=records)
    project.refresh_from_db()
    return project


def votes(*choices, **extra):
    return [{"rater": f"r{i}", "value": {"choice": c, **extra}} for i, c in enumerate(choices)]


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_cells_that_start_a_formula_are_neutralised(manager, value):
    project = labelled(
        manager,
        "single_choice",
        {"choices": ["yes", "no"]},
        [
            {
                "text": value,
                "note": "plain",
                "external_id": "=cmd|' /C calc'!A0",
                "labels": [{"rater": "c1", "value": "yes"}],
            }
        ],
    )
    (row,) = list(csv.DictReader(io.StringIO(text(project, format="items_csv"))))
    assert row["text"] == "'" + value and row["external_id"] == "'=cmd|' /C calc'!A0"
    assert row["note"] == "plain" and row["votes:yes"] == "1" and row["votes:no"] == "0"
    assert neutralise("safe") == "safe"


def test_item_rows_carry_the_soft_distribution_and_every_raw_annotation(manager):
    project = labelled(
        manager,
        "pairwise",
        {"allow_tie": True},
        [{"prompt": "p", "response_a": "a", "response_b": "b", "labels": votes("A", "A", "tie")}],
    )
    (row,) = [json.loads(line) for line in text(project).splitlines()]
    assert row["votes"] == {"A": 2, "tie": 1} and row["n_annotations"] == 3
    raw = row["annotations"][0]
    assert raw["rater"] == "ext:r0" and raw["created_at"].endswith("Z")
    assert set(raw) == {"rater", "value", "created_at", "duration_ms", "guideline_version"}
    (slim,) = [json.loads(line) for line in text(project, annotations=False).splitlines()]
    assert "annotations" not in slim and slim["votes"] == row["votes"]


def test_pairwise_preferences_give_chosen_and_rejected_with_margin_and_agreement(manager):
    project = labelled(
        manager,
        "pairwise",
        {"allow_tie": True, "strength": "labels"},
        [
            {
                "external_id": "win-b",
                "prompt": "p1",
                "response_a": "a1",
                "response_b": "b1",
                "labels": [
                    {"rater": "r1", "value": {"choice": "B", "strength": 3}},
                    {"rater": "r2", "value": {"choice": "B", "strength": 1}},
                    {"rater": "r3", "value": {"choice": "A", "strength": 1}},
                ],
            },
            {
                "external_id": "tied",
                "prompt": "p2",
                "response_a": "a2",
                "response_b": "b2",
                "labels": [
                    {"rater": "r1", "value": {"choice": "A", "strength": 1}},
                    {"rater": "r2", "value": {"choice": "B", "strength": 1}},
                ],
            },
            {"external_id": "unlabelled", "prompt": "p3", "response_a": "a3", "response_b": "b3"},
        ],
    )
    rows = [json.loads(line) for line in text(project, format="preference_jsonl").splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert (row["prompt"], row["chosen"], row["rejected"]) == ("p1", "b1", "a1")
    assert row["margin"] == 1.0  # (3 + 1 - 1) / 3
    assert (row["agreement"], row["n_raters"], row["external_id"]) == (0.6667, 3, "win-b")
    marked = [
        json.loads(line)
        for line in text(project, format="preference_jsonl", ties="mark").splitlines()
    ]
    assert [(r["external_id"], r["tie"]) for r in marked] == [("win-b", False), ("tied", True)]


def test_ranking_preferences_come_from_every_ordered_pair(manager):
    project = labelled(
        manager,
        "ranking",
        {"allow_ties": True},
        [
            {
                "prompt": "p",
                "responses": ["x", "y", "z"],
                "labels": [
                    {"rater": "r1", "value": {"ranking": [[2], [0], [1]]}},
                    {"rater": "r2", "value": {"ranking": [[2], [0, 1]]}},
                ],
            }
        ],
    )
    rows = [json.loads(line) for line in text(project, format="preference_jsonl").splitlines()]
    pairs = {(r["chosen"], r["rejected"]): r for r in rows}
    assert set(pairs) == {("z", "x"), ("z", "y"), ("x", "y")}
    assert pairs[("z", "x")]["agreement"] == 1.0 and pairs[("x", "y")]["agreement"] == 0.5
    assert pairs[("z", "y")]["margin"] == 1.5


def test_a_preference_file_needs_a_pairwise_or_ranking_project(project, manager):
    client = APIClient()
    client.force_authenticate(manager)
    response = client.get(f"/api/projects/{project.pk}/export/?type=preference_jsonl")
    assert response.status_code == 400 and "pairwise or ranking" in str(response.data)


def test_gold_items_are_marked_in_manager_exports(project, manager):
    items_insert(project=project, records=[{"text": "live"}, {"text": "gold"}])
    Item.objects.filter(data__text="gold").update(is_gold=True)
    rows = {
        json.loads(line)["data"]["text"]: json.loads(line) for line in text(project).splitlines()
    }
    assert rows["gold"]["is_gold"] is True and rows["live"]["is_gold"] is False
    (csv_gold,) = [
        r
        for r in csv.DictReader(io.StringIO(text(project, format="items_csv")))
        if r["text"] == "gold"
    ]
    assert csv_gold["is_gold"] == "true"


def test_a_large_export_runs_as_a_job_with_progress_and_a_file(
    project, manager, settings, client, django_capture_on_commit_callbacks
):
    settings.VOX_EXPORT_STREAM_MAX_ITEMS = 1
    items_insert(project=project, records=[{"text": f"t{i}"} for i in range(3)])
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tasks:export-new", args=[project.pk]),
            {"format": "items_csv", "annotations": "on", "ties": "exclude"},
        )
    assert response.status_code == 302
    job = project.exports.get()
    assert (job.status, job.n_done, job.n_total, job.percent) == ("done", 3, 3, 100)
    row = client.get(reverse("tasks:export-status", args=[job.pk]))
    assert "hx-trigger" not in row.content.decode() and "Download" in row.content.decode()
    body = b"".join(client.get(reverse("tasks:export-file", args=[job.pk])).streaming_content)
    assert body.decode().startswith("item_id,external_id,is_gold,text")
    api = APIClient()
    api.force_authenticate(manager)
    detail = api.get(f"/api/exports/{job.pk}/").data
    assert detail["download"] == f"/api/exports/{job.pk}/file/"


def test_a_small_export_from_the_form_downloads_at_once(project, manager, client):
    items_insert(project=project, records=[{"text": "t"}])
    client.force_login(manager)
    response = client.post(
        reverse("tasks:export-new", args=[project.pk]), {"format": "items_jsonl", "ties": "exclude"}
    )
    download = client.get(response["Location"])
    row = json.loads(b"".join(download.streaming_content))
    assert row["data"] == {"text": "t"} and "annotations" not in row


def test_nothing_an_annotator_or_outsider_can_fetch_holds_an_export_or_gold(
    project, manager, rater, outsider, client, django_capture_on_commit_callbacks
):
    items_insert(project=project, records=[{"text": "gold"}])
    Item.objects.update(is_gold=True)
    with django_capture_on_commit_callbacks(execute=True):
        from tasks.services import export_create

        job = export_create(project=project, user=manager, options=ExportOptions())
    for user in (rater, outsider):
        client.force_login(user)
        for url in (
            reverse("tasks:project-export", args=[project.pk]),
            reverse("tasks:export-now", args=[project.pk]) + "?format=items_jsonl&ties=exclude",
            reverse("tasks:export-status", args=[job.pk]),
            reverse("tasks:export-file", args=[job.pk]),
            reverse("tasks:project-detail", args=[project.pk]),
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("tasks:export-new", args=[project.pk])).status_code == 404
        api = APIClient()
        api.force_authenticate(user)
        for url in (
            f"/api/projects/{project.pk}/export/",
            f"/api/projects/{project.pk}/items/",
            f"/api/exports/{job.pk}/",
            f"/api/exports/{job.pk}/file/",
        ):
            assert api.get(url).status_code == 404, url
        assert api.post(f"/api/projects/{project.pk}/exports/").status_code == 404


def test_exports_read_a_chunk_of_items_in_a_fixed_number_of_queries(
    project, manager, django_assert_max_num_queries
):
    items_insert(
        project=project,
        records=[{"text": f"t{i}", "labels": [{"rater": "c1", "value": "yes"}]} for i in range(30)],
    )
    assert Annotation.objects.count() == 30
    # Items, their annotations, rater names, the current aggregation run, adjudications and
    # the latest model run (label quality, once per export): a fixed count per chunk,
    # however many items.
    with django_assert_max_num_queries(7):
        assert len(text(project).splitlines()) == 30


def test_csv_header_cells_named_by_imported_fields_are_neutralised(manager):
    project = labelled(
        manager,
        "single_choice",
        {"choices": ["yes", "no"]},
        [{"text": "t", '=HYPERLINK("http://x")': "v", "labels": [{"rater": "c1", "value": "yes"}]}],
    )
    header = next(csv.reader(io.StringIO(text(project, format="items_csv"))))
    assert '\'=HYPERLINK("http://x")' in header
    assert not any(h.startswith(("=", "+", "-", "@")) for h in header)


@pytest.mark.parametrize(
    ("kind", "schema", "data", "answers", "label"),
    [
        (
            "multi_choice",
            {"choices": ["spam", "rude", "ok"]},
            {"text": "t"},
            [["spam", "rude"], ["spam"], ["rude", "spam"]],
            ["spam", "rude"],
        ),
        (
            "pairwise",
            {"allow_tie": True},
            {"prompt": "p", "response_a": "a", "response_b": "b"},
            [{"choice": "B"}, {"choice": "tie"}, {"choice": "B"}],
            "B",
        ),
        (
            "ranking",
            {},
            {"prompt": "p", "responses": ["x", "y", "z"]},
            [
                {"ranking": [[2], [0], [1]]},
                {"ranking": [[2], [1], [0]]},
                {"ranking": [[0], [2], [1]]},
            ],
            [2, 0, 1],
        ),
        (
            "likert",
            {"dimensions": ["helpful"]},
            {"text": "t"},
            [{"helpful": 4}, {"helpful": 5}, {"helpful": 5}],
            {"helpful": 4.6667},
        ),
    ],
)
def test_before_any_run_the_label_is_the_raters_vote_and_says_so(
    manager, kind, schema, data, answers, label
):
    labels = [{"rater": f"r{i}", "value": a} for i, a in enumerate(answers)]
    project = labelled(manager, kind, schema, [{**data, "labels": labels}])
    (row,) = [json.loads(line) for line in text(project).splitlines()]
    assert (row["label"], row["label_source"]) == (label, "vote")
    (csv_row,) = list(csv.DictReader(io.StringIO(text(project, format="items_csv"))))
    shown = label if isinstance(label, str) else json.dumps(label)
    assert (csv_row["label"], csv_row["label_source"]) == (shown, "vote")


def test_after_a_run_the_label_is_the_aggregate_and_a_decision_overrides_it(manager):
    from aggregation.services import aggregation_run_execute, aggregation_run_request
    from quality.dashboard_services import adjudication_set

    labels = [{"rater": f"r{i}", "value": v} for i, v in enumerate(["yes", "yes", "no"])]
    project = labelled(
        manager, "single_choice", {"choices": ["yes", "no"]}, [{"text": "t", "labels": labels}]
    )
    aggregation_run_execute(run_id=aggregation_run_request(project=project).pk)
    (row,) = [json.loads(line) for line in text(project).splitlines()]
    assert (row["label"], row["label_source"]) == ("yes", "aggregate")
    adjudication_set(item=project.items.get(), label="no", user=manager)
    (row,) = [json.loads(line) for line in text(project).splitlines()]
    assert (row["label"], row["label_source"], row["adjudicated"]) == ("no", "adjudicated", True)


def test_item_meta_reaches_every_export_but_stays_out_of_the_data(manager):
    meta = {"model_a": "m-1", "model_b": "m-2", "tags": ["batch-3"]}
    project = labelled(
        manager,
        "pairwise",
        {},
        [{"prompt": "p", "response_a": "a", "response_b": "b", "meta": meta, "labels": votes("B")}],
    )
    (row,) = [json.loads(line) for line in text(project).splitlines()]
    assert row["meta"] == meta and "meta" not in row["data"]
    (pair,) = [json.loads(line) for line in text(project, format="preference_jsonl").splitlines()]
    assert pair["meta"] == meta and (pair["chosen"], pair["rejected"]) == ("b", "a")
    (csv_row,) = csv.DictReader(io.StringIO(text(project, format="items_csv")))
    assert json.loads(csv_row["meta"]) == meta


def test_a_demonstration_typed_with_crlf_line_breaks_is_stored_and_exported_with_lf(manager):
    project = labelled(
        manager,
        "demonstration",
        {"min_length": 1},
        [
            {
                "prompt": "Write two lines",
                "labels": [{"rater": "r1", "value": {"text": "one\r\ntwo\rthree\r\n"}}],
            }
        ],
    )
    assert Annotation.objects.get(item__project=project).value == {"text": "one\ntwo\nthree"}
    (row,) = [json.loads(line) for line in text(project).splitlines()]
    assert row["annotations"][0]["value"]["text"] == "one\ntwo\nthree"


def load_as_trainers_do(tmp_path, body: str):
    """The file as datasets.load_dataset reads JSON lines: one schema for every row."""
    import datasets  # a test dependency (pyproject.toml): missing, this fails, never skips

    path = tmp_path / "pairs.jsonl"
    path.write_text(body, encoding="utf-8")
    return datasets.load_dataset("json", data_files=str(path), split="train")


def pairwise_records(*prompts):
    return [
        {"prompt": p, "response_a": f"a{i}", "response_b": f"b{i}", "labels": votes("B", "B")}
        for i, p in enumerate(prompts)
    ]


def test_text_prompts_give_trl_standard_preference_rows(manager, tmp_path):
    project = labelled(manager, "pairwise", {}, pairwise_records("p0", "p1"))
    rows = load_as_trainers_do(tmp_path, text(project, format="preference_jsonl"))
    assert rows.num_rows == 2
    assert (rows[0]["prompt"], rows[0]["chosen"], rows[0]["rejected"]) == ("p0", "b0", "a0")


def test_any_chat_prompt_makes_every_row_conversational_so_the_file_loads(manager, tmp_path):
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    project = labelled(manager, "pairwise", {}, pairwise_records("plain", chat))
    rows = load_as_trainers_do(tmp_path, text(project, format="preference_jsonl"))
    assert rows[0]["prompt"] == [{"role": "user", "content": "plain"}]
    assert rows[1]["prompt"] == chat
    assert rows[1]["chosen"] == [{"role": "assistant", "content": "b1"}]
    assert rows[1]["rejected"] == [{"role": "assistant", "content": "a1"}]
    with pytest.raises(ExportRefused, match="conversational: some prompts are chats"):
        text(project, format="preference_jsonl", conversational="no")
    forced = labelled(manager, "pairwise", {}, pairwise_records("only text"))
    (row,) = load_as_trainers_do(
        tmp_path, text(forced, format="preference_jsonl", conversational="yes")
    )
    assert row["chosen"] == [{"role": "assistant", "content": "b0"}]


def test_ranking_preference_rows_from_a_chat_prompt_are_conversational(manager, tmp_path):
    chat = [{"role": "user", "content": "Name a fruit"}]
    project = labelled(
        manager,
        "ranking",
        {},
        [
            {
                "prompt": chat,
                "responses": ["apple", "stone", "pear"],
                "labels": [{"rater": "r1", "value": {"ranking": [[0], [2], [1]]}}],
            }
        ],
    )
    rows = load_as_trainers_do(tmp_path, text(project, format="preference_jsonl"))
    assert rows.num_rows == 3 and rows[0]["prompt"] == chat
    assert (rows[0]["chosen"], rows[0]["rejected"]) == (
        [{"role": "assistant", "content": "apple"}],
        [{"role": "assistant", "content": "stone"}],
    )


def test_demonstrations_export_as_sft_messages_that_load_as_trainers_do(manager, tmp_path):
    chat = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Greet me"}]
    project = labelled(
        manager,
        "demonstration",
        {"min_length": 1},
        [
            {
                "prompt": chat,
                "meta": {"source": "pilot"},
                "labels": [
                    {"rater": "r1", "value": {"text": "Hello!\r\nWelcome."}},
                    {"rater": "r2", "value": {"text": "Hi there."}},
                ],
            },
            {"prompt": "Say goodbye", "labels": [{"rater": "r1", "value": {"text": "Bye."}}]},
            {"prompt": "A check", "labels": [{"rater": "r2", "value": {"text": "Checked."}}]},
        ],
    )
    Item.objects.filter(project=project, data__prompt="A check").update(is_gold=True)
    body = text(project, format="sft_messages")
    rows = load_as_trainers_do(tmp_path, body)
    assert rows.num_rows == 3  # one per demonstration; the gold item's answer is not one
    assert rows[0]["messages"] == [*chat, {"role": "assistant", "content": "Hello!\nWelcome."}]
    assert rows[2]["messages"] == [
        {"role": "user", "content": "Say goodbye"},
        {"role": "assistant", "content": "Bye."},
    ]
    assert "Checked." not in body
    assert rows[0]["meta"] == {"source": "pilot"}
    assert rows[0]["rater"].startswith("R-") and rows[0]["rater"] != rows[1]["rater"]
    assert rows[0]["n_raters"] == 2 and rows[0]["raters"] == [rows[0]["rater"], rows[1]["rater"]]
    assert "r1" not in body and "r2" not in body


def test_every_row_carries_raters_by_pseudonym_and_the_runs_confidence_agreement_and_method(
    manager,
):
    project = labelled(
        manager,
        "pairwise",
        {"allow_tie": True},
        [{"prompt": "p", "response_a": "a", "response_b": "b", "labels": votes("B", "B", "A")}],
    )
    (before,) = [json.loads(line) for line in text(project, annotations=False).splitlines()]
    assert before["n_raters"] == 3 and len(set(before["raters"])) == 3
    assert all(r.startswith("R-") for r in before["raters"])
    assert before["run_id"] is None and before["soft_label"] is None
    run = run_now(project, method="majority")
    dashboard_snapshot_compute(project_id=project.pk)
    (row,) = [json.loads(line) for line in text(project, annotations=False).splitlines()]
    assert (row["run_id"], row["method"]) == (run.pk, "majority")
    assert row["agreement"] == 0.6667 and row["confidence"] is not None
    assert row["soft_label"]["B"] > row["soft_label"]["A"]
    assert row["raters"] == before["raters"] and "ext:r0" not in json.dumps(row)
    (pair,) = [json.loads(line) for line in text(project, format="preference_jsonl").splitlines()]
    assert (pair["chosen"], pair["item_agreement"], pair["method"]) == ("b", 0.6667, "majority")
    assert pair["raters"] == row["raters"] and pair["guideline_versions"] == [None] * 3


def test_unpaired_rows_give_each_side_of_a_pair_a_label_and_load_as_trainers_do(manager, tmp_path):
    chat = [{"role": "user", "content": "Hi"}]
    records = pairwise_records("p0", chat)
    records.append(
        {"prompt": "even", "response_a": "x", "response_b": "y", "labels": votes("A", "B")}
    )
    project = labelled(manager, "pairwise", {"allow_tie": True}, records)
    rows = load_as_trainers_do(tmp_path, text(project, format="unpaired_jsonl"))
    assert rows.num_rows == 4  # two pairs, two sides each; the 1–1 split is a tie
    assert [r["label"] for r in rows] == [True, False, True, False]
    assert rows[0]["completion"] == [{"role": "assistant", "content": "b0"}]
    assert rows[1]["completion"] == [{"role": "assistant", "content": "a0"}]
    assert rows[2]["prompt"] == chat and "chosen" not in rows.column_names
    assert rows[0]["n_raters"] == 2 and len(rows[0]["raters"]) == 2
    single_choice = labelled(manager, "single_choice", {"choices": ["yes", "no"]}, [])
    with pytest.raises(ExportRefused, match="pairwise or ranking"):
        text(single_choice, format="unpaired_jsonl")


def export_as_job(client, manager, project, on_commit, conversational):
    """Preference pairs exported from the project page as a job, run when it commits."""
    client.force_login(manager)
    with on_commit(execute=True):
        client.post(
            reverse("tasks:export-new", args=[project.pk]),
            {"format": "preference_jsonl", "ties": "exclude", "conversational": conversational},
        )
    return project.exports.get()


def test_an_export_job_keeps_the_shape_the_manager_chose(
    manager, settings, client, django_capture_on_commit_callbacks
):
    settings.VOX_EXPORT_STREAM_MAX_ITEMS = 0
    project = labelled(manager, "pairwise", {}, pairwise_records("plain"))
    job = export_as_job(client, manager, project, django_capture_on_commit_callbacks, "yes")
    assert job.status == "done" and job.options["conversational"] == "yes"
    body = b"".join(client.get(reverse("tasks:export-file", args=[job.pk])).streaming_content)
    (row,) = [json.loads(line) for line in body.decode().splitlines()]
    assert row["chosen"] == [{"role": "assistant", "content": "b0"}]


def test_a_finished_export_has_a_dataset_card_with_its_counts_method_and_schema(
    manager, settings, client, django_capture_on_commit_callbacks
):
    settings.VOX_EXPORT_STREAM_MAX_ITEMS = 0
    project = labelled(manager, "pairwise", {}, pairwise_records("p0", "p1", "p2"))
    run = run_now(project, method="majority")
    job = export_as_job(client, manager, project, django_capture_on_commit_callbacks, "auto")
    assert job.n_rows == 3
    response = client.get(reverse("tasks:export-card", args=[job.pk]))
    assert response["Content-Disposition"] == 'attachment; filename="README.md"'
    card = response.content.decode()
    front, body = card.split("\n---\n", 1)
    file_name = job.file.name.rsplit("/", 1)[-1]
    assert front.startswith("---\nlicense: other") and f'path: "{file_name}"' in front
    assert f"rows in `{file_name}`: 3" in body and "answers: 6 from 2 raters" in body
    assert f"run {run.pk}, method `majority`" in body and '"kind": "pairwise"' in body
    api = APIClient()
    api.force_authenticate(manager)
    assert api.get(f"/api/exports/{job.pk}/card/").content.decode() == card
    outsider = APIClient()
    outsider.force_authenticate(UserFactory())
    assert outsider.get(f"/api/exports/{job.pk}/card/").status_code == 404


def test_a_small_projects_download_has_its_dataset_card_from_the_form_and_the_api(manager, client):
    project = labelled(manager, "pairwise", {}, pairwise_records("p0", "p1"))
    client.force_login(manager)
    asked = client.post(
        reverse("tasks:export-new", args=[project.pk]),
        {"format": "preference_jsonl", "ties": "exclude", "conversational": "auto", "card": "1"},
    )
    assert asked.status_code == 302 and "/export/card/" in asked["Location"]
    card = client.get(asked["Location"]).content.decode()
    download = client.post(
        reverse("tasks:export-new", args=[project.pk]),
        {"format": "preference_jsonl", "ties": "exclude", "conversational": "auto"},
    )
    body = b"".join(client.get(download["Location"]).streaming_content).decode()
    # The card names the file as the download names it, and counts the rows it has.
    name = client.get(download["Location"])["Content-Disposition"]
    name = name.split('filename="', 1)[1].rstrip('"')
    assert f'path: "{name}"' in card
    assert f"rows in `{name}`: {body.count(chr(10))}\n" in card and body.count(chr(10)) == 2
    api = APIClient()
    api.force_authenticate(manager)
    same = api.get(f"/api/projects/{project.pk}/export/card/?type=preference_jsonl")
    assert same.status_code == 200 and "rows in `" in same.content.decode()
    outsider = APIClient()
    outsider.force_authenticate(UserFactory())
    assert outsider.get(f"/api/projects/{project.pk}/export/card/").status_code == 404
