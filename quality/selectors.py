"""Reads for gold, sessions, trust and calibration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from quality.models import GoldItem, GoldResponse, GoldSession, QualityPolicy
from quality.numeric import Trust, trust_posterior
from raters.models import LIVE_STAGES, Membership


def policy_for(project) -> QualityPolicy:
    """The project's quality rules; the defaults (unsaved) until a manager sets them."""
    try:
        return project.quality
    except QualityPolicy.DoesNotExist:
        return QualityPolicy(project=project)


def membership_for(user, project) -> Membership | None:
    return Membership.objects.filter(user=user, project=project).first()


def trust_of(membership: Membership) -> Trust:
    """A rater's gold accuracy as quality.numeric.trust_posterior defines it (prior, capping
    and credible band are set there, once). `lower` (the 5% quantile) is what suspension
    reads: a rater is suspended only when their accuracy is credibly low, not after one slip.
    """
    return trust_from_counts(membership.gold_score_sum, membership.gold_n)


@lru_cache(maxsize=4096)
def trust_from_counts(score_sum: float, n: int) -> Trust:
    # Cached: the gold policy reads it before every lease, and it depends on two numbers.
    return trust_posterior(score_sum, n).rows()[0]


@dataclass(frozen=True)
class Standing:
    """What a rater may see of their own accuracy on check questions."""

    band: str  # "new", "on track", "below the bar", "at risk"
    sentence: str


def standing_for_rater(membership: Membership, policy: QualityPolicy) -> Standing:
    """A rater's accuracy in coarse bands, with no count of check answers: a count, or an
    exact mean, that moves after a gold answer and only then tells which item was gold.
    Managers see the exact figures (the calibration dashboards). The bands follow the
    project's own thresholds; a band changes only when one is crossed."""
    trust = trust_of(membership)
    # At risk first: the suspension rule may act before a rater stops being new, and the
    # page must not say "new" beside the notice of a suspension.
    if trust.n >= policy.suspend_min_gold and trust.lower < policy.suspend_below:
        return Standing("at risk", "Well below the project's bar: read the guidelines again.")
    if trust.n < max(policy.new_rater_gold, 3):
        return Standing("new", "Not enough check questions answered yet to tell.")
    if trust.mean < policy.warn_below:
        return Standing("below the bar", f"Below the project's bar of {policy.warn_below:.0%}.")
    return Standing("on track", f"At or above the project's bar of {policy.warn_below:.0%}.")


def calibration_due(membership: Membership, policy: QualityPolicy, now=None) -> str | None:
    """Why this rater must calibrate before more live items, or None if not due."""
    if membership.stage not in LIVE_STAGES:
        return None
    if membership.calibration_requested:
        return "an admin asked for a calibration session"
    if (
        policy.calibration_every_items
        and membership.live_since_calibration >= policy.calibration_every_items
    ):
        # The policy's interval, not the counter: the counter counts every answer, but a
        # number that moves with each answer is one more thing to watch.
        return f"every {policy.calibration_every_items} answers"
    if policy.calibration_every_days:
        since = membership.calibrated_at or membership.created_at
        if (now or timezone.now()) - since >= timedelta(days=policy.calibration_every_days):
            return f"more than {policy.calibration_every_days} days since the last calibration"
    return None


def calibration_overdue(membership: Membership, policy: QualityPolicy, now=None) -> bool:
    """Due for more than a day (or twice the item interval): the admin should follow up."""
    now = now or timezone.now()
    if (
        policy.calibration_every_items
        and membership.live_since_calibration >= 2 * policy.calibration_every_items
    ):
        return True
    if policy.calibration_every_days:
        since = membership.calibrated_at or membership.created_at
        return now - since >= timedelta(days=policy.calibration_every_days + 1)
    return False


def calibration_status(project) -> list[dict]:
    """Every annotator of the project with whether a calibration is due or overdue."""
    policy = policy_for(project)
    rows = []
    for m in project.memberships.filter(role=Membership.Role.ANNOTATOR).select_related("user"):
        reason = calibration_due(m, policy)
        rows.append(
            {
                "membership": m,
                "username": m.user.username,
                "stage": m.stage,
                "due": reason is not None,
                "reason": reason or "",
                "overdue": reason is not None and calibration_overdue(m, policy),
                "calibrated_at": m.calibrated_at,
            }
        )
    return rows


def open_session(membership: Membership, kind: str) -> GoldSession | None:
    return membership.sessions.filter(kind=kind, finished_at__isnull=True).first()


def session_next_gold(session: GoldSession) -> GoldItem | None:
    """The next gold item of a session, or None when it is complete.

    Qualification always asks the pool's first N items in order, so every rater takes the
    same test. Training and calibration prefer items this rater has not seen yet.
    """
    answered = session.responses.count()
    if answered >= session.n_items:
        return None
    project_id = session.membership.project_id
    if session.kind == GoldSession.Kind.REQUALIFICATION:
        from quality.services import requalification_gold

        done = set(session.responses.values_list("gold_id", flat=True))
        left = [g for g in requalification_gold(session.membership) if g.pk not in done]
        return left[0] if left else None
    pool = GoldItem.objects.filter(project_id=project_id, pool=session.kind).select_related("item")
    done_here = session.responses.values("gold_id")
    # A gold copy of a live item this rater was served, or of its content, is no check on
    # them: the claim's rule, run for this pool.
    from quality.injection import unseen_gold_ids

    unseen = unseen_gold_ids(
        project_id=project_id,
        rater_id=session.membership.user_id,
        pool=session.kind,
        blocked=session_blocked_tags(session.membership, session.kind),
    )
    pool = pool.filter(item_id__in=unseen)
    if session.kind == GoldSession.Kind.QUALIFICATION:
        return pool.exclude(pk__in=done_here).order_by("position", "id").first()
    seen = Count("responses", filter=Q(responses__membership=session.membership))
    return (
        pool.exclude(pk__in=done_here)
        .annotate(seen=seen)
        .order_by("seen", "position", "id")
        .first()
    )


def session_blocked_tags(membership, kind: str):
    """The tags whose gold a session leaves out: qualification tests the rater on the tags
    they work on, as silent gold does; training and calibration draw from every tag, so
    that a rater can earn the skills they do not hold yet (raters.skills)."""
    if kind != GoldSession.Kind.QUALIFICATION:
        return None
    from raters.skills import blocked_tags

    return blocked_tags(membership)


def session_gold_posted(session: GoldSession, gold_id) -> GoldItem | None:
    """The session's current gold item if `gold_id` names it, else None: any other id,
    unknown, malformed or a gold item of another pool, gets the same answer, so an answer
    endpoint cannot be asked which ids are gold."""
    current = session_next_gold(session)
    if current is None or str(gold_id).strip() != str(current.pk):
        return None
    return current


def pool_sizes(project) -> dict[str, int]:
    counts = dict(
        GoldItem.objects.filter(project=project).values_list("pool").annotate(n=Count("id"))
    )
    return {pool: counts.get(pool, 0) for pool in GoldItem.Pool.values}


def gold_history(membership: Membership) -> QuerySet[GoldResponse]:
    """The rater's own scored answers, newest first: for their feedback history and trend."""
    return membership.gold_responses.select_related("gold__item", "session").order_by(
        "-created_at", "-id"
    )


def training_done(membership: Membership) -> int:
    return membership.gold_responses.filter(mode=GoldResponse.Mode.TRAINING).count()
