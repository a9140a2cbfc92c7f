"""The work queue: leases, submissions and skips.

Invariants, kept by the database and not only by this code:
- an item is served to a rater at most once (unique item, rater on Assignment);
- a rater holds at most one open lease per project (partial unique index);
- an item never holds more than `overlap` submitted labels plus open leases: candidates
  are locked with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent web
  processes never pick the same last slot; SQLite runs one writer at a time.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from annotation.models import Annotation, Assignment
from quality.injection import gold_item_for_slot
from quality.services import live_answer_recorded
from raters.models import LIVE_STAGES, Membership
from tasks import schema as schemas
from tasks.models import Item, Project
from tasks.selectors import guideline_current

ACTIVE = Assignment.Status.ACTIVE


class SubmitRefused(Exception):
    """A submission that cannot be accepted; the message says why, for the rater."""


def leases_reclaim(*, project: Project | None = None, now=None) -> int:
    """Expire overdue leases and give their slots back. Returns how many expired."""
    now = now or timezone.now()
    overdue = Assignment.objects.filter(status=ACTIVE, expires_at__lte=now)
    if project is not None:
        overdue = overdue.filter(project=project)
    with transaction.atomic():
        rows = list(_locked(overdue.order_by("id")).values_list("id", "item_id")[:1000])
        if not rows:
            return 0
        Assignment.objects.filter(id__in=[r[0] for r in rows], status=ACTIVE).update(
            status=Assignment.Status.EXPIRED
        )
        for _, item_id in rows:
            Item.objects.filter(pk=item_id, n_open__gt=0).update(n_open=F("n_open") - 1)
    return len(rows)


def _locked(qs):
    # SKIP LOCKED lets concurrent reclaimers and queue readers pass each other by.
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def assignment_current(*, rater, project: Project) -> Assignment | None:
    return (
        Assignment.objects.filter(
            rater=rater, project=project, status=ACTIVE, expires_at__gt=timezone.now()
        )
        .select_related("item")
        .first()
    )


def assignment_next(*, rater, project: Project) -> Assignment | None:
    """The rater's open lease in this project, or a new lease on the best free item."""
    current = assignment_current(rater=rater, project=project)
    if current is not None:
        return current
    if not Membership.objects.filter(
        user=rater, project=project, role=Membership.Role.ANNOTATOR, stage__in=LIVE_STAGES
    ).exists():
        # Unqualified, suspended or removed raters never see live items.
        return None
    leases_reclaim(project=project)
    try:
        with transaction.atomic():
            item = gold_item_for_slot(rater=rater, project=project)
            if item is None:
                item = _claim_item(rater=rater, project=project)
            if item is None:
                return None
            now = timezone.now()
            expires = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
            # An expired lease of this rater on the same item is reused, not duplicated.
            assignment, _ = Assignment.objects.update_or_create(
                item=item,
                rater=rater,
                defaults={
                    "project": project,
                    "status": ACTIVE,
                    "leased_at": now,
                    "expires_at": expires,
                },
            )
            Item.objects.filter(pk=item.pk).update(n_open=F("n_open") + 1)
            assignment.item = item
            return assignment
    except IntegrityError:
        # Another request of the same rater leased first (two tabs): serve that lease.
        return assignment_current(rater=rater, project=project)


def _claim_item(*, rater, project: Project) -> Item | None:
    served = Assignment.objects.filter(item=OuterRef("pk"), rater=rater).exclude(
        status=Assignment.Status.EXPIRED
    )
    candidates = (
        Item.objects.filter(project=project, is_gold=False)
        .alias(taken=F("n_done") + F("n_open"))
        .filter(taken__lt=project.overlap)
        .exclude(Exists(served))
        .order_by("-priority", "-n_done", "id")
    )
    return _locked(candidates).first()


def annotation_submit(
    *, rater, item: Item, value, idempotency_key: str, active_ms: int | None = None
) -> Annotation:
    """Record a rater's answer, exactly once in effect.

    A replay with the same idempotency key returns the first result. A submit after the
    lease expired is accepted only while the item still has a free slot.
    """
    previous = Annotation.objects.filter(rater=rater, idempotency_key=idempotency_key).first()
    if previous is not None:
        if previous.item_id != item.pk:
            raise SubmitRefused("This submission key was already used for another item.")
        return previous
    project = item.project
    value = schemas.value_validate(project.kind, project.schema, value, item_data=item.data)
    try:
        with transaction.atomic():
            return _submit_locked(rater, item, project, value, idempotency_key, active_ms)
    except IntegrityError:
        # A concurrent replay won the race; return what it stored.
        existing = Annotation.objects.filter(rater=rater, item=item).first()
        if existing is None:
            raise
        return existing


def _submit_locked(rater, item, project, value, idempotency_key, active_ms) -> Annotation:
    now = timezone.now()
    assignment = Assignment.objects.select_for_update().filter(item=item, rater=rater).first()
    if assignment is None or assignment.status == Assignment.Status.SKIPPED:
        raise SubmitRefused("This item is not leased to you.")
    if assignment.status == Assignment.Status.SUBMITTED:
        raise SubmitRefused("You have already labeled this item.")
    held = assignment.status == ACTIVE
    if held and assignment.expires_at <= now:
        # Overdue but not reclaimed yet: give the slot back first, then compete for it.
        held = False
        Item.objects.filter(pk=item.pk, n_open__gt=0).update(n_open=F("n_open") - 1)
    # Gold items are not bound by overlap: they are served to many raters by design.
    if not held and not item.is_gold:
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if locked.n_done + locked.n_open >= project.overlap:
            raise SubmitRefused("Your lease on this item expired and its slots are taken.")
    guideline = guideline_current(project)
    annotation = Annotation.objects.create(
        project=project,
        item=item,
        rater=rater,
        value=value,
        idempotency_key=idempotency_key,
        guideline_version=guideline.version if guideline else None,
        presentation=assignment.presentation,
        duration_ms=int((now - assignment.leased_at).total_seconds() * 1000),
        active_ms=active_ms,
    )
    assignment.status = Assignment.Status.SUBMITTED
    assignment.save(update_fields=["status"])
    open_delta = 1 if held else 0
    Item.objects.filter(pk=item.pk).update(n_done=F("n_done") + 1, n_open=F("n_open") - open_delta)
    if not item.is_gold:
        became_complete = item_n_done_after(item.pk) == project.overlap
        Project.objects.filter(pk=project.pk).update(
            n_annotations=F("n_annotations") + 1,
            n_complete=F("n_complete") + (1 if became_complete else 0),
        )
    live_answer_recorded(annotation=annotation)
    return annotation


def item_n_done_after(item_id: int) -> int:
    return Item.objects.filter(pk=item_id).values_list("n_done", flat=True).get()


def assignment_skip(*, rater, item: Item, reason: str) -> None:
    """Release the lease; the item is never served to this rater again."""
    with transaction.atomic():
        updated = Assignment.objects.filter(item=item, rater=rater, status=ACTIVE).update(
            status=Assignment.Status.SKIPPED, skip_reason=reason[:500]
        )
        if updated:
            Item.objects.filter(pk=item.pk, n_open__gt=0).update(n_open=F("n_open") - 1)
        elif not Assignment.objects.filter(item=item, rater=rater).exists():
            raise SubmitRefused("This item is not leased to you.")
