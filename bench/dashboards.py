"""Dashboard page times with 1,000 raters and 1,000,000 items, scores precomputed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vox_bench \\
        python bench/dashboards.py --raters 1000 --items 1000000

Setup (not timed): a project with N items written by generate_series (a third complete,
a third begun, a third untouched), R annotators with two RaterScore snapshots each (the
pages must read only the newest), and an aggregation run with a result per item. The
figures job then stores its snapshot. Timed: each page and its JSON through Django's test
client as a manager, median of --repeat GETs after one warm-up, with the query count.
Prints one JSON object, then deletes the project. PostgreSQL only.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--raters", type=int, default=1000)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from aggregation.models import AggregationRun, ItemResult, RaterScore
    from quality.dashboard_services import dashboard_snapshot_compute
    from raters.models import Membership
    from tasks import schema as schemas
    from tasks.models import Item, Project

    if connection.vendor != "postgresql":
        sys.exit("bench/dashboards.py measures PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    User = get_user_model()
    setup = time.perf_counter()
    project = Project.objects.create(
        name="bench dashboards",
        kind=schemas.SINGLE_CHOICE,
        schema=schemas.schema_validate(schemas.SINGLE_CHOICE, {"choices": ["a", "b", "c"]}),
        overlap=3,
    )
    tag = f"bd{project.pk}_"
    boss = User.objects.create_user(f"{tag}boss", password="x")
    Membership.objects.create(project=project, user=boss, role="manager")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {Item._meta.db_table} (project_id, data, meta, priority, is_gold, "
            "n_done, n_open, created_at) SELECT %s, jsonb_build_object('text', 'item ' || g),"
            " '{}'::jsonb, 0, false, g %% 3 + (g %% 3) / 2, 0, now() "
            "FROM generate_series(1, %s) g",
            [project.pk, args.items],
        )
        cur.execute(f"ANALYZE {Item._meta.db_table}")
    Project.objects.filter(pk=project.pk).update(
        n_items=args.items, n_complete=args.items // 3, n_annotations=args.items * 2
    )
    users = User.objects.bulk_create(
        [User(username=f"{tag}r{i}") for i in range(args.raters)], batch_size=1000
    )
    Membership.objects.bulk_create(
        [
            Membership(project=project, user=u, role="annotator", gold_n=30, gold_score_sum=25)
            for u in users
        ],
        batch_size=1000,
    )
    now = timezone.now()
    RaterScore.objects.bulk_create(
        [
            RaterScore(
                project=project,
                rater=u,
                computed_at=now - timezone.timedelta(hours=h),
                n_annotations=2000,
                mace_competence=0.9,
                ds_confusion=[[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]],
                duration_ms_median=8000.0,
                fast_fraction=0.01,
            )
            for u in users
            for h in (0, 6)
        ],
        batch_size=2000,
    )
    run = AggregationRun.objects.create(
        project=project,
        method="dawid_skene",
        status="done",
        phase="done",
        percent=100,
        is_current=True,
        finished_at=now,
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {ItemResult._meta.db_table} (run_id, item_id, label, confidence, "
            "distribution, n_votes, extra) SELECT %s, id, '\"a\"'::jsonb, "
            "0.34 + (id %% 660) / 1000.0, '{}'::jsonb, 3, '{}'::jsonb "
            f"FROM {Item._meta.db_table} WHERE project_id = %s",
            [run.pk, project.pk],
        )
    t = time.perf_counter()
    dashboard_snapshot_compute(project_id=project.pk)
    snapshot_s = time.perf_counter() - t
    setup_s = time.perf_counter() - setup

    from django.conf import settings

    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "")), "localhost")
    client = Client(HTTP_HOST=host.lstrip("."))
    client.force_login(boss)
    member = Membership.objects.filter(project=project, role="annotator").first()
    pages = {
        "calibration_page": reverse("dashboards:project-raters", args=[project.pk]),
        "calibration_json": reverse("dashboards:api-project-raters", args=[project.pk]),
        "calibration_all_projects": reverse("dashboards:raters"),
        "rater_page": reverse("dashboards:rater", args=[project.pk, member.pk]),
        "project_page": reverse("dashboards:project", args=[project.pk]),
        "project_json": reverse("dashboards:api-project", args=[project.pk]),
        "review_queue_item": reverse("dashboards:review", args=[project.pk]),
    }
    out = {
        "raters": args.raters,
        "items": args.items,
        "setup_s": round(setup_s, 1),
        "snapshot_job_s": round(snapshot_s, 2),
        "pages": {},
    }
    for name, url in pages.items():
        client.get(url, follow=True)
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                res = client.get(url, follow=True)
                times.append(time.perf_counter() - t)
            assert res.status_code == 200, (url, res.status_code)
        out["pages"][name] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1),
            "queries": len(ctx.captured_queries),
        }
    project.delete()
    User.objects.filter(username__startswith=tag).delete()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
