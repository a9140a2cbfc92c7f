"""How a leased item is shown to its rater: pairwise sides swapped, ranking order shuffled.

The lease's `presentation` holds the randomisation; these pure functions apply it to the
item's data for display. Answers come back about the display and are mapped back to the
item's own order by the submit service.
"""

from tasks import schema as schemas


def displayed_data(kind: str, data: dict, presentation: dict) -> dict:
    """The item's data as this rater sees it (a copy; the item is not changed)."""
    if kind == schemas.PAIRWISE and presentation.get("swapped"):
        shown = dict(data)
        shown["response_a"], shown["response_b"] = data.get("response_b"), data.get("response_a")
        return shown
    return data


def ranking_order(data: dict, presentation: dict) -> list[int]:
    """Response indexes in the order shown; a bad or missing order falls back to stored."""
    n = len(data.get("responses", []))
    order = presentation.get("order")
    if isinstance(order, list) and sorted(order) == list(range(n)):
        return order
    return list(range(n))
