"""Seed the demo: four users and two projects built from real data in demo/.

Safe to run again: users and projects are found by name, items by external id.
"""

import json
import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from raters.models import Membership
from tasks import schema as schemas
from tasks.models import Item, Project
from tasks.services import items_insert, membership_add, project_create

DEMO_DIR = Path(settings.BASE_DIR) / "demo"
GOLD_PAIRS, TRAINING_PAIRS = 50, 10
RTE_GUIDELINES = """# Does the premise entail the hypothesis?

Answer **Entailment** when a careful reader of the premise would accept the hypothesis as
true *from the premise alone*. Otherwise answer **No entailment**.

- Judge the text, not the world: a true hypothesis the premise does not support is *no
  entailment*.
- Paraphrases and obvious inferences count: "bought" entails "purchased".
- A hypothesis that adds a detail the premise lacks is *no entailment*.
"""
RTE_NAME = "RTE: does the premise entail the hypothesis?"
PAIRWISE_NAME = "PandaLM: which response follows the instruction better?"
SPANS_NAME = "RTE premises: tag the people, organisations, places and dates"
# The premises of the first live RTE pairs, each once, for the span tagging demo.
SPAN_ITEMS = 150
# The first live RTE pairs come with their real crowd labels (10 workers each, Snow et al.
# 2008), as imported raters, so the dashboards have a crowd to show; the rest are left for
# the demo's own annotators.
CROWD_ITEMS = 300
# Demo logins, printed by `make run`. Change or remove them before exposing Vox.
DEMO_USERS = [
    ("admin", "vox-admin", "superuser"),
    ("manager", "vox-manager", "manager"),
    ("alice", "vox-alice", "annotator"),
    ("bob", "vox-bob", "annotator"),
]


class Command(BaseCommand):
    help = "Create the demo users and projects (idempotent)."

    def handle(self, *args, **options):
        users = {name: self._user(name, password, role) for name, password, role in DEMO_USERS}
        with transaction.atomic():
            rte = self._project(
                users["manager"],
                RTE_NAME,
                schemas.SINGLE_CHOICE,
                {
                    "choices": [
                        {
                            "value": "entailment",
                            "label": "Entailment",
                            "description": "The hypothesis follows from the premise.",
                        },
                        {
                            "value": "not_entailment",
                            "label": "No entailment",
                            "description": "The premise does not establish the hypothesis.",
                        },
                    ]
                },
                "Read the premise. Does it establish that the hypothesis is true? "
                "Judge from the text alone, not from what you know.",
            )
            rte_rows = list(_rte_records())
            # The first pairs become gold (a few training items with explanations, the rest
            # silent checks); they are left out of the live items so nobody meets a check
            # question they have already labelled in the open.
            live = rte_rows[GOLD_PAIRS:]
            for row in live[:CROWD_ITEMS]:
                row["labels"] = [
                    {"rater": a["annotator"], "value": a["label"]}
                    for a in row["meta"]["crowd_labels"]
                ]
            self._fill(rte, live)
            self._gold(rte, rte_rows[:GOLD_PAIRS], users["manager"])
            pairwise = self._project(
                users["manager"],
                PAIRWISE_NAME,
                schemas.PAIRWISE,
                {"allow_tie": True, "allow_both_bad": True},
                "Both responses are machine-generated. Pick the one that "
                "follows the instruction better.",
            )
            self._fill(pairwise, _pandalm_records())
            spans = self._project(
                users["manager"],
                SPANS_NAME,
                "span_tagging",
                {
                    "labels": [
                        {"value": "PER", "label": "Person"},
                        {"value": "ORG", "label": "Organisation"},
                        {"value": "LOC", "label": "Place"},
                        {"value": "DATE", "label": "Date"},
                    ]
                },
                "Mark every name of a person, organisation or place, and every date. "
                'Tag the whole name ("Ada Lovelace", not "Lovelace"); leave out titles '
                "such as Mr or President. Submit with no spans if there is nothing to tag.",
            )
            self._fill(spans, _span_records(rte_rows[GOLD_PAIRS:]))
            for project in (rte, pairwise, spans):
                for name in ("alice", "bob"):
                    membership_add(project=project, username=name, role=Membership.Role.ANNOTATOR)
        self._figures(rte)
        port = os.environ.get("PORT") or "8000"
        self.stdout.write(f"Demo ready. Log in at http://127.0.0.1:{port}/ as:")
        for name, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10} {name:<8} password: {password}")

    def _user(self, username, password, role):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.email = f"{username}@example.com"
            user.is_superuser = user.is_staff = role == "superuser"
            user.save()
        if role == "manager":
            user.user_permissions.add(Permission.objects.get(codename="add_project"))
        return user

    def _project(self, manager, name, kind, schema, instructions):
        project = Project.objects.filter(name=name).first()
        if project is None:
            project = project_create(
                user=manager,
                name=name,
                kind=kind,
                schema=schema,
                instructions=instructions,
                overlap=3,
            )
        return project

    def _gold(self, project, rows, manager):
        from quality.models import GoldItem
        from quality.services import gold_create, policy_update
        from tasks.services import guideline_publish

        if GoldItem.objects.filter(project=project).exists():
            return
        for i, row in enumerate(rows):
            label = row["meta"]["gold_label"]
            pool = "training" if i < TRAINING_PAIRS else "injection"
            gold_create(
                project=project,
                pool=pool,
                answer=label,
                user=manager,
                data={"premise": row["premise"], "hypothesis": row["hypothesis"]},
                explanation=f"The RTE-1 experts judged this pair {label.replace('_', ' ')}.",
            )
        policy_update(project=project, gold_rate=0.1, adaptive_gold=True)
        guideline_publish(project=project, user=manager, body=RTE_GUIDELINES)
        self.stdout.write(f"{project.name}: {len(rows)} gold items, guidelines v1")

    def _figures(self, project):
        """Aggregate the crowd's labels, score the raters and draw the dashboards once, here
        and now: a job queued by a command that is about to exit could be lost."""
        from aggregation.models import AggregationRun
        from aggregation.scoring import rater_scores_compute
        from aggregation.services import aggregation_run_execute, aggregation_run_request
        from quality.dashboard_services import dashboard_snapshot_compute

        if AggregationRun.objects.filter(project=project, status="done").exists():
            return
        run = aggregation_run_request(project=project)
        aggregation_run_execute(run_id=run.pk, then_score=False)
        rater_scores_compute(project_id=project.pk)
        dashboard_snapshot_compute(project_id=project.pk)
        self.stdout.write(f"{project.name}: aggregated ({run.method}), raters scored")

    def _fill(self, project, records):
        existing = set(
            Item.objects.filter(project=project, external_id__isnull=False).values_list(
                "external_id", flat=True
            )
        )
        created, _ = items_insert(project=project, records=records, skip_ids=existing)
        if created:
            self.stdout.write(f"{project.name}: {created} items")


def _rte_records():
    with open(DEMO_DIR / "rte" / "items.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            # The expert label and the original crowd labels stay out of the item: raters
            # must never see them. Crowd labels are kept in meta for aggregation demos.
            yield {
                "external_id": row["item_id"],
                "premise": row["premise"],
                "hypothesis": row["hypothesis"],
                "meta": {
                    "source": "Snow et al. 2008 via CrowdTruth",
                    "rte_task": row["rte_task"],
                    "gold_label": row["gold_label"],
                    "crowd_labels": row["annotations"],
                },
            }


def _span_records(rows):
    seen = set()
    for row in rows:
        if row["premise"] not in seen and len(seen) < SPAN_ITEMS:
            seen.add(row["premise"])
            yield {"external_id": f"premise-{row['external_id']}", "text": row["premise"]}


def _pandalm_records():
    with open(DEMO_DIR / "pandalm" / "comparisons.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            prompt = row["instruction"] + (f"\n\n{row['input']}" if row["input"] else "")
            yield {
                "external_id": row["comparison_id"],
                "prompt": prompt,
                "response_a": row["response_a"],
                "response_b": row["response_b"],
                "meta": {
                    "source": "PandaLM test set",
                    "machine_generated": True,
                    "model_a": row["model_a"],
                    "model_b": row["model_b"],
                    "category": row["category"],
                    "human_labels": row["annotations"],
                },
            }
