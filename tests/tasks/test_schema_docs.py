"""The documented schema keys and item examples of every kind are the rules its validation
applies (tasks/kinds/keys.py): a key, default, bound or choice that drifted fails here."""

import copy
import json

import pytest
from django.urls import reverse

from tasks import kinds
from tasks import schema as schemas
from tasks.kinds.base import SchemaError

KINDS = list(schemas.KINDS)


def kind_keys(name):
    return {k.name: k for k in kinds.get(name).schema_keys}


def example_schema(name):
    return copy.deepcopy(kinds.get(name).item_example.schema)


@pytest.mark.parametrize("name", KINDS)
def test_every_key_the_validation_returns_is_documented_and_no_other(name):
    canonical = kinds.get(name).schema_validate(example_schema(name))
    keys = kind_keys(name)
    assert set(canonical) == set(keys)
    for key in keys.values():
        if key.entries:
            for entry in canonical[key.name]:
                assert set(entry) == {e.name for e in key.entries}, key.name


@pytest.mark.parametrize("name", KINDS)
def test_every_documented_default_is_the_one_applied_when_the_key_is_left_out(name):
    label_kind = kinds.get(name)
    for key in label_kind.schema_keys:
        if not key.has_default:
            continue
        schema = {k: v for k, v in example_schema(name).items() if k != key.name}
        assert label_kind.schema_validate(schema)[key.name] == key.default, key.name


@pytest.mark.parametrize("name", KINDS)
def test_every_documented_choice_and_bound_is_accepted_and_a_step_past_it_refused(name):
    label_kind = kinds.get(name)
    for key in label_kind.schema_keys:
        for value in key.enum:
            assert label_kind.schema_validate({**example_schema(name), key.name: value})
        if key.enum:
            with pytest.raises(SchemaError) as bad:
                label_kind.schema_validate({**example_schema(name), key.name: "no-such-mode"})
            assert bad.value.field == key.name
        for bound, step in ((key.minimum, -1), (key.maximum, 1)):
            if bound is None:
                continue
            schema = {**example_schema(name), key.name: bound}
            if key.name == "min_responses":
                schema["max_responses"] = max(bound, schema.get("max_responses", bound))
            if key.name == "max_responses":
                schema["min_responses"] = min(bound, schema.get("min_responses", bound))
            assert label_kind.schema_validate(schema)[key.name] == bound
            with pytest.raises(SchemaError) as bad:
                label_kind.schema_validate({**schema, key.name: bound + step})
            assert bad.value.field == key.name


@pytest.mark.parametrize("name", KINDS)
def test_every_kinds_example_line_is_a_valid_item_with_its_required_fields(name):
    label_kind = kinds.get(name)
    example = label_kind.item_example
    canonical = label_kind.schema_validate(copy.deepcopy(example.schema))
    # Read as the importer reads a line: meta (model names, tags) kept apart from the data.
    data, _, _, meta = schemas.item_validate(name, copy.deepcopy(example.line), canonical)
    assert meta == example.line.get("meta", {})
    assert set(label_kind.required_fields) <= set(data)
    for field in label_kind.required_fields:
        with pytest.raises(SchemaError) as missing:
            label_kind.item_validate({k: v for k, v in data.items() if k != field}, canonical)
        assert missing.value.field == field


def test_the_openapi_document_has_one_typed_schema_component_per_kind(client, manager):
    client.force_login(manager)
    doc = client.get(reverse("api:schema"), {"format": "json"}).json()
    components = doc["components"]["schemas"]
    label_schema = components["LabelSchema"]
    refs = {ref["$ref"].rsplit("/", 1)[1] for ref in label_schema["oneOf"]}
    assert len(refs) == len(KINDS)
    pairwise = components["PairwiseSchema"]
    strength = pairwise["properties"]["strength"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert components[strength]["enum"] == ["none", "labels", "scale"]
    assert pairwise["properties"]["allow_tie"]["default"] is True
    assert "response_a" in pairwise["description"]
    ranking = components["RankingSchema"]["properties"]["max_responses"]
    assert (ranking["minimum"], ranking["maximum"]) == (3, 9)
    choices = components["SingleChoiceSchema"]["properties"]["choices"]
    entry = components[choices["items"]["$ref"].rsplit("/", 1)[1]]
    assert choices["minItems"] == 2 and {"value", "label", "hotkey"} <= set(entry["properties"])
    project = components["Project"]["properties"]["schema"]
    assert "LabelSchema" in json.dumps(project)


def test_the_project_page_shows_the_item_fields_and_a_line_to_copy(client, manager, project):
    client.force_login(manager)
    html = client.get(reverse("tasks:project-detail", args=[project.pk])).content.decode()
    example = kinds.get(project.kind).item_example
    assert "Item fields" in html
    assert json.dumps(example.line, ensure_ascii=False).replace('"', "&quot;") in html


def test_the_project_detail_documents_the_callers_role(client, manager):
    client.force_login(manager)
    doc = client.get(reverse("api:schema"), {"format": "json"}).json()
    detail = doc["paths"]["/api/projects/{project_id}/"]["get"]["responses"]["200"]
    ref = detail["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "role" in doc["components"]["schemas"][ref]["properties"]
