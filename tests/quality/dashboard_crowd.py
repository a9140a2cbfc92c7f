"""A simulated crowd for the dashboard tests: careful raters, a sloppy one and spammers.

Answers are written as the work queue would leave them, then the real aggregation run and
scoring job precompute ItemResult and RaterScore, and the figures job its snapshot.
"""

from datetime import timedelta

import numpy as np
from django.utils import timezone

from aggregation.scoring import rater_scores_compute
from aggregation.services import aggregation_run_execute, aggregation_run_request
from annotation.models import Annotation
from quality.dashboard_services import dashboard_snapshot_compute
from quality.models import GoldItem, GoldResponse
from raters.models import Membership
from tasks import schema as schemas
from tasks.models import Item
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

LABELS = ["positive", "negative", "neutral"]


def crowd_project(*, n_items=60, n_good=8, manager=None, seed=7):
    """A single-choice project labelled by good raters, one sloppy rater and two spammers:
    "spam_fast" answers at random in under a second, "spam_same" always says "positive".
    Returns (project, {username: user})."""
    rng = np.random.default_rng(seed)
    project = ProjectFactory(
        name="Sentiment of reviews",
        kind=schemas.SINGLE_CHOICE,
        schema=schemas.schema_validate(schemas.SINGLE_CHOICE, {"choices": LABELS}),
        overlap=5,
    )
    if manager is not None:
        MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    items = ItemFactory.create_batch(n_items, project=project)
    truth = rng.integers(0, 3, size=n_items)
    people = {f"careful{i}": 0.9 for i in range(n_good)}
    people["sloppy"] = 0.65
    people["spam_fast"] = "random"
    people["spam_same"] = "same"
    users = {}
    rows = []
    now = timezone.now()
    for name, skill in people.items():
        user = UserFactory(username=name)
        users[name] = user
        if skill == "random":
            gold_n, gold_sum = 30, 11
        elif skill == "same":
            gold_n, gold_sum = 30, 10
        else:
            gold_n, gold_sum = 30, round(30 * skill)
        MembershipFactory(
            project=project,
            user=user,
            role=Membership.Role.ANNOTATOR,
            gold_n=gold_n,
            gold_score_sum=gold_sum,
            calibrated_at=now - timedelta(days=3),
        )
        for j, item in enumerate(items):
            if skill == "random":
                label, ms = LABELS[rng.integers(0, 3)], int(rng.integers(300, 900))
            elif skill == "same":
                label, ms = "positive", int(rng.integers(1500, 2500))
            else:
                right = rng.random() < skill
                label = LABELS[truth[j] if right else (truth[j] + rng.integers(1, 3)) % 3]
                ms = int(rng.lognormal(np.log(9000), 0.4))
            rows.append(
                Annotation(
                    project=project,
                    item=item,
                    rater=user,
                    value=label,
                    idempotency_key=f"{name}-{j}",
                    duration_ms=ms,
                    guideline_version=1 if j < n_items // 2 else 2,
                )
            )
    Annotation.objects.bulk_create(rows)
    _gold_history(project, people, rng)
    # Spread the answers over two weeks, so per-day and per-week figures have a shape.
    for k, a in enumerate(Annotation.objects.filter(project=project).order_by("item_id", "id")):
        day = 13 - (k * 14) // len(rows)
        Annotation.objects.filter(pk=a.pk).update(created_at=now - timedelta(days=day, hours=1))
    Item.objects.filter(project=project, is_gold=False).update(n_done=len(people))
    project.n_complete = n_items
    project.n_annotations = len(rows)
    project.save(update_fields=["n_complete", "n_annotations"])
    # The real run and the real scoring job, called directly: in a test transaction the
    # jobs that on_commit would enqueue never fire.
    run = aggregation_run_request(project=project, method="dawid_skene")
    aggregation_run_execute(run_id=run.pk, then_score=False)
    rater_scores_compute(project_id=project.pk)
    dashboard_snapshot_compute(project_id=project.pk)
    return project, users


def _gold_history(project, people, rng):
    """Silent gold answers in the live queue, scored as the quality layer would."""
    golds = [
        GoldItem.objects.create(
            item=Item.objects.create(project=project, data={"text": f"gold {k}"}, is_gold=True),
            project=project,
            pool=GoldItem.Pool.INJECTION,
            answer={"accept": [LABELS[k % 3]]},
        )
        for k in range(5)
    ]
    responses = []
    for m in Membership.objects.filter(project=project, role=Membership.Role.ANNOTATOR):
        scores = np.zeros(m.gold_n)
        scores[: int(m.gold_score_sum)] = 1
        rng.shuffle(scores)
        responses += [
            GoldResponse(
                gold=golds[k % 5],
                membership=m,
                mode=GoldResponse.Mode.INJECTION,
                value=LABELS[k % 3],
                score=float(x),
            )
            for k, x in enumerate(scores)
        ]
    GoldResponse.objects.bulk_create(responses)
