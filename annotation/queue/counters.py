"""Project counters, and what runs after every submit, off the request path.

Each submit adds to a per-rater `CounterShard` row; `counters_fold` moves those counts
into `Project`. The same job scores new gold answers and runs the trust rules that are
due (quality.services), so a gold answer costs the request exactly what a live one does.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from aggregation.services import aggregation_note_new_annotations
from annotation.models import CounterShard
from config import rows
from tasks.models import Project

logger = logging.getLogger(__name__)


def _fold_sql(*, one_project: bool) -> str:
    shards, projects = CounterShard._meta.db_table, Project._meta.db_table
    # Shards that a submit holds are skipped (the next fold takes them), and the ones taken
    # are locked for this one statement only.
    which = "project_id = %(project)s AND" if one_project else ""
    return f"""
        WITH taken AS (
            SELECT id, project_id, n_annotations, n_complete FROM {shards}
            WHERE {which} (n_annotations <> 0 OR n_complete <> 0) FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE {shards} s SET n_annotations = s.n_annotations - t.n_annotations,
                                  n_complete = s.n_complete - t.n_complete
            FROM taken t WHERE s.id = t.id
            RETURNING t.project_id, t.n_annotations, t.n_complete
        ), totals AS (
            SELECT project_id, SUM(n_annotations) AS n_annotations,
                   SUM(n_complete) AS n_complete, COUNT(*) AS n_shards
            FROM moved GROUP BY project_id
        ), added AS (
            UPDATE {projects} p SET n_annotations = p.n_annotations + t.n_annotations,
                                    n_complete = p.n_complete + t.n_complete
            FROM totals t WHERE p.id = t.project_id RETURNING p.id
        )
        SELECT t.project_id, t.n_annotations, t.n_shards FROM totals t
        JOIN added a ON a.id = t.project_id
    """  # noqa: S608 - names come from the models, values are parameters


FOLD_PROJECT = rows.statement("fold_project")(lambda: _fold_sql(one_project=True))
FOLD_ALL = rows.statement("fold_all")(lambda: _fold_sql(one_project=False))


def counters_fold(*, project_id: int | None = None) -> int:
    """Move the shards' pending counts into Project. Returns how many shards it moved.

    Running it twice, or while submits go on, never loses or doubles a count: each shard
    is locked, added to its project, and reduced by exactly what was added. Shards that
    submits hold locked at that moment wait for the next fold (the beat runs one every 30 s).
    """
    if connection.vendor == "postgresql":
        return _counters_fold_statement(project_id)
    shards = CounterShard.objects.exclude(n_annotations=0, n_complete=0)
    if project_id is not None:
        shards = shards.filter(project_id=project_id)
    with transaction.atomic():
        # A shard that a submit holds is left for the next fold: waiting for it would make
        # every later submit to the shards already locked here wait too.
        shard_rows = list(shards.select_for_update(skip_locked=True).order_by("id"))
        totals: dict[int, list[int]] = {}
        for shard in shard_rows:
            total = totals.setdefault(shard.project_id, [0, 0])
            total[0] += shard.n_annotations
            total[1] += shard.n_complete
            shard.n_annotations = F("n_annotations") - shard.n_annotations
            shard.n_complete = F("n_complete") - shard.n_complete
        # One statement for all shards: submits wait on a locked shard, so the locks are
        # held for two round trips, not one per shard.
        CounterShard.objects.bulk_update(shard_rows, ["n_annotations", "n_complete"])
        for pid, (n_annotations, n_complete) in totals.items():
            Project.objects.filter(pk=pid).update(
                n_annotations=F("n_annotations") + n_annotations,
                n_complete=F("n_complete") + n_complete,
            )
            if n_annotations > 0:
                # New labels count towards the next aggregation run here, not in each
                # submit: that counter is one row per project, which every concurrent
                # submit would otherwise wait on.
                aggregation_note_new_annotations(pid, n_annotations)
    return len(shard_rows)


def _counters_fold_statement(project_id: int | None) -> int:
    with connection.cursor() as cursor:
        if project_id is None:
            rows.execute(cursor, FOLD_ALL, [])
        else:
            rows.execute(cursor, FOLD_PROJECT, {"project": project_id})
        folded = cursor.fetchall()
    for pid, n_annotations, _ in folded:
        if n_annotations > 0:
            aggregation_note_new_annotations(pid, int(n_annotations))
    return sum(int(n) for _, _, n in folded)


def after_submits(*, project_id: int | None = None) -> int:
    """The job after submits: fold the counters, score new gold answers, run due trust
    checks. Harmless to run twice or concurrently with submits."""
    from quality.services import gold_answers_score, trust_checks_run

    folded = counters_fold(project_id=project_id)
    gold_answers_score(project_id=project_id)
    trust_checks_run(project_id=project_id)
    return folded


_last_run: dict[int, float] = {}
RUN_EVERY_S = 1.0


def after_submit(project_id: int) -> bool:
    """Ask for `after_submits` after a submit or an undo, gold or live alike: embedded, on
    the job thread after the commit; with Celery, at most once a second per process and
    project (the beat job catches what falls between). True when it ran work inline that
    may have changed the rater's seat (a stage, their leases)."""
    from annotation import jobs

    if settings.VOX_JOBS != "celery":
        from config.jobs import enqueue

        if settings.VOX_JOBS == "eager":
            # Tests run jobs inline, but on commit, which a test's own transaction never
            # reaches: the gold scoring and the trust rules run at once there, so tests can
            # pin the answer that triggers them (running them again later is harmless).
            from quality.services import gold_answers_score, trust_checks_run

            scored = gold_answers_score(project_id=project_id)
            ran = trust_checks_run(project_id=project_id)
            enqueue(jobs.after_submits, project_id)
            return bool(scored or ran)
        enqueue(jobs.after_submits, project_id)
    else:
        now = time.monotonic()
        if now - _last_run.get(project_id, 0.0) < RUN_EVERY_S:
            return False
        _last_run[project_id] = now
        try:
            jobs.after_submits.apply_async(
                args=[project_id], countdown=RUN_EVERY_S, queue=settings.VOX_JOBS_QUEUE
            )
        except Exception:
            # The broker is down: the submit stands, and beat's run of the job folds it.
            logger.warning("could not queue after_submits for project %s", project_id)
    return False
