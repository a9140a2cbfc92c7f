"""The item browser's selector at scale, against the database DATABASE_URL names.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vox_bench \\
        python bench/item_browser.py --items 1000000

1. Creates a project of N items with one INSERT ... SELECT over generate_series (as
   bench_annotate does: a million rows in seconds; the import job's COPY is slower, as it
   checks every record, and is measured by bench/import_export.py). One item in 100 is
   gold and a quarter are complete, spread over the id range. A current aggregation run
   gets a result for every live item, so the page reads labels as it would in use.
2. Times `tasks.selectors.items_browse` (median of 5, in ms) for the first page, a deep
   page (the cursor 60 ids before the end), and filtered pages: gold, complete, and both
   with the cursor half-way; a text search that matches many items, and one that matches
   one item at the end of the project (the worst case: every item's data is read); the
   confidence filter half-way; the agreement filter (a third of the results below 0.5),
   first and half-way; a tag a tenth
   of the items carry, and one only the last item carries.
3. Deletes the project and its rows, unless --keep.

Prints one JSON object. Migrates the database first, so it runs unattended on an empty one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("VOX_JOBS", "eager")

GOLD_EVERY = 100
OVERLAP = 3


def _setup_django() -> None:
    import django

    django.setup()


def _fill(project, n: int) -> None:
    """N items, then a current run with a result for each live item."""
    from django.db import connection

    from aggregation.models import AggregationRun, ItemResult
    from tasks.models import Item, Project

    run = AggregationRun.objects.create(
        project=project, method="majority", status="done", phase="done", is_current=True
    )
    if connection.vendor == "postgresql":
        items, results = Item._meta.db_table, ItemResult._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"""
                INSERT INTO {items} (project_id, external_id, data, meta, priority, is_gold,
                                     n_done, n_open, created_at)
                SELECT %s, 'bench-' || g, jsonb_build_object('text', 'Benchmark sentence ' || g),
                       jsonb_build_object('tags', CASE WHEN g = %s
                           THEN jsonb_build_array('batch-' || g %% 10, 'rare')
                           ELSE jsonb_build_array('batch-' || g %% 10) END),
                       0, g %% {GOLD_EVERY} = 0,
                       CASE WHEN g %% {GOLD_EVERY} = 0 THEN 0 ELSE g %% {OVERLAP + 1} END,
                       0, now()
                FROM generate_series(1, %s) AS g
                """,  # noqa: S608
                [project.pk, n, n],
            )
            cur.execute(
                f"""
                INSERT INTO {results} (run_id, item_id, label, confidence, agreement,
                                       distribution, n_votes, extra)
                SELECT %s, id, '"yes"'::jsonb, (id %% 100) / 100.0, (id %% 3 + 1) / 3.0,
                       '{{}}'::jsonb, n_done, '{{}}'::jsonb
                FROM {items} WHERE project_id = %s AND NOT is_gold AND n_done > 0
                """,  # noqa: S608
                [run.pk, project.pk],
            )
            cur.execute(f"ANALYZE {items}")
            cur.execute(f"ANALYZE {results}")
    else:
        batch = []
        for g in range(1, n + 1):
            gold = g % GOLD_EVERY == 0
            batch.append(
                Item(
                    project=project,
                    external_id=f"bench-{g}",
                    data={"text": f"Benchmark sentence {g}"},
                    meta={"tags": [f"batch-{g % 10}", *(["rare"] if g == n else [])]},
                    is_gold=gold,
                    n_done=0 if gold else g % (OVERLAP + 1),
                )
            )
            if len(batch) == 5000:
                Item.objects.bulk_create(batch)
                batch = []
        Item.objects.bulk_create(batch)
        ItemResult.objects.bulk_create(
            ItemResult(
                run=run,
                item_id=pk,
                label="yes",
                confidence=(pk % 100) / 100,
                agreement=(pk % 3 + 1) / 3,
            )
            for pk in Item.objects.filter(project=project, is_gold=False, n_done__gt=0)
            .values_list("pk", flat=True)
            .iterator()
        )
    Project.objects.filter(pk=project.pk).update(n_items=n - n // GOLD_EVERY)


def _median_ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def _delete_project(project_id: int) -> None:
    from django.db import connection

    from aggregation.models import AggregationRun, ItemResult
    from tasks.models import Item, Project

    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {ItemResult._meta.db_table} WHERE run_id IN "  # noqa: S608
            f"(SELECT id FROM {AggregationRun._meta.db_table} WHERE project_id = %s)",
            [project_id],
        )
        cur.execute(f"DELETE FROM {Item._meta.db_table} WHERE project_id = %s", [project_id])  # noqa: S608
    Project.objects.filter(pk=project_id).delete()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the project afterwards")
    args = parser.parse_args(argv)
    if args.items < 200:
        parser.error("--items must be at least 200, for a deep page and gold items to find")

    _setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max

    from tasks.selectors import ItemFilters, items_browse
    from tasks.services import project_create

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-manager", defaults={"is_superuser": True}
    )
    project = project_create(
        user=user,
        name=f"bench browser {args.items}",
        kind="single_choice",
        schema={"choices": ["yes", "no"]},
        overlap=OVERLAP,
    )
    try:
        started = time.perf_counter()
        _fill(project, args.items)
        setup_s = round(time.perf_counter() - started, 2)
        project.refresh_from_db()
        high = project.items.aggregate(high=Max("pk"))["high"]
        deep, middle = high - 60, high - args.items // 2

        def page(filters=ItemFilters(), after=None):  # noqa: B008 - a frozen dataclass
            got = items_browse(project, filters, after=after)
            assert got.rows, "a timed page came back empty"
            return got

        gold, complete = ItemFilters(gold=True), ItemFilters(state="complete")
        split, unsure = ItemFilters(agreement_below=0.5), ItemFilters(confidence_below=0.3)
        timings = {
            "first_page_ms": _median_ms(lambda: page()),
            "deep_page_ms": _median_ms(lambda: page(after=deep)),
            "gold_first_page_ms": _median_ms(lambda: page(gold)),
            "gold_middle_page_ms": _median_ms(lambda: page(gold, after=middle)),
            "complete_first_page_ms": _median_ms(lambda: page(complete)),
            "complete_middle_page_ms": _median_ms(lambda: page(complete, after=middle)),
            "text_first_page_ms": _median_ms(lambda: page(ItemFilters(text="sentence 1"))),
            # The worst case: one match, at the end, so the whole project is read.
            "text_one_match_ms": _median_ms(
                lambda: page(ItemFilters(text=f'sentence {args.items}"'))
            ),
            "confidence_middle_page_ms": _median_ms(lambda: page(unsure, after=middle)),
            "agreement_first_page_ms": _median_ms(lambda: page(split)),
            "agreement_middle_page_ms": _median_ms(lambda: page(split, after=middle)),
            # A tenth of the items carry each batch tag; one item, the last, is "rare".
            "tag_first_page_ms": _median_ms(lambda: page(ItemFilters(tag="batch-3"))),
            "tag_one_match_ms": _median_ms(lambda: page(ItemFilters(tag="rare"))),
        }
    finally:
        if not args.keep:
            _delete_project(project.pk)
    result = {
        "items": args.items,
        "setup_s": setup_s,
        **timings,
        "page_size": 50,
        "database": connection.vendor,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
