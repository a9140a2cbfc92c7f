"""A simulated crowd on the real queue: the trust rules catch spammers and spare good raters.

Good raters answer right 90% of the time, spammers at random, and always-A raters pick
the first choice every time. Gold answers are balanced, so always-A raters score about
50% on them. Everything goes through assignment_next and annotation_submit.
"""

import random
from collections import defaultdict

import numpy as np
import pytest

from annotation.services import annotation_submit, assignment_next
from quality import injection
from quality.services import gold_create, policy_update
from raters.models import Membership, Stage
from tests.conftest import make_raters
from tests.factories import ItemFactory, ProjectFactory

GROUPS = {"good": 4, "spammer": 3, "always_a": 3}


def answer(kind, truth, rng):
    if kind == "good":
        return truth if rng.random() < 0.9 else ("no" if truth == "yes" else "yes")
    if kind == "spammer":
        return "yes" if rng.random() < 0.5 else "no"
    return "yes"


@pytest.fixture
def crowd(db, monkeypatch):
    # Seed the injection draws so the simulation is repeatable.
    monkeypatch.setattr(injection, "_random", random.Random(7))
    project = ProjectFactory(overlap=10)
    truth = {}
    for i in range(100):
        item = ItemFactory(project=project, data={"text": f"live {i}"})
        truth[item.pk] = "yes" if i % 2 else "no"
    for i in range(60):
        value = "yes" if i % 2 else "no"
        gold = gold_create(
            project=project, data={"text": f"check {i}"}, pool="injection", answer=value
        )
        truth[gold.item_id] = value
    policy_update(
        project=project,
        gold_rate=0.5,
        adaptive_gold=False,
        suspend_min_gold=20,
        suspend_below=0.5,
        warn_below=0.75,
    )
    raters = {kind: make_raters(project, n, prefix=kind) for kind, n in GROUPS.items()}
    return project, truth, raters


def test_spammers_and_always_a_raters_are_suspended_and_good_raters_never(crowd):
    project, truth, raters = crowd
    rng = np.random.default_rng(11)
    suspended_after = defaultdict(list)
    for kind, members in raters.items():
        for rater in members:
            membership = Membership.objects.get(user=rater, project=project)
            while (a := assignment_next(rater=rater, project=project)) is not None:
                annotation_submit(
                    rater=rater,
                    item=a.item,
                    idempotency_key=str(a.item_id),
                    value=answer(kind, truth[a.item_id], rng),
                )
            membership.refresh_from_db()
            if membership.stage == Stage.SUSPENDED:
                suspended_after[kind].append(membership.gold_n)
            else:
                assert kind == "good", (rater.username, membership.stage, membership.gold_n)
    assert len(suspended_after["spammer"]) == GROUPS["spammer"]
    assert len(suspended_after["always_a"]) == GROUPS["always_a"]
    assert "good" not in suspended_after
    # Caught within the expected number of gold answers: after the minimum of 20, and well
    # before the pool runs out.
    for kind in ("spammer", "always_a"):
        assert all(20 <= n <= 45 for n in suspended_after[kind]), suspended_after
    print({kind: sorted(ns) for kind, ns in suspended_after.items()})
