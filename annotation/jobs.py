"""Celery jobs of the work queue. Each wraps a service that is harmless to run twice."""

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def leases_reclaim() -> int:
    from annotation.queue import leases_reclaim

    return leases_reclaim()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def after_submits(project_id: int | None = None) -> int:
    from annotation.queue import after_submits

    return after_submits(project_id=project_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def counters_fold(project_id: int | None = None) -> int:
    # Kept for jobs enqueued before an upgrade; new ones are `after_submits`.
    from annotation.queue import after_submits

    return after_submits(project_id=project_id)
