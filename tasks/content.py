"""Item content, compared by hash; no Django here, so the importer can use it."""

import hashlib

import orjson


def content_hash(data) -> int:
    """A 64-bit hash of an item's content, the same for equal data whatever its key order.

    Gold made from a live item's content (promoted, or imported twice) is no check on a
    rater who labelled that content; the queue compares these to tell. 64 bits keep it
    one bigint column; a collision only withholds one gold item from one rater.
    """
    canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    return int.from_bytes(hashlib.blake2b(canonical, digest_size=8).digest(), "big", signed=True)
