"""The kind registry: every kind is complete, and core code reaches it by name only."""

import subprocess
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import get_template

from tasks import kinds
from tasks.schema import SchemaError

ROOT = Path(__file__).resolve().parents[2]


def test_an_unknown_kind_is_refused_naming_the_kind_field():
    with pytest.raises(SchemaError) as exc:
        kinds.get("span_tagging_v0")
    assert exc.value.field == "kind" and "single_choice" in exc.value.message


@pytest.mark.parametrize("name", kinds.KINDS)
def test_every_kind_has_its_widget_keys_editor_templates_and_script(name):
    kind = kinds.get(name)
    for template in (
        kind.widget_template,
        kind.keys_template,
        kind.schema_template,
    ):
        get_template(template)
    for row in kind.schema_rows.values():
        get_template(row)
    assert finders.find(kind.script), kind.script


@pytest.mark.parametrize("name", kinds.KINDS)
def test_every_kind_either_aggregates_by_its_own_default_or_not_at_all(name):
    kind = kinds.get(name)
    if kind.aggregation_methods:
        for subjective in (False, True):
            assert kind.default_aggregation(subjective=subjective) in kind.aggregation_methods
    else:
        with pytest.raises(ValueError):
            kind.aggregate({}, None, "majority", {}, None, subjective=False, extra_data={})


def test_no_code_outside_the_kinds_package_branches_on_a_kinds_name():
    # Label kinds are asked, never tested: a new kind touches only its own files.
    # kind == schemas.X, project.kind != "x", f.dataset.kind === "x", kind in (schemas...
    # (a training session's kind, `s.kind`, is not a label kind).
    pattern = (
        r"(^|[ (!])([a-z_.]*project\.kind|kind|f\.dataset\.kind) (==|!=|===) ?(schemas\.|\"|')"
        r"|kind (not )?in \(schemas"
    )
    found = subprocess.run(
        [
            "git",
            "grep",
            "-nE",
            pattern,
            "--",
            "*.py",
            "*.html",
            "*.js",
            ":!tasks/kinds/",
            ":!tests/",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode in (0, 1), found.stderr
    assert found.stdout == ""
