from django.conf import settings
from django.db import models


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
    # Onboarding stage of an annotator; only qualified (or warned) raters get live items.
    stage = models.CharField(max_length=16, default="qualified")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} of {self.project}"
