"""What each label kind's schema keys and item fields are, as the API and the project page
document them.

Validation stays with each kind's `schema_validate` and `item_validate`; these
declarations only describe. tests/tasks/test_schema_docs.py holds the two together: every
key a kind's validation returns is declared here and every declared default, bound and
choice is the one the validation applies, so the documentation cannot drift from the rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NO_DEFAULT = object()


@dataclass(frozen=True)
class Key:
    """One key of a label schema.

    type: "boolean", "integer", "string" or "list"; a list's `entries` are the keys of each
    of its objects (an entry may also be a plain string, its first key's value).
    maximum None with `maximum_note`: a bound that depends on another key.
    """

    name: str
    type: str
    help: str
    default: Any = NO_DEFAULT
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    maximum_note: str = ""
    entries: tuple[Key, ...] = ()
    min_items: int | None = None
    max_items: int | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


def option_entries(noun: str, extra: tuple[Key, ...] = ()) -> tuple[Key, ...]:
    """The keys of a picked option (a choice, a span label): a value, else a plain string."""
    return (
        Key("value", "string", f"What the {noun} is stored as; unique."),
        Key("label", "string", "What raters read; the value if left out."),
        Key(
            "hotkey",
            "string",
            "One character; the first ten get 1-9 and 0. None of g ? u s r f c, none twice.",
        ),
        Key("description", "string", "A line shown as the option's tooltip.", default=""),
        *extra,
    )


def named_entries_keys(noun: str, extra: tuple[Key, ...] = ()) -> tuple[Key, ...]:
    """The keys of a named entry (a Likert dimension, a rubric criterion)."""
    return (
        Key("name", "string", f"The {noun}'s identifier in answers and exports, e.g. helpfulness."),
        Key("label", "string", "What raters read; the name, capitalised, if left out."),
        *extra,
    )


def scale_keys(default: int) -> tuple[Key, ...]:
    return (
        Key("scale", "integer", "Points on the scale, 1 to scale.", default, minimum=2, maximum=11),
        Key("low_label", "string", "The label of point 1.", default="Poor"),
        Key("high_label", "string", "The label of the top point.", default="Excellent"),
    )


@dataclass(frozen=True)
class ItemExample:
    """A line of JSONL to copy for a kind, what its fields mean, and the smallest schema
    under which the line is a valid item. Which fields are required or shown is the kind's
    own `required_fields` and `optional_fields`."""

    note: str
    line: dict
    schema: dict


# What every kind's items may carry besides their fields, as the importer reads a line.
OTHER_FIELDS = (
    "Fields a kind does not show stay with the item and are exported. meta, an object, holds "
    "provenance such as model names and tags; external_id makes re-imports skip known items; "
    "priority orders the queue."
)


def item_fields(label_kind) -> dict:
    """What the API and the project page say of a kind's items: its required and optional
    fields, the note, and the example line and schema as JSON."""
    required = list(label_kind.required_fields)
    example = label_kind.item_example
    return {
        "required": required,
        "optional": [f for f in label_kind.optional_fields if f not in required],
        "note": example.note,
        "other": OTHER_FIELDS,
        "line": json.dumps(example.line, ensure_ascii=False),
        "schema": json.dumps(example.schema, ensure_ascii=False),
    }
