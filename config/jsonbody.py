"""How every door reads a JSON body: the API's parser (config.parsers), the work queue's
fast lane (annotation.fastlane) and the importer's lines share these limits.

Two things a JSON body can hold that the stack cannot take, refused here with the field
named: nesting deep enough to exhaust Python's recursion (json.loads raises
RecursionError, a 500, at about a thousand levels, and so does every later walk of the
value), and NUL characters, which PostgreSQL refuses in text and jsonb.
"""

from __future__ import annotations

import orjson

# Deeper than any label schema, answer or item needs (a ranking of chat turns is ~6).
MAX_DEPTH = 64


class BadJson(ValueError):
    """A body that is not JSON Vox accepts; the message names the field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def loads(raw: bytes | str):
    """Parse `raw` as strict JSON (no NaN or Infinity), then `check` it."""
    try:
        # orjson refuses past 1,024 levels with an error instead of recursing.
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadJson(f"JSON parse error - {exc}") from None
    check(value)
    return value


def check(value, max_depth: int = MAX_DEPTH) -> None:
    """Raise BadJson if `value` nests deeper than `max_depth` or holds a NUL character in
    any key or string. Iterative, so a deep value cannot exhaust the stack here."""
    stack = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise BadJson(f"{path or 'the body'} contains a NUL character (\\u0000)", path)
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                raise BadJson(f"{path or 'the body'} nests deeper than {max_depth} levels", path)
            pairs = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in pairs:
                if isinstance(key, str) and "\x00" in key:
                    raise BadJson(f"a key in {path or 'the body'} contains a NUL character", path)
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
