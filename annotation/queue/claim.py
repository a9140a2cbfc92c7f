"""Next and prefetch: the one claim, and the leases it makes, reclaims and withdraws.

Invariants, kept by the database and not only by this code:
- an item is served to a rater at most once (unique item, rater on Assignment);
- a rater holds at most one open and one prefetched lease per project (partial unique
  indexes);
- an item never holds more than `overlap` submitted labels plus open leases: the claim
  locks its candidate with FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent web
  processes never take the same last slot; SQLite runs one writer at a time.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F
from django.utils import timezone

from annotation.models import Assignment
from annotation.queue import settle, sql
from annotation.queue.gate import gate
from config import rows
from quality.injection import gold_pick_at, gold_slot_drawn
from raters.skills import blocked_param
from tasks import kinds
from tasks.models import Item, Project

ACTIVE, QUEUED = Assignment.Status.ACTIVE, Assignment.Status.QUEUED
HELD = (ACTIVE, QUEUED)


class Refused(Exception):
    """Not served or not accepted. `reason` is the gate's when the gate said no."""

    def __init__(self, detail: str, reason=None):
        super().__init__(detail)
        self.reason = reason


def one_statement():
    """A single statement is atomic on its own; inside a transaction it gets a savepoint,
    so that an IntegrityError leaves the outer transaction usable. SQLite runs a batch
    one statement at a time, so there it is a transaction."""
    if connection.in_atomic_block or connection.vendor != "postgresql":
        return transaction.atomic()
    return nullcontext()


def next_lease(seat) -> Assignment | None:
    """The rater's open lease, else their prefetched one (now open), else a new lease on
    the best free item; None when nothing is left. Refused when the gate says no."""
    reason = gate(seat)
    if reason is not None:
        raise Refused(reason.detail, reason)
    lease = seat.lease
    if lease is not None and (lease.status == ACTIVE or _promote(lease, seat.now)):
        return lease
    try:
        return claim(seat, status=ACTIVE)
    except IntegrityError:
        # Another request of the same rater leased first (two tabs): serve that lease.
        return held_lease(seat, ACTIVE)


def prefetch(seat) -> Assignment | None:
    """Hold the rater's next item (queued) so the workbench can preload it: the same claim,
    so a prefetched slot is as likely to hold gold as any other."""
    if gate(seat) is not None:
        return None
    try:
        return claim(seat, status=QUEUED)
    except IntegrityError:  # one is prefetched already
        return held_lease(seat, QUEUED)


def held_lease(seat, status: str) -> Assignment | None:
    lease = (
        Assignment.objects.filter(
            rater=seat.user, project=seat.project, status=status, expires_at__gt=timezone.now()
        )
        .select_related("item")
        .first()
    )
    if lease is not None:
        lease.project = lease.item.project = seat.project
    return lease


def _promote(lease: Assignment, now) -> bool:
    # Time on task starts when the rater is shown the item, not when it was prefetched.
    expires = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
    try:
        with one_statement():
            promoted = Assignment.objects.filter(pk=lease.pk, status=QUEUED).update(
                status=ACTIVE, leased_at=now, expires_at=expires
            )
    except IntegrityError:  # another request promoted or leased first
        return False
    if promoted:
        lease.status, lease.leased_at, lease.expires_at = ACTIVE, now, expires
    return bool(promoted)


def claim(seat, *, status: str) -> Assignment | None:
    """A new lease on the rater's next slot: one statement on PostgreSQL."""
    project, rater = seat.project, seat.user
    if seat.overdue:
        leases_reclaim(project=project)
    now = timezone.now()
    lease = Assignment(
        project=project,
        rater=rater,
        status=status,
        leased_at=now,
        expires_at=now + timedelta(seconds=settings.VOX_LEASE_SECONDS),
        presentation=_presentation(project, None),
        skip_reason="",
    )
    if project.relabel_open_now:
        with transaction.atomic():
            item = _claim_relabel(rater=rater, project=project, blocked=seat.blocked_tags)
            if item is not None:
                return _lease(lease, item)
    params = {
        "project": project.pk,
        "k": project.overlap,
        "first": settle.first_wave(project, seat.policy),
        "rater": rater.pk,
        "now": now,
        "expires": lease.expires_at,
        "status": status,
        "presentation": json.dumps(lease.presentation),
        "shuffle": kinds.get(project.kind).presentation_per_item,
        "gold": gold_slot_drawn(membership=seat.membership, policy=seat.policy),
        "gold_at": gold_pick_at(),
        "blocked": blocked_param(seat.blocked_tags),
    }
    if connection.vendor == "postgresql":
        with one_statement(), connection.cursor() as cursor:
            row = _by_priority(cursor, project, sql.CLAIM_LEASE, params)
        if row is None:
            return None
        lease.pk, lease.presentation = row[0], _json(row[1])
        lease.item = rows.build(Item, row, 2)
        lease.item.project = project
        lease._state.adding = False
        return lease
    with transaction.atomic(), connection.cursor() as cursor:
        row = _by_priority(cursor, project, sql.CLAIM, params)
        if row is None:
            return None
        item = rows.build(Item, row)
        item.project = project
        return _lease(lease, item)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _by_priority(cursor, project: Project, statements, params: dict):
    """The first row a claim step finds, level by level of priority, the top level first
    (the seat read it); within a level: head, fresh, any (sql.STEPS)."""
    top = project.top_priority_now

    def level(priority):
        for stmt in statements:
            rows.execute(cursor, stmt, {**params, "priority": priority})
            found = cursor.fetchone()
            if found is not None:
                return found
        return None

    if top is None:
        return None  # no items at all
    found = level(top)
    if found is not None:
        return found
    rows.execute(cursor, sql.PRIORITY_LEVELS, {"project": project.pk})
    for (priority,) in cursor.fetchall():
        if priority != top and (found := level(priority)) is not None:
            return found
    return None


def _presentation(project: Project, item: Item | None) -> dict:
    # Randomised per lease, so position bias averages out and can be measured afterwards.
    # Where it depends on the item, the claim's statement draws it on PostgreSQL.
    return kinds.get(project.kind).presentation(item.data if item is not None else None)


def _lease(lease: Assignment, item: Item) -> Assignment:
    lease.item = item
    if kinds.get(lease.project.kind).presentation_per_item:
        lease.presentation = _presentation(lease.project, item)
    with connection.cursor() as cursor:
        rows.execute(
            cursor,
            sql.LEASE,
            [lease.project.pk, item.pk, lease.rater.pk, lease.status, lease.leased_at]
            + [lease.expires_at, json.dumps(lease.presentation)],
        )
        lease.pk = cursor.fetchone()[0]
    lease._state.adding = False
    return lease


def _claim_relabel(*, rater, project: Project, blocked=()) -> Item | None:
    """A slot on an item a reviewer sent back for more labels, if one is open to this rater.

    Such an item needs `n_done_then + extra_labels` labels, beyond the project's overlap;
    the request closes once it has them. Open requests are few, so this is a short probe.
    Routing holds here too: an item with a tag the rater may not work on is not theirs.
    """
    from quality.models import RelabelRequest

    open_requests = RelabelRequest.objects.filter(project=project, resolved_at__isnull=True)
    open_requests.filter(item__n_done__gte=F("n_done_then") + F("extra_labels")).update(
        resolved_at=timezone.now()
    )
    for item_id, target in open_requests.values_list(
        "item_id", F("n_done_then") + F("extra_labels")
    ):
        if blocked and not _routed_to(item_id, blocked):
            continue
        claimed = (
            Item.objects.filter(pk=item_id)
            .alias(taken=F("n_done") + F("n_open"))
            .filter(taken__lt=target)
            .exclude(Exists(Assignment.objects.filter(item_id=item_id, rater=rater)))
            .update(n_open=F("n_open") + 1)
        )
        if claimed:
            item = Item.objects.get(pk=item_id)
            item.project = project
            return item
    return None


def _routed_to(item_id: int, blocked) -> bool:
    meta = Item.objects.filter(pk=item_id).values_list("meta", flat=True).first() or {}
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return not set(tags or ()) & set(blocked)


def leases_reclaim(*, project: Project | None = None, now=None) -> int:
    """Expire overdue leases and give their slots back. Returns how many expired."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = Assignment.objects.filter(status__in=HELD, expires_at__lte=now)
        if project is not None:
            overdue = overdue.filter(project=project)
        found = list(
            overdue.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "item_id")[:1000]
        )
        return _release(found)


def leases_withdraw(*, membership) -> int:
    """Expire every lease a rater holds in a project, gold and live alike: a rater who
    leaves the live stages keeps nothing on screen that a live rater would lose."""
    with transaction.atomic():
        held = Assignment.objects.filter(
            rater_id=membership.user_id, project_id=membership.project_id, status__in=HELD
        )
        return _release(list(held.select_for_update().values_list("id", "item_id")))


def _release(leases: list[tuple[int, int]]) -> int:
    # Called with the leases locked: each one expires here exactly once.
    if not leases:
        return 0
    Assignment.objects.filter(id__in=[pk for pk, _ in leases]).update(
        status=Assignment.Status.EXPIRED
    )
    for _, item_id in leases:
        Item.objects.filter(pk=item_id, n_open__gt=0).update(n_open=F("n_open") - 1)
    return len(leases)
