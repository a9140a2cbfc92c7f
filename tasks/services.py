"""Writes for projects, members and imports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.jobs import enqueue
from raters.models import Membership
from raters.services import membership_onboard
from tasks import schema as schemas
from tasks.models import Guideline, GuidelineAck, ImportJob, Item, Project

MAX_REPORTED_ERRORS = 50
BATCH = 2000


class ImportRejected(ValueError):
    """The upload cannot be accepted at all (too large, unknown format)."""


def project_create(
    *, user, name: str, kind: str, schema: dict, instructions: str = "", overlap: int = 3
) -> Project:
    """Create a project with a validated schema; its creator becomes its manager."""
    canonical = schemas.schema_validate(kind, schema)
    if not name.strip():
        raise schemas.SchemaError("name", "is required")
    if not 1 <= overlap <= 100:
        raise schemas.SchemaError("overlap", "must be between 1 and 100")
    with transaction.atomic():
        project = Project.objects.create(
            name=name.strip(),
            kind=kind,
            schema=canonical,
            instructions=instructions,
            overlap=overlap,
            created_by=user,
        )
        Membership.objects.create(project=project, user=user, role=Membership.Role.MANAGER)
    return project


def membership_add(*, project: Project, username: str, role: str) -> Membership:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise schemas.SchemaError("username", f"no user named {username!r}")
    membership, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if created:
        membership_onboard(membership=membership)
    return membership


def guideline_publish(
    *, project: Project, user, body: str, examples: dict | None = None
) -> Guideline:
    """Publish a new guideline version; every annotator must acknowledge it before going on."""
    if not body.strip():
        raise schemas.SchemaError("body", "is required")
    examples = examples or {}
    if not isinstance(examples, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in examples.items()
    ):
        raise schemas.SchemaError("examples", "must map label values to Markdown text")
    with transaction.atomic():
        # Lock the project row so two managers publishing at once get distinct versions.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        last = project.guidelines.order_by("-version").values_list("version", flat=True).first()
        return Guideline.objects.create(
            project=project, version=(last or 0) + 1, body=body, examples=examples, created_by=user
        )


def guideline_ack(*, guideline: Guideline, user) -> GuidelineAck:
    ack, _ = GuidelineAck.objects.get_or_create(guideline=guideline, user=user)
    return ack


# --- Import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportError_:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


def import_create(*, project: Project, user, upload: UploadedFile) -> ImportJob:
    """Store the upload and queue its import; the job validates and saves it."""
    _format_of(upload.name)  # refuse unknown types before storing anything
    if upload.size > settings.VOX_IMPORT_MAX_BYTES:
        raise ImportRejected(
            f"{upload.name} is {upload.size:,} bytes; the limit is "
            f"{settings.VOX_IMPORT_MAX_BYTES:,} (VOX_IMPORT_MAX_BYTES)"
        )
    job = ImportJob(
        project=project, created_by=user, filename=upload.name[:255], size_bytes=upload.size
    )
    job.file.save(Path(upload.name).name, upload, save=False)
    job.save()
    from tasks.jobs import import_run

    enqueue(import_run, job.pk)
    return job


def _format_of(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ImportRejected(f"{filename}: unsupported file type; use .jsonl or .csv")


def import_run(*, job_id: int) -> None:
    """Validate the whole file, then save it in one transaction: any error saves nothing.

    Safe to run twice: a finished job is left alone, and external ids already in the
    project count as duplicates rather than new items.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.RUNNING)
    if not claimed:
        return
    job = ImportJob.objects.select_related("project").get(pk=job_id)
    project = job.project
    fmt = _format_of(job.filename)

    errors: list[ImportError_] = []
    seen_ids: set[str] = set()
    with job.file.open("rb") as fh:
        for record in _records(fh, fmt, project, errors, job):
            if record.external_id is not None:
                if record.external_id in seen_ids:
                    errors.append(
                        ImportError_(
                            record.line,
                            "external_id",
                            f"{record.external_id!r} appears twice in this file",
                        )
                    )
                seen_ids.add(record.external_id)
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    if errors:
        _import_finish(job, errors=errors)
        return

    existing = _existing_external_ids(project, seen_ids)
    with transaction.atomic():
        with job.file.open("rb") as fh:
            created, duplicates = items_insert(
                project=project, records=_records(fh, fmt, project, errors), skip_ids=existing
            )
        _import_finish(job, created=created, duplicates=duplicates)


def items_insert(*, project: Project, records, skip_ids=frozenset()) -> tuple[int, int]:
    """Insert validated records in batches and keep the project's item count.

    Call inside a transaction when all-or-nothing matters. Returns (created, duplicates).
    """
    created = duplicates = 0
    batch: list[Item] = []
    for record in records:
        if record.external_id is not None and record.external_id in skip_ids:
            duplicates += 1
            continue
        batch.append(
            Item(
                project=project,
                data=record.data,
                priority=record.priority,
                external_id=record.external_id,
                meta=record.meta,
            )
        )
        if len(batch) >= BATCH:
            Item.objects.bulk_create(batch)
            created += len(batch)
            batch = []
    if batch:
        Item.objects.bulk_create(batch)
        created += len(batch)
    Project.objects.filter(pk=project.pk).update(n_items=F("n_items") + created)
    return created, duplicates


def _import_finish(job: ImportJob, *, errors=(), created=0, duplicates=0) -> None:
    job.errors = [e.as_dict() for e in errors]
    job.status = ImportJob.Status.FAILED if errors else ImportJob.Status.DONE
    job.n_created, job.n_duplicates = created, duplicates
    job.bytes_read = job.size_bytes
    job.finished_at = timezone.now()
    job.save(
        update_fields=["errors", "status", "n_created", "n_duplicates", "bytes_read", "finished_at"]
    )


def _existing_external_ids(project: Project, ids: set[str]) -> set[str]:
    found: set[str] = set()
    pending = list(ids)
    for start in range(0, len(pending), 5000):
        chunk = pending[start : start + 5000]
        found.update(
            Item.objects.filter(project=project, external_id__in=chunk).values_list(
                "external_id", flat=True
            )
        )
    return found


@dataclass(frozen=True)
class ItemRecord:
    line: int
    data: dict
    external_id: str | None
    priority: int
    meta: dict


def _records(
    fh, fmt: str, project: Project, errors: list, job: ImportJob | None = None
) -> Iterator[ItemRecord]:
    """Yield valid records; append an ImportError_ for each bad line and go on.

    Reads line by line from the binary file, so memory stays flat whatever the size.
    With a job, progress (bytes read) is saved every few thousand lines.
    """
    kind, schema = project.kind, project.schema
    rows = _jsonl_rows(fh, errors) if fmt == "jsonl" else _csv_rows(fh, errors)
    for line_no, raw, n_bytes in rows:
        try:
            data, external_id, priority, meta = schemas.item_validate(kind, raw, schema)
        except schemas.SchemaError as exc:
            errors.append(ImportError_(line_no, exc.field, exc.message))
            continue
        if job is not None and line_no % 5000 == 0:
            ImportJob.objects.filter(pk=job.pk).update(bytes_read=n_bytes)
        yield ItemRecord(line_no, data, external_id, priority, meta)


def _jsonl_rows(fh, errors: list) -> Iterator[tuple[int, object, int]]:
    n_bytes = 0
    max_bytes = settings.VOX_IMPORT_MAX_ITEM_BYTES
    for line_no, raw in enumerate(fh, start=1):
        n_bytes += len(raw)
        if not raw.strip():
            continue
        if len(raw) > max_bytes:
            errors.append(
                ImportError_(
                    line_no,
                    "(line)",
                    f"is {len(raw):,} bytes; the limit is "
                    f"{max_bytes:,} (VOX_IMPORT_MAX_ITEM_BYTES)",
                )
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                ImportError_(line_no, "(line)", f"is not valid UTF-8 at byte {exc.start}")
            )
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(
                ImportError_(
                    line_no, "(line)", f"is not valid JSON: {exc.msg} at column {exc.colno}"
                )
            )
            continue
        yield line_no, record, n_bytes


def _csv_rows(fh, errors: list) -> Iterator[tuple[int, object, int]]:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    reader = csv.DictReader(text)
    try:
        for row in reader:
            line_no = reader.line_num
            if None in row:
                errors.append(ImportError_(line_no, "(line)", "has more cells than the header"))
                continue
            record = {k: v for k, v in row.items() if k is not None}
            if "priority" in record:
                try:
                    record["priority"] = int(record["priority"] or 0)
                except ValueError:
                    errors.append(ImportError_(line_no, "priority", "must be an integer"))
                    continue
            if record.get("external_id") == "":
                record.pop("external_id")
            yield line_no, record, fh.tell() if fh.seekable() else 0
    except UnicodeDecodeError as exc:
        errors.append(
            ImportError_(reader.line_num + 1, "(line)", f"is not valid UTF-8 at byte {exc.start}")
        )
    except csv.Error as exc:
        errors.append(ImportError_(reader.line_num, "(line)", f"is not valid CSV: {exc}"))
    finally:
        text.detach()
