"""Browser sessions in full mode: read from Redis, kept in the database, and still usable
while Redis is away."""

import pytest
from django.conf import settings
from django.urls import reverse

from config import sessions


class Down:
    """A cache whose server is unreachable."""

    def _fail(self, *args, **kwargs):
        raise ConnectionError("redis is down")

    get = set = delete = _fail

    def __contains__(self, key):
        raise ConnectionError("redis is down")


@pytest.mark.django_db
def test_a_session_is_read_and_saved_from_the_database_while_the_cache_is_down(monkeypatch):
    store = sessions.SessionStore()
    store["n"] = 1
    store.save()
    key = store.session_key
    monkeypatch.setattr(sessions.cached_db, "caches", {settings.SESSION_CACHE_ALIAS: Down()})
    again = sessions.SessionStore(key)
    assert again["n"] == 1
    again["n"] = 2
    again.save()
    assert sessions.SessionStore(key)["n"] == 2


@pytest.mark.django_db
def test_a_logout_while_the_cache_is_down_fails_rather_than_leaving_the_session_behind(
    monkeypatch,
):
    store = sessions.SessionStore()
    store["n"] = 1
    store.save()
    monkeypatch.setattr(sessions.cached_db, "caches", {settings.SESSION_CACHE_ALIAS: Down()})
    with pytest.raises(ConnectionError):
        sessions.SessionStore(store.session_key).delete()


@pytest.mark.django_db
def test_the_workbench_logs_in_with_the_session_store(client, settings, rater, project, items):
    settings.SESSION_ENGINE = "config.sessions"
    client.force_login(rater)
    assert client.get(reverse("annotation:label", args=[project.pk])).status_code == 200
