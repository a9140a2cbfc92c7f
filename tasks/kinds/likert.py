"""Likert rating: each item rated on a 1..N scale along one or more named dimensions.

Value: `{"helpfulness": 4, "harmlessness": 5}`, one entry per dimension. Gold:
`{"value": {...}, "tolerance": 0}` gives full credit per dimension within the tolerance, then
falls linearly to 0 at the far end of the scale; the score is the mean over dimensions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import (
    MISSING,
    Column,
    Kind,
    SchemaError,
    form_int,
    form_rows,
    int_field,
    named_entries,
    names_change_problem,
    small_int,
    str_field,
)
from .keys import ItemExample, Key, named_entries_keys, scale_keys

MIN_SCALE, MAX_SCALE = 2, 11
MAX_DIMENSIONS = 10
DEFAULT_DIMENSIONS = [{"name": "rating", "label": "Rating"}]
# Number keys rate 1-9; 0 is 10 and - is 11 on the longest scales.
KEYS = [*"123456789", "0", "-"]


def scale_fields(schema: dict, default: int) -> dict:
    """A rating scale's points and the names of its two ends (Likert, rubric criteria)."""
    return {
        "scale": int_field(schema, "scale", default, MIN_SCALE, MAX_SCALE),
        "low_label": str_field(schema, "low_label", "Poor"),
        "high_label": str_field(schema, "high_label", "Excellent"),
    }


def scale_from_form(post, default: int) -> dict:
    return {
        "scale": form_int(post, "scale", default),
        "low_label": post.get("low_label", "").strip() or "Poor",
        "high_label": post.get("high_label", "").strip() or "Excellent",
    }


def scale_change_problem(old: dict, new: dict) -> SchemaError | None:
    if new["scale"] != old["scale"]:
        return SchemaError(
            "scale",
            f"cannot change from 1..{old['scale']} once labeling has started: "
            "existing ratings would change meaning",
        )
    return None


def _likert_column(name: str) -> Column:
    def py(v, p, name=name):
        x = v.get(name) if isinstance(v, dict) else None
        return x if isinstance(x, int) and not isinstance(x, bool) else MISSING

    return Column(
        f"dim:{name}",
        "CASE WHEN jsonb_typeof(a.value -> %s) = 'number' THEN (a.value ->> %s)::numeric::bigint END",
        (name, name),
        py,
    )


class Likert(Kind):
    name = "likert"
    label = "Likert rating"
    schema_keys = (
        *scale_keys(5),
        Key(
            "dimensions",
            "list",
            "What is rated, each on the same scale; names or {name, label} objects.",
            DEFAULT_DIMENSIONS,
            entries=named_entries_keys("dimension"),
            max_items=MAX_DIMENSIONS,
        ),
    )
    item_example = ItemExample(
        note="Any text fields; each is shown. A prompt may be a chat: a list of {role, content}.",
        line={
            "prompt": "Explain recursion to a child.",
            "response": "It is when a thing is made of smaller copies of itself.",
        },
        schema={"scale": 5, "dimensions": ["fluency", "accuracy"]},
    )

    def schema_validate(self, schema: dict) -> dict:
        raw = schema.get("dimensions") or DEFAULT_DIMENSIONS
        dimensions = [
            {"name": name, "label": label}
            for _, _, name, label in named_entries(raw, "dimensions", MAX_DIMENSIONS, "dimensions")
        ]
        return {**scale_fields(schema, 5), "dimensions": dimensions}

    schema_rows = {"dimension": "tasks/kinds/likert-schema.html#dimension-row"}

    def schema_from_form(self, post) -> dict:
        return {
            **scale_from_form(post, 5),
            "dimensions": [
                {"name": r["dimension_name"], "label": r["dimension_label"]}
                for r in form_rows(post, "dimension_name", "dimension_label")
            ],
        }

    def schema_editor_context(self, schema: dict) -> dict:
        return {"dimensions": list(schema.get("dimensions") or DEFAULT_DIMENSIONS)}

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        return scale_change_problem(old, new) or names_change_problem(
            old["dimensions"], new["dimensions"], "dimensions"
        )

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> dict:
        names = [d["name"] for d in schema["dimensions"]]
        if not isinstance(value, dict):
            raise SchemaError("value", f"must rate {', '.join(names)}")
        extra = sorted(set(value) - set(names))
        if extra:
            raise SchemaError(f"value.{extra[0]}", "is not a dimension of this project")
        out = {}
        for name in names:
            rating = small_int(value.get(name))
            if (
                isinstance(rating, bool)
                or not isinstance(rating, int)
                or not 1 <= rating <= schema["scale"]
            ):
                raise SchemaError(f"value.{name}", f"must be a rating from 1 to {schema['scale']}")
            out[name] = rating
        return out

    def widget_context(self, schema: dict) -> dict:
        return {
            "likert_values": list(range(1, schema["scale"] + 1)),
            "likert_keys": KEYS[: schema["scale"]],
        }

    def value_from_form(self, schema: dict, post) -> Any:
        # One field per dimension, `value.<name>`; an unrated one is left out for the check.
        fields = {d["name"]: post.get(f"value.{d['name']}") for d in schema["dimensions"]}
        return {name: rating for name, rating in fields.items() if rating}

    def label_options(self, schema: dict) -> list[tuple[str, str]]:
        """The scale points, the two ends named."""
        n = schema["scale"]
        ends = {1: schema["low_label"], n: schema["high_label"]}
        return [(str(p), f"{p} ({ends[p]})" if p in ends else str(p)) for p in range(1, n + 1)]

    aggregation_methods = ("mean", "median", "bias_corrected")

    def label_columns(self, schema: dict) -> list[Column]:
        return [_likert_column(d["name"]) for d in schema["dimensions"]]

    ordinal_figure = (
        "Ratings against the final rating",
        "Rows: the final rating, rounded; columns: the rating given.",
    )

    def rating_scale(self, schema: dict) -> int | None:
        return schema["scale"]

    def rating_reference(self, schema: dict, label) -> dict[str, float]:
        if not isinstance(label, dict):
            return {}
        return {
            f"dim:{name}": x
            for name, x in label.items()
            if isinstance(x, int | float) and not isinstance(x, bool)
        }

    def answer_keys(self, schema: dict, arrays):
        key = np.zeros(arrays.n, dtype=np.int64)
        for d in schema["dimensions"]:
            key = key * 16 + np.clip(arrays[f"dim:{d['name']}"], -1, 14) + 1
        return key

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        from aggregation.methods import fit_likert

        return fit_likert(schema, labels, method, params)

    def vote_label(self, schema: dict, values: list) -> Any:
        """The mean rating per dimension, as the `mean` method gives it."""
        if not values:
            return None
        return {
            d["name"]: round(sum(v[d["name"]] for v in values) / len(values), 4)
            for d in schema["dimensions"]
        }

    def votes(self, schema: dict, values: list) -> dict:
        """{dimension: {"1": n, ...}}."""
        out: dict = {}
        for value in values:
            for dim, rating in value.items():
                counts = out.setdefault(dim, {})
                counts[str(rating)] = counts.get(str(rating), 0) + 1
        return out

    # Ratings agree by their distance on the scale. The first dimension stands for the
    # answer in project-wide agreement; per-dimension agreement is the dashboards' own.
    agreement_level = "ordinal"
    stop_rule = "likert"  # on the first dimension, as agreement

    def agreement_key(self, value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            return None
        first = next(iter(value.values()))
        return first if isinstance(first, int) else None

    def distribution_keys(self, value: Any) -> list[str]:
        if not isinstance(value, dict) or not value:
            return []
        return [str(next(iter(value.values())))]

    def short_text(self, value: Any) -> str:
        if not isinstance(value, dict):
            return str(value)
        return ", ".join(f"{k} {v}" for k, v in value.items())

    def vote_columns(self, schema: dict) -> list[tuple[str, tuple]]:
        points = [str(p) for p in range(1, schema["scale"] + 1)]
        return [
            (f"votes:{d['name']}:{p}", (d["name"], p)) for d in schema["dimensions"] for p in points
        ]

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        if not isinstance(answer, dict):
            answer = {"value": answer}
        value = self.value_validate(schema, answer.get("value"), item_data)
        tolerance = answer.get("tolerance", 0)
        if not isinstance(tolerance, int) or isinstance(tolerance, bool) or tolerance < 0:
            raise SchemaError("answer.tolerance", "must be a whole number of scale steps")
        return {"value": value, "tolerance": tolerance}

    def gold_from_value(self, value: Any) -> Any:
        return {"value": value}

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        span = max(schema["scale"] - 1, 1)
        tolerance = answer.get("tolerance", 0)
        credits = []
        for name, expected in answer["value"].items():
            off = max(abs(value[name] - expected) - tolerance, 0)
            credits.append(max(0.0, 1.0 - off / span))
        return sum(credits) / len(credits)

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        return [
            f"{name}: expected {expected}, you gave {value[name]}."
            for name, expected in answer["value"].items()
        ]
