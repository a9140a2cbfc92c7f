from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def model_run_load(run_id: int) -> None:
    from modelruns.services import model_run_load as load

    load(run_id=run_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def noisy_cv_run(run_id: int) -> None:
    from modelruns.services import noisy_cv_run as run

    run(run_id=run_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def model_runs_watchdog() -> dict:
    from modelruns.services import model_runs_fail_stale

    return model_runs_fail_stale()
