"""Gold answers: their accepted shapes, scoring with partial credit, and feedback text.

A gold answer says what is acceptable, which may be partial; each kind's module under
`tasks/kinds/` defines its gold shape and its partial credit (docs/label-kinds.md):

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

from typing import Any

from tasks import kinds
from tasks.kinds.ranking import kendall_tau_b

__all__ = ["feedback_lines", "gold_answer_validate", "gold_score", "kendall_tau_b"]


def gold_answer_validate(kind: str, schema: dict, answer: Any, *, item_data: dict) -> dict:
    """Return the gold answer in canonical form, or raise SchemaError naming the field."""
    return kinds.get(kind).gold_answer_validate(schema, answer, item_data)


def gold_score(kind: str, schema: dict, answer: dict, value: Any) -> float:
    """How right a rater's canonical value is against a canonical gold answer, in [0, 1]."""
    return kinds.get(kind).gold_score(schema, answer, value)


def feedback_lines(
    kind: str, schema: dict, answer: dict, value: Any, *, item_data: dict
) -> list[str]:
    """What the rater should learn from one answer: the expected answer and the difference."""
    return kinds.get(kind).feedback_lines(schema, answer, value, item_data)
