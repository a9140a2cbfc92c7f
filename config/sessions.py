"""Sessions read from Redis and written through to the database, that outlive a Redis
restart.

Django's cached_db store already falls back to the database when a cache read fails, but
a failed cache write (Redis restarting) would fail the whole request. Here a failed read
or write only logs: the database holds every session either way. A failed delete still
fails the request, so a logout or a login's key change never leaves a usable copy of the
old session behind in Redis.
"""

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class _Tolerant:
    def __init__(self, cache):
        self._cache = cache

    def get(self, *args, **kwargs):
        try:
            return self._cache.get(*args, **kwargs)
        except Exception:
            logger.warning("session cache unavailable; reading the database", exc_info=True)
            return None

    def set(self, *args, **kwargs):
        try:
            self._cache.set(*args, **kwargs)
        except Exception:
            logger.warning("session cache unavailable; written to the database only")

    def __contains__(self, key):
        try:
            return key in self._cache
        except Exception:
            return False

    def __getattr__(self, name):  # delete and the rest: errors propagate
        return getattr(self._cache, name)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _Tolerant(self._cache)
