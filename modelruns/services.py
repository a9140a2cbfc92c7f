"""Writes of model runs: uploads checked all or nothing, big ones loaded in a job, and Vox's
own noisy cross-validation run."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.jobs import enqueue
from modelruns import parsing
from modelruns.models import ModelPrediction, ModelRun
from tasks import kinds
from tasks.models import Item, Project

logger = logging.getLogger(__name__)

# Uploads with more lines than this load in a job with progress; smaller ones at once, so a
# script gets its errors in the response.
SYNC_MAX_LINES = 5_000
WRITE_BATCH = 2_000
NOISY_CV_NAME = "vox-noisy-cv"


class ModelRunRejected(ValueError):
    """The upload was refused; `errors` are UploadErrors naming line and field."""

    def __init__(self, errors: list):
        super().__init__("; ".join(f"line {e.line}, {e.field}: {e.message}" for e in errors))
        self.errors = errors


def model_labels(project: Project) -> list[str]:
    """The labels a model's probabilities range over, in the schema's order; refuses kinds
    whose items are not classified one label out of K."""
    kind = kinds.get(project.kind)
    if not kind.item_classes:
        takes = [kinds.get(name) for name in kinds.KINDS]
        names = ", ".join(k.label.lower() for k in takes if k.item_classes)
        raise ModelRunRejected(
            [
                parsing.UploadError(
                    0,
                    "project",
                    f"{kind.label} projects take no model runs: they need one label per item "
                    f"out of the schema's labels ({names})",
                )
            ]
        )
    return kind.aggregate_labels(project.schema)


def _count_lines(upload) -> int:
    n = 0
    for chunk in upload.chunks():
        n += chunk.count(b"\n")
    upload.seek(0)
    return n + 1


def model_run_upload(
    *,
    project: Project,
    user,
    name: str,
    version: str = "",
    file,
    ids_file=None,
    epochs_file=None,
    id_field: str = "item_id",
) -> ModelRun:
    """Store an upload of probabilities and load it: at once up to SYNC_MAX_LINES lines, in
    a job beyond. JSONL in `file`, or a .npy array in `file` with `ids_file` (and optional
    `epochs_file`). A refused small upload raises ModelRunRejected and leaves nothing; a
    refused big one leaves its run failed with the errors, and no predictions."""
    labels = model_labels(project)
    is_npy = Path(file.name).suffix.lower() == ".npy"
    if is_npy and ids_file is None:
        raise ModelRunRejected(
            [parsing.UploadError(0, "ids_file", "is required with a .npy array")]
        )
    if id_field not in ("item_id", "external_id"):
        raise ModelRunRejected(
            [parsing.UploadError(0, "id_field", "must be item_id or external_id")]
        )
    if not name.strip():
        raise ModelRunRejected([parsing.UploadError(0, "name", "is required")])
    n_lines = _count_lines(ids_file if is_npy else file)
    run = ModelRun(
        project=project,
        name=name.strip()[:200],
        version=version.strip()[:100],
        created_by=user,
        labels=labels,
        id_field=id_field,
    )
    run.file.save(Path(file.name).name, file, save=False)
    if is_npy:
        run.ids_file.save(Path(ids_file.name).name, ids_file, save=False)
        if epochs_file is not None:
            run.epochs_file.save(Path(epochs_file.name).name, epochs_file, save=False)
    run.save()
    if n_lines > SYNC_MAX_LINES:
        from modelruns import jobs

        enqueue(jobs.model_run_load, run.pk)
        return run
    model_run_load(run_id=run.pk)
    run.refresh_from_db()
    if run.status == ModelRun.Status.FAILED:
        errors = [parsing.UploadError(**e) for e in run.errors]
        run.delete()
        raise ModelRunRejected(errors)
    return run


def _claim(run_id: int) -> bool:
    """Take a queued run, or one whose worker stopped moving it (redelivered)."""
    stale = timezone.now() - timedelta(seconds=settings.VOX_JOB_STALE_S)
    claimable = Q(pk=run_id) & (
        Q(status=ModelRun.Status.QUEUED)
        | Q(status=ModelRun.Status.RUNNING)
        & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
    )
    return bool(
        ModelRun.objects.filter(claimable).update(
            status=ModelRun.Status.RUNNING, attempts=F("attempts") + 1, heartbeat_at=timezone.now()
        )
    )


def _progress(run_id: int, percent: int) -> None:
    ModelRun.objects.filter(pk=run_id).update(percent=percent, heartbeat_at=timezone.now())


def _drop_files(run: ModelRun) -> None:
    for f in (run.file, run.ids_file, run.epochs_file):
        if f:
            f.delete(save=False)
    ModelRun.objects.filter(pk=run.pk).update(file="", ids_file="", epochs_file="")


def _fail(run: ModelRun, errors: list) -> None:
    # Running only: a run another delivery finished meanwhile keeps its result.
    ModelRun.objects.filter(pk=run.pk, status=ModelRun.Status.RUNNING).update(
        status=ModelRun.Status.FAILED,
        errors=[e.as_dict() for e in errors],
        finished_at=timezone.now(),
    )
    _drop_files(run)


def model_run_load(*, run_id: int) -> None:
    """Check a stored upload and save its predictions in one transaction; any error saves
    none. Safe to run twice: a finished run is left alone, and a redelivered one replaces
    what a lost worker may have begun."""
    if not _claim(run_id):
        return
    run = ModelRun.objects.select_related("project").get(pk=run_id)
    try:
        parsed = _parse(run)
        _progress(run.pk, 40)
        # Unknown items are reported beside the other errors, so one round of fixes does.
        item_ids = _resolve(run.project, parsed)
        if parsed.errors:
            _fail(run, parsed.errors)
            return
        _progress(run.pk, 60)
        saved = _save(run, item_ids, parsed.probs, parsed.epochs)
    except OperationalError:
        raise
    except Exception as exc:
        logger.exception("model run %s stopped", run_id)
        _fail(run, [parsing.UploadError(0, "(job)", f"stopped on an internal error ({exc})")])
        return
    if saved:
        _drop_files(run)


def _parse(run: ModelRun) -> parsing.Parsed:
    labels = list(run.labels)
    if not run.ids_file:
        with run.file.open("rb") as fh:
            return parsing.parse_jsonl(fh, labels)
    with run.file.open("rb") as fh, run.ids_file.open("rb") as ids:
        if run.epochs_file:
            with run.epochs_file.open("rb") as epochs:
                return parsing.parse_npy(fh, ids, labels, id_field=run.id_field, epochs_fh=epochs)
        return parsing.parse_npy(fh, ids, labels, id_field=run.id_field)


def _resolve(project: Project, parsed: parsing.Parsed) -> list[int]:
    """Database ids of the referenced items, in row order; unknown or repeated ones are
    errors naming their line."""
    by_pk = {v for field, v in parsed.refs if field == "item_id"}
    by_ext = {v for field, v in parsed.refs if field == "external_id"}
    items = Item.objects.filter(project=project)
    known_pk = set(items.filter(pk__in=by_pk).values_list("pk", flat=True)) if by_pk else set()
    ext_to_pk = (
        dict(items.filter(external_id__in=by_ext).values_list("external_id", "pk"))
        if by_ext
        else {}
    )
    out, first_line = [], {}
    for (field, value), line in zip(parsed.refs, parsed.lines, strict=True):
        if field == "item_id":
            pk = value if value in known_pk else None
        else:
            pk = ext_to_pk.get(value)
        if pk is None:
            parsed.error(line, field, f"{value!r} is not an item of this project")
            continue
        if pk in first_line:
            parsed.error(line, field, f"repeats the item of line {first_line[pk]}")
            continue
        first_line[pk] = line
        out.append(pk)
    if not out and not parsed.errors:
        parsed.error(0, "file", "holds no predictions")
    return out


def _save(run: ModelRun, item_ids: list[int], probs: np.ndarray, epochs) -> bool:
    """Replace the run's predictions and finish it; False if another delivery owns it.
    `epochs` may cover only the first rows (the items a model trained on): the rest keep
    none, since training dynamics of an item the model never learned mean nothing."""
    rows = probs.tolist()
    per_item = epochs.transpose(1, 0, 2).tolist() if epochs is not None else None
    if per_item is not None:
        per_item += [None] * (len(rows) - len(per_item))
    with transaction.atomic():
        # Lock the run: a second delivery that took it over must not write beside this one.
        # attempts as claimed: a delivery that took over from this one (presumed lost by the
        # watchdog) bumped it, and then only that one finishes the run.
        locked = ModelRun.objects.select_for_update().filter(
            pk=run.pk, status=ModelRun.Status.RUNNING, attempts=run.attempts
        )
        if not locked.exists():
            return False
        ModelPrediction.objects.filter(run=run).delete()
        ModelPrediction.objects.bulk_create(
            (
                ModelPrediction(
                    run=run,
                    item_id=pk,
                    probs=rows[r],
                    epochs=per_item[r] if per_item is not None else None,
                )
                for r, pk in enumerate(item_ids)
            ),
            batch_size=WRITE_BATCH,
        )
        ModelRun.objects.filter(pk=run.pk).update(
            status=ModelRun.Status.DONE,
            percent=100,
            n_items=len(item_ids),
            n_epochs=0 if epochs is None else int(epochs.shape[0]),
            errors=[],
            finished_at=timezone.now(),
        )
    return True


# --- Vox's own noisy cross-validation --------------------------------------------------------


def model_run_pin(*, project: Project, run: ModelRun | None) -> ModelRun | None:
    """Make `run` (a finished run of the project) the one suggestions, suspects and the
    uncertainty-first queue read, or with None go back to the latest. One pinned run per
    project: pinning one unpins the others in the same transaction."""
    if run is not None and (run.project_id != project.pk or run.status != ModelRun.Status.DONE):
        raise ModelRunRejected([parsing.UploadError(0, "run", "only a finished run can be pinned")])
    with transaction.atomic():
        ModelRun.objects.filter(project=project, pinned=True).update(pinned=False)
        if run is not None:
            ModelRun.objects.filter(pk=run.pk).update(pinned=True)
            run.pinned = True
    return run


def noisy_cv_request(*, project: Project, user) -> ModelRun:
    """Queue Vox's own cross-validated model over the current aggregate labels."""
    labels = model_labels(project)
    run = ModelRun.objects.create(
        project=project,
        name=NOISY_CV_NAME,
        version=timezone.now().strftime("%Y-%m-%d %H:%M"),
        source=ModelRun.Source.NOISY_CV,
        created_by=user,
        labels=labels,
    )
    from modelruns import jobs

    enqueue(jobs.noisy_cv_run, run.pk)
    return run


def noisy_cv_run(*, run_id: int) -> None:
    """Fit the cross-validated TF-IDF model (modelruns.cv) on the current aggregate labels
    and save its out-of-fold and per-epoch probabilities as the run's predictions. The kind
    names the learner (a classifier of the item's text, or of which response is better).
    Safe to run twice, as model_run_load."""
    from modelruns.cv import LEARNERS
    from modelruns.selectors import training_set

    if not _claim(run_id):
        return
    run = ModelRun.objects.select_related("project").get(pk=run_id)
    try:
        data = training_set(run.project, list(run.labels))
        if data.error:
            _fail(run, [parsing.UploadError(0, "labels", data.error)])
            return
        _progress(run.pk, 20)
        kind = kinds.get(run.project.kind)
        # Progress moves the heartbeat, so the watchdog leaves a long fit alone.
        fit = LEARNERS[kind.model_learner](
            data.examples,
            data.y,
            n_labels=len(run.labels),
            progress=lambda share: _progress(run.pk, 20 + int(60 * share)),
            **kind.model_learner_options(run.project.schema),
            extra=data.extra_examples,
        )
        _progress(run.pk, 80)
        probs, ids = fit.probs, data.item_ids
        if fit.extra_probs is not None:
            probs, ids = np.vstack([fit.probs, fit.extra_probs]), ids + data.extra_ids
        if _save(run, ids, probs, fit.epochs):
            ModelRun.objects.filter(pk=run.pk).update(stats=fit.stats)
    except OperationalError:
        raise
    except ValueError as exc:
        # The data can't be learned from (no text, one label): say so, not "internal error".
        _fail(run, [parsing.UploadError(0, "items", str(exc))])
    except Exception as exc:
        logger.exception("noisy cross-validation %s stopped", run_id)
        _fail(run, [parsing.UploadError(0, "(job)", f"stopped on an internal error ({exc})")])


def model_runs_fail_stale() -> dict:
    """Beat's watchdog, as tasks.services.jobs_fail_stale for imports: a running model run
    whose worker stopped moving it for VOX_JOB_STALE_S is queued again, or failed past
    VOX_JOB_MAX_ATTEMPTS; one left queued that long (a lost message) is queued again."""
    from modelruns import jobs

    cutoff = timezone.now() - timedelta(seconds=settings.VOX_JOB_STALE_S)
    job_of = {
        ModelRun.Source.UPLOAD: jobs.model_run_load,
        ModelRun.Source.NOISY_CV: jobs.noisy_cv_run,
    }
    stale = ModelRun.objects.filter(status=ModelRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    failed = 0
    message = parsing.UploadError(
        0,
        "(job)",
        f"the worker running this stopped (no progress for {settings.VOX_JOB_STALE_S} s) "
        f"{settings.VOX_JOB_MAX_ATTEMPTS} time(s); nothing was saved, start it again",
    )
    for run in stale.filter(attempts__gte=settings.VOX_JOB_MAX_ATTEMPTS):
        _fail(run, [message])
        failed += 1
    again = list(
        stale.filter(attempts__lt=settings.VOX_JOB_MAX_ATTEMPTS).values_list("pk", "source")
    )
    again += list(
        ModelRun.objects.filter(status=ModelRun.Status.QUEUED, created_at__lt=cutoff).values_list(
            "pk", "source"
        )
    )
    for pk, source in again:
        enqueue(job_of[source], pk)
    return {"failed": failed, "requeued": len(again)}
