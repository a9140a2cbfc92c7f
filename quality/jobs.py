from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def dashboard_snapshot_compute(project_id: int) -> None:
    from quality.dashboard_services import dashboard_snapshot_compute as compute

    compute(project_id=project_id)


def dashboard_snapshot_request(project) -> None:
    """Have the project's dashboard figures recomputed in the background (page and API)."""
    from config.jobs import enqueue

    enqueue(dashboard_snapshot_compute, project.pk)
