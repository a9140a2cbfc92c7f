"""Label schemas: what a project asks raters, and how answers and items are checked.

A schema is plain JSON stored on the project. Every check raises SchemaError naming the
field at fault, so the schema editor, the API and the importer can all say exactly what
to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SINGLE_CHOICE = "single_choice"
PAIRWISE = "pairwise"
KINDS = (SINGLE_CHOICE, PAIRWISE)
KIND_LABELS = {SINGLE_CHOICE: "Single choice", PAIRWISE: "Pairwise preference"}

MIN_CHOICES, MAX_CHOICES = 2, 50
# The first nine choices get number keys by default; the tenth gets 0.
DEFAULT_HOTKEYS = [*"123456789", "0"]
PAIRWISE_ANSWERS = ("A", "B", "tie", "both_bad")


class SchemaError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hotkey: str
    description: str = ""


def schema_validate(kind: str, schema: Any) -> dict:
    """Return the schema in canonical form, or raise SchemaError naming the bad field."""
    if kind not in KINDS:
        raise SchemaError("kind", f"must be one of {', '.join(KINDS)}")
    if not isinstance(schema, dict):
        raise SchemaError("schema", "must be an object")
    if kind == SINGLE_CHOICE:
        return {"choices": [c.__dict__ for c in _choices_validate(schema.get("choices"))]}
    allow_tie = schema.get("allow_tie", True)
    allow_both_bad = schema.get("allow_both_bad", True)
    for field, value in (("allow_tie", allow_tie), ("allow_both_bad", allow_both_bad)):
        if not isinstance(value, bool):
            raise SchemaError(field, "must be true or false")
    return {"allow_tie": allow_tie, "allow_both_bad": allow_both_bad}


def _choices_validate(raw: Any) -> list[Choice]:
    if not isinstance(raw, list):
        raise SchemaError("choices", "must be a list")
    if not MIN_CHOICES <= len(raw) <= MAX_CHOICES:
        raise SchemaError(
            "choices", f"needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {len(raw)}"
        )
    choices, seen_values, seen_keys = [], set(), set()
    for i, entry in enumerate(raw):
        where = f"choices[{i}]"
        if isinstance(entry, str):
            entry = {"value": entry}
        if not isinstance(entry, dict):
            raise SchemaError(where, "must be a string or an object with a value")
        value = entry.get("value")
        if not isinstance(value, str) or not value.strip():
            raise SchemaError(f"{where}.value", "must be a non-empty string")
        value = value.strip()
        if value in seen_values:
            raise SchemaError(f"{where}.value", f"duplicates {value!r}")
        hotkey = entry.get("hotkey") or (DEFAULT_HOTKEYS[i] if i < len(DEFAULT_HOTKEYS) else "")
        if not isinstance(hotkey, str) or len(hotkey) > 1:
            raise SchemaError(f"{where}.hotkey", "must be a single character")
        if hotkey and hotkey in seen_keys:
            raise SchemaError(f"{where}.hotkey", f"{hotkey!r} is already used")
        label = entry.get("label") or value
        description = entry.get("description") or ""
        if not isinstance(label, str):
            raise SchemaError(f"{where}.label", "must be a string")
        if not isinstance(description, str):
            raise SchemaError(f"{where}.description", "must be a string")
        seen_values.add(value)
        if hotkey:
            seen_keys.add(hotkey)
        choices.append(Choice(value=value, label=label, hotkey=hotkey, description=description))
    return choices


PAIRWISE_CHOICES = (
    Choice("A", "A is better", "1"),
    Choice("B", "B is better", "2"),
    Choice("tie", "Tie", "3"),
    Choice("both_bad", "Both are bad", "4"),
)


def choices_of(schema: dict) -> list[Choice]:
    """The answers a rater picks from, as shown in the workbench."""
    if "choices" in schema:
        return [Choice(**c) for c in schema["choices"]]
    return [
        c
        for c in PAIRWISE_CHOICES
        if (c.value != "tie" or schema.get("allow_tie"))
        and (c.value != "both_bad" or schema.get("allow_both_bad"))
    ]


def value_from_form(kind: str, raw: str | None) -> Any:
    """The workbench posts one picked choice; shape it as the kind's value."""
    return {"choice": raw} if kind == PAIRWISE else raw


def value_validate(kind: str, schema: dict, value: Any) -> Any:
    """Check a rater's answer against the schema; return it in canonical form."""
    if kind == SINGLE_CHOICE:
        allowed = {c["value"] for c in schema["choices"]}
        if not isinstance(value, str) or value not in allowed:
            raise SchemaError("value", f"must be one of {', '.join(sorted(allowed))}")
        return value
    if not isinstance(value, dict):
        raise SchemaError("value", "must be an object with a choice")
    allowed = ["A", "B"]
    if schema.get("allow_tie"):
        allowed.append("tie")
    if schema.get("allow_both_bad"):
        allowed.append("both_bad")
    if value.get("choice") not in allowed:
        raise SchemaError("value.choice", f"must be one of {', '.join(allowed)}")
    return {"choice": value["choice"]}


# Fields an item must carry, by kind. Anything else is kept and shown as context.
REQUIRED_ITEM_FIELDS = {SINGLE_CHOICE: (), PAIRWISE: ("prompt", "response_a", "response_b")}
RESERVED_FIELDS = ("external_id", "priority", "meta")


def item_validate(kind: str, record: Any) -> tuple[dict, str | None, int, dict]:
    """Split one imported record into (data, external_id, priority, meta), or raise SchemaError.

    `meta` holds provenance kept from raters (e.g. which model wrote a response).
    """
    if not isinstance(record, dict):
        raise SchemaError("(record)", "must be a JSON object")
    data = {k: v for k, v in record.items() if k not in RESERVED_FIELDS}
    for field in REQUIRED_ITEM_FIELDS[kind]:
        if field not in data:
            raise SchemaError(field, "is required")
        if not isinstance(data[field], str):
            raise SchemaError(field, "must be a string")
    if not data:
        raise SchemaError("(record)", "has no fields to label")
    external_id = record.get("external_id")
    if external_id is not None:
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id.strip():
            raise SchemaError("external_id", "must be a non-empty string")
        if len(external_id) > 255:
            raise SchemaError("external_id", "must be at most 255 characters")
        external_id = external_id.strip()
    priority = record.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise SchemaError("priority", "must be an integer")
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        raise SchemaError("meta", "must be an object")
    return data, external_id, priority, meta
