"""Accuracy of ``auto`` against every categorical method, and against crowd-kit's, same run.

    python bench/auto_method.py [--datasets DIR] [--seeds N] [--no-crowdkit]

Prints one JSON document: for each shared real dataset and each synthetic crowd with
spammers (aggregation.numeric.synthetic), the accuracy of every Vox method, of ``auto`` (with
what it chose and why) and of crowd-kit's methods where crowd-kit is importable, with the
per-crowd best of each library. ``auto`` never sees the truth; the truth only scores.
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

from bench.accuracy import CROWDKIT, shared_crowds  # noqa: E402

# Synthetic crowds: (name, synthetic_crowd arguments). Spammers answer uniformly at random,
# "constant" raters always give the same label; honest raters err towards the next class.
SYNTHETIC = [
    ("3 classes, 5 per item, 30% spammers", {"n_labels": 3, "per_item": 5, "spammers": 0.3}),
    ("2 classes, 5 per item, 30% spammers", {"n_labels": 2, "per_item": 5, "spammers": 0.3}),
    ("4 classes, 3 per item, 20% spammers", {"n_labels": 4, "per_item": 3, "spammers": 0.2}),
    ("5 classes, 10 per item, 20% spammers, 10% constant", {}),
]


def methods():
    from aggregation import numeric

    return {
        "majority": numeric.majority_vote,
        "weighted": numeric.weighted_vote,
        "dawid_skene": numeric.dawid_skene,
        "one_coin": numeric.one_coin_dawid_skene,
        "mace": numeric.mace,
        "glad": numeric.glad,
    }


def crowd_kit():
    try:
        import pandas as pd
        from crowdkit import aggregation as ck
    except ImportError:
        return None
    return pd, ck


def score(votes, sizes, truth, ck) -> dict:
    """Accuracy of every method, auto and crowd-kit on one crowd."""
    from aggregation import numeric

    known = truth >= 0

    def acc(label):
        return round(float(np.mean(label[known] == truth[known])), 4)

    vox = {name: acc(fn(*votes, **sizes).label) for name, fn in methods().items()}
    t0 = time.perf_counter()
    res = numeric.auto(*votes, **sizes)
    row = {
        "n_votes": int(votes[0].size),
        "vox": vox,
        "vox_best": max(vox.values()),
        "auto": {
            "accuracy": acc(res.label),
            "chose": res.method,
            "reason": res.reason,
            "seconds": round(time.perf_counter() - t0, 2),
        },
    }
    if ck is not None:
        pd, lib = ck
        df = pd.DataFrame({"task": votes[0], "worker": votes[1], "label": votes[2]})
        kit = {}
        for name, (cls, kw) in CROWDKIT.items():
            pred = getattr(lib, cls)(**kw).fit_predict(df)
            kit[name] = acc(pred.reindex(range(sizes["n_items"])).to_numpy())
        row["crowdkit"] = kit
        row["crowdkit_best"] = max(kit.values())
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    p.add_argument("--seeds", type=int, default=3, help="synthetic crowds per configuration")
    p.add_argument("--synthetic-votes", type=int, default=5000)
    p.add_argument("--no-crowdkit", action="store_true")
    args = p.parse_args(argv)
    from aggregation.numeric.synthetic import synthetic_crowd

    warnings.simplefilter("ignore")
    ck = None if args.no_crowdkit else crowd_kit()
    out = {"real": {}, "synthetic": {}}
    for name, t, truth in shared_crowds(args.datasets):
        out["real"][name] = score((t.item_idx, t.rater_idx, t.label), t.sizes, truth, ck)
        print(name, json.dumps(out["real"][name]["auto"]), file=sys.stderr, flush=True)
    for name, kw in SYNTHETIC:
        for seed in range(args.seeds):
            c = synthetic_crowd(args.synthetic_votes, rng=seed, **kw)
            sizes = {"n_items": c.n_items, "n_raters": c.n_raters, "n_labels": c.n_labels}
            key = f"{name}, seed {seed}"
            out["synthetic"][key] = score((c.item_idx, c.rater_idx, c.label), sizes, c.truth, ck)
    for part in ("real", "synthetic"):
        rows = out[part].values()
        if rows:
            out[f"{part}_mean"] = {
                "auto": round(float(np.mean([r["auto"]["accuracy"] for r in rows])), 4),
                "vox_best": round(float(np.mean([r["vox_best"] for r in rows])), 4),
                "dawid_skene": round(float(np.mean([r["vox"]["dawid_skene"] for r in rows])), 4),
                "majority": round(float(np.mean([r["vox"]["majority"] for r in rows])), 4),
            }
            if ck is not None:
                out[f"{part}_mean"]["crowdkit_best"] = round(
                    float(np.mean([r["crowdkit_best"] for r in rows])), 4
                )
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
