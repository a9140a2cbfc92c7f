"""Command line: ``python -m aggregation.numeric METHOD labels.csv``.

Categorical methods (auto, mv, wv, ds, onecoin, mace, glad) read ``item,worker,label`` (or
crowd-kit's ``task,worker,label``) and write ``item,label,confidence`` to stdout, where
confidence is the posterior probability of the chosen label; ``auto`` says on stderr which
method it chose and why. Pairwise methods (bt,
bradley-terry) read ``worker,left,right,label`` with the winner's id or ``tie`` as label and
write ``item,score``. No database or Django settings are needed. Input errors name the file and
line and exit with status 2.
"""

from __future__ import annotations

import argparse
import csv
import sys

from .auto import auto
from .categorical import majority_vote, weighted_vote
from .dawid_skene import dawid_skene, one_coin_dawid_skene
from .glad import glad
from .io import InputError, read_comparisons_csv, read_labels_csv
from .mace import mace
from .pairwise import bradley_terry

CATEGORICAL = {
    "auto": auto,
    "mv": majority_vote,
    "majority-vote": majority_vote,
    "wv": weighted_vote,
    "weighted-vote": weighted_vote,
    "ds": dawid_skene,
    "dawid-skene": dawid_skene,
    "onecoin": one_coin_dawid_skene,
    "one-coin-dawid-skene": one_coin_dawid_skene,
    "mace": mace,
    "glad": glad,
}
PAIRWISE = {"bt", "bradley-terry"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aggregation.numeric",
        description="Aggregate crowd labels from a CSV file (Vox numeric core).",
    )
    parser.add_argument("method", choices=sorted([*CATEGORICAL, *PAIRWISE]))
    parser.add_argument("path", help="CSV file: item,worker,label or worker,left,right,label")
    args = parser.parse_args(argv)
    out = csv.writer(sys.stdout, lineterminator="\n")
    try:
        if args.method in PAIRWISE:
            t = read_comparisons_csv(args.path)
            res = bradley_terry(t.winner, t.loser, n_items=len(t.items), ties=t.tie, ci=None)
            out.writerow(["item", "score"])
            for name, score in zip(t.items, res.scores, strict=False):
                out.writerow([name, f"{score:.6f}"])
            return 0
        t = read_labels_csv(args.path)
        res = CATEGORICAL[args.method](t.item_idx, t.rater_idx, t.label, **t.sizes)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {args.path}: {e.strerror}", file=sys.stderr)
        return 2
    if args.method == "auto":
        print(f"auto: chose {res.method} because {res.reason}", file=sys.stderr)
    out.writerow(["item", "label", "confidence"])
    conf = res.posterior[range(len(t.items)), res.label]
    for name, lab, c in zip(t.items, res.label, conf, strict=False):
        out.writerow([name, t.labels[lab], f"{c:.6f}"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
