"""Model instances from hand-written SQL, for the work queue's hot path.

Next and submit run on every keypress of every annotator. Building their querysets cost
more CPU than the database spent answering them: the ORM compiles each queryset anew on
every request. The queue's statements are written out once instead, and their rows are
turned into ordinary model instances here, through the fields' own database converters,
so the rest of Vox sees the same objects either way.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache, cached_property

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


@cache
def columns(model: type[Model], alias: str = "") -> str:
    """The model's concrete columns in field order, qualified by a table alias if given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{f.column}"' for f in model._meta.concrete_fields)


@cache
def _converters(model: type[Model], vendor: str) -> tuple:
    fields = model._meta.concrete_fields
    out = []
    for i, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        fns = tuple(connection.ops.get_db_converters(col) + field.get_db_converters(connection))
        if fns:
            out.append((i, col, fns))
    plain = not (pre_init.has_listeners(model) or post_init.has_listeners(model))
    return tuple(out), tuple(f.attname for f in fields), plain


def build(model: type[Model], row, start: int = 0, *, db=None):
    """The instance whose columns (as `columns` lists them) start at `row[start]`.

    What `Model.from_db` makes, without running `Model.__init__` field by field (a good
    share of a queue request's time) unless something listens for the init signals.
    """
    db = db or connections[DEFAULT_DB_ALIAS]
    converters, attnames, plain = _converters(model, db.vendor)
    values = list(row[start : start + len(attnames)])
    for i, col, fns in converters:
        for fn in fns:
            values[i] = fn(values[i], col, db)
    if not plain:
        return model.from_db(db.alias, attnames, values)
    obj = model.__new__(model)
    obj.__dict__.update(zip(attnames, values, strict=True))
    state = obj._state = ModelState()
    state.adding, state.db = False, db.alias
    return obj


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


class Statement:
    """A hot-path statement, written with %s or %(name)s placeholders (not both).

    On PostgreSQL each connection prepares every statement once, on its first use of any
    (one round trip), and then only executes them: the server would otherwise plan each
    statement afresh, which cost more than running it. Connections force generic plans
    (config/settings.py), so write statements whose plan suits any parameters: constants,
    not parameters, where a partial index needs them. Elsewhere it is executed as is.
    """

    def __init__(self, name: str, build):
        self.name, self._build = name, build

    @cached_property
    def sql(self) -> str:
        return self._build()

    @cached_property
    def _names(self) -> list[str] | None:
        """The parameter names in first-use order, or None for positional parameters."""
        names = _PLACEHOLDER.findall(self.sql)
        if not names:
            return None
        if "%s" in _PLACEHOLDER.sub("", self.sql):
            raise ValueError(f"{self.name} mixes %s and %(name)s placeholders")
        return list(dict.fromkeys(names))

    def prepare_sql(self) -> str:
        if self._names is not None:
            numbers = {name: i for i, name in enumerate(self._names, start=1)}
            body = _PLACEHOLDER.sub(lambda m: f"${numbers[m.group(1)]}", self.sql)
        else:
            parts = self.sql.split("%s")
            body = "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1))
            body += parts[-1]
        return f"PREPARE {self.name} AS {body}"

    def execute_sql(self) -> str:
        if self._names is not None:
            args = [f"%({name})s" for name in self._names]
        else:
            args = ["%s"] * self.sql.count("%s")
        return f"EXECUTE {self.name}({', '.join(args)})" if args else f"EXECUTE {self.name}"


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


STATEMENTS: dict[str, Statement] = {}


def statement(name: str):
    """Register the decorated builder's SQL as a prepared statement named `vox_<name>`."""

    def register(build) -> Statement:
        full = f"vox_{name}"
        if full in STATEMENTS:
            raise ValueError(f"two statements named {full}")
        STATEMENTS[full] = Statement(full, build)
        return STATEMENTS[full]

    return register


def _prepared_sql(stmt: Statement, cursor) -> str:
    db = cursor.db  # the connection's wrapper, without the thread-local lookup
    if db.vendor != "postgresql":
        return stmt.sql
    raw = db.connection
    seen = getattr(db, "_vox_prepared", None)
    if seen is None or seen[0] is not raw:
        # A new server session (first use, or a reconnect).
        seen = db._vox_prepared = (raw, set())
    if stmt.name not in seen[1]:
        # Prepare every statement not prepared yet in this session, in one round trip.
        missing = [s for name, s in STATEMENTS.items() if name not in seen[1]]
        cursor.execute(";\n".join(s.prepare_sql() for s in missing))
        seen[1].update(s.name for s in missing)
    return stmt.execute_sql()


def _params(cursor, params):
    # SQLite: datetimes as the ORM writes them (naive UTC text), so that the rows these
    # statements write compare and sort with the ORM's; sqlite3's own adapter adds an offset.
    if cursor.db.vendor == "postgresql":
        return params
    adapt = cursor.db.ops.adapt_datetimefield_value

    def one(value):
        return adapt(value) if isinstance(value, datetime) else value

    if isinstance(params, dict):
        return {k: one(v) for k, v in params.items()}
    return [one(v) for v in params]


def execute(cursor, stmt: Statement, params: list) -> None:
    cursor.execute(_prepared_sql(stmt, cursor), _params(cursor, params))


def run_batch(cursor, statements: list[tuple[Statement, list]]) -> None:
    """Run statements in order; only the last one's rows can be fetched afterwards.

    On PostgreSQL they go to the server in one round trip (psycopg2 binds parameters on the
    client, so a multi-statement string is one simple query); SQLite takes one at a time.
    """
    if cursor.db.vendor == "postgresql":
        sql = ";\n".join(_prepared_sql(s, cursor) for s, _ in statements)
        cursor.execute(sql, [p for _, ps in statements for p in ps])
        return
    for stmt, params in statements:
        cursor.execute(stmt.sql, _params(cursor, params))
