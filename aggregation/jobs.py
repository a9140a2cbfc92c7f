from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def aggregation_run_execute(run_id: int) -> None:
    from aggregation.services import aggregation_run_execute as execute

    execute(run_id=run_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def aggregation_schedule() -> None:
    from aggregation.services import aggregation_schedule_due

    aggregation_schedule_due()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def aggregation_watchdog() -> int:
    from aggregation.services import aggregation_runs_fail_lost

    return aggregation_runs_fail_lost()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rater_scores_compute(project_id: int) -> None:
    from aggregation.scoring import rater_scores_compute as compute
    from quality.flags import flags_apply

    compute(project_id=project_id)
    # The trust layer acts on fresh snapshots only where the project opted in.
    flags_apply(project_id=project_id)
    # Dashboards read one precomputed row per project: refresh it with the new scores.
    from quality.dashboard_services import dashboard_snapshot_compute

    dashboard_snapshot_compute(project_id=project_id)
