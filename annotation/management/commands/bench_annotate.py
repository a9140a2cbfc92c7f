"""Set up and check the annotation load benchmark (bench/annotate_load.py).

manage.py bench_annotate setup --items 1000000 --overlap 3 --raters 32
    creates a project, its items (one INSERT ... SELECT on PostgreSQL) and raters with
    API tokens; prints {"project_id": ..., "tokens": [...]} as JSON.
manage.py bench_annotate check --project ID
    prints the queue's invariants for that project as JSON.
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
        check = sub.add_parser("check")
        check.add_argument("--project", type=int, required=True)

    def handle(self, *args, **options):
        if options["action"] == "setup":
            result = self.setup(options["items"], options["overlap"], options["raters"])
        else:
            result = self.invariants(options["project"])
        self.stdout.write(json.dumps(result))

    def setup(self, n_items: int, overlap: int, n_raters: int) -> dict:
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
            tokens = []
            for i in range(n_raters):
                user = get_user_model().objects.create_user(username=f"bench-{tag}-{i}")
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
        return {"project_id": project.pk, "tokens": tokens}

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
