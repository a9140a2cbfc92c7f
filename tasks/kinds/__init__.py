"""The label kinds, one module each, and the registry core code asks about them.

Core code never tests a kind's name: it calls `get(project.kind)` and asks the kind
(`docs/label-kinds.md`). Adding a kind means writing its module and listing it here.
"""

from __future__ import annotations

from .base import Choice, Kind, SchemaError
from .choice import MultiChoice, SingleChoice
from .demonstration import Demonstration
from .likert import Likert
from .pairwise import Pairwise
from .ranking import Ranking
from .rubric import Rubric
from .spans import SpanTagging

_REGISTRY: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        SingleChoice(),
        MultiChoice(),
        Likert(),
        Pairwise(),
        Ranking(),
        Demonstration(),
        SpanTagging(),
        Rubric(),
    )
}
KINDS = tuple(_REGISTRY)
KIND_LABELS = {name: kind.label for name, kind in _REGISTRY.items()}


def get(name: str) -> Kind:
    """The kind called `name`, or SchemaError naming `kind` if there is none."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise SchemaError("kind", f"must be one of {', '.join(KINDS)}") from None


__all__ = ["KINDS", "KIND_LABELS", "Choice", "Kind", "SchemaError", "get"]
