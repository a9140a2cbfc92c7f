"""Reads for the workbench and the queue API. Access goes through these and raises 404.

An annotator reaches a project only through their own membership, and an item only
through their own lease on it; nothing here returns another rater's annotations.
"""

from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from annotation import rows
from annotation.models import Annotation, Assignment, CounterShard
from quality.models import QualityPolicy, RelabelRequest
from raters.models import Membership
from tasks.ids import decode_item_id
from tasks.models import Guideline, Item, Project


@rows.statement("seat")
def SEAT() -> str:
    return f"""
        SELECT {rows.columns(Membership, "m")}, {rows.columns(Project, "p")},
               {rows.columns(QualityPolicy, "q")},
               (SELECT MAX(i.priority) FROM {Item._meta.db_table} i WHERE i.project_id = p.id),
               EXISTS (SELECT 1 FROM {RelabelRequest._meta.db_table} r
                       WHERE r.project_id = p.id AND r.resolved_at IS NULL),
               (SELECT MAX(g.version) FROM {Guideline._meta.db_table} g
                WHERE g.project_id = p.id)
        FROM {Membership._meta.db_table} m
        JOIN {Project._meta.db_table} p ON p.id = m.project_id
        LEFT JOIN {QualityPolicy._meta.db_table} q ON q.project_id = p.id
        WHERE m.project_id = %s AND m.user_id = %s AND m.role = %s
    """  # noqa: S608 - names come from the models, values are parameters


def membership_for_annotator(user, project_id) -> Membership:
    """The user's annotator membership of the project, else Http404.

    One query brings what every queue request needs: the membership, its project, the
    project's quality rules (cached on the project for `quality.selectors.policy_for`), and
    three facts the queue would otherwise ask for one by one: the top item priority, whether
    any relabel request is open, and the current guideline version.
    """
    if not user.is_authenticated:
        raise Http404
    try:
        project_id = int(project_id)
    except (ValueError, TypeError):
        raise Http404 from None
    with connection.cursor() as cursor:
        rows.execute(cursor, SEAT, [project_id, user.pk, Membership.Role.ANNOTATOR])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    membership = rows.build(Membership, row)
    start = rows.width(Membership)
    project = rows.build(Project, row, start)
    start += rows.width(Project)
    policy = rows.build(QualityPolicy, row, start) if row[start] is not None else None
    # Reverse one-to-one cache: None makes `project.quality` raise DoesNotExist at once.
    project._state.fields_cache["quality"] = policy
    project.top_priority_now, relabel_open, project.guideline_version_now = row[-3:]
    project.relabel_open_now = bool(relabel_open)
    membership.project = project
    membership.user = user
    return membership


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
