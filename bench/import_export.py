"""Import and export at scale, against the database DATABASE_URL names.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vox_bench \\
        python bench/import_export.py --items 1000000 --annotations-per-item 3

1. Writes a JSONL file of N pairwise items of about 1 KB each (not timed).
2. Imports it through the real import job (check pass, then COPY): import_s and the
   peak RSS of the process that runs it.
3. Adds annotations-per-item labels to every item by as many raters with one SQL
   statement (setup, not timed; the import of pre-existing labels has its own tests).
4. Exports the project as JSONL with every raw annotation, through the same code the
   background export job runs, into a file: export_s, its peak RSS and export_bytes.
5. Times the project list and detail pages (they must not depend on the item count).
6. Deletes the project and its rows.

Each timed phase runs in a fresh child process, so its peak RSS is its own. Prints one
JSON object. Migrates the database first, so it runs unattended on an empty one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("VOX_JOBS", "eager")

WORDS = (
    "the model answers question with care data human label quality rater prefers response "
    "clear helpful harmless honest short long because reason example format step first then"
).split()


def _setup_django() -> None:
    import django

    django.setup()


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _text(rng: random.Random, n_chars: int) -> str:
    words, size = [], 0
    while size < n_chars:
        w = rng.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    return " ".join(words)


def write_items(path: Path, n: int, seed: int = 7) -> int:
    """N pairwise items of about 1 KB each; returns the file size."""
    rng = random.Random(seed)
    chunks = [_text(rng, 400) for _ in range(64)]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            record = {
                "external_id": f"bench-{i}",
                "prompt": chunks[i % 61][:200] + f" #{i}",
                "response_a": chunks[(i * 7) % 64],
                "response_b": chunks[(i * 13) % 64],
                "meta": {"model_a": "m1", "model_b": "m2"},
            }
            fh.write(json.dumps(record) + "\n")
    return path.stat().st_size


def _phase_import(project_id: int, path: str, queue) -> None:
    _setup_django()
    from django.core.files import File

    from tasks.models import ImportJob, Project
    from tasks.services import import_run

    project = Project.objects.get(pk=project_id)
    with open(path, "rb") as fh:
        job = ImportJob(project=project, filename="bench.jsonl", size_bytes=os.path.getsize(path))
        job.file.save("bench.jsonl", File(fh), save=True)
    started = time.perf_counter()
    import_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    job.file.delete(save=False)
    queue.put(
        {
            "import_s": round(elapsed, 2),
            "import_peak_rss_mb": _peak_rss_mb(),
            "status": job.status,
            "created": job.n_created,
            "errors": job.errors[:3],
        }
    )


def _phase_export(project_id: int, out_path: str, queue) -> None:
    _setup_django()
    from tasks.export import ExportOptions, export_stream
    from tasks.models import Project

    project = Project.objects.get(pk=project_id)
    started = time.perf_counter()
    with open(out_path, "w", encoding="utf-8") as out:
        for piece in export_stream(project, ExportOptions(format="items_jsonl", annotations=True)):
            out.write(piece)
    elapsed = time.perf_counter() - started
    queue.put(
        {
            "export_s": round(elapsed, 2),
            "export_peak_rss_mb": _peak_rss_mb(),
            "export_bytes": os.path.getsize(out_path),
        }
    )


def _run(target, *args) -> dict:
    queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _add_annotations(project, per_item: int) -> int:
    """per_item labels on every item, by per_item raters, in one INSERT ... SELECT."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.db.models import F

    from annotation.models import Annotation
    from tasks.models import Item, Project

    User = get_user_model()
    raters = [
        User.objects.get_or_create(username=f"bench-rater-{project.pk}-{r}")[0]
        for r in range(per_item)
    ]
    table = Annotation._meta.db_table
    if connection.vendor != "postgresql":
        # Small runs on SQLite (the test suite): the same rows through the ORM.
        with transaction.atomic():
            for r, rater in enumerate(raters):
                Annotation.objects.bulk_create(
                    Annotation(
                        project=project,
                        item_id=item_id,
                        rater=rater,
                        value={"choice": "B" if (item_id + r) % 3 == 0 else "A"},
                        idempotency_key=f"bench-{item_id}",
                        duration_ms=1000,
                        guideline_version=1,
                    )
                    for item_id in Item.objects.filter(project=project).values_list("id", flat=True)
                )
            Item.objects.filter(project=project).update(n_done=per_item)
        n = per_item * project.n_items
        Project.objects.filter(pk=project.pk).update(n_annotations=n, n_complete=project.n_items)
        return n
    with transaction.atomic(), connection.cursor() as cur:
        for r, rater in enumerate(raters):
            # Votes vary by item and rater so the vote counts are not all the same.
            cur.execute(
                f"INSERT INTO {table} (project_id, item_id, rater_id, value, idempotency_key, "
                "created_at, duration_ms, guideline_version, presentation) "
                "SELECT project_id, id, %s, CASE WHEN (id + %s) %% 3 = 0 "
                """THEN '{"choice": "B"}'::jsonb ELSE '{"choice": "A"}'::jsonb END, """
                "'bench-' || id, now(), 1000 + (id %% 5000), 1, '{}'::jsonb "
                f"FROM {Item._meta.db_table} WHERE project_id = %s",
                [rater.pk, r, project.pk],
            )
        n = per_item * project.n_items
        Item.objects.filter(project=project).update(n_done=per_item)
        Project.objects.filter(pk=project.pk).update(
            n_annotations=F("n_annotations") + n, n_complete=project.n_items
        )
        cur.execute(f"ANALYZE {table}")
    return n


def _page_ms(project, user) -> dict:
    from django.test import Client

    client = Client()
    client.force_login(user)
    out = {}
    for name, url in (("project_list_ms", "/"), ("project_page_ms", f"/projects/{project.pk}/")):
        client.get(url, HTTP_HOST="localhost")  # warm
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(url, HTTP_HOST="localhost")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        out[name] = round(sorted(times)[len(times) // 2], 1)
    return out


def _delete_project(project_id: int) -> None:
    from django.db import connection

    from annotation.models import Annotation, Assignment
    from tasks.models import Item, Project

    with connection.cursor() as cur:
        for model in (Annotation, Assignment, Item):
            cur.execute(f"DELETE FROM {model._meta.db_table} WHERE project_id = %s", [project_id])
    Project.objects.filter(pk=project_id).delete()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--annotations-per-item", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the project afterwards")
    args = parser.parse_args(argv)

    _setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from tasks.services import project_create

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        settings.MEDIA_ROOT = tmp
        os.environ["VOX_MEDIA_ROOT"] = tmp  # for the child processes
        source = Path(tmp) / "items.jsonl"
        file_bytes = write_items(source, args.items)
        user, _ = get_user_model().objects.get_or_create(
            username="bench-manager", defaults={"is_superuser": True}
        )
        project = project_create(
            user=user,
            name=f"bench {args.items}",
            kind="pairwise",
            schema={"allow_tie": True, "allow_both_bad": True},
            overlap=max(1, args.annotations_per_item),
        )
        connection.close()  # children open their own
        try:
            imported = _run(_phase_import, project.pk, str(source))
            if imported["status"] != "done":
                raise SystemExit(f"import failed: {imported}")
            source.unlink()
            project.refresh_from_db()
            n_annotations = 0
            if args.annotations_per_item:
                n_annotations = _add_annotations(project, args.annotations_per_item)
            connection.close()
            exported = _run(_phase_export, project.pk, str(Path(tmp) / "export.jsonl"))
            pages = _page_ms(project, user)
        finally:
            if not args.keep:
                _delete_project(project.pk)
    result = {
        "items": args.items,
        "annotations": n_annotations,
        "file_bytes": file_bytes,
        "import_s": imported["import_s"],
        "import_peak_rss_mb": imported["import_peak_rss_mb"],
        "export_s": exported["export_s"],
        "export_peak_rss_mb": exported["export_peak_rss_mb"],
        "export_bytes": exported["export_bytes"],
        **pages,
        "database": connection.vendor,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
