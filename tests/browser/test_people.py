"""People in the browser: an admin invites someone, a manager adds many members at once."""

import pytest

from raters.models import Membership
from tests.browser.conftest import log_in
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_invites_someone_and_a_manager_adds_them_with_others(
    live_server, page, screenshot
):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    project = ProjectFactory(name="Sentiment")
    manager = UserFactory(username="mona")
    MembershipFactory(project=project, user=manager, role=Membership.Role.MANAGER)
    UserFactory(username="ann")

    log_in(page, live_server.url, "root")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username").fill("nora")
    page.get_by_role("button", name="Add").click()
    link = page.locator(".invite-link").input_value()
    assert "/accounts/reset/" in link
    screenshot("people-invited")

    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_text("Add many at once").click()
    page.get_by_label("Usernames", exact=True).fill("ann\nnora,manager\nzed")
    page.get_by_role("button", name="Add all").click()
    page.get_by_text("Nobody was added. line 3: no user named 'zed'").wait_for()
    page.get_by_text("Add many at once").click()
    page.get_by_label("Usernames", exact=True).fill("ann\nnora,manager")
    page.get_by_role("button", name="Add all").click()
    page.get_by_text("2 members added.").wait_for()
    screenshot("members-added")
    roles = dict(Membership.objects.filter(project=project).values_list("user__username", "role"))
    assert roles == {"mona": "manager", "ann": "annotator", "nora": "manager"}
