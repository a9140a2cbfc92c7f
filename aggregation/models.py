from django.conf import settings
from django.db import models
from django.db.models import Q


class Method(models.TextChoices):
    """Aggregation methods. Which ones apply depends on the project's kind (see methods.py)."""

    # Chooses one of the categorical methods per run (aggregation.numeric.auto); the run's
    # stats name the choice and why.
    AUTO = "auto"
    MAJORITY = "majority"
    WEIGHTED = "weighted"
    DAWID_SKENE = "dawid_skene"
    ONE_COIN = "one_coin"
    MACE = "mace"
    GLAD = "glad"
    MEAN = "mean"
    MEDIAN = "median"
    BIAS_CORRECTED = "bias_corrected"
    BRADLEY_TERRY = "bradley_terry"
    PLACKETT_LUCE = "plackett_luce"
    BORDA = "borda"


class AggregationSettings(models.Model):
    """A project's aggregation choices and the counter behind the automatic trigger.

    Created lazily (aggregation_settings_for); a project without a row uses the defaults.
    """

    project = models.OneToOneField(
        "tasks.Project", on_delete=models.CASCADE, related_name="aggregation_settings"
    )
    # Descriptive paradigm (Röttger et al. 2022): disagreement is signal, not noise. Raters
    # are then judged on gold only, and exports lead with the soft label distribution.
    subjective = models.BooleanField(default=False)
    method = models.CharField(max_length=32, choices=Method.choices, blank=True, default="")
    parameters = models.JSONField(default=dict, blank=True)
    # Run again after this many new annotations (0 turns the trigger off).
    run_every_annotations = models.PositiveIntegerField(default=500)
    # Run on the beat schedule when annotations arrived since the last run.
    run_on_schedule = models.BooleanField(default=True)
    # New annotations not yet covered by a queued run; reset when one is queued.
    pending_annotations = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "aggregation settings"

    def __str__(self) -> str:
        return f"aggregation settings of {self.project_id}"


class AggregationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        MANAGER = "manager"
        SCHEDULE = "schedule"
        ANNOTATIONS = "annotations"

    class Phase(models.TextChoices):
        QUEUED = "queued"
        LOADING = "loading"
        FITTING = "fitting"
        WRITING = "writing"
        DONE = "done"

    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="aggregation_runs"
    )
    method = models.CharField(max_length=32, choices=Method.choices)
    parameters = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANAGER)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    # Deliveries that claimed the run; a worker lost mid-run leaves it running with a stale
    # heartbeat, and the redelivered job claims it again until max attempts.
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds per phase, and what the fit reports (iterations, convergence, counts, leaderboard).
    timings = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"], condition=Q(is_current=True), name="aggregation_one_current"
            ),
            # Debounce: at most one queued run per project and method.
            models.UniqueConstraint(
                fields=["project", "method"],
                condition=Q(status="queued"),
                name="aggregation_one_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} run {self.pk} of project {self.project_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ItemResult(models.Model):
    """One item's aggregate in one run. The shapes of label and distribution depend on the
    project's kind; docs/aggregation.md lists them."""

    run = models.ForeignKey(AggregationRun, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey("tasks.Item", on_delete=models.CASCADE, related_name="+")
    label = models.JSONField(null=True)
    confidence = models.FloatField(null=True)
    distribution = models.JSONField(default=dict)
    n_votes = models.FloatField(default=0.0)
    # Share of the raw votes on the most common answer (quality.dashboard_services.
    # item_agreement), written by the dashboard job that follows the run; None until then,
    # and for kinds whose answers can't agree exactly (free text, spans).
    agreement = models.FloatField(null=True, blank=True)
    # Method-specific extras: margin for pairwise, per-dimension median for Likert, ...
    extra = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="item_result_unique_run_item")
        ]

    def __str__(self) -> str:
        return f"result of item {self.item_id} in run {self.run_id}"


class RaterScore(models.Model):
    """A time-stamped snapshot of one rater's measured quality in one project.

    Fields are None where the project's kind or the data do not support them. In subjective
    projects agreement and kappa are recorded but are not grounds for penalising
    (``agreement_penalises`` is False): trust rules must read gold accuracy only.
    """

    project = models.ForeignKey("tasks.Project", on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField(db_index=True)
    run = models.ForeignKey(
        AggregationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    n_annotations = models.PositiveIntegerField(default=0)
    # Beta posterior of live gold accuracy (Membership.gold_n / gold_score_sum).
    gold_n = models.PositiveIntegerField(default=0)
    gold_accuracy_mean = models.FloatField(null=True)
    gold_accuracy_lower = models.FloatField(null=True)
    agreement_with_aggregate = models.FloatField(null=True)
    kappa_mean = models.FloatField(null=True)
    agreement_penalises = models.BooleanField(default=True)
    # (n_labels, n_labels) rows = true label, columns = given label, in schema order.
    ds_confusion = models.JSONField(null=True)
    ds_accuracy = models.FloatField(null=True)
    # What dynamic overlap's stop rule reads for this rater (single choice): the confusion
    # matrix re-estimated with leave-one-out credit and shrunk towards the crowd's pooled
    # matrix (aggregation.numeric.overlap.rater_confusion), same layout as ds_confusion.
    stop_confusion = models.JSONField(null=True)
    mace_competence = models.FloatField(null=True)
    # Rating kinds (Likert, rubric): counts of each rating given (columns) against the final
    # rating rounded (rows), and Cohen's quadratic-weighted kappa against it.
    ordinal_confusion = models.JSONField(null=True)
    ordinal_kappa = models.FloatField(null=True)
    # Ranking kinds: the mean Kendall tau-b of the rater's rankings against the final order
    # (ordinal_confusion then counts places: final place rows, the rater's tier columns).
    ranking_tau = models.FloatField(null=True)
    duration_ms_median = models.FloatField(null=True)
    active_ms_median = models.FloatField(null=True)
    fast_fraction = models.FloatField(null=True)
    # Straight-lining: longest run of identical consecutive answers and the modal share.
    straightline_streak = models.PositiveIntegerField(null=True)
    modal_share = models.FloatField(null=True)
    # Pairwise: answers for the left / right screen position and the binomial p-value.
    position_left = models.PositiveIntegerField(null=True)
    position_right = models.PositiveIntegerField(null=True)
    position_share_left = models.FloatField(null=True)
    position_p_value = models.FloatField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "rater", "-computed_at"], name="rater_score_latest")
        ]

    def __str__(self) -> str:
        return f"score of {self.rater_id} in {self.project_id} at {self.computed_at}"
