"""Speed and accuracy benchmark of Vox's categorical aggregation against crowd-kit.

    python bench/aggregation.py --labels 10000 100000 1000000 10000000

Synthetic data: 5 classes, 10 labels per item, 20 % uniform spammers and 10 % raters who always
give the same label (see aggregation.numeric.synthetic). Every (method, size, implementation)
runs in a fresh subprocess so that its peak RSS is its own: the data are generated first, the
peak-RSS counter is reset (Linux: /proc/self/clear_refs), then only the fit is timed and
measured. One JSON object per method and size is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

METHODS = ["mv", "ds", "onecoin", "mace", "glad"]
SLOW_IN_CROWDKIT = {"mace", "glad"}
CROWDKIT_CLASS = {
    "mv": "MajorityVote",
    "ds": "DawidSkene",
    "onecoin": "OneCoinDawidSkene",
    "mace": "MACE",
    "glad": "GLAD",
}


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_mb(reset_ok: bool) -> float:
    if reset_ok:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_one(method: str, n_labels: int, impl: str, seed: int) -> dict:
    """Fit one method on one synthetic crowd in this process; return timing and accuracy."""
    import gc

    import numpy as np

    from aggregation.numeric import dawid_skene, glad, mace, majority_vote, one_coin_dawid_skene
    from aggregation.numeric.synthetic import synthetic_crowd

    c = synthetic_crowd(n_labels, n_labels=5, per_item=10, rng=seed)
    if impl == "crowdkit":
        import pandas as pd
        from crowdkit import aggregation as ck

        df = pd.DataFrame({"task": c.item_idx, "worker": c.rater_idx, "label": c.label})
        kwargs = {
            "ds": {"n_iter": 100},
            "onecoin": {"n_iter": 100},
            "mace": {"random_state": seed},
            "glad": {"n_iter": 100, "silent": True},
        }.get(method, {})
        model = getattr(ck, CROWDKIT_CLASS[method])(**kwargs)
        gc.collect()
        data_mb = _current_mb()
        ok = _reset_peak()
        t0 = time.perf_counter()
        pred = model.fit_predict(df)
        seconds = time.perf_counter() - t0
        peak = _peak_mb(ok)
        label = pred.reindex(range(c.n_items)).to_numpy()
        extra = {}
    else:
        fn = {
            "mv": majority_vote,
            "ds": dawid_skene,
            "onecoin": one_coin_dawid_skene,
            "mace": mace,
            "glad": glad,
        }[method]
        gc.collect()
        data_mb = _current_mb()
        ok = _reset_peak()
        t0 = time.perf_counter()
        res = fn(
            c.item_idx,
            c.rater_idx,
            c.label,
            n_items=c.n_items,
            n_raters=c.n_raters,
            n_labels=c.n_labels,
        )
        seconds = time.perf_counter() - t0
        peak = _peak_mb(ok)
        label = res.label
        extra = {
            "n_iter": getattr(res, "n_iter", None),
            "converged": getattr(res, "converged", None),
        }
    acc = float(np.mean(label == c.truth))
    return {"seconds": seconds, "acc": acc, "peak_rss_mb": peak, "data_rss_mb": data_mb, **extra}


def _subprocess(method, n, impl, seed, timeout):
    cmd = [sys.executable, __file__, "--worker", method, str(n), impl, "--seed", str(seed)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    except subprocess.CalledProcessError as e:
        return {"error": (e.stderr or "").strip().splitlines()[-1:] or ["failed"]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--labels", type=int, nargs="+", default=[10_000], help="numbers of labels")
    p.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    p.add_argument(
        "--crowdkit-max-labels",
        type=int,
        default=100_000,
        help="run crowd-kit's MACE and GLAD only up to this many labels (they are slow)",
    )
    p.add_argument("--no-crowdkit", action="store_true", help="time Vox only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=int, default=1800, help="seconds per fit")
    p.add_argument("--worker", nargs=3, metavar=("METHOD", "N", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        method, n, impl = args.worker
        print(json.dumps(run_one(method, int(n), impl, args.seed)))
        return 0
    try:
        import crowdkit  # noqa: F401

        have_crowdkit = not args.no_crowdkit
    except ImportError:
        have_crowdkit = False
    for n in args.labels:
        for method in args.methods:
            vox = _subprocess(method, n, "vox", args.seed, args.timeout)
            ck = None
            if have_crowdkit and not (method in SLOW_IN_CROWDKIT and n > args.crowdkit_max_labels):
                ck = _subprocess(method, n, "crowdkit", args.seed, args.timeout)
            row = {
                "method": method,
                "labels": n,
                "vox_s": vox.get("seconds"),
                "crowdkit_s": ck.get("seconds") if ck else None,
                "ratio": None,
                "vox_acc": vox.get("acc"),
                "crowdkit_acc": ck.get("acc") if ck else None,
                "peak_rss_mb": vox.get("peak_rss_mb"),
                "crowdkit_peak_rss_mb": ck.get("peak_rss_mb") if ck else None,
                "data_rss_mb": vox.get("data_rss_mb"),
                "vox_n_iter": vox.get("n_iter"),
            }
            if row["vox_s"] and row["crowdkit_s"]:
                row["ratio"] = row["crowdkit_s"] / row["vox_s"]
            for name, res in (("vox_error", vox), ("crowdkit_error", ck or {})):
                if "error" in res:
                    row[name] = res["error"]
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
