"""Annotation rows written straight to the database, as the work queue would leave them."""

import itertools

from annotation.models import Annotation
from tasks.models import Item

_keys = itertools.count()


def annotate(item: Item, rater, value, **fields) -> Annotation:
    return Annotation.objects.create(
        project_id=item.project_id,
        item=item,
        rater=rater,
        value=value,
        idempotency_key=f"k{next(_keys)}",
        **fields,
    )


def annotate_table(items, raters, table, **fields) -> None:
    """table[i][r] is rater r's answer on item i; None means no answer."""
    for item, row in zip(items, table, strict=True):
        for rater, value in zip(raters, row, strict=True):
            if value is not None:
                annotate(item, rater, value, **fields)
