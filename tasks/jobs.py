from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def import_run(job_id: int) -> None:
    from tasks.services import import_run as run

    run(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def export_run(job_id: int) -> None:
    from tasks.services import export_run as run

    run(job_id=job_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def job_files_prune() -> dict:
    from tasks.services import job_files_prune as prune

    return prune()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def jobs_watchdog() -> dict:
    from tasks.services import jobs_fail_stale

    return jobs_fail_stale()
