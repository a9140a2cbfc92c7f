"""Streaming exports: constant memory whatever the project size.

Every format is manager-only (views and API reach them through project_for_manager):

- `items_jsonl` and `items_csv`: one row per item with the aggregated label when there is
  one, the vote count per label (the soft distribution) and, optionally, every raw
  annotation with its rater, time, duration and guideline version. Gold items are marked.
- `preference_jsonl`: for pairwise and ranking projects, `{prompt, chosen, rejected}` rows
  for DPO or reward-model training, with margin, agreement and the number of raters.
- the files a kind makes of its own (`KIND_FORMATS`), such as span tagging's CoNLL BIO.

Items are read in keyset-paginated chunks with plain SQL: JSON columns come back as text
and go into the output as they are, so a row is never decoded and encoded again. Only
answer values are parsed, to count votes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection

from annotation.models import Annotation
from raters.pseudonyms import rater_pseudonym
from tasks import kinds
from tasks.kinds.base import chat_turns
from tasks.models import Item, Project
from tasks.selectors import adjudications_for_items, aggregate_for_items

CHUNK = 5000
FORMATS = {
    "items_jsonl": ("jsonl", "application/x-ndjson"),
    "items_csv": ("csv", "text/csv; charset=utf-8"),
    "preference_jsonl": ("jsonl", "application/x-ndjson"),
    "unpaired_jsonl": ("jsonl", "application/x-ndjson"),
}
# Made from pairwise and ranking answers only.
PREFERENCE_FORMATS = ("preference_jsonl", "unpaired_jsonl")
# Files one kind makes (tasks/kinds: `export_formats`), e.g. span tagging's CoNLL BIO.
KIND_FORMATS = {
    fmt: spec for name in kinds.KINDS for fmt, spec in kinds.get(name).export_formats.items()
}
FORMATS.update({fmt: (suffix, ctype) for fmt, (_, suffix, ctype) in KIND_FORMATS.items()})
TIES = ("exclude", "mark")
# Preference rows as TRL's two documented shapes: "standard" (prompt, chosen and rejected as
# text) or "conversational" (all three as message lists). A file holds one shape only, or a
# loader such as datasets.load_dataset refuses the mixed column; "auto" picks conversational
# when any of the project's prompts is a chat.
CONVERSATIONAL = ("auto", "yes", "no")
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportRefused(ValueError):
    pass


@dataclass(frozen=True)
class ExportOptions:
    format: str = "items_jsonl"
    annotations: bool = True
    ties: str = "exclude"
    conversational: str = "auto"

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ExportRefused(f"format must be one of {', '.join(FORMATS)}")
        if self.ties not in TIES:
            raise ExportRefused(f"ties must be one of {', '.join(TIES)}")
        if self.conversational not in CONVERSATIONAL:
            raise ExportRefused(f"conversational must be one of {', '.join(CONVERSATIONAL)}")

    def check(self, project: Project) -> None:
        if self.format in PREFERENCE_FORMATS and not kinds.get(project.kind).makes_preferences:
            raise ExportRefused("preference files need a pairwise or ranking project")
        if (
            self.format in PREFERENCE_FORMATS
            and self.conversational == "no"
            and _has_chat_prompts(project)
        ):
            raise ExportRefused(
                "conversational: some prompts are chats, which plain-text rows can't hold; "
                "choose yes or auto"
            )
        label_kind = kinds.get(project.kind)
        if self.format in KIND_FORMATS and self.format not in label_kind.export_formats:
            raise ExportRefused(
                f"{KIND_FORMATS[self.format][0]} files are not made from "
                f"{label_kind.label.lower()} projects"
            )

    def job_options(self) -> dict:
        """Every option but the format, as an ExportJob stores them to rebuild these."""
        return {
            "annotations": self.annotations,
            "ties": self.ties,
            "conversational": self.conversational,
        }

    @property
    def filename_suffix(self) -> str:
        if self.format in KIND_FORMATS:
            return KIND_FORMATS[self.format][1]
        return {
            "items_jsonl": "items.jsonl",
            "items_csv": "items.csv",
            "unpaired_jsonl": "unpaired.jsonl",
        }.get(self.format, "preferences.jsonl")


def export_stream(project: Project, options: ExportOptions, *, progress=None) -> Iterator[str]:
    """The export as text pieces; `progress(items_done)` is called after each chunk."""
    options.check(project)
    writer = {
        "items_jsonl": _items_jsonl,
        "items_csv": _items_csv,
        "preference_jsonl": _preferences,
        "unpaired_jsonl": _preferences,
    }.get(options.format, _kind_file)
    yield from writer(project, options, _chunks(project, options, progress))


def export_jsonl(project: Project) -> Iterator[str]:
    """Every item with every raw annotation, as JSON lines (the default download)."""
    return export_stream(project, ExportOptions())


def neutralise(cell: str) -> str:
    """A CSV cell that a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


# --- Reading ----------------------------------------------------------------------------------


@dataclass
class Row:
    item_id: int
    external_id: str | None
    is_gold: bool
    data: str  # JSON text
    meta: str  # JSON text: provenance (model names, batch, tags), never shown to raters
    annotations: list  # (rater_id, value JSON text, created_at ISO, duration_ms, version)
    label: object = None
    # The current run's result (confidence, agreement, distribution, method, run_id), if any.
    result: dict | None = None
    # True when a reviewer set the final label, which then overrides aggregation.
    adjudicated: bool = False


def _chunks(project: Project, options: ExportOptions, progress) -> Iterator[list[Row]]:
    item_table = Item._meta.db_table
    annotation_table = Annotation._meta.db_table
    if connection.vendor == "postgresql":
        stamp = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    else:
        stamp = "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', created_at)"
    last_id, done = 0, 0
    with connection.cursor() as cur:
        while True:
            cur.execute(
                f"SELECT id, external_id, is_gold, CAST(data AS text), CAST(meta AS text) "
                f"FROM {item_table} "
                "WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s",
                [project.pk, last_id, CHUNK],
            )
            rows = {r[0]: Row(r[0], r[1], bool(r[2]), r[3], r[4], []) for r in cur.fetchall()}
            if not rows:
                return
            first, last_id = min(rows), max(rows)
            cur.execute(
                f"SELECT item_id, rater_id, CAST(value AS text), {stamp}, duration_ms, "
                f"guideline_version FROM {annotation_table} "
                "WHERE project_id = %s AND item_id BETWEEN %s AND %s ORDER BY item_id, id",
                [project.pk, first, last_id],
            )
            for item_id, *rest in cur.fetchall():
                rows[item_id].annotations.append(rest)
            for item_id, result in aggregate_for_items(project, list(rows)).items():
                rows[item_id].label = result["label"]
                rows[item_id].result = result
            for item_id, decision in adjudications_for_items(project, list(rows)).items():
                rows[item_id].label = decision["label"]
                rows[item_id].adjudicated = True
            yield list(rows.values())
            done += len(rows)
            if progress is not None:
                progress(done)


class _Raters:
    """Usernames by id, fetched once per rater and kept as JSON strings; and pseudonyms."""

    def __init__(self, project_id: int):
        self.names: dict[int, str] = {}
        self.project_id = project_id
        self.pseudonyms: dict[int, str] = {}

    def pseudonym(self, rater_id: int) -> str:
        if rater_id not in self.pseudonyms:
            self.pseudonyms[rater_id] = rater_pseudonym(self.project_id, rater_id)
        return self.pseudonyms[rater_id]

    def provenance(self, row: Row) -> dict:
        """Who labelled the item (by pseudonym), under which guideline, and what the current
        run made of it: the fields every row of a training file carries."""
        result = row.result or {}
        return {
            "n_raters": len(row.annotations),
            "raters": [self.pseudonym(a[0]) for a in row.annotations],
            "guideline_versions": [a[4] for a in row.annotations],
            "confidence": result.get("confidence"),
            "agreement": result.get("agreement"),
            "soft_label": result.get("distribution"),
            "run_id": result.get("run_id"),
            "method": result.get("method"),
        }

    def json(self, rows: list[Row]) -> dict[int, str]:
        missing = {a[0] for r in rows for a in r.annotations} - self.names.keys()
        if missing:
            for pk, username in (
                get_user_model().objects.filter(pk__in=missing).values_list("pk", "username")
            ):
                self.names[pk] = json.dumps(username, ensure_ascii=False)
        return self.names


# --- Votes: the soft distribution of one item ---------------------------------------------------


def votes_of(kind: str, schema: dict, values: list) -> dict:
    """How many raters gave each answer. Values are canonical answers (see tasks/kinds).

    single choice and pairwise: {answer: n}; multi choice: {choice: n raters who picked it};
    Likert: {dimension: {"1": n, ...}}; ranking: {"best": {response index: n placed first}};
    demonstration: {} (free text has no labels to count).
    """
    return kinds.get(kind).votes(schema, values)


# --- Items: JSONL and CSV -----------------------------------------------------------------------


def _items_jsonl(project: Project, options: ExportOptions, chunks) -> Iterator[str]:
    from modelruns.selectors import label_quality_by_item

    kind, schema, raters = project.kind, project.schema, _Raters(project.pk)
    label_kind = kinds.get(kind)
    dumps, loads = json.dumps, json.loads
    # With a model run: how much the model doubts each label, and why (the suspects page).
    quality = label_quality_by_item(project) if label_kind.item_classes else None
    for rows in chunks:
        names = raters.json(rows)
        out = []
        for row in rows:
            values = [a[1] for a in row.annotations]
            parsed = [loads(v) for v in values]
            votes = votes_of(kind, schema, parsed) if values else {}
            label, source = final_label(label_kind, schema, row, parsed)
            line = (
                f'{{"item_id": {row.item_id}, "external_id": {dumps(row.external_id)}, '
                f'"is_gold": {"true" if row.is_gold else "false"}, "data": {row.data}, '
                f'"meta": {row.meta}, '
                f'"label": {dumps(label, ensure_ascii=False)}, '
                f'"label_source": {dumps(source)}, '
                f'"adjudicated": {"true" if row.adjudicated else "false"}, "votes": {dumps(votes)}, '
                f'"n_annotations": {len(values)}, '
                + dumps(raters.provenance(row), ensure_ascii=False)[1:-1]
            )
            if quality is not None:
                line += f', "label_quality": {dumps(quality.get(row.item_id))}'
            if options.annotations:
                line += ', "annotations": [' + ", ".join(
                    f'{{"rater": {names[rater]}, "value": {value}, "created_at": "{created}", '
                    f'"duration_ms": {duration}, '
                    f'"guideline_version": {"null" if version is None else version}}}'
                    for rater, value, created, duration, version in row.annotations
                )
                line += "]"
            out.append(line + "}\n")
        yield "".join(out)


def final_label(label_kind, schema: dict, row: Row, values: list) -> tuple[object, str | None]:
    """(label, where it comes from): a reviewer's decision, the current aggregation run, or,
    before any run, the raters' vote, so an export never shows no label where votes exist."""
    if row.label is not None:
        return row.label, "adjudicated" if row.adjudicated else "aggregate"
    label = label_kind.vote_label(schema, values) if values else None
    return label, None if label is None else "vote"


def _vote_columns(kind: str, schema: dict) -> list[tuple[str, tuple]]:
    """(CSV header, path into votes) per column of the soft distribution."""
    return kinds.get(kind).vote_columns(schema)


def _items_csv(project: Project, options: ExportOptions, chunks) -> Iterator[str]:
    kind, schema, raters = project.kind, project.schema, _Raters(project.pk)
    vote_columns = _vote_columns(kind, schema)
    label_kind = kinds.get(kind)
    label_columns = label_kind.label_csv_columns(schema)
    buf = io.StringIO()
    writer = csv.writer(buf)
    data_fields: list[str] | None = None
    for rows in chunks:
        names = raters.json(rows)
        if data_fields is None:
            # Columns come from the first item; fields other items add go to data_other.
            data_fields = list(json.loads(rows[0].data))
            header = ["item_id", "external_id", "is_gold", *data_fields, "data_other", "meta"]
            header += [name for name, _ in label_columns] or ["label"]
            header += ["label_source", "adjudicated"]
            header += [name for name, _ in vote_columns] or ["votes"]
            header += ["n_annotations"] + (["annotations"] if options.annotations else [])
            # Field names come from the imported items, as untrusted as their values.
            writer.writerow([neutralise(str(h)) for h in header])
        for row in rows:
            data = json.loads(row.data)
            values = [json.loads(a[1]) for a in row.annotations]
            votes = votes_of(kind, schema, values)
            cells = [
                row.item_id,
                neutralise(row.external_id or ""),
                "true" if row.is_gold else "false",
            ]
            cells += [_cell(data.pop(f, "")) for f in data_fields]
            cells.append(_cell(data) if data else "")
            meta = json.loads(row.meta)
            cells.append(_cell(meta) if meta else "")
            label, source = final_label(label_kind, schema, row, values)
            if label_columns:
                cells += [_part(label, path) for _, path in label_columns]
            else:
                cells.append("" if label is None else _cell(label))
            cells += [source or "", "true" if row.adjudicated else "false"]
            if vote_columns:
                cells += [_dig(votes, path) for _, path in vote_columns]
            else:
                cells.append(_cell(votes))
            cells.append(len(values))
            if options.annotations:
                cells.append(
                    _cell(
                        [
                            {
                                "rater": json.loads(names[a[0]]),
                                "value": v,
                                "created_at": a[2],
                                "duration_ms": a[3],
                                "guideline_version": a[4],
                            }
                            for a, v in zip(row.annotations, values, strict=True)
                        ]
                    )
                )
            writer.writerow(cells)
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if data_fields is None:
        writer.writerow(["item_id", "external_id", "is_gold", "label", "n_annotations"])
        yield buf.getvalue()


def _cell(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return neutralise(text)


def _part(label, path: tuple) -> str:
    """One named part of a final label, e.g. a criterion's score; blank where it has none."""
    for key in path:
        if isinstance(label, dict):
            label = label.get(key)
        elif isinstance(label, list) and isinstance(key, int) and -len(label) <= key < len(label):
            label = label[key]
        else:
            return ""
    return "" if label is None else _cell(label)


def _dig(votes: dict, path: tuple) -> int:
    for key in path:
        votes = votes.get(key, {}) if isinstance(votes, dict) else {}
    return votes if isinstance(votes, int) else 0


# --- Preferences: DPO / reward-model pairs ------------------------------------------------------


def _has_chat_prompts(project: Project) -> bool:
    # One query; JSON path lookups read the same on PostgreSQL and SQLite.
    return Item.objects.filter(project=project, data__prompt__0__role__isnull=False).exists()


def _preferences(project: Project, options: ExportOptions, chunks) -> Iterator[str]:
    """Preference pairs, or (`unpaired_jsonl`) each pair's two sides as KTO rows."""
    lines_of = _unpaired_lines if options.format == "unpaired_jsonl" else _preference_lines
    pairs_of = kinds.get(project.kind).preference_pairs
    raters = _Raters(project.pk)
    conversational = options.conversational == "yes" or (
        options.conversational == "auto" and _has_chat_prompts(project)
    )
    for rows in chunks:
        out = []
        for row in rows:
            if not row.annotations:
                continue
            data = json.loads(row.data)
            values = [json.loads(a[1]) for a in row.annotations]
            # The pair's own `agreement` (the share who preferred `chosen`) and `n_raters`
            # stay; the item's raw agreement is `item_agreement`.
            provenance = raters.provenance(row)
            provenance["item_agreement"] = provenance.pop("agreement")
            del provenance["n_raters"]
            for pair in pairs_of(data, values, row.label):
                if pair["tie"] and options.ties == "exclude":
                    continue
                if options.ties == "exclude":
                    del pair["tie"]
                if conversational:
                    pair.update(
                        prompt=chat_turns(pair["prompt"]),
                        chosen=[{"role": "assistant", "content": pair["chosen"]}],
                        rejected=[{"role": "assistant", "content": pair["rejected"]}],
                    )
                pair.update(
                    item_id=row.item_id,
                    external_id=row.external_id,
                    is_gold=row.is_gold,
                    meta=json.loads(row.meta),
                    **provenance,
                )
                out.extend(lines_of(pair))
        if out:
            yield "".join(out)


def _preference_lines(pair: dict) -> list[str]:
    return [json.dumps(pair, ensure_ascii=False) + "\n"]


def _unpaired_lines(pair: dict) -> list[str]:
    """A pair as TRL's unpaired preference (KTO) rows: `chosen` with label true and
    `rejected` with label false, each with the pair's provenance. Ties say neither is
    better and give no rows."""
    if pair.get("tie"):
        return []
    chosen, rejected = pair.pop("chosen"), pair.pop("rejected")
    pair.pop("tie", None)
    return [
        json.dumps({**pair, "completion": completion, "label": label}, ensure_ascii=False) + "\n"
        for completion, label in ((chosen, True), (rejected, False))
    ]


# --- Files of one kind ------------------------------------------------------------------------


def _kind_file(project: Project, options: ExportOptions, chunks) -> Iterator[str]:
    raters = _Raters(project.pk)
    label_kind = kinds.get(project.kind)
    lines_of, schema = label_kind.export_lines, project.schema
    for rows in chunks:
        out = []
        for row in rows:
            item = {
                "item_id": row.item_id,
                "external_id": row.external_id,
                "is_gold": row.is_gold,
                "data": json.loads(row.data),
                "meta": json.loads(row.meta),
                # Aligned with values: who answered (by pseudonym) under which guideline.
                "raters": [raters.pseudonym(a[0]) for a in row.annotations],
                "guideline_versions": [a[4] for a in row.annotations],
                # What every row of a training file carries (n_raters, raters, guideline
                # versions, confidence, agreement, soft_label, run_id, method).
                "provenance": raters.provenance(row),
            }
            values = [json.loads(a[1]) for a in row.annotations]
            label, source = final_label(label_kind, schema, row, values)
            item["provenance"]["label_source"] = source
            out.append(lines_of(options.format, schema, item, values, label))
        yield "".join(out)
