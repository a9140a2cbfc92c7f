"""Reading and checking an upload of model probabilities: JSONL or .npy plus item ids.

No database here: the readers turn an upload into aligned arrays and a list of errors, each
naming the line (the JSONL line, or the row of the .npy array and of the ids file) and the
field, as imports do (tasks/importer.py). The service resolves the item references.

Probabilities are refused, not normalised, when a row does not sum to 1 within 1e-3: a row
that far off is almost always logits, sigmoid outputs of a multi-label model or a column
missing, and normalising would hide that and rank suspects on the wrong numbers. Rows
within the tolerance are rescaled to sum to 1 exactly (float32 rounding, softmax in fp16).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import orjson

MAX_REPORTED_ERRORS = 50
SUM_TOLERANCE = 1e-3
MAX_EPOCHS = 200
# Ids past bigint would fail in the database query instead of naming their line.
MAX_ID = 2**63


@dataclass(frozen=True)
class UploadError:
    line: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass
class Parsed:
    """refs: one (field, value) per row, field "item_id" or "external_id"; lines: (n,) the line
    of each row; probs: (n, K) float64; epochs: (n_epochs, n, K) or None."""

    refs: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    probs: np.ndarray | None = None
    epochs: np.ndarray | None = None
    errors: list = field(default_factory=list)

    def error(self, line: int, name: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(UploadError(line, name, message))


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _vector(value, labels: list[str], name: str, line: int, out: Parsed) -> list[float] | None:
    """A probability vector in the order of `labels`, from {label: p} or [p, ...]."""
    k = len(labels)
    if isinstance(value, dict):
        missing = [lab for lab in labels if lab not in value]
        extra = [key for key in value if key not in labels]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(map(repr, missing))}")
            if extra:
                parts.append(f"not in the schema: {', '.join(map(repr, extra[:10]))}")
            out.error(
                line,
                name,
                "labels do not match the schema's "
                f"({', '.join(map(repr, labels))}): {'; '.join(parts)}",
            )
            return None
        value = [value[lab] for lab in labels]
    if not isinstance(value, list):
        out.error(line, name, "must be an object {label: probability} or a list of numbers")
        return None
    if len(value) != k:
        out.error(
            line,
            name,
            f"has {len(value)} probabilities; the schema has {k} labels "
            f"({', '.join(map(repr, labels))}), in that order",
        )
        return None
    numbers = [_number(v) for v in value]
    if any(v is None for v in numbers):
        out.error(line, name, "must hold numbers only")
        return None
    return numbers


def parse_jsonl(fh, labels: list[str]) -> Parsed:
    """Lines {"item_id" | "external_id", "probs", "epochs"?}; see docs/label_quality.md."""
    out = Parsed()
    rows, epoch_rows, n_epochs = [], [], None
    for line_no, raw in enumerate(fh, start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.error(line_no, "(line)", f"is not valid JSON: {exc}")
            continue
        if not isinstance(record, dict):
            out.error(line_no, "(line)", "must be a JSON object")
            continue
        unknown = set(record) - {"item_id", "external_id", "probs", "epochs"}
        if unknown:
            out.error(line_no, sorted(unknown)[0], "is not a field of a model-run line")
            continue
        has_id, has_ext = "item_id" in record, "external_id" in record
        if has_id == has_ext:
            out.error(line_no, "item_id", "give exactly one of item_id or external_id")
            continue
        if has_id:
            ref = record["item_id"]
            if isinstance(ref, bool) or not isinstance(ref, int) or not 0 < ref < MAX_ID:
                out.error(line_no, "item_id", "must be an integer (the item's database id)")
                continue
            ref = ("item_id", ref)
        else:
            ref = record["external_id"]
            if not isinstance(ref, str) or not ref or len(ref) > 255:
                out.error(line_no, "external_id", "must be a non-empty string")
                continue
            ref = ("external_id", ref)
        if "probs" not in record:
            out.error(line_no, "probs", "is required")
            continue
        probs = _vector(record["probs"], labels, "probs", line_no, out)
        if probs is None:
            continue
        epochs = record.get("epochs")
        if epochs is not None:
            if not isinstance(epochs, list) or not epochs or len(epochs) > MAX_EPOCHS:
                out.error(line_no, "epochs", f"must be a list of 1 to {MAX_EPOCHS} vectors")
                continue
            vectors = [
                _vector(e, labels, f"epochs[{j}]", line_no, out) for j, e in enumerate(epochs)
            ]
            if any(v is None for v in vectors):
                continue
        else:
            vectors = []
        # Training dynamics compare epochs across items: every line has the same count.
        if n_epochs is None:
            n_epochs = len(vectors)
        elif len(vectors) != n_epochs:
            out.error(
                line_no, "epochs", f"has {len(vectors)} epochs; the first line had {n_epochs}"
            )
            continue
        out.refs.append(ref)
        out.lines.append(line_no)
        rows.append(probs)
        epoch_rows.append(vectors)
    k = len(labels)
    out.probs = np.asarray(rows, dtype=np.float64).reshape(-1, k)
    if n_epochs:
        out.epochs = np.asarray(epoch_rows, dtype=np.float64).transpose(1, 0, 2)
    check_probabilities(out)
    return out


def _load_npy(fh, name: str, out: Parsed) -> np.ndarray | None:
    try:
        # allow_pickle=False: an object array in an upload could run code when unpickled.
        arr = np.load(io.BytesIO(fh.read()), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        out.error(0, name, f"is not a .npy array of numbers: {exc}")
        return None
    if not np.issubdtype(arr.dtype, np.floating) and not np.issubdtype(arr.dtype, np.integer):
        out.error(0, name, f"must hold floats, not {arr.dtype}")
        return None
    return arr.astype(np.float64)


def parse_npy(fh, ids_fh, labels: list[str], *, id_field: str, epochs_fh=None) -> Parsed:
    """An (n, K) array in the schema's label order, with an ids file of n lines naming the
    items (database ids, or external ids with id_field="external_id"), and optionally an
    (n_epochs, n, K) array of per-epoch probabilities. Row r is line r + 1 in errors."""
    out = Parsed()
    probs = _load_npy(fh, "file", out)
    epochs = _load_npy(epochs_fh, "epochs_file", out) if epochs_fh is not None else None
    if out.errors:
        return out
    k = len(labels)
    if probs.ndim != 2 or probs.shape[1] != k:
        out.error(
            0,
            "file",
            f"has shape {probs.shape}; it must be (n, {k}), one column per label of the "
            f"schema in order ({', '.join(map(repr, labels))})",
        )
        return out
    n = probs.shape[0]
    if epochs is not None and (
        epochs.ndim != 3 or epochs.shape[1:] != (n, k) or not 1 <= epochs.shape[0] <= MAX_EPOCHS
    ):
        out.error(0, "epochs_file", f"has shape {epochs.shape}; it must be (n_epochs, {n}, {k})")
        return out
    lines = [raw.strip() for raw in ids_fh]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) != n:
        out.error(0, "ids_file", f"has {len(lines)} lines; the array has {n} rows")
        return out
    for line_no, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            out.error(line_no, "ids_file", "is not valid UTF-8")
            continue
        if id_field == "item_id":
            if not text.isdigit() or int(text) >= MAX_ID:
                out.error(line_no, "ids_file", f"{text[:50]!r} is not an item id (an integer)")
                continue
            out.refs.append(("item_id", int(text)))
        else:
            if not text:
                out.error(line_no, "ids_file", "is empty; give the item's external id")
                continue
            out.refs.append(("external_id", text))
        out.lines.append(line_no)
    out.probs, out.epochs = probs, epochs
    if not out.errors:
        check_probabilities(out)
    return out


def check_probabilities(out: Parsed) -> None:
    """Finite, non-negative rows summing to 1 within SUM_TOLERANCE, rescaled in place."""
    for name, arr in (("probs", out.probs), ("epochs", out.epochs)):
        if arr is None or arr.size == 0:
            continue
        # Rows of every epoch reduce to one flag per item.
        axis = (0, 2) if arr.ndim == 3 else 1
        finite = np.isfinite(arr).all(axis=axis)
        nonneg = (np.where(np.isfinite(arr), arr, 0) >= 0).all(axis=axis)
        sums = np.where(np.isfinite(arr), arr, 0).sum(axis=-1)
        off = np.abs(sums - 1.0) > SUM_TOLERANCE
        off = off.any(axis=0) if arr.ndim == 3 else off
        for r in np.flatnonzero(~finite | ~nonneg | off):
            line = out.lines[r] if r < len(out.lines) else r + 1
            if not finite[r]:
                out.error(line, name, "holds a value that is not finite (NaN or infinity)")
            elif not nonneg[r]:
                out.error(line, name, "holds a negative probability")
            else:
                row_sums = np.atleast_1d(sums[:, r] if arr.ndim == 3 else sums[r])
                total = row_sums[np.argmax(np.abs(row_sums - 1.0))]
                out.error(
                    line,
                    name,
                    f"sums to {total:.6g}, not 1 (within {SUM_TOLERANCE:g}); "
                    "give probabilities, not logits or per-label sigmoid outputs",
                )
        if not out.errors:
            arr /= arr.sum(axis=-1, keepdims=True)
