"""Submit, skip and undo.

A submit is one batch on PostgreSQL, the same statements for gold and live items: the
answer, its lease, the prefetched lease, the item's counts, the rater's counter shard (a
gold answer adds nothing there, decided in SQL) and the rater's answer count. Scoring a
gold answer and the trust rules run after the response (`annotation.queue.counters`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from annotation.models import Annotation, Assignment, CounterShard
from annotation.queue import settle, sql
from annotation.queue.claim import HELD, Refused, one_statement
from annotation.queue.counters import after_submit
from annotation.queue.gate import gate
from config import rows
from modelruns.suggestions import suggestion_record
from tasks import kinds
from tasks import schema as schemas
from tasks.models import Item
from tasks.selectors import guideline_version_current

SUBMITTED, SKIPPED = Assignment.Status.SUBMITTED, Assignment.Status.SKIPPED
# Longer than this is not time on one task: a stuck timer or a forged value.
ACTIVE_MS_MAX = 24 * 3600 * 1000


def submit(seat, *, value, idempotency_key: str, active_ms: int | None = None) -> Annotation:
    """Record the rater's answer to the item of `seat.lease`, exactly once in effect.

    `value` names pairwise sides as this rater saw them; the lease's presentation maps it
    back to the item's own A and B. A replay with the same key returns the first result.
    A lease that was reclaimed (it expired and its slot went back to the queue) takes no
    answer, gold or live alike; one past its expiry that nobody reclaimed yet still does.
    Raises Refused (with the gate's reason when it was the gate) or schemas.SchemaError.
    """
    lease, project = seat.lease, seat.project
    if lease is None:  # no item posted and none held
        raise Refused("This item is not leased to you.")
    if lease.status == SUBMITTED:
        return _replayed(seat, idempotency_key)
    reason = gate(seat)
    if reason is not None:
        raise Refused(reason.detail, reason)
    if lease.status not in HELD:
        raise Refused(
            "This item is not leased to you."
            if lease.status == SKIPPED
            else "Your lease on this item expired and it went back to the queue."
        )
    value = schemas.value_validate(project.kind, project.schema, value, item_data=lease.item.data)
    annotation = _answer(seat, value, idempotency_key, active_ms)
    try:
        with one_statement(), connection.cursor() as cursor:
            rows.run_batch(cursor, _batch(annotation, lease))
            row = cursor.fetchone()
    except IntegrityError:
        # The lease changed since the seat read it, or the key or the pair exists already.
        return _replayed(seat, idempotency_key)
    annotation.pk = row[0]
    annotation._state.adding = False
    if settle.dynamic(seat.policy):
        settle.after_answer(seat, lease.item.pk, seat.user.pk)
    annotation.seat_after = _seat_after(seat, row)
    if after_submit(project.pk):
        annotation.seat_after = None  # the trust rules ran inline (tests): read it again
    return annotation


def _seat_after(seat, row):
    """The seat as the submit left it, from the batch's last row (sql.SUBMITTED)."""
    membership = copy.copy(seat.membership)
    membership.live_since_calibration, membership.trust_check_in = row[1], row[2]
    lease = None
    if row[3] is not None:
        lease = rows.build(Assignment, row, 3)
        lease.item = rows.build(Item, row, 3 + rows.width(Assignment))
        lease.item.project = lease.project = seat.project
    return dataclasses.replace(seat, membership=membership, lease=lease, now=timezone.now())


def _replayed(seat, key: str) -> Annotation:
    item = seat.lease.item
    with connection.cursor() as cursor:
        rows.execute(cursor, sql.ANSWER_READ, [seat.user.pk, key])
        previous = cursor.fetchone()
        if previous is not None and previous[1] == item.pk:
            return Annotation.objects.get(pk=previous[0])
        if previous is not None:
            raise Refused("This submission key was already used for another item.")
        rows.execute(cursor, sql.ANSWER_OF_ITEM, [seat.user.pk, item.pk])
        if cursor.fetchone() is not None:
            raise Refused("You have already labeled this item.")
    raise Refused("Your lease on this item changed; fetch your next item.")


def _answer(seat, value, key: str, active_ms) -> Annotation:
    """The answer as it is stored: pairwise sides mapped back to the item's own A and B,
    time on task from the lease."""
    lease, project, now = seat.lease, seat.project, timezone.now()
    value = kinds.get(project.kind).stored_value(value, lease.presentation)
    # With model suggestions on, the model's label and whether this rater saw it, in both
    # groups: what the anchoring measure compares (modelruns.suggestions).
    presentation = {**lease.presentation, **suggestion_record(project, seat.user.pk, lease.item.pk)}
    return Annotation(
        project=project,
        item=lease.item,
        rater=seat.user,
        value=value,
        idempotency_key=key,
        created_at=now,
        guideline_version=guideline_version_current(project),
        presentation=presentation,
        duration_ms=min(int((now - lease.leased_at).total_seconds() * 1000), 2**31 - 1),
        active_ms=active_ms,
    )


def _batch(annotation: Annotation, lease: Assignment) -> list:
    project, item, rater_id, now = (
        annotation.project,
        annotation.item,
        annotation.rater_id,
        annotation.created_at,
    )
    expires = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
    values = [
        rater_id,
        json.dumps(annotation.value),
        annotation.idempotency_key,
        now,
        annotation.duration_ms,
        annotation.active_ms,
        annotation.guideline_version,
        json.dumps(annotation.presentation),
    ]
    return [
        (sql.ANSWER_INSERT, [project.pk, lease.pk, lease.leased_at, *values]),
        (sql.LEASE_SUBMITTED, [lease.pk]),
        (sql.PROMOTE, [now, expires, rater_id, project.pk, rater_id, project.pk]),
        (sql.ITEM_COUNTS, [1, -1, -1, item.pk]),
        # Counted as complete when this answer brought the item to its overlap.
        _shard_add(project, rater_id, item.pk, annotations=1, when=project.overlap),
        (sql.ANSWER_COUNTED, [rater_id, project.pk]),
        (sql.SUBMITTED, [rater_id, annotation.idempotency_key, rater_id, project.pk]),
    ]


def _shard_add(project, rater_id: int, item_id: int, *, annotations: int, when: int) -> tuple:
    shard = rater_id % CounterShard.SHARDS
    return sql.SHARD_ADD, [project.pk, shard, annotations, when, annotations, item_id]


def skip(seat, *, reason: str) -> None:
    """Release the lease of `seat.lease`; the item is never served to this rater again."""
    lease = seat.lease
    if lease is None:  # no item posted, or one not leased to this rater
        raise Refused("This item is not leased to you.")
    with transaction.atomic():
        released = Assignment.objects.filter(pk=lease.pk, status__in=HELD).update(
            status=SKIPPED, skip_reason=reason[:500]
        )
        if released:
            with connection.cursor() as cursor:
                rows.execute(cursor, sql.ITEM_COUNTS, [0, -1, -1, lease.item_id])
    if not released and lease.status != SKIPPED:
        raise Refused("This item is not leased to you.")


def undo(seat) -> Assignment:
    """Take back the rater's last submit in this project and lease its item back to them,
    within VOX_UNDO_SECONDS of it; their other held leases are released. Gold is undone like
    any item, so a refusal cannot give it away; its score keeps the first answer."""
    reason = gate(seat)
    if reason is not None:
        raise Refused(reason.detail, reason)
    rater, project, window = seat.user, seat.project, settings.VOX_UNDO_SECONDS
    with transaction.atomic():
        last = (
            Annotation.objects.select_for_update()
            .filter(rater=rater, project=project)
            .select_related("item")
            .order_by("-id")
            .first()
        )
        if last is None:
            raise Refused("There is nothing to undo.")
        now = timezone.now()
        if not window or (now - last.created_at).total_seconds() > window:
            raise Refused("Your last answer can no longer be undone.")
        held = Assignment.objects.select_for_update().filter(
            rater=rater, project=project, status__in=HELD
        )
        with connection.cursor() as cursor:
            for lease in held:
                Assignment.objects.filter(pk=lease.pk).update(status=Assignment.Status.EXPIRED)
                rows.execute(cursor, sql.ITEM_COUNTS, [0, -1, -1, lease.item_id])
            assignment = Assignment.objects.select_for_update().get(item=last.item, rater=rater)
            last.delete()
            assignment.status = Assignment.Status.ACTIVE
            assignment.leased_at = now
            assignment.expires_at = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
            assignment.save(update_fields=["status", "leased_at", "expires_at"])
            rows.execute(cursor, sql.ITEM_COUNTS, [-1, 1, 1, last.item_id])
            # The item stops counting as complete if this answer had completed it.
            rows.execute(
                cursor,
                *_shard_add(
                    project, rater.pk, last.item_id, annotations=-1, when=project.overlap - 1
                ),
            )
        assignment.item = last.item
        assignment.item.project = assignment.project = project
        assignment.undone_value = last.value
    after_submit(project.pk)
    return assignment
