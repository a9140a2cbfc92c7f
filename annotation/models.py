from django.conf import settings
from django.db import models
from django.db.models import Q


class Assignment(models.Model):
    """A rater's lease on an item: served, then submitted, skipped, or expired."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        # Prefetched: held for the rater as their next item, so the workbench can show it
        # the moment they submit. It takes a slot like an open lease and becomes active then.
        QUEUED = "queued"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        EXPIRED = "expired"

    # No database constraint: the project follows from the item, whose key is checked, and
    # checking this one locked the project's row (FOR KEY SHARE) at every lease's commit,
    # so all of a project's raters queued on that one row. Deletes still cascade (ORM).
    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    # No index of its own: assignment_unique_item_rater starts with the item.
    item = models.ForeignKey(
        "tasks.Item", on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    skip_reason = models.CharField(max_length=500, blank=True)
    # How the item was shown to this rater: {"swapped": true} for pairwise sides, the
    # display order for ranking. Recorded so position bias can be measured and undone.
    presentation = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            # One row per (item, rater): an item is never served twice to one rater.
            models.UniqueConstraint(fields=["item", "rater"], name="assignment_unique_item_rater"),
            # At most one open lease per rater and project, even with two tabs racing.
            models.UniqueConstraint(
                fields=["rater", "project"],
                condition=Q(status="active"),
                name="assignment_one_active_lease",
            ),
            models.UniqueConstraint(
                fields=["rater", "project"],
                condition=Q(status="queued"),
                name="assignment_one_queued_lease",
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "expires_at"],
                condition=Q(status__in=["active", "queued"]),
                name="assignment_active_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rater} on {self.item_id} ({self.status})"


class Annotation(models.Model):
    # The foreign keys have no single-column indexes: each is the first column of one of
    # the composite indexes below, and every index is written on every submit.
    # No database constraint either, for the reason given on Assignment.project.
    project = models.ForeignKey(
        "tasks.Project",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    item = models.ForeignKey(
        "tasks.Item", on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="annotations",
        db_index=False,
    )
    value = models.JSONField()
    idempotency_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    # Server-side time from lease to submit, and the client's count of active time.
    duration_ms = models.PositiveIntegerField(default=0)
    active_ms = models.PositiveIntegerField(null=True, blank=True)
    # The guideline version in force when the rater answered (None: no guideline yet).
    guideline_version = models.PositiveIntegerField(null=True, blank=True)
    presentation = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "rater"], name="annotation_unique_item_rater"),
            models.UniqueConstraint(
                fields=["rater", "idempotency_key"], name="annotation_unique_idempotency_key"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "id"], name="annotation_project_id"),
            # A rater's own progress and last submit (undo) in a project.
            models.Index(fields=["rater", "project", "id"], name="annotation_rater_project"),
        ]

    def __str__(self) -> str:
        return f"{self.rater} on {self.item_id}"


class CounterShard(models.Model):
    """Pending additions to a project's kept counters, spread over a few rows.

    Every submit used to update the one Project row, so all submits of a project queued
    on that row's lock. Submits now add to the shard of their rater (rater id modulo
    SHARDS), and a job folds the shards into Project a moment later.
    """

    SHARDS = 64

    project = models.ForeignKey("tasks.Project", on_delete=models.CASCADE, related_name="+")
    shard = models.PositiveSmallIntegerField()
    n_annotations = models.IntegerField(default=0)
    n_complete = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "shard"], name="counter_shard_unique")
        ]

    def __str__(self) -> str:
        return f"counters of {self.project_id}, shard {self.shard}"
