"""Command line: find bad labels from a model's predicted probabilities, offline.

    python -m quality.numeric issues LABELS.csv PROBS.npy [--rank-by R] [--filter-by F] [--all]
    python -m quality.numeric consensus VOTES.csv PROBS.npy [--items ITEMS.csv] [--raters OUT.csv]
    python -m quality.numeric suspects LABELS.csv PROBS.npy [--votes VOTES.csv]

LABELS.csv holds ``item,label``: row i of PROBS.npy (n, K) belongs to its i-th data row.
VOTES.csv holds ``item,worker,label``; its items map to PROBS rows in order of first
appearance, or in the order of ``--items`` (a CSV with an ``item`` column). Every label is
an integer code 0..K-1, the column of PROBS.npy it names.

``issues`` runs confident learning (Northcutt et al. 2021) and writes
``item,label,quality,issue,suggested`` for the issues, worst first (``--all``: every item,
worst first). ``consensus`` writes ``item,label,quality,n_votes`` (raters plus model) and
says the fitted weights on stderr. ``suspects`` writes ``item,label,score,reasons``, most
suspect first, reasons joined by ``;``. No database or Django settings are needed; input
errors name the file and exit with status 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from .confident_learning import RANKINGS, find_label_issues
from .consensus import model_consensus
from .suspects import suspect_scores


class InputError(ValueError):
    """A problem in an input file; the message names the file (and line)."""


def _code(path, line, token, k) -> int:
    try:
        code = int(token)
    except ValueError:
        raise InputError(f"{path}:{line}: label '{token}' is not an integer class code") from None
    if not 0 <= code < k:
        raise InputError(f"{path}:{line}: label {code} is outside 0..{k - 1} (PROBS columns)")
    return code


def _read_rows(path, fields):
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        aliases = {"item": ("item", "task")}
        cols = {}
        for field in fields:
            found = [header.index(a) for a in aliases.get(field, (field,)) if a in header]
            if not found:
                raise InputError(f"{path}:1: missing column '{field}'")
            cols[field] = found[0]
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            vals = {f: (row[c].strip() if c < len(row) else "") for f, c in cols.items()}
            for f, v in vals.items():
                if v == "":
                    raise InputError(f"{path}:{reader.line_num}: missing field '{f}'")
            yield reader.line_num, vals


def read_probs(path) -> np.ndarray:
    try:
        p = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise InputError(f"{path}: not a numpy array file ({e})") from None
    if p.ndim != 2:
        raise InputError(f"{path}: expected shape (n, K), got {p.shape}")
    p = p.astype(np.float64)
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise InputError(f"{path}: probabilities must be finite and non-negative")
    # Stored float32 rows sum to 1 only up to rounding; normalise so every score sees a
    # distribution.
    total = p.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise InputError(f"{path}: a row sums to 0")
    return p / total


def read_item_labels(path, k) -> tuple[list, np.ndarray]:
    items, labels = [], []
    for line, row in _read_rows(path, ("item", "label")):
        items.append(row["item"])
        labels.append(_code(path, line, row["label"], k))
    return items, np.array(labels, dtype=np.int64)


def read_votes(path, k, items=None):
    index = {} if items is None else {t: i for i, t in enumerate(items)}
    workers: dict[str, int] = {}
    it, wk, lab = [], [], []
    for line, row in _read_rows(path, ("item", "worker", "label")):
        if items is None:
            i = index.setdefault(row["item"], len(index))
        elif row["item"] in index:
            i = index[row["item"]]
        else:
            raise InputError(f"{path}:{line}: item '{row['item']}' is not in --items")
        it.append(i)
        wk.append(workers.setdefault(row["worker"], len(workers)))
        lab.append(_code(path, line, row["label"], k))
    it, wk, lab = (np.array(v, dtype=np.int64) for v in (it, wk, lab))
    return list(index), list(workers), it, wk, lab


def _check_rows(n_items, probs, what):
    if probs.shape[0] != n_items:
        raise InputError(f"PROBS has {probs.shape[0]} rows but {what} has {n_items} items")


def cmd_issues(args, out) -> None:
    probs = read_probs(args.probs)
    items, labels = read_item_labels(args.labels, probs.shape[1])
    _check_rows(len(items), probs, args.labels)
    res = find_label_issues(labels, probs, filter_by=args.filter_by, rank_by=args.rank_by)
    rows = np.argsort(res.quality, kind="stable") if args.all else res.ranked
    suggested = probs.argmax(axis=1)
    out.writerow(["item", "label", "quality", "issue", "suggested"])
    for i in rows:
        out.writerow(
            [items[i], labels[i], f"{res.quality[i]:.6f}", int(res.is_issue[i]), suggested[i]]
        )


def cmd_consensus(args, out) -> None:
    probs = read_probs(args.probs)
    order = None
    if args.items:
        order = [row["item"] for _, row in _read_rows(args.items, ("item",))]
    items, workers, it, wk, lab = read_votes(args.votes, probs.shape[1], order)
    _check_rows(len(items), probs, args.items or args.votes)
    res = model_consensus(it, wk, lab, probs, n_raters=len(workers))
    print(
        f"consensus: model weight {res.model_weight:.3f}, rater weight {res.rater_exponent:.3f}, "
        f"model agrees with the consensus on {res.model_accuracy:.1%} of voted items",
        file=sys.stderr,
    )
    out.writerow(["item", "label", "quality", "n_votes"])
    for i, name in enumerate(items):
        out.writerow([name, res.label[i], f"{res.quality[i]:.6f}", int(res.n_votes[i])])
    if args.raters:
        with open(args.raters, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["worker", "quality", "weight"])
            for r, name in enumerate(workers):
                w.writerow([name, f"{res.rater_quality[r]:.6f}", f"{res.rater_weight[r]:.6f}"])


def cmd_suspects(args, out) -> None:
    probs = read_probs(args.probs)
    items, labels = read_item_labels(args.labels, probs.shape[1])
    _check_rows(len(items), probs, args.labels)
    posterior = None
    if args.votes:
        _, workers, it, wk, lab = read_votes(args.votes, probs.shape[1], items)
        posterior = model_consensus(it, wk, lab, probs, n_raters=len(workers)).posterior
    res = suspect_scores(labels, pred_probs=probs, consensus_posterior=posterior)
    out.writerow(["item", "label", "score", "reasons"])
    for i in res.order:
        out.writerow([items[i], labels[i], f"{res.score[i]:.6f}", ";".join(res.reasons_of(i))])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m quality.numeric",
        description="Find bad labels from a model's predicted probabilities (Vox numeric core).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("issues", help="confident learning on item,label + PROBS.npy")
    p.add_argument("labels")
    p.add_argument("probs")
    p.add_argument("--rank-by", default="self_confidence", choices=sorted(RANKINGS))
    p.add_argument(
        "--filter-by",
        default="prune_by_noise_rate",
        choices=["prune_by_noise_rate", "prune_by_class", "both"],
    )
    p.add_argument("--all", action="store_true", help="every item, worst first")
    p = sub.add_parser("consensus", help="raters plus model on item,worker,label + PROBS.npy")
    p.add_argument("votes")
    p.add_argument("probs")
    p.add_argument("--items", help="CSV whose item column gives the PROBS row order")
    p.add_argument("--raters", help="also write worker,quality,weight to this CSV")
    p = sub.add_parser("suspects", help="combined suspect ranking with reasons")
    p.add_argument("labels")
    p.add_argument("probs")
    p.add_argument("--votes", help="item,worker,label votes for the consensus posterior")
    args = parser.parse_args(argv)
    out = csv.writer(sys.stdout, lineterminator="\n")
    try:
        {"issues": cmd_issues, "consensus": cmd_consensus, "suspects": cmd_suspects}[args.command](
            args, out
        )
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
