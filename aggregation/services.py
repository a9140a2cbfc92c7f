"""Aggregation runs: request, execute (safe to redeliver), and the automatic triggers.

A run moves queued -> running -> done | failed. Its results become the project's current
aggregate in the same transaction that marks it done, so a reader (the export) sees either
the previous complete result set or the new one, never a partial one.
"""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from aggregation import methods
from aggregation.loading import annotation_arrays
from aggregation.models import AggregationRun, AggregationSettings, ItemResult
from config.jobs import enqueue
from raters.models import Membership
from tasks import kinds
from tasks.models import Item, Project

logger = logging.getLogger(__name__)
Status = AggregationRun.Status
Phase = AggregationRun.Phase

# A parameter only the test suite sets (the API refuses it): on the first delivery, sleep this
# long while fitting (heartbeating), so that a test can kill the worker mid-run.
TEST_DELAY = "_test_delay_s"


class AggregationRejected(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def aggregation_settings_for(project) -> AggregationSettings:
    """The project's settings row, created with the defaults on first use."""
    obj, _ = AggregationSettings.objects.get_or_create(project_id=_pk(project))
    return obj


def aggregation_settings_update(*, project: Project, **fields) -> AggregationSettings:
    """Change a project's aggregation settings (subjective flag, default method, triggers)."""
    obj = aggregation_settings_for(project)
    if "method" in fields and fields["method"]:
        _check(project, fields["method"], fields.get("parameters", obj.parameters))
    for key, value in fields.items():
        setattr(obj, key, value)
    obj.save()
    return obj


def _pk(project) -> int:
    return project.pk if isinstance(project, Project) else int(project)


def _check(project: Project, method: str, parameters) -> dict:
    try:
        return methods.check_method(project.kind, method, parameters)
    except methods.MethodError as exc:
        raise AggregationRejected(exc.field, exc.message) from None


def aggregation_run_request(
    *,
    project: Project,
    method: str | None = None,
    parameters: dict | None = None,
    trigger: str = AggregationRun.Trigger.MANAGER,
    user=None,
    internal_parameters: dict | None = None,
) -> AggregationRun:
    """Queue a run of ``method`` (the project's default when None) and enqueue its job.

    Debounced by the database: at most one queued run per project and method. A request
    while one is queued returns that run instead of adding another.
    """
    conf = aggregation_settings_for(project)
    method = (
        method or conf.method or methods.default_method(project.kind, subjective=conf.subjective)
    )
    params = _check(project, method, conf.parameters if parameters is None else parameters)
    params.update(internal_parameters or {})
    try:
        with transaction.atomic():
            run = AggregationRun.objects.create(
                project=project,
                method=method,
                parameters=params,
                trigger=trigger,
                requested_by=user,
            )
    except IntegrityError:
        run = AggregationRun.objects.filter(
            project=project, method=method, status=Status.QUEUED
        ).first()
        if run is not None:
            return run
        # The queued run started in between; queue a fresh one behind it.
        return aggregation_run_request(
            project=project, method=method, parameters=parameters, trigger=trigger, user=user
        )
    from aggregation import jobs

    enqueue(jobs.aggregation_run_execute, run.pk)
    return run


def aggregation_note_new_annotations(project_id: int, n: int = 1) -> None:
    """The submit hook: count ``n`` new annotations, after the caller's transaction commits.

    Deferred with on_commit so that the counter's row lock is held for one statement, not
    for the rest of the submit transaction: concurrent submitters of one project would
    otherwise queue behind each other on this row. Outside a transaction it runs at once.
    """
    transaction.on_commit(lambda: aggregation_annotations_count(project_id, n))


def aggregation_annotations_count(project_id: int, n: int = 1) -> bool:
    """Add ``n`` to the project's counter and queue a run once it reaches N; True if queued.

    One UPDATE in the common case; a second, conditional UPDATE claims the threshold so that
    two concurrent callers cannot both queue. The queued-run constraint debounces further.
    """
    counted = AggregationSettings.objects.filter(project_id=project_id).update(
        pending_annotations=F("pending_annotations") + n
    )
    if not counted:
        aggregation_settings_for(project_id)
        AggregationSettings.objects.filter(project_id=project_id).update(
            pending_annotations=F("pending_annotations") + n
        )
    last_run = _last_run_at(project_id)
    if _too_soon(last_run):
        return False  # the count stands; a call after the gap fires it
    # A project's first run comes early, after VOX_AGGREGATION_FIRST_RUN labels, so that a
    # fresh project's exports and dashboards show results long before the first threshold.
    threshold = Q(pending_annotations__gte=F("run_every_annotations"))
    if last_run is None and settings.VOX_AGGREGATION_FIRST_RUN:
        threshold |= Q(pending_annotations__gte=settings.VOX_AGGREGATION_FIRST_RUN)
    fired = (
        AggregationSettings.objects.filter(project_id=project_id, run_every_annotations__gt=0)
        .filter(threshold)
        .update(pending_annotations=0)
    )
    if not fired:
        return False
    project = Project.objects.get(pk=project_id)
    if project.kind not in methods.METHODS_BY_KIND:
        return False
    aggregation_run_request(project=project, trigger=AggregationRun.Trigger.ANNOTATIONS)
    return True


def _last_run_at(project_id: int):
    """When the project's last run was asked for, or None if it never had one (one query)."""
    return (
        AggregationRun.objects.filter(project_id=project_id)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def _too_soon(last_run) -> bool:
    """Whether the last run was asked for less than VOX_AGGREGATION_MIN_GAP_S ago.

    At hundreds of labels a second the count alone would start a run every few seconds,
    each one reading every label of the project again; a fresh result a minute apart is as
    useful, and the annotators' queue keeps the machine.
    """
    gap = settings.VOX_AGGREGATION_MIN_GAP_S
    if not gap or last_run is None:
        return False
    return last_run > timezone.now() - timedelta(seconds=gap)


def aggregation_schedule_due() -> int:
    """Queue a run for every project on the schedule with annotations since its last run.

    Beat calls this; returns how many runs were queued.
    """
    due = AggregationSettings.objects.filter(run_on_schedule=True, pending_annotations__gt=0)
    queued = 0
    for conf in due.select_related("project"):
        if conf.project.kind not in methods.METHODS_BY_KIND:
            continue
        AggregationSettings.objects.filter(pk=conf.pk).update(pending_annotations=0)
        aggregation_run_request(project=conf.project, trigger=AggregationRun.Trigger.SCHEDULE)
        queued += 1
    return queued


def aggregation_runs_fail_lost() -> int:
    """Fail runs that no worker will ever take up again, so none stays queued or running
    for ever; beat calls this every minute. A worker that dies mid-run leaves its job with
    the broker, which redelivers it after the visibility timeout (VOX_JOB_VISIBILITY_S),
    and the redelivery takes the run over (`_claim`); only past that and the heartbeat's
    staleness is the job itself gone (a broker restarted without persistence, say)."""
    grace = timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        + settings.VOX_AGGREGATION_STALE_S
    )
    cutoff = timezone.now() - grace
    lost = AggregationRun.objects.filter(
        Q(status=Status.RUNNING, heartbeat_at__lt=cutoff)
        | Q(status=Status.QUEUED, created_at__lt=cutoff)
    )
    failed = 0
    for run_id in lost.values_list("pk", flat=True):
        _fail(run_id, "its job was lost with its worker or the broker; start the run again")
        failed += 1
    return failed


# --- Execution ------------------------------------------------------------------------------


def _progress(run_id: int, phase: str, percent: int) -> None:
    # Outside any transaction, so that the API shows the phase while the run goes on.
    AggregationRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
        phase=phase, percent=percent, heartbeat_at=timezone.now()
    )


def _claim(run_id: int) -> bool:
    """Take the run: queued, or running with a heartbeat too old for a live worker.

    The filtered update is atomic, so of two deliveries of the same job only one proceeds.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.VOX_AGGREGATION_STALE_S)
    claimable = Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale)
    return bool(
        AggregationRun.objects.filter(claimable, pk=run_id, attempts__lt=_max_attempts()).update(
            status=Status.RUNNING,
            phase=Phase.LOADING,
            percent=0,
            attempts=F("attempts") + 1,
            heartbeat_at=now,
            started_at=now,
            error="",
        )
    )


def _max_attempts() -> int:
    return settings.VOX_AGGREGATION_MAX_ATTEMPTS


def _fail(run_id: int, reason: str) -> None:
    AggregationRun.objects.filter(pk=run_id).exclude(status=Status.DONE).update(
        status=Status.FAILED, error=reason[:2000], finished_at=timezone.now()
    )


def aggregation_run_execute(*, run_id: int, then_score: bool = True) -> None:
    """Run one aggregation; harmless when delivered twice or after a lost worker.

    1. Claim the run with a filtered update; a finished run, or one a live worker holds,
       is left alone. A run whose workers were lost ``VOX_AGGREGATION_MAX_ATTEMPTS`` times
       is marked failed with that reason.
    2. Load the project's non-gold annotations into arrays and fit.
    3. In one transaction: write the results, make the run current, mark it done.
    Errors in the data or the fit mark the run failed with the reason; database outages
    put it back in the queue and re-raise, so the job's retry picks it up. A finished run
    enqueues the rater-scoring job unless ``then_score`` is False.
    """
    if not _claim(run_id):
        stuck = AggregationRun.objects.filter(
            pk=run_id, status=Status.RUNNING, attempts__gte=_max_attempts()
        ).filter(
            heartbeat_at__lt=timezone.now() - timedelta(seconds=settings.VOX_AGGREGATION_STALE_S)
        )
        if stuck.exists():
            _fail(
                run_id,
                f"the worker running it was lost; gave up after {_max_attempts()} attempt(s)",
            )
        return
    run = AggregationRun.objects.select_related("project").get(pk=run_id)
    try:
        _execute(run)
    except OperationalError:
        AggregationRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=Status.QUEUED, phase=Phase.QUEUED
        )
        raise
    except Exception as exc:
        logger.exception("aggregation run %s failed", run_id)
        _fail(run_id, f"{type(exc).__name__}: {exc}")
        return
    if then_score:
        from aggregation import jobs

        enqueue(jobs.rater_scores_compute, run.project_id)


def _execute(run: AggregationRun) -> None:
    project = run.project
    conf = aggregation_settings_for(project)
    timings = {}
    t0 = time.perf_counter()
    params = dict(run.parameters)
    delay = float(params.pop(TEST_DELAY, 0) or 0)
    if run.attempts > 1:
        delay = 0.0  # the delay stands for a worker lost mid-run; its redelivery runs through
    label_kind = kinds.get(project.kind)
    labels = (
        list(project_annotations_rows(project))
        if label_kind.loads_rows
        else annotation_arrays(project)
    )
    timings["load_s"] = round(time.perf_counter() - t0, 3)
    _progress(run.pk, Phase.FITTING, 30)
    _test_delay(run.pk, delay)
    t1 = time.perf_counter()
    raters = None if label_kind.loads_rows else rater_info(project, labels.rater_ids)
    extra = {"models": item_models(project)} if label_kind.wants_item_models else {}
    if label_kind.reads_item_fields:
        extra["items"] = item_fields(project, label_kind.reads_item_fields)
    fit = methods.fit(
        project.kind,
        project.schema,
        labels,
        run.method,
        params,
        raters,
        subjective=conf.subjective,
        extra_data=extra,
    )
    timings["fit_s"] = round(time.perf_counter() - t1, 3)
    _progress(run.pk, Phase.WRITING, 70)
    t2 = time.perf_counter()
    stats = {
        **fit.stats,
        "n_items": int(len(fit.item_ids)),
        "n_annotations": None if label_kind.loads_rows else int(np.sum(fit.n_votes)),
        "subjective": conf.subjective,
    }
    with transaction.atomic():
        # Lock the run row: if another delivery took the run over (this worker was presumed
        # lost), only one of the two may finish it.
        locked = (
            AggregationRun.objects.select_for_update()
            .filter(pk=run.pk, status=Status.RUNNING, attempts=run.attempts)
            .exists()
        )
        if not locked:
            return
        ItemResult.objects.filter(run=run).delete()
        _write_results(run.pk, fit)
        AggregationRun.objects.filter(project=project, is_current=True).update(is_current=False)
        timings["write_s"] = round(time.perf_counter() - t2, 3)
        timings["total_s"] = round(time.perf_counter() - t0, 3)
        queue_after_run(project, run.pk, fit)
        AggregationRun.objects.filter(pk=run.pk).update(
            status=Status.DONE,
            phase=Phase.DONE,
            percent=100,
            is_current=True,
            finished_at=timezone.now(),
            timings=timings,
            stats=stats,
            error="",
        )


def _test_delay(run_id: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(0.2, max(0.0, end - time.monotonic())))
        _progress(run_id, Phase.FITTING, 40)


def project_annotations_rows(project):
    from annotation.models import Annotation

    return (
        Annotation.objects.filter(project=project, item__is_gold=False)
        .values_list("item_id", "rater_id", "value")
        .iterator(chunk_size=10_000)
    )


def rater_info(project: Project, rater_ids: np.ndarray) -> methods.RaterInfo:
    """Gold counts per rater code, from the memberships (one query)."""
    pos = {int(r): k for k, r in enumerate(rater_ids)}
    gold_n = np.zeros(rater_ids.size)
    gold_sum = np.zeros(rater_ids.size)
    rows = Membership.objects.filter(project=project).values_list(
        "user_id", "gold_n", "gold_score_sum"
    )
    for user_id, n, s in rows:
        if user_id in pos:
            gold_n[pos[user_id]] = n
            gold_sum[pos[user_id]] = s
    return methods.RaterInfo(gold_n=gold_n, gold_score_sum=gold_sum)


def item_models(project: Project) -> dict:
    """{item_id: (model, ...)} for items whose meta names the models behind their responses:
    `model_a` and `model_b` (pairwise), or `models`, one per response in stored order
    (ranking). Names are untrusted text: pages escape them."""
    rows = (
        Item.objects.filter(project=project, is_gold=False)
        .filter(Q(meta__has_key="model_a") | Q(meta__has_key="models"))
        .values_list("id", "meta__model_a", "meta__model_b", "meta__models")
    )
    out = {}
    for i, a, b, many in rows.iterator(chunk_size=10_000):
        if a and b:
            out[i] = (str(a), str(b))
        elif isinstance(many, list) and many and all(isinstance(m, str) and m for m in many):
            out[i] = tuple(many)
    return out


def item_fields(project: Project, fields: tuple[str, ...]) -> dict:
    """{item_id: {field: value}} of the live items, for kinds whose figures read them."""
    if not fields:
        return {}
    rows = Item.objects.filter(project=project, is_gold=False).values_list("id", "data")
    return {
        i: {f: data.get(f) for f in fields}
        for i, data in rows.iterator(chunk_size=10_000)
        if isinstance(data, dict)
    }


def item_results_agreement_set(run_id: int, agreement: dict[int, float]) -> None:
    """Write each item's raw agreement into its result of the run (see ItemResult.agreement).

    One statement on PostgreSQL (the pairs travel as two arrays), so 10⁶ items cost one
    round trip; batches of updates elsewhere. Items the run has no result for are left out.
    """
    if not agreement:
        return
    item_ids = list(agreement)
    values = [agreement[i] for i in item_ids]
    table = ItemResult._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS r SET agreement = v.a "
                "FROM unnest(%s::bigint[], %s::float8[]) AS v(item_id, a) "
                "WHERE r.run_id = %s AND r.item_id = v.item_id",
                [item_ids, values, run_id],
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET agreement = %s WHERE run_id = %s AND item_id = %s",
            [(a, run_id, i) for i, a in zip(item_ids, values, strict=True)],
        )


def _write_results(run_id: int, fit: methods.Fit) -> None:
    n = len(fit.item_ids)
    extra = fit.extra or [{}] * n
    dumps = json.dumps
    if connection.vendor == "postgresql":
        # COPY is several times faster than INSERTs for a million rows; it runs inside the
        # surrounding transaction like any statement.
        buf = io.StringIO()
        for k in range(n):
            conf = fit.confidence[k]
            fields = (
                str(run_id),
                str(int(fit.item_ids[k])),
                dumps(fit.label[k]),
                "\\N" if conf is None else repr(conf),
                dumps(fit.distribution[k]),
                repr(float(fit.n_votes[k])),
                dumps(extra[k]),
            )
            # JSON never holds raw tabs or newlines; backslashes are COPY's escape character.
            buf.write("\t".join(f.replace("\\", "\\\\") if f != "\\N" else f for f in fields))
            buf.write("\n")
        buf.seek(0)
        table = ItemResult._meta.db_table
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} (run_id, item_id, label, confidence, distribution, n_votes, "
                "extra) FROM STDIN",
                buf,
            )
        return
    batch = []
    for k in range(n):
        batch.append(
            ItemResult(
                run_id=run_id,
                item_id=int(fit.item_ids[k]),
                label=fit.label[k],
                confidence=fit.confidence[k],
                distribution=fit.distribution[k],
                n_votes=float(fit.n_votes[k]),
                extra=extra[k],
            )
        )
        if len(batch) >= 5000:
            ItemResult.objects.bulk_create(batch)
            batch = []
    ItemResult.objects.bulk_create(batch)


def queue_after_run(project: Project, run_id: int, fit: methods.Fit) -> None:
    """What a run changes in the queue, in the run's transaction: with dynamic overlap it
    reopens, up to the overlap, the settled items it finds unsure; with uncertainty-first
    order it writes every item's queue level in one statement."""
    from aggregation.numeric.overlap import LEVEL_DONE, LEVEL_UNLABELLED
    from annotation.queue import settle
    from quality.selectors import policy_for

    policy = policy_for(project)
    # Single choice reopens in the rater scores that follow the run, on the stop rule's own
    # posterior with the raters' new matrices (aggregation.scoring); the other kinds on the
    # run's confidence.
    if settle.dynamic(policy) and kinds.get(project.kind).stop_rule != "categorical":
        settle.reopen(
            project,
            [
                int(i)
                for i, c in zip(fit.item_ids, fit.confidence, strict=True)
                if c is not None and c < policy.confidence_target
            ],
        )
    if policy.queue_order != "uncertainty":
        return
    ids, levels = _queue_levels(project, fit)
    table = Item._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: items the run saw get their band, the rest (no labels yet) the
            # top level, finished ones the bottom; unchanged rows are not rewritten.
            cursor.execute(
                f"""UPDATE {table} i SET priority = x.level FROM (
                    SELECT i2.id, CASE WHEN i2.settled OR i2.n_done >= %s THEN {LEVEL_DONE}
                                       ELSE COALESCE(u.level, {LEVEL_UNLABELLED}) END AS level
                    FROM {table} i2
                    LEFT JOIN unnest(%s::bigint[], %s::int[]) AS u(id, level) ON u.id = i2.id
                    WHERE i2.project_id = %s AND NOT i2.is_gold) x
                WHERE i.id = x.id AND i.priority <> x.level""",  # noqa: S608
                [project.overlap, ids, levels, project.pk],
            )
            return
        level_of = dict(zip(ids, levels, strict=True))
        for pk, n_done, settled, priority in Item.objects.filter(
            project=project, is_gold=False
        ).values_list("pk", "n_done", "settled", "priority"):
            level = (
                LEVEL_DONE
                if settled or n_done >= project.overlap
                else level_of.get(pk, LEVEL_UNLABELLED)
            )
            if level != priority:
                Item.objects.filter(pk=pk).update(priority=level)


def _queue_levels(project: Project, fit: methods.Fit) -> tuple[list[int], list[int]]:
    """(item ids, queue levels) of uncertainty-first order (aggregation.numeric.overlap):
    the run's items by the aggregate's uncertainty (pairwise: the width of the interval for
    P(A beats B) from the votes), and the unlabelled items the model run in use predicted by
    the model's uncertainty, above them. Items in neither get the top level."""
    from aggregation.numeric import overlap
    from modelruns.models import ModelPrediction
    from modelruns.selectors import model_run_in_use

    label_kind = kinds.get(project.kind)
    ids = [int(i) for i in fit.item_ids]
    levels: list[int] = []
    if ids:
        labels = sorted({k for d in fit.distribution for k in (d or {})})
        if label_kind.stop_rule == "pairwise":
            n = np.asarray(fit.n_votes, dtype=float)
            share = {k: np.array([(d or {}).get(k, 0.0) for d in fit.distribution]) for k in "AB"}
            ties = 1.0 - share["A"] - share["B"]
            u = overlap.pairwise_uncertainty(
                share["A"] * n, share["B"] * n, np.maximum(ties, 0) * n
            )
        elif len(labels) >= 2:
            post = np.array([[(d or {}).get(k, 0.0) for k in labels] for d in fit.distribution])
            post = post / np.maximum(post.sum(axis=1, keepdims=True), 1e-12)
            u = overlap.categorical_uncertainty(post)
        else:
            u = np.ones(len(ids))
        levels = [int(v) for v in overlap.uncertainty_levels(u)]
    model = model_run_in_use(project)
    if model is not None:
        seen = set(ids)
        rows = [
            (item_id, probs)
            for item_id, probs in ModelPrediction.objects.filter(run=model).values_list(
                "item_id", "probs"
            )
            if item_id not in seen
        ]
        if rows and len(rows[0][1]) >= 2:
            u = overlap.categorical_uncertainty(np.array([p for _, p in rows], dtype=float))
            ids += [item_id for item_id, _ in rows]
            levels += [overlap.LEVEL_MODEL + int(v) for v in overlap.uncertainty_levels(u)]
    return ids, levels
