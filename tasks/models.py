from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from tasks import schema as schemas
from tasks.content import content_hash


class Project(models.Model):
    Kind = models.TextChoices(
        "Kind", [(k.upper(), (k, label)) for k, label in schemas.KIND_LABELS.items()]
    )

    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    schema = models.JSONField(default=dict)
    overlap = models.PositiveSmallIntegerField(
        default=3, help_text="How many raters label each item."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept counters, so project pages never count a million items to show progress.
    n_items = models.PositiveIntegerField(default=0)
    n_complete = models.PositiveIntegerField(default=0)
    n_annotations = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_ge_1")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def percent_complete(self) -> int:
        return int(100 * self.n_complete / self.n_items) if self.n_items else 0

    @property
    def choices(self) -> list[schemas.Choice]:
        return schemas.choices_of(self.kind, self.schema)

    @property
    def item_classes(self) -> bool:
        """Whether a model's per-class probabilities describe its items (model runs)."""
        from tasks import kinds

        return kinds.get(self.kind).item_classes

    @property
    def has_leaderboard(self) -> bool:
        """Whether the kind ranks the models behind the responses (pairwise, ranking)."""
        from tasks import kinds

        return bool(kinds.get(self.kind).models_hint)


class Item(models.Model):
    # No index of its own: item_project_id and item_queue_order start with the project.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    # NULL, not "", when absent: the uniqueness of external ids applies only to set ones.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    data = models.JSONField()
    # Provenance that raters must not see (source model names, batch, ...).
    meta = models.JSONField(default=dict, blank=True)
    # The queue's order. Uncertainty-first order (quality.QualityPolicy.queue_order) writes
    # its levels here, so what the manager set is kept apart in manager_priority and put back
    # when the project returns to the default order (quality.services.policy_update).
    priority = models.IntegerField(default=0)
    manager_priority = models.IntegerField(default=0, db_default=0)
    # content_hash(data), set on every save and by the importer; NULL only for rows
    # written by raw SQL (the benchmark's), which then match nothing.
    content_hash = models.BigIntegerField(null=True, blank=True, editable=False)
    # Gold items are served only through the quality layer's injection policy and never
    # count as labels of the project; raters cannot tell them apart.
    is_gold = models.BooleanField(default=False)
    # Submitted labels and open leases: the queue reads these instead of counting rows.
    n_done = models.PositiveSmallIntegerField(default=0)
    n_open = models.PositiveSmallIntegerField(default=0)
    # Dynamic overlap decided the item has enough labels before the project's overlap
    # (annotation.queue.settle); the background re-fit may reopen it. A database default,
    # so rows written by COPY and raw SQL get it too.
    settled = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=Q(external_id__isnull=False),
                name="item_unique_external_id",
            )
        ]
        indexes = [
            # The queue's order: priority first, then items closest to completion.
            models.Index(
                "project",
                models.F("priority").desc(),
                models.F("n_done").desc(),
                "id",
                name="item_queue_order",
            ),
            # Exports and imports walk a project's items in id order, chunk by chunk.
            models.Index(fields=["project", "id"], name="item_project_id"),
            # The claim looks up a gold item's content among the rater's served items.
            models.Index(fields=["project", "content_hash"], name="item_content_hash"),
        ]

    def __str__(self) -> str:
        return self.external_id or f"item {self.pk}"

    def save(self, *args, **kwargs):
        self.content_hash = content_hash(self.data)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "data" in update_fields:
            kwargs["update_fields"] = {*update_fields, "content_hash"}
        super().save(*args, **kwargs)

    @property
    def is_complete(self) -> bool:
        return self.n_done >= self.project.overlap

    @cached_property
    def public_id(self) -> int:
        """The id raters see; see tasks/ids.py for why it is not the database id. Kept on
        the instance: a workbench reply writes it seven times, four HMAC rounds each."""
        from tasks.ids import encode_item_id

        return encode_item_id(self.pk)

    @property
    def summary(self) -> str:
        """The first text field: enough to recognise the item in a list."""
        prompt = self.data.get("prompt")
        if isinstance(prompt, list) and prompt:
            prompt = prompt[-1].get("content", prompt[-1].get("text", ""))
        if isinstance(prompt, str):
            return prompt
        return next((v for v in self.data.values() if isinstance(v, str)), "")


class ImportJob(models.Model):
    class Status(models.TextChoices):
        # Uploaded and waiting for the manager to confirm the field mapping.
        PREVIEW = "preview"
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Stage(models.TextChoices):
        CHECKING = "checking"
        SAVING = "saving"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    bytes_read = models.PositiveBigIntegerField(default=0)
    # Records read in the check pass, and records saved so far in the save pass.
    n_records = models.PositiveIntegerField(default=0)
    n_saved = models.PositiveIntegerField(default=0)
    n_created = models.PositiveIntegerField(default=0)
    n_duplicates = models.PositiveIntegerField(default=0)
    # Pre-existing labels saved as annotations by external raters.
    n_labels = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Moved on at every step of progress; beat fails a running job whose worker stopped
    # moving it (tasks.services.jobs_fail_stale).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Deliveries that took the job; beat retries one whose worker died up to
    # VOX_JOB_MAX_ATTEMPTS, then fails it (a file that kills its worker every time).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.filename}"

    @property
    def percent(self) -> int:
        """Checking fills the first half of the bar, saving the second."""
        if self.status == self.Status.DONE:
            return 100
        if self.stage == self.Stage.SAVING:
            return 50 + (int(50 * self.n_saved / self.n_records) if self.n_records else 0)
        return int(50 * self.bytes_read / self.size_bytes) if self.size_bytes else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)


class ExportJob(models.Model):
    """An export written to a file in the background, for projects too large to stream."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One of tasks.export.FORMATS; options: annotations, ties, conversational.
    format = models.CharField(max_length=32)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    n_total = models.PositiveIntegerField(default=0)
    n_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Lines written (a CSV's header included), for the dataset card.
    n_rows = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # as ImportJob's
    attempts = models.PositiveSmallIntegerField(default=0)  # as ImportJob's
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.project}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.n_done / self.n_total)) if self.n_total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class Guideline(models.Model):
    """One published version of a project's guidelines. Versions are never edited."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="guidelines")
    version = models.PositiveIntegerField()
    body = models.TextField(help_text="Markdown. Raw HTML is not allowed and is stripped.")
    # Worked examples per label option: {"<choice value>": "<markdown>"}.
    examples = models.JSONField(default=dict, blank=True)
    # tasks.markdown.guideline_sections(body), kept so that versions compare cheaply.
    sections = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="guideline_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.project} guidelines v{self.version}"


class GuidelineAck(models.Model):
    """A rater's acknowledgement of one guideline version, with its time."""

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="acks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    acked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guideline", "user"], name="guideline_ack_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.guideline}"
