from django.conf import settings
from django.db import models


class QualityPolicy(models.Model):
    """A project's quality rules: onboarding, calibration, silent gold and trust thresholds."""

    project = models.OneToOneField(
        "tasks.Project", on_delete=models.CASCADE, related_name="quality"
    )
    # Onboarding
    requires_qualification = models.BooleanField(default=False)
    training_items_required = models.PositiveSmallIntegerField(default=0)
    qualification_items = models.PositiveSmallIntegerField(default=10)
    qualification_pass = models.FloatField(default=0.8)
    qualification_max_attempts = models.PositiveSmallIntegerField(default=2)
    qualification_cooldown_hours = models.PositiveSmallIntegerField(default=24)
    # Calibration: due every N live items or D days (0 turns a trigger off).
    calibration_every_items = models.PositiveIntegerField(default=0)
    calibration_every_days = models.PositiveSmallIntegerField(default=0)
    calibration_items = models.PositiveSmallIntegerField(default=5)
    calibration_pass = models.FloatField(default=0.7)
    # Silent gold in the live queue
    gold_rate = models.FloatField(default=0.05)
    adaptive_gold = models.BooleanField(default=True)
    gold_rate_new = models.FloatField(default=0.2, help_text="For new or low-trust raters.")
    gold_rate_trusted = models.FloatField(
        default=0.03, help_text="For raters with proven accuracy."
    )
    gold_rate_floor = models.FloatField(default=0.02)
    new_rater_gold = models.PositiveSmallIntegerField(
        default=10, help_text="Gold answers before a rater counts as known."
    )
    # Trust rules on the Beta posterior of gold accuracy
    warn_below = models.FloatField(default=0.75, help_text="T1: warn when the mean falls below.")
    # Defaults chosen by simulation: a 90%-accurate rater is practically never suspended,
    # while a coin-flipping one is, after about 20 check questions.
    suspend_below = models.FloatField(
        default=0.5, help_text="T2: suspend when the lower credible bound falls below."
    )
    suspend_min_gold = models.PositiveSmallIntegerField(
        default=20, help_text="M: gold answers needed before suspension."
    )
    retrain_below = models.FloatField(
        default=0.0, help_text="Send back to training when the mean falls below (0: off)."
    )
    # Behaviour signals
    min_seconds_per_item = models.FloatField(default=2.0)
    straightline_streak = models.PositiveSmallIntegerField(default=15)
    auto_suspend_on_flags = models.BooleanField(default=False)
    # Routing by skill (raters.SkillRule): what a rater without any of the project's
    # skills gets. "untagged": the items that need no skill; "wait": nothing, until a
    # manager grants a skill or qualification earns one.
    SKILL_FALLBACKS = (("untagged", "serve items that need no skill"), ("wait", "wait"))
    skill_fallback = models.CharField(max_length=16, choices=SKILL_FALLBACKS, default="untagged")
    # Collection. Dynamic overlap: with a confidence target, an item is done once its
    # posterior reaches it after at least `overlap_min` labels (pairwise: once the interval
    # for P(A beats B) at that level excludes 1/2), and at the latest at the project's
    # overlap, which becomes the maximum (aggregation.numeric.overlap).
    confidence_target = models.FloatField(
        null=True, blank=True, help_text="Dynamic overlap: stop at this confidence (empty: off)."
    )
    overlap_min = models.PositiveSmallIntegerField(
        default=2, help_text="Dynamic overlap: labels every item gets at least."
    )
    likert_width = models.FloatField(
        default=1.0,
        help_text="Dynamic overlap, Likert: done once the interval of the mean is this narrow "
        "(scale points).",
    )
    QUEUE_ORDERS = (
        ("priority", "by priority, then the items closest to done"),
        ("uncertainty", "unlabelled first, then the most uncertain (set by each run)"),
    )
    queue_order = models.CharField(max_length=16, choices=QUEUE_ORDERS, default="priority")
    # Model suggestions on the workbench (modelruns.suggestions): the share of raters, in
    # percent, shown the label of the model run in use for each item. The rest are the control
    # group: the dashboard compares how often each group agrees with the model (anchoring).
    suggest_share = models.PositiveSmallIntegerField(
        default=0,
        help_text="Model suggestions: percent of raters shown the model's label (the pinned "
        "run, else the latest; 0: off). The others are the control for the anchoring measure.",
    )

    class Meta:
        verbose_name_plural = "quality policies"

    def __str__(self) -> str:
        return f"quality rules of {self.project}"


class GoldItem(models.Model):
    """A regular item plus its accepted answer, in exactly one pool.

    The item keeps is_gold=True and lives in the project's item id space, so serving it
    looks like serving any item. One pool per item keeps roles apart: no rater meets the
    same gold item in training and in the live queue.
    """

    class Pool(models.TextChoices):
        QUALIFICATION = "qualification"
        TRAINING = "training"
        CALIBRATION = "calibration"
        INJECTION = "injection"

    class Source(models.TextChoices):
        MANUAL = "manual"
        IMPORT = "import"
        PROMOTED = "promoted"

    item = models.OneToOneField("tasks.Item", on_delete=models.CASCADE, related_name="gold")
    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="gold_items"
    )
    pool = models.CharField(max_length=16, choices=Pool.choices)
    # The accepted answer; see quality.scoring for its shapes (partial answers allowed).
    answer = models.JSONField()
    explanation = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    # The live item a promoted gold item was copied from: its raters never get the copy
    # as a check (they answered it in the open).
    source_item = models.ForeignKey(
        "tasks.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0, help_text="Order within its pool.")
    # The guideline sections (their slugs) this item tests: a changed section sends the
    # raters it concerns to a re-qualification on these items.
    sections = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project", "pool", "position"], name="gold_pool_order")]

    def __str__(self) -> str:
        return f"gold {self.item_id} ({self.pool})"


class GoldSession(models.Model):
    """A qualification test, a training run or a calibration session of one rater."""

    class Kind(models.TextChoices):
        QUALIFICATION = "qualification"
        TRAINING = "training"
        CALIBRATION = "calibration"
        REQUALIFICATION = "requalification"

    membership = models.ForeignKey(
        "raters.Membership", on_delete=models.CASCADE, related_name="sessions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    n_items = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(null=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.membership}"


class GoldResponse(models.Model):
    """One answer to a gold item, scored: in a session (with feedback) or silently live."""

    class Mode(models.TextChoices):
        QUALIFICATION = "qualification"
        TRAINING = "training"
        CALIBRATION = "calibration"
        REQUALIFICATION = "requalification"
        INJECTION = "injection"

    gold = models.ForeignKey(GoldItem, on_delete=models.CASCADE, related_name="responses")
    membership = models.ForeignKey(
        "raters.Membership", on_delete=models.CASCADE, related_name="gold_responses"
    )
    session = models.ForeignKey(
        GoldSession, null=True, blank=True, on_delete=models.CASCADE, related_name="responses"
    )
    # SET_NULL: an undone live answer keeps its score; a gold item is scored once.
    annotation = models.OneToOneField(
        "annotation.Annotation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices)
    value = models.JSONField()
    score = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Once per item in a session; live answers are unique through their annotation.
            models.UniqueConstraint(
                fields=["session", "gold"], name="gold_response_once_per_session"
            )
        ]
        indexes = [
            models.Index(fields=["membership", "mode", "created_at"], name="gold_response_history")
        ]

    def __str__(self) -> str:
        return f"{self.membership} on {self.gold} = {self.score:.2f}"

    @property
    def correct(self) -> bool:
        return self.score >= 0.999


class Adjudication(models.Model):
    """A reviewer's final label for a disputed item: it overrides the aggregate in exports.

    One per item; deciding again replaces the label and keeps who and when of the latest.
    """

    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="adjudications"
    )
    item = models.OneToOneField("tasks.Item", on_delete=models.CASCADE, related_name="adjudication")
    # The final answer in the kind's canonical shape (tasks/schema.py).
    label = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    # The aggregate it replaced, for the record (None when there was no run yet).
    aggregate_label = models.JSONField(null=True, blank=True)
    aggregate_confidence = models.FloatField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "item"], name="adjudication_project_item")]

    def __str__(self) -> str:
        return f"adjudication of {self.item_id}"


class RelabelRequest(models.Model):
    """A reviewer asked for more labels on an item.

    Items carry no per-item overlap, so the request is recorded here and the work queue is
    expected to read ``extra_labels`` (see docs/dashboards.md); it is open until resolved.
    """

    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="relabel_requests"
    )
    item = models.ForeignKey("tasks.Item", on_delete=models.CASCADE, related_name="+")
    extra_labels = models.PositiveSmallIntegerField(default=2)
    # Votes the item had when asked: the request is met at n_done_then + extra_labels.
    n_done_then = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(resolved_at__isnull=True),
                name="relabel_one_open_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.extra_labels} more labels for {self.item_id}"


class DashboardSnapshot(models.Model):
    """Project figures too costly to compute per page view, computed by a job.

    ``data`` holds annotations per day, label distribution, Krippendorff's alpha by week and
    by guideline version, the kappa matrix of the most active raters, the project's speed
    histogram, the confidence histogram and the most disputed items of the current run.
    """

    project = models.ForeignKey("tasks.Project", on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField(db_index=True)
    run = models.ForeignKey(
        "aggregation.AggregationRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["project", "-computed_at"], name="dashboard_snapshot_latest")
        ]

    def __str__(self) -> str:
        return f"dashboard figures of {self.project_id} at {self.computed_at}"


class Requalification(models.Model):
    """A rater must pass a short test on the gold of guideline sections that a new version
    changed before more live items (the queue's gate); open until `passed_at`."""

    membership = models.ForeignKey(
        "raters.Membership", on_delete=models.CASCADE, related_name="requalifications"
    )
    guideline = models.ForeignKey("tasks.Guideline", on_delete=models.CASCADE, related_name="+")
    sections = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    passed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["membership"],
                condition=models.Q(passed_at__isnull=True),
                name="requalification_open",
            )
        ]

    def __str__(self) -> str:
        return f"re-qualification of {self.membership} on {', '.join(self.sections)}"
