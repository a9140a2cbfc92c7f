"""Single and multiple choice: the rater picks one label, or a set of labels, from a list.

Values: `"positive"` for single choice; `["spam", "offensive"]` for multiple choice, sorted as
in the schema. Gold: `{"accept": ["positive"]}` scores 1 if accepted; a multiple-choice gold
`{"value": [...]}` scores the Jaccard overlap of the two sets.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from .base import (
    MISSING,
    Choice,
    Column,
    Kind,
    SchemaError,
    accept_list,
    form_int,
    form_rows,
    int_field,
    options_validate,
)
from .keys import ItemExample, Key, option_entries

MIN_CHOICES, MAX_CHOICES = 2, 50
# Methods for kinds with one categorical answer per rater. `auto` is the default where raters
# are judged against a truth: it picks one of the others per run, and a vote where no rater
# model can be identified (aggregation.numeric.auto). Majority shares are the default where
# the disagreement is the data.
CATEGORICAL = ("auto", "majority", "weighted", "dawid_skene", "one_coin", "mace", "glad")


def choices_validate(raw: Any) -> list[Choice]:
    return options_validate(raw, "choices", MIN_CHOICES, MAX_CHOICES)


def _choice_column(choices: list[str]) -> Column:
    index = {c: i for i, c in enumerate(choices)}
    return Column(
        "label",
        "array_position(%s::text[], a.value #>> '{}') - 1",
        (choices,),
        lambda v, p: index.get(v, MISSING) if isinstance(v, str) else MISSING,
    )


def _tags_column(choices: list[str]) -> Column:
    # A bit mask of the ticked choices; schemas allow at most 50 choices, so 63 bits suffice.
    terms = " + ".join(
        f"(CASE WHEN a.value ? %s THEN {1 << j} ELSE 0 END)::bigint" for j in range(len(choices))
    )
    bits = {c: 1 << j for j, c in enumerate(choices)}
    return Column(
        "tags",
        f"CASE WHEN jsonb_typeof(a.value) = 'array' THEN {terms} END",
        tuple(choices),
        lambda v, p: sum(bits.get(t, 0) for t in v) if isinstance(v, list) else MISSING,
    )


class SingleChoice(Kind):
    name = "single_choice"
    label = "Single choice"
    schema_keys = (
        Key(
            "choices",
            "list",
            "The answers raters pick from, in order.",
            entries=option_entries("choice"),
            min_items=MIN_CHOICES,
            max_items=MAX_CHOICES,
        ),
    )
    item_example = ItemExample(
        note="Any text fields; each is shown (markdown rendered, untrusted HTML removed).",
        line={
            "text": "The battery lasts two days and charges fast.",
            "meta": {"source": "reviews"},
        },
        schema={"choices": ["positive", "negative", "neutral"]},
    )

    def schema_validate(self, schema: dict) -> dict:
        return {"choices": [c.__dict__ for c in choices_validate(schema.get("choices"))]}

    schema_rows = {"choice": "tasks/kinds/choices-schema.html#choice-row"}

    def schema_from_form(self, post) -> dict:
        rows = form_rows(
            post, "choice_value", "choice_label", "choice_hotkey", "choice_description"
        )
        return {
            "choices": [
                {
                    "value": r["choice_value"] or r["choice_label"],
                    "label": r["choice_label"],
                    "hotkey": r["choice_hotkey"],
                    "description": r["choice_description"],
                }
                for r in rows
            ]
        }

    def schema_editor_context(self, schema: dict) -> dict:
        # Two rows at least, blank if need be: a choice schema needs two choices.
        choices = list(schema.get("choices") or [])
        return {"choices": choices + [{}] * (MIN_CHOICES - len(choices))}

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        new_values = {c["value"] for c in new["choices"]}
        for i, choice in enumerate(old["choices"]):
            if choice["value"] not in new_values:
                return SchemaError(
                    f"choices[{i}].value",
                    f"{choice['value']!r} has answers already; it cannot be removed or renamed "
                    "(change its label instead)",
                )
        return None

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> Any:
        allowed = [c["value"] for c in schema["choices"]]
        if not isinstance(value, str) or value not in allowed:
            raise SchemaError("value", f"must be one of {', '.join(allowed)}")
        return value

    def choices(self, schema: dict) -> list[Choice]:
        return [Choice(**c) for c in schema["choices"]]

    def label_from_form(self, raw: str) -> Any:
        return raw

    def label_options(self, schema: dict) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in self.choices(schema)]

    aggregation_methods = CATEGORICAL

    def default_aggregation(self, *, subjective: bool) -> str:
        return "majority" if subjective else "auto"

    def label_columns(self, schema: dict) -> list[Column]:
        return [_choice_column([c["value"] for c in schema["choices"]])]

    answers_are_one_label = True
    stop_rule = "categorical"
    item_classes = True

    def categorical_codes(self, schema: dict, arrays):
        return arrays["label"], [c["value"] for c in schema["choices"]]

    def gold_vote_codes(self, schema: dict, answer: dict, value: Any) -> tuple[int, int] | None:
        names = [c["value"] for c in schema["choices"]]
        accept = answer.get("accept", []) if isinstance(answer, dict) else []
        # A gold accepting several answers names no one true label.
        if len(accept) != 1 or accept[0] not in names or value not in names:
            return None
        return names.index(accept[0]), names.index(value)

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        from aggregation.methods import fit_single

        return fit_single(schema, labels, method, params, raters, subjective)

    def votes(self, schema: dict, values: list) -> dict:
        return dict(Counter(values))

    def distribution_keys(self, value: Any) -> list[str]:
        return [value] if isinstance(value, str) else []

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        if not isinstance(answer, dict):
            # A plain value is the common case: accept exactly that answer.
            answer = {"accept": [answer]}
        probe = lambda option: self.value_validate(schema, option, item_data)  # noqa: E731
        return {"accept": accept_list(answer, probe)}

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        return 1.0 if value in answer["accept"] else 0.0

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        labels = {c["value"]: c["label"] for c in schema["choices"]}
        expected = " or ".join(labels.get(a, a) for a in answer["accept"])
        return [f"Expected: {expected}.", f"You answered: {labels.get(value, value)}."]


class MultiChoice(SingleChoice):
    name = "multi_choice"
    label = "Multiple choice"
    schema_keys = (
        *SingleChoice.schema_keys,
        Key(
            "min_selected",
            "integer",
            "The fewest choices an answer ticks; 0 lets an answer tick none.",
            0,
            minimum=0,
            maximum_note="at most max_selected",
        ),
        Key(
            "max_selected",
            "integer",
            "The most choices an answer ticks; every choice if left out.",
            minimum=1,
            maximum_note="at most the number of choices",
        ),
    )
    item_example = ItemExample(
        note=SingleChoice.item_example.note,
        line={"text": "Free shipping on orders over $50! Click now!!!"},
        schema={"choices": ["spam", "promotion", "urgent"]},
    )

    def schema_validate(self, schema: dict) -> dict:
        canonical = super().schema_validate(schema)
        n = len(canonical["choices"])
        min_selected = int_field(schema, "min_selected", 0, 0, n)
        max_selected = int_field(schema, "max_selected", n, 1, n)
        if min_selected > max_selected:
            raise SchemaError("min_selected", "must not exceed max_selected")
        return {**canonical, "min_selected": min_selected, "max_selected": max_selected}

    def schema_from_form(self, post) -> dict:
        schema = super().schema_from_form(post)
        for field in ("min_selected", "max_selected"):
            value = form_int(post, field)
            if value is not None:
                schema[field] = value
        return schema

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        problem = super().schema_change_problem(old, new)
        if problem:
            return problem
        if new["min_selected"] > old["min_selected"]:
            return SchemaError("min_selected", "cannot be raised once labeling has started")
        if new["max_selected"] < old["max_selected"]:
            return SchemaError("max_selected", "cannot be lowered once labeling has started")
        return None

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> list[str]:
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

    def label_columns(self, schema: dict) -> list[Column]:
        return [_tags_column([c["value"] for c in schema["choices"]])]

    answers_are_one_label = False  # a set of tags per answer
    item_classes = False  # a set of tags: one probability per tag, not a distribution

    def categorical_codes(self, schema: dict, arrays):
        return None, None

    def answer_keys(self, schema: dict, arrays):
        return arrays["tags"]

    def partial_agreement(self, schema: dict, arrays, results, rater_idx, n_raters):
        """Agreement per tag decision, averaged over the rater's answers."""
        choices = [c["value"] for c in schema["choices"]]
        bit = {c: 1 << j for j, c in enumerate(choices)}
        agg = np.full(arrays.item_ids.size, -1, dtype=np.int64)
        where = {int(i): j for j, i in enumerate(arrays.item_ids)}
        for item_id, value in results().items():
            if item_id in where and isinstance(value, list):
                agg[where[item_id]] = sum(bit.get(t, 0) for t in value)
        tags, item_idx = arrays["tags"], arrays.item_idx
        has = (agg[item_idx] >= 0) & (tags != MISSING)
        diff = np.bitwise_xor(agg[item_idx[has]], tags[has])
        wrong = np.array([bin(int(x)).count("1") for x in diff], dtype=float)
        share = 1.0 - wrong / max(len(choices), 1)
        hits = np.bincount(rater_idx[has], weights=share, minlength=n_raters)
        seen = np.bincount(rater_idx[has], minlength=n_raters)
        return np.divide(hits, seen, out=np.full(n_raters, np.nan), where=seen > 0)

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        from aggregation.methods import fit_multi

        return fit_multi(schema, labels, method, params, raters, subjective)

    def vote_label(self, schema: dict, values: list) -> Any:
        """The choices more than half of the raters picked, as the majority method gives."""
        if not values:
            return None
        n = Counter(c for v in values for c in v)
        return [c["value"] for c in schema["choices"] if n[c["value"]] * 2 > len(values)]

    def votes(self, schema: dict, values: list) -> dict:
        """Per choice, how many raters ticked it."""
        return dict(Counter(v for value in values for v in value))

    def distribution_keys(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            return []
        return [str(v) for v in value] or ["(none)"]

    def short_text(self, value: Any) -> str:
        if not isinstance(value, list):
            return str(value)
        return ", ".join(value) or "(none)"

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        raw = answer.get("value") if isinstance(answer, dict) else answer
        return {"value": self.value_validate(schema, raw, item_data)}

    def value_from_form(self, schema: dict, post) -> Any:
        return post.getlist("value")

    def label_from_form(self, raw: str) -> Any:
        # A set of choices arrives as JSON, as other kinds' values do; only a single choice
        # is posted bare.
        return Kind.label_from_form(self, raw)

    def gold_from_value(self, value: Any) -> Any:
        return {"value": value}

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        expected, got = set(answer["value"]), set(value)
        union = expected | got
        return len(expected & got) / len(union) if union else 1.0

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        expected, got = set(answer["value"]), set(value)
        lines = [f"Expected: {', '.join(answer['value']) or 'nothing'}."]
        if got - expected:
            lines.append(f"Not expected: {', '.join(sorted(got - expected))}.")
        if expected - got:
            lines.append(f"Missed: {', '.join(sorted(expected - got))}.")
        return lines
