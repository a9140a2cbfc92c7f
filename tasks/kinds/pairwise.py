"""Pairwise preference: which of two responses to a prompt is better, and by how much.

Value: `{"choice": "A", "strength": 2, "flags": {"A": ["acceptable"], "B": []}, "rationale": ""}`.
Answers always name the item's own response_a as "A": the workbench may show the two sides
swapped, and the server undoes that (`unswap`) before storing. Gold:
`{"accept": ["A"], "strength": null}` scores 0 if the choice is not accepted, 1 if no strength
is expected ("A better, any strength"), else 1 - 0.25 per step of strength off (at least 0.5).
"""

from __future__ import annotations

import json
import secrets
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
    answer_text,
    bool_field,
    chat_turns,
    form_rows,
    prompt_turns,
    prompt_validate,
    small_int,
    text_field,
)
from .choice import CATEGORICAL
from .keys import ItemExample, Key

ANSWERS = ("A", "B", "tie", "both_bad")
STRENGTH_MODES = ("none", "labels", "scale")
# "labels" mode: 1 slightly, 2 clearly, 3 much better. "scale" mode shows -3..+3 and
# stores the same choice and magnitude.
STRENGTH_LABELS = {1: "slightly better", 2: "clearly better", 3: "much better"}
RATIONALE_MODES = ("none", "optional", "required")
MAX_FLAGS = 10
MAX_RATIONALE = 10_000
CHOICES = (
    Choice("A", "A is better", "1"),
    Choice("B", "B is better", "2"),
    Choice("tie", "Tie", "3"),
    Choice("both_bad", "Both are bad", "4"),
)
# Answers as codes for aggregation; both_bad is a fourth answer that the preference model
# maps to tie.
CODES = {"A": 0, "B": 1, "tie": 2, "both_bad": 3}
_FEEDBACK_NAMES = {
    "A": "A is better",
    "B": "B is better",
    "tie": "a tie",
    "both_bad": "both are bad",
}


def unswap(value: dict, swapped: bool) -> dict:
    """Map an answer about the sides as displayed back to the item's own A and B."""
    if not swapped:
        return value
    flip = {"A": "B", "B": "A"}
    out = dict(value)
    out["choice"] = flip.get(value["choice"], value["choice"])
    if "flags" in value:
        out["flags"] = {"A": value["flags"].get("B", []), "B": value["flags"].get("A", [])}
    return out


def _pairwise_columns() -> list[Column]:
    codes = list(CODES)

    def choice(v, p):
        return CODES.get(v.get("choice"), MISSING) if isinstance(v, dict) else MISSING

    def strength(v, p):
        s = v.get("strength") if isinstance(v, dict) else None
        return s if isinstance(s, int) and not isinstance(s, bool) else 0

    def swapped(v, p):
        if not isinstance(p, dict) or "swapped" not in p:
            return MISSING
        return int(bool(p["swapped"]))

    return [
        Column("choice", "array_position(%s::text[], a.value ->> 'choice') - 1", (codes,), choice),
        Column(
            "strength",
            "CASE WHEN jsonb_typeof(a.value -> 'strength') = 'number' "
            "THEN (a.value ->> 'strength')::numeric::bigint ELSE 0 END",
            (),
            strength,
        ),
        Column(
            "swapped",
            "CASE WHEN jsonb_typeof(a.presentation -> 'swapped') = 'boolean' "
            "THEN (a.presentation ->> 'swapped')::boolean::int END",
            (),
            swapped,
        ),
    ]


class Pairwise(Kind):
    name = "pairwise"
    label = "Pairwise preference"
    schema_keys = (
        Key("allow_tie", "boolean", "Offer 'tie' (key 3).", True),
        Key("allow_both_bad", "boolean", "Offer 'both are bad' (key 4).", True),
        Key(
            "strength",
            "string",
            "How much better: none; labels (slightly, clearly, much better); scale (-3..+3).",
            "none",
            enum=STRENGTH_MODES,
        ),
        Key(
            "flags",
            "list",
            "Checkboxes a rater may tick on either response (e.g. unsafe); values or objects.",
            [],
            entries=(
                Key("value", "string", "What the flag is stored as; unique."),
                Key("label", "string", "What raters read; the value if left out."),
            ),
            max_items=MAX_FLAGS,
        ),
        Key(
            "rationale",
            "string",
            "A free-text reason: not asked, optional or required.",
            "optional",
            enum=RATIONALE_MODES,
        ),
    )
    item_example = ItemExample(
        note=(
            "prompt is text or a chat (a list of {role, content}); response_a and response_b "
            "are text. Name the models in meta (model_a, model_b) for the leaderboard."
        ),
        line={
            "prompt": "Write a haiku about rain.",
            "response_a": "Soft rain on the roof / ...",
            "response_b": "Rain rain go away / ...",
            "meta": {"model_a": "model-x", "model_b": "model-y"},
        },
        schema={"allow_tie": True, "strength": "labels"},
    )
    required_fields = ("prompt", "response_a", "response_b")

    def schema_validate(self, schema: dict) -> dict:
        allow_tie = bool_field(schema, "allow_tie", True)
        allow_both_bad = bool_field(schema, "allow_both_bad", True)
        strength = schema.get("strength", "none")
        if strength not in STRENGTH_MODES:
            raise SchemaError("strength", f"must be one of {', '.join(STRENGTH_MODES)}")
        rationale = schema.get("rationale", "optional")
        if rationale not in RATIONALE_MODES:
            raise SchemaError("rationale", f"must be one of {', '.join(RATIONALE_MODES)}")
        raw_flags = schema.get("flags", [])
        if not isinstance(raw_flags, list) or len(raw_flags) > MAX_FLAGS:
            raise SchemaError("flags", f"must be a list of at most {MAX_FLAGS} flags")
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

    schema_rows = {"flag": "tasks/kinds/pairwise-schema.html#flag-row"}

    def schema_from_form(self, post) -> dict:
        return {
            "allow_tie": bool(post.get("allow_tie")),
            "allow_both_bad": bool(post.get("allow_both_bad")),
            "strength": post.get("strength", "none"),
            "rationale": post.get("rationale", "optional"),
            "flags": [
                {"value": r["flag_value"] or r["flag_label"], "label": r["flag_label"]}
                for r in form_rows(post, "flag_value", "flag_label")
            ],
        }

    def schema_editor_context(self, schema: dict) -> dict:
        return {
            "flags": list(schema.get("flags") or []),
            "strength_modes": [
                ("none", "No strength"),
                ("labels", "Slightly / clearly / much better"),
                ("scale", "A −3..+3 scale"),
            ],
            "rationale_modes": [
                ("none", "No rationale"),
                ("optional", "Optional"),
                ("required", "Required"),
            ],
        }

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
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
        return None

    def item_validate(self, data: dict, schema: dict) -> None:
        prompt_validate(data)
        text_field(data, "response_a")
        text_field(data, "response_b")

    def choices(self, schema: dict) -> list[Choice]:
        return [
            c
            for c in CHOICES
            if (c.value != "tie" or schema.get("allow_tie"))
            and (c.value != "both_bad" or schema.get("allow_both_bad"))
        ]

    def label_options(self, schema: dict) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in self.choices(schema)]

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> dict:
        if not isinstance(value, dict):
            raise SchemaError("value", "must be an object with a choice")
        allowed = [c.value for c in self.choices(schema)]
        choice = value.get("choice")
        if choice not in allowed:
            raise SchemaError("value.choice", f"must be one of {', '.join(allowed)}")
        out: dict[str, Any] = {"choice": choice}
        if schema.get("strength", "none") != "none" and choice in ("A", "B"):
            strength = small_int(value.get("strength"))
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
                    raise SchemaError(
                        f"value.flags.{side}", f"may only hold {', '.join(flag_values)}"
                    )
                out["flags"][side] = [f for f in flag_values if f in picked]
        mode = schema.get("rationale", "none")
        if mode != "none":
            rationale = value.get("rationale") or ""
            if not isinstance(rationale, str) or len(rationale) > MAX_RATIONALE:
                raise SchemaError(
                    "value.rationale", f"must be text of at most {MAX_RATIONALE:,} characters"
                )
            if mode == "required" and not rationale.strip():
                raise SchemaError("value.rationale", "is required: say why in a sentence")
            out["rationale"] = answer_text(rationale)
        return out

    aggregation_methods = CATEGORICAL
    wants_item_models = True
    models_hint = (
        "Items don't name models: add model_a and model_b (the models behind response_a "
        "and response_b) to each item's meta, then run aggregation again."
    )

    def default_aggregation(self, *, subjective: bool) -> str:
        return "majority" if subjective else "auto"

    def label_columns(self, schema: dict) -> list[Column]:
        return _pairwise_columns()

    answers_are_one_label = True
    stop_rule = "pairwise"

    def categorical_codes(self, schema: dict, arrays):
        # Both-bad counts as a tie, as in the preference model.
        choice = arrays["choice"]
        return np.where(choice == CODES["both_bad"], CODES["tie"], choice), ["A", "B", "tie"]

    def side_counts(self, arrays, rater_idx, n_raters):
        choice, swapped = arrays["choice"], arrays["swapped"]
        known = (swapped >= 0) & (choice <= 1)
        # The stored choice names the item's own sides; undo the swap to get the screen side.
        left = known & ((choice == 0) == (swapped == 0))
        right = known & ~left
        return (
            np.bincount(rater_idx[left], minlength=n_raters),
            np.bincount(rater_idx[right], minlength=n_raters),
        )

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        from aggregation.methods import fit_pairwise

        return fit_pairwise(labels, method, params, raters, subjective, extra_data)

    makes_preferences = True
    has_sides = True

    def widget_context(self, schema: dict) -> dict:
        return {"strength_labels": list(STRENGTH_LABELS.items())}

    def widget(self, schema: dict, data: dict, presentation: dict, value: Any, render) -> dict:
        return {
            "turns": prompt_turns(data, render),
            "response_a": render(data.get("response_a") or ""),
            "response_b": render(data.get("response_b") or ""),
        }

    def value_from_form(self, schema: dict, post) -> Any:
        value = {"choice": post.get("choice") or post.get("value")}
        if post.get("strength"):
            value["strength"] = post.get("strength")
        if schema.get("flags"):
            value["flags"] = {"A": post.getlist("flags.A"), "B": post.getlist("flags.B")}
        if schema.get("rationale", "none") != "none":
            value["rationale"] = post.get("rationale", "")
        return value

    def presentation(self, item_data: dict | None) -> dict:
        return {"swapped": bool(secrets.randbelow(2))}

    def displayed_data(self, data: dict, presentation: dict) -> dict:
        if not presentation.get("swapped"):
            return data
        shown = dict(data)
        shown["response_a"], shown["response_b"] = data.get("response_b"), data.get("response_a")
        return shown

    def stored_value(self, value: Any, presentation: dict) -> Any:
        return unswap(value, bool(presentation.get("swapped")))

    def displayed_value(self, value: Any, presentation: dict) -> Any:
        # Swapping is its own inverse.
        if not isinstance(value, dict):
            return value
        return unswap(value, bool(presentation.get("swapped")))

    def label_from_form(self, raw: str) -> Any:
        return {"choice": raw} if raw in ANSWERS else super().label_from_form(raw)

    def aggregate_labels(self, schema: dict) -> list[str]:
        # The preference model folds both-bad into tie (aggregation.methods.PAIRWISE_LABELS).
        return ["A", "B", "tie"]

    # A model reads a pairwise item as a preference between its two responses: P(A better),
    # P(B better), P(tie), over the aggregate labels above (both-bad folded into tie there
    # too). Vox's own model learns it from the two responses' texts (modelruns.cv).
    item_classes = True
    model_learner = "preference"

    def model_example(self, data: dict) -> tuple[str, str, str]:
        prompt = "\n".join(t["content"] for t in chat_turns(data.get("prompt") or ""))
        return prompt, data.get("response_a") or "", data.get("response_b") or ""

    def model_learner_options(self, schema: dict) -> dict:
        # Trading the responses' places turns "A better" into "B better"; a tie stays one.
        flip = {"A": "B", "B": "A"}
        labels = self.aggregate_labels(schema)
        return {"swap": [labels.index(flip.get(label, label)) for label in labels]}

    def label_from_aggregate(self, label: Any) -> Any:
        # Aggregation names the winner "A", "B" or "tie".
        return {"choice": label} if isinstance(label, str) else label

    def gold_from_value(self, value: Any) -> Any:
        return {"accept": [value.get("choice") if isinstance(value, dict) else value]}

    def vote_label(self, schema: dict, values: list) -> Any:
        """The answer most raters chose (the earliest of those tied), as the aggregate names
        it; an even split between A and B at the top is a tie, as in the aggregate
        (aggregation.methods.split_to_tie), never the side shown first."""
        from aggregation.methods import split_to_tie

        choices = [v["choice"] for v in values]
        label = super().vote_label(schema, choices)
        if label is None:
            return None
        counts = Counter(choices)
        shares = np.array([[counts[name] for name in CODES]], dtype=float)
        code = split_to_tie(shares, np.array([CODES[label]]))[0]
        return next(name for name, c in CODES.items() if c == code)

    def votes(self, schema: dict, values: list) -> dict:
        return dict(Counter(v["choice"] for v in values))

    def agreement_key(self, value: Any) -> Any:
        return value.get("choice") if isinstance(value, dict) else json.dumps(value)

    def distribution_keys(self, value: Any) -> list[str]:
        return [str(value.get("choice"))] if isinstance(value, dict) else []

    def short_text(self, value: Any) -> str:
        return str(value.get("choice")) if isinstance(value, dict) else str(value)

    def preference_pairs(self, data: dict, values: list, label) -> list[dict]:
        """One pair per item from its raters' votes (or its aggregated label, when there is one).

        margin: the mean signed strength towards `chosen` over all raters (a vote for the other
        side counts negative; tie and both-bad count 0; without strength each vote is 1), so
        it lies in 0..3. agreement: the share of raters who chose `chosen`. Items most raters
        call both bad give no pair.
        """
        votes = Counter(v["choice"] for v in values)
        n = len(values)
        if isinstance(label, dict) and label.get("choice") in ("A", "B", "tie", "both_bad"):
            winner = label["choice"]
        elif votes["both_bad"] > max(votes["A"], votes["B"], votes["tie"]):
            winner = "both_bad"
        else:
            winner = "A" if votes["A"] > votes["B"] else "B" if votes["B"] > votes["A"] else "tie"
        if winner == "both_bad":
            return []
        chosen = "B" if winner == "B" else "A"
        rejected = "A" if chosen == "B" else "B"
        signed = sum(
            v.get("strength", 1) * (1 if v["choice"] == chosen else -1)
            for v in values
            if v["choice"] in ("A", "B")
        )
        texts = {"A": data["response_a"], "B": data["response_b"]}
        return [
            {
                "prompt": data["prompt"],
                "chosen": texts[chosen],
                "rejected": texts[rejected],
                "margin": 0.0 if winner == "tie" else round(signed / n, 4),
                "agreement": round(votes[winner] / n, 4),
                "n_raters": n,
                "votes": dict(votes),
                "tie": winner == "tie",
            }
        ]

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        if not isinstance(answer, dict):
            answer = {"accept": [answer]}

        def probe(option):
            # Only the choice is checked: strength and rationale are the gold's own fields.
            self.value_validate(
                schema, {"choice": option, "strength": 1, "rationale": "gold"}, item_data
            )

        out: dict[str, Any] = {"accept": accept_list(answer, probe)}
        strength = answer.get("strength")
        if strength is not None and (
            schema.get("strength", "none") == "none" or strength not in (1, 2, 3)
        ):
            raise SchemaError("answer.strength", "must be 1, 2, 3 or null (any strength)")
        out["strength"] = strength
        return out

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        if value["choice"] not in answer["accept"]:
            return 0.0
        expected = answer.get("strength")
        if expected is None or "strength" not in value:
            return 1.0
        return max(0.5, 1.0 - 0.25 * abs(value["strength"] - expected))

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        names = _FEEDBACK_NAMES
        lines = [
            f"Expected: {' or '.join(names[a] for a in answer['accept'])}"
            + (f", {STRENGTH_LABELS[answer['strength']]}" if answer.get("strength") else "")
            + "."
        ]
        got = names[value["choice"]]
        if value.get("strength"):
            got += f", {STRENGTH_LABELS[value['strength']]}"
        lines.append(f"You answered: {got}.")
        if value["choice"] in answer["accept"] and answer.get("strength") and value.get("strength"):
            step = value["strength"] - answer["strength"]
            if step:
                lines.append(
                    f"Your strength was {abs(step)} step{'s' if abs(step) > 1 else ''} "
                    f"{'stronger' if step > 0 else 'weaker'} than expected."
                )
        return lines
