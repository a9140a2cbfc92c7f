"""Imports refuse what the database or the preview cannot take, naming the line and the
field, and save nothing: priorities past the column's range, JSON nested past the limit
of every body, CSV files with thousands of columns."""

import io

import pytest

from config.jsonbody import MAX_DEPTH
from tasks import importer
from tests.tasks.test_import_formats import assert_rejected, jsonl

CHOICES = {"choices": ["yes", "no"]}


@pytest.mark.parametrize("priority", [2**31, -(2**31) - 1, 2**63])
def test_a_priority_outside_the_columns_range_is_named_by_line_and_field(
    make_project, run, priority
):
    body = jsonl({"text": "a"}, {"text": "b", "priority": priority})
    job = run(make_project("single_choice", CHOICES), "p.jsonl", body)
    assert_rejected(job, 2, "priority", "between")


def test_the_widest_priorities_the_column_holds_are_accepted(make_project, run):
    body = jsonl({"text": "a", "priority": 2**31 - 1}, {"text": "b", "priority": -(2**31)})
    assert run(make_project("single_choice", CHOICES), "p.jsonl", body).status == "done"


def test_a_jsonl_line_nested_50000_levels_deep_is_named_not_a_crash(make_project, run):
    deep = b'{"text": "a", "extra": ' + b"[" * 50_000 + b"]" * 50_000 + b"}\n"
    job = run(make_project("single_choice", CHOICES), "d.jsonl", jsonl({"text": "ok"}) + deep)
    assert_rejected(job, 2, "(line)", "nests deeper")


def test_a_record_nested_past_the_limit_names_its_field(make_project, run):
    nested = [[]]
    for _ in range(MAX_DEPTH + 2):
        nested = [nested]
    body = jsonl({"text": "ok"}, {"text": "b", "meta": {"deep": nested}})
    job = run(make_project("single_choice", CHOICES), "d.jsonl", body)
    assert_rejected(job, 2, "meta.deep" + ".0" * (MAX_DEPTH - 2), "nests deeper")


def test_a_deep_json_array_element_and_csv_cell_are_refused(make_project, run):
    project = make_project("single_choice", CHOICES)
    array = b'[{"text": "a", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}]"
    assert_rejected(run(project, "d.json", array), 1, "(record)", "nests deeper")
    csv_body = b"text,labels\nok,\nb," + b'"' + b"[" * 50_000 + b"]" * 50_000 + b'"\n'
    assert_rejected(run(project, "d.csv", csv_body), 3, "labels", "nests deeper")


def test_a_csv_header_of_40000_columns_is_refused_with_a_clear_error(make_project, run):
    project = make_project("single_choice", CHOICES)
    header = ",".join(["text"] + [f"c{i}" for i in range(40_000)]).encode()
    body = header + b"\n" + b"a" + b"," * 40_000 + b"\n"
    assert_rejected(run(project, "wide.csv", body), 1, "(header)", "the limit is 1,000")
    preview = importer.preview(io.BytesIO(body), "csv", project.kind, project.schema)
    assert preview["errors"][0]["field"] == "(header)" and preview["rows"] == []


def test_the_preview_lists_every_field_of_a_wide_json_record_once(make_project):
    project = make_project("single_choice", CHOICES)
    record = {"text": "a", **{f"c{i}": i for i in range(5_000)}}
    body = jsonl(record, record)
    preview = importer.preview(io.BytesIO(body), "jsonl", project.kind, project.schema)
    names = [f["field"] for f in preview["fields"]]
    assert len(names) == len(set(names)) == 5_001
