"""Celery jobs of the work queue. Each wraps a service that is harmless to run twice."""

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leases_reclaim() -> int:
    from annotation.services import leases_reclaim

    return leases_reclaim()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def counters_fold(project_id: int | None = None) -> int:
    from annotation.services import counters_fold

    return counters_fold(project_id=project_id)
