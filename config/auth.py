"""The sign-in backend: Django's own, told of a user row a view has read already.

Django checks a session on every request by loading its user (one query) and comparing the
hash the session holds with the user's. The workbench reads the annotator's seat in one
statement that brings the user's row as well (annotation.queue.seat), so on those requests
that second read is the same row again. `known_user` hands the row to `Backend.get_user`
for the duration of the check; Django's check itself (the session hash, the fallback
secrets, an inactive user refused) runs unchanged on it.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth.backends import ModelBackend

_known = ContextVar("vox_known_user", default=None)


class Backend(ModelBackend):
    def get_user(self, user_id):
        user = _known.get()
        if user is None or user.pk != user_id:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None


@contextmanager
def known_user(user):
    """While inside, a session of `user` is checked against this row, not read again."""
    token = _known.set(user)
    try:
        yield
    finally:
        _known.reset(token)
