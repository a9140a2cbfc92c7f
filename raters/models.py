from django.conf import settings
from django.db import models


class Stage(models.TextChoices):
    """An annotator's onboarding stage in one project.

    invited -> training -> qualifying -> qualified -> (warned) -> suspended, or removed.
    Only qualified and warned raters get live items.
    """

    INVITED = "invited"
    TRAINING = "training"
    QUALIFYING = "qualifying"
    QUALIFIED = "qualified"
    WARNED = "warned"
    SUSPENDED = "suspended"
    REMOVED = "removed"


LIVE_STAGES = (Stage.QUALIFIED, Stage.WARNED)


class Membership(models.Model):
    """A user's role in one project. Site admins (superusers) need none to manage."""

    class Role(models.TextChoices):
        MANAGER = "manager"
        ANNOTATOR = "annotator"

    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.QUALIFIED)
    # A manager may let trusted raters adjudicate disputed items.
    is_reviewer = models.BooleanField(default=False)
    # Running gold accuracy from silent gold in the live queue: the Beta posterior's counts.
    gold_n = models.PositiveIntegerField(default=0)
    gold_score_sum = models.FloatField(default=0.0)
    # Answers left before the trust rules next run (None: none pending). They run a few
    # answers after a gold answer, not right after it (quality.services.trust_check_*).
    trust_check_in = models.PositiveSmallIntegerField(null=True, blank=True)
    # Calibration bookkeeping: live answers since the last calibration, and when it was.
    live_since_calibration = models.PositiveIntegerField(default=0)
    calibrated_at = models.DateTimeField(null=True, blank=True)
    calibration_requested = models.BooleanField(default=False)
    qualification_attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} of {self.project}"

    @property
    def gets_live_items(self) -> bool:
        return self.role == self.Role.ANNOTATOR and self.stage in LIVE_STAGES


class StageTransition(models.Model):
    """The audit trail of stage changes: who (the system when actor is empty) and why."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.membership}: {self.from_stage} -> {self.to_stage}"


class RaterNotice(models.Model):
    """A message to a rater about an action taken on them, shown in their UI until read."""

    class Level(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        ACTION = "action"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notices")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.INFO)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.level} for {self.membership}"


class SkillRule(models.Model):
    """Routing: this project's items tagged `tag` go only to raters whose skill `tag` is at
    least `min_level` (0–100, as Toloka's skills). A skill counts as earned from gold only
    after `min_gold` check answers on items with the tag (Potato's category qualification
    has the same two numbers: a threshold and a minimum number of questions)."""

    project = models.ForeignKey(
        "tasks.Project", on_delete=models.CASCADE, related_name="skill_rules"
    )
    tag = models.CharField(max_length=64)
    min_level = models.PositiveSmallIntegerField(default=70)
    min_gold = models.PositiveSmallIntegerField(default=5)

    class Meta:
        ordering = ["tag"]
        constraints = [
            models.UniqueConstraint(fields=["project", "tag"], name="skill_rule_unique_tag"),
            models.CheckConstraint(
                condition=models.Q(min_level__lte=100), name="skill_rule_level_le_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} >= {self.min_level} in {self.project}"


class Skill(models.Model):
    """A rater's skill for one tag of one project: granted by a manager, earned from gold
    answers on items with the tag, or both; a grant decides over what gold says."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="skills")
    tag = models.CharField(max_length=64)
    granted_level = models.PositiveSmallIntegerField(null=True, blank=True)
    # Gold answers on items with the tag (qualification, training, calibration and silent
    # gold alike) and the level they earn: 100 × the posterior mean accuracy
    # (quality.numeric.trust_posterior), whatever their number; a rule decides from how
    # many answers on it counts (SkillRule.min_gold).
    gold_n = models.PositiveIntegerField(default=0)
    gold_score_sum = models.FloatField(default=0.0)
    earned_level = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tag"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "tag"], name="skill_unique_tag")
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.tag}"


class SkillChange(models.Model):
    """The audit trail of skills, as StageTransition is of stages: a grant or revocation
    by a manager, or an earned level crossing a rule's bar."""

    class Source(models.TextChoices):
        GRANTED = "granted"
        REVOKED = "revoked"
        EARNED = "earned"

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="skill_changes"
    )
    tag = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=Source.choices)
    from_level = models.PositiveSmallIntegerField(null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.membership}: {self.tag} {self.from_level} -> {self.to_level}"
