"""The API token page in the browser: a user makes a token from the menu, sees it once,
uses it from the vox client, and revokes it."""

import pytest
from rest_framework.authtoken.models import Token

from tests.browser.conftest import log_in
from tests.client.conftest import CLIENT_DIR  # noqa: F401 - puts client/ on sys.path
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_makes_a_token_from_the_menu_uses_it_and_revokes_it(live_server, page, screenshot):
    from vox_client import Client, VoxError

    UserFactory(username="tess")
    log_in(page, live_server.url, "tess")
    page.get_by_role("link", name="API token").click()
    page.get_by_text("You have no API token.").wait_for()
    page.get_by_role("button", name="Create a token").click()
    key = page.get_by_label("New API token").input_value()
    assert key == Token.objects.get(user__username="tess").key
    page.get_by_text("it is shown only this once").wait_for()
    screenshot("api-token-new")  # a throwaway test token, revoked below

    assert Client(live_server.url, key).projects() == []

    page.reload()  # the key is not shown a second time, nor the token replaced
    page.get_by_text("You have a token, made").wait_for()
    assert page.get_by_label("New API token").count() == 0
    assert Token.objects.get(user__username="tess").key == key
    screenshot("api-token-made")

    page.get_by_role("button", name="Revoke token").click()
    page.get_by_text("Your API token is revoked").wait_for()
    page.get_by_text("You have no API token.").wait_for()
    screenshot("api-token-revoked")
    with pytest.raises(VoxError, match="Invalid token."):
        Client(live_server.url, key).projects()
