"""The label schema in the OpenAPI document: one component per kind, built from the keys
each kind declares (tasks/kinds/keys.py), with the item fields it reads and a line to copy.

The serializers here only describe; a project's schema is still checked by its kind's
`schema_validate`, whose messages name the bad key.
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from tasks import kinds
from tasks import schema as schemas
from tasks.kinds.keys import OTHER_FIELDS, item_fields


def _field(key, owner: str):
    common = {"required": False, "help_text": key.help}
    if key.has_default:
        common["default"] = key.default
    if key.maximum_note:
        common["help_text"] += f" ({key.maximum_note}.)"
    if key.type == "boolean":
        return serializers.BooleanField(**common)
    if key.type == "integer":
        return serializers.IntegerField(min_value=key.minimum, max_value=key.maximum, **common)
    if key.type == "string" and key.enum:
        return serializers.ChoiceField(choices=list(key.enum), **common)
    if key.type == "string":
        return serializers.CharField(allow_blank=True, **common)
    child = _serializer(f"{owner}{key.name.title().replace('_', '')}Entry", key.entries, key.help)
    return serializers.ListField(
        child=child(), min_length=key.min_items, max_length=key.max_items, **common
    )


def _serializer(name: str, keys, doc: str):
    fields = {key.name: _field(key, name) for key in keys}
    return type(f"{name}Serializer", (serializers.Serializer,), {**fields, "__doc__": doc})


def _kind_doc(label_kind) -> str:
    fields = item_fields(label_kind)
    optional = f"; optional {', '.join(fields['optional'])}" if fields["optional"] else ""
    return (
        f"The label schema of a {label_kind.label.lower()} project (kind `{label_kind.name}`).\n\n"
        f"Item fields: required {', '.join(fields['required']) or 'none'}{optional}. "
        f"{fields['note']} {OTHER_FIELDS}\n\n"
        f"Example item line: `{fields['line']}` under the schema `{fields['schema']}`."
    )


KIND_SERIALIZERS = {
    name: _serializer(
        "".join(part.title() for part in name.split("_")) + "Schema",
        kinds.get(name).schema_keys,
        _kind_doc(kinds.get(name)),
    )
    for name in schemas.KINDS
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="LabelSchema",
        serializers=[s() for s in KIND_SERIALIZERS.values()],
        resource_type_field_name=None,
    )
)
class LabelSchemaField(serializers.JSONField):
    """A project's label schema; which keys apply depends on the project's `kind`."""
