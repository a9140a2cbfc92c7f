"""Annotations from the database into integer arrays, without building model instances.

On PostgreSQL every requested column is computed in SQL as a bigint and streamed with
``COPY (SELECT ...) TO STDOUT (FORMAT binary)``; with every field fixed-width and non-null,
each tuple has the same size, so numpy reads the stream with one structured dtype and no
per-row Python work. Other databases (SQLite in embedded mode) read ``values_list`` in
chunks and extract the same columns in Python. Both paths return the same arrays.

Gold items are excluded here, in the only query that feeds aggregation: gold answers are
scored by the quality layer and never count as labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection

from annotation.models import Annotation
from tasks import kinds
from tasks.kinds.base import MISSING, Column
from tasks.models import Item

# Bytes of the binary COPY stream parsed at a time: big enough to amortise numpy calls,
# small enough that the raw buffer stays a fraction of the arrays it fills.
_COPY_CHUNK = 32 * 1024 * 1024


# Plain annotation fields, read directly on both paths.
BASE_FIELDS = ("id", "item_id", "rater_id", "duration_ms", "active_ms")


def value_columns(project) -> list[Column]:
    """The columns that describe an answer of this project's kind."""
    return kinds.get(project.kind).label_columns(project.schema)


@dataclass(frozen=True)
class AnnotationArrays:
    """Aligned (n_annotations,) int64 arrays, one per requested field or column.

    ``item_ids`` and ``rater_ids`` hold the distinct database ids in ascending order, and
    ``item_idx`` / ``rater_idx`` index them: the codes 0..n-1 the numeric functions take.
    """

    columns: dict[str, np.ndarray]
    item_ids: np.ndarray
    item_idx: np.ndarray
    rater_ids: np.ndarray
    rater_idx: np.ndarray

    @property
    def n(self) -> int:
        return int(self.item_idx.size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


def annotation_arrays(
    project, *, columns: list[Column] | None = None, fields=("item_id", "rater_id")
) -> AnnotationArrays:
    """Load the project's non-gold annotations as int64 arrays (one query, no model objects).

    ``fields`` are plain annotation fields from BASE_FIELDS (``active_ms`` is -1 when not
    recorded); ``columns`` default to :func:`value_columns`. Ids become codes once here, with
    ``np.unique(..., return_inverse=True)``.
    """
    columns = value_columns(project) if columns is None else columns
    fields = tuple(dict.fromkeys(("item_id", "rater_id", *fields)))
    unknown = set(fields) - set(BASE_FIELDS)
    if unknown:
        raise ValueError(f"unknown annotation fields: {sorted(unknown)}")
    if connection.vendor == "postgresql":
        matrix = _load_copy(project.pk, fields, columns)
    else:
        matrix = _load_rows(project.pk, fields, columns)
    names = [*fields, *(c.name for c in columns)]
    data = {name: matrix[j] for j, name in enumerate(names)}
    item_ids, item_idx = np.unique(data["item_id"], return_inverse=True)
    rater_ids, rater_idx = np.unique(data["rater_id"], return_inverse=True)
    return AnnotationArrays(
        columns=data,
        item_ids=item_ids,
        item_idx=item_idx.astype(np.int64, copy=False),
        rater_ids=rater_ids,
        rater_idx=rater_idx.astype(np.int64, copy=False),
    )


def _load_rows(project_id, fields, columns) -> list[np.ndarray]:
    qs = Annotation.objects.filter(project_id=project_id, item__is_gold=False).values_list(
        *fields, "value", "presentation"
    )
    nf = len(fields)
    out: list[list[int]] = [[] for _ in range(nf + len(columns))]
    for row in qs.iterator(chunk_size=10_000):
        value, presentation = row[nf], row[nf + 1]
        for j in range(nf):
            out[j].append(MISSING if row[j] is None else row[j])
        for j, col in enumerate(columns):
            out[nf + j].append(col.py(value, presentation))
    return [np.asarray(v, dtype=np.int64) for v in out]


def _load_copy(project_id, fields, columns) -> list[np.ndarray]:
    exprs = [f"COALESCE(a.{f}, -1)::bigint" for f in fields]
    exprs += [f"COALESCE(({c.sql}), -1)::bigint" for c in columns]
    params: list = []
    for c in columns:
        params.extend(c.params)
    params.append(project_id)
    sql = (
        f"SELECT {', '.join(exprs)} FROM {Annotation._meta.db_table} a "
        f"JOIN {Item._meta.db_table} i ON i.id = a.item_id "
        "WHERE a.project_id = %s AND NOT i.is_gold"
    )
    n = len(exprs)
    sink = _BinaryCopySink(n)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        query = raw.mogrify(sql, params).decode()
        raw.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", sink, size=1 << 20)
    return sink.finish()


class _BinaryCopySink:
    """A file-like target for ``copy_expert`` that parses PostgreSQL's binary COPY format.

    Layout: an 11-byte signature, int32 flags, int32 extension length (+ extension); then per
    tuple an int16 field count and, per field, an int32 byte length and the big-endian value;
    then an int16 -1. Every field here is a non-null bigint, so a tuple is 2 + 12 * n bytes.
    """

    SIGNATURE = b"PGCOPY\n\xff\r\n\x00"

    def __init__(self, n_fields: int):
        self.n = n_fields
        parts = [("count", ">i2")]
        for j in range(n_fields):
            parts += [(f"len{j}", ">i4"), (f"v{j}", ">i8")]
        self.dtype = np.dtype(parts)
        self.row = self.dtype.itemsize
        self.pending: list[bytes] = []
        self.size = 0
        self.header_done = False
        self.out: list[list[np.ndarray]] = [[] for _ in range(n_fields)]

    def write(self, data) -> int:
        self.pending.append(bytes(data))
        self.size += len(data)
        if self.size >= _COPY_CHUNK:
            self._parse()
        return len(data)

    def _parse(self) -> None:
        buf = b"".join(self.pending)
        pos = 0
        if not self.header_done:
            if len(buf) < 19:
                self.pending, self.size = [buf], len(buf)
                return
            if buf[:11] != self.SIGNATURE:
                raise ValueError("not a binary COPY stream")
            ext = int.from_bytes(buf[15:19], "big")
            pos = 19 + ext
            self.header_done = True
        whole = (len(buf) - pos) // self.row
        if whole:
            rows = np.frombuffer(buf, dtype=self.dtype, count=whole, offset=pos)
            # The 2-byte trailer never fills a whole tuple slot, so every slot is a tuple.
            if np.any(rows["count"] != self.n) or any(
                np.any(rows[f"len{j}"] != 8) for j in range(self.n)
            ):
                raise ValueError("unexpected tuple layout in the COPY stream")
            for j in range(self.n):
                self.out[j].append(rows[f"v{j}"].astype(np.int64))
            pos += whole * self.row
        rest = buf[pos:]
        self.pending, self.size = ([rest] if rest else []), len(rest)

    def finish(self) -> list[np.ndarray]:
        self._parse()
        rest = b"".join(self.pending)
        if not self.header_done or rest != b"\xff\xff":
            raise ValueError(f"unexpected {len(rest)} trailing bytes in the COPY stream")
        return [np.concatenate(parts) if parts else np.zeros(0, np.int64) for parts in self.out]
