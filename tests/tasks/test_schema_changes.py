"""The schema editor: every kind from the form, and changes refused once labeling started."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.services import annotation_submit, assignment_next
from tasks.models import Project
from tasks.schema import SchemaError
from tasks.services import project_create, project_update
from tests.factories import ItemFactory


@pytest.fixture
def boss(manager):
    manager.user_permissions.add(Permission.objects.get(codename="add_project"))
    return manager


def started(project, rater):
    ItemFactory(project=project, data={"text": "t"})
    lease = assignment_next(rater=rater, project=project)
    annotation_submit(rater=rater, item=lease.item, value="yes", idempotency_key="k")


def test_adding_a_choice_after_labeling_started_is_allowed(project, manager, rater):
    started(project, rater)
    project_update(project=project, schema={"choices": ["yes", "no", "maybe"]})
    assert [c["value"] for c in project.schema["choices"]] == ["yes", "no", "maybe"]


@pytest.mark.parametrize(
    ("kind", "schema", "field"),
    [
        ("single_choice", {"choices": ["yes", "nope"]}, "choices[1].value"),
        ("single_choice", {"choices": ["yes", "maybe"]}, "choices[1].value"),
        ("likert", {"scale": 5}, "kind"),
    ],
)
def test_removing_or_renaming_a_choice_or_changing_kind_is_refused(
    project, manager, rater, kind, schema, field
):
    started(project, rater)
    with pytest.raises(SchemaError) as exc:
        project_update(project=project, kind=kind, schema=schema)
    assert exc.value.field == field
    project.refresh_from_db()
    assert [c["value"] for c in project.schema["choices"]] == ["yes", "no"]


@pytest.mark.parametrize(
    ("kind", "before", "after", "field"),
    [
        ("likert", {"scale": 7}, {"scale": 5}, "scale"),
        ("likert", {"dimensions": ["a", "b"]}, {"dimensions": ["a"]}, "dimensions[1].name"),
        ("pairwise", {"allow_tie": True}, {"allow_tie": False}, "allow_tie"),
        ("pairwise", {"strength": "none"}, {"strength": "labels"}, "strength"),
        ("pairwise", {"flags": ["ok", "bad"]}, {"flags": ["ok"]}, "flags[1].value"),
        ("ranking", {"allow_ties": True}, {"allow_ties": False}, "allow_ties"),
        (
            "multi_choice",
            {"choices": ["a", "b", "c"]},
            {"choices": ["a", "b", "c"], "max_selected": 2},
            "max_selected",
        ),
        ("demonstration", {"min_length": 1}, {"min_length": 50}, "min_length"),
    ],
)
def test_changes_that_would_break_answers_are_refused_once_started(
    manager, kind, before, after, field
):
    project = project_create(user=manager, name="p", kind=kind, schema=before)
    Project.objects.filter(pk=project.pk).update(n_annotations=1)
    project.refresh_from_db()
    with pytest.raises(SchemaError) as exc:
        project_update(project=project, schema=after)
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("kind", "before", "after"),
    [
        ("pairwise", {"strength": "labels"}, {"strength": "scale", "flags": ["new"]}),
        ("pairwise", {"allow_tie": False}, {"allow_tie": True, "rationale": "required"}),
        ("likert", {"low_label": "Bad"}, {"low_label": "Very bad"}),
        ("ranking", {"allow_ties": False}, {"allow_ties": True}),
    ],
)
def test_changes_that_keep_answers_valid_are_allowed_once_started(manager, kind, before, after):
    project = project_create(user=manager, name="p", kind=kind, schema=before)
    Project.objects.filter(pk=project.pk).update(n_annotations=1)
    project.refresh_from_db()
    project_update(project=project, schema=after)


def test_before_labeling_anything_goes_except_the_kind_once_items_exist(project, manager):
    project_update(project=project, schema={"choices": ["a", "b"]})
    ItemFactory(project=project)
    with pytest.raises(SchemaError, match="items are imported"):
        project_update(project=project, kind="likert", schema={})


def test_changing_overlap_recounts_complete_items(project, manager):
    ItemFactory(project=project, n_done=2)
    ItemFactory(project=project, n_done=1)
    project_update(project=project, overlap=1)
    assert (project.overlap, project.n_complete) == (1, 2)


def test_the_api_refuses_a_breaking_schema_change_naming_the_field(project, manager, rater):
    started(project, rater)
    client = APIClient()
    client.force_authenticate(manager)
    response = client.patch(
        f"/api/projects/{project.pk}/", {"schema": {"choices": ["yes"]}}, format="json"
    )
    assert response.status_code == 400 and "choices" in response.data
    response = client.patch(
        f"/api/projects/{project.pk}/",
        {"schema": {"choices": ["yes", "no", "unsure"]}},
        format="json",
    )
    assert response.status_code == 200
    assert response.data["schema"]["choices"][2]["value"] == "unsure"
    client.force_authenticate(rater)
    assert (
        client.patch(f"/api/projects/{project.pk}/", {"name": "x"}, format="json").status_code
        == 404
    )


POSTS = {
    "single_choice": {
        "choice_value": ["pos", "neg", ""],
        "choice_label": ["Positive", "Negative", ""],
        "choice_hotkey": ["p", "", ""],
        "choice_description": ["Upbeat", "", ""],
    },
    "multi_choice": {
        "choice_value": ["a", "b", "c"],
        "choice_label": ["", "", ""],
        "choice_hotkey": ["", "", ""],
        "choice_description": ["", "", ""],
        "max_selected": "2",
    },
    "likert": {
        "scale": "7",
        "low_label": "Bad",
        "high_label": "Good",
        "dimension_name": ["helpfulness", "honesty"],
        "dimension_label": ["Helpful", ""],
    },
    "pairwise": {
        "allow_tie": "on",
        "strength": "labels",
        "rationale": "required",
        "flag_value": ["acceptable", ""],
        "flag_label": ["A is acceptable", ""],
    },
    "ranking": {"min_responses": "3", "max_responses": "5", "allow_ties": "on"},
    "demonstration": {"min_length": "20", "show_draft": "on"},
}
EXPECTED = {
    "single_choice": lambda s: (
        s["choices"][0]
        == {"value": "pos", "label": "Positive", "hotkey": "p", "description": "Upbeat"}
        and len(s["choices"]) == 2
    ),
    "multi_choice": lambda s: s["max_selected"] == 2,
    "likert": lambda s: (
        s["scale"] == 7 and [d["name"] for d in s["dimensions"]] == ["helpfulness", "honesty"]
    ),
    "pairwise": lambda s: (
        s["allow_tie"]
        and not s["allow_both_bad"]
        and s["strength"] == "labels"
        and s["flags"] == [{"value": "acceptable", "label": "A is acceptable"}]
    ),
    "ranking": lambda s: s["max_responses"] == 5 and s["allow_ties"],
    "demonstration": lambda s: s["min_length"] == 20 and s["show_draft"],
}


@pytest.mark.parametrize("kind", list(POSTS))
def test_the_schema_editor_creates_every_kind(client, boss, kind):
    client.force_login(boss)
    page = client.get(reverse("tasks:schema-fields"), {"kind": kind})
    assert page.status_code == 200
    response = client.post(
        reverse("tasks:project-new"),
        {"name": f"A {kind}", "kind": kind, "overlap": "2", "instructions": "", **POSTS[kind]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(name=f"A {kind}")
    assert project.kind == kind and EXPECTED[kind](project.schema), project.schema


def test_the_schema_editor_names_the_field_at_fault(client, boss):
    client.force_login(boss)
    response = client.post(
        reverse("tasks:project-new"),
        {
            "name": "x",
            "kind": "single_choice",
            "overlap": "1",
            **{
                "choice_value": ["a", "b"],
                "choice_label": ["", ""],
                "choice_hotkey": ["1", "1"],
                "choice_description": ["", ""],
            },
        },
    )
    assert response.status_code == 200
    assert "Choice 2, hotkey: &#x27;1&#x27; is already used" in response.content.decode()
    assert not Project.objects.filter(name="x").exists()


def test_the_settings_page_refuses_a_breaking_change_with_a_message(
    client, project, manager, rater
):
    started(project, rater)
    client.force_login(manager)
    response = client.post(
        reverse("tasks:project-settings", args=[project.pk]),
        {
            "name": project.name,
            "kind": "single_choice",
            "overlap": "2",
            "choice_value": ["yes"],
            "choice_label": [""],
            "choice_hotkey": [""],
            "choice_description": [""],
        },
    )
    assert response.status_code == 200
    assert (
        "cannot be removed or renamed" in response.content.decode()
        or "needs 2 to 50" in response.content.decode()
    )
    response = client.post(
        reverse("tasks:project-settings", args=[project.pk]),
        {
            "name": project.name,
            "kind": "single_choice",
            "overlap": "2",
            "choice_value": ["yes", "maybe"],
            "choice_label": ["", ""],
            "choice_hotkey": ["", ""],
            "choice_description": ["", ""],
        },
    )
    assert "&#x27;no&#x27; has answers already" in response.content.decode()
    client.force_login(rater)
    assert client.get(reverse("tasks:project-settings", args=[project.pk])).status_code == 404


EDITOR_INPUTS = {
    "single_choice": "choice_value",
    "multi_choice": "max_selected",
    "likert": "dimension_name",
    "pairwise": "allow_both_bad",
    "ranking": "min_responses",
    "demonstration": "show_draft",
}


@pytest.mark.parametrize(("kind", "field"), list(EDITOR_INPUTS.items()))
def test_the_schema_editor_shows_each_kinds_own_inputs(client, boss, kind, field):
    client.force_login(boss)
    page = client.get(reverse("tasks:schema-fields"), {"kind": kind}).content.decode()
    assert f'name="{field}"' in page
    others = {f for k, f in EDITOR_INPUTS.items() if k != kind and f != field}
    if kind == "multi_choice":
        others.discard("choice_value")  # multiple choice lists its choices too
    assert not [f for f in others if f'name="{f}"' in page]


@pytest.mark.parametrize(
    ("row", "field"),
    [("choice", "choice_hotkey"), ("dimension", "dimension_label"), ("flag", "flag_value")],
)
def test_adding_a_row_in_the_schema_editor_returns_one_blank_row(client, boss, row, field):
    client.force_login(boss)
    response = client.get(reverse("tasks:schema-row"), {"row": row})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<tr>") == 1 and f'name="{field}" value=""' in html


def test_the_schema_editor_has_no_row_of_an_unknown_group(client, boss):
    client.force_login(boss)
    assert client.get(reverse("tasks:schema-row"), {"row": "turn"}).status_code == 404


def test_settings_posted_with_an_unknown_kind_name_the_choice_and_change_nothing(
    client, manager, project
):
    client.force_login(manager)
    response = client.post(
        reverse("tasks:project-settings", args=[project.pk]),
        {"name": "renamed", "kind": "span_tagging_v0", "overlap": "2", "instructions": ""},
    )
    assert response.status_code == 200
    assert "kind: must be one of single_choice" in response.content.decode().lower()
    project.refresh_from_db()
    assert project.name != "renamed" and project.kind == "single_choice"


def test_the_schema_editor_refuses_a_hotkey_the_workbench_uses(client, boss):
    client.force_login(boss)
    response = client.post(
        reverse("tasks:project-new"),
        {
            "name": "keys",
            "kind": "single_choice",
            "overlap": "1",
            "choice_value": ["spam", "ham"],
            "choice_label": ["", ""],
            "choice_hotkey": ["s", "h"],
            "choice_description": ["", ""],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Choice 1, hotkey: &#x27;s&#x27; is a workbench shortcut; ? c f g r s u are taken" in html
    )
    assert not Project.objects.filter(name="keys").exists()
