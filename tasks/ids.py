"""Public item ids: a keyed permutation of database ids.

Raters see items by public id only. Database ids grow in creation order, so a batch of
gold items created after the live items would stand out by its id range; the
permutation scatters every id over the same 32-bit space, gold and live alike. It is a
4-round Feistel network keyed by SECRET_KEY, so it is a bijection and cheap both ways.
"""

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

_HALF_BITS = 16
_MASK = (1 << _HALF_BITS) - 1
_ROUNDS = 4
MAX_ID = (1 << (2 * _HALF_BITS)) - 1


@lru_cache(maxsize=4)
def _round_keys(secret: str) -> tuple[bytes, ...]:
    base = hashlib.sha256(f"vox-item-ids:{secret}".encode()).digest()
    return tuple(hashlib.sha256(base + bytes([r])).digest() for r in range(_ROUNDS))


def _f(key: bytes, half: int) -> int:
    digest = hmac.new(key, half.to_bytes(2, "big"), hashlib.sha256).digest()
    return int.from_bytes(digest[:2], "big")


def encode_item_id(pk: int) -> int:
    if not 0 <= pk <= MAX_ID:
        raise ValueError("item id out of range for public ids")
    left, right = pk >> _HALF_BITS, pk & _MASK
    for key in _round_keys(settings.SECRET_KEY):
        left, right = right, left ^ _f(key, right)
    return (left << _HALF_BITS) | right


def decode_item_id(public: int) -> int:
    if not 0 <= public <= MAX_ID:
        raise ValueError("not a public item id")
    left, right = public >> _HALF_BITS, public & _MASK
    for key in reversed(_round_keys(settings.SECRET_KEY)):
        left, right = right ^ _f(key, left), left
    return (left << _HALF_BITS) | right
