"""Writes for projects, members and imports."""

from __future__ import annotations

import io
import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotation.models import Annotation
from config.jobs import enqueue
from raters.models import Membership
from raters.services import membership_onboard
from tasks import importer, kinds
from tasks import schema as schemas
from tasks.export import ExportOptions, export_stream
from tasks.markdown import guideline_sections
from tasks.models import ExportJob, Guideline, GuidelineAck, ImportJob, Item, Project

logger = logging.getLogger(__name__)

ANALYZE_AFTER = 50_000


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


def project_update(
    *,
    project: Project,
    kind: str | None = None,
    schema: dict | None = None,
    name: str | None = None,
    instructions: str | None = None,
    overlap: int | None = None,
) -> Project:
    """Change a project's settings and label schema, refusing changes that would break
    existing answers or items (see schema.schema_change_problem).

    Once labeling has started, only changes that keep every stored answer valid and meaning
    the same are allowed; once items exist, the kind is fixed and ranking projects keep
    their response bounds. A refusal raises SchemaError naming the field.
    """
    kind = kind or project.kind
    canonical = schemas.schema_validate(kind, project.schema if schema is None else schema)
    if name is not None and not name.strip():
        raise schemas.SchemaError("name", "is required")
    if overlap is not None and not 1 <= overlap <= 100:
        raise schemas.SchemaError("overlap", "must be between 1 and 100")
    with transaction.atomic():
        # Serialise with other edits and imports of this project.
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if kind != locked.kind or canonical != locked.schema:
            _schema_change_check(locked, kind, canonical)
        fields = {"kind": kind, "schema": canonical}
        if name is not None:
            fields["name"] = name.strip()
        if instructions is not None:
            fields["instructions"] = instructions
        if overlap is not None and overlap != locked.overlap:
            fields["overlap"] = overlap
            # "Complete" means overlap labels: recount on the indexed n_done column.
            fields["n_complete"] = Item.objects.filter(project=locked, n_done__gte=overlap).count()
        Project.objects.filter(pk=project.pk).update(**fields)
    project.refresh_from_db()
    return project


def project_update_schema(*, project: Project, kind: str | None = None, schema: dict) -> Project:
    """Replace the label schema; see project_update for what is refused and why."""
    return project_update(project=project, kind=kind, schema=schema)


def _schema_change_check(project: Project, kind: str, canonical: dict) -> None:
    started = project.n_annotations > 0 or Annotation.objects.filter(project=project).exists()
    if started:
        problem = schemas.schema_change_problem(project.kind, project.schema, kind, canonical)
        if problem is not None:
            raise problem
        return
    if project.n_items > 0 or project.items.exists():
        if kind != project.kind:
            raise schemas.SchemaError(
                "kind", "cannot change once items are imported: their fields fit this kind"
            )
        problem = kinds.get(kind).items_change_problem(project.schema, canonical)
        if problem is not None:
            raise problem


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


MAX_MEMBER_LINES = 5_000


def members_add(*, project: Project, text: str, role: str) -> list[Membership]:
    """Add many members at once: one username a line, optionally `username,role`.

    Every line is checked first, so a bad line (an unknown user, a role that does not exist)
    is named and nothing is saved. Blank lines and repeated names are skipped.
    """
    lines = [line.strip() for line in (text or "").splitlines()]
    if len(lines) > MAX_MEMBER_LINES:
        raise schemas.SchemaError("usernames", f"at most {MAX_MEMBER_LINES:,} lines at once")
    wanted: dict[str, str] = {}
    for n, line in enumerate(lines, start=1):
        if not line:
            continue
        name, _, line_role = (part.strip() for part in line.replace("\t", ",").partition(","))
        line_role = line_role or role
        if line_role not in Membership.Role.values:
            raise schemas.SchemaError(
                f"line {n}", f"role must be one of {', '.join(Membership.Role.values)}"
            )
        wanted.setdefault(name, line_role)
    if not wanted:
        raise schemas.SchemaError("usernames", "give at least one username")
    users = {u.username: u for u in get_user_model().objects.filter(username__in=list(wanted))}
    for n, line in enumerate(lines, start=1):
        name = line.replace("\t", ",").partition(",")[0].strip()
        if name and name not in users:
            raise schemas.SchemaError(f"line {n}", f"no user named {name!r}")
    with transaction.atomic():
        return [
            membership_add(project=project, username=name, role=line_role)
            for name, line_role in wanted.items()
        ]


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
    options = [value for value, _ in schemas.label_options(project.kind, project.schema)]
    for key in examples:
        if key not in options:
            raise schemas.SchemaError(
                f"examples.{key}",
                f"is not a label option of this project ({', '.join(options) or 'none'})",
            )
    # Empty examples are left out, so "has an example" is simply "has the key".
    examples = {k: v for k, v in examples.items() if v.strip()}
    with transaction.atomic():
        # Lock the project row so two managers publishing at once get distinct versions.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        previous = project.guidelines.order_by("-version").first()
        guideline = Guideline.objects.create(
            project=project,
            version=(previous.version if previous else 0) + 1,
            body=body,
            examples=examples,
            created_by=user,
            sections=guideline_sections(body),
        )
        # Raters concerned by a changed section re-qualify on its gold; the others go on.
        from quality.services import requalifications_open

        requalifications_open(guideline=guideline, previous=previous)
        return guideline


def guideline_ack(*, guideline: Guideline, user) -> GuidelineAck:
    ack, _ = GuidelineAck.objects.get_or_create(guideline=guideline, user=user)
    return ack


# --- Import -------------------------------------------------------------------------------


def import_create(
    *, project: Project, user, upload: UploadedFile, preview: bool = False
) -> ImportJob:
    """Store the upload; queue its import, or hold it for a field-mapping preview first.

    With `preview`, the job waits in PREVIEW until `import_commit` (the manager has seen
    how the fields map to the schema).
    """
    fmt = importer.format_of(upload.name)
    if fmt is None:
        raise ImportRejected(
            f"{upload.name}: unsupported file type; use .jsonl, .json (an array) or .csv"
        )
    if upload.size > settings.VOX_IMPORT_MAX_BYTES:
        raise ImportRejected(
            f"{upload.name} is {upload.size:,} bytes; the limit is "
            f"{settings.VOX_IMPORT_MAX_BYTES:,} bytes per file (VOX_IMPORT_MAX_BYTES)"
        )
    job = ImportJob(
        project=project,
        created_by=user,
        filename=upload.name[:255],
        size_bytes=upload.size,
        status=ImportJob.Status.PREVIEW if preview else ImportJob.Status.QUEUED,
    )
    job.file.save(Path(upload.name).name, upload, save=False)
    job.save()
    if not preview:
        _import_enqueue(job)
    job_files_prune_soon()
    return job


def _import_enqueue(job: ImportJob) -> None:
    from tasks.jobs import import_run

    enqueue(import_run, job.pk)


def import_preview(*, job: ImportJob, n: int = 5) -> dict:
    """The first records of the upload and how their fields map to the project's schema."""
    project = job.project
    with job.file.open("rb") as fh:
        return importer.preview(
            fh, importer.format_of(job.filename), project.kind, project.schema, n=n
        )


def import_commit(*, job: ImportJob) -> ImportJob:
    """Start an import held for preview. Committing twice starts it once."""
    if ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.QUEUED
    ):
        _import_enqueue(job)
    job.refresh_from_db()
    return job


def import_cancel(*, job: ImportJob) -> ImportJob:
    """Drop an import held for preview, and its stored file."""
    if ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.CANCELLED, finished_at=timezone.now()
    ):
        job.file.delete(save=False)
    job.refresh_from_db()
    return job


def import_run(*, job_id: int) -> None:
    """Check the whole file, then save it in one transaction: any error saves nothing.

    Safe to run twice: a finished job is left alone, and external ids already in the
    project count as duplicates rather than new items.
    """
    claimed = ImportJob.objects.filter(_claimable(job_id)).update(
        attempts=F("attempts") + 1,
        status=ImportJob.Status.RUNNING,
        stage=ImportJob.Stage.CHECKING,
        heartbeat_at=timezone.now(),
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("project").get(pk=job_id)
    try:
        _import_run(job)
    except OperationalError:
        raise  # the job retries (its worker's task settings); beat fails it if none comes
    except Exception as exc:
        logger.exception("import %s stopped", job.pk)
        _job_failed(ImportJob, job.pk, f"The import stopped on an internal error ({exc})")


def _import_run(job: ImportJob) -> None:
    project = job.project

    def progress(n_bytes: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(bytes_read=n_bytes, heartbeat_at=timezone.now())

    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool:
        with job.file.open("rb") as fh:
            checked = importer.import_validate(
                fh,
                importer.format_of(job.filename),
                project.kind,
                project.schema,
                spool,
                progress=progress,
            )
        if checked.errors:
            _import_finish(job, errors=checked.errors, n_records=checked.n_records)
            return
        ImportJob.objects.filter(pk=job.pk).update(
            stage=ImportJob.Stage.SAVING, n_records=checked.n_records, bytes_read=job.size_bytes
        )
        spool.seek(0)
        with transaction.atomic():
            # One import at a time per project: the duplicate check below stays true
            # until this transaction commits.
            project = Project.objects.select_for_update().get(pk=project.pk)
            existing = _existing_external_ids(project, checked.external_ids)
            raters = external_raters_ensure(names=checked.raters)
            result = spool_write(
                project=project, spool=spool, skip_ids=existing, raters=raters, job=job
            )
            _import_finish(job, n_records=checked.n_records, **result)
    if result["labels"]:
        # Imported labels count towards the next aggregation run as live ones do, so a
        # project imported with its labels gets results without a manager's "Run now".
        from aggregation.services import aggregation_annotations_count

        aggregation_annotations_count(project.pk, result["labels"])
    if connection.vendor == "postgresql" and result["created"] >= ANALYZE_AFTER:
        # Fresh statistics, so the queue and exports plan with the new rows counted.
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {Item._meta.db_table}")


def external_raters_ensure(*, names) -> dict[str, int]:
    """User ids of external raters ("crowd_17" becomes the user "ext:crowd_17").

    They are inactive and have unusable passwords: they exist only to own imported labels,
    and can never log in or be served items.
    """
    if not names:
        return {}
    User = get_user_model()
    usernames = {schemas.EXTERNAL_RATER_PREFIX + n: n for n in names}
    found = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
    missing = [u for u in usernames if u not in found]
    if missing:
        unusable = make_password(None)
        User.objects.bulk_create(
            [User(username=u, is_active=False, password=unusable) for u in missing],
            ignore_conflicts=True,
        )
        found = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
    return {usernames[u]: user_id for u, user_id in found.items()}


def spool_write(*, project: Project, spool, skip_ids, raters: dict, job: ImportJob | None = None):
    """Save spooled records (see tasks.importer) and keep the project's counters.

    Call inside a transaction. Pre-existing labels become annotations and count as done
    labels of their item, like any submitted answer. Returns created, duplicates, labels.
    """
    escaped_skip = {importer._escape(x) for x in skip_ids}
    writer = _SpoolCopy if connection.vendor == "postgresql" else _SpoolOrm
    w = writer(project=project, raters=raters, job=job)
    duplicates = 0
    batch: list[list[str]] = []
    try:
        for line in spool:
            parts = line.rstrip("\n").split("\t")
            if parts[0] != importer.NULL and parts[0] in escaped_skip:
                duplicates += 1
                continue
            batch.append(parts)
            if len(batch) >= w.BATCH:
                w.write(batch)
                batch = []
        if batch:
            w.write(batch)
    finally:
        w.close()
    Project.objects.filter(pk=project.pk).update(
        n_items=F("n_items") + w.created,
        n_annotations=F("n_annotations") + w.labels,
        n_complete=F("n_complete") + w.complete,
    )
    return {"created": w.created, "duplicates": duplicates, "labels": w.labels}


class _SpoolWriter:
    BATCH = 2000

    def __init__(self, *, project: Project, raters: dict, job: ImportJob | None):
        self.project, self.raters, self.job = project, raters, job
        self.created = self.labels = self.complete = 0
        self.now = timezone.now()
        self.key_prefix = f"import-{job.pk if job else 0}-"
        # In uncertainty-first order new items wait at the runs' top level (unlabelled, no
        # model yet) until a run places them, whatever priority the file gave them.
        self.queue_level = None
        if _runs_own_priorities(project):
            from aggregation.numeric.overlap import LEVEL_UNLABELLED

            self.queue_level = LEVEL_UNLABELLED

    def queue_priority(self, priority: str) -> int:
        """The queue's priority of a new item whose manager's priority is `priority`."""
        return int(priority) if self.queue_level is None else self.queue_level

    def close(self) -> None:
        pass

    def labels_of(self, parts: list[str]) -> list[dict]:
        raw = importer.unescape(parts[4])
        return json.loads(raw) if raw else []


class _SpoolCopy(_SpoolWriter):
    """PostgreSQL: ids from the sequence in blocks, rows through COPY."""

    BATCH = 5000

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.item_table = Item._meta.db_table
        self.annotation_table = Annotation._meta.db_table
        with connection.cursor() as cur:
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.item_table])
            self.sequence = cur.fetchone()[0]
        self.stamp = self.now.isoformat()
        self.side = None
        if self.job is not None:
            # Progress written inside the import's transaction would stay invisible until
            # the end; a second connection makes the bar move while it saves.
            self.side = connection.get_new_connection(connection.get_connection_params())
            self.side.autocommit = True

    def write(self, batch: list[list[str]]) -> None:
        project_id, overlap, stamp = self.project.pk, self.project.overlap, self.stamp
        with connection.cursor() as cur:
            cur.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [self.sequence, len(batch)]
            )
            ids = [row[0] for row in cur.fetchall()]
            items, annotations = io.StringIO(), io.StringIO()
            for item_id, parts in zip(ids, batch, strict=True):
                ext, priority, data, meta, labels_raw, digest = parts
                n_done = 0
                if labels_raw != importer.NULL:
                    labels = self.labels_of(parts)
                    n_done = len(labels)
                    self.labels += n_done
                    self.complete += n_done >= overlap
                    for label in labels:
                        annotations.write(
                            f"{project_id}\t{item_id}\t{self.raters[label['rater']]}\t"
                            f"{importer._escape(json.dumps(label['value'], ensure_ascii=False))}\t"
                            f"{self.key_prefix}{item_id}\t{stamp}\t0\t{{}}\n"
                        )
                items.write(
                    f"{item_id}\t{project_id}\t{ext}\t{data}\t{meta}\t"
                    f"{self.queue_priority(priority)}\t{priority}\tf\t"
                    f"{n_done}\t0\t{stamp}\t{digest}\n"
                )
            items.seek(0)
            cur.copy_expert(
                f"COPY {self.item_table} (id, project_id, external_id, data, meta, priority, "
                "manager_priority, is_gold, n_done, n_open, created_at, content_hash) FROM STDIN",
                items,
            )
            if annotations.tell():
                annotations.seek(0)
                cur.copy_expert(
                    f"COPY {self.annotation_table} (project_id, item_id, rater_id, value, "
                    "idempotency_key, created_at, duration_ms, presentation) FROM STDIN",
                    annotations,
                )
        self.created += len(batch)
        if self.side is not None:
            with self.side.cursor() as cur:
                cur.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET n_saved = %s, heartbeat_at = now()"
                    " WHERE id = %s",
                    [self.created, self.job.pk],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


class _SpoolOrm(_SpoolWriter):
    """Other databases (embedded SQLite): batched inserts through the ORM."""

    def write(self, batch: list[list[str]]) -> None:
        overlap = self.project.overlap
        items, labels_per_item = [], []
        for parts in batch:
            ext, priority, data, meta, _, digest = parts
            labels = self.labels_of(parts)
            labels_per_item.append(labels)
            items.append(
                Item(
                    project=self.project,
                    external_id=importer.unescape(ext),
                    priority=self.queue_priority(priority),
                    manager_priority=int(priority),
                    data=json.loads(importer.unescape(data)),
                    meta=json.loads(importer.unescape(meta)),
                    n_done=len(labels),
                    content_hash=int(digest),
                )
            )
        Item.objects.bulk_create(items)
        annotations = []
        for item, labels in zip(items, labels_per_item, strict=True):
            self.labels += len(labels)
            self.complete += bool(labels) and len(labels) >= overlap
            annotations.extend(
                Annotation(
                    project=self.project,
                    item=item,
                    rater_id=self.raters[label["rater"]],
                    value=label["value"],
                    idempotency_key=f"{self.key_prefix}{item.pk}",
                )
                for label in labels
            )
        Annotation.objects.bulk_create(annotations)
        self.created += len(items)


def items_insert(*, project: Project, records, skip_ids=frozenset()) -> tuple[int, int]:
    """Insert records (dicts shaped like the lines of an import file) after checking each.

    For code that builds items itself (the demo seed, tests); files go through import_run.
    Call inside a transaction when all-or-nothing matters. Returns (created, duplicates).
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool:
        lines = io.BytesIO(
            b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)
        )
        checked = importer.import_validate(lines, "jsonl", project.kind, project.schema, spool)
        if checked.errors:
            first = checked.errors[0]
            raise schemas.SchemaError(f"record {first.line}: {first.field}", first.message)
        spool.seek(0)
        raters = external_raters_ensure(names=checked.raters)
        result = spool_write(project=project, spool=spool, skip_ids=skip_ids, raters=raters)
        return result["created"], result["duplicates"]


def _import_finish(
    job: ImportJob, *, errors=(), n_records=0, created=0, duplicates=0, labels=0
) -> None:
    job.errors = [e.as_dict() for e in errors]
    job.status = ImportJob.Status.FAILED if errors else ImportJob.Status.DONE
    job.n_records = n_records
    job.n_created, job.n_duplicates, job.n_labels = created, duplicates, labels
    job.n_saved = created
    job.bytes_read = job.size_bytes
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "errors",
            "status",
            "n_records",
            "n_created",
            "n_duplicates",
            "n_labels",
            "n_saved",
            "bytes_read",
            "finished_at",
        ]
    )


def _existing_external_ids(project: Project, ids: set[str]) -> set[str]:
    found: set[str] = set()
    if not ids or not Item.objects.filter(project=project, external_id__isnull=False).exists():
        return found
    pending = list(ids)
    for start in range(0, len(pending), 5000):
        chunk = pending[start : start + 5000]
        found.update(
            Item.objects.filter(project=project, external_id__in=chunk).values_list(
                "external_id", flat=True
            )
        )
    return found


# --- Export -------------------------------------------------------------------------------


def export_create(*, project: Project, user, options: ExportOptions) -> ExportJob:
    """Queue an export to a file; export_run writes it with progress."""
    options.check(project)
    job = ExportJob.objects.create(
        project=project,
        created_by=user,
        format=options.format,
        options=options.job_options(),
        n_total=project.n_items,
    )
    from tasks.jobs import export_run

    enqueue(export_run, job.pk)
    job_files_prune_soon()
    return job


def job_files_prune(*, now=None) -> dict:
    """Delete the files that finished imports and old exports leave on disk; the job rows
    stay as the record. Safe to run any time and twice.

    - import uploads: once the import has finished (or its preview was left) for
      VOX_IMPORT_KEEP_DAYS; an abandoned preview is marked cancelled;
    - export files: VOX_EXPORT_KEEP_DAYS after they were written.

    Returns how many files of each kind were deleted.
    """
    now = now or timezone.now()
    import_cutoff = now - timedelta(days=settings.VOX_IMPORT_KEEP_DAYS)
    export_cutoff = now - timedelta(days=settings.VOX_EXPORT_KEEP_DAYS)
    finished = [ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED]
    imports = ImportJob.objects.exclude(file="").filter(
        Q(status__in=finished, finished_at__lt=import_cutoff)
        | Q(status=ImportJob.Status.PREVIEW, created_at__lt=import_cutoff)
    )
    n_imports = 0
    for job in imports.iterator():
        if job.status == ImportJob.Status.PREVIEW:
            # Claim it first, so a manager committing the preview right now wins or loses
            # cleanly: a queued import keeps its file.
            if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
                status=ImportJob.Status.CANCELLED, finished_at=now
            ):
                continue
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        n_imports += 1
    exports = ExportJob.objects.exclude(file="").filter(
        status__in=[ExportJob.Status.DONE, ExportJob.Status.FAILED],
        finished_at__lt=export_cutoff,
    )
    n_exports = 0
    for job in exports.iterator():
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        n_exports += 1
    return {"imports": n_imports, "exports": n_exports}


def job_files_prune_soon() -> None:
    """Queue a prune; called when a new import or export starts, so that the embedded
    mode (which runs no beat) cleans up too."""
    from tasks.jobs import job_files_prune as job

    enqueue(job)


def export_run(*, job_id: int) -> None:
    """Write the export to a file under MEDIA_ROOT/exports. Safe to run twice."""
    claimed = ExportJob.objects.filter(_claimable(job_id)).update(
        status=ExportJob.Status.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return
    job = ExportJob.objects.select_related("project").get(pk=job_id)
    options = ExportOptions(format=job.format, **job.options)
    name = (
        f"exports/project-{job.project_id}/vox-{job.project_id}-{job.pk}-{options.filename_suffix}"
    )
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)

    def progress(n_done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(n_done=n_done, heartbeat_at=timezone.now())

    n_rows = 0
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            for piece in export_stream(job.project, options, progress=progress):
                out.write(piece)
                n_rows += piece.count("\n")
    except OperationalError:
        raise  # the job retries; the run stays claimed as running
    except Exception as exc:
        _job_failed(ExportJob, job.pk, f"The export stopped on an internal error ({exc})")
        path.unlink(missing_ok=True)
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        file=name,
        size_bytes=path.stat().st_size,
        n_rows=n_rows,
        finished_at=timezone.now(),
    )


def _claimable(job_id: int) -> Q:
    """An import or export a delivery may take: queued, or running with a heartbeat too old
    for a live worker (redelivered after its worker died). A second copy of a job whose
    worker is alive finds it running and leaves it."""
    stale = timezone.now() - timedelta(seconds=settings.VOX_JOB_STALE_S)
    return Q(pk=job_id) & (
        Q(status="queued")
        | Q(status="running") & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
    )


def _job_failed(model, job_id: int, message: str) -> bool:
    """Mark a running import or export failed with `message`, and delete an import's
    upload: nothing of it was saved, and a failed job's file has no further use.
    Returns whether this call failed it (a job that finished meanwhile is left alone)."""
    now = timezone.now()
    if model is ImportJob:
        error = {"errors": [{"line": 0, "field": "(job)", "message": message[:2000]}]}
    else:
        error = {"error": message[:2000]}
    failed = model.objects.filter(pk=job_id, status=model.Status.RUNNING).update(
        status=model.Status.FAILED, finished_at=now, **error
    )
    if failed and model is ImportJob:
        job = ImportJob.objects.get(pk=job_id)
        if job.file:
            job.file.delete(save=False)
            ImportJob.objects.filter(pk=job_id).update(file="")
    return bool(failed)


def jobs_fail_stale() -> dict:
    """Fail every running import and export whose worker stopped moving it for
    VOX_JOB_STALE_S (killed, or lost with its machine), so that no job stays running for
    ever, and queues again the ones left queued that long; beat runs this every minute. A
    redelivered copy of a failed job finds it finished and does nothing. Returns how many
    of each kind it failed and requeued."""
    stale_s, max_attempts = settings.VOX_JOB_STALE_S, settings.VOX_JOB_MAX_ATTEMPTS
    cutoff = timezone.now() - timedelta(seconds=stale_s)
    message = (
        f"The worker running this job stopped (no progress for {stale_s} s) "
        f"{max_attempts} time(s). Nothing was saved; start it again."
    )
    from tasks import jobs

    out = {}
    for model, job in ((ImportJob, jobs.import_run), (ExportJob, jobs.export_run)):
        stale = model.objects.filter(status=model.Status.RUNNING).filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
        )
        # Its worker died: an import saves in one transaction and an export rewrites its
        # file, so running it again is safe; past the attempts, it is failed.
        retry = list(stale.filter(attempts__lt=max_attempts).values_list("pk", flat=True))
        for pk in retry:
            enqueue(job, pk)
        out[f"{model._meta.model_name}_retried"] = len(retry)
        out[model._meta.model_name] = sum(
            _job_failed(model, pk, message)
            for pk in stale.filter(attempts__gte=max_attempts).values_list("pk", flat=True)
        )
        # Queued that long: its message was lost (a broker restarted empty) or never sent.
        # Queue it again; if the first copy is still waiting, whichever comes second finds
        # the job taken (_claimable) and does nothing.
        waiting = model.objects.filter(status=model.Status.QUEUED, created_at__lt=cutoff)
        requeued = list(waiting.values_list("pk", flat=True))
        for pk in requeued:
            enqueue(job, pk)
        out[f"{model._meta.model_name}_requeued"] = len(requeued)
    return out


# --- Items edited, deleted and acted on from the item browser -------------------------------


class ItemHasAnswers(ValueError):
    """The item was answered or is being answered: its content may no longer change."""


def _item_locked_unanswered(item: Item) -> Item:
    """The item's row, locked, if nobody answered it or holds a lease on it; else raise.

    Call inside a transaction. The check runs under the lock: a rater who submits
    meanwhile waits for this transaction.
    """
    from tasks.selectors import item_change_refusal

    locked = Item.objects.select_for_update().get(pk=item.pk)
    refusal = item_change_refusal(locked)
    if refusal:
        raise ItemHasAnswers(refusal)
    return locked


def item_update(*, item: Item, record) -> Item:
    """Replace an unanswered item's data with `record`, validated as the importer does.

    `external_id`, `priority` and `meta` in the record set those too. Raises SchemaError
    naming the field, or ItemHasAnswers.
    """
    data, external_id, priority, meta = schemas.item_validate(
        item.project.kind, record, item.project.schema
    )
    with transaction.atomic():
        locked = _item_locked_unanswered(item)
        locked.data = data
        fields = ["data"]
        if "external_id" in record:
            if (
                external_id is not None
                and Item.objects.filter(project_id=locked.project_id, external_id=external_id)
                .exclude(pk=locked.pk)
                .exists()
            ):
                raise schemas.SchemaError("external_id", "is already used by another item")
            locked.external_id = external_id
            fields.append("external_id")
        if "priority" in record:
            locked.manager_priority = priority
            fields.append("manager_priority")
            if not _runs_own_priorities(locked.project):
                locked.priority = priority
                fields.append("priority")
        if "meta" in record:
            locked.meta = meta
            fields.append("meta")
        locked.save(update_fields=fields)
    return locked


def item_delete(*, item: Item) -> None:
    """Delete an unanswered item and count it out of the project; or raise ItemHasAnswers."""
    with transaction.atomic():
        locked = _item_locked_unanswered(item)
        locked.delete()
        # Unanswered, so it was not complete: only n_items moves.
        Project.objects.filter(pk=locked.project_id).update(n_items=F("n_items") - 1)


@dataclass(frozen=True)
class BulkResult:
    done: int
    skipped: int


def _project_items(project: Project, item_ids) -> list[Item]:
    # Ids of other projects are not this project's items: they are ignored, never acted on.
    items = list(Item.objects.filter(project=project, pk__in=list(item_ids)).order_by("pk"))
    for item in items:
        item.project = project
    return items


def items_priority_set(*, project: Project, item_ids, priority: int) -> BulkResult:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise schemas.SchemaError("priority", "must be an integer")
    if not schemas.PRIORITY_MIN <= priority <= schemas.PRIORITY_MAX:
        raise schemas.SchemaError(
            "priority",
            f"must be between {schemas.PRIORITY_MIN:,} and {schemas.PRIORITY_MAX:,}",
        )
    fields = {"manager_priority": priority}
    if not _runs_own_priorities(project):
        fields["priority"] = priority
    n = Item.objects.filter(project=project, pk__in=list(item_ids)).update(**fields)
    return BulkResult(done=n, skipped=0)


def _runs_own_priorities(project: Project) -> bool:
    """In uncertainty-first order the aggregation runs write the queue's levels; a manager's
    priority is then kept (manager_priority) for when the project returns to the default
    order, and does not jump the item past the levels meanwhile."""
    from quality.selectors import policy_for

    return policy_for(project).queue_order == "uncertainty"


def items_relabel_request(*, project: Project, item_ids, user, extra_labels: int) -> BulkResult:
    """Ask for more labels on each live item; gold items are skipped (they are not labelled
    for the project)."""
    from quality.dashboard_services import relabel_request

    if not 1 <= extra_labels <= 20:
        raise schemas.SchemaError("extra_labels", "must be between 1 and 20")
    done = skipped = 0
    with transaction.atomic():
        for item in _project_items(project, item_ids):
            if item.is_gold:
                skipped += 1
                continue
            relabel_request(item=item, user=user, extra_labels=extra_labels)
            done += 1
    return BulkResult(done=done, skipped=skipped)


def items_tag(*, project: Project, item_ids, tag: str, add: bool) -> BulkResult:
    """Add `tag` to the items' meta.tags, or take it off; items already so are skipped."""
    (tag,) = schemas.tags_validate([tag], field="tag")
    done = skipped = 0
    with transaction.atomic():
        # Locked: two managers tagging the same items at once must not lose either tag.
        locked = Item.objects.select_for_update().filter(project=project, pk__in=list(item_ids))
        for item in locked.order_by("pk"):
            meta = item.meta if isinstance(item.meta, dict) else {}
            tags = list(meta.get("tags") or [])
            if (tag in tags) == add:
                skipped += 1
                continue
            tags = [*tags, tag] if add else [t for t in tags if t != tag]
            item.meta = {**meta, "tags": schemas.tags_validate(tags, field="tag")}
            Item.objects.filter(pk=item.pk).update(meta=item.meta)
            done += 1
    return BulkResult(done=done, skipped=skipped)


def items_gold_promote(*, project: Project, item_ids, user, explanation: str = "") -> BulkResult:
    """Make gold of each item from its current aggregate label; items without one (or
    already gold) are skipped. All or nothing: a refused answer undoes the whole batch.
    The explanation is shown to raters who miss any of them."""
    from aggregation.selectors import aggregate_for_items
    from quality.services import gold_promote

    label_kind = kinds.get(project.kind)
    items = _project_items(project, item_ids)
    aggregates = aggregate_for_items(project, [i.pk for i in items])
    done = skipped = 0
    with transaction.atomic():
        for item in items:
            aggregate = aggregates.get(item.pk)
            if item.is_gold or aggregate is None or aggregate["label"] is None:
                skipped += 1
                continue
            answer = label_kind.gold_from_value(label_kind.label_from_aggregate(aggregate["label"]))
            gold_promote(item=item, answer=answer, explanation=explanation, user=user)
            done += 1
    return BulkResult(done=done, skipped=skipped)


def items_delete(*, project: Project, item_ids) -> BulkResult:
    """Delete the items that have no answers; the others are skipped and counted."""
    done = skipped = 0
    with transaction.atomic():
        for item in _project_items(project, item_ids):
            try:
                item_delete(item=item)
            except ItemHasAnswers:
                skipped += 1
            else:
                done += 1
    return BulkResult(done=done, skipped=skipped)


BULK_ACTIONS = ("priority", "relabel", "gold", "tag", "untag", "delete")


@dataclass(frozen=True)
class BulkOutcome:
    done: int
    skipped: int
    # What was done and why some were skipped, in words for a message.
    note: str
    why: str


def items_bulk_apply(*, project: Project, item_ids, action: str, user, params) -> BulkOutcome:
    """One bulk action of the item browser by its name, for the page and the API alike.

    `params` (a form or a JSON object) holds the action's own input: priority,
    extra_labels, explanation or tag. Raises SchemaError naming the field; each action is
    all or nothing.
    """

    def whole(name: str):
        value = params.get(name)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise schemas.SchemaError(name, "must be a whole number")
        return value

    if action == "priority":
        result = items_priority_set(project=project, item_ids=item_ids, priority=whole("priority"))
        note = "priority set"
        if _runs_own_priorities(project):
            note += " (kept for the default order: uncertainty-first order places items now)"
        return BulkOutcome(result.done, result.skipped, note, "")
    if action == "relabel":
        result = items_relabel_request(
            project=project, item_ids=item_ids, user=user, extra_labels=whole("extra_labels")
        )
        return BulkOutcome(
            result.done,
            result.skipped,
            "sent back for more labels",
            "gold items are not relabelled",
        )
    if action == "gold":
        explanation = params.get("explanation") or ""
        if not isinstance(explanation, str):
            raise schemas.SchemaError("explanation", "must be text")
        result = items_gold_promote(
            project=project, item_ids=item_ids, user=user, explanation=explanation.strip()
        )
        return BulkOutcome(
            result.done,
            result.skipped,
            "promoted to gold",
            "no aggregate label yet, or already gold",
        )
    if action in ("tag", "untag"):
        add, tag = action == "tag", params.get("tag", "")
        result = items_tag(project=project, item_ids=item_ids, tag=tag, add=add)
        note = f"tagged {tag.strip()!r}" if add else f"untagged {tag.strip()!r}"
        why = "already tagged so" if add else "they had no such tag"
        return BulkOutcome(result.done, result.skipped, note, why)
    if action == "delete":
        result = items_delete(project=project, item_ids=item_ids)
        return BulkOutcome(
            result.done,
            result.skipped,
            "deleted",
            "they have answers, an open lease, or are gold",
        )
    raise schemas.SchemaError("action", f"choose one of {', '.join(BULK_ACTIONS)}")
