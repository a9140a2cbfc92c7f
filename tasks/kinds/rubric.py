"""Rubric rating: a response, or every assistant turn of a conversation, rated 1..N on named
criteria, with a written rationale where the project asks for one.

Value: `{"ratings": [{"scores": {"helpfulness": 5, ...}, "rationales": {"helpfulness": "..."}}]}`,
one rating per target: one for `target: "response"`, one per assistant turn, in order, for
`target: "turns"`. Only rationales that were written are kept. Gold: `{"value": {...},
"tolerance": 1}` gives full credit per criterion and target within the tolerance (in scale
steps), then falls linearly to 0 at the far end of the scale; the score is the mean over all
of them. Rationales are not scored.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .base import (
    CHAT_ROLES,
    MISSING,
    Column,
    Kind,
    SchemaError,
    answer_text,
    chat_turns,
    form_rows,
    named_entries,
    names_change_problem,
    prompt_turns,
    prompt_validate,
    small_int,
    text_field,
)
from .keys import ItemExample, Key, named_entries_keys, scale_keys

# A rubric criterion is rated on a Likert scale, with the same keys (1-9, 0 for 10, - for 11).
from .likert import KEYS, scale_change_problem, scale_fields, scale_from_form

MAX_CRITERIA = 10
# Label columns are fixed per schema (aggregation.loading), so a conversation has at most
# this many assistant turns to rate; the importer refuses longer ones.
MAX_TURNS = 20
MAX_RATIONALE = 2_000
RATIONALE = ("off", "optional", "required")
TARGETS = ("response", "turns")
DEFAULT_CRITERIA = ["helpfulness", "harmlessness", "honesty"]


def _n_targets(schema: dict) -> int:
    """The most targets one answer can have: the width of the label columns."""
    return MAX_TURNS if schema["target"] == "turns" else 1


def _assistant_turns(item_data: dict) -> int | None:
    conversation = item_data.get("conversation")
    if not isinstance(conversation, list):
        return None
    return sum(1 for t in conversation if isinstance(t, dict) and t.get("role") == "assistant")


def _score_column(t: int, name: str) -> Column:
    def py(v, p, t=t, name=name):
        ratings = v.get("ratings") if isinstance(v, dict) else None
        rating = ratings[t] if isinstance(ratings, list) and t < len(ratings) else None
        scores = rating.get("scores") if isinstance(rating, dict) else None
        x = scores.get(name) if isinstance(scores, dict) else None
        return x if isinstance(x, int) and not isinstance(x, bool) else MISSING

    path = "a.value -> 'ratings' -> %s -> 'scores'"
    return Column(
        f"dim:{t}.{name}",
        f"CASE WHEN jsonb_typeof({path} -> %s) = 'number' THEN ({path} ->> %s)::numeric::bigint END",
        (t, name, t, name),
        py,
    )


def _by_target(flat: dict, n: int) -> list[dict]:
    """A fit's {"t.criterion": x} as [{criterion: x}, ...] for targets 0..n-1."""
    out: list[dict] = [{} for _ in range(n)]
    for dim, x in flat.items():
        t, name = dim.split(".", 1)
        if int(t) < n:
            out[int(t)][name] = x
    return out


def _ratings(value: Any) -> list[dict]:
    """A stored value's ratings, or none for anything else (answers are canonical)."""
    ratings = value.get("ratings") if isinstance(value, dict) else None
    return [r for r in ratings if isinstance(r, dict)] if isinstance(ratings, list) else []


class Rubric(Kind):
    name = "rubric"
    label = "Rubric rating"
    schema_keys = (
        Key(
            "criteria",
            "list",
            "The criteria, each rated on the scale; names or objects.",
            [
                {"name": n, "label": n.capitalize(), "description": "", "rationale": "off"}
                for n in DEFAULT_CRITERIA
            ],
            entries=named_entries_keys(
                "criterion",
                (
                    Key(
                        "description",
                        "string",
                        "What the criterion asks, shown to raters.",
                        default="",
                    ),
                    Key(
                        "rationale",
                        "string",
                        "A reason per rating: off, optional or required.",
                        "off",
                        enum=RATIONALE,
                    ),
                ),
            ),
            max_items=MAX_CRITERIA,
        ),
        *scale_keys(7),
        Key(
            "target",
            "string",
            "Rate one response (prompt, response) or every assistant turn of a conversation.",
            "response",
            enum=TARGETS,
        ),
    )
    item_example = ItemExample(
        note=(
            "target response: prompt (text or a chat) and response; target turns: conversation, "
            f"a list of {{role, content}} with 1 to {MAX_TURNS} assistant turns."
        ),
        line={
            "prompt": "How do I boil an egg?",
            "response": "Simmer it for nine minutes, then cool it.",
        },
        schema={"criteria": ["helpfulness", "honesty"]},
    )
    # Which of these an item needs depends on the schema's target (item_validate checks).
    optional_fields = ("prompt", "response", "conversation")

    def shows_field(self, field: str) -> bool:
        return field in self.optional_fields

    # --- Schema ---

    def schema_validate(self, schema: dict) -> dict:
        target = schema.get("target", "response")
        if target not in TARGETS:
            raise SchemaError("target", f"must be one of {', '.join(TARGETS)}")
        raw = schema.get("criteria") or DEFAULT_CRITERIA
        criteria = []
        for where, entry, name, label in named_entries(raw, "criteria", MAX_CRITERIA, "criteria"):
            description = entry.get("description") or ""
            if not isinstance(description, str):
                raise SchemaError(f"{where}.description", "must be a string")
            rationale = entry.get("rationale", "off")
            if rationale not in RATIONALE:
                raise SchemaError(f"{where}.rationale", f"must be one of {', '.join(RATIONALE)}")
            criteria.append(
                {"name": name, "label": label, "description": description, "rationale": rationale}
            )
        return {
            "criteria": criteria,
            **scale_fields(schema, 7),
            "target": target,
        }

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        problem = scale_change_problem(old, new)
        if problem:
            return problem
        if new["target"] != old["target"]:
            return SchemaError("target", "cannot change once labeling has started")
        problem = names_change_problem(old["criteria"], new["criteria"], "criteria")
        if problem:
            return problem
        # A rationale turned on or made required leaves earlier answers without one, which
        # is allowed: rationales are never scored or aggregated.
        return None

    def items_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        if new["target"] != old["target"]:
            return SchemaError(
                "target",
                "cannot change once items are imported: they were checked for "
                f"{old['target']!r} ratings",
            )
        return None

    # --- The schema editor ---

    schema_rows = {"criterion": "tasks/kinds/rubric-schema.html#criterion-row"}

    def schema_from_form(self, post) -> dict:
        return {
            **scale_from_form(post, 7),
            "target": post.get("target") or "response",
            "criteria": [
                {
                    "name": r["criterion_name"],
                    "label": r["criterion_label"],
                    "description": r["criterion_description"],
                    "rationale": r["criterion_rationale"] or "off",
                }
                # A row whose only input is its rationale select is a blank row.
                for r in form_rows(
                    post,
                    "criterion_name",
                    "criterion_label",
                    "criterion_description",
                    "criterion_rationale",
                )
                if r["criterion_name"] or r["criterion_label"] or r["criterion_description"]
            ],
        }

    def schema_editor_context(self, schema: dict) -> dict:
        criteria = schema.get("criteria") or [{"name": n} for n in DEFAULT_CRITERIA]
        return {"criteria": list(criteria), "rationale_modes": RATIONALE, "targets": TARGETS}

    # --- Items ---

    def item_validate(self, data: dict, schema: dict) -> None:
        if schema.get("target", "response") == "response":
            prompt_validate(data)
            text_field(data, "response")
            return
        conversation = data.get("conversation")
        if not isinstance(conversation, list) or not conversation:
            raise SchemaError("conversation", "must be a list of {role, content} turns")
        for i, turn in enumerate(conversation):
            if not isinstance(turn, dict) or turn.get("role") not in CHAT_ROLES:
                raise SchemaError(
                    f"conversation[{i}].role", f"must be one of {', '.join(CHAT_ROLES)}"
                )
            if not isinstance(turn.get("content", turn.get("text")), str):
                raise SchemaError(f"conversation[{i}].content", "must be text")
        n = _assistant_turns(data)
        if n == 0:
            raise SchemaError("conversation", "needs at least one assistant turn to rate")
        if n > MAX_TURNS:
            raise SchemaError(
                "conversation", f"has {n} assistant turns; at most {MAX_TURNS} can be rated"
            )

    # --- Answers ---

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> dict:
        names = [c["name"] for c in schema["criteria"]]
        ratings = value.get("ratings") if isinstance(value, dict) else None
        if not isinstance(ratings, list) or not ratings:
            raise SchemaError("value.ratings", f"must rate {', '.join(names)}")
        extra = sorted(set(value) - {"ratings"})
        if extra:
            raise SchemaError(f"value.{extra[0]}", "is not part of a rubric answer")
        if schema["target"] == "response":
            expected = 1
        else:
            # Without the item (it is always given at the doors) any count up to the cap.
            expected = _assistant_turns(item_data)
            if expected is None:
                expected = min(max(len(ratings), 1), MAX_TURNS)
        if len(ratings) != expected:
            what = "the response" if schema["target"] == "response" else "assistant turns"
            raise SchemaError(
                "value.ratings", f"has {len(ratings)} ratings for {expected} {what}: rate each once"
            )
        return {
            "ratings": [
                self._rating_validate(schema, rating, f"value.ratings[{t}]")
                for t, rating in enumerate(ratings)
            ]
        }

    def _rating_validate(self, schema: dict, rating: Any, where: str) -> dict:
        names = [c["name"] for c in schema["criteria"]]
        if not isinstance(rating, dict):
            raise SchemaError(where, "must be an object with scores")
        extra = sorted(set(rating) - {"scores", "rationales"})
        if extra:
            raise SchemaError(f"{where}.{extra[0]}", "is not part of a rating")
        scores = rating.get("scores")
        if not isinstance(scores, dict):
            raise SchemaError(f"{where}.scores", f"must rate {', '.join(names)}")
        rationales = rating.get("rationales") or {}
        if not isinstance(rationales, dict):
            raise SchemaError(f"{where}.rationales", "must be an object of texts by criterion")
        for key, field in ((scores, "scores"), (rationales, "rationales")):
            unknown = sorted(set(key) - set(names))
            if unknown:
                raise SchemaError(f"{where}.{field}.{unknown[0]}", "is not a criterion")
        out_scores, out_texts = {}, {}
        for c in schema["criteria"]:
            name = c["name"]
            score = small_int(scores.get(name))
            if isinstance(score, bool) or not isinstance(score, int):
                score = None
            if score is None or not 1 <= score <= schema["scale"]:
                raise SchemaError(
                    f"{where}.scores.{name}", f"must be a rating from 1 to {schema['scale']}"
                )
            out_scores[name] = score
            text = rationales.get(name, "")
            field = f"{where}.rationales.{name}"
            if not isinstance(text, str):
                raise SchemaError(field, "must be text")
            text = answer_text(text)
            if c["rationale"] == "off" and text:
                raise SchemaError(field, "this criterion takes no rationale")
            if c["rationale"] == "required" and not text:
                raise SchemaError(field, "is required: say why you gave this rating")
            if len(text) > MAX_RATIONALE:
                raise SchemaError(field, f"must be at most {MAX_RATIONALE:,} characters")
            if text:
                out_texts[name] = text
        return {"scores": out_scores, "rationales": out_texts}

    def value_from_form(self, schema: dict, post) -> Any:
        # Each target's fields are `value.<slot>.<criterion>` and `rationale.<slot>.<criterion>`;
        # `rubric_target` lists the slots in target order (the workbench numbers them 0..n-1,
        # a practice question by conversation position). An unrated criterion is left out, so
        # value_validate names it.
        slots = post.getlist("rubric_target")[:MAX_TURNS] or ["0"]
        ratings = []
        for slot in slots:
            scores, texts = {}, {}
            for c in schema["criteria"]:
                score = post.get(f"value.{slot}.{c['name']}")
                if score:
                    scores[c["name"]] = score
                text = post.get(f"rationale.{slot}.{c['name']}")
                if text is not None and c["rationale"] != "off":
                    texts[c["name"]] = text
            ratings.append({"scores": scores, "rationales": texts})
        return {"ratings": ratings}

    def label_options(self, schema: dict) -> list[tuple[str, str]]:
        """The scale points, the two ends named."""
        n = schema["scale"]
        ends = {1: schema["low_label"], n: schema["high_label"]}
        return [(str(p), f"{p} ({ends[p]})" if p in ends else str(p)) for p in range(1, n + 1)]

    # --- The widget ---

    def widget_context(self, schema: dict) -> dict:
        return {
            "rubric_values": list(range(1, schema["scale"] + 1)),
            "rubric_keys": KEYS[: schema["scale"]],
        }

    def widget(self, schema: dict, data: dict, presentation: dict, value: Any, render) -> dict:
        """The item as blocks of text, each rated target followed by its criteria, with the
        answer being redone (undo) filled in."""
        given = _ratings(value)

        def target(t: int) -> dict:
            rating = given[t] if t < len(given) else {}
            scores, texts = rating.get("scores") or {}, rating.get("rationales") or {}
            return {
                "index": t,
                "number": t + 1,
                "criteria": [
                    {**c, "score": scores.get(c["name"]), "text": texts.get(c["name"], "")}
                    for c in schema["criteria"]
                ],
            }

        if schema["target"] == "response":
            blocks = [{**turn, "target": None} for turn in prompt_turns(data, render)]
            blocks.append(
                {
                    "role": "response",
                    "html": render(data.get("response") or ""),
                    "target": target(0),
                }
            )
            return {"rubric_blocks": blocks, "rubric_slots": [0]}
        blocks, t = [], 0
        for turn in chat_turns(data.get("conversation") or []):
            block = {"role": turn["role"], "html": render(turn["content"]), "target": None}
            if turn["role"] == "assistant":
                block["target"] = target(t)
                t += 1
            blocks.append(block)
        return {"rubric_blocks": blocks, "rubric_slots": list(range(t))}

    # --- Aggregation: each (target, criterion) is one Likert dimension ---

    aggregation_methods = ("mean", "median", "bias_corrected")

    ordinal_figure = (
        "Ratings against the final rating",
        "Rows: the final rating, rounded; columns: the rating given (every criterion and turn).",
    )

    def rating_scale(self, schema: dict) -> int | None:
        return schema["scale"]

    def rating_reference(self, schema: dict, label) -> dict[str, float]:
        return {
            f"dim:{t}.{name}": x
            for t, rating in enumerate(_ratings(label))
            for name, x in (rating.get("scores") or {}).items()
            if isinstance(x, int | float) and not isinstance(x, bool)
        }

    def label_columns(self, schema: dict) -> list[Column]:
        return [
            _score_column(t, c["name"])
            for t in range(_n_targets(schema))
            for c in schema["criteria"]
        ]

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        from aggregation.methods import fit_likert

        # Only the columns someone rated: a conversation cap of 20 turns would otherwise fit
        # 20 x criteria dimensions that are all empty.
        dims = [
            {"name": col.name.removeprefix("dim:")}
            for col in self.label_columns(schema)
            if np.any(labels[col.name] >= 1)
        ]
        fit = fit_likert({"scale": schema["scale"], "dimensions": dims}, labels, method, params)
        # An item has ratings up to its last rated target: columns past its own turns have
        # no votes, so their mean is None (their distribution is uniform, not telling).
        lengths = [
            1 + max((int(d.split(".")[0]) for d, x in flat.items() if x is not None), default=-1)
            for flat in fit.label
        ]
        fit.label = [
            {"ratings": [{"scores": r} for r in _by_target(flat, n)]}
            for flat, n in zip(fit.label, lengths, strict=True)
        ]
        fit.distribution = [
            {"ratings": _by_target(flat, n)}
            for flat, n in zip(fit.distribution, lengths, strict=True)
        ]
        if fit.extra is not None:
            fit.extra = [
                {"ratings": _by_target(flat, n)} for flat, n in zip(fit.extra, lengths, strict=True)
            ]
        return fit

    def answer_keys(self, schema: dict, arrays):
        # Every score of an answer, as one row; equal rows are identical ratings. Rationales
        # are not loaded, so two answers differing only in their text count as the same.
        columns = [arrays[col.name] for col in self.label_columns(schema)]
        if not columns or arrays.n == 0:
            return np.zeros(arrays.n, dtype=np.int64)
        _, key = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
        return key.reshape(-1).astype(np.int64)

    # --- Agreement and display ---

    # Scores agree by their distance on the scale. The first target's first criterion
    # stands for the answer in project-wide agreement; `agreement_figures` has them all.
    agreement_level = "ordinal"
    has_agreement_figures = True

    def agreement_key(self, value: Any) -> Any:
        ratings = _ratings(value)
        scores = ratings[0].get("scores") if ratings else None
        if not isinstance(scores, dict) or not scores:
            return None
        first = next(iter(scores.values()))
        return first if isinstance(first, int) else None

    def distribution_keys(self, value: Any) -> list[str]:
        key = self.agreement_key(value)
        return [] if key is None else [str(key)]

    def agreement_figures(self, schema: dict, by_item: dict, items: dict) -> list[dict]:
        """Krippendorff's alpha (ordinal) per criterion, every (item, target) one unit."""
        from quality.numeric.agreement import krippendorff_alpha

        figures = []
        for c in schema["criteria"]:
            name = c["name"]
            units, raters, scores = {}, [], []
            unit_idx = []
            for item_id, answers in by_item.items():
                for rater_id, value in answers:
                    for t, rating in enumerate(_ratings(value)):
                        score = (rating.get("scores") or {}).get(name)
                        if not isinstance(score, int) or isinstance(score, bool):
                            continue
                        unit_idx.append(units.setdefault((item_id, t), len(units)))
                        raters.append(rater_id)
                        scores.append(score)
            alpha = None
            if len(scores) >= 2:
                _, rater_idx = np.unique(np.array(raters), return_inverse=True)
                a = krippendorff_alpha(
                    np.array(unit_idx), rater_idx, np.array(scores, dtype=np.int64), level="ordinal"
                )
                alpha = round(float(a), 4) if np.isfinite(a) else None
            figures.append(
                {
                    "name": f"alpha:{name}",
                    "label": f"Krippendorff's α, {name} (ordinal)",
                    "value": alpha,
                    "help": "every rated response or turn is one unit; 1 is perfect agreement",
                }
            )
        return figures

    def short_text(self, value: Any) -> str:
        ratings = _ratings(value)
        if not ratings:
            return str(value)
        parts = [", ".join(f"{k} {v}" for k, v in (r.get("scores") or {}).items()) for r in ratings]
        if len(parts) == 1:
            return parts[0]
        return "; ".join(f"T{t + 1}: {p}" for t, p in enumerate(parts))

    # --- Export ---

    def votes(self, schema: dict, values: list) -> dict:
        """{criterion: {"1": n, ...}} for a response; {"turn1": {criterion: {...}}, ...} for
        turns."""
        out: dict = {}
        for value in values:
            for t, rating in enumerate(_ratings(value)):
                into = out if schema["target"] == "response" else out.setdefault(f"turn{t + 1}", {})
                for name, score in (rating.get("scores") or {}).items():
                    counts = into.setdefault(name, {})
                    counts[str(score)] = counts.get(str(score), 0) + 1
        return out

    def vote_columns(self, schema: dict) -> list[tuple[str, tuple]]:
        # Per turn that would be 20 x criteria x points columns, nearly all zero: turns keep
        # their votes as one JSON cell instead.
        if schema["target"] == "turns":
            return []
        points = [str(p) for p in range(1, schema["scale"] + 1)]
        return [
            (f"votes:{c['name']}:{p}", (c["name"], p)) for c in schema["criteria"] for p in points
        ]

    def label_csv_columns(self, schema: dict) -> list[tuple[str, tuple]]:
        if schema["target"] == "response":
            return [
                (f"label:{c['name']}", ("ratings", 0, "scores", c["name"]))
                for c in schema["criteria"]
            ]
        return [
            (f"label:turn{t + 1}:{c['name']}", ("ratings", t, "scores", c["name"]))
            for t in range(MAX_TURNS)
            for c in schema["criteria"]
        ]

    export_formats = {
        "reward_ratings": (
            "Reward-model ratings (TRL prompt-completion, conversational), JSONL",
            "ratings.jsonl",
            "application/x-ndjson",
        )
    }

    def export_lines(self, fmt: str, schema: dict, item: dict, values: list, label) -> str:
        """One line per rated response or assistant turn, for training a reward model on
        ratings: `prompt` the messages before it, `completion` the rated turn (always as
        message lists, so one file has one shape), `scores` the final rating per criterion
        on the 1..scale scale and `score` their mean mapped to 0..1, with the item's
        provenance. Gold items (checks on raters) and items without a final label are left
        out."""
        if fmt != "reward_ratings":
            return super().export_lines(fmt, schema, item, values, label)
        ratings = _ratings(label)
        if item["is_gold"] or not ratings:
            return ""
        data, lines = item["data"], []
        if schema["target"] == "response":
            rated = [(chat_turns(data.get("prompt") or ""), data.get("response") or "")]
        else:
            turns = chat_turns(data.get("conversation") or [])
            rated = [
                (turns[:i], t["content"]) for i, t in enumerate(turns) if t["role"] == "assistant"
            ]
        top = schema["scale"] - 1
        for t, ((prompt, text), rating) in enumerate(zip(rated, ratings, strict=False)):
            scores = {
                c["name"]: rating["scores"][c["name"]]
                for c in schema["criteria"]
                if isinstance((rating.get("scores") or {}).get(c["name"]), int | float)
            }
            if not scores:
                continue
            row = {
                "prompt": prompt,
                "completion": [{"role": "assistant", "content": text}],
                "scores": scores,
                "score": round((sum(scores.values()) / len(scores) - 1) / top, 6),
                "turn": t + 1,
                "item_id": item["item_id"],
                "external_id": item["external_id"],
                "meta": item["meta"],
                **item["provenance"],
            }
            lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        return "".join(lines)

    # --- Gold ---

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        if not isinstance(answer, dict) or "value" not in answer:
            answer = {"value": answer}
        try:
            value = self.value_validate(schema, answer["value"], item_data)
        except SchemaError as exc:
            raise SchemaError(f"answer.{exc.field}", exc.message) from None
        tolerance = answer.get("tolerance", 0)
        if not isinstance(tolerance, int) or isinstance(tolerance, bool) or tolerance < 0:
            raise SchemaError("answer.tolerance", "must be a whole number of scale steps")
        extra = sorted(set(answer) - {"value", "tolerance"})
        if extra:
            raise SchemaError(f"answer.{extra[0]}", "is not part of a gold answer")
        return {"value": value, "tolerance": tolerance}

    def gold_from_value(self, value: Any) -> Any:
        return {"value": value}

    def _distances(self, answer: dict, value: Any):
        """(target, criterion, expected, given) for every gold score."""
        given = _ratings(value)
        for t, rating in enumerate(_ratings(answer["value"])):
            scores = (given[t].get("scores") or {}) if t < len(given) else {}
            for name, expected in rating["scores"].items():
                yield t, name, expected, scores.get(name)

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        span = max(schema["scale"] - 1, 1)
        tolerance = answer.get("tolerance", 0)
        credits = []
        for _, _, expected, got in self._distances(answer, value):
            if not isinstance(got, int):
                credits.append(0.0)
                continue
            off = abs(got - expected)
            if off <= tolerance:
                credits.append(1.0)
            else:
                # From full credit at the tolerance down to none at the far end of the scale.
                credits.append(max(0.0, (span - off) / (span - tolerance)))
        return sum(credits) / len(credits) if credits else 0.0

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        turns = schema["target"] == "turns"
        lines = []
        for t, name, expected, got in self._distances(answer, value):
            if got == expected:
                continue
            where = f"Turn {t + 1} · {name}" if turns else name
            lines.append(f"{where}: expected {expected}, you gave {got}.")
        return lines or ["Every rating matches the expected one."]
