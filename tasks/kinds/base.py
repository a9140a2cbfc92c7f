"""What every label kind provides, and the checks its modules share.

A kind is one object behind the `Kind` interface; core code asks the registry
(`tasks.kinds.get`) for it and never tests a kind's name. Pure Python: no database, no Django.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from tasks.kinds.keys import ItemExample, Key

MAX_TEXT = 100_000
CHAT_ROLES = ("system", "user", "assistant")
# The first nine choices get number keys by default; the tenth gets 0.
DEFAULT_HOTKEYS = [*"123456789", "0"]
# Keys the workbench and the kinds' widgets use for themselves (static/js/workbench.js: g ?
# guidelines, u undo, s skip; r rationale, f flags, c confirm): an option cannot take them.
RESERVED_KEYS = frozenset("gus?rfc")
# An answer with nothing to say in a label column (aggregation.loading).
MISSING = -1


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


@dataclass(frozen=True)
class Column:
    """One int64 column per annotation, as aggregation loads a kind's labels.

    sql: a bigint expression over the annotation alias ``a`` (NULL becomes -1); params: its
    query parameters; py: the same value computed from ``(value, presentation)`` in Python.
    """

    name: str
    sql: str
    params: tuple = ()
    py: Callable[[object, object], int] = field(default=lambda value, presentation: MISSING)


class Kind:
    """One label kind. Subclasses override what differs; the defaults suit a kind that has
    no fixed options, takes plain text items and cannot be scored against gold."""

    name: ClassVar[str]
    label: ClassVar[str]
    # Item fields the kind shows and needs; a kind with none shows every text field.
    required_fields: ClassVar[tuple[str, ...]] = ()
    optional_fields: ClassVar[tuple[str, ...]] = ()
    # What the API and the project page document (tasks/kinds/keys.py): the schema's keys
    # and an item line to copy. A test holds them to schema_validate and item_validate.
    schema_keys: ClassVar[tuple[Key, ...]] = ()
    item_example: ClassVar[ItemExample]

    # --- Schema ---

    def schema_validate(self, schema: dict) -> dict:
        """The schema in canonical form, or SchemaError naming the bad field."""
        raise NotImplementedError

    # --- The schema editor (tasks/project-form.html) ---

    # Repeated rows the editor adds one at a time: {row name: "template#partial"}.
    schema_rows: ClassVar[dict[str, str]] = {}

    @property
    def schema_template(self) -> str:
        return f"tasks/kinds/{self.name}-schema.html"

    def schema_from_form(self, post) -> dict:
        """The editor's inputs (a QueryDict-like `post`) as a schema for `schema_validate`."""
        return {}

    def schema_editor_context(self, schema: dict) -> dict:
        """What the editor template needs beyond the schema `s` itself."""
        return {}

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        """Why `new` would break answers stored under `old` (both canonical), or None."""
        return None

    def items_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        """Why `new` would not fit items already imported under `old`, before any answer."""
        return None

    # --- Items ---

    def item_validate(self, data: dict, schema: dict) -> None:
        """Raise SchemaError naming the field if an imported item cannot be shown."""
        if not any(isinstance(v, str) for v in data.values()):
            raise SchemaError("(record)", "needs at least one text field to show raters")

    def shows_field(self, field: str) -> bool:
        """Whether the workbench shows an item field of this name to raters."""
        return not self.required_fields or field in self.optional_fields

    # --- The widget ---

    # What submits the answer, as the widget's button and the shortcut panel name it.
    submit_key: ClassVar[str] = "Enter"

    @property
    def widget_template(self) -> str:
        """The answer widget, included inside the item's form."""
        return f"annotation/kinds/{self.name}.html"

    @property
    def script(self) -> str:
        """The widget's keys and checks in the browser, registered with static/js/kinds.js."""
        return f"js/kinds/{self.name}.js"

    @property
    def keys_template(self) -> str:
        """The kind's keys, for the workbench's shortcut panel (static/js/kinds/<kind>.js binds
        them)."""
        return f"annotation/kinds/{self.name}-keys.html"

    def widget_context(self, schema: dict) -> dict:
        """What the widget and keys templates need of the project, the same for every item."""
        return {}

    def widget(self, schema: dict, data: dict, presentation: dict, value: Any, render) -> dict:
        """What the widget shows of one item, as displayed (`displayed_data`), beyond the item
        and the value. Item text is untrusted: plain strings are escaped by the template, and
        `render` turns markdown into sanitised HTML."""
        return {"fields": item_fields(data, render)}

    # --- Answers ---

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> Any:
        """A rater's answer in canonical form, or SchemaError naming the field."""
        raise NotImplementedError

    def label_from_form(self, raw: str) -> Any:
        """A label posted by a form field (a reviewer's final label) as a value to validate."""
        return form_json(raw, "label")

    def value_from_form(self, schema: dict, post) -> Any:
        """Gather a workbench form's fields (a QueryDict-like `post`) into a value for
        `value_validate`. Kinds with sides read them as displayed (`stored_value` maps back)."""
        return post.get("value")

    def choices(self, schema: dict) -> list[Choice]:
        """The answers a rater picks from, as shown in the workbench."""
        return []

    def label_options(self, schema: dict) -> list[tuple[str, str]]:
        """(value, label) of each option a worked example or a vote count can refer to."""
        return []

    # --- Aggregation ---

    # The methods a manager may pick; the first is the default where raters are judged
    # against a truth. None means the kind has no aggregation.
    aggregation_methods: ClassVar[tuple[str, ...]] = ()
    # Labels load as int columns (`label_columns`), or, where no fixed columns describe an
    # answer, as (item_id, rater_id, value) rows.
    loads_rows: ClassVar[bool] = False
    # Whether the fit needs to know which model wrote each item's responses.
    wants_item_models: ClassVar[bool] = False
    # Kinds that rank models say here how items name them; empty means no leaderboard.
    models_hint: ClassVar[str] = ""
    # Whether each item gets one label out of the aggregate labels (`aggregate_labels`), so a
    # classifier's per-item probabilities over those labels describe it (modelruns): a class
    # of the item's text, or which of its two responses is better. Vox's own noisy
    # cross-validation learns them with `model_learner`, reading `model_example` of each item.
    item_classes: ClassVar[bool] = False
    # The learner in modelruns.cv.LEARNERS that fits this kind's aggregate labels.
    model_learner: ClassVar[str] = "text"
    # Item fields the fit and `agreement_figures` read (e.g. the text spans lie in): they
    # get {item id: {field: value}} of the live items, the fit as `extra_data["items"]`.
    reads_item_fields: ClassVar[tuple[str, ...]] = ()

    def default_aggregation(self, *, subjective: bool) -> str:
        return self.aggregation_methods[0]

    def model_example(self, data: dict) -> Any:
        """What `model_learner` reads of one item: for "text", every top-level text field as a
        rater would read them, chat prompts by their content."""
        return item_text(data)

    def model_learner_options(self, schema: dict) -> dict:
        """Keyword arguments `model_learner` needs beyond examples and labels."""
        return {}

    def label_columns(self, schema: dict) -> list[Column]:
        """The columns that describe one answer, for aggregation.loading."""
        return []

    # --- Rater scoring (aggregation.scoring), over the loaded label columns ---

    def categorical_codes(self, schema: dict, arrays) -> tuple[Any, list[str] | None]:
        """(label code per annotation, label names) where each answer is one label out of K,
        for kappa, Dawid–Skene and MACE competence; (None, None) otherwise."""
        return None, None

    def gold_vote_codes(self, schema: dict, answer: dict, value: Any) -> tuple[int, int] | None:
        """(true, said) codes, in categorical_codes' label order, of one answer to a gold item
        whose accepted `answer` is a single label: gold evidence for the stop rule's rater
        matrices (aggregation.scoring). None where the kind or the gold has no one label."""
        return None

    def answer_keys(self, schema: dict, arrays):
        """One int per annotation, equal exactly when two answers are identical (straightlining)."""
        codes, _ = self.categorical_codes(schema, arrays)
        return codes if codes is not None else np.zeros(arrays.n, dtype=np.int64)

    def partial_agreement(self, schema: dict, arrays, results, rater_idx, n_raters):
        """Per rater, mean agreement with the aggregate for answers that are not one label out
        of K, or None where the kind has none. `results()` reads {item id: aggregate label}
        from the database: only kinds that use it pay for the query."""
        return None

    def rating_scale(self, schema: dict) -> int | None:
        """The number of points of a kind whose answers are ratings on one scale (Likert,
        rubric), in its `dim:` label columns; None for other kinds. Rater scores then
        measure each rater against the final ratings (aggregation.scoring)."""
        return None

    def rating_reference(self, schema: dict, label) -> dict[str, float]:
        """{label column: the final label's rating there} for a kind with a rating scale."""
        return {}

    def rank_places(self, value, label) -> tuple[list[int], list[int]] | None:
        """For a kind whose answers order responses: (the rater's tier for each response
        index, its place in the final order `label`), -1 where missing; None otherwise."""
        return None

    # How a rater page titles and explains the ordinal confusion of a rating or ranking
    # kind (rows, columns), and what its points are called; None for other kinds.
    ordinal_figure: ClassVar[tuple[str, str] | None] = None

    def ordinal_points(self, schema: dict) -> list[str]:
        scale = self.rating_scale(schema)
        return [str(p) for p in range(1, (scale or 0) + 1)]

    def side_counts(self, arrays, rater_idx, n_raters):
        """(answers for the left side, for the right side) per rater, as shown on screen, for
        kinds with sides; None otherwise."""
        return None

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        """Aggregate loaded labels into an aggregation.methods.Fit.

        Kinds import their fitter from aggregation.methods inside this method: that module
        reads schemas through tasks.schema, which imports the kinds.
        """
        raise ValueError(f"{self.name} projects have no aggregation")

    # --- Agreement and display ---

    # Krippendorff's alpha distance between two agreement keys: "nominal" (same or not) or
    # "ordinal" (by rank on the scale).
    agreement_level: ClassVar[str] = "nominal"
    # Each answer is one label out of a fixed few (single choice, pairwise), so Fleiss'
    # kappa over the raters' answers means something.
    answers_are_one_label: ClassVar[bool] = False
    # Dynamic overlap's rule for this kind (aggregation.numeric.overlap): "categorical",
    # "pairwise", "likert", or None for kinds that keep the fixed overlap.
    stop_rule: ClassVar[str | None] = None

    # Whether the workbench shows sides in random order, so that a rater's answers can lean
    # to the left or right side of the screen (position bias).
    has_sides: ClassVar[bool] = False

    def agreement_key(self, value: Any) -> Any:
        """A comparable code of an answer for agreement, or None where answers can't agree."""
        return json.dumps(value, sort_keys=True)

    def aggregate_labels(self, schema: dict) -> list[str]:
        """The labels an aggregate takes, in the order of a rater's confusion matrix."""
        return [v for v, _ in self.label_options(schema)]

    def distribution_keys(self, value: Any) -> list[str]:
        """The labels one answer counts towards in the project's label distribution."""
        return []

    # Whether the kind measures agreement its own way too (`agreement_figures`): then the
    # dashboards' job hands it every live answer, grouped by item.
    has_agreement_figures: ClassVar[bool] = False

    def agreement_figures(self, schema: dict, by_item: dict, items: dict) -> list[dict]:
        """The kind's own agreement measures over {item id: [(rater id, value), ...]}, as
        [{"name", "label", "value", "help"}]; value None where there is too little to say.
        `items` holds the `reads_item_fields` of each item."""
        return []

    def short_text(self, value: Any) -> str:
        """An answer as a short readable string, for the review screen."""
        return str(value)

    # --- Export ---

    # Whether answers rank responses, so that a preference file (chosen/rejected) can be made.
    makes_preferences: ClassVar[bool] = False

    def vote_label(self, schema: dict, values: list) -> Any:
        """The label an export shows before any aggregation run: the answer most raters gave
        (the earliest of those tied), or None for kinds without aggregation."""
        if not self.aggregation_methods or not values:
            return None
        keys = [json.dumps(v, sort_keys=True) for v in values]
        # most_common keeps first-seen order among equal counts: the earliest answer wins.
        return values[keys.index(Counter(keys).most_common(1)[0][0])]

    def votes(self, schema: dict, values: list) -> dict:
        """How many raters gave each answer, from canonical values: the soft distribution."""
        return {}

    def vote_columns(self, schema: dict) -> list[tuple[str, tuple]]:
        """(CSV header, path into `votes`) per column of the soft distribution."""
        return [(f"votes:{value}", (value,)) for value, _ in self.label_options(schema)]

    def preference_pairs(self, data: dict, values: list, label) -> list[dict]:
        """{prompt, chosen, rejected, margin, agreement, n_raters, tie, ...} rows of one item."""
        raise ValueError(f"{self.name} answers make no preference pairs")

    # Files only this kind makes, beyond the items JSONL and CSV that every kind has:
    # {format: (title, file name suffix, content type)}.
    export_formats: ClassVar[dict[str, tuple[str, str, str]]] = {}

    def export_lines(self, fmt: str, schema: dict, item: dict, values: list, label) -> str:
        """One item's text in one of `export_formats`. `item` has item_id, external_id,
        is_gold, data, meta, raters (pseudonyms) and guideline_versions aligned with
        `values`, the canonical answers, and `provenance`, the fields every training row
        carries; `label` is the final one or None."""
        raise ValueError(f"{self.name} projects make no {fmt} files")

    def label_csv_columns(self, schema: dict) -> list[tuple[str, tuple]]:
        """(CSV header, path into the final label) per column, for labels with named parts;
        none means one `label` cell holding the whole label as JSON."""
        return []

    # --- Presentation: how a leased item is randomised for its rater ---

    # Whether the randomisation depends on the item (e.g. its number of responses), so the
    # claim computes it with the item rather than before.
    presentation_per_item: ClassVar[bool] = False

    def presentation(self, item_data: dict | None) -> dict:
        """A fresh randomisation for one lease, kept on it, so that position bias averages
        out and can be measured afterwards. `item_data` is None before the item is known."""
        return {}

    def displayed_data(self, data: dict, presentation: dict) -> dict:
        """The item's data as this rater sees it (a copy where it differs)."""
        return data

    def stored_value(self, value: Any, presentation: dict) -> Any:
        """An answer about the item as displayed, mapped back to the item's own order."""
        return value

    def displayed_value(self, value: Any, presentation: dict) -> Any:
        """A stored answer as the rater saw it (undo shows it again)."""
        return value

    # --- Gold ---

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        """A gold answer in canonical form, or SchemaError naming the field."""
        raise SchemaError("kind", f"{self.label.lower()} answers cannot be gold")

    def label_from_aggregate(self, label: Any) -> Any:
        """An aggregate's label (aggregation.methods) in the kind's canonical answer shape."""
        return label

    def gold_from_value(self, value: Any) -> Any:
        """The gold answer that accepts exactly one canonical value (promoting a final label)."""
        return value

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        """How right a canonical value is against a canonical gold answer, in [0, 1]."""
        raise ValueError(f"{self.name} answers cannot be scored")

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        """What a rater should learn from one answer: the expected answer and the difference."""
        return []


# --- Checks the kinds share ---------------------------------------------------------------


def int_field(schema: dict, field: str, default: int, low: int, high: int) -> int:
    value = schema.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SchemaError(field, f"must be a whole number from {low} to {high}")
    return value


def bool_field(schema: dict, field: str, default: bool) -> bool:
    value = schema.get(field, default)
    if not isinstance(value, bool):
        raise SchemaError(field, "must be true or false")
    return value


def str_field(schema: dict, field: str, default: str) -> str:
    value = schema.get(field, default)
    if not isinstance(value, str):
        raise SchemaError(field, "must be a string")
    return value


def form_rows(post, *names: str) -> list[dict]:
    """Rows of a repeated group of inputs (choice_value, choice_label, ...), blanks dropped."""
    columns = [post.getlist(name) for name in names]
    n = max((len(c) for c in columns), default=0)
    rows = []
    for i in range(n):
        row = {
            name: (c[i] if i < len(c) else "").strip()
            for name, c in zip(names, columns, strict=True)
        }
        if any(row.values()):
            rows.append(row)
    return rows


def form_json(raw: str, field: str) -> Any:
    """A form field holding JSON, read with the limits of every JSON door (config.jsonbody:
    no NUL, no nesting deep enough to exhaust the stack), or SchemaError naming the field."""
    from config import jsonbody

    try:
        return jsonbody.loads(raw)
    except jsonbody.BadJson as exc:
        raise SchemaError(field, f"not valid JSON: {exc}") from None


def form_int(post, name: str, default=None):
    raw = (post.get(name) or "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return raw  # schema_validate names the field and the allowed range


def answer_text(text: str) -> str:
    """A rater's free text as stored: one kind of line break, no outer whitespace.

    Browsers send a textarea's line breaks as CRLF (the HTML form encoding), API clients as
    whatever they have; stored and exported text uses LF only, so a demonstration trains
    the same whichever door it came through.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def small_int(value: Any) -> Any:
    """A form posts numbers as digit strings; take those as the number they spell."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def prompt_validate(data: dict) -> None:
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


def chat_turns(prompt: Any) -> list[dict]:
    """A prompt as a list of {role, content} turns; plain text is one user turn."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": t["role"], "content": t.get("content", t.get("text", ""))} for t in prompt]


def prompt_turns(data: dict, render) -> list[dict]:
    """A prompt's turns with their text rendered, for a widget."""
    return [
        {"role": t["role"], "html": render(t["content"])}
        for t in chat_turns(data.get("prompt") or "")
    ]


def is_chat(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, dict) and t.get("role") in CHAT_ROLES for t in value)
    )


def item_fields(data: dict, render) -> list[dict]:
    """An item's fields as every screen shows them (the workbench and training alike):
    text as sanitised markdown, a chat transcript as its turns, anything else as JSON."""
    out = []
    for name, value in data.items():
        if isinstance(value, str):
            out.append({"name": name, "html": render(value)})
        elif is_chat(value):
            turns = [{"role": t["role"], "html": render(t["content"])} for t in chat_turns(value)]
            out.append({"name": name, "turns": turns})
        else:
            out.append({"name": name, "json": json.dumps(value, ensure_ascii=False, indent=2)})
    return out


def item_text(data: dict) -> str:
    """An item's text fields (and the turns of chat fields) joined by line breaks."""
    parts = []
    for value in data.values():
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts += [m.get("content", "") for m in value if isinstance(m, dict)]
    return "\n".join(p for p in parts if isinstance(p, str))


def text_field(data: dict, field: str, *, required: bool = True) -> None:
    if field not in data:
        if required:
            raise SchemaError(field, "is required")
        return
    if not isinstance(data[field], str):
        raise SchemaError(field, "must be a string")


def options_validate(
    raw: Any, field: str, low: int, high: int, reserved: frozenset = RESERVED_KEYS
) -> list[Choice]:
    """A list of options raters pick with a key (choices, span labels): each a value or
    {value, label, hotkey, description}; the first ten get 1-9 and 0 unless they set a
    hotkey, and no hotkey may repeat or be one of `reserved`."""
    if not isinstance(raw, list):
        raise SchemaError(field, "must be a list")
    if not low <= len(raw) <= high:
        raise SchemaError(field, f"needs {low} to {high} {field}, got {len(raw)}")
    choices, seen_values, seen_keys = [], set(), set()
    for i, entry in enumerate(raw):
        where = f"{field}[{i}]"
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
        if hotkey in reserved or hotkey.isspace():
            raise SchemaError(
                f"{where}.hotkey",
                f"{hotkey!r} is a workbench shortcut; {' '.join(sorted(reserved))} are taken",
            )
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


def named_entries(
    raw: Any, field: str, maximum: int, noun: str
) -> list[tuple[str, dict, str, str]]:
    """A schema's list of named parts (Likert dimensions, rubric criteria): each a name or an
    object with a short identifier `name` and a `label` (default: the name, capitalised).
    Returns (where, entry, name, label) per part, for the kind to read its own keys from."""
    if not isinstance(raw, list) or len(raw) > maximum:
        raise SchemaError(field, f"must be a list of at most {maximum} {noun}")
    out, seen = [], set()
    for i, entry in enumerate(raw):
        where = f"{field}[{i}]"
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
        out.append((where, entry, name, label))
    return out


def names_change_problem(old: list[dict], new: list[dict], field: str) -> SchemaError | None:
    """Why renaming a schema's named parts would break stored ratings: a part with ratings
    cannot go, and a new one would leave every earlier answer without a rating for it."""
    old_names, new_names = [p["name"] for p in old], [p["name"] for p in new]
    for i, name in enumerate(old_names):
        if name not in new_names:
            return SchemaError(
                f"{field}[{i}].name", f"{name!r} has ratings already; it cannot be removed"
            )
    for i, name in enumerate(new_names):
        if name not in old_names:
            return SchemaError(
                f"{field}[{i}].name",
                f"{name!r} cannot be added once labeling has started: "
                "earlier answers have no rating for it",
            )
    return None


def accept_list(answer: dict, probe) -> list:
    """A gold answer's `accept`: at least one answer, each one `probe` takes without error."""
    accept = answer.get("accept")
    if isinstance(accept, str):
        accept = [accept]
    if not isinstance(accept, list) or not accept:
        raise SchemaError("answer.accept", "must list at least one accepted answer")
    for i, option in enumerate(accept):
        try:
            probe(option)
        except SchemaError as exc:
            raise SchemaError(f"answer.accept[{i}]", exc.message) from None
    return list(dict.fromkeys(accept))
