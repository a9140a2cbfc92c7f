"""Admins make accounts in the UI: with a password, or with an invitation link."""

import re

from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory


def admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_an_admin_invites_someone_who_then_sets_a_password_and_logs_in(client, db):
    page = admin_client(client).post(
        reverse("raters:people"), {"username": "nora", "email": "nora@example.com"}
    )
    html = page.content.decode()
    link = re.search(r'class="invite-link" readonly value="(http://testserver[^"]+)"', html).group(
        1
    )
    nora = get_user_model().objects.get(username="nora")
    assert not nora.has_usable_password() and "(invited)" in html
    client.logout()
    step = client.get(link.removeprefix("http://testserver"), follow=True)
    form_url = step.redirect_chain[-1][0]
    done = client.post(
        form_url, {"new_password1": "a-long-pass-phrase", "new_password2": "a-long-pass-phrase"}
    )
    assert done.status_code == 302
    nora.refresh_from_db()
    assert nora.check_password("a-long-pass-phrase")
    login = client.post(reverse("login"), {"username": "nora", "password": "a-long-pass-phrase"})
    assert login.status_code == 302
    # The link works once: with the password set, its token no longer matches.
    again = client.get(link.removeprefix("http://testserver"), follow=True)
    assert "new_password1" not in again.content.decode()


def test_an_admin_sets_an_initial_password_and_bad_fields_are_named(client, db):
    admin_client(client)
    client.post(reverse("raters:people"), {"username": "omar", "password": "another-long-one"})
    assert get_user_model().objects.get(username="omar").check_password("another-long-one")
    for post, message in (
        ({"username": "Omar"}, "username: &#x27;Omar&#x27; is taken"),
        ({"username": "bad name!"}, "username: Enter a valid username."),
        ({"username": "pia", "email": "nope"}, "email: is not an email address"),
        ({"username": "pia", "password": "123"}, "password: This password is too short."),
    ):
        html = client.post(reverse("raters:people"), post).content.decode()
        assert message in html, post
    assert not get_user_model().objects.filter(username="pia").exists()


def test_only_admins_see_the_people_page(client, manager):
    client.force_login(manager)
    assert client.get(reverse("raters:people")).status_code == 404
    assert "People</a>" not in client.get(reverse("home")).content.decode()
    admin_client(client)
    assert "People</a>" in client.get(reverse("home")).content.decode()
