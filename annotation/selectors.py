from django.db.models import Count, Q
from django.utils import timezone

from annotation.models import Annotation


def rater_progress(*, rater, project) -> dict:
    """The rater's own counts: today and in this project. One query."""
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Annotation.objects.filter(rater=rater, project=project).aggregate(
        total=Count("id"), today=Count("id", filter=Q(created_at__gte=start_of_day))
    )
