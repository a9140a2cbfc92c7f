"""The API token page: make a token (shown once), replace it, revoke it; POSTs need CSRF."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

PAGE = "/account/token/"


def shown_key(html: str) -> str | None:
    match = re.search(r'value="([0-9a-f]{40})" aria-label="New API token"', html)
    return match and match.group(1)


def api_status(key: str) -> int | str:
    """200, or the API's reason for refusing the key."""
    response = Client().get("/api/projects/", HTTP_AUTHORIZATION=f"Token {key}")
    return 200 if response.status_code == 200 else response.json()["detail"]


@pytest.fixture
def user(db):
    return UserFactory(username="tess")


def test_the_user_menu_links_to_the_token_page(client, user):
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert f'<a href="{PAGE}">API token</a>' in html


def test_a_new_token_is_shown_once_and_works_on_the_api(client, user):
    client.force_login(user)
    assert "You have no API token." in client.get(PAGE).content.decode()
    made = client.post(PAGE)
    assert made.status_code == 302 and made["Location"] == PAGE
    response = client.get(PAGE)
    key = shown_key(response.content.decode())
    assert key == Token.objects.get(user=user).key
    assert "no-store" in response["Cache-Control"]
    assert api_status(key) == 200
    later = client.get(PAGE).content.decode()
    assert key not in later and "You have a token, made" in later
    assert Token.objects.get(user=user).key == key  # looking again changes nothing


def test_a_replacement_token_turns_the_old_one_off(client, user):
    client.force_login(user)
    old = shown_key(client.post(PAGE, follow=True).content.decode())
    new = shown_key(client.post(PAGE, follow=True).content.decode())
    assert new and new != old
    assert (api_status(old), api_status(new)) == ("Invalid token.", 200)
    assert Token.objects.filter(user=user).count() == 1


def test_a_revoked_token_is_refused_and_the_page_says_so(client, user):
    client.force_login(user)
    key = shown_key(client.post(PAGE, follow=True).content.decode())
    response = client.post(reverse("raters:api-token-revoke"), follow=True)
    html = response.content.decode()
    assert "Your API token is revoked" in html and "You have no API token." in html
    assert api_status(key) == "Invalid token."
    assert not Token.objects.filter(user=user).exists()


def test_one_users_revoke_leaves_another_users_token_alone(client, user):
    other = Token.objects.create(user=UserFactory(username="olga"))
    client.force_login(user)
    client.post(PAGE)
    client.post(reverse("raters:api-token-revoke"))
    assert api_status(other.key) == 200


def test_posts_without_the_csrf_token_are_refused(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post(PAGE).status_code == 403
    Token.objects.create(user=user)
    assert browser.post(reverse("raters:api-token-revoke")).status_code == 403
    assert Token.objects.filter(user=user).exists()
    # The page's own forms carry the token, so the same POST from the page goes through.
    html = browser.get(PAGE).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert browser.post(PAGE, {"csrfmiddlewaretoken": csrf}).status_code == 302


def test_anonymous_visitors_are_sent_to_log_in_and_revoke_takes_only_post(client, user):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(PAGE).status_code == 302
    assert not Token.objects.exists()
    client.force_login(user)
    assert client.get(reverse("raters:api-token-revoke")).status_code == 405
