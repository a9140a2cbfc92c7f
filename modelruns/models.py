"""A classifier's predicted probabilities over a project's items, for the label checks of
quality.numeric (docs/label_quality.md, "In the product")."""

from django.conf import settings
from django.db import models


class ModelRun(models.Model):
    """One model's probabilities over the schema's labels for some of a project's items.

    It is uploaded by a team (JSONL or .npy) or made by Vox's own noisy cross-validation
    (modelruns.cv). Big uploads load in a job, as imports do: the status and progress live
    here, and the upload files are kept only until the job has read them.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Source(models.TextChoices):
        UPLOAD = "upload"
        NOISY_CV = "noisy_cv"

    project = models.ForeignKey("tasks.Project", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    # As ImportJob's: moved on with progress, and counted per delivery that took the job.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The schema's labels in the order of every stored probability vector.
    labels = models.JSONField(default=list)
    n_items = models.PositiveIntegerField(default=0)
    # Epochs of training dynamics per item (0: none uploaded).
    n_epochs = models.PositiveSmallIntegerField(default=0)
    # [{"line", "field", "message"}], as an import reports them.
    errors = models.JSONField(default=list, blank=True)
    # The upload: JSONL in `file`, or a .npy array in `file` with its item ids in `ids_file`
    # and optional per-epoch probabilities in `epochs_file`.
    file = models.FileField(upload_to="model-runs/%Y/%m/", blank=True)
    ids_file = models.FileField(upload_to="model-runs/%Y/%m/", blank=True)
    epochs_file = models.FileField(upload_to="model-runs/%Y/%m/", blank=True)
    # "item_id" or "external_id": how the lines of ids_file name the items.
    id_field = models.CharField(max_length=16, default="item_id")
    # Free-form notes of how it was made (noisy CV: folds, accuracy).
    stats = models.JSONField(default=dict, blank=True)
    # The run a manager chose for the project (at most one): suggestions, suspects and the
    # uncertainty-first queue read it instead of the latest (modelruns.selectors).
    pinned = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "status", "-finished_at"], name="modelrun_latest")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=models.Q(pinned=True), name="modelrun_one_pinned"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ModelPrediction(models.Model):
    """One item's probabilities in one run.

    A row per item, not one array file per run: the item foreign key keeps predictions
    consistent when items are deleted, a page of suspects joins them to items in SQL, and a
    run's predictions load in one values_list query (10^5 items x 10 labels in about a
    second), without files to prune or keep next to the database in backups.
    """

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="predictions")
    item = models.ForeignKey("tasks.Item", on_delete=models.CASCADE, related_name="+")
    # (K,) floats in the order of run.labels, summing to 1.
    probs = models.JSONField()
    # (n_epochs, K) after each training epoch, or null when the run has none.
    epochs = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="model_prediction_once_per_item")
        ]

    def __str__(self) -> str:
        return f"prediction of {self.run_id} for {self.item_id}"
