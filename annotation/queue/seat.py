"""The seat: everything a queue request starts from, read in one statement.

Every door (the workbench, the API, the fast lane, services called from scripts) reads the
seat here, then asks the one gate (`annotation.queue.gate`) before it claims or submits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotation.models import Assignment
from annotation.queue import sql
from config import rows
from quality.models import QualityPolicy
from raters.models import Membership
from raters.skills import blocked_from_row
from tasks.ids import decode_item_id
from tasks.models import Item, Project

# Ids past PostgreSQL's bigint are nobody's: 404 before they reach a statement.
ID_MAX = 2**63 - 1


@dataclass
class Seat:
    """An annotator's place on one project's queue."""

    user: object
    membership: Membership
    # The current guideline version (None before the first) and whether the rater
    # acknowledged it.
    guideline_version: int | None
    guideline_acked: bool
    # Whether the project has overdue leases to reclaim.
    overdue: bool
    # The rater's held lease (open, else prefetched) or their lease on the asked-for item,
    # with `.item`; None when there is none.
    lease: Assignment | None
    now: object
    # Routing by skill (raters.skills): the project's tags this rater may not work on,
    # and the number of the project's rules.
    blocked_tags: list = field(default_factory=list)
    n_skill_rules: int = 0
    # A changed guideline section asks this rater to re-qualify first.
    requalify: bool = False

    @property
    def project(self) -> Project:
        return self.membership.project

    @property
    def policy(self) -> QualityPolicy:
        return self.project._state.fields_cache["quality"] or QualityPolicy(project=self.project)


def db_id(value) -> int:
    """A database id from a URL or a body, else Http404."""
    try:
        number = int(value)
    except (ValueError, TypeError, OverflowError):
        raise Http404 from None
    if isinstance(value, bool) or not 0 < number <= ID_MAX:
        raise Http404
    return number


def item_pk(public_id) -> int:
    """The database id of an item from the public id a rater was shown, else Http404."""
    try:
        if isinstance(public_id, bool):
            raise TypeError
        return decode_item_id(int(public_id))
    except (ValueError, TypeError, OverflowError):
        raise Http404 from None


def seat_read(project_id, *, user=None, user_id=None, token: str | None = None, item=None) -> Seat:
    """The seat of an annotator, found by user, by a session's user id or by API token.

    By `user_id` (the workbench, before its session is checked) the seat's user is the
    row read with it, as it is by token; the caller checks the session on it.

    With `item` (a public id, as the rater was shown it) it brings the rater's lease on that
    item, else their held lease. Http404 for no annotator membership or an item never
    served to them; AuthenticationFailed, as DRF's token check, for an unknown token or an
    inactive user.
    """
    from rest_framework import exceptions

    params = {"project": db_id(project_id), "now": timezone.now()}
    if token is not None:
        params["token"] = token
    elif user_id is not None:
        params["user"] = db_id(user_id)
    elif user is None or not user.is_authenticated:
        raise Http404
    else:
        params["user"] = user.pk
    if item is not None:
        params["item"] = item_pk(item)
    stmt = sql.SEATS[
        ("token" if token is not None else "user", "item" if item is not None else "held")
    ]
    with connection.cursor() as cursor:
        rows.execute(cursor, stmt, params)
        row = cursor.fetchone()
    if row is None:
        if token is not None:
            # Unknown token, inactive user, or no seat: DRF's check says which it is.
            from config.authentication import FastTokenAuthentication

            FastTokenAuthentication().authenticate_credentials(token)
        raise Http404
    seat = _seat_from_row(row, user, params["now"])
    if not seat.user.is_active:
        raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
    if item is not None and seat.lease is None:
        raise Http404  # the item was never served to this rater
    return seat


def _seat_from_row(row, user, now) -> Seat:
    user = user or rows.build(get_user_model(), row)
    start = rows.width(get_user_model())
    membership = rows.build(Membership, row, start)
    start += rows.width(Membership)
    project = rows.build(Project, row, start)
    start += rows.width(Project)
    policy = rows.build(QualityPolicy, row, start) if row[start] is not None else None
    start += rows.width(QualityPolicy)
    # Reverse one-to-one cache: None makes `project.quality` raise DoesNotExist at once.
    project._state.fields_cache["quality"] = policy
    top, relabel_open, version, acked, overdue, blocked, n_rules, requalify = row[start : start + 8]
    project.top_priority_now, project.relabel_open_now = top, bool(relabel_open)
    project.guideline_version_now = version
    start += 8
    membership.project, membership.user = project, user
    lease = None
    if row[start] is not None and row[start + rows.width(Assignment)] is not None:
        lease = rows.build(Assignment, row, start)
        lease.item = rows.build(Item, row, start + rows.width(Assignment))
        lease.item.project = lease.project = project
    return Seat(
        user=user,
        membership=membership,
        guideline_version=version,
        guideline_acked=bool(acked),
        overdue=bool(overdue),
        lease=lease,
        now=now,
        blocked_tags=blocked_from_row(blocked),
        n_skill_rules=int(n_rules or 0),
        requalify=bool(requalify),
    )
