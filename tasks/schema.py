"""Label schemas: what a project asks raters, and how answers and items are checked.

A schema is plain JSON stored on the project. Every check raises SchemaError naming the
field at fault, so the schema editor, the API and the importer can all say exactly what
to fix. Pure Python: no database, no Django.

Answers are stored in one canonical shape per kind, whatever the screen showed:

| kind | value |
|---|---|
| single_choice | `"positive"` |
| multi_choice | `["spam", "offensive"]` (sorted as in the schema) |
| likert | `{"helpfulness": 4, "harmlessness": 5}`, one entry per dimension |
| pairwise | `{"choice": "A", "strength": 2, "flags": {"A": ["acceptable"], "B": []}, "rationale": ""}` |
| ranking | `{"ranking": [[2], [0, 1], [3]]}`: best tier first, response indexes, ties share a tier |
| demonstration | `{"text": "the ideal response"}` |

Pairwise answers always name the item's own response_a as "A": the workbench may show
the two sides swapped, and the server undoes that before storing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
LIKERT = "likert"
PAIRWISE = "pairwise"
RANKING = "ranking"
DEMONSTRATION = "demonstration"
KINDS = (SINGLE_CHOICE, MULTI_CHOICE, LIKERT, PAIRWISE, RANKING, DEMONSTRATION)
KIND_LABELS = {
    SINGLE_CHOICE: "Single choice",
    MULTI_CHOICE: "Multiple choice",
    LIKERT: "Likert rating",
    PAIRWISE: "Pairwise preference",
    RANKING: "Ranking",
    DEMONSTRATION: "Demonstration (write the ideal response)",
}

MIN_CHOICES, MAX_CHOICES = 2, 50
MIN_SCALE, MAX_SCALE = 2, 11
MIN_RESPONSES, MAX_RESPONSES = 3, 9
MAX_DIMENSIONS = 10
# The first nine choices get number keys by default; the tenth gets 0.
DEFAULT_HOTKEYS = [*"123456789", "0"]
PAIRWISE_ANSWERS = ("A", "B", "tie", "both_bad")
STRENGTH_MODES = ("none", "labels", "scale")
# "labels" mode: 1 slightly, 2 clearly, 3 much better. "scale" mode shows -3..+3 and
# stores the same choice and magnitude.
STRENGTH_LABELS = {1: "slightly better", 2: "clearly better", 3: "much better"}
RATIONALE_MODES = ("none", "optional", "required")
CHAT_ROLES = ("system", "user", "assistant")
MAX_TEXT = 100_000


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


# --- Schemas ----------------------------------------------------------------------------------


def schema_validate(kind: str, schema: Any) -> dict:
    """Return the schema in canonical form, or raise SchemaError naming the bad field."""
    if kind not in KINDS:
        raise SchemaError("kind", f"must be one of {', '.join(KINDS)}")
    if schema is None:
        schema = {}
    if not isinstance(schema, dict):
        raise SchemaError("schema", "must be an object")
    return _SCHEMA_VALIDATORS[kind](schema)


def _choice_schema(schema: dict) -> dict:
    return {"choices": [c.__dict__ for c in _choices_validate(schema.get("choices"))]}


def _multi_choice_schema(schema: dict) -> dict:
    canonical = _choice_schema(schema)
    n = len(canonical["choices"])
    min_selected = _int(schema, "min_selected", 0, 0, n)
    max_selected = _int(schema, "max_selected", n, 1, n)
    if min_selected > max_selected:
        raise SchemaError("min_selected", "must not exceed max_selected")
    return {**canonical, "min_selected": min_selected, "max_selected": max_selected}


def _likert_schema(schema: dict) -> dict:
    scale = _int(schema, "scale", 5, MIN_SCALE, MAX_SCALE)
    low, high = _str(schema, "low_label", "Poor"), _str(schema, "high_label", "Excellent")
    raw = schema.get("dimensions") or [{"name": "rating", "label": "Rating"}]
    if not isinstance(raw, list) or len(raw) > MAX_DIMENSIONS:
        raise SchemaError("dimensions", f"must be a list of at most {MAX_DIMENSIONS} dimensions")
    dimensions, seen = [], set()
    for i, entry in enumerate(raw):
        where = f"dimensions[{i}]"
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise SchemaError(where, "must be a name or an object with a name")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip().isidentifier():
            raise SchemaError(f"{where}.name", "must be a short identifier, e.g. helpfulness")
        name = name.strip()
        if name in seen:
            raise SchemaError(f"{where}.name", f"duplicates {name!r}")
        seen.add(name)
        label = entry.get("label") or name.replace("_", " ").capitalize()
        if not isinstance(label, str):
            raise SchemaError(f"{where}.label", "must be a string")
        dimensions.append({"name": name, "label": label})
    return {"scale": scale, "low_label": low, "high_label": high, "dimensions": dimensions}


def _pairwise_schema(schema: dict) -> dict:
    allow_tie = _bool(schema, "allow_tie", True)
    allow_both_bad = _bool(schema, "allow_both_bad", True)
    strength = schema.get("strength", "none")
    if strength not in STRENGTH_MODES:
        raise SchemaError("strength", f"must be one of {', '.join(STRENGTH_MODES)}")
    rationale = schema.get("rationale", "optional")
    if rationale not in RATIONALE_MODES:
        raise SchemaError("rationale", f"must be one of {', '.join(RATIONALE_MODES)}")
    raw_flags = schema.get("flags", [])
    if not isinstance(raw_flags, list) or len(raw_flags) > 10:
        raise SchemaError("flags", "must be a list of at most 10 flags")
    flags, seen = [], set()
    for i, entry in enumerate(raw_flags):
        if isinstance(entry, str):
            entry = {"value": entry}
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise SchemaError(f"flags[{i}].value", "must be a non-empty string")
        if value in seen:
            raise SchemaError(f"flags[{i}].value", f"duplicates {value!r}")
        seen.add(value)
        flags.append({"value": value.strip(), "label": entry.get("label") or value.strip()})
    return {
        "allow_tie": allow_tie,
        "allow_both_bad": allow_both_bad,
        "strength": strength,
        "flags": flags,
        "rationale": rationale,
    }


def _ranking_schema(schema: dict) -> dict:
    min_r = _int(schema, "min_responses", MIN_RESPONSES, MIN_RESPONSES, MAX_RESPONSES)
    max_r = _int(schema, "max_responses", MAX_RESPONSES, MIN_RESPONSES, MAX_RESPONSES)
    if min_r > max_r:
        raise SchemaError("min_responses", "must not exceed max_responses")
    return {
        "min_responses": min_r,
        "max_responses": max_r,
        "allow_ties": _bool(schema, "allow_ties", False),
    }


def _demonstration_schema(schema: dict) -> dict:
    return {
        "min_length": _int(schema, "min_length", 1, 1, MAX_TEXT),
        "show_draft": _bool(schema, "show_draft", True),
    }


_SCHEMA_VALIDATORS = {
    SINGLE_CHOICE: _choice_schema,
    MULTI_CHOICE: _multi_choice_schema,
    LIKERT: _likert_schema,
    PAIRWISE: _pairwise_schema,
    RANKING: _ranking_schema,
    DEMONSTRATION: _demonstration_schema,
}


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


def _int(schema: dict, field: str, default: int, low: int, high: int) -> int:
    value = schema.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SchemaError(field, f"must be a whole number from {low} to {high}")
    return value


def _bool(schema: dict, field: str, default: bool) -> bool:
    value = schema.get(field, default)
    if not isinstance(value, bool):
        raise SchemaError(field, "must be true or false")
    return value


def _str(schema: dict, field: str, default: str) -> str:
    value = schema.get(field, default)
    if not isinstance(value, str):
        raise SchemaError(field, "must be a string")
    return value


# --- What the workbench shows -----------------------------------------------------------------

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
    if "allow_tie" in schema:
        return [
            c
            for c in PAIRWISE_CHOICES
            if (c.value != "tie" or schema.get("allow_tie"))
            and (c.value != "both_bad" or schema.get("allow_both_bad"))
        ]
    return []


# --- Answers ----------------------------------------------------------------------------------


def value_validate(kind: str, schema: dict, value: Any, *, item_data: dict | None = None) -> Any:
    """Check a rater's answer against the schema; return it in canonical form.

    Ranking answers also need the item, to know how many responses there are.
    """
    if kind == SINGLE_CHOICE:
        allowed = [c["value"] for c in schema["choices"]]
        if not isinstance(value, str) or value not in allowed:
            raise SchemaError("value", f"must be one of {', '.join(allowed)}")
        return value
    if kind == MULTI_CHOICE:
        return _multi_value(schema, value)
    if kind == LIKERT:
        return _likert_value(schema, value)
    if kind == PAIRWISE:
        return _pairwise_value(schema, value)
    if kind == RANKING:
        n = len((item_data or {}).get("responses", []))
        return _ranking_value(schema, value, n)
    if kind == DEMONSTRATION:
        return _demonstration_value(schema, value)
    raise SchemaError("kind", f"unknown kind {kind!r}")


def _multi_value(schema: dict, value: Any) -> list[str]:
    order = [c["value"] for c in schema["choices"]]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaError("value", "must be a list of choices")
    unknown = sorted(set(value) - set(order))
    if unknown:
        raise SchemaError("value", f"{unknown[0]!r} is not a choice")
    if len(set(value)) != len(value):
        raise SchemaError("value", "lists a choice twice")
    if not schema["min_selected"] <= len(value) <= schema["max_selected"]:
        raise SchemaError(
            "value", f"pick {schema['min_selected']} to {schema['max_selected']} choices"
        )
    chosen = set(value)
    return [v for v in order if v in chosen]


def _likert_value(schema: dict, value: Any) -> dict:
    names = [d["name"] for d in schema["dimensions"]]
    if not isinstance(value, dict):
        raise SchemaError("value", f"must rate {', '.join(names)}")
    extra = sorted(set(value) - set(names))
    if extra:
        raise SchemaError(f"value.{extra[0]}", "is not a dimension of this project")
    out = {}
    for name in names:
        rating = value.get(name)
        if isinstance(rating, str) and rating.isdigit():
            rating = int(rating)
        if (
            isinstance(rating, bool)
            or not isinstance(rating, int)
            or not 1 <= rating <= schema["scale"]
        ):
            raise SchemaError(f"value.{name}", f"must be a rating from 1 to {schema['scale']}")
        out[name] = rating
    return out


def _pairwise_value(schema: dict, value: Any) -> dict:
    if not isinstance(value, dict):
        raise SchemaError("value", "must be an object with a choice")
    allowed = (
        ["A", "B"]
        + (["tie"] if schema.get("allow_tie") else [])
        + (["both_bad"] if schema.get("allow_both_bad") else [])
    )
    choice = value.get("choice")
    if choice not in allowed:
        raise SchemaError("value.choice", f"must be one of {', '.join(allowed)}")
    out: dict[str, Any] = {"choice": choice}
    if schema.get("strength", "none") != "none" and choice in ("A", "B"):
        strength = value.get("strength")
        if isinstance(strength, str) and strength.isdigit():
            strength = int(strength)
        if strength not in (1, 2, 3) or isinstance(strength, bool):
            raise SchemaError("value.strength", "must be 1 (slightly), 2 (clearly) or 3 (much)")
        out["strength"] = strength
    flag_values = [f["value"] for f in schema.get("flags", [])]
    if flag_values:
        flags = value.get("flags") or {}
        if not isinstance(flags, dict):
            raise SchemaError("value.flags", "must map A and B to lists of flags")
        out["flags"] = {}
        for side in ("A", "B"):
            picked = flags.get(side) or []
            if not isinstance(picked, list) or any(f not in flag_values for f in picked):
                raise SchemaError(f"value.flags.{side}", f"may only hold {', '.join(flag_values)}")
            out["flags"][side] = [f for f in flag_values if f in picked]
    mode = schema.get("rationale", "none")
    if mode != "none":
        rationale = value.get("rationale") or ""
        if not isinstance(rationale, str) or len(rationale) > 10_000:
            raise SchemaError("value.rationale", "must be text of at most 10,000 characters")
        if mode == "required" and not rationale.strip():
            raise SchemaError("value.rationale", "is required: say why in a sentence")
        out["rationale"] = rationale.strip()
    return out


def _ranking_value(schema: dict, value: Any, n: int) -> dict:
    tiers = value.get("ranking") if isinstance(value, dict) else None
    if not isinstance(tiers, list) or not tiers:
        raise SchemaError("value.ranking", "must be a list of tiers, best first")
    tiers = [t if isinstance(t, list) else [t] for t in tiers]
    flat = [i for tier in tiers for i in tier]
    if any(isinstance(i, bool) or not isinstance(i, int) for i in flat):
        raise SchemaError("value.ranking", "must hold response numbers")
    if sorted(flat) != list(range(n)):
        raise SchemaError("value.ranking", f"must place each of the {n} responses exactly once")
    if not schema.get("allow_ties") and any(len(t) > 1 for t in tiers):
        raise SchemaError("value.ranking", "this project does not allow ties")
    if any(not t for t in tiers):
        raise SchemaError("value.ranking", "has an empty tier")
    return {"ranking": [sorted(t) for t in tiers]}


def _demonstration_value(schema: dict, value: Any) -> dict:
    text = value.get("text") if isinstance(value, dict) else None
    if not isinstance(text, str):
        raise SchemaError("value.text", "must be text")
    text = text.strip()
    if len(text) < schema["min_length"]:
        raise SchemaError("value.text", f"needs at least {schema['min_length']} characters")
    if len(text) > MAX_TEXT:
        raise SchemaError("value.text", f"must be at most {MAX_TEXT:,} characters")
    return {"text": text}


def pairwise_unswap(value: dict, swapped: bool) -> dict:
    """Map an answer about the sides as displayed back to the item's own A and B."""
    if not swapped:
        return value
    flip = {"A": "B", "B": "A"}
    out = dict(value)
    out["choice"] = flip.get(value["choice"], value["choice"])
    if "flags" in value:
        out["flags"] = {"A": value["flags"].get("B", []), "B": value["flags"].get("A", [])}
    return out


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
    _ITEM_VALIDATORS.get(kind, _plain_item)(data, schema or {})
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
    return data, external_id, priority, meta


def _plain_item(data: dict, schema: dict) -> None:
    if not any(isinstance(v, str) for v in data.values()):
        raise SchemaError("(record)", "needs at least one text field to show raters")


def _prompt(data: dict) -> None:
    prompt = data.get("prompt")
    if prompt is None:
        raise SchemaError("prompt", "is required")
    if isinstance(prompt, str):
        return
    if not isinstance(prompt, list) or not prompt:
        raise SchemaError("prompt", "must be text or a chat transcript (a list of turns)")
    for i, turn in enumerate(prompt):
        if not isinstance(turn, dict) or turn.get("role") not in CHAT_ROLES:
            raise SchemaError(f"prompt[{i}].role", f"must be one of {', '.join(CHAT_ROLES)}")
        text = turn.get("content", turn.get("text"))
        if not isinstance(text, str):
            raise SchemaError(f"prompt[{i}].content", "must be text")


def _text_field(data: dict, field: str, *, required: bool = True) -> None:
    if field not in data:
        if required:
            raise SchemaError(field, "is required")
        return
    if not isinstance(data[field], str):
        raise SchemaError(field, "must be a string")


def _pairwise_item(data: dict, schema: dict) -> None:
    _prompt(data)
    _text_field(data, "response_a")
    _text_field(data, "response_b")


def _ranking_item(data: dict, schema: dict) -> None:
    _prompt(data)
    responses = data.get("responses")
    if not isinstance(responses, list):
        raise SchemaError("responses", "is required: a list of responses to rank")
    low = schema.get("min_responses", MIN_RESPONSES)
    high = schema.get("max_responses", MAX_RESPONSES)
    if len(responses) > high:
        raise SchemaError(
            "responses", f"has {len(responses)} responses; this project ranks at most {high}"
        )
    if len(responses) < low:
        raise SchemaError(
            "responses", f"has {len(responses)} responses; this project needs at least {low}"
        )
    for i, response in enumerate(responses):
        text = response.get("text") if isinstance(response, dict) else response
        if not isinstance(text, str):
            raise SchemaError(f"responses[{i}]", "must be text or an object with text")


def _demonstration_item(data: dict, schema: dict) -> None:
    _prompt(data)
    _text_field(data, "draft", required=False)


_ITEM_VALIDATORS = {
    PAIRWISE: _pairwise_item,
    RANKING: _ranking_item,
    DEMONSTRATION: _demonstration_item,
}


def response_texts(data: dict) -> list[str]:
    """A ranking item's responses as plain strings, in stored order."""
    return [r.get("text", "") if isinstance(r, dict) else r for r in data.get("responses", [])]


def chat_turns(prompt: Any) -> list[dict]:
    """A prompt as a list of {role, content} turns; plain text is one user turn."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": t["role"], "content": t.get("content", t.get("text", ""))} for t in prompt]


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

REQUIRED_FIELDS = {
    PAIRWISE: ("prompt", "response_a", "response_b"),
    RANKING: ("prompt", "responses"),
    DEMONSTRATION: ("prompt",),
}
OPTIONAL_FIELDS = {DEMONSTRATION: ("draft",)}
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
    required = REQUIRED_FIELDS.get(kind, ())
    optional = OPTIONAL_FIELDS.get(kind, ())
    rows = [
        {"field": f, "role": "shown to raters", "required": True, "present": f in fields}
        for f in required
    ]
    for f in fields:
        if f in required:
            continue
        if f in RESERVED_ROLES:
            role = RESERVED_ROLES[f]
        elif f in optional or kind in (SINGLE_CHOICE, MULTI_CHOICE, LIKERT):
            role = "shown to raters"
        else:
            role = "kept with the item; not part of this kind's display"
        rows.append({"field": f, "role": role, "required": False, "present": True})
    return rows


# --- Schema changes once labeling has started -------------------------------------------------


def schema_change_problem(old_kind: str, old: dict, new_kind: str, new: dict) -> SchemaError | None:
    """Why replacing schema `old` with `new` would break existing annotations, or None.

    Both schemas are canonical. A change is allowed only when every stored answer stays
    valid and keeps its meaning: adding a choice, a flag or a tie option is fine; removing or
    renaming a choice, changing the kind or the scale, or tightening a rule is not.
    """
    if old_kind != new_kind:
        return SchemaError("kind", "cannot change once labeling has started")
    if new_kind in (SINGLE_CHOICE, MULTI_CHOICE):
        new_values = {c["value"] for c in new["choices"]}
        for i, choice in enumerate(old["choices"]):
            if choice["value"] not in new_values:
                return SchemaError(
                    f"choices[{i}].value",
                    f"{choice['value']!r} has answers already; it cannot be removed or renamed "
                    "(change its label instead)",
                )
        if new_kind == MULTI_CHOICE:
            if new["min_selected"] > old["min_selected"]:
                return SchemaError("min_selected", "cannot be raised once labeling has started")
            if new["max_selected"] < old["max_selected"]:
                return SchemaError("max_selected", "cannot be lowered once labeling has started")
    elif new_kind == LIKERT:
        if new["scale"] != old["scale"]:
            return SchemaError(
                "scale",
                f"cannot change from 1..{old['scale']} once labeling has started: "
                "existing ratings would change meaning",
            )
        old_names = [d["name"] for d in old["dimensions"]]
        new_names = [d["name"] for d in new["dimensions"]]
        for i, name in enumerate(old_names):
            if name not in new_names:
                return SchemaError(
                    f"dimensions[{i}].name", f"{name!r} has ratings already; it cannot be removed"
                )
        for i, name in enumerate(new_names):
            if name not in old_names:
                return SchemaError(
                    f"dimensions[{i}].name",
                    f"{name!r} cannot be added once labeling has started: "
                    "earlier answers have no rating for it",
                )
    elif new_kind == PAIRWISE:
        for field, label in (("allow_tie", "tie"), ("allow_both_bad", "both bad")):
            if old[field] and not new[field]:
                return SchemaError(
                    field, f"cannot be switched off: answers may already say {label!r}"
                )
        if (old["strength"] == "none") != (new["strength"] == "none"):
            return SchemaError(
                "strength",
                "cannot be switched on or off once labeling has started "
                "(switching between labels and the -3..+3 scale is fine)",
            )
        new_flags = {f["value"] for f in new["flags"]}
        for i, flag in enumerate(old["flags"]):
            if flag["value"] not in new_flags:
                return SchemaError(
                    f"flags[{i}].value",
                    f"{flag['value']!r} may be in answers; it cannot be removed",
                )
    elif new_kind == RANKING:
        if old["allow_ties"] and not new["allow_ties"]:
            return SchemaError("allow_ties", "cannot be switched off: answers may hold ties")
        if new["min_responses"] > old["min_responses"]:
            return SchemaError("min_responses", "cannot be raised once items are in the project")
        if new["max_responses"] < old["max_responses"]:
            return SchemaError("max_responses", "cannot be lowered once items are in the project")
    elif new_kind == DEMONSTRATION:
        if new["min_length"] > old["min_length"]:
            return SchemaError("min_length", "cannot be raised once labeling has started")
    return None


# --- Label options (guideline examples, vote counts) ------------------------------------------


def label_options(kind: str, schema: dict) -> list[tuple[str, str]]:
    """(value, label) of each answer option a worked example or a vote count can refer to.

    Likert options are the scale points; ranking and demonstration have no fixed options.
    """
    if kind in (SINGLE_CHOICE, MULTI_CHOICE, PAIRWISE):
        return [(c.value, c.label) for c in choices_of(schema)]
    if kind == LIKERT:
        n = schema["scale"]
        return [
            (
                str(p),
                f"{p} ({schema['low_label']})"
                if p == 1
                else f"{p} ({schema['high_label']})"
                if p == n
                else str(p),
            )
            for p in range(1, n + 1)
        ]
    return []
