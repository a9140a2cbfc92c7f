"""Gold answers: their accepted shapes, scoring with partial credit, and feedback text.

A gold answer says what is acceptable, which may be partial:

| kind | gold answer | score of a rater's value |
|---|---|---|
| single_choice | `{"accept": ["positive"]}` | 1 if accepted, else 0 |
| multi_choice | `{"value": ["spam", "ads"]}` | Jaccard overlap of the two sets |
| likert | `{"value": {"helpfulness": 4}, "tolerance": 0}` | per dimension 1 within the tolerance, then linear down to 0 at the far end of the scale; mean over dimensions |
| pairwise | `{"accept": ["A"], "strength": null}` | 0 if the choice is not accepted; 1 if no strength is expected ("A better, any strength"); else 1 - 0.25 per step of strength off |
| ranking | `{"ranking": [[0], [1, 2]]}` | 1 if equal; else (1 + Kendall tau-b) / 2 |

Demonstrations have no single right answer and cannot be gold. Pure Python: no database.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from tasks import schema as schemas

SCORABLE_KINDS = (
    schemas.SINGLE_CHOICE,
    schemas.MULTI_CHOICE,
    schemas.LIKERT,
    schemas.PAIRWISE,
    schemas.RANKING,
)


def gold_answer_validate(kind: str, schema: dict, answer: Any, *, item_data: dict) -> dict:
    """Return the gold answer in canonical form, or raise SchemaError naming the field."""
    if kind not in SCORABLE_KINDS:
        raise schemas.SchemaError("kind", "demonstrations have no single right answer to score")
    if not isinstance(answer, dict):
        # A plain value is the common case: accept exactly that answer.
        answer = _from_value(kind, answer)
    if kind in (schemas.SINGLE_CHOICE, schemas.PAIRWISE):
        accept = answer.get("accept")
        if isinstance(accept, str):
            accept = [accept]
        if not isinstance(accept, list) or not accept:
            raise schemas.SchemaError("answer.accept", "must list at least one accepted answer")
        for i, option in enumerate(accept):
            probe = (
                option
                if kind == schemas.SINGLE_CHOICE
                else {"choice": option, "strength": 1, "rationale": "gold"}
            )
            try:
                schemas.value_validate(kind, schema, probe, item_data=item_data)
            except schemas.SchemaError as exc:
                raise schemas.SchemaError(f"answer.accept[{i}]", exc.message) from None
        out: dict[str, Any] = {"accept": list(dict.fromkeys(accept))}
        if kind == schemas.PAIRWISE:
            strength = answer.get("strength")
            if strength is not None and (
                schema.get("strength", "none") == "none" or strength not in (1, 2, 3)
            ):
                raise schemas.SchemaError(
                    "answer.strength", "must be 1, 2, 3 or null (any strength)"
                )
            out["strength"] = strength
        return out
    if kind == schemas.LIKERT:
        value = schemas.value_validate(kind, schema, answer.get("value"), item_data=item_data)
        tolerance = answer.get("tolerance", 0)
        if not isinstance(tolerance, int) or isinstance(tolerance, bool) or tolerance < 0:
            raise schemas.SchemaError("answer.tolerance", "must be a whole number of scale steps")
        return {"value": value, "tolerance": tolerance}
    key = "value" if kind == schemas.MULTI_CHOICE else "ranking"
    raw = answer.get(key) if kind == schemas.MULTI_CHOICE else answer
    value = schemas.value_validate(kind, schema, raw, item_data=item_data)
    return {"value": value} if kind == schemas.MULTI_CHOICE else value


def _from_value(kind: str, value: Any) -> dict:
    if kind in (schemas.SINGLE_CHOICE, schemas.PAIRWISE):
        return {"accept": [value]}
    if kind == schemas.RANKING:
        return {"ranking": value}
    return {"value": value}


def gold_score(kind: str, schema: dict, answer: dict, value: Any) -> float:
    """How right a rater's canonical value is against a canonical gold answer, in [0, 1]."""
    if kind == schemas.SINGLE_CHOICE:
        return 1.0 if value in answer["accept"] else 0.0
    if kind == schemas.MULTI_CHOICE:
        expected, got = set(answer["value"]), set(value)
        union = expected | got
        return len(expected & got) / len(union) if union else 1.0
    if kind == schemas.LIKERT:
        span = max(schema["scale"] - 1, 1)
        tolerance = answer.get("tolerance", 0)
        credits = []
        for name, expected in answer["value"].items():
            off = max(abs(value[name] - expected) - tolerance, 0)
            credits.append(max(0.0, 1.0 - off / span))
        return sum(credits) / len(credits)
    if kind == schemas.PAIRWISE:
        if value["choice"] not in answer["accept"]:
            return 0.0
        expected = answer.get("strength")
        if expected is None or "strength" not in value:
            return 1.0
        return max(0.5, 1.0 - 0.25 * abs(value["strength"] - expected))
    if kind == schemas.RANKING:
        if value["ranking"] == answer["ranking"]:
            return 1.0
        return (1.0 + kendall_tau_b(answer["ranking"], value["ranking"])) / 2.0
    raise ValueError(f"{kind} answers cannot be scored")


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


def feedback_lines(
    kind: str, schema: dict, answer: dict, value: Any, *, item_data: dict
) -> list[str]:
    """What the rater should learn from one answer: the expected answer and the difference."""
    if kind == schemas.SINGLE_CHOICE:
        labels = {c["value"]: c["label"] for c in schema["choices"]}
        expected = " or ".join(labels.get(a, a) for a in answer["accept"])
        return [f"Expected: {expected}.", f"You answered: {labels.get(value, value)}."]
    if kind == schemas.MULTI_CHOICE:
        expected, got = set(answer["value"]), set(value)
        lines = [f"Expected: {', '.join(answer['value']) or 'nothing'}."]
        if got - expected:
            lines.append(f"Not expected: {', '.join(sorted(got - expected))}.")
        if expected - got:
            lines.append(f"Missed: {', '.join(sorted(expected - got))}.")
        return lines
    if kind == schemas.LIKERT:
        return [
            f"{name}: expected {expected}, you gave {value[name]}."
            for name, expected in answer["value"].items()
        ]
    if kind == schemas.PAIRWISE:
        names = {"A": "A is better", "B": "B is better", "tie": "a tie", "both_bad": "both are bad"}
        lines = [
            f"Expected: {' or '.join(names[a] for a in answer['accept'])}"
            + (f", {schemas.STRENGTH_LABELS[answer['strength']]}" if answer.get("strength") else "")
            + "."
        ]
        got = names[value["choice"]]
        if value.get("strength"):
            got += f", {schemas.STRENGTH_LABELS[value['strength']]}"
        lines.append(f"You answered: {got}.")
        if value["choice"] in answer["accept"] and answer.get("strength") and value.get("strength"):
            step = value["strength"] - answer["strength"]
            if step:
                lines.append(
                    f"Your strength was {abs(step)} step{'s' if abs(step) > 1 else ''} "
                    f"{'stronger' if step > 0 else 'weaker'} than expected."
                )
        return lines
    if kind == schemas.RANKING:
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
    return []
