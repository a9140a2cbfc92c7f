"""Silent gold in the live queue: served at the policy's rate, scored, and acted on."""

import pytest
from django.utils import timezone

from annotation.models import Annotation, Assignment
from annotation.services import annotation_submit, assignment_next
from quality.models import GoldResponse
from quality.selectors import trust_from_counts
from quality.services import gold_create, policy_update
from raters.models import Membership, RaterNotice, Stage
from tests.conftest import make_raters


@pytest.fixture
def gold_pool(project):
    return [
        gold_create(
            project=project,
            data={"text": f"check {i}"},
            pool="injection",
            answer="yes",
            explanation=f"Explanation {i}",
        )
        for i in range(30)
    ]


def answer_next(rater, project, value):
    a = assignment_next(rater=rater, project=project)
    if a is None:
        return None
    annotation_submit(rater=rater, item=a.item, value=value, idempotency_key=f"{a.item_id}")
    return a.item


def test_with_rate_one_every_slot_is_gold_and_no_gold_item_repeats(
    project, rater, items, gold_pool
):
    policy_update(project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100)
    served = [answer_next(rater, project, "yes") for _ in range(len(gold_pool))]
    assert all(item.is_gold for item in served)
    assert len({item.pk for item in served}) == len(gold_pool)
    # Gold exhausted: live items follow.
    assert not answer_next(rater, project, "yes").is_gold


def test_with_rate_zero_and_no_floor_no_gold_is_served(project, rater, items, gold_pool):
    policy_update(project=project, gold_rate=0.0, gold_rate_floor=0.0, adaptive_gold=False)
    served = [answer_next(rater, project, "yes") for _ in items]
    assert not any(item.is_gold for item in served)


def test_the_adaptive_rate_is_higher_for_new_raters_and_lower_for_trusted_ones(
    project, rater, gold_pool
):
    from quality.injection import gold_rate_for
    from quality.selectors import policy_for

    policy = policy_for(project)
    m = Membership.objects.get(user=rater, project=project)
    assert gold_rate_for(m, policy) == policy.gold_rate_new
    m.gold_n, m.gold_score_sum = 60, 59
    assert gold_rate_for(m, policy) == policy.gold_rate_trusted
    policy.gold_rate_floor = 0.04
    assert gold_rate_for(m, policy) == 0.04


def test_a_gold_answer_is_scored_and_never_counts_as_a_label(project, rater, items, gold_pool):
    policy_update(project=project, gold_rate=1.0, adaptive_gold=False)
    gold_item = answer_next(rater, project, "no")
    response = GoldResponse.objects.get()
    assert (response.gold.item_id, response.score, response.mode) == (
        gold_item.pk,
        0.0,
        "injection",
    )
    m = Membership.objects.get(user=rater, project=project)
    assert (m.gold_n, m.gold_score_sum) == (1, 0.0)
    project.refresh_from_db()
    assert (project.n_annotations, project.n_complete) == (0, 0)
    assert Annotation.objects.filter(item=gold_item).count() == 1


def expected_suspension_at(policy_m, t2):
    """The first all-wrong gold answer at which the rules must suspend."""
    n = policy_m
    while trust_from_counts(0.0, n).lower >= t2:
        n += 1
    return n


def test_suspension_triggers_exactly_at_the_configured_bound(project, rater, items, gold_pool):
    policy_update(
        project=project,
        gold_rate=1.0,
        adaptive_gold=False,
        suspend_min_gold=4,
        suspend_below=0.3,
        warn_below=0.5,
    )
    must_suspend_at = expected_suspension_at(4, 0.3)
    assert trust_from_counts(0.0, must_suspend_at - 1).lower >= 0.3 or must_suspend_at == 4
    m = Membership.objects.get(user=rater, project=project)
    for n in range(1, must_suspend_at + 1):
        answer_next(rater, project, "no")
        m.refresh_from_db()
        if n < must_suspend_at:
            assert m.stage in (Stage.QUALIFIED, Stage.WARNED), n
    assert m.stage == Stage.SUSPENDED
    transition = m.transitions.first()
    assert transition.to_stage == "suspended" and transition.actor is None
    assert "lower bound" in transition.reason
    assert RaterNotice.objects.filter(membership=m, level="action").exists()


def test_suspension_waits_for_the_minimum_number_of_gold_answers(project, rater, items, gold_pool):
    policy_update(
        project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=8, suspend_below=0.6
    )
    m = Membership.objects.get(user=rater, project=project)
    for _ in range(7):
        answer_next(rater, project, "no")
    m.refresh_from_db()
    assert m.stage == Stage.WARNED
    answer_next(rater, project, "no")
    m.refresh_from_db()
    assert m.stage == Stage.SUSPENDED


def test_a_suspended_rater_gets_no_live_items(project, rater, items, gold_pool):
    m = Membership.objects.get(user=rater, project=project)
    m.stage = Stage.SUSPENDED
    m.save()
    assert assignment_next(rater=rater, project=project) is None


def test_an_admin_reinstates_a_rater_with_a_recorded_reason(project, rater, manager, items):
    from raters.services import rater_reinstate, stage_change

    m = Membership.objects.get(user=rater, project=project)
    stage_change(membership=m, to=Stage.SUSPENDED, reason="test")
    rater_reinstate(membership=m, actor=manager, reason="spoke with them; retrained")
    m.refresh_from_db()
    assert m.stage == Stage.QUALIFIED
    latest = m.transitions.first()
    assert (latest.actor, latest.reason) == (manager, "spoke with them; retrained")
    assert assignment_next(rater=rater, project=project) is not None


def test_a_warning_lifts_when_accuracy_recovers(project, rater, items, gold_pool):
    policy_update(
        project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100, warn_below=0.6
    )
    m = Membership.objects.get(user=rater, project=project)
    for value in ["no"] * 3:
        answer_next(rater, project, value)
    m.refresh_from_db()
    assert m.stage == Stage.WARNED
    for _ in range(6):
        answer_next(rater, project, "yes")
    m.refresh_from_db()
    assert m.stage == Stage.QUALIFIED


def test_gold_items_are_not_limited_by_overlap_even_after_a_lease_expired(
    project, items, gold_pool
):
    policy_update(project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100)
    gold_item = gold_pool[0].item
    for r in make_raters(project, project.overlap + 2):
        Assignment.objects.create(
            project=project,
            item=gold_item,
            rater=r,
            leased_at=timezone.now(),
            expires_at=timezone.now(),
        )
        annotation_submit(rater=r, item=gold_item, value="yes", idempotency_key="g")
    assert Annotation.objects.filter(item=gold_item).count() == project.overlap + 2


def test_undo_on_a_gold_item_looks_like_any_undo_but_the_first_answer_keeps_its_score(
    project, rater, items, gold_pool
):
    from annotation.services import annotation_undo

    policy_update(project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100)
    gold_item = answer_next(rater, project, "no")
    back = annotation_undo(rater=rater, project=project)
    assert back.item == gold_item
    annotation_submit(rater=rater, item=gold_item, value="yes", idempotency_key="again")
    response = GoldResponse.objects.get()
    assert (response.value, response.score) == ("no", 0.0)
    m = Membership.objects.get(user=rater, project=project)
    assert (m.gold_n, m.gold_score_sum) == (1, 0.0)


def test_a_warning_reaches_the_rater_on_the_next_page_load_not_in_the_swap(
    client, project, rater, items, gold_pool
):
    from django.urls import reverse

    policy_update(
        project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100, warn_below=0.75
    )
    for _ in range(3):
        answer_next(rater, project, "no")
    assert Membership.objects.get(user=rater).stage == Stage.WARNED
    client.force_login(rater)
    url = reverse("annotation:label", args=[project.pk])
    swap = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    page = client.get(url).content.decode()
    assert "accuracy on check questions has dropped" not in swap
    assert "accuracy on check questions has dropped" in page
