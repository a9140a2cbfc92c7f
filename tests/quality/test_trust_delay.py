"""The trust rules run a few answers after a gold answer, so a rater cannot tell which
answer was the check from when a warning or a suspension arrives."""

import pytest

from quality import services as quality_services
from quality.services import policy_update
from raters.models import Membership, Stage
from tasks.models import Project
from tests.quality.test_silent_gold import answer_next, expected_suspension_at, gold_pool

__all__ = ["gold_pool"]  # the fixture, used by name below


@pytest.fixture
def delayed(settings):
    settings.VOX_TRUST_CHECK_DELAY = 4


class LongestDelay:
    """The draw that makes the trust rules wait longest, so the test knows when they run."""

    def randrange(self, n):
        return n - 1


@pytest.fixture
def longest(delayed, monkeypatch):
    monkeypatch.setattr(quality_services, "_random", LongestDelay())


def strict(project, gold_rate):
    policy_update(
        project=project,
        gold_rate=gold_rate,
        adaptive_gold=False,
        gold_rate_floor=0.0,
        suspend_min_gold=4,
        suspend_below=0.3,
        warn_below=0.5,
    )


def stage_of(rater, project):
    return Membership.objects.get(user=rater, project=project).stage


def test_suspension_waits_for_the_countdown_after_the_gold_answer_that_earned_it(
    longest, project, rater, items, gold_pool
):
    strict(project, gold_rate=1.0)
    assert expected_suspension_at(4, 0.3) == 4
    for _ in range(4):  # the first gold answer starts a countdown of 4 more answers
        answer_next(rater, project, "no")
    assert stage_of(rater, project) == Stage.QUALIFIED  # the bound is crossed, no sign yet
    answer_next(rater, project, "no")
    m = Membership.objects.get(user=rater, project=project)
    assert m.stage == Stage.SUSPENDED and m.trust_check_in is None and m.gold_n == 5


def test_live_answers_count_down_a_pending_trust_check(longest, project, rater, items, gold_pool):
    strict(project, gold_rate=1.0)
    for _ in range(4):
        answer_next(rater, project, "no")
    m = Membership.objects.get(user=rater, project=project)
    assert m.trust_check_in == 1 and m.stage == Stage.QUALIFIED
    strict(project, gold_rate=0.0)  # from here on, only live items
    project = Project.objects.get(pk=project.pk)  # without the cached rules
    assert not answer_next(rater, project, "yes").is_gold
    m.refresh_from_db()
    assert m.stage == Stage.SUSPENDED and m.trust_check_in is None and m.gold_n == 4


def test_the_countdown_starts_at_a_random_number_of_answers(delayed, project, items, gold_pool):
    from tests.conftest import make_raters

    policy_update(project=project, gold_rate=1.0, adaptive_gold=False, suspend_min_gold=100)
    starts = set()
    for rater in make_raters(project, 12):
        answer_next(rater, project, "yes")
        starts.add(Membership.objects.get(user=rater, project=project).trust_check_in)
    assert starts <= {1, 2, 3, 4} and len(starts) > 1
