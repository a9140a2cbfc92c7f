"""Wrong passwords are throttled by account and by address, at the login page, the token
endpoint and the admin's login; a locked account stays locked even for the right
password, until the cool-off ends or an admin unlocks it."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def alice():
    user = UserFactory(username="alice", is_staff=True, is_superuser=True)
    user.set_password("right-password")
    user.save()
    return user


def login(client, password, username="alice", ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_the_right_password_is_refused_after_the_limit_of_wrong_ones(client, alice):
    for _ in range(LIMIT - 1):
        assert login(client, "wrong").status_code == 200  # the form again, with its error
    assert login(client, "right-password").status_code == 302  # under the limit: let in
    client.logout()
    for _ in range(LIMIT):
        login(client, "wrong")
    locked = login(client, "right-password")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session


def test_an_account_is_locked_from_every_address_and_an_address_for_every_account(client, alice):
    UserFactory(username="bob").set_password("bobs")
    for i in range(LIMIT):
        login(client, "wrong", ip=f"10.0.1.{i}")  # one account, many addresses
    assert login(client, "right-password", ip="10.9.9.9").status_code == 429
    for i in range(LIMIT):
        login(client, "wrong", username=f"nobody{i}", ip="10.0.2.1")  # one address
    assert login(client, "bobs", username="bob", ip="10.0.2.1").status_code == 429


def test_the_token_endpoint_and_the_admin_login_share_the_count(client, alice):
    url = reverse("api:token")
    for _ in range(LIMIT - 2):
        response = client.post(url, {"username": "alice", "password": "wrong"},
                               REMOTE_ADDR="10.0.3.1")  # fmt: skip
        assert response.status_code == 400
    admin = reverse("admin:login")
    client.post(admin, {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.3.1")
    client.post(admin, {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.3.1")
    response = client.post(
        url, {"username": "alice", "password": "right-password"}, REMOTE_ADDR="10.0.3.1"
    )
    assert response.status_code == 429
    assert "Too many failed logins" in response.json()["detail"]
    assert "token" not in response.json()


def test_an_admin_unlocks_an_account_by_command(client, alice):
    for _ in range(LIMIT):
        login(client, "wrong")
    assert login(client, "right-password").status_code == 429
    call_command("axes_reset_username", "alice")
    call_command("axes_reset_ip", "10.0.0.1")
    assert login(client, "right-password").status_code == 302
