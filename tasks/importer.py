"""Reading, checking and saving import files: JSONL, CSV and JSON arrays.

An import runs in two passes so that a file with any error saves nothing:
1. `import_validate` streams the file once, checks every record with the schema module,
   and spools the records it will save, already in PostgreSQL's COPY text format, to a
   temporary file. Memory stays flat whatever the file size; only the set of external
   ids is kept, to find duplicates.
2. `spool_write` saves the spool in one transaction: with COPY on PostgreSQL (a million
   items in well under a minute), with batched inserts elsewhere.

Every error names the line and the field, e.g. line 7, `labels[1].value.choice`.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
from django.conf import settings

from config import jsonbody
from tasks import schema as schemas
from tasks.content import content_hash

MAX_REPORTED_ERRORS = 50
PROGRESS_EVERY = 5000
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "json"}
# CSV cells are text; these fields hold structures, so their cells are read as JSON.
CSV_JSON_FIELDS = ("responses", "meta", "labels")
NULL = "\\N"


@dataclass(frozen=True)
class ImportError_:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


class _Fatal(Exception):
    """A syntax error after which the rest of the file cannot be read reliably."""

    def __init__(self, line: int, field: str, message: str):
        super().__init__(message)
        self.error = ImportError_(line, field, message)


def format_of(filename: str) -> str | None:
    for suffix, fmt in FORMATS.items():
        if filename.lower().endswith(suffix):
            return fmt
    return None


def _too_big(n: int) -> str:
    limit = settings.VOX_IMPORT_MAX_ITEM_BYTES
    return f"is {n:,} bytes; the limit is {limit:,} per item (VOX_IMPORT_MAX_ITEM_BYTES)"


# --- Readers: (line number, parsed record, bytes read so far) ---------------------------------


def rows(fh, fmt: str, errors: list) -> Iterator[tuple[int, object, int]]:
    """Parsed records of a binary file; unreadable lines become errors in `errors`."""
    reader = {"jsonl": _jsonl_rows, "csv": _csv_rows, "json": _json_array_rows}[fmt]
    try:
        yield from reader(fh, errors)
    except _Fatal as exc:
        errors.append(exc.error)


def _jsonl_rows(fh, errors: list) -> Iterator[tuple[int, object, int]]:
    n_bytes = 0
    max_bytes = settings.VOX_IMPORT_MAX_ITEM_BYTES
    loads = json.loads
    fast_loads, fast_error = orjson.loads, orjson.JSONDecodeError
    for line_no, raw in enumerate(fh, start=1):
        n_bytes += len(raw)
        if len(raw) > max_bytes:
            errors.append(ImportError_(line_no, "(line)", _too_big(len(raw))))
            continue
        # orjson parses (and checks UTF-8) several times faster; only a line it refuses
        # takes the slow path below, which names the byte or column at fault.
        try:
            record = fast_loads(raw)
        except fast_error:
            pass
        else:
            bad = _nesting_error(record, raw)
            if bad:
                errors.append(ImportError_(line_no, *bad))
            else:
                yield line_no, record, n_bytes
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(
                ImportError_(line_no, "(line)", f"is not valid UTF-8 at byte {exc.start + 1}")
            )
            continue
        if not text.strip():
            continue
        try:
            loads(text)
        except RecursionError:
            errors.append(ImportError_(line_no, "(line)", _TOO_DEEP))
        except json.JSONDecodeError as exc:
            errors.append(
                ImportError_(
                    line_no, "(line)", f"is not valid JSON: {exc.msg} at column {exc.colno}"
                )
            )
        else:
            # Python's parser takes NaN, Infinity and huge integers; JSON and jsonb do not.
            errors.append(
                ImportError_(
                    line_no, "(line)", "is not valid JSON: NaN, Infinity or an integer too large"
                )
            )


# Far more than any label kind's fields plus meta columns.
MAX_CSV_COLUMNS = 1_000


def _csv_rows(fh, errors: list) -> Iterator[tuple[int, object, int]]:
    state = {"line": 0, "bytes": 0}

    def lines():
        # Decoded line by line (not by the buffer), so bad UTF-8 is named by its own line.
        for raw in fh:
            state["line"] += 1
            state["bytes"] += len(raw)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Fatal(
                    state["line"], "(line)", f"is not valid UTF-8 at byte {exc.start + 1}"
                ) from None

    reader = csv.DictReader(lines())
    max_bytes = settings.VOX_IMPORT_MAX_ITEM_BYTES
    try:
        header = reader.fieldnames or []
        if len(header) > MAX_CSV_COLUMNS:
            raise _Fatal(
                1,
                "(header)",
                f"has {len(header):,} columns; the limit is {MAX_CSV_COLUMNS:,}: an item "
                "needs a few fields, so this is likely not the file you meant",
            )
        for row in reader:
            line_no = reader.line_num
            if None in row:
                errors.append(ImportError_(line_no, "(line)", "has more cells than the header"))
                continue
            size = sum(len(v) for v in row.values() if v)
            if size > max_bytes:
                errors.append(ImportError_(line_no, "(line)", _too_big(size)))
                continue
            record, bad = _csv_record(row)
            if bad:
                errors.append(ImportError_(line_no, *bad))
                continue
            yield line_no, record, state["bytes"]
    except csv.Error as exc:
        errors.append(ImportError_(reader.line_num, "(line)", f"is not valid CSV: {exc}"))


def _csv_record(row: dict) -> tuple[dict, tuple[str, str] | None]:
    record = {k: v for k, v in row.items() if k is not None}
    if record.get("external_id") == "":
        record.pop("external_id")
    if "priority" in record:
        try:
            record["priority"] = int(record["priority"] or 0)
        except ValueError:
            return record, ("priority", "must be an integer")
    for name in (*CSV_JSON_FIELDS, "prompt"):
        cell = record.get(name)
        if not isinstance(cell, str):
            continue
        if name == "prompt" and not cell.lstrip().startswith("["):
            continue  # a plain-text prompt; "[" starts a chat transcript in JSON
        if cell.strip() == "" and name != "responses":
            record.pop(name)
            continue
        try:
            record[name] = json.loads(cell)
        except RecursionError:
            return record, (name, _TOO_DEEP)
        except json.JSONDecodeError as exc:
            return record, (name, f"is not valid JSON: {exc.msg} at column {exc.colno}")
        bad = _nesting_error(record[name], cell)
        if bad:
            return record, (name if bad[0] == "(record)" else f"{name}.{bad[0]}", bad[1])
    return record, None


_TOO_DEEP = f"nests deeper than {jsonbody.MAX_DEPTH} levels"


def _nesting_error(value, text: bytes | str) -> tuple[str, str] | None:
    """(field, message) if a parsed record nests too deeply or holds a NUL character
    (config.jsonbody's rule for every JSON body), else None. The brackets and escapes are
    counted in C first: only a record that could break the rule is walked."""
    if isinstance(text, bytes):
        brackets, nul = text.count(b"[") + text.count(b"{"), b"\\u0000" in text
    else:
        brackets, nul = text.count("[") + text.count("{"), "\\u0000" in text or "\x00" in text
    if brackets <= jsonbody.MAX_DEPTH and not nul:
        return None
    try:
        jsonbody.check(value)
    except jsonbody.BadJson as exc:
        field = exc.field or "(record)"
        return field, str(exc).removeprefix(f"{exc.field} ") if exc.field else str(exc)
    return None


_WS = re.compile(r"[ \t\r\n]*")


class _JsonArray:
    """An incremental reader of one JSON array, element by element, with line numbers.

    It keeps at most one element plus one read chunk in memory, and decodes each element
    with the standard library's C decoder (`raw_decode`), so a 1 GB array streams at about
    the speed of JSONL. Syntax errors stop the read: after one, element boundaries are
    unknown.
    """

    CHUNK = 1 << 20

    def __init__(self, fh):
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.n_bytes = 0
        # Line of buf[counted]; lines are counted lazily as the position moves forward.
        self.line = 1
        self.counted = 0

    def line_at(self, pos: int) -> int:
        if pos > self.counted:
            self.line += self.buf.count("\n", self.counted, pos)
            self.counted = pos
        return self.line

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(self.CHUNK)
        self.n_bytes += len(chunk)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            line = self.line_at(len(self.buf)) + chunk[: max(exc.start, 0)].count(b"\n")
            raise _Fatal(line, "(line)", "is not valid UTF-8") from None
        if not chunk:
            self.eof = True
        # Drop what is consumed, keeping the line count of the new start.
        self.line_at(self.pos)
        self.buf = self.buf[self.pos :] + text
        self.counted -= self.pos
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-blank character ("" at the end of the file)."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def elements(self) -> Iterator[tuple[int, object, int]]:
        max_chars = settings.VOX_IMPORT_MAX_ITEM_BYTES
        if self.peek() == "\ufeff":
            self.pos += 1
        if self.peek() != "[":
            raise _Fatal(self.line_at(self.pos), "(file)", "must be a JSON array: [ {...}, ... ]")
        self.pos += 1
        if self.peek() == "]":
            self.pos += 1
        else:
            while True:
                if self.peek() == "":
                    raise _Fatal(
                        self.line_at(self.pos), "(file)", "ends before the array is closed"
                    )
                line = self.line_at(self.pos)
                value, end = self._decode(line, max_chars)
                self.pos = end
                yield line, value, self.n_bytes
                sep = self.peek()
                if sep == ",":
                    self.pos += 1
                    if self.peek() == "]":
                        raise _Fatal(self.line_at(self.pos), "(file)", "has a comma before ]")
                    continue
                if sep == "]":
                    self.pos += 1
                    break
                if sep == "":
                    raise _Fatal(
                        self.line_at(self.pos), "(file)", "ends before the array is closed"
                    )
                raise _Fatal(
                    self.line_at(self.pos), "(file)", f"expected , or ] after an item, not {sep!r}"
                )
        if self.peek():
            raise _Fatal(self.line_at(self.pos), "(file)", "has more after the closing ]")

    def _decode(self, line: int, max_chars: int) -> tuple[object, int]:
        decoder = json.JSONDecoder()
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise _Fatal(line, "(record)", _TOO_DEEP) from None
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > max_chars:
                    raise _Fatal(line, "(record)", _too_big(len(self.buf) - self.pos)) from None
                if self.more():
                    continue  # the element may just be cut by the chunk boundary
                raise _Fatal(
                    self.line_at(exc.pos), "(record)", f"is not valid JSON: {exc.msg}"
                ) from None
            # A number or literal that ends the buffer might continue in the next chunk.
            if end == len(self.buf) and self.more():
                continue
            if end - self.pos > max_chars:
                raise _Fatal(line, "(record)", _too_big(end - self.pos))
            bad = _nesting_error(value, self.buf[self.pos : end])
            if bad:
                raise _Fatal(line, *bad)
            return value, end


def _json_array_rows(fh, errors: list) -> Iterator[tuple[int, object, int]]:
    yield from _JsonArray(fh).elements()


# --- Pass 1: validate and spool ---------------------------------------------------------------


@dataclass
class Checked:
    """What pass 1 learned: counts, external ids and rater names, and the errors."""

    errors: list = field(default_factory=list)
    n_records: int = 0
    n_labels: int = 0
    external_ids: set = field(default_factory=set)
    raters: set = field(default_factory=set)


def _escape(text: str) -> str:
    """A value in COPY text format (backslash, tab, newline and carriage return escaped)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def unescape(text: str) -> str | None:
    if text == NULL:
        return None
    return _UNESCAPE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(1)), text)


def import_validate(fh, fmt: str, kind: str, schema: dict, spool, *, progress=None) -> Checked:
    """Check every record of `fh`; write the valid ones to `spool` while no error is found.

    Spool lines are `external_id, priority, data, meta, labels, content_hash` in COPY text
    format, with JSON already serialised, so pass 2 never parses a record again. `progress(bytes_read)`
    is called every few thousand records.
    """
    checked = Checked()
    errors = checked.errors
    max_rows = settings.VOX_IMPORT_MAX_ITEMS
    fast_dumps = orjson.dumps

    def dumps(value, ensure_ascii=False):
        # Compact UTF-8 JSON, as json.dumps(..., ensure_ascii=False) but several times faster.
        return fast_dumps(value).decode()

    write = spool.write
    seen = checked.external_ids
    item_validate = schemas.item_validate
    for line_no, raw, n_bytes in rows(fh, fmt, errors):
        checked.n_records += 1
        if checked.n_records > max_rows:
            errors.append(
                ImportError_(
                    line_no,
                    "(file)",
                    f"has more than {max_rows:,} items; the limit is {max_rows:,} per file "
                    "(VOX_IMPORT_MAX_ITEMS): split the file",
                )
            )
            break
        try:
            data, external_id, priority, meta = item_validate(kind, raw, schema)
            labels = schemas.labels_validate(kind, schema, raw.get("labels"), data)
            data_json = dumps(data, ensure_ascii=False)
            if "\\u0000" in data_json:
                # PostgreSQL's jsonb cannot store NUL; say so here, not as a failed COPY.
                raise schemas.SchemaError("(record)", "contains a NUL character (\\u0000)")
        except schemas.SchemaError as exc:
            errors.append(ImportError_(line_no, exc.field, exc.message))
        else:
            if external_id is not None:
                if external_id in seen:
                    errors.append(
                        ImportError_(
                            line_no, "external_id", f"{external_id!r} appears twice in this file"
                        )
                    )
                seen.add(external_id)
            for label in labels:
                checked.raters.add(label["rater"])
            checked.n_labels += len(labels)
            if not errors:
                write(
                    f"{NULL if external_id is None else _escape(external_id)}\t{priority}\t"
                    f"{data_json.replace(chr(92), chr(92) * 2)}\t"
                    f"{_escape(dumps(meta, ensure_ascii=False))}\t"
                    f"{_escape(dumps(labels, ensure_ascii=False)) if labels else NULL}\t"
                    f"{content_hash(data)}\n"
                )
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
        if progress is not None and checked.n_records % PROGRESS_EVERY == 0:
            progress(n_bytes)
    return checked


def preview(fh, fmt: str, kind: str, schema: dict, n: int = 5) -> dict:
    """The first `n` records, how their fields map to the schema, and their errors."""
    errors: list = []
    sample, fields = [], {}  # a dict as an ordered set: a list's `in` made this quadratic
    for line_no, raw, _ in rows(fh, fmt, errors):
        if isinstance(raw, dict):
            fields.update(dict.fromkeys(raw))
            try:
                data, _, _, _ = schemas.item_validate(kind, raw, schema)
                schemas.labels_validate(kind, schema, raw.get("labels"), data)
            except schemas.SchemaError as exc:
                errors.append(ImportError_(line_no, exc.field, exc.message))
        else:
            errors.append(ImportError_(line_no, "(record)", "must be a JSON object"))
        sample.append({"line": line_no, "record": raw})
        if len(sample) >= n:
            break
    return {
        "rows": sample,
        "fields": schemas.field_roles(kind, list(fields)),
        "errors": [e.as_dict() for e in errors],
    }
