"""Ranking: order N responses to a prompt, best first; tiers hold ties where allowed.

Value: `{"ranking": [[2], [0, 1], [3]]}`: best tier first, response indexes. Gold:
`{"ranking": [[0], [1, 2]]}` scores 1 if equal, else (1 + Kendall tau-b) / 2.
"""

from __future__ import annotations

import secrets
from collections import Counter
from itertools import combinations
from typing import Any

from .base import (
    Kind,
    SchemaError,
    bool_field,
    form_int,
    form_json,
    int_field,
    prompt_turns,
    prompt_validate,
)
from .keys import ItemExample, Key

MIN_RESPONSES, MAX_RESPONSES = 3, 9


def response_texts(data: dict) -> list[str]:
    """A ranking item's responses as plain strings, in stored order."""
    return [r.get("text", "") if isinstance(r, dict) else r for r in data.get("responses", [])]


def kendall_tau_b(expected_tiers: list[list[int]], got_tiers: list[list[int]]) -> float:
    """Kendall's tau-b between two tiered rankings of the same responses (ties allowed)."""
    rank_e = {i: r for r, tier in enumerate(expected_tiers) for i in tier}
    rank_g = {i: r for r, tier in enumerate(got_tiers) for i in tier}
    concordant = discordant = ties_e = ties_g = 0
    for a, b in combinations(sorted(rank_e), 2):
        de, dg = rank_e[a] - rank_e[b], rank_g[a] - rank_g[b]
        if de == 0 and dg == 0:
            continue
        if de == 0:
            ties_e += 1
        elif dg == 0:
            ties_g += 1
        elif (de > 0) == (dg > 0):
            concordant += 1
        else:
            discordant += 1
    denominator = ((concordant + discordant + ties_e) * (concordant + discordant + ties_g)) ** 0.5
    return (concordant - discordant) / denominator if denominator else 1.0


def _tiers_from_text(raw: str):
    raw = raw.strip()
    if raw.startswith("["):
        try:
            return form_json(raw, "ranking")
        except SchemaError:
            return None
    try:
        return [[int(n) - 1 for n in tier.split("=")] for tier in raw.split(">") if tier.strip()]
    except ValueError:
        return None


def shown_order(data: dict, presentation: dict) -> list[int]:
    """Response indexes in the order shown; a bad or missing order falls back to stored."""
    n = len(data.get("responses", []))
    order = presentation.get("order")
    if isinstance(order, list) and sorted(order) == list(range(n)):
        return order
    return list(range(n))


class Ranking(Kind):
    name = "ranking"
    label = "Ranking"
    schema_keys = (
        Key(
            "min_responses",
            "integer",
            "The fewest responses an item may have.",
            MIN_RESPONSES,
            minimum=MIN_RESPONSES,
            maximum=MAX_RESPONSES,
        ),
        Key(
            "max_responses",
            "integer",
            "The most responses an item may have.",
            MAX_RESPONSES,
            minimum=MIN_RESPONSES,
            maximum=MAX_RESPONSES,
        ),
        Key("allow_ties", "boolean", "Let a rater tie a response with the one above (t).", False),
    )
    item_example = ItemExample(
        note=(
            "prompt is text or a chat; responses is a list of texts (or {text} objects), shown "
            "in a random order. Name the model behind each response in meta.models, in the "
            "same order, for the leaderboard."
        ),
        line={
            "prompt": "Suggest a name for a bakery.",
            "responses": ["Rise & Shine", "The Daily Loaf", "Crumbs"],
            "meta": {"models": ["model-x", "model-y", "model-z"]},
        },
        schema={},
    )
    required_fields = ("prompt", "responses")

    def schema_validate(self, schema: dict) -> dict:
        min_r = int_field(schema, "min_responses", MIN_RESPONSES, MIN_RESPONSES, MAX_RESPONSES)
        max_r = int_field(schema, "max_responses", MAX_RESPONSES, MIN_RESPONSES, MAX_RESPONSES)
        if min_r > max_r:
            raise SchemaError("min_responses", "must not exceed max_responses")
        return {
            "min_responses": min_r,
            "max_responses": max_r,
            "allow_ties": bool_field(schema, "allow_ties", False),
        }

    def schema_from_form(self, post) -> dict:
        return {
            "min_responses": form_int(post, "min_responses", MIN_RESPONSES),
            "max_responses": form_int(post, "max_responses", MAX_RESPONSES),
            "allow_ties": bool(post.get("allow_ties")),
        }

    def schema_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        if old["allow_ties"] and not new["allow_ties"]:
            return SchemaError("allow_ties", "cannot be switched off: answers may hold ties")
        if new["min_responses"] > old["min_responses"]:
            return SchemaError("min_responses", "cannot be raised once items are in the project")
        if new["max_responses"] < old["max_responses"]:
            return SchemaError("max_responses", "cannot be lowered once items are in the project")
        return None

    def items_change_problem(self, old: dict, new: dict) -> SchemaError | None:
        problem = self.schema_change_problem(old, new)
        if problem is not None and problem.field in ("min_responses", "max_responses"):
            return problem
        return None

    def item_validate(self, data: dict, schema: dict) -> None:
        prompt_validate(data)
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

    def value_validate(self, schema: dict, value: Any, item_data: dict) -> dict:
        # The item says how many responses there are to place.
        n = len((item_data or {}).get("responses", []))
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

    aggregation_methods = ("plackett_luce", "borda")
    # Items may name the model behind each response (meta "models"), for a leaderboard.
    wants_item_models = True
    models_hint = (
        "Items don't name models: add models (a list naming the model behind each response, "
        "in the order of responses) to each item's meta, then run aggregation again."
    )
    # A ranking has as many places as the item has responses: no fixed columns.
    loads_rows = True

    def aggregate(self, schema, labels, method, params, raters, *, subjective, extra_data):
        from aggregation.methods import fit_ranking

        return fit_ranking(labels, method, params, extra_data.get("models"))

    makes_preferences = True

    ordinal_figure = (
        "Places against the final order",
        "Rows: a response's place in the final order; columns: the rater's tier for it.",
    )

    def ordinal_points(self, schema: dict) -> list[str]:
        return [str(p) for p in range(1, schema["max_responses"] + 1)]

    def rank_places(self, value, label) -> tuple[list[int], list[int]] | None:
        tiers = value.get("ranking") if isinstance(value, dict) else None
        if not tiers or not isinstance(label, list) or not label:
            return None
        n = len(label)
        given, final = [-1] * n, [-1] * n
        for t, tier in enumerate(tiers):
            for i in tier if isinstance(tier, list) else ():
                if isinstance(i, int) and 0 <= i < n:
                    given[i] = t
        for place, i in enumerate(label):
            if isinstance(i, int) and 0 <= i < n:
                final[i] = place
        return given, final

    # The order is a shuffle of the item's own responses.
    presentation_per_item = True

    def presentation(self, item_data: dict | None) -> dict:
        if item_data is None:
            return {}
        order = list(range(len(item_data.get("responses", []) or [])))
        secrets.SystemRandom().shuffle(order)
        return {"order": order}

    def widget(self, schema: dict, data: dict, presentation: dict, value: Any, render) -> dict:
        texts = response_texts(data)
        cards = [
            {"index": i, "number": pos + 1, "html": render(texts[i])}
            for pos, i in enumerate(shown_order(data, presentation))
        ]
        return {"turns": prompt_turns(data, render), "cards": cards}

    def value_from_form(self, schema: dict, post) -> Any:
        """`ranking` as JSON tiers, or "1 > 2 = 3" (response numbers from 1)."""
        return {"ranking": _tiers_from_text(post.get("ranking") or "")}

    def label_from_aggregate(self, label: Any) -> Any:
        # Aggregation gives an order of response indexes, best first.
        return {"ranking": [[i] for i in label]} if isinstance(label, list) else label

    def short_text(self, value: Any) -> str:
        if not isinstance(value, dict):
            return str(value)
        return " > ".join("=".join(str(i) for i in tier) for tier in value.get("ranking", []))

    def vote_label(self, schema: dict, values: list) -> Any:
        """Response indexes by their mean tier, best first (Borda), as the aggregate orders."""
        if not values:
            return None
        tier: dict[int, float] = {}
        for value in values:
            for place, members in enumerate(value["ranking"]):
                for i in members:
                    tier[i] = tier.get(i, 0.0) + place / len(values)
        return sorted(tier, key=lambda i: (tier[i], i))

    def votes(self, schema: dict, values: list) -> dict:
        """{"best": {response index: n raters who placed it first}}."""
        return {"best": dict(Counter(str(i) for v in values for i in v["ranking"][0]))}

    def preference_pairs(self, data: dict, values: list, label) -> list[dict]:
        """Every ordered pair of responses from the raters' mean tier (Borda-style).

        margin: how many tiers apart the two responses are on average. agreement: the share of
        raters who put `chosen` strictly above `rejected`. Equal mean tiers are ties.
        """
        texts = response_texts(data)
        n = len(values)
        tiers_by_rater = []
        for value in values:
            tier_of = {}
            for tier, members in enumerate(value["ranking"]):
                for i in members:
                    tier_of[i] = tier
            tiers_by_rater.append(tier_of)
        if isinstance(label, dict) and isinstance(label.get("ranking"), list):
            order = {i: t for t, members in enumerate(label["ranking"]) for i in members}
        else:
            order = {i: sum(t[i] for t in tiers_by_rater) / n for i in range(len(texts))}
        pairs = []
        for i, j in combinations(range(len(texts)), 2):
            if order[j] < order[i]:
                i, j = j, i
            above = sum(1 for t in tiers_by_rater if t[i] < t[j])
            pairs.append(
                {
                    "prompt": data["prompt"],
                    "chosen": texts[i],
                    "rejected": texts[j],
                    "margin": round(float(order[j] - order[i]), 4),
                    "agreement": round(above / n, 4),
                    "n_raters": n,
                    "chosen_index": i,
                    "rejected_index": j,
                    "tie": order[i] == order[j],
                }
            )
        return pairs

    def gold_answer_validate(self, schema: dict, answer: Any, item_data: dict) -> dict:
        if not isinstance(answer, dict):
            answer = {"ranking": answer}
        return self.value_validate(schema, answer, item_data)

    def gold_score(self, schema: dict, answer: dict, value: Any) -> float:
        if value["ranking"] == answer["ranking"]:
            return 1.0
        return (1.0 + kendall_tau_b(answer["ranking"], value["ranking"])) / 2.0

    def feedback_lines(self, schema: dict, answer: dict, value: Any, item_data: dict) -> list[str]:
        rank_e = {i: r for r, tier in enumerate(answer["ranking"]) for i in tier}
        rank_g = {i: r for r, tier in enumerate(value["ranking"]) for i in tier}
        lines = [
            "Expected order: "
            + " > ".join(" = ".join(f"#{i + 1}" for i in tier) for tier in answer["ranking"])
            + "."
        ]
        for i in sorted(rank_e):
            if rank_e[i] != rank_g[i]:
                lines.append(
                    f"Response #{i + 1}: expected place {rank_e[i] + 1}, you put it "
                    f"at {rank_g[i] + 1}."
                )
        return lines
