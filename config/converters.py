"""The `id` path converter: a database id of at most 18 digits.

Django's `int` takes any run of digits; an id past bigint (2**63 - 1, 19 digits) then
reaches the database, which refuses it in a prepared statement with an error, a 500.
Eighteen digits always fit, and no id will reach them, so a longer one is simply a URL
that does not match: 404.
"""

import re

from django.core.exceptions import BadRequest
from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")


_ID = re.compile(IdConverter.regex)


def id_or_none(value) -> int | None:
    """A posted id by the converter's rule (form fields, query parameters), else None: what
    would not match in a URL is no id in a form either."""
    text = str(value).strip()
    return int(text) if _ID.fullmatch(text) else None


def posted_id(data, name: str) -> int | None:
    """The id a form posted as `name`: None when absent, a 400 naming the field when it is
    no id (`abc`, `1.5`, past bigint) rather than an answer that depends on the value."""
    value = data.get(name)
    if value is None or value == "":
        return None
    parsed = id_or_none(value)
    if parsed is None:
        raise BadRequest(f"{name}: must be a whole-number id")
    return parsed


def posted_ids(data, name: str) -> list[int]:
    """Every id posted as `name` (a list of checkboxes), by posted_id's rule."""
    return [posted_id({name: v}, name) for v in data.getlist(name) if v != ""]
