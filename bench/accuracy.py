"""Accuracy of Vox's aggregation against crowd-kit on the shared real datasets, same run.

    python bench/accuracy.py [--datasets DIR] [--json out.json] [--repeats SHARE]

Prints a markdown table (and JSON with --json). Labels are read with Vox's CSV reader, so
crowd-kit sees exactly the same integer codes and row order. crowd-kit's majority vote breaks
ties by row order; ours by the lowest label code. With --repeats, a seeded share of the rows
is answered again by the same rater (30% of those answers changed; synthetic.with_repeats),
since the published files hold no repeats: both libraries then see the same repeated rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NAMES = [
    "snow_rte",
    "welinder_bluebird",
    "zhou_dog",
    "gal_barzan_mozafari",
    "rodrigues_sentiment_polarity",
]
OURS = ["mv", "wv", "ds", "onecoin", "mace", "glad"]
CROWDKIT = {
    "mv": ("MajorityVote", {}),
    "ds": ("DawidSkene", {"n_iter": 100}),
    "onecoin": ("OneCoinDawidSkene", {"n_iter": 100}),
    "mace": ("MACE", {"random_state": 0}),
    "glad": ("GLAD", {"n_iter": 100, "silent": True}),
}


def shared_crowds(datasets: Path):
    """Yield (name, LabelTable, truth codes) for each shared crowd found under ``datasets``."""
    from aggregation.numeric.io import read_labels_csv, read_truth_csv

    for name in NAMES:
        folder = datasets / name
        if not (folder / "labels.csv").exists():
            print(f"skipping {name}: not found in {datasets}", file=sys.stderr)
            continue
        t = read_labels_csv(folder / "labels.csv")
        yield name, t, read_truth_csv(folder / "truth.csv", t)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    p.add_argument("--json", type=Path)
    p.add_argument("--no-crowdkit", action="store_true")
    p.add_argument("--repeats", type=float, default=0.0, help="share of rows answered twice")
    args = p.parse_args(argv)
    from aggregation import numeric
    from aggregation.numeric.synthetic import with_repeats

    functions = {
        "mv": numeric.majority_vote,
        "wv": numeric.weighted_vote,
        "ds": numeric.dawid_skene,
        "onecoin": numeric.one_coin_dawid_skene,
        "mace": numeric.mace,
        "glad": numeric.glad,
    }
    ck = None
    if not args.no_crowdkit:
        try:
            import pandas as pd
            from crowdkit import aggregation as ck
        except ImportError:
            ck = None
    warnings.simplefilter("ignore")
    rows = []
    for name, t, truth in shared_crowds(args.datasets):
        known = truth >= 0
        votes = (t.item_idx, t.rater_idx, t.label)
        if args.repeats:
            votes = with_repeats(*votes, n_labels=len(t.labels), share=args.repeats, rng=0)
        for method in OURS:
            fn = functions[method]
            t0 = time.perf_counter()
            res = fn(*votes, **t.sizes)
            row = {
                "dataset": name,
                "method": method,
                "vox_acc": float(np.mean(res.label[known] == truth[known])),
                "vox_s": time.perf_counter() - t0,
                "vox_ties": int(res.ties.sum()),
                "n_repeats": int(votes[0].size - t.item_idx.size),
                "crowdkit_acc": None,
                "crowdkit_s": None,
            }
            if ck is not None and method in CROWDKIT:
                cls, kw = CROWDKIT[method]
                df = pd.DataFrame({"task": votes[0], "worker": votes[1], "label": votes[2]})
                t0 = time.perf_counter()
                pred = getattr(ck, cls)(**kw).fit_predict(df)
                row["crowdkit_s"] = time.perf_counter() - t0
                lab = pred.reindex(range(len(t.items))).to_numpy()
                row["crowdkit_acc"] = float(np.mean(lab[known] == truth[known]))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print("| dataset | method | Vox | crowd-kit | Vox ties |")
    print("|---|---|---|---|---|")
    for r in rows:
        c = "–" if r["crowdkit_acc"] is None else f"{r['crowdkit_acc']:.4f}"
        print(f"| {r['dataset']} | {r['method']} | {r['vox_acc']:.4f} | {c} | {r['vox_ties']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
