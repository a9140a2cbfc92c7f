"""Where background jobs run.

Full mode sends them to Celery through Redis. Embedded mode (no REDIS_URL) runs them on a
small thread pool inside the web process, so a newcomer needs no broker and requests
still return at once. Either way a job is enqueued only after the surrounding
transaction commits, so it never looks for rows that do not exist yet.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None


def enqueue(job, *args) -> None:
    transaction.on_commit(lambda: _dispatch(job, args))


def _dispatch(job, args) -> None:
    mode = settings.VOX_JOBS
    if mode == "celery":
        try:
            job.apply_async(args=args, queue=settings.VOX_JOBS_QUEUE)
        except Exception:
            # The broker is down (a Redis restart, say). The request's own work is
            # committed; failing it now would only hide that. Beat's watchdogs pick up
            # what was never queued (tasks.services.jobs_fail_stale, the counter fold).
            logger.exception("could not queue %s%r; beat will pick it up", job.name, args)
    elif mode == "eager":
        job.apply(args=args, throw=True)
    else:
        _thread_pool().submit(_run_in_thread, job, args)


def _thread_pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        # One worker: SQLite has one writer at a time anyway.
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vox-job")
    return _executor


def _run_in_thread(job, args) -> None:
    close_old_connections()
    try:
        job.apply(args=args)
    except Exception:
        logger.exception("job %s%r failed", job.name, args)
    finally:
        # Jobs are rare in embedded mode: don't keep a connection idling in this thread.
        connections.close_all()
