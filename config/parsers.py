"""The API's JSON parser: DRF's, reading through config.jsonbody, so a body nested 50,000
levels deep or holding a NUL character is a 400 naming the field, not a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DrfJSONParser

from config import jsonbody


class JSONParser(DrfJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return jsonbody.loads(raw)
        except jsonbody.BadJson as exc:
            raise parse_error(exc) from None


def parse_error(exc: jsonbody.BadJson) -> ParseError:
    """DRF's shape: a field's error under the field's name, the body's under "detail"."""
    return ParseError({exc.field: [str(exc)]} if exc.field else str(exc))
