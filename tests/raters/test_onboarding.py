"""Qualification, training with feedback, and recurring calibration."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotation.services import annotation_submit, assignment_next
from quality.models import GoldSession
from quality.selectors import calibration_due, policy_for, session_next_gold
from quality.services import (
    SessionRefused,
    calibration_request,
    gold_create,
    policy_update,
    session_answer,
    session_start,
)
from raters.models import Membership, Stage
from tasks.services import membership_add
from tests.factories import UserFactory


@pytest.fixture
def pools(project):
    for pool, n in (("training", 4), ("qualification", 5), ("calibration", 4)):
        for i in range(n):
            gold_create(
                project=project,
                data={"text": f"{pool} {i}"},
                pool=pool,
                answer="yes",
                explanation=f"Because {pool} {i} says so.",
            )


@pytest.fixture
def newcomer(project, pools):
    policy_update(
        project=project,
        requires_qualification=True,
        training_items_required=2,
        qualification_items=5,
        qualification_pass=0.8,
        qualification_max_attempts=2,
        qualification_cooldown_hours=24,
        gold_rate=0.0,
        gold_rate_floor=0.0,
    )
    UserFactory(username="nina")
    return membership_add(project=project, username="nina", role="annotator")


def run_session(membership, kind, answers):
    session = session_start(membership=membership, kind=kind)
    feedback = []
    for value in answers:
        gold = session_next_gold(session)
        feedback.append(session_answer(session=session, gold=gold, value=value))
    return session, feedback


def test_a_new_annotator_starts_in_training_and_gets_no_live_items(project, newcomer, items):
    assert newcomer.stage == Stage.TRAINING
    assert newcomer.transitions.first().reason == "the project requires qualification"
    assert assignment_next(rater=newcomer.user, project=project) is None


def test_training_shows_the_expected_answer_and_explanation_at_once(project, newcomer):
    _, feedback = run_session(newcomer, "training", ["no", "yes"])
    wrong, right = feedback
    assert (wrong.correct, right.correct) == (False, True)
    assert "Expected: yes." in wrong.lines and wrong.explanation.startswith("Because training")
    newcomer.refresh_from_db()
    assert newcomer.stage == Stage.QUALIFYING


def test_passing_the_qualification_test_opens_live_items(project, newcomer, items):
    run_session(newcomer, "training", ["yes", "yes"])
    session, _ = run_session(newcomer, "qualification", ["yes", "yes", "yes", "yes", "no"])
    session.refresh_from_db()
    assert (session.score, session.passed) == (0.8, True)
    newcomer.refresh_from_db()
    assert newcomer.stage == Stage.QUALIFIED
    assert assignment_next(rater=newcomer.user, project=project) is not None


def test_the_qualification_test_asks_the_pools_first_items_in_order(project, newcomer):
    run_session(newcomer, "training", ["yes", "yes"])
    session = session_start(membership=newcomer, kind="qualification")
    texts = []
    while (gold := session_next_gold(session)) is not None:
        texts.append(gold.item.data["text"])
        session_answer(session=session, gold=gold, value="yes")
    assert texts == [f"qualification {i}" for i in range(5)]


def test_a_failed_test_waits_for_the_cool_down_and_the_last_attempt_suspends(project, newcomer):
    run_session(newcomer, "training", ["yes", "yes"])
    run_session(newcomer, "qualification", ["no"] * 5)
    newcomer.refresh_from_db()
    assert newcomer.stage == Stage.QUALIFYING
    with pytest.raises(SessionRefused, match="retake the test after"):
        session_start(membership=newcomer, kind="qualification")
    Membership.objects.filter(pk=newcomer.pk).update(
        last_attempt_at=timezone.now() - timedelta(hours=25)
    )
    newcomer.refresh_from_db()
    run_session(newcomer, "qualification", ["no"] * 5)
    newcomer.refresh_from_db()
    assert newcomer.stage == Stage.SUSPENDED
    assert "failed the qualification test 2 times" in newcomer.transitions.first().reason


def test_calibration_is_due_every_n_live_items_and_on_request(
    project, rater, manager, items, pools
):
    policy_update(
        project=project,
        calibration_every_items=2,
        calibration_items=3,
        gold_rate=0.0,
        gold_rate_floor=0.0,
    )
    m = Membership.objects.get(user=rater, project=project)
    for _ in range(2):
        a = assignment_next(rater=rater, project=project)
        annotation_submit(rater=rater, item=a.item, value="yes", idempotency_key=str(a.item_id))
    m.refresh_from_db()
    assert calibration_due(m, policy_for(project)) == "every 2 answers"
    session, feedback = run_session(m, "calibration", ["yes", "yes", "yes"])
    session.refresh_from_db()
    assert session.passed is True and all(f.correct for f in feedback)
    m.refresh_from_db()
    assert m.live_since_calibration == 0 and m.calibrated_at is not None
    assert calibration_due(m, policy_for(project)) is None
    calibration_request(membership=m, actor=manager)
    m.refresh_from_db()
    assert calibration_due(m, policy_for(project)) == "an admin asked for a calibration session"


def test_calibration_is_due_after_d_days(project, rater):
    policy_update(project=project, calibration_every_days=7)
    m = Membership.objects.get(user=rater, project=project)
    assert calibration_due(m, policy_for(project), now=timezone.now() + timedelta(days=6)) is None
    assert "7 days" in calibration_due(
        m, policy_for(project), now=timezone.now() + timedelta(days=8)
    )


def test_a_failed_calibration_sends_the_rater_back_to_training(project, rater, pools):
    policy_update(project=project, calibration_items=4, calibration_pass=0.75)
    m = Membership.objects.get(user=rater, project=project)
    session, _ = run_session(m, "calibration", ["yes", "no", "no", "yes"])
    session.refresh_from_db()
    assert (session.score, session.passed) == (0.5, False)
    m.refresh_from_db()
    assert m.stage == Stage.TRAINING
    assert "calibration score 50%" in m.transitions.first().reason
    assert GoldSession.objects.filter(membership=m, kind="calibration").count() == 1


def test_the_standing_page_gives_the_pass_mark_as_a_percentage(client, project, newcomer):
    from django.urls import reverse

    run_session(newcomer, "training", ["yes", "yes"])
    client.force_login(newcomer.user)
    page = client.get(reverse("raters:standing", args=[project.pk])).content.decode()
    assert "5 questions, 80% needed to pass." in page
