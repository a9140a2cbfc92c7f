"""Reads about accounts that are not about one project."""

from __future__ import annotations

from rest_framework.authtoken.models import Token


def api_token_for_user(user) -> Token | None:
    """The user's API token, or None. Pages show when it was made, never its key again."""
    return Token.objects.filter(user=user).first()
