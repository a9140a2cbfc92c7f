"""Replay real crowds through Vox's stop rule and uncertainty-first queue.

    python bench/overlap_replay.py --datasets ../shared/datasets [--only a,b] [--shuffles 5] \
        [--json out.json]

Every folder under --datasets that holds ``labels.csv`` (item,worker,label; extra columns are
ignored) and ``truth.csv`` (item,label) is one crowd. Items arrive in the order they first appear
in labels.csv; each shuffle permutes the order of every item's labels (seeded: shuffle s uses
seed s), and every figure is the mean over the shuffles. Per crowd:

* fixed k = 3 and k = 5 (or all of an item's labels where it has fewer), majority vote and
  Dawid–Skene on the first k labels of each item;
* dynamic overlap, as the server would run it: items are served in arrival order and each gets
  labels one at a time until :func:`aggregation.numeric.categorical_stop` says done; the rater
  quality it uses comes from a background Dawid–Skene re-fit on all labels revealed so far,
  every ``--refit-every`` labels (shrunk towards the crowd's pooled matrix by
  :func:`aggregation.numeric.rater_confusion`, as the server's rater scores are), and a
  re-fit reopens any finished item that the new quality makes unsure, up to ``--max``. After the
  last item, re-fits run until none reopens. Accuracy is Dawid–Skene on the revealed labels;
* uncertainty-first at the budget of fixed k = 3: every item gets ``--uf-start`` labels, then
  each next label goes to the item first in :func:`aggregation.numeric.queue_priority` (most
  uncertain, then oldest) that still has labels, with the same periodic re-fit.

No decision reads the truth; the truth only scores the end result. Two diagnostics change that
on purpose, to ask what more knowledge of the raters would buy (docs/aggregation.md):

* ``--gold-rate R`` turns a seeded share R of the items with a truth into silent gold: all of a
  gold item's labels are revealed when it arrives, the re-fit runs Dawid–Skene on the live
  labels and credits the gold answers against the truth in the raters' matrices (as
  aggregation.scoring does with a project's gold), and gold items are left out of every
  strategy's accuracy and labels per item, fixed k included. ``fixed5_ds_gold_acc`` is fixed
  k = 5 Dawid–Skene that also sees the gold answers, the fair baseline for this mode.
* ``--oracle-raters`` gives the stop rule every rater's confusion matrix counted from the truth
  on all of their labels (what no server can know) and keeps it fixed: the best any rater
  model could do for a rule that stops on a posterior threshold.

One JSON object is printed
on stdout (and written to --json): one entry per crowd, ``mean`` over crowds, ``settings``,
``timings``, ``stop_rule_cost_us`` (a micro-benchmark of the submit-path call) and ``targets``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aggregation import numeric  # noqa: E402
from aggregation.numeric.io import InputError, read_labels_csv, read_truth_csv  # noqa: E402
from aggregation.numeric.overlap import STOP_PRIOR_ACCURACY, STOP_STRENGTH  # noqa: E402

REPORTED = [
    "fixed3_mv_acc",
    "fixed3_ds_acc",
    "fixed3_labels_per_item",
    "fixed5_mv_acc",
    "fixed5_ds_acc",
    "fixed5_labels_per_item",
    "dynamic_acc",
    "dynamic_mv_acc",
    "dynamic_labels_per_item",
    "dynamic_reopened_per_item",
    "uncertainty_first_acc",
    "uncertainty_first_mv_acc",
    "uncertainty_first_labels_per_item",
]


@dataclass(frozen=True)
class Settings:
    min_raters: int = 2
    max_raters: int = 10
    target: float = 0.7
    prior_accuracy: float = STOP_PRIOR_ACCURACY  # the server's, as is the strength
    strength: float = STOP_STRENGTH
    refit_every: int = 100
    uf_start: int = 1
    leave_one_out: bool = True
    shuffles: int = 5
    gold_rate: float = 0.0  # diagnostic: share of items made silent gold (reads the truth)
    oracle_raters: bool = False  # diagnostic: raters' confusion from the truth (reads it)


@dataclass(frozen=True)
class Crowd:
    """One folder: votes as codes (items numbered in arrival order), truth (-1 unknown)."""

    name: str
    item: np.ndarray
    rater: np.ndarray
    label: np.ndarray
    truth: np.ndarray
    n_items: int
    n_raters: int
    n_labels: int


def load_crowd(folder: Path) -> Crowd:
    """Read one dataset folder; problems raise InputError naming the file (and line)."""
    labels, truth = folder / "labels.csv", folder / "truth.csv"
    for path in (labels, truth):
        if not path.is_file():
            raise InputError(f"{path}: not found")
    table = read_labels_csv(labels)
    if table.item_idx.size == 0:
        raise InputError(f"{labels}:2: no labels")
    return Crowd(
        name=folder.name,
        item=table.item_idx,
        rater=table.rater_idx,
        label=table.label,
        truth=read_truth_csv(truth, table),
        **table.sizes,
    )


def arrival(crowd: Crowd, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Votes grouped by item in arrival order, each item's labels shuffled with ``seed``.

    Returns ``order`` (n_votes,) vote indices and ``bounds`` (n_items + 1,): item i's labels, in
    the order they are revealed, are ``order[bounds[i]:bounds[i + 1]]``.
    """
    key = np.random.default_rng(seed).random(crowd.item.size)
    order = np.lexsort((key, crowd.item))
    bounds = np.zeros(crowd.n_items + 1, np.int64)
    np.cumsum(np.bincount(crowd.item, minlength=crowd.n_items), out=bounds[1:])
    return order, bounds


def gold_items(crowd: Crowd, seed: int, rate: float) -> np.ndarray:
    """(n_items,) bool: the items made silent gold in shuffle ``seed`` (none at rate 0)."""
    if rate <= 0:
        return np.zeros(crowd.n_items, bool)
    draw = np.random.default_rng(1000 + seed).random(crowd.n_items)
    return (draw < rate) & (crowd.truth >= 0)


def truth_confusion(crowd: Crowd) -> np.ndarray:
    """(n_raters, K, K) every rater's confusion counted from the truth on all their labels,
    with two pseudo-votes per row of a 0.7 one-coin rater: the oracle of ``--oracle-raters``."""
    k = crowd.n_labels
    known = crowd.truth[crowd.item] >= 0
    counts = np.zeros((crowd.n_raters, k, k))
    np.add.at(counts, (crowd.rater[known], crowd.truth[crowd.item[known]], crowd.label[known]), 1)
    counts += 2.0 * numeric.vote_confusion(1, k, prior_accuracy=0.7)[0]
    return counts / counts.sum(axis=2, keepdims=True)


def accuracy(crowd: Crowd, predicted: np.ndarray, live: np.ndarray | None = None) -> float:
    known = crowd.truth >= 0
    if live is not None:
        known = known & live
    return float(np.mean(predicted[known] == crowd.truth[known])) if known.any() else float("nan")


def fit(crowd: Crowd, revealed: np.ndarray, method: str):
    fn = numeric.dawid_skene if method == "ds" else numeric.majority_vote
    return fn(
        crowd.item[revealed],
        crowd.rater[revealed],
        crowd.label[revealed],
        n_items=crowd.n_items,
        n_raters=crowd.n_raters,
        n_labels=crowd.n_labels,
    )


def fixed_k(crowd: Crowd, order: np.ndarray, bounds: np.ndarray, k: int, gold=None) -> dict:
    """The first k labels of every item (all where it has fewer), scored on the live items."""
    gold = np.zeros(crowd.n_items, bool) if gold is None else gold
    live = ~gold
    pos = np.empty(order.size, np.int64)
    pos[order] = np.arange(order.size) - np.repeat(bounds[:-1], np.diff(bounds))
    revealed = pos < k
    out = {
        f"fixed{k}_mv_acc": accuracy(crowd, fit(crowd, revealed, "mv").label, live),
        f"fixed{k}_ds_acc": accuracy(crowd, fit(crowd, revealed, "ds").label, live),
        f"fixed{k}_labels_per_item": float(revealed[live[crowd.item]].sum() / live.sum()),
    }
    if gold.any():
        with_gold = revealed | gold[crowd.item]
        out[f"fixed{k}_ds_gold_acc"] = accuracy(crowd, fit(crowd, with_gold, "ds").label, live)
    return out


class Server:
    """What the server keeps between submits: revealed labels and the last re-fit's quality."""

    def __init__(self, crowd: Crowd, order, bounds, s: Settings, gold=None):
        self.c, self.order, self.bounds, self.s = crowd, order, bounds, s
        self.gold = np.zeros(crowd.n_items, bool) if gold is None else gold
        self.live = ~self.gold
        self.revealed = np.zeros(crowd.item.size, bool)
        self.n = np.zeros(crowd.n_items, np.int64)
        self.available = np.diff(bounds)
        k = crowd.n_labels
        prior = numeric.vote_confusion(1, k, prior_accuracy=s.prior_accuracy)[0]
        self.confusion = np.broadcast_to(prior, (crowd.n_raters, k, k)).copy()
        if s.oracle_raters:
            self.confusion = truth_confusion(crowd)
        self._known = np.zeros((crowd.n_items, k))
        self._known[np.flatnonzero(self.gold), crowd.truth[self.gold]] = 1.0
        self.class_prior = np.full(k, 1.0 / k)
        self.since_refit = 0
        self.n_refits = 0

    def votes_of(self, i: int) -> np.ndarray:
        return self.order[self.bounds[i] : self.bounds[i] + self.n[i]]

    def reveal_gold(self, i: int) -> None:
        """A gold item: every rater who labelled it answered it; nothing decides when to stop."""
        while self.n[i] < self.available[i]:
            self.reveal(i)

    def reveal(self, i: int) -> None:
        v = self.order[self.bounds[i] + self.n[i]]
        self.revealed[v] = True
        self.n[i] += 1
        self.since_refit += 1

    def decide(self, i: int) -> numeric.StopDecision:
        """The submit-path call: the stop rule on item i's votes with the current quality."""
        v = self.votes_of(i)
        s = self.s
        return numeric.categorical_stop(
            self.c.label[v],
            self.confusion[self.c.rater[v]],
            class_prior=self.class_prior,
            min_raters=s.min_raters,
            max_raters=s.max_raters,
            target=s.target,
        )

    def refit(self) -> np.ndarray:
        """Background re-fit: Dawid–Skene on every revealed label, then shrunk confusion
        matrices for the stop rule. Returns every item's posterior under the new quality."""
        c, rev = self.c, self.revealed
        self.since_refit = 0
        self.n_refits += 1
        if not self.s.oracle_raters:  # the oracle's quality is known from the start
            self._refit_quality()
        # The submit path weighs classes evenly (annotation.queue.settle), and so does this;
        # a run's class prior, estimated from the same sparse votes, lost accuracy here.
        return numeric.categorical_posterior(
            c.item[rev],
            c.label[rev],
            self.confusion[c.rater[rev]],
            n_items=c.n_items,
            class_prior=self.class_prior,
        )

    def _refit_quality(self) -> None:
        c, rev = self.c, self.revealed
        # As on the server: the run sees live labels only, and gold answers join the raters'
        # matrices scored against the known answer.
        ds = fit(c, rev & self.live[c.item], "ds")
        credit = np.where(self.gold[:, None], self._known, ds.posterior)
        self.confusion = numeric.rater_confusion(
            c.item[rev],
            c.rater[rev],
            c.label[rev],
            credit,
            n_raters=c.n_raters,
            confusion=ds.confusion if self.s.leave_one_out else None,
            known=self.gold,  # scored against the known answer, as the server's rater scores do
            prior_accuracy=self.s.prior_accuracy,
            strength=self.s.strength,
        )


def dynamic(crowd: Crowd, order, bounds, s: Settings, gold=None) -> dict:
    """Serve items in arrival order until the stop rule says done; re-fits may reopen them."""
    srv = Server(crowd, order, bounds, s, gold)
    live = srv.live
    done = np.zeros(crowd.n_items, bool)
    queue: deque[int] = deque()
    reopened = 0

    def background_refit() -> None:
        nonlocal reopened
        post = srv.refit()
        still = numeric.categorical_done(
            post, srv.n, min_raters=s.min_raters, max_raters=s.max_raters, target=s.target
        )
        again = np.flatnonzero(done & ~still & (srv.n < srv.available) & live)
        done[again] = False
        reopened += again.size
        queue.extend(again.tolist())  # oldest first, as the queue would serve them

    def serve(i: int) -> None:
        if srv.gold[i]:
            srv.reveal_gold(i)
        while srv.n[i] < srv.available[i]:
            srv.reveal(i)
            finished = srv.decide(i).done
            if srv.since_refit >= s.refit_every:
                background_refit()
            if finished:
                break
        done[i] = True

    for i in range(crowd.n_items):
        serve(i)
        while queue:
            serve(queue.popleft())
    # Once every item has been served, the background job keeps re-fitting until it reopens
    # nothing; each round reveals at least one label, so this ends.
    while True:
        background_refit()
        if not queue:
            break
        while queue:
            serve(queue.popleft())
    return {
        "dynamic_acc": accuracy(crowd, fit(crowd, srv.revealed, "ds").label, live),
        "dynamic_mv_acc": accuracy(crowd, fit(crowd, srv.revealed, "mv").label, live),
        "dynamic_labels_per_item": float(srv.n[live].sum() / live.sum()),
        "dynamic_reopened_per_item": reopened / live.sum(),
        "dynamic_refits": srv.n_refits,
    }


def uncertainty_first(crowd: Crowd, order, bounds, s: Settings, budget: int, gold=None) -> dict:
    """Start every item at ``uf_start`` labels, then give each next label to the item first in
    the queue order (most uncertain, then oldest) that still has labels, until ``budget``."""
    srv = Server(crowd, order, bounds, s, gold)
    live = srv.live
    age = np.arange(crowd.n_items)
    for i in range(crowd.n_items):
        if srv.gold[i]:
            srv.reveal_gold(i)
        while srv.n[i] < min(s.uf_start, srv.available[i]):
            srv.reveal(i)
    heap: list[tuple[int, int]] = []
    key = np.zeros(crowd.n_items, np.int64)

    def rebuild(post: np.ndarray) -> None:
        u = numeric.categorical_uncertainty(post)
        key[:] = numeric.queue_priority(srv.n, u, age)
        open_ = np.flatnonzero((srv.n < srv.available) & live)
        heap[:] = list(zip(key[open_].tolist(), open_.tolist(), strict=True))
        heapq.heapify(heap)

    rebuild(srv.refit())
    spent = int(srv.n[live].sum())
    while spent < budget and heap:
        k, i = heapq.heappop(heap)
        if k != key[i]:
            continue  # stale entry: the item's key changed after it was pushed
        srv.reveal(i)
        spent += 1
        if srv.since_refit >= s.refit_every:
            rebuild(srv.refit())
            continue
        post = srv.decide(i).posterior[None, :]
        key[i] = numeric.queue_priority(
            srv.n[i : i + 1], numeric.categorical_uncertainty(post), age[i : i + 1]
        )[0]
        if srv.n[i] < srv.available[i]:
            heapq.heappush(heap, (int(key[i]), i))
    return {
        "uncertainty_first_acc": accuracy(crowd, fit(crowd, srv.revealed, "ds").label, live),
        "uncertainty_first_mv_acc": accuracy(crowd, fit(crowd, srv.revealed, "mv").label, live),
        "uncertainty_first_labels_per_item": float(srv.n[live].sum() / live.sum()),
    }


def replay(crowd: Crowd, s: Settings) -> tuple[dict, dict]:
    """Mean figures over the shuffles, and seconds per strategy."""
    runs, seconds = [], {"fixed": 0.0, "dynamic": 0.0, "uncertainty_first": 0.0}
    for seed in range(s.shuffles):
        order, bounds = arrival(crowd, seed)
        gold = gold_items(crowd, seed, s.gold_rate)
        t0 = time.perf_counter()
        row = {**fixed_k(crowd, order, bounds, 3, gold), **fixed_k(crowd, order, bounds, 5, gold)}
        t1 = time.perf_counter()
        row.update(dynamic(crowd, order, bounds, s, gold))
        t2 = time.perf_counter()
        budget = int(round(row["fixed3_labels_per_item"] * (~gold).sum()))
        row.update(uncertainty_first(crowd, order, bounds, s, budget, gold))
        t3 = time.perf_counter()
        seconds["fixed"] += t1 - t0
        seconds["dynamic"] += t2 - t1
        seconds["uncertainty_first"] += t3 - t2
        runs.append(row)
    out = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
    out["dynamic_acc_sd"] = float(np.std([r["dynamic_acc"] for r in runs]))
    out["n_items"], out["n_labels_total"] = crowd.n_items, int(crowd.item.size)
    out["n_truth"] = int((crowd.truth >= 0).sum())
    out["n_gold"] = float(
        np.mean([gold_items(crowd, i, s.gold_rate).sum() for i in range(s.shuffles)])
    )
    return out, {k: round(v, 3) for k, v in seconds.items()}


def stop_rule_cost(repeats: int = 2000) -> dict:
    """Microseconds per submit-path call at 20 votes, median of 5 batches of ``repeats``."""
    rng = np.random.default_rng(0)
    n = 20

    def per_call(fn) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(repeats):
                fn()
            times.append((time.perf_counter() - t0) / repeats * 1e6)
        return round(float(np.median(times)), 1)

    def categorical(k):
        label = rng.integers(0, k, n)
        known = np.where(rng.random(n) < 0.7, 0.8, np.nan)
        gold = np.where(rng.random(n) < 0.5, 0.75, np.nan)
        confusion = numeric.vote_confusion(n, k, accuracy=known)

        def call():
            # What a submit does: resolve each voter's quality, then the rule.
            conf = numeric.vote_confusion(n, k, confusion=confusion, gold_accuracy=gold)
            return numeric.categorical_stop(label, conf, min_raters=2, max_raters=n, target=0.99)

        return call

    choice = rng.integers(0, 3, n)
    acc = rng.uniform(0.6, 0.95, n)
    rating = rng.integers(0, 5, n)
    return {
        "categorical_k2_20_votes": per_call(categorical(2)),
        "categorical_k5_20_votes": per_call(categorical(5)),
        "pairwise_20_votes": per_call(
            lambda: numeric.pairwise_stop(
                choice, numeric.vote_weight(numeric.vote_accuracy(n, accuracy=acc)), max_raters=n
            )
        ),
        "likert_20_votes": per_call(
            lambda: numeric.likert_stop(rating, acc, n_levels=5, max_raters=n, max_width=0.1)
        ),
    }


def targets(mean: dict) -> dict:
    saved = 1.0 - mean["dynamic_labels_per_item"] / mean["fixed5_labels_per_item"]
    gap = mean["dynamic_acc"] - mean["fixed5_ds_acc"]
    out = {
        "dynamic_label_saving_vs_fixed5": saved,
        "dynamic_saves_40_percent": bool(saved >= 0.40),
        "dynamic_acc_minus_fixed5_ds": gap,
        "dynamic_within_0.002_of_fixed5_ds": bool(gap >= -0.002),
        "uncertainty_first_ds_beats_fixed3_ds": bool(
            mean["uncertainty_first_acc"] > mean["fixed3_ds_acc"]
        ),
        "uncertainty_first_mv_beats_fixed3_mv": bool(
            mean["uncertainty_first_mv_acc"] > mean["fixed3_mv_acc"]
        ),
    }
    if "fixed5_ds_gold_acc" in mean:  # --gold-rate: the baseline that also has the gold answers
        out["dynamic_acc_minus_fixed5_ds_gold"] = mean["dynamic_acc"] - mean["fixed5_ds_gold_acc"]
    return out


def folders(root: Path, only: list[str] | None) -> list[Path]:
    if only:
        missing = [n for n in only if not (root / n).is_dir()]
        if missing:
            raise InputError(f"{root}: no dataset folder named {', '.join(missing)}")
        return [root / n for n in only]
    found = sorted(p for p in root.iterdir() if p.is_dir() and (p / "labels.csv").is_file())
    if not found:
        raise InputError(f"{root}: no folder holding labels.csv")
    return found


def main(argv=None) -> int:
    d = Settings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    p.add_argument("--only", help="comma-separated folder names")
    p.add_argument("--shuffles", type=int, default=d.shuffles)
    p.add_argument("--json", type=Path)
    p.add_argument("--min", type=int, default=d.min_raters, dest="min_raters")
    p.add_argument("--max", type=int, default=d.max_raters, dest="max_raters")
    p.add_argument("--target", type=float, default=d.target)
    p.add_argument("--prior-accuracy", type=float, default=d.prior_accuracy)
    p.add_argument("--strength", type=float, default=d.strength)
    p.add_argument("--refit-every", type=int, default=d.refit_every)
    p.add_argument("--uf-start", type=int, default=d.uf_start)
    p.add_argument("--no-micro", action="store_true", help="skip the stop-rule micro-benchmark")
    p.add_argument(
        "--gold-rate", type=float, default=0.0, help="diagnostic: share of items made silent gold"
    )
    p.add_argument(
        "--oracle-raters",
        action="store_true",
        help="diagnostic: the stop rule knows every rater's confusion from the truth",
    )
    args = p.parse_args(argv)
    s = Settings(
        min_raters=args.min_raters,
        max_raters=args.max_raters,
        target=args.target,
        prior_accuracy=args.prior_accuracy,
        strength=args.strength,
        refit_every=args.refit_every,
        uf_start=args.uf_start,
        shuffles=args.shuffles,
        gold_rate=args.gold_rate,
        oracle_raters=args.oracle_raters,
    )
    if not 0.0 <= s.gold_rate < 1.0:
        print(f"error: --gold-rate must be in [0, 1), got {s.gold_rate}", file=sys.stderr)
        return 2
    only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    try:
        crowds = [load_crowd(f) for f in folders(args.datasets, only)]
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out: dict = {}
    timings: dict = {}
    for crowd in crowds:
        t0 = time.perf_counter()
        out[crowd.name], timings[crowd.name] = replay(crowd, s)
        timings[crowd.name]["total"] = round(time.perf_counter() - t0, 3)
        print(f"{crowd.name}: {json.dumps(out[crowd.name])}", file=sys.stderr, flush=True)
    names = list(out)
    keys = [k for k in out[names[0]] if not k.startswith("n_")]
    mean = {k: float(np.nanmean([out[n][k] for n in names])) for k in keys}
    out["mean"] = mean
    out["targets"] = targets(mean)
    out["settings"] = s.__dict__ | {"datasets": names}
    out["timings"] = timings
    if not args.no_micro:
        out["stop_rule_cost_us"] = stop_rule_cost()
    text = json.dumps(out, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
