"""The Python client (vox_client.Client) against a live server: its typed records carry
what the server sent, and its waits follow jobs that run on the server's own thread."""

import csv
import io
import json
from datetime import datetime

import pytest
from vox_client import (
    AggregationRun,
    Client,
    ExportJob,
    ImportJob,
    ImportLineError,
    ItemResult,
    JobFailed,
    Project,
    RaterScore,
    VoxError,
)

from tasks.models import Item
from tests.client.conftest import PASSWORD

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def write_csv(path, rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["external_id", "text", "labels"])
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "labels": json.dumps(row["labels"])})
    path.write_text(out.getvalue())
    return path


def votes(*values):
    return [{"rater": f"c{r}", "value": v} for r, v in enumerate(values)]


def test_a_script_imports_csv_aggregates_and_reads_typed_results(server, owner, tmp_path):
    vox = Client.login(server, "petra", PASSWORD)
    project = vox.project_create(
        name="Sentiment", kind="single_choice", schema={"choices": ["pos", "neg"]}, overlap=3
    )
    assert isinstance(project, Project) and isinstance(project.created_at, datetime)
    assert vox.project(project.id).role == "manager"
    assert [p.id for p in vox.projects()] == [project.id]

    bad = write_csv(
        tmp_path / "bad.csv",
        [
            {"external_id": "a", "text": "fine", "labels": votes("pos", "pos", "neg")},
            {"external_id": "b", "text": "ok", "labels": votes("pos", "pos", "great")},
            {"external_id": "c", "text": "meh", "labels": [{"rater": "c0"}]},
        ],
    )
    seen = []
    job = vox.import_wait(vox.import_start(project.id, bad), on_progress=seen.append)
    assert isinstance(job, ImportJob) and job.status == "failed" and job.n_saved == 0
    assert seen[0].status in ("queued", "running") and seen[-1] == job
    assert [e.line for e in job.errors] == [3, 4]
    assert all(isinstance(e, ImportLineError) for e in job.errors)
    assert job.errors[0].field == "labels[2].value"
    assert job.errors[0].message == "must be one of pos, neg"
    assert str(job.errors[1]) == "line 4, field labels[0].value: is required"
    assert not Item.objects.exists()

    rows = [
        {"external_id": f"i{i}", "text": f"text {i}", "labels": votes("pos", "pos", "neg")}
        for i in range(4)
    ] + [{"external_id": "i4", "text": "text 4", "labels": votes("neg", "neg", "neg")}]
    job = vox.import_wait(vox.import_start(project.id, write_csv(tmp_path / "good.csv", rows)))
    assert (job.status, job.n_created, job.n_labels, job.errors) == ("done", 5, 15, [])
    assert isinstance(job.finished_at, datetime)

    export = vox.export_wait(vox.export_start(project.id, format="items_csv", annotations=False))
    assert isinstance(export, ExportJob) and export.status == "done" and export.download
    out = tmp_path / "items.csv"
    assert vox.export_download(export, out) == out.stat().st_size == export.size_bytes
    assert [r["external_id"] for r in csv.DictReader(out.open())] == [f"i{i}" for i in range(5)]

    run = vox.aggregation_wait(vox.aggregation_start(project.id, method="majority"))
    assert isinstance(run, AggregationRun) and (run.status, run.is_current) == ("done", True)
    assert run.stats["n_items"] == 5 and isinstance(run.finished_at, datetime)
    assert [r.id for r in vox.aggregation_runs(project.id)] == [run.id]

    results = list(vox.aggregation_results(project.id, run.id))
    assert all(isinstance(r, ItemResult) for r in results)
    assert [(r.external_id, r.label) for r in results] == [
        ("i0", "pos"),
        ("i1", "pos"),
        ("i2", "pos"),
        ("i3", "pos"),
        ("i4", "neg"),
    ]
    assert [r.confidence for r in results] == pytest.approx([2 / 3] * 4 + [1.0])

    scores = vox.rater_scores(project.id)
    assert all(isinstance(s, RaterScore) for s in scores)
    by_rater = {s.rater: s for s in scores}
    assert set(by_rater) == {"ext:c0", "ext:c1", "ext:c2"}
    # c2 disagrees with the majority on four of its five items.
    assert by_rater["ext:c2"].agreement_with_aggregate == pytest.approx(1 / 5)
    assert by_rater["ext:c0"].agreement_with_aggregate == pytest.approx(1.0)


def test_the_client_raises_the_servers_message_for_a_refusal(server, owner):
    with pytest.raises(VoxError, match="Unable to log in") as caught:
        Client.login(server, "petra", "not the password")
    assert caught.value.status == 400
    vox = Client.login(server, "petra", PASSWORD)
    with pytest.raises(VoxError, match="kind: ") as caught:
        vox.project_create(name="x", kind="no_such_kind")
    assert caught.value.status == 400 and "kind" in caught.value.body
    project = vox.project_create(name="x", kind="single_choice", schema={"choices": ["a", "b"]})
    with pytest.raises(VoxError, match="type: preference files need a pairwise or ranking"):
        vox.export_start(project.id, format="preference_jsonl")
    with pytest.raises(VoxError) as caught:
        vox.aggregation_run(project.id, 123456)
    assert caught.value.status == 404


def test_the_export_formats_come_from_the_servers_own_schema(server, owner):
    vox = Client.login(server, "petra", PASSWORD)
    from tasks.export import FORMATS

    assert vox.export_formats() == list(FORMATS)


def test_a_wait_that_runs_out_of_time_says_which_job_is_still_going(server, owner, tmp_path):
    vox = Client.login(server, "petra", PASSWORD)
    project = vox.project_create(name="x", kind="single_choice", schema={"choices": ["a", "b"]})
    path = tmp_path / "items.jsonl"
    path.write_text('{"text": "one"}\n')
    held = vox.import_start(project.id, path, preview=True)
    assert vox.import_wait(held).status == "preview"  # a held import ends the wait at once
    run = vox.aggregation_start(project.id, method="majority")
    stuck = AggregationRun(**{**run.__dict__, "status": "running"})
    with pytest.raises(JobFailed, match=f"gave up after 0 s: job {run.id} is still running"):
        vox.aggregation_wait(stuck, timeout=0, interval=0)
