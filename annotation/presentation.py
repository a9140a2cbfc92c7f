"""How a leased item is shown to its rater: pairwise sides swapped, ranking order shuffled.

The lease's `presentation` holds the randomisation, which each kind draws and applies
(tasks/kinds); answers come back about the display and are mapped back to the item's own
order by the submit service.
"""

from tasks import kinds
from tasks.kinds.ranking import shown_order


def displayed_data(kind: str, data: dict, presentation: dict) -> dict:
    """The item's data as this rater sees it (a copy; the item is not changed)."""
    return kinds.get(kind).displayed_data(data, presentation)


def ranking_order(data: dict, presentation: dict) -> list[int]:
    """Response indexes in the order shown; a bad or missing order falls back to stored."""
    return shown_order(data, presentation)
