"""Label schemas: what a project asks raters, and how answers and items are checked.

A schema is plain JSON stored on the project. Every check raises SchemaError naming the
field at fault, so the schema editor, the API and the importer can all say exactly what
to fix. Pure Python: no database, no Django.

What differs between kinds lives in the kind's own module under `tasks/kinds/`; this module
holds what every kind shares (records, pre-existing labels, the import preview) and the
entry points the rest of Vox calls. Answers are stored in one canonical shape per kind,
whatever the screen showed; each kind module's docstring gives its shape.
"""

from __future__ import annotations

from typing import Any

from tasks import kinds
from tasks.kinds.base import CHAT_ROLES, MAX_TEXT, Choice, SchemaError, chat_turns
from tasks.kinds.pairwise import ANSWERS as PAIRWISE_ANSWERS
from tasks.kinds.pairwise import STRENGTH_LABELS, unswap
from tasks.kinds.ranking import MAX_RESPONSES, MIN_RESPONSES, response_texts

# The kinds' names, for code and tests that create projects of a given kind.
SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
LIKERT = "likert"
PAIRWISE = "pairwise"
RANKING = "ranking"
DEMONSTRATION = "demonstration"
KINDS = kinds.KINDS
KIND_LABELS = kinds.KIND_LABELS

__all__ = [
    "CHAT_ROLES",
    "MAX_RESPONSES",
    "MAX_TEXT",
    "MIN_RESPONSES",
    "PAIRWISE_ANSWERS",
    "STRENGTH_LABELS",
    "Choice",
    "SchemaError",
    "chat_turns",
    "response_texts",
]


# --- Schemas ----------------------------------------------------------------------------------


def schema_validate(kind: str, schema: Any) -> dict:
    """Return the schema in canonical form, or raise SchemaError naming the bad field."""
    label_kind = kinds.get(kind)
    if schema is None:
        schema = {}
    if not isinstance(schema, dict):
        raise SchemaError("schema", "must be an object")
    return label_kind.schema_validate(schema)


def schema_change_problem(old_kind: str, old: dict, new_kind: str, new: dict) -> SchemaError | None:
    """Why replacing schema `old` with `new` would break existing annotations, or None.

    Both schemas are canonical. A change is allowed only when every stored answer stays
    valid and keeps its meaning: adding a choice, a flag or a tie option is fine; removing or
    renaming a choice, changing the kind or the scale, or tightening a rule is not.
    """
    if old_kind != new_kind:
        return SchemaError("kind", "cannot change once labeling has started")
    return kinds.get(new_kind).schema_change_problem(old, new)


# --- Answers ----------------------------------------------------------------------------------


def choices_of(kind: str, schema: dict) -> list[Choice]:
    """The answers a rater picks from, as shown in the workbench."""
    return kinds.get(kind).choices(schema)


def value_validate(kind: str, schema: dict, value: Any, *, item_data: dict | None = None) -> Any:
    """Check a rater's answer against the schema; return it in canonical form.

    Some kinds also need the item: a ranking, to know how many responses there are.
    """
    return kinds.get(kind).value_validate(schema, value, item_data or {})


def pairwise_unswap(value: dict, swapped: bool) -> dict:
    """Map an answer about the sides as displayed back to the item's own A and B."""
    return unswap(value, swapped)


def label_options(kind: str, schema: dict) -> list[tuple[str, str]]:
    """(value, label) of each answer option a worked example or a vote count can refer to.

    Likert options are the scale points; ranking and demonstration have no fixed options.
    """
    return kinds.get(kind).label_options(schema)


# --- Items ------------------------------------------------------------------------------------

RESERVED_FIELDS = ("external_id", "priority", "meta", "labels")
PRIORITY_MIN, PRIORITY_MAX = -(2**31), 2**31 - 1


def item_validate(
    kind: str, record: Any, schema: dict | None = None
) -> tuple[dict, str | None, int, dict]:
    """Split one imported record into (data, external_id, priority, meta), or raise SchemaError.

    `meta` holds provenance kept from raters (e.g. which model wrote a response). Pre-existing
    labels (`labels`) are checked by the importer, which knows the raters.
    """
    if not isinstance(record, dict):
        raise SchemaError("(record)", "must be a JSON object")
    data = {k: v for k, v in record.items() if k not in RESERVED_FIELDS}
    if not data:
        raise SchemaError("(record)", "has no fields to label")
    kinds.get(kind).item_validate(data, schema or {})
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
    if not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        # The column is a 32-bit integer; past it the whole import would fail in the COPY.
        raise SchemaError("priority", f"must be between {PRIORITY_MIN:,} and {PRIORITY_MAX:,}")
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        raise SchemaError("meta", "must be an object")
    if "tags" in meta:
        meta = {**meta, "tags": tags_validate(meta["tags"], field="meta.tags")}
    return data, external_id, priority, meta


MAX_TAGS, MAX_TAG_LENGTH = 20, 64


def tags_validate(tags: Any, *, field: str = "tags") -> list[str]:
    """An item's tags (`meta.tags`): distinct short strings, in the order given.

    Managers filter the item browser by them and bulk-tag items; raters never see meta.
    """
    if not isinstance(tags, list):
        raise SchemaError(field, "must be a list of strings")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise SchemaError(field, "must hold non-empty strings only")
        tag = tag.strip()
        if len(tag) > MAX_TAG_LENGTH or not tag.isprintable():
            raise SchemaError(
                field, f"each tag must be printable and at most {MAX_TAG_LENGTH} characters"
            )
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise SchemaError(field, f"must hold at most {MAX_TAGS} tags")
    return out


# --- Pre-existing labels ----------------------------------------------------------------------

MAX_LABELS_PER_ITEM = 100
# External rater names become usernames "ext:<name>"; keep them to a safe, short alphabet.
_RATER_NAME_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@+-:"
)
EXTERNAL_RATER_PREFIX = "ext:"


def labels_validate(kind: str, schema: dict, raw: Any, data: dict) -> list[dict]:
    """Check an imported record's `labels`: [{"rater": "crowd_17", "value": ...}, ...].

    Each value is checked like a rater's answer and returned in canonical form. Errors name
    the entry, e.g. `labels[1].value.choice`.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SchemaError("labels", 'must be a list of {"rater": ..., "value": ...} objects')
    if len(raw) > MAX_LABELS_PER_ITEM:
        raise SchemaError("labels", f"has {len(raw)} labels; at most {MAX_LABELS_PER_ITEM}")
    out, seen = [], set()
    for i, entry in enumerate(raw):
        where = f"labels[{i}]"
        if not isinstance(entry, dict):
            raise SchemaError(where, 'must be an object with "rater" and "value"')
        rater = entry.get("rater")
        if isinstance(rater, int) and not isinstance(rater, bool):
            rater = str(rater)
        if (
            not isinstance(rater, str)
            or not 1 <= len(rater) <= 100
            or not set(rater) <= _RATER_NAME_CHARS
        ):
            raise SchemaError(
                f"{where}.rater",
                "must be a rater name of 1 to 100 letters, digits or _ . @ + - :",
            )
        if rater in seen:
            raise SchemaError(f"{where}.rater", f"{rater!r} labels this item twice")
        seen.add(rater)
        if "value" not in entry:
            raise SchemaError(f"{where}.value", "is required")
        try:
            value = value_validate(kind, schema, entry["value"], item_data=data)
        except SchemaError as exc:
            raise SchemaError(f"{where}.{exc.field}", exc.message) from None
        out.append({"rater": rater, "value": value})
    return out


# --- Field mapping (import preview) -----------------------------------------------------------

RESERVED_ROLES = {
    "external_id": "identifies the item; a re-import skips ids the project already has",
    "priority": "queue order: higher is served first; not shown",
    "meta": "kept for exports, never shown to raters",
    "labels": "pre-existing labels, saved as annotations by external raters",
}


def field_roles(kind: str, fields: list[str]) -> list[dict]:
    """How each field of an imported record maps to the schema, for the preview.

    Returns [{"field", "role", "required", "present"}]: required fields come first (marked
    missing when absent from the sampled rows), then every other field in file order.
    """
    label_kind = kinds.get(kind)
    required = label_kind.required_fields
    rows = [
        {"field": f, "role": "shown to raters", "required": True, "present": f in fields}
        for f in required
    ]
    for f in fields:
        if f in required:
            continue
        if f in RESERVED_ROLES:
            role = RESERVED_ROLES[f]
        elif label_kind.shows_field(f):
            role = "shown to raters"
        else:
            role = "kept with the item; not part of this kind's display"
        rows.append({"field": f, "role": role, "required": False, "present": True})
    return rows
