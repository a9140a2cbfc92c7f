"""The work queue: leases, submissions, undo and skips.

Invariants, kept by the database and not only by this code:
- an item is served to a rater at most once (unique item, rater on Assignment);
- a rater holds at most one open lease per project (partial unique index);
- an item never holds more than `overlap` submitted labels plus open leases: the claim is
  one UPDATE whose subquery locks its candidate with FOR UPDATE SKIP LOCKED on PostgreSQL,
  so concurrent web processes never take the same last slot; SQLite runs one writer at a
  time.
- only raters in a live onboarding stage (qualified or warned) get live items.

The hot path (next, submit) is a handful of indexed statements and never writes a row that
every request shares: project counters go to per-rater shards that a job folds later.
"""

from __future__ import annotations

import json
import secrets
import time
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F
from django.utils import timezone

from aggregation.services import aggregation_note_new_annotations
from annotation import rows
from annotation.models import Annotation, Assignment, CounterShard
from annotation.rows import Statement
from quality.injection import gold_item_for_slot
from quality.services import live_answer_counted_sql, live_answer_recorded, trust_check_due
from raters.models import LIVE_STAGES, Membership
from tasks import schema as schemas
from tasks.models import Item, Project
from tasks.selectors import guideline_version_current

ACTIVE = Assignment.Status.ACTIVE
QUEUED = Assignment.Status.QUEUED
HELD = (ACTIVE, QUEUED)


class SubmitRefused(Exception):
    """A submission that cannot be accepted; the message says why, for the rater."""


def rater_is_live(membership: Membership | None) -> bool:
    return (
        membership is not None
        and membership.role == Membership.Role.ANNOTATOR
        and membership.stage in LIVE_STAGES
    )


# --- Leases -----------------------------------------------------------------------------------


def leases_reclaim(*, project: Project | None = None, now=None) -> int:
    """Expire overdue leases and give their slots back. Returns how many expired."""
    with transaction.atomic():
        return _reclaim(project=project, now=now)


@rows.statement("overdue")
def OVERDUE() -> str:
    return f"""
        SELECT id, item_id FROM {Assignment._meta.db_table}
        WHERE project_id = %s AND status IN ('active', 'queued') AND expires_at <= %s
        ORDER BY id LIMIT 1000{_skip_locked()}
    """  # noqa: S608 - names come from the models, values are parameters


def _reclaim(*, project: Project | None, now=None) -> int:
    # Run before every claim, inside its transaction: an indexed probe of the overdue
    # leases (assignment_active_expiry) that almost always finds none.
    now = now or timezone.now()
    with connection.cursor() as cursor:
        if project is not None:
            rows.execute(cursor, OVERDUE, [project.pk, now])
        else:
            table = Assignment._meta.db_table
            cursor.execute(
                f"SELECT id, item_id FROM {table} WHERE status IN (%s, %s) "  # noqa: S608
                f"AND expires_at <= %s ORDER BY id LIMIT 1000{_skip_locked()}",
                [ACTIVE, QUEUED, now],
            )
        overdue = cursor.fetchall()
    if not overdue:
        return 0
    Assignment.objects.filter(id__in=[r[0] for r in overdue], status__in=HELD).update(
        status=Assignment.Status.EXPIRED
    )
    for _, item_id in overdue:
        Item.objects.filter(pk=item_id, n_open__gt=0).update(n_open=F("n_open") - 1)
    return len(overdue)


def _skip_locked() -> str:
    # SKIP LOCKED lets concurrent reclaimers and queue readers pass each other by.
    if connection.features.has_select_for_update_skip_locked:
        return " FOR UPDATE SKIP LOCKED"
    return ""


@rows.statement("held")
def HELD_SQL() -> str:
    return f"""
        SELECT {rows.columns(Assignment, "a")}, {rows.columns(Item, "i")}
        FROM {Assignment._meta.db_table} a JOIN {Item._meta.db_table} i ON i.id = a.item_id
        WHERE a.rater_id = %s AND a.project_id = %s AND a.status IN ('active', 'queued')
          AND a.expires_at > %s
    """  # noqa: S608 - names come from the models, values are parameters


def _held(*, rater, project: Project, now) -> list[Assignment]:
    with connection.cursor() as cursor:
        rows.execute(cursor, HELD_SQL, [rater.pk, project.pk, now])
        found = cursor.fetchall()
    held = []
    for row in found:
        assignment = rows.build(Assignment, row)
        assignment.item = rows.build(Item, row, rows.width(Assignment))
        assignment.item.project = project
        assignment.project = project
        held.append(assignment)
    return held


def assignment_current(*, rater, project: Project, held=None) -> Assignment | None:
    """The rater's open lease in the project; a prefetched one becomes open when none is.

    `held`: the rater's held leases when the caller read them already (the queue's seat).
    """
    now = timezone.now()
    if held is None:
        held = _held(rater=rater, project=project, now=now)
    for assignment in held:
        if assignment.status == ACTIVE:
            return assignment
    for assignment in held:
        if _promote(assignment, now):
            return assignment
    return None


def _promote(assignment: Assignment, now) -> bool:
    # Time on task starts when the rater is shown the item, not when it was prefetched.
    expires = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
    try:
        with _one_statement():
            promoted = Assignment.objects.filter(pk=assignment.pk, status=QUEUED).update(
                status=ACTIVE, leased_at=now, expires_at=expires
            )
    except IntegrityError:  # another request promoted or leased first
        return False
    if promoted:
        assignment.status, assignment.leased_at, assignment.expires_at = ACTIVE, now, expires
    return bool(promoted)


def assignment_prefetch(
    *, rater, project: Project, membership: Membership | None = None
) -> Assignment | None:
    """Hold the rater's next live item (status queued) so the workbench can preload it."""
    if membership is None:
        membership = Membership.objects.filter(project=project, user=rater).first()
    if not rater_is_live(membership):
        return None
    for held in _held(rater=rater, project=project, now=timezone.now()):
        if held.status == QUEUED:
            return held
    try:
        with transaction.atomic():
            item = _choose_item(rater=rater, project=project, live=True, membership=membership)
            if item is None:
                return None
            return _lease(rater=rater, project=project, item=item, status=QUEUED)
    except IntegrityError:
        return None


def assignment_next(
    *, rater, project: Project, membership: Membership | None = None, seat=None
) -> Assignment | None:
    """The rater's open lease in this project, or a new lease on the best free item.

    Raters outside a live stage get no live items (the gold hook may still serve them).
    Pass the rater's membership when the caller already has it, to save a query, or the
    queue's seat (`annotation.selectors.queue_seat`), which also brings the held lease.
    """
    if seat is not None:
        membership = seat.membership
    elif membership is None:
        membership = Membership.objects.filter(project=project, user=rater).first()
    live = rater_is_live(membership)
    held = None  # not read yet
    if seat is not None:
        held = [seat.lease] if seat.lease is not None else []
    current = assignment_current(rater=rater, project=project, held=held)
    if current is not None and (live or current.item.is_gold):
        return current
    if current is not None:
        return None
    try:
        if seat is not None:
            if seat.overdue:
                leases_reclaim(project=project)
            # The gold hook only reads; whatever it picks is leased below.
            gold = gold_item_for_slot(rater=rater, project=project, membership=membership)
            if gold is None and live and _claims_in_one_statement(project):
                with _one_statement():
                    return _claim_and_lease(rater=rater, project=project)
        else:
            gold = _UNASKED
        with transaction.atomic():
            if seat is None:
                _reclaim(project=project)
            item = _choose_item(
                rater=rater, project=project, live=live, membership=membership, gold=gold
            )
            if item is None:
                return None
            return _lease(rater=rater, project=project, item=item)
    except IntegrityError:
        # Another request of the same rater leased first (two tabs): serve that lease.
        return assignment_current(rater=rater, project=project)


_UNASKED = object()


def _one_statement():
    """A single statement is atomic on its own; inside a transaction it gets a savepoint,
    so that an IntegrityError leaves the outer transaction usable."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _claims_in_one_statement(project: Project) -> bool:
    # PostgreSQL runs the claim and the lease as one statement (a data-modifying WITH),
    # with no transaction around it. Relabel requests and ranking items (whose shown
    # order depends on the item) take the general path.
    return (
        connection.vendor == "postgresql"
        and project.kind != schemas.RANKING
        and getattr(project, "relabel_open_now", True) is False
    )


def _choose_item(
    *, rater, project: Project, live: bool, membership=None, gold=_UNASKED
) -> Item | None:
    """The item for the rater's next slot, served or prefetched alike: the quality layer's
    gold when its policy says so, else the best free live item. One path for both, so a
    prefetched slot is as likely to hold gold as any other. `gold`: the hook's answer when
    the caller asked it already."""
    if gold is _UNASKED:
        gold = gold_item_for_slot(rater=rater, project=project, membership=membership)
    item = gold
    if item is not None:
        Item.objects.filter(pk=item.pk).update(n_open=F("n_open") + 1)
        return item
    if not live:
        return None
    return _claim_relabel(rater=rater, project=project) or _claim_item(rater=rater, project=project)


def _claim_relabel(*, rater, project: Project) -> Item | None:
    """A slot on an item a reviewer sent back for more labels, if one is open to this rater.

    Such an item needs `n_done_then + extra_labels` labels, beyond the project's overlap;
    the request closes once it has them. Open requests are few, so this is a short probe.
    """
    from quality.models import RelabelRequest

    if getattr(project, "relabel_open_now", True) is False:
        return None  # the seat query (membership_for_annotator) found none open
    open_requests = RelabelRequest.objects.filter(project=project, resolved_at__isnull=True)
    if not open_requests.exists():
        return None
    open_requests.filter(item__n_done__gte=F("n_done_then") + F("extra_labels")).update(
        resolved_at=timezone.now()
    )
    for item_id, target in open_requests.values_list(
        "item_id", F("n_done_then") + F("extra_labels")
    ):
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


def assignment_next_any(*, rater) -> Assignment | None:
    """A lease in any project where the rater is a live annotator, oldest project first."""
    memberships = Membership.objects.filter(
        user=rater, role=Membership.Role.ANNOTATOR, stage__in=LIVE_STAGES
    ).select_related("project")
    for membership in memberships.order_by("project_id"):
        assignment = assignment_next(rater=rater, project=membership.project, membership=membership)
        if assignment is not None:
            return assignment
    return None


def _priority_levels(project: Project) -> list[int]:
    # A loose index scan: one probe of item_queue_order per distinct priority.
    table = Item._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE levels(p) AS (
                SELECT MAX(priority) FROM {table} WHERE project_id = %s
                UNION ALL
                SELECT (SELECT MAX(priority) FROM {table}
                        WHERE project_id = %s AND priority < levels.p)
                FROM levels WHERE levels.p IS NOT NULL
            )
            SELECT p FROM levels WHERE p IS NOT NULL
            """,  # noqa: S608 - table names come from the models, values are parameters
            [project.pk, project.pk],
        )
        return [row[0] for row in cursor.fetchall()]


# How many of the queue's first candidates a claim looks at before it falls back to a
# fresh item: a rater's own unfinished items (waiting for other raters) stay at the head of
# the queue, and without a bound every claim of that rater would walk past all of them.
CLAIM_HEAD = 64
# How many of those the claim reads back to lock one: enough to step over the few rows that
# concurrent claims and submits hold locked; when all of them are locked, a fresh item is
# served instead.
CLAIM_HEAD_PICK = 8


def _not_own_sql(item: str) -> str:
    # The rater has no live lease on the item: none at all, or an expired one. A scalar
    # subquery on the (item, rater) unique index rather than NOT EXISTS, which the planner
    # may turn into a join over all of the rater's leases. `rater_id + 0` keeps the rater's
    # own index out of it: planned while the lease table was nearly empty, the generic
    # plan probed by rater and filtered by item, reading every lease of the rater for each
    # candidate (399 rows each after 400 labels), and kept that plan for the connection.
    leases = Assignment._meta.db_table
    return f"""COALESCE((SELECT a.status FROM {leases} a
                         WHERE a.item_id = {item} AND a.rater_id + 0 = %(rater)s), 'expired')
               = 'expired'"""  # noqa: S608 - names come from the models


def _claim_sql(candidates: str, order: str, *, own_checked: bool = False) -> str:
    items = Item._meta.db_table
    own = "" if own_checked else f"AND {_not_own_sql('i.id')}"
    # The conditions on i are checked again on the row's latest version once it is locked,
    # so a slot taken by a concurrent claim is never taken twice.
    return f"""
        UPDATE {items} SET n_open = n_open + 1
        WHERE id = (
            SELECT i.id FROM {items} i
            WHERE {candidates}
              AND i.n_done < %(k)s AND i.n_done + i.n_open < %(k)s AND NOT i.is_gold
              {own}
            ORDER BY {order}
            LIMIT 1{_skip_locked()})
        RETURNING {rows.columns(Item)}
    """  # noqa: S608 - names come from the models, values are parameters


@rows.statement("claim_head")
def CLAIM_HEAD_SQL() -> str:
    items = Item._meta.db_table
    # The inner walk stops at the first CLAIM_HEAD_PICK candidates that are not the rater's
    # own, so a claim reads a handful of rows, not all CLAIM_HEAD of them; only the row it
    # takes is locked.
    return _claim_sql(
        f"""i.id IN (
                SELECT h.id FROM (
                    SELECT c.id FROM {items} c
                    WHERE c.project_id = %(project)s AND c.priority = %(priority)s
                      AND c.n_done < %(k)s AND c.n_done + c.n_open < %(k)s AND NOT c.is_gold
                    ORDER BY c.n_done DESC, c.id
                    LIMIT {CLAIM_HEAD}) h
                WHERE {_not_own_sql("h.id")}
                LIMIT {CLAIM_HEAD_PICK})""",  # noqa: S608
        "i.n_done DESC, i.id",
        own_checked=True,
    )


@rows.statement("claim_fresh")
def CLAIM_FRESH_SQL() -> str:
    return _claim_sql(
        "i.project_id = %(project)s AND i.priority = %(priority)s AND i.n_done = 0", "i.id"
    )


@rows.statement("claim_any")
def CLAIM_ANY_SQL() -> str:
    return _claim_sql(
        "i.project_id = %(project)s AND i.priority = %(priority)s", "i.n_done DESC, i.id"
    )


def _claim_lease_sql(claim: Statement) -> str:
    # The claimed slot and its lease in one statement: no transaction to open and commit,
    # and the item's row lock is held for this statement only. A second open lease of the
    # rater in the project trips the partial unique index, and the whole statement,
    # claim included, is undone.
    return f"""
        WITH claimed AS ({claim.sql}),
        leased AS (
            INSERT INTO {Assignment._meta.db_table}
                (project_id, item_id, rater_id, status, leased_at, expires_at, presentation,
                 skip_reason)
            SELECT %(project)s, c.id, %(rater)s, 'active', %(now)s, %(expires)s,
                   %(presentation)s, ''
            FROM claimed c
            ON CONFLICT (item_id, rater_id) DO UPDATE SET
                project_id = excluded.project_id, status = excluded.status,
                leased_at = excluded.leased_at, expires_at = excluded.expires_at,
                presentation = excluded.presentation
            RETURNING id, item_id
        )
        SELECT l.id, c.* FROM leased l JOIN claimed c ON c.id = l.item_id
    """  # noqa: S608 - names come from the models, values are parameters


CLAIM_LEASE = [
    rows.statement(f"{claim.name.removeprefix('vox_')}_lease")(
        lambda claim=claim: _claim_lease_sql(claim)
    )
    for claim in (CLAIM_HEAD_SQL, CLAIM_FRESH_SQL, CLAIM_ANY_SQL)
]


def _claim_and_lease(*, rater, project: Project) -> Assignment | None:
    """A new lease on the best free live item, each try one statement (PostgreSQL)."""
    now = timezone.now()
    lease = _new_lease(rater=rater, project=project, item=None, status=ACTIVE, now=now)
    params = {
        "project": project.pk,
        "k": project.overlap,
        "rater": rater.pk,
        "now": now,
        "expires": lease.expires_at,
        "presentation": json.dumps(lease.presentation),
    }
    with connection.cursor() as cursor:
        row = _by_priority(
            project, lambda priority: _first_row(cursor, CLAIM_LEASE, params, priority)
        )
    if row is None:
        return None
    lease.item = rows.build(Item, row, 1)
    lease.item.project = project
    lease.pk = row[0]
    lease._state.adding = False
    return lease


def _first_row(cursor, statements, params: dict, priority: int):
    """One slot in a priority level: closest to completion first among the first
    CLAIM_HEAD candidates, else the first fresh item, else any free item (a full walk,
    needed only when no fresh item is left). The first of `statements` to find a row."""
    params = {**params, "priority": priority}
    for statement in statements:
        rows.execute(cursor, statement, params)
        row = cursor.fetchone()
        if row is not None:
            return row
    return None


def _by_priority(project: Project, claim_in_level):
    """What `claim_in_level(priority)` finds first, level by level of priority.

    Within a level the order is "closest to completion first", and `n_done < overlap` is a
    range on the queue index, so finished items are never scanned however many there are.
    The top level, when the seat read it already, is tried before the levels are listed.
    """
    top = getattr(project, "top_priority_now", None)
    if top is not None:
        found = claim_in_level(top)
        if found is not None:
            return found
    for priority in _priority_levels(project):
        if priority != top:
            found = claim_in_level(priority)
            if found is not None:
                return found
    return None


def _claim_item(*, rater, project: Project) -> Item | None:
    """Take one slot of the best free item."""
    params = {"project": project.pk, "k": project.overlap, "rater": rater.pk}
    claims = (CLAIM_HEAD_SQL, CLAIM_FRESH_SQL, CLAIM_ANY_SQL)
    with connection.cursor() as cursor:
        row = _by_priority(project, lambda priority: _first_row(cursor, claims, params, priority))
    if row is None:
        return None
    item = rows.build(Item, row)
    item.project = project
    return item


def _presentation(project: Project, item: Item | None) -> dict:
    # Randomised per lease, so position bias averages out and can be measured afterwards.
    # Only ranking's depends on the item.
    if project.kind == schemas.PAIRWISE:
        return {"swapped": bool(secrets.randbelow(2))}
    if project.kind == schemas.RANKING:
        order = list(range(len(item.data.get("responses", []))))
        secrets.SystemRandom().shuffle(order)
        return {"order": order}
    return {}


@rows.statement("lease")
def LEASE() -> str:
    table = Assignment._meta.db_table
    return f"""
        INSERT INTO {table}
            (project_id, item_id, rater_id, status, leased_at, expires_at, presentation,
             skip_reason)
        VALUES (%s, %s, %s, %s, %s, %s, %s, '')
        ON CONFLICT (item_id, rater_id) DO UPDATE SET
            project_id = excluded.project_id, status = excluded.status,
            leased_at = excluded.leased_at, expires_at = excluded.expires_at,
            presentation = excluded.presentation
        RETURNING id
    """  # noqa: S608 - names come from the models, values are parameters


def _new_lease(*, rater, project: Project, item: Item | None, status: str, now) -> Assignment:
    return Assignment(
        project=project,
        item=item,
        rater=rater,
        status=status,
        leased_at=now,
        expires_at=now + timedelta(seconds=settings.VOX_LEASE_SECONDS),
        presentation=_presentation(project, item),
        skip_reason="",
    )


def _lease(*, rater, project: Project, item: Item, status: str = ACTIVE) -> Assignment:
    assignment = _new_lease(
        rater=rater, project=project, item=item, status=status, now=timezone.now()
    )
    # An expired lease of this rater on the same item is reused, not duplicated. A second
    # open lease in the project trips the partial unique index instead (IntegrityError).
    # Both backends the queue runs on return ids from an upsert (PostgreSQL, SQLite 3.35+).
    with connection.cursor() as cursor:
        rows.execute(
            cursor,
            LEASE,
            [
                project.pk,
                item.pk,
                rater.pk,
                status,
                assignment.leased_at,
                assignment.expires_at,
                json.dumps(assignment.presentation),
            ],
        )
        assignment.pk = cursor.fetchone()[0]
    assignment._state.adding = False
    return assignment


def assignment_skip(*, rater, item: Item, reason: str) -> None:
    """Release the lease; the item is never served to this rater again."""
    with transaction.atomic():
        updated = Assignment.objects.filter(item=item, rater=rater, status__in=HELD).update(
            status=Assignment.Status.SKIPPED, skip_reason=reason[:500]
        )
        if updated:
            Item.objects.filter(pk=item.pk, n_open__gt=0).update(n_open=F("n_open") - 1)
        elif not Assignment.objects.filter(item=item, rater=rater).exists():
            raise SubmitRefused("This item is not leased to you.")


# --- Submissions ------------------------------------------------------------------------------


class _Taken(Exception):
    """This rater's annotation of the item, or their idempotency key, exists already."""


def annotation_submit(
    *,
    rater,
    item: Item,
    value,
    idempotency_key: str,
    active_ms: int | None = None,
    lease: Assignment | None = None,
) -> Annotation:
    """Record a rater's answer, exactly once in effect.

    `value` names pairwise sides as this rater saw them; the lease's presentation maps it
    back to the item's own A and B before it is stored. A replay with the same idempotency
    key returns the first result. A submit after the lease expired is accepted only while
    the item still has a free slot. `lease`: the rater's lease on the item as the caller
    read it (the queue's seat); a held one lets the submit go in one round trip.
    """
    project = item.project
    value = schemas.value_validate(project.kind, project.schema, value, item_data=item.data)
    if lease is not None and _submits_in_one_round_trip(item, lease):
        annotation = _submit_held(rater, item, project, value, idempotency_key, active_ms, lease)
        if annotation is not None:
            counters_fold_soon(project.pk)
            return annotation
    try:
        with transaction.atomic():
            annotation = _submit_locked(rater, item, project, value, idempotency_key, active_ms)
    except _Taken:
        # Looked up only now, so the common case costs no query: a replay returns the
        # first result, a key reused on another item is refused.
        previous = Annotation.objects.filter(rater=rater, idempotency_key=idempotency_key).first()
        if previous is None:
            raise SubmitRefused("You have already labeled this item.") from None
        if previous.item_id != item.pk:
            raise SubmitRefused("This submission key was already used for another item.") from None
        return previous
    transaction.on_commit(lambda: counters_fold_soon(project.pk))
    return annotation


def _submits_in_one_round_trip(item: Item, lease: Assignment) -> bool:
    # The common case: a live item on a held, unexpired lease. Gold, expired leases and
    # everything unusual take the locked path, which says exactly what went wrong.
    return (
        connection.vendor == "postgresql"
        and not item.is_gold
        and lease.status in HELD
        and lease.expires_at > timezone.now()
    )


# The columns both submit paths insert, in the order their parameters come.
_ANNOTATION_COLUMNS = (
    "project_id, item_id, rater_id, value, idempotency_key, created_at, duration_ms, "
    "active_ms, guideline_version, presentation"
)


@rows.statement("annotation_insert_held")
def ANNOTATION_INSERT_HELD() -> str:
    # The item id comes from the lease, locked, and only while it is still held, unexpired
    # and the one the caller read (leased_at): otherwise it is NULL, the insert fails on
    # NOT NULL, and the statements after it in the batch never run.
    return f"""
        INSERT INTO {Annotation._meta.db_table} ({_ANNOTATION_COLUMNS})
        VALUES (%s, (SELECT a.item_id FROM {Assignment._meta.db_table} a
                     WHERE a.id = %s AND a.status IN ('active', 'queued')
                       AND a.expires_at > %s AND a.leased_at = %s
                     FOR UPDATE),
                %s, %s, %s, %s, %s, %s, %s, %s)
    """  # noqa: S608 - names come from the models, values are parameters


@rows.statement("submitted_read")
def SUBMITTED_READ() -> str:
    return f"""
        SELECT a.id, m.trust_check_in FROM {Annotation._meta.db_table} a
        JOIN {Membership._meta.db_table} m ON m.user_id = a.rater_id AND m.project_id = %s
        WHERE a.rater_id = %s AND a.idempotency_key = %s
    """  # noqa: S608 - names come from the models, values are parameters


def _submit_held(rater, item, project, value, idempotency_key, active_ms, lease):
    """The submit of a held lease as one batch in one round trip: all of it or none.
    Returns None when the lease changed since it was read, or the key or the pair exists
    already: the locked path then decides."""
    now = timezone.now()
    annotation = _new_annotation(
        rater, item, project, value, idempotency_key, active_ms, lease, now
    )
    batch = [
        (
            ANNOTATION_INSERT_HELD,
            [project.pk, lease.pk, now, lease.leased_at, *_annotation_values(annotation)],
        ),
        *_submit_writes(annotation, lease, held=True),
        (SUBMITTED_READ, [project.pk, rater.pk, idempotency_key]),
    ]
    try:
        # Outside a transaction PostgreSQL runs the batch as one implicit transaction;
        # inside one, a savepoint undoes it whole.
        with _one_statement(), connection.cursor() as cursor:
            rows.run_batch(cursor, batch)
            annotation.pk, trust_check_left = cursor.fetchone()
    except IntegrityError:
        return None
    annotation._state.adding = False
    if trust_check_left == 0:
        with transaction.atomic():
            trust_check_due(rater_id=rater.pk, project_id=project.pk)
    return annotation


def _new_annotation(rater, item, project, value, idempotency_key, active_ms, lease, now):
    """The answer as it is stored: pairwise sides mapped back to the item's own A and B,
    time on task from the lease."""
    if project.kind == schemas.PAIRWISE:
        value = schemas.pairwise_unswap(value, bool(lease.presentation.get("swapped")))
    return Annotation(
        project=project,
        item=item,
        rater=rater,
        value=value,
        idempotency_key=idempotency_key,
        created_at=now,
        guideline_version=guideline_version_current(project),
        presentation=lease.presentation,
        duration_ms=int((now - lease.leased_at).total_seconds() * 1000),
        active_ms=active_ms,
    )


def _annotation_values(annotation: Annotation) -> list:
    # The inserted columns after project_id and item_id (see _ANNOTATION_COLUMNS).
    return [
        annotation.rater_id,
        json.dumps(annotation.value),
        annotation.idempotency_key,
        annotation.created_at,
        annotation.duration_ms,
        annotation.active_ms,
        annotation.guideline_version,
        json.dumps(annotation.presentation),
    ]


def _submit_writes(annotation: Annotation, lease: Assignment, *, held: bool) -> list:
    """What a stored answer changes besides itself, in the order it runs: the lease, the
    prefetched lease, the item's counts and, for live items, the rater's counter shard and
    the trust countdown (last, so that its answer can be read)."""
    project, item, rater_id, now = (
        annotation.project,
        annotation.item,
        annotation.rater_id,
        annotation.created_at,
    )
    expires = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
    writes = [
        (LEASE_SUBMITTED, [lease.pk]),
        (LEASE_PROMOTE, [now, expires, rater_id, project.pk, rater_id, project.pk]),
        _item_counts_sql(item.pk, done=1, open_=-1 if held else 0),
    ]
    if not item.is_gold:
        # Gold items are checks on raters, not labels of the project. Counted as complete
        # when this submit brought the item to its overlap.
        writes.append(
            _counters_add_sql(
                project, rater_id, item.pk, annotations=1, complete=1, when=project.overlap
            )
        )
        writes.append(live_answer_counted_sql(rater_id=rater_id, project_id=project.pk))
    return writes


def _for_update() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


@rows.statement("lease_lock")
def LEASE_LOCK() -> str:
    return f"""
        SELECT {rows.columns(Assignment)} FROM {Assignment._meta.db_table}
        WHERE item_id = %s AND rater_id = %s{_for_update()}
    """  # noqa: S608 - names come from the models, values are parameters


@rows.statement("annotation_insert")
def ANNOTATION_INSERT() -> str:
    return f"""
        INSERT INTO {Annotation._meta.db_table} ({_ANNOTATION_COLUMNS})
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT DO NOTHING
        RETURNING id
    """  # noqa: S608 - names come from the models, values are parameters


@rows.statement("lease_submitted")
def LEASE_SUBMITTED() -> str:
    return f"UPDATE {Assignment._meta.db_table} SET status = 'submitted' WHERE id = %s"  # noqa: S608


@rows.statement("lease_promote")
def LEASE_PROMOTE() -> str:
    # The prefetched item is on the rater's screen from now on: its time on task starts.
    leases = Assignment._meta.db_table
    return f"""
        UPDATE {leases} SET status = 'active', leased_at = %s, expires_at = %s
        WHERE rater_id = %s AND project_id = %s AND status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM {leases} b
                          WHERE b.rater_id = %s AND b.project_id = %s AND b.status = 'active')
    """  # noqa: S608 - names come from the models, values are parameters


@rows.statement("item_counts")
def ITEM_COUNTS() -> str:
    return (
        f"UPDATE {Item._meta.db_table} SET n_done = n_done + %s, "  # noqa: S608
        "n_open = CASE WHEN n_open + %s < 0 THEN 0 ELSE n_open + %s END "
        "WHERE id = %s RETURNING n_done"
    )


def _item_counts_sql(item_id: int, *, done: int, open_: int) -> tuple:
    return ITEM_COUNTS, [done, open_, open_, item_id]


def _submit_locked(rater, item, project, value, idempotency_key, active_ms) -> Annotation:
    now = timezone.now()
    with connection.cursor() as cursor:
        rows.execute(cursor, LEASE_LOCK, [item.pk, rater.pk])
        row = cursor.fetchone()
    assignment = rows.build(Assignment, row) if row is not None else None
    if assignment is None or assignment.status == Assignment.Status.SKIPPED:
        raise SubmitRefused("This item is not leased to you.")
    if assignment.status == Assignment.Status.SUBMITTED:
        raise _Taken
    held = assignment.status in HELD
    if held and assignment.expires_at <= now:
        # Overdue but not reclaimed yet: give the slot back first, then compete for it.
        held = False
        Item.objects.filter(pk=item.pk, n_open__gt=0).update(n_open=F("n_open") - 1)
    # Gold items are not bound by overlap: they are served to many raters by design.
    if not held and not item.is_gold:
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if locked.n_done + locked.n_open >= project.overlap:
            raise SubmitRefused("Your lease on this item expired and its slots are taken.")
    annotation = _new_annotation(
        rater, item, project, value, idempotency_key, active_ms, assignment, now
    )
    with connection.cursor() as cursor:
        rows.execute(
            cursor, ANNOTATION_INSERT, [project.pk, item.pk, *_annotation_values(annotation)]
        )
        inserted = cursor.fetchone()
        if inserted is None:
            raise _Taken
        annotation.pk = inserted[0]
        annotation._state.adding = False
        # The rest only writes; it goes to the server in one round trip.
        rows.run_batch(cursor, _submit_writes(annotation, assignment, held=held))
        trust_check_left = cursor.fetchone() if not item.is_gold else None
    if trust_check_left is not None and trust_check_left[0] == 0:
        trust_check_due(rater_id=rater.pk, project_id=project.pk)
    if item.is_gold:
        live_answer_recorded(annotation=annotation)
    return annotation


@rows.statement("shard_add")
def SHARD_ADD() -> str:
    shards, items = CounterShard._meta.db_table, Item._meta.db_table
    # n_complete changes only when the item's n_done (as it is now) says so. (The WHERE
    # clause also keeps SQLite from reading ON CONFLICT as part of the SELECT.)
    return f"""
        INSERT INTO {shards} (project_id, shard, n_annotations, n_complete)
        SELECT %s, %s, %s, CASE WHEN n_done = %s THEN %s ELSE 0 END FROM {items} WHERE id = %s
        ON CONFLICT (project_id, shard) DO UPDATE SET
            n_annotations = {shards}.n_annotations + excluded.n_annotations,
            n_complete = {shards}.n_complete + excluded.n_complete
    """  # noqa: S608 - names come from the models, values are parameters


def _counters_add_sql(
    project: Project, rater_id: int, item_id: int, *, annotations: int, complete: int, when: int
) -> tuple:
    """Add to the rater's counter shard: `annotations`, and `complete` if the item's n_done
    is now `when`."""
    shard = rater_id % CounterShard.SHARDS
    return SHARD_ADD, [project.pk, shard, annotations, when, complete, item_id]


def _item_counts_add(item_id: int, *, done: int, open_: int) -> int:
    """Add to an item's kept counts in one statement; returns its new n_done."""
    with connection.cursor() as cursor:
        rows.execute(cursor, *_item_counts_sql(item_id, done=done, open_=open_))
        return cursor.fetchone()[0]


def annotation_undo(*, rater, project: Project) -> Assignment:
    """Take back the rater's last submit in this project and lease its item back to them.

    Allowed within VOX_UNDO_SECONDS of the submit. The lease the
    rater was served after that submit is released (one open lease per project).
    """
    window = settings.VOX_UNDO_SECONDS
    with transaction.atomic():
        last = (
            Annotation.objects.select_for_update()
            .filter(rater=rater, project=project)
            .select_related("item")
            .order_by("-id")
            .first()
        )
        if last is None:
            raise SubmitRefused("There is nothing to undo.")
        now = timezone.now()
        # Gold is undone like any item, so a refusal cannot give it away; its score keeps
        # the first answer (quality.services.live_answer_recorded scores each gold once).
        if not window or (now - last.created_at).total_seconds() > window:
            raise SubmitRefused("Your last answer can no longer be undone.")
        for lease in Assignment.objects.select_for_update().filter(
            rater=rater, project=project, status__in=HELD
        ):
            Assignment.objects.filter(pk=lease.pk).update(status=Assignment.Status.EXPIRED)
            _item_counts_add(lease.item_id, done=0, open_=-1)
        assignment = Assignment.objects.select_for_update().get(item=last.item, rater=rater)
        last.delete()
        assignment.status = ACTIVE
        assignment.leased_at = now
        assignment.expires_at = now + timedelta(seconds=settings.VOX_LEASE_SECONDS)
        assignment.save(update_fields=["status", "leased_at", "expires_at"])
        _item_counts_add(last.item_id, done=-1, open_=1)
        if not last.item.is_gold:
            # The item stops counting as complete if this answer had completed it.
            with connection.cursor() as cursor:
                rows.execute(
                    cursor,
                    *_counters_add_sql(
                        project,
                        rater.pk,
                        last.item_id,
                        annotations=-1,
                        complete=-1,
                        when=project.overlap - 1,
                    ),
                )
        assignment.item = last.item
        assignment.undone_value = last.value
    transaction.on_commit(lambda: counters_fold_soon(project.pk))
    return assignment


# --- Project counters -------------------------------------------------------------------------


def counters_fold(*, project_id: int | None = None) -> int:
    """Move the shards' pending counts into Project. Returns how many shards it moved.

    Running it twice, or while submits go on, never loses or doubles a count: each shard
    is locked, added to its project, and reduced by exactly what was added. Shards that
    submits hold locked at that moment wait for the next fold (the beat runs one every 30 s).
    """
    if connection.vendor == "postgresql":
        return _counters_fold_statement(project_id)
    shards = CounterShard.objects.exclude(n_annotations=0, n_complete=0)
    if project_id is not None:
        shards = shards.filter(project_id=project_id)
    with transaction.atomic():
        # A shard that a submit holds is left for the next fold: waiting for it would make
        # every later submit to the shards already locked here wait too.
        shard_rows = list(shards.select_for_update(skip_locked=True).order_by("id"))
        totals: dict[int, list[int]] = {}
        for shard in shard_rows:
            total = totals.setdefault(shard.project_id, [0, 0])
            total[0] += shard.n_annotations
            total[1] += shard.n_complete
            shard.n_annotations = F("n_annotations") - shard.n_annotations
            shard.n_complete = F("n_complete") - shard.n_complete
        # One statement for all shards: submits wait on a locked shard, so the locks are
        # held for two round trips, not one per shard.
        CounterShard.objects.bulk_update(shard_rows, ["n_annotations", "n_complete"])
        for pid, (n_annotations, n_complete) in totals.items():
            Project.objects.filter(pk=pid).update(
                n_annotations=F("n_annotations") + n_annotations,
                n_complete=F("n_complete") + n_complete,
            )
            if n_annotations > 0:
                # New labels count towards the next aggregation run here, not in each
                # submit: that counter is one row per project, which every concurrent
                # submit would otherwise wait on.
                aggregation_note_new_annotations(pid, n_annotations)
    return len(shard_rows)


def _counters_fold_sql(*, one_project: bool) -> str:
    shards, projects = CounterShard._meta.db_table, Project._meta.db_table
    # Shards that a submit holds are skipped (the next fold takes them), and the ones taken
    # are locked for this one statement only: a fold that held them across round trips,
    # in a worker the busy machine descheduled, made the submits to those shards wait.
    which = "project_id = %(project)s AND" if one_project else ""
    return f"""
        WITH taken AS (
            SELECT id, project_id, n_annotations, n_complete FROM {shards}
            WHERE {which} (n_annotations <> 0 OR n_complete <> 0)
            FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE {shards} s SET n_annotations = s.n_annotations - t.n_annotations,
                                  n_complete = s.n_complete - t.n_complete
            FROM taken t WHERE s.id = t.id
            RETURNING t.project_id, t.n_annotations, t.n_complete
        ), totals AS (
            SELECT project_id, SUM(n_annotations) AS n_annotations,
                   SUM(n_complete) AS n_complete, COUNT(*) AS n_shards
            FROM moved GROUP BY project_id
        ), added AS (
            UPDATE {projects} p SET n_annotations = p.n_annotations + t.n_annotations,
                                    n_complete = p.n_complete + t.n_complete
            FROM totals t WHERE p.id = t.project_id
            RETURNING p.id
        )
        SELECT t.project_id, t.n_annotations, t.n_shards FROM totals t
        JOIN added a ON a.id = t.project_id
    """  # noqa: S608 - names come from the models, values are parameters


COUNTERS_FOLD_PROJECT = rows.statement("counters_fold_project")(
    lambda: _counters_fold_sql(one_project=True)
)
COUNTERS_FOLD_ALL = rows.statement("counters_fold_all")(
    lambda: _counters_fold_sql(one_project=False)
)


def _counters_fold_statement(project_id: int | None) -> int:
    with connection.cursor() as cursor:
        if project_id is None:
            rows.execute(cursor, COUNTERS_FOLD_ALL, [])
        else:
            rows.execute(cursor, COUNTERS_FOLD_PROJECT, {"project": project_id})
        folded = cursor.fetchall()
    for pid, n_annotations, _ in folded:
        if n_annotations > 0:
            aggregation_note_new_annotations(pid, int(n_annotations))
    return sum(int(n) for _, _, n in folded)


_last_fold: dict[int, float] = {}
FOLD_EVERY_S = 1.0


def counters_fold_soon(project_id: int) -> None:
    """Ask for a fold after a submit: at once in embedded mode, at most once a second per
    process and project with Celery (the beat job catches whatever falls between)."""
    from annotation import jobs

    if settings.VOX_JOBS != "celery":
        from config.jobs import enqueue

        enqueue(jobs.counters_fold, project_id)
        return
    now = time.monotonic()
    if now - _last_fold.get(project_id, 0.0) < FOLD_EVERY_S:
        return
    _last_fold[project_id] = now
    jobs.counters_fold.apply_async(
        args=[project_id], countdown=FOLD_EVERY_S, queue=settings.VOX_JOBS_QUEUE
    )
