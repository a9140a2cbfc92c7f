"""Streaming exports: constant memory whatever the project size."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator

from annotation.models import Annotation
from tasks.models import Item, Project

CHUNK = 2000


def export_jsonl(project: Project) -> Iterator[str]:
    """One JSON line per item with every annotation: who, when, value, time taken."""
    last_id = 0
    while True:
        # Keyset pagination: each chunk is one query for items and one for their labels.
        items = list(
            Item.objects.filter(project=project, id__gt=last_id)
            .order_by("id")
            .values("id", "external_id", "data")[:CHUNK]
        )
        if not items:
            return
        last_id = items[-1]["id"]
        by_item: dict[int, list] = defaultdict(list)
        rows = (
            Annotation.objects.filter(item_id__in=[i["id"] for i in items])
            .order_by("item_id", "id")
            .values_list("item_id", "rater__username", "value", "created_at", "duration_ms")
        )
        for item_id, rater, value, created_at, duration_ms in rows:
            by_item[item_id].append(
                {
                    "rater": rater,
                    "value": value,
                    "created_at": created_at.isoformat(),
                    "duration_ms": duration_ms,
                }
            )
        for item in items:
            yield (
                json.dumps(
                    {
                        "item_id": item["id"],
                        "external_id": item["external_id"],
                        "data": item["data"],
                        "annotations": by_item.get(item["id"], []),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
