"""Reads for the workbench and the queue API. Access goes through these and raises 404.

An annotator reaches a project only through their own membership, and an item only
through their own lease on it; nothing here returns another rater's annotations.
"""

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from annotation.models import Annotation, CounterShard
from raters.models import Membership
from tasks.ids import decode_item_id
from tasks.models import Item, Project


def membership_for_annotator(user, project_id) -> Membership:
    """The user's annotator membership of the project, with the project, in one query."""
    if not user.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("project").get(
            project_id=int(project_id), user=user, role=Membership.Role.ANNOTATOR
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def item_for_rater(rater, project: Project, public_id) -> Item:
    """An item of this project that was served to this rater, by the public id they were
    shown (tasks/ids.py); else Http404."""
    try:
        pk = decode_item_id(int(public_id))
        item = Item.objects.filter(pk=pk, project=project, assignments__rater=rater).get()
    except (Item.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
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
