"""Reads for the workbench that are not the queue's own (annotation/queue/seat.py).

An annotator reaches a project only through their own membership, and an item only
through their own lease on it; nothing here returns another rater's annotations.
"""

from django.db.models import Count, Q, Sum
from django.utils import timezone

from annotation.models import Annotation, CounterShard
from tasks.models import Project


def rater_progress(*, rater, project) -> dict:
    """The rater's own counts, gold and live alike: today and in this project. One query."""
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
