from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def dashboard_snapshot_compute(project_id: int) -> None:
    from quality.dashboard_services import dashboard_snapshot_compute as compute

    compute(project_id=project_id)
