"""The work queue for Python callers: scripts, the demo seeder, jobs and tests.

A door like the workbench and the API: each function reads the rater's seat and calls
the one queue (annotation/queue/), so the same gate, claim and submit apply. Refusals
raise `SubmitRefused`; `NotServed` (a subclass) carries the gate's reason.
"""

from __future__ import annotations

from annotation import queue
from annotation.models import Annotation, Assignment
from annotation.queue import counters_fold, leases_reclaim  # noqa: F401 - part of this door
from raters.models import LIVE_STAGES, Membership
from tasks.ids import encode_item_id
from tasks.models import Item, Project

SubmitRefused = queue.Refused


def rater_is_live(membership: Membership | None) -> bool:
    return (
        membership is not None
        and membership.role == Membership.Role.ANNOTATOR
        and membership.stage in LIVE_STAGES
    )


def assignment_next(*, rater, project: Project) -> Assignment | None:
    """The rater's open lease in this project, or a new one; None when nothing is left or
    the gate says no (`queue.gate` gives the reason)."""
    try:
        return queue.next_lease(queue.seat_read(project.pk, user=rater))
    except queue.Refused as exc:
        if exc.reason is not None:
            return None
        raise


def assignment_prefetch(*, rater, project: Project) -> Assignment | None:
    return queue.prefetch(queue.seat_read(project.pk, user=rater))


def assignment_next_any(*, rater) -> Assignment | None:
    """A lease in any project where the rater is a live annotator, oldest project first."""
    memberships = Membership.objects.filter(
        user=rater, role=Membership.Role.ANNOTATOR, stage__in=LIVE_STAGES
    ).select_related("project")
    for membership in memberships.order_by("project_id"):
        assignment = assignment_next(rater=rater, project=membership.project)
        if assignment is not None:
            return assignment
    return None


def annotation_submit(
    *, rater, item: Item, value, idempotency_key: str, active_ms: int | None = None
) -> Annotation:
    seat = queue.seat_read(item.project_id, user=rater, item=encode_item_id(item.pk))
    return queue.submit(seat, value=value, idempotency_key=idempotency_key, active_ms=active_ms)


def assignment_skip(*, rater, item: Item, reason: str) -> None:
    queue.skip(
        queue.seat_read(item.project_id, user=rater, item=encode_item_id(item.pk)), reason=reason
    )


def annotation_undo(*, rater, project: Project) -> Assignment:
    return queue.undo(queue.seat_read(project.pk, user=rater))
