"""The one gate between a rater and live items, for every door alike.

`gate(seat)` is pure: everything it reads came with the seat's one statement. The
workbench turns a reason into a redirect (to the guidelines or the rater's standing page),
the API into 409 with the reason's code, and next and submit both ask it.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.selectors import calibration_due
from raters.models import LIVE_STAGES, Stage


@dataclass(frozen=True)
class Reason:
    """Why the rater gets no live item now: a stable `code` for clients, and a sentence."""

    code: str
    detail: str


GUIDELINE = "guideline"
ONBOARDING = "onboarding"
SUSPENDED = "suspended"
CALIBRATION = "calibration"
SKILL = "skill"
REQUALIFY = "requalification"


def gate(seat) -> Reason | None:
    """What stands between this rater and live items, or None."""
    membership = seat.membership
    if seat.guideline_version is not None and not seat.guideline_acked:
        return Reason(
            GUIDELINE,
            f"Read and acknowledge version {seat.guideline_version} of the guidelines first.",
        )
    if membership.stage in (Stage.SUSPENDED, Stage.REMOVED):
        return Reason(SUSPENDED, "You are suspended from this project.")
    if membership.stage not in LIVE_STAGES:
        return Reason(ONBOARDING, f"Finish onboarding first (you are in {membership.stage}).")
    if seat.requalify:
        return Reason(
            REQUALIFY,
            "The guidelines changed a section you work on: pass a short re-qualification first.",
        )
    due = calibration_due(membership, seat.policy, seat.now)
    if due is not None:
        return Reason(CALIBRATION, f"A calibration session is due: {due}.")
    if (
        seat.n_skill_rules
        and len(seat.blocked_tags) >= seat.n_skill_rules
        and seat.policy.skill_fallback == "wait"
    ):
        return Reason(SKILL, "This project's items need a skill you do not hold yet.")
    return None
