"""Model in the loop: consensus and label-error detection of Vox against cleanlab, one run.

    python bench/model_loop.py --data /work/shared/model_loop/cifar10n [--json OUT]
    python bench/model_loop.py --scale [--items 1000000] [--json OUT]
    python bench/model_loop.py --rte ITEMS.jsonl [--json OUT]

--data DIR reads ``labels.csv`` (item,worker,label), ``truth.csv`` and ``noisy.csv``
(item,label) and one ``pred_probs_*.npy`` (n_items, K), row i for item ``c{i}``; the files
stay where they are (CIFAR-10N is CC BY-NC: never copy it into Vox). On the same inputs it
reports (a) consensus accuracy against truth: majority vote, Vox's Dawid–Skene, Vox's
raters-plus-model consensus and cleanlab's CROWDLAB; (b) detection of wrong noisy labels
(noisy != truth): AUROC, AUPRC, precision and recall at k for every Vox score and for
cleanlab's rankings, find_label_issues and CROWDLAB scores; (c) wall time and peak memory of
each method. Every method runs in a fresh subprocess, so its peak RSS is its own: the data
are loaded first, the peak counter is reset (Linux /proc/self/clear_refs), then only the method
is timed and measured.

--rte FILE reads crowd-labelled text items, one JSON object a line: ``premise`` and
``hypothesis`` (every top-level text field is read, as Vox reads an item), ``gold_label`` (the
expert's) and ``annotations`` ([{"annotator", "label"}]), e.g. Snow et al.'s (2008) RTE pairs
(/work/shared/demo_data/crowdtruth_rte_snow2008/items.jsonl; read where it is). It aggregates
the crowd as Vox does by default (``auto``, also majority vote and Dawid–Skene for
comparison), runs Vox's noisy cross-validation (modelruns.cv.noisy_cv_probs) on the aggregate
and reports how well each score finds the items where the aggregate differs from the expert:
the model alone, vote agreement alone, and the suspects page's combined score
(quality.numeric.model_run_suspects), against chance (the share of wrong aggregates).

--scale times every Vox score on a synthetic set (10^6 items x 10 classes by default, three
votes per item, five epochs of logits, 16 features) in one subprocess and prints its time and
peak memory. One JSON object is printed; --json also writes it to a file.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.aggregation import _current_mb, _peak_mb, _reset_peak  # noqa: E402

CONSENSUS = ["mv", "ds", "vox", "crowdlab"]
RANKINGS = ["self_confidence", "normalized_margin", "confidence_weighted_entropy"]
DETECTION = [
    *(f"vox_{m}" for m in RANKINGS),
    "vox_find_label_issues",
    *(f"cleanlab_{m}" for m in RANKINGS),
    "cleanlab_find_label_issues",
]
# The modules each method needs, imported before its clock starts: importing cleanlab (pandas,
# scikit-learn) takes longer than its rankings, and that is not what is measured.
IMPORTS = {
    "crowdlab": "cleanlab.multiannotator",
    "cleanlab": "cleanlab.rank cleanlab.filter",
    "vox": "quality.numeric aggregation.numeric",
}


# ------------------------------------------------------------------------------- loading
def _item_codes(tokens) -> np.ndarray:
    # Items are "c{i}": row i of the probabilities.
    return np.array([int(t[1:]) for t in tokens], dtype=np.int64)


def _read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def load(data: Path) -> dict:
    _, votes = _read(data / "labels.csv")
    items, workers, labels = zip(*votes, strict=True)
    item_idx = _item_codes(items)
    _, rater_idx = np.unique(np.array(workers), return_inverse=True)
    probs_files = sorted(data.glob("pred_probs_*.npy"))
    if len(probs_files) != 1:
        raise SystemExit(f"expected one pred_probs_*.npy in {data}, found {len(probs_files)}")
    probs = np.load(probs_files[0]).astype(np.float64)
    # Stored as float32: rows sum to 1 only up to rounding.
    probs /= probs.sum(axis=1, keepdims=True)
    n = probs.shape[0]

    def item_labels(name):
        _, rows = _read(data / name)
        out = np.full(n, -1, dtype=np.int64)
        out[_item_codes([r[0] for r in rows])] = [int(r[1]) for r in rows]
        return out

    return {
        "item_idx": item_idx,
        "rater_idx": rater_idx.astype(np.int64),
        "label": np.array(labels, dtype=np.int64),
        "n_raters": int(rater_idx.max()) + 1,
        "truth": item_labels("truth.csv"),
        "noisy": item_labels("noisy.csv"),
        "probs": probs,
        "model": probs_files[0].stem.removeprefix("pred_probs_"),
    }


# ------------------------------------------------------------------------------- methods
def run_method(name: str, d: dict) -> dict:
    """Arrays this method outputs (the parent scores them), keyed by result name."""
    from aggregation.numeric import dawid_skene, majority_vote
    from quality.numeric import find_label_issues, label_quality_scores, model_consensus

    it, rt, lab, probs, noisy = d["item_idx"], d["rater_idx"], d["label"], d["probs"], d["noisy"]
    n, k = probs.shape
    sizes = {"n_items": n, "n_raters": d["n_raters"], "n_labels": k}
    if name == "mv":
        return {"label": majority_vote(it, rt, lab, **sizes).label}
    if name == "ds":
        return {"label": dawid_skene(it, rt, lab, **sizes).label}
    if name == "vox":
        from quality.numeric import suspect_scores

        res = model_consensus(it, rt, lab, probs, n_raters=d["n_raters"])
        s = suspect_scores(noisy, pred_probs=probs, consensus_posterior=res.posterior)
        return {
            "label": res.label,
            "consensus_error": 1.0 - res.posterior[np.arange(n), noisy],
            "vox_default": s.score,
            "model_weight": np.array(res.model_weight),
            "rater_exponent": np.array(res.rater_exponent),
        }
    if name.removeprefix("vox_") in RANKINGS:
        return {"score": 1.0 - label_quality_scores(noisy, probs, method=name[4:])}
    if name == "vox_find_label_issues":
        return {"flagged": find_label_issues(noisy, probs).is_issue}
    if name.removeprefix("cleanlab_") in RANKINGS:
        from cleanlab.rank import get_label_quality_scores

        return {"score": -get_label_quality_scores(noisy, probs, method=name[9:])}
    if name == "cleanlab_find_label_issues":
        from cleanlab.filter import find_label_issues as cl_find

        return {"flagged": cl_find(noisy, probs)}
    if name == "crowdlab":
        from cleanlab.multiannotator import get_label_quality_multiannotator

        # labels_NxM: one column per worker, NaN where that worker did not label the item.
        matrix = np.full((n, d["n_raters"]), np.nan)
        matrix[it, rt] = lab
        out = get_label_quality_multiannotator(matrix, probs, verbose=False, return_weights=True)
        lq = out["label_quality"]
        return {
            "label": lq["consensus_label"].to_numpy(),
            "consensus_quality_error": 1.0 - lq["consensus_quality_score"].to_numpy(),
            "model_weight": np.array(float(out["model_weight"])),
        }
    raise ValueError(name)


def worker(name: str, data: Path, out: Path) -> None:
    import gc
    import importlib

    d = load(data)
    for prefix, modules in IMPORTS.items():
        if name.startswith(prefix):
            for module in modules.split():
                importlib.import_module(module)
    gc.collect()
    data_mb = _current_mb()
    ok = _reset_peak()
    t0 = time.perf_counter()
    arrays = run_method(name, d)
    seconds = time.perf_counter() - t0
    peak = _peak_mb(ok)
    np.savez(out / f"{name}.npz", **arrays)
    print(
        json.dumps(
            {
                "wall_s": round(seconds, 3),
                "peak_rss_mb": round(peak, 1),
                "data_rss_mb": round(data_mb, 1),
            }
        )
    )


def _subprocess(args: list[str], timeout: int) -> dict:
    cmd = [sys.executable, __file__, *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    except subprocess.CalledProcessError as e:
        return {"error": ((e.stderr or "").strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------- metrics
def detection(is_error: np.ndarray, score=None, flagged=None) -> dict:
    """AUROC/AUPRC of a score (high = error) with precision/recall at k, or P/R/F1 of a flag set."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    out = {}
    n_err = int(is_error.sum())
    if score is not None:
        out["auroc"] = round(float(roc_auc_score(is_error, score)), 4)
        out["auprc"] = round(float(average_precision_score(is_error, score)), 4)
        order = np.lexsort((np.arange(score.size), -score))
        for name, k in (("n_errors", n_err), ("1000", 1000)):
            hits = int(is_error[order[:k]].sum())
            out[f"precision_at_{name}"] = round(hits / k, 4)
            out[f"recall_at_{name}"] = round(hits / n_err, 4)
    if flagged is not None:
        tp = int((flagged & is_error).sum())
        p = tp / max(int(flagged.sum()), 1)
        r = tp / n_err
        out.update(
            precision=round(p, 4),
            recall=round(r, 4),
            f1=round(2 * p * r / (p + r) if p + r else 0.0, 4),
            n_flagged=int(flagged.sum()),
        )
    return out


def bench_data(data: Path, timeout: int) -> dict:
    d = load(data)
    truth, noisy = d["truth"], d["noisy"]
    is_error = noisy != truth
    runs, arrays = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in [*CONSENSUS, *DETECTION]:
            runs[name] = _subprocess(["--worker", name, "--data", str(data), "--out", tmp], timeout)
            print(f"{name}: {runs[name]}", file=sys.stderr, flush=True)
            path = Path(tmp) / f"{name}.npz"
            if path.exists():
                with np.load(path) as z:
                    arrays[name] = {key: z[key] for key in z.files}

    def resources(name):
        keys = ("wall_s", "peak_rss_mb", "data_rss_mb", "error")
        return {key: runs[name][key] for key in keys if key in runs[name]}

    acc = {}
    for name in CONSENSUS:
        if name in arrays:
            acc[name] = round(float((arrays[name]["label"] == truth).mean()), 5)
    acc["model_alone"] = round(float((d["probs"].argmax(axis=1) == truth).mean()), 5)
    acc["noisy_label"] = round(float((noisy == truth).mean()), 5)

    det = {}
    vox, cl = arrays.get("vox", {}), arrays.get("crowdlab", {})
    if vox:
        det["vox_default"] = {
            **detection(is_error, vox["vox_default"]),
            **resources("vox"),
            "how": "suspect_scores: 1 - P(noisy label | votes, model)",
        }
        det["vox_consensus_posterior"] = detection(is_error, vox["consensus_error"])
    cleanlab_scored = []
    for name in DETECTION:
        if name not in arrays:
            continue
        a = arrays[name]
        det[name] = {**detection(is_error, a.get("score"), a.get("flagged")), **resources(name)}
        if name.startswith("cleanlab_") and "score" in a:
            cleanlab_scored.append(name)
    if cl:
        det["cleanlab_crowdlab_consensus_quality"] = {
            **detection(is_error, cl["consensus_quality_error"], flagged=cl["label"] != noisy),
            "how": "1 - consensus_quality_score; flagged where CROWDLAB's consensus != noisy; time in crowdlab",
        }
        cleanlab_scored.append("cleanlab_crowdlab_consensus_quality")
    if cleanlab_scored:
        best = max(cleanlab_scored, key=lambda m: det[m]["auprc"])
        det["cleanlab_best"] = {**det[best], "method": best}

    return {
        "data": str(data),
        "compared_with_baselines_json": _baselines(data, acc, det),
        "model": d["model"],
        "n_items": int(truth.size),
        "n_votes": int(d["label"].size),
        "n_raters": d["n_raters"],
        "consensus_acc": acc,
        "vox_weights": {
            "model_weight": float(vox["model_weight"]),
            "rater_exponent": float(vox["rater_exponent"]),
        }
        if vox
        else None,
        "crowdlab_model_weight": float(cl["model_weight"]) if cl else None,
        "error_detection": {
            "target": "noisy != truth",
            "n_errors": int(is_error.sum()),
            "methods": det,
        },
        "resources": {name: resources(name) for name in runs},
    }


def _baselines(data: Path, acc: dict, det: dict) -> dict | None:
    """This run's figures beside the folder's baselines.json (same inputs, another run)."""
    path = data / "baselines.json"
    if not path.exists():
        return None
    b = json.loads(path.read_text())
    base_acc = b["consensus_accuracy_vs_truth"]
    base_det = b["label_error_detection_on_noisy_label"]["methods"]
    pairs = {
        "crowdlab_acc": (base_acc["cleanlab_crowdlab"]["accuracy"], acc.get("crowdlab")),
        "majority_acc": (base_acc["majority_vote"]["accuracy"], acc.get("mv")),
        "dawid_skene_acc (crowd-kit there, Vox here)": (
            base_acc["crowdkit_dawid_skene"]["accuracy"],
            acc.get("ds"),
        ),
        "best_baseline_acc_vs_vox": (max(v["accuracy"] for v in base_acc.values()), acc.get("vox")),
        "best_baseline_auprc_vs_vox_default": (
            max(v["auprc"] for v in base_det.values() if "auprc" in v),
            det.get("vox_default", {}).get("auprc"),
        ),
    }
    for m in RANKINGS:
        pairs[f"cleanlab_{m}_auprc"] = (
            base_det[f"cleanlab_rank_{m}"]["auprc"],
            det.get(f"cleanlab_{m}", {}).get("auprc"),
        )
    return {name: {"baselines_json": a, "this_run": b} for name, (a, b) in pairs.items()}


# ------------------------------------------------------------------------------- RTE
def load_rte(path: Path) -> dict:
    """Items, votes as codes and the expert labels."""
    from tasks import kinds

    example = kinds.get("single_choice").model_example
    texts, gold, item_idx, raters, labels = [], [], [], [], []
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for i, row in enumerate(rows):
        # What the server's model reads of an item: its text fields, not the labels or ids.
        data = {k: v for k, v in row.items() if k in ("premise", "hypothesis")}
        texts.append(example(data))
        gold.append(row["gold_label"])
        for a in row["annotations"]:
            item_idx.append(i)
            raters.append(a["annotator"])
            labels.append(a["label"])
    # Sorted: for RTE that is the demo schema's order (entailment first), which decides
    # majority ties as the server would.
    names = sorted({*labels, *gold})
    code = {name: j for j, name in enumerate(names)}
    _, rater_idx = np.unique(np.array(raters), return_inverse=True)
    return {
        "texts": texts,
        "gold": np.array([code[g] for g in gold], dtype=np.int64),
        "item_idx": np.array(item_idx, dtype=np.int64),
        "rater_idx": rater_idx.astype(np.int64),
        "label": np.array([code[x] for x in labels], dtype=np.int64),
        "labels": names,
    }


def _rte_scores(d: dict, agg, seed: int) -> dict:
    """Every score of one aggregate against the expert labels."""
    from modelruns.cv import noisy_cv_probs
    from quality.numeric import model_consensus, model_run_suspects

    it, rt, lab, gold = d["item_idx"], d["rater_idx"], d["label"], d["gold"]
    n, k = gold.size, len(d["labels"])
    given = np.asarray(agg.label, dtype=np.int64)
    wrong = given != gold
    t0 = time.perf_counter()
    fit = noisy_cv_probs(d["texts"], given, n_labels=k, seed=seed)
    cv_s = time.perf_counter() - t0
    rows = np.arange(n)
    counts = np.zeros((n, k))
    np.add.at(counts, (it, lab), 1.0)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    n_raters = int(rt.max()) + 1
    cons = model_consensus(it, rt, lab, fit.probs, n_raters=n_raters)
    combined, _ = model_run_suspects(
        given, fit.probs, epochs=fit.epochs, consensus_posterior=cons.posterior
    )
    model_only, _ = model_run_suspects(given, fit.probs, epochs=fit.epochs)
    scores = {
        # The model alone: 1 - its out-of-fold probability of the aggregate label.
        "noisy_cv": 1.0 - fit.probs[rows, given],
        # The votes alone: the share of raters who did not give the aggregate label.
        "vote_agreement": 1.0 - share[rows, given],
        # The suspects page: raters-plus-model consensus and the training dynamics.
        "combined": combined.score,
        "consensus_posterior": 1.0 - cons.posterior[rows, given],
        "noisy_cv_with_dynamics": model_only.score,
    }
    out = {
        "n_wrong": int(wrong.sum()),
        "chance": round(float(wrong.mean()), 4),
        "aggregate_accuracy": round(float((~wrong).mean()), 4),
        "cv_accuracy_vs_aggregate": fit.stats["cv_accuracy"],
        "model_accuracy_vs_expert": round(float((fit.probs.argmax(axis=1) == gold).mean()), 4),
        "consensus_accuracy_vs_expert": round(float((cons.label == gold).mean()), 4),
        "noisy_cv_s": round(cv_s, 2),
    }
    if 0 < out["n_wrong"] < n:
        for name, score in scores.items():
            det = detection(wrong, score)
            out[f"auprc_{name}"] = det["auprc"]
            out[f"auroc_{name}"] = det["auroc"]
            out[f"precision_at_n_wrong_{name}"] = det["precision_at_n_errors"]
    return out


def bench_rte(path: Path, seed: int) -> dict:
    from aggregation.numeric import auto, dawid_skene, majority_vote

    d = load_rte(path)
    it, rt, lab = d["item_idx"], d["rater_idx"], d["label"]
    sizes = {
        "n_items": d["gold"].size,
        "n_raters": int(rt.max()) + 1,
        "n_labels": len(d["labels"]),
    }
    # Vox's default for a single-choice project that is not subjective is auto
    # (tasks/kinds/choice.py); without gold it chooses by held-out likelihood.
    default = auto(it, rt, lab, **sizes, rng=seed)
    result = {
        "data": str(path),
        "n_items": sizes["n_items"],
        "n_votes": int(lab.size),
        "n_raters": sizes["n_raters"],
        "labels": d["labels"],
        "aggregate": f"auto (chose {default.method})",
        "target": "aggregate label != expert label",
        **_rte_scores(d, default, seed),
    }
    # The same figures on the two fixed aggregates, for comparison. Majority ties (5 of 10
    # each way) go to the lowest label code, as aggregation.numeric.majority_vote breaks them.
    result["other_aggregates"] = {
        "majority": _rte_scores(d, majority_vote(it, rt, lab, **sizes), seed),
        "dawid_skene": _rte_scores(d, dawid_skene(it, rt, lab, **sizes), seed),
    }
    return result


# ------------------------------------------------------------------------------- scale
def synthetic_scale(n: int, k: int, seed: int) -> dict:
    """A synthetic set shaped like a real one, generated fast (no Dirichlet draws)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    given = truth.copy()
    flip = rng.random(n) < 0.1
    given[flip] = (truth[flip] + rng.integers(1, k, int(flip.sum()))) % k
    logit = rng.normal(0, 1, (n, k)).astype(np.float32)
    logit[np.arange(n), truth] += 2.5
    probs = np.exp(logit - logit.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    n_epochs, dim, per_item, n_raters = 5, 16, 3, 1000
    epochs = np.empty((n_epochs, n, k), dtype=np.float32)
    epoch_probs = np.empty_like(epochs)
    for e in range(n_epochs):
        epochs[e] = logit * ((e + 1) / n_epochs) + rng.normal(0, 0.3, (n, k)).astype(np.float32)
        z = np.exp(epochs[e] - epochs[e].max(axis=1, keepdims=True))
        epoch_probs[e] = z / z.sum(axis=1, keepdims=True)
    item = np.repeat(np.arange(n), per_item)
    rater = rng.integers(0, n_raters, item.size)
    right = rng.random(item.size) < 0.75
    label = np.where(right, truth[item], rng.integers(0, k, item.size))
    features = rng.normal(0, 1, (n, dim)).astype(np.float32)
    ckpts = rng.normal(0, 0.1, (n_epochs, dim + 1, k))
    return dict(
        given=given,
        probs=probs.astype(np.float64),
        epochs=epochs,
        epoch_probs=epoch_probs,
        item=item,
        rater=rater,
        label=label,
        n_raters=n_raters,
        features=features,
        ckpts=ckpts,
    )


def scale_worker(n: int, k: int, seed: int) -> dict:
    import gc

    from quality.numeric import (
        area_under_margin,
        confident_joint,
        data_map,
        find_label_issues,
        forgetting_events,
        label_quality_scores,
        model_consensus,
        per_class_thresholds,
        suspect_scores,
        tracin_self_influence,
    )

    s = synthetic_scale(n, k, seed)
    gc.collect()
    data_mb = _current_mb()
    ok = _reset_peak()
    steps = {}
    t_all = time.perf_counter()

    def step(name, fn):
        t0 = time.perf_counter()
        out = fn()
        steps[name] = round(time.perf_counter() - t0, 3)
        return out

    y, p = s["given"], s["probs"]
    step("per_class_thresholds", lambda: per_class_thresholds(y, p))
    step("confident_joint", lambda: confident_joint(y, p))
    step("find_label_issues", lambda: find_label_issues(y, p))
    for m in RANKINGS:
        step(m, lambda m=m: label_quality_scores(y, p, method=m))
    cons = step(
        "model_consensus",
        lambda: model_consensus(s["item"], s["rater"], s["label"], p, n_raters=s["n_raters"]),
    )
    dm = step("data_map", lambda: data_map(s["epoch_probs"], y))
    fg = step("forgetting_events", lambda: forgetting_events(s["epoch_probs"], y))
    aum = step("area_under_margin", lambda: area_under_margin(s["epochs"], y))
    infl = step(
        "tracin_self_influence", lambda: tracin_self_influence(s["features"], y, s["ckpts"])
    )
    step(
        "suspect_scores",
        lambda: suspect_scores(
            y,
            pred_probs=p,
            consensus_posterior=cons.posterior,
            aum=aum,
            forgetting=fg,
            data_map=dm,
            self_influence=infl,
        ),
    )
    total = time.perf_counter() - t_all
    return {
        "n_items": n,
        "n_classes": k,
        "n_votes": int(s["item"].size),
        "n_epochs": 5,
        "n_features": 16,
        "total_s": round(total, 2),
        "peak_rss_mb": round(_peak_mb(ok), 1),
        "data_rss_mb": round(data_mb, 1),
        "steps_s": steps,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="benchmark folder (labels.csv, truth.csv, ...)")
    ap.add_argument("--json", type=Path, help="also write the JSON object here")
    ap.add_argument("--scale", action="store_true", help="time every Vox score on synthetic data")
    ap.add_argument("--rte", type=Path, help="crowd-labelled text items (JSONL) with expert labels")
    ap.add_argument("--items", type=int, default=1_000_000, help="items for --scale")
    ap.add_argument("--classes", type=int, default=10, help="classes for --scale")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per method")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker == "scale":
        print(json.dumps(scale_worker(args.items, args.classes, args.seed)))
        return 0
    if args.worker:
        worker(args.worker, args.data, args.out)
        return 0
    if args.scale:
        wargs = ["--worker", "scale", "--items", str(args.items), "--classes", str(args.classes)]
        result = {"scale": _subprocess([*wargs, "--seed", str(args.seed)], args.timeout)}
        result["scale"]["budget"] = {"seconds": 30, "peak_rss_mb": 2048}
    elif args.rte:
        result = {"rte_noisy_cv": bench_rte(args.rte, args.seed)}
    elif args.data:
        result = bench_data(args.data, args.timeout)
    else:
        ap.error("give --data DIR, --rte FILE or --scale")
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
