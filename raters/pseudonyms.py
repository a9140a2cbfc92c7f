"""Rater pseudonyms: a stable name for a rater within one project that does not say who.

Managers browsing items and reviewers adjudicating see answers by pseudonym, and exports
carry them, so a rater's pattern can be followed across items (and across files of one
project) while their identity stays on the people pages. A pseudonym is a keyed hash of
the project and the user: the same pair always gives the same name, another project
gives another, and without SECRET_KEY no one can work back to the user.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

PREFIX = "R-"
# 40 bits: among 10,000 raters of one project the chance that two share a name is ~5e-5.
_CHARS = 8


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hashlib.sha256(f"vox-rater-pseudonyms:{secret}".encode()).digest()


def rater_pseudonym(project_id: int, user_id: int) -> str:
    digest = hmac.new(
        _key(settings.SECRET_KEY), f"{project_id}:{user_id}".encode(), hashlib.sha256
    ).digest()
    return PREFIX + base64.b32encode(digest[:5]).decode()[:_CHARS]


def is_pseudonym(text: str) -> bool:
    return len(text) == len(PREFIX) + _CHARS and text.upper().startswith(PREFIX)
