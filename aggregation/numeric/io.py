"""Reading crowd CSV files into integer codes, for the CLI, the benchmarks and the tests.

Only the standard library's ``csv`` module and numpy are used, so the command line works without
pandas, Django or a database.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class InputError(ValueError):
    """A problem in an input file; the message starts with ``path:line:``."""


@dataclass(frozen=True)
class LabelTable:
    """Votes read from ``item,worker,label`` (or crowd-kit's ``task,worker,label``).

    items, workers, labels: the original tokens, in code order. Items and workers are numbered
    in order of first appearance; labels are sorted (numerically when every token is an integer)
    so that the tie rule "lowest code wins" means the smallest label.
    item_idx, rater_idx, label: (n_votes,) int64 codes.
    """

    items: list
    workers: list
    labels: list
    item_idx: np.ndarray
    rater_idx: np.ndarray
    label: np.ndarray

    @property
    def sizes(self) -> dict:
        return {
            "n_items": len(self.items),
            "n_raters": len(self.workers),
            "n_labels": len(self.labels),
        }


def _sort_tokens(tokens) -> list:
    tokens = list(tokens)
    try:
        return sorted(tokens, key=lambda t: (int(t), t))
    except ValueError:
        return sorted(tokens)


def _rows(path, required: dict[str, tuple[str, ...]]):
    """Yield (line number, {canonical field: value}) for each data row of a CSV file."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(f"{path}:1: empty file, expected a header line") from None
        where = {}
        for field, aliases in required.items():
            found = [header.index(a) for a in aliases if a in header]
            if not found:
                raise InputError(
                    f"{path}:1: missing column '{field}' (header is {','.join(header)})"
                )
            where[field] = found[0]
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            out = {}
            for field, col in where.items():
                value = row[col].strip() if col < len(row) else ""
                if value == "":
                    raise InputError(f"{path}:{line}: missing field '{field}'")
                out[field] = value
            yield line, out


def read_labels_csv(path) -> LabelTable:
    """Read ``item,worker,label`` rows (``task`` is accepted for ``item``)."""
    items: dict[str, int] = {}
    workers: dict[str, int] = {}
    it, wk, lab = [], [], []
    cols = {"item": ("item", "task"), "worker": ("worker",), "label": ("label",)}
    for _, row in _rows(path, cols):
        it.append(items.setdefault(row["item"], len(items)))
        wk.append(workers.setdefault(row["worker"], len(workers)))
        lab.append(row["label"])
    labels = _sort_tokens(set(lab))
    code = {t: i for i, t in enumerate(labels)}
    return LabelTable(
        items=list(items),
        workers=list(workers),
        labels=labels,
        item_idx=np.array(it, dtype=np.int64),
        rater_idx=np.array(wk, dtype=np.int64),
        label=np.array([code[t] for t in lab], dtype=np.int64),
    )


def read_truth_csv(path, table: LabelTable) -> np.ndarray:
    """(n_items,) int64 truth codes for ``table``'s items, -1 where unknown or label unseen."""
    items = {t: i for i, t in enumerate(table.items)}
    labels = {t: i for i, t in enumerate(table.labels)}
    truth = np.full(len(table.items), -1, dtype=np.int64)
    cols = {"item": ("item", "task"), "label": ("label", "true_label")}
    for _, row in _rows(path, cols):
        i = items.get(row["item"])
        if i is not None and row["label"] in labels:
            truth[i] = labels[row["label"]]
    return truth


@dataclass(frozen=True)
class ComparisonTable:
    """Pairwise comparisons read from ``worker,left,right,label``.

    ``label`` is the winning item's id, or ``tie``. items: original ids in code order; winner,
    loser: (n_comparisons,) int64 codes (for a tie, left and right); tie: (n_comparisons,) bool;
    rater_idx: (n_comparisons,) int64.
    """

    items: list
    workers: list
    winner: np.ndarray
    loser: np.ndarray
    tie: np.ndarray
    rater_idx: np.ndarray


def read_comparisons_csv(path) -> ComparisonTable:
    items: dict[str, int] = {}
    workers: dict[str, int] = {}
    win, lose, tie, wk = [], [], [], []
    cols = {"worker": ("worker",), "left": ("left",), "right": ("right",), "label": ("label",)}
    for line, row in _rows(path, cols):
        a, b, lab = row["left"], row["right"], row["label"]
        if a == b:
            raise InputError(f"{path}:{line}: left and right are the same item '{a}'")
        ia, ib = items.setdefault(a, len(items)), items.setdefault(b, len(items))
        wk.append(workers.setdefault(row["worker"], len(workers)))
        if lab.lower() == "tie":
            win.append(ia), lose.append(ib), tie.append(True)
        elif lab == a:
            win.append(ia), lose.append(ib), tie.append(False)
        elif lab == b:
            win.append(ib), lose.append(ia), tie.append(False)
        else:
            raise InputError(
                f"{path}:{line}: label '{lab}' is neither left '{a}', right '{b}' nor 'tie'"
            )
    return ComparisonTable(
        items=list(items),
        workers=list(workers),
        winner=np.array(win, dtype=np.int64),
        loser=np.array(lose, dtype=np.int64),
        tie=np.array(tie, dtype=bool),
        rater_idx=np.array(wk, dtype=np.int64),
    )
