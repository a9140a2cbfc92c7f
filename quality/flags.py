"""Behaviour signals, read from the rater-scoring job's snapshots and the project's rules.

Flags are shown to admins; they act on them. Only a project that opts in
(QualityPolicy.auto_suspend_on_flags) suspends flagged raters automatically.
"""

from __future__ import annotations

from quality.selectors import policy_for
from raters.models import LIVE_STAGES, Membership, Stage
from raters.services import stage_change

# A pairwise left/right share this unlikely under a fair coin, over enough answers.
POSITION_P = 0.01
POSITION_MIN_ANSWERS = 20
FAST_SHARE = 0.5


def behaviour_flags(score, policy) -> list[str]:
    """The flags one RaterScore earns under the project's rules, in plain words."""
    flags = []
    if score.fast_fraction is not None and score.fast_fraction >= FAST_SHARE:
        flags.append(
            f"fast: {score.fast_fraction:.0%} of answers under {policy.min_seconds_per_item:g} s"
        )
    if (
        score.straightline_streak is not None
        and score.straightline_streak >= policy.straightline_streak
    ):
        flags.append(f"straight-lining: {score.straightline_streak} identical answers in a row")
    n_sides = (score.position_left or 0) + (score.position_right or 0)
    if (
        score.position_p_value is not None
        and n_sides >= POSITION_MIN_ANSWERS
        and score.position_p_value < POSITION_P
    ):
        flags.append(
            f"position bias: chose the left response {score.position_share_left:.0%} "
            f"of {n_sides} times"
        )
    return flags


def flags_by_rater(project) -> dict[int, list[str]]:
    """{rater id: flags} from each rater's newest snapshot (one query)."""
    from aggregation.selectors import rater_scores_latest

    policy = policy_for(project)
    return {s.rater_id: behaviour_flags(s, policy) for s in rater_scores_latest(project)}


def flags_apply(*, project_id: int) -> int:
    """After scoring: suspend flagged live raters if the project opted in. Returns how many."""
    from tasks.models import Project

    project = Project.objects.get(pk=project_id)
    if not policy_for(project).auto_suspend_on_flags:
        return 0
    suspended = 0
    flags = flags_by_rater(project)
    for membership in Membership.objects.filter(
        project=project, stage__in=LIVE_STAGES, user_id__in=[r for r, f in flags.items() if f]
    ):
        stage_change(
            membership=membership,
            to=Stage.SUSPENDED,
            reason="behaviour flags: " + "; ".join(flags[membership.user_id]),
        )
        suspended += 1
    return suspended
