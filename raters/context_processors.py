"""What every page's top menu needs to know about the user."""

from functools import cached_property


class _Nav:
    def __init__(self, user):
        self.user = user

    @cached_property
    def manages(self) -> bool:
        """Whether the menu shows Dashboards: asked only by pages that draw the menu, so
        htmx partials never pay the query."""
        from raters.models import Membership

        if not self.user.is_authenticated:
            return False
        if self.user.is_superuser:
            return True
        return Membership.objects.filter(user=self.user, role=Membership.Role.MANAGER).exists()


def nav(request) -> dict:
    return {"nav": _Nav(request.user)}
