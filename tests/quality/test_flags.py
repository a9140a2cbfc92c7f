"""Behaviour flags from the scoring job: shown always, acted on only when a project opts in."""

from aggregation.jobs import rater_scores_compute
from annotation.models import Annotation
from annotation.services import annotation_submit, assignment_next
from quality.flags import flags_by_rater
from quality.services import policy_update
from raters.models import Membership, Stage
from tests.factories import ItemFactory


def label_all_the_same_fast(rater, project, n):
    for _ in range(n):
        a = assignment_next(rater=rater, project=project)
        annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key=str(a.item_id))
    # Every answer came a fraction of a second after its lease.
    Annotation.objects.filter(rater=rater).update(duration_ms=300, active_ms=300)


def test_a_fast_straight_lining_rater_is_flagged_but_not_suspended_by_default(project, rater):
    ItemFactory.create_batch(20, project=project)
    policy_update(
        project=project,
        straightline_streak=10,
        min_seconds_per_item=2.0,
        gold_rate=0.0,
        gold_rate_floor=0.0,
    )
    label_all_the_same_fast(rater, project, 20)
    rater_scores_compute.apply(args=[project.pk])
    flags = flags_by_rater(project)[rater.pk]
    assert any(f.startswith("fast: 100%") for f in flags)
    assert any(f.startswith("straight-lining: 20") for f in flags)
    assert Membership.objects.get(user=rater).stage == Stage.QUALIFIED


def test_a_project_that_opts_in_suspends_flagged_raters_after_scoring(project, rater):
    ItemFactory.create_batch(20, project=project)
    policy_update(
        project=project,
        straightline_streak=10,
        auto_suspend_on_flags=True,
        gold_rate=0.0,
        gold_rate_floor=0.0,
    )
    label_all_the_same_fast(rater, project, 20)
    rater_scores_compute.apply(args=[project.pk])
    m = Membership.objects.get(user=rater)
    assert m.stage == Stage.SUSPENDED
    assert m.transitions.first().reason.startswith("behaviour flags: fast")
