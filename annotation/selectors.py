"""Reads for the workbench and the queue API. Access goes through these and raises 404.

An annotator reaches a project only through their own membership, and an item only
through their own lease on it; nothing here returns another rater's annotations.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from annotation import rows
from annotation.models import Annotation, Assignment, CounterShard
from quality.models import QualityPolicy, RelabelRequest
from raters.models import Membership
from tasks.ids import decode_item_id
from tasks.models import Guideline, Item, Project


def _seat_sql(*, by: str, lease: str | None) -> str:
    """The seat: membership, project, quality rules and the queue's facts in one row.

    `by` is "user" (%(user)s) or "token" (%(token)s: the API token's user comes along, so
    token clients need no statement of their own to authenticate). `lease` adds the
    rater's held lease ("held": the open one, else the prefetched one; %(now)s) or their
    lease on one item ("item": %(item)s), with its item, for next and submit to start from.
    """
    leases, items = Assignment._meta.db_table, Item._meta.db_table
    user_model = get_user_model()
    select = [
        rows.columns(Membership, "m"),
        rows.columns(Project, "p"),
        rows.columns(QualityPolicy, "q"),
        f"(SELECT MAX(i.priority) FROM {items} i WHERE i.project_id = p.id)",
        f"""EXISTS (SELECT 1 FROM {RelabelRequest._meta.db_table} r
                    WHERE r.project_id = p.id AND r.resolved_at IS NULL)""",
        f"(SELECT MAX(g.version) FROM {Guideline._meta.db_table} g WHERE g.project_id = p.id)",
    ]
    joins = [
        f"JOIN {Project._meta.db_table} p ON p.id = m.project_id",
        f"LEFT JOIN {QualityPolicy._meta.db_table} q ON q.project_id = p.id",
    ]
    if by == "token":
        select.insert(0, rows.columns(user_model, "u"))
        source = f"""{Token._meta.db_table} t
            JOIN {user_model._meta.db_table} u ON u.id = t.user_id
            JOIN {Membership._meta.db_table} m ON m.user_id = u.id"""
        where = "t.key = %(token)s"
    else:
        source = f"{Membership._meta.db_table} m"
        where = "m.user_id = %(user)s"
    if lease is not None:
        # Overdue leases of the project, probed on the expiry index: the claim reclaims
        # them only when there are any.
        select.append(
            f"""EXISTS (SELECT 1 FROM {leases} o WHERE o.project_id = p.id
                        AND o.status IN ('active', 'queued') AND o.expires_at <= %(now)s)"""
        )
    if lease == "held":
        # The open lease, else the prefetched one: each a probe of its own partial unique
        # index (one_active_lease, one_queued_lease). The expiry index would have every
        # lease submitted in the last VOX_LEASE_SECONDS to step over, until vacuum.
        held = [
            f"""(SELECT b.id FROM {leases} b
                 WHERE b.rater_id = m.user_id AND b.project_id = m.project_id
                   AND b.status = '{status}' AND b.expires_at > %(now)s)"""
            for status in ("active", "queued")
        ]
        joins.append(f"LEFT JOIN {leases} a ON a.id = COALESCE({', '.join(held)})")
    elif lease == "item":
        joins.append(f"LEFT JOIN {leases} a ON a.item_id = %(item)s AND a.rater_id = m.user_id")
    if lease is not None:
        joins.append(f"LEFT JOIN {items} i ON i.id = a.item_id AND i.project_id = m.project_id")
        select += [rows.columns(Assignment, "a"), rows.columns(Item, "i")]
    return f"""
        SELECT {", ".join(select)}
        FROM {source} {" ".join(joins)}
        WHERE m.project_id = %(project)s AND {where} AND m.role = 'annotator'
    """  # noqa: S608 - names come from the models, values are parameters


SEAT = rows.statement("seat")(lambda: _seat_sql(by="user", lease=None))
SEATS = {
    (by, lease): rows.statement(f"seat_{by}_{lease}")(
        lambda by=by, lease=lease: _seat_sql(by=by, lease=lease)
    )
    for by in ("user", "token")
    for lease in ("held", "item")
}


def _project_id(project_id) -> int:
    try:
        return int(project_id)
    except (ValueError, TypeError):
        raise Http404 from None


def _seat_from_row(row, user=None) -> Membership:
    start = 0
    if user is None:
        user = rows.build(get_user_model(), row)
        start = rows.width(get_user_model())
    membership = rows.build(Membership, row, start)
    start += rows.width(Membership)
    project = rows.build(Project, row, start)
    start += rows.width(Project)
    policy = rows.build(QualityPolicy, row, start) if row[start] is not None else None
    start += rows.width(QualityPolicy)
    # Reverse one-to-one cache: None makes `project.quality` raise DoesNotExist at once.
    project._state.fields_cache["quality"] = policy
    project.top_priority_now, relabel_open, project.guideline_version_now = row[start : start + 3]
    project.relabel_open_now = bool(relabel_open)
    membership.project = project
    membership.user = user
    membership.seat_rest = row[start + 3 :]
    return membership


def membership_for_annotator(user, project_id) -> Membership:
    """The user's annotator membership of the project, else Http404.

    One query brings what every queue request needs: the membership, its project, the
    project's quality rules (cached on the project for `quality.selectors.policy_for`), and
    three facts the queue would otherwise ask for one by one: the top item priority, whether
    any relabel request is open, and the current guideline version.
    """
    if not user.is_authenticated:
        raise Http404
    project_id = _project_id(project_id)
    with connection.cursor() as cursor:
        rows.execute(cursor, SEAT, {"project": project_id, "user": user.pk})
        row = cursor.fetchone()
    if row is None:
        raise Http404
    return _seat_from_row(row, user)


@dataclass
class QueueSeat:
    """What next or submit starts from, read in one statement."""

    user: object
    membership: Membership
    # The rater's held lease (next) or their lease on the asked-for item (submit), with
    # `.item`; None when there is none.
    lease: Assignment | None
    # Whether the project has overdue leases to reclaim.
    overdue: bool = False

    @property
    def project(self) -> Project:
        return self.membership.project


def queue_seat(project_id, *, user=None, token: str | None = None, item=None) -> QueueSeat:
    """The seat of an annotator on the work queue, found by user or by API token.

    With `item` (a public id) it brings the rater's lease on that item (submit), else their
    held lease (next). Http404 for no annotator membership or an item not served to them;
    AuthenticationFailed, as DRF's token check, for an unknown token or inactive user.
    """
    from rest_framework import exceptions

    project_id = _project_id(project_id)
    params = {"project": project_id}
    if token is not None:
        params["token"] = token
    else:
        if not user.is_authenticated:
            raise Http404
        params["user"] = user.pk
    if item is not None:
        try:
            params["item"] = decode_item_id(int(item))
        except (ValueError, TypeError):
            raise Http404 from None
    params["now"] = timezone.now()
    stmt = SEATS[("token" if token is not None else "user", "item" if item is not None else "held")]
    with connection.cursor() as cursor:
        rows.execute(cursor, stmt, params)
        row = cursor.fetchone()
    if row is None:
        if token is not None:
            # Unknown token, inactive user, or no seat: DRF's check says which it is.
            from config.authentication import FastTokenAuthentication

            FastTokenAuthentication().authenticate_credentials(token)
        raise Http404
    membership = _seat_from_row(row, user)
    if not membership.user.is_active:
        raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
    overdue, rest = bool(membership.seat_rest[0]), membership.seat_rest[1:]
    lease = None
    if rest[rows.width(Assignment)] is not None:  # a lease, on an item of this project
        lease = rows.build(Assignment, rest)
        lease.item = rows.build(Item, rest, rows.width(Assignment))
        lease.item.project = lease.project = membership.project
    elif item is not None:
        raise Http404  # the item was never served to this rater
    return QueueSeat(user=membership.user, membership=membership, lease=lease, overdue=overdue)


@rows.statement("leased_item")
def LEASED_ITEM() -> str:
    return f"""
        SELECT {rows.columns(Item, "i")} FROM {Item._meta.db_table} i
        WHERE i.id = %s AND i.project_id = %s AND EXISTS (
            SELECT 1 FROM {Assignment._meta.db_table} a
            WHERE a.item_id = i.id AND a.rater_id = %s)
    """  # noqa: S608 - names come from the models, values are parameters


def item_for_rater(rater, project: Project, public_id) -> Item:
    """An item of this project that was served to this rater, by the public id they were
    shown (tasks/ids.py); else Http404."""
    try:
        pk = decode_item_id(int(public_id))
    except (ValueError, TypeError):
        raise Http404 from None
    with connection.cursor() as cursor:
        rows.execute(cursor, LEASED_ITEM, [pk, project.pk, rater.pk])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    item = rows.build(Item, row)
    item.project = project
    return item


def rater_progress(*, rater, project) -> dict:
    """The rater's own counts: today and in this project. One query."""
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Annotation.objects.filter(rater=rater, project=project).aggregate(
        total=Count("id"), today=Count("id", filter=Q(created_at__gte=start_of_day))
    )


def project_counts(project: Project) -> dict:
    """The project's counters including the shards not folded in yet."""
    pending = CounterShard.objects.filter(project=project).aggregate(
        n_annotations=Sum("n_annotations"), n_complete=Sum("n_complete")
    )
    return {
        "n_items": project.n_items,
        "n_annotations": project.n_annotations + (pending["n_annotations"] or 0),
        "n_complete": project.n_complete + (pending["n_complete"] or 0),
    }
