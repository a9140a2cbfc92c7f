"""Set up and check the annotation load benchmark (bench/annotate_load.py).

manage.py bench_annotate setup --items 1000000 --overlap 3 --raters 32
    creates a project, its items (one INSERT ... SELECT on PostgreSQL) and raters with
    API tokens; prints {"project_id": ..., "tokens": [...]} as JSON.
    Options: --gold N adds an injection pool of N gold items served at --gold-rate
    (bench/gold_timing.py); --password P gives the raters a password and lists their
    usernames (the --browser mode of bench/annotate_load.py logs in with them).
manage.py bench_annotate check --project ID
    prints the queue's invariants for that project as JSON.
manage.py bench_annotate gold-ids --project ID
    prints the public ids of the project's gold items (the benchmark's ground truth).
manage.py bench_annotate export --project ID
    queues an export of the project (bench/chaos.py kills its worker mid-job).
manage.py bench_annotate chaos-check --project ID --acknowledged FILE
    what bench/chaos.py asserts after the run: every acknowledged annotation id in FILE
    (one per line) stored once, no lease past its expiry, no job left unfinished, and the
    project's counters equal to the exact counts.
"""

import json
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from rest_framework.authtoken.models import Token

from annotation.models import Annotation, Assignment
from raters.models import Membership
from tasks import schema as schemas
from tasks.models import Item, Project


class Command(BaseCommand):
    help = "Create a benchmark project with many items and raters, or check its invariants."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        setup = sub.add_parser("setup")
        setup.add_argument("--items", type=int, default=1000)
        setup.add_argument("--overlap", type=int, default=3)
        setup.add_argument("--raters", type=int, default=8)
        setup.add_argument("--gold", type=int, default=0)
        setup.add_argument("--gold-rate", type=float, default=0.5)
        setup.add_argument("--password", default="")
        check = sub.add_parser("check")
        check.add_argument("--project", type=int, required=True)
        gold = sub.add_parser("gold-ids")
        gold.add_argument("--project", type=int, required=True)
        export = sub.add_parser("export")
        export.add_argument("--project", type=int, required=True)
        chaos = sub.add_parser("chaos-check")
        chaos.add_argument("--project", type=int, required=True)
        chaos.add_argument("--acknowledged", required=True)

    def handle(self, *args, **options):
        if options["action"] == "setup":
            result = self.setup(
                options["items"],
                options["overlap"],
                options["raters"],
                gold=options["gold"],
                gold_rate=options["gold_rate"],
                password=options["password"],
            )
        elif options["action"] == "gold-ids":
            from tasks.ids import encode_item_id

            ids = Item.objects.filter(project_id=options["project"], is_gold=True)
            result = {"gold_ids": [encode_item_id(pk) for pk in ids.values_list("pk", flat=True)]}
        elif options["action"] == "export":
            result = self.export(options["project"])
        elif options["action"] == "chaos-check":
            result = self.chaos_check(options["project"], options["acknowledged"])
        else:
            result = self.invariants(options["project"])
        self.stdout.write(json.dumps(result))

    def export(self, project_id: int) -> dict:
        from tasks.export import ExportOptions
        from tasks.services import export_create

        project = Project.objects.get(pk=project_id)
        manager = project.memberships.filter(role=Membership.Role.ANNOTATOR).first().user
        job = export_create(
            project=project, user=manager, options=ExportOptions(format="items_jsonl")
        )
        return {"export_id": job.pk}

    def chaos_check(self, project_id: int, acknowledged_file: str) -> dict:
        from pathlib import Path

        from django.utils import timezone

        from aggregation.models import AggregationRun
        from tasks.models import ExportJob, ImportJob

        acknowledged = [int(x) for x in Path(acknowledged_file).read_text().split()]
        stored = dict(
            Annotation.objects.filter(pk__in=acknowledged)
            .values("id")
            .annotate(n=Count("id"))
            .values_list("id", "n")
        )
        project = Project.objects.get(pk=project_id)
        live = Annotation.objects.filter(project=project, item__is_gold=False)
        per_item = live.values("item_id").annotate(n=Count("id"))
        unfinished = {
            "imports": ImportJob.objects.filter(status__in=["queued", "running"]).count(),
            "exports": ExportJob.objects.filter(status__in=["queued", "running"]).count(),
            "aggregation_runs": AggregationRun.objects.filter(
                status__in=["queued", "running"]
            ).count(),
        }
        return {
            "acknowledged": len(acknowledged),
            "acknowledged_missing": sum(1 for a in acknowledged if a not in stored),
            "acknowledged_twice": sum(1 for n in stored.values() if n > 1),
            "leases_past_expiry": Assignment.objects.filter(
                project=project,
                status__in=[Assignment.Status.ACTIVE, Assignment.Status.QUEUED],
                expires_at__lt=timezone.now(),
            ).count(),
            "jobs_unfinished": unfinished,
            "exports": list(
                ExportJob.objects.filter(project=project).values_list("status", flat=True)
            ),
            "counters": {
                "n_annotations": [project.n_annotations, live.count()],
                "n_complete": [
                    project.n_complete,
                    per_item.filter(n__gte=project.overlap).count(),
                ],
            },
        }

    def setup(
        self,
        n_items: int,
        overlap: int,
        n_raters: int,
        *,
        gold: int = 0,
        gold_rate: float = 0.5,
        password: str = "",
    ) -> dict:
        from django.contrib.auth import get_user_model

        if n_items < 1 or n_raters < 1 or not 1 <= overlap <= 100:
            raise CommandError("--items and --raters must be positive, --overlap 1 to 100")
        tag = secrets.token_hex(4)
        schema = schemas.schema_validate(schemas.SINGLE_CHOICE, {"choices": ["yes", "no"]})
        with transaction.atomic():
            project = Project.objects.create(
                name=f"Load benchmark {tag}",
                kind=schemas.SINGLE_CHOICE,
                schema=schema,
                overlap=overlap,
            )
            self._items(project, n_items)
            Project.objects.filter(pk=project.pk).update(n_items=n_items)
            self._gold(project, gold, gold_rate)
            tokens, usernames = [], []
            for i in range(n_raters):
                user = get_user_model().objects.create_user(
                    username=f"bench-{tag}-{i}", password=password or None
                )
                usernames.append(user.username)
                Membership.objects.create(
                    project=project, user=user, role=Membership.Role.ANNOTATOR, stage="qualified"
                )
                tokens.append(Token.objects.create(user=user).key)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Vacuum now, or autovacuum takes on the million new rows during the run.
                cursor.execute(f"VACUUM ANALYZE {Item._meta.db_table}")  # noqa: S608
                # And write the new rows out now, not in a checkpoint in the middle of the
                # measurement (needs a superuser or pg_checkpoint; skipped otherwise).
                try:
                    cursor.execute("CHECKPOINT")
                except DatabaseError:
                    pass
        result = {"project_id": project.pk, "tokens": tokens}
        if password:
            result["usernames"] = usernames
        return result

    def _gold(self, project: Project, n: int, rate: float) -> None:
        """A silent gold pool at a fixed rate, with trust rules that never act, so that every
        answer of the run is served the same way."""
        if not n:
            return
        from quality.models import QualityPolicy
        from quality.services import gold_create

        QualityPolicy.objects.create(
            project=project,
            adaptive_gold=False,
            gold_rate=rate,
            gold_rate_floor=0.0,
            suspend_min_gold=30000,
            warn_below=0.0,
            retrain_below=0.0,
            calibration_every_items=0,
            calibration_every_days=0,
        )
        for i in range(n):
            gold_create(
                project=project,
                data={"text": f"Benchmark sentence {i + 1}"},
                pool="injection",
                answer="yes",
                explanation="",
            )

    def _items(self, project: Project, n: int) -> None:
        table = Item._meta.db_table
        if connection.vendor == "postgresql":
            # Server-side generation: a million rows in seconds, no round trip per batch.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {table}
                        (project_id, data, meta, priority, is_gold, n_done, n_open, created_at)
                    SELECT %s, jsonb_build_object('text', 'Benchmark sentence ' || g),
                           '{{}}'::jsonb, 0, false, 0, 0, now()
                    FROM generate_series(1, %s) AS g
                    """,  # noqa: S608
                    [project.pk, n],
                )
            return
        batch = []
        for i in range(1, n + 1):
            batch.append(Item(project=project, data={"text": f"Benchmark sentence {i}"}))
            if len(batch) == 5000:
                Item.objects.bulk_create(batch)
                batch = []
        Item.objects.bulk_create(batch)

    def invariants(self, project_id: int) -> dict:
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"no project {project_id}")
        annotations = Annotation.objects.filter(project=project)
        per_pair = annotations.values("item_id", "rater_id").annotate(n=Count("id"))
        per_item = annotations.values("item_id").annotate(n=Count("id"))
        counts = dict(per_item.values_list("item_id", "n"))
        drift = sum(
            1
            for item_id, n_done in Item.objects.filter(pk__in=list(counts)).values_list(
                "id", "n_done"
            )
            if n_done != counts[item_id]
        )
        return {
            "annotations": annotations.count(),
            "pairs_twice": per_pair.filter(n__gt=1).count(),
            "items_above_k": per_item.filter(n__gt=project.overlap).count(),
            "items_with_wrong_n_done": drift,
            "submitted_leases_without_annotation": Assignment.objects.filter(
                project=project, status=Assignment.Status.SUBMITTED
            ).count()
            - annotations.count(),
        }
