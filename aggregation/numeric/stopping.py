"""When an item has enough labels: the incremental rules of dynamic overlap.

The work queue asks after each submit whether the item is done (annotation.queue.settle),
with the item's few votes and each voter's accuracy (from gold, else the current run, else
a prior), so each rule must be cheap: a handful of numpy operations on at most `n_max`
votes. The background re-fit may reopen an item it finds unsure (aggregation.services).

- Categorical (single choice): the one-coin posterior of Dawid & Skene (1979) with a
  uniform class prior: a vote for label l from a rater of accuracy a has probability a if l
  is the true label and (1 - a) / (K - 1) otherwise. Done when the posterior's maximum
  reaches the target after at least `n_min` votes.
- Pairwise (A, B, tie): each vote counts as much as its rater is better than chance,
  w = max(0, 2a - 1) (a coin-flipper counts for nothing), into a Beta(1 + sum_A w,
  1 + sum_B w) posterior on P(A beats B); done when its central interval at `level`
  excludes 1/2, or when the ties' weight is more than that of A and B together.
- Either way an item is done at `n_max` votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# An unknown rater's accuracy: the prior the rules fall back on.
PRIOR_ACCURACY = 0.7


@dataclass(frozen=True)
class Stop:
    done: bool
    reason: str  # "confident", "interval", "ties", "max", or "" when not done
    confidence: float  # the posterior's maximum, or P(A beats B) for pairwise


def _accuracy(accuracy, n: int) -> np.ndarray:
    acc = np.asarray(accuracy, dtype=float)
    if acc.shape != (n,):
        raise ValueError(f"accuracy must have shape ({n},), got {acc.shape}")
    # Never certainty: one perfect rater must not close an item on their own.
    return np.clip(np.where(np.isfinite(acc), acc, PRIOR_ACCURACY), 0.0, 0.99)


def categorical_stop(labels, accuracy, n_labels: int, *, target: float, n_min: int, n_max: int):
    """labels: (n,) codes in 0..n_labels-1 of the item's votes; accuracy: (n,) per vote."""
    labels = np.asarray(labels, dtype=np.int64)
    n = labels.size
    if n_labels < 2:
        raise ValueError("n_labels must be >= 2")
    acc = _accuracy(accuracy, n)
    log_right, log_wrong = np.log(np.maximum(acc, 1e-12)), np.log((1 - acc) / (n_labels - 1))
    scores = np.full(n_labels, log_wrong.sum())
    np.add.at(scores, labels, log_right - log_wrong)
    p = np.exp(scores - scores.max())
    p /= p.sum()
    confidence = float(p.max())
    if n >= n_max:
        return Stop(True, "max", confidence)
    if n >= n_min and confidence >= target:
        return Stop(True, "confident", confidence)
    return Stop(False, "", confidence)


def pairwise_stop(choices, accuracy, *, level: float, n_min: int, n_max: int) -> Stop:
    """choices: (n,) of "A", "B" or "tie" (both bad counts as a tie); accuracy: (n,)."""
    from scipy.special import betaincinv

    choices = np.asarray(choices, dtype=object)
    n = choices.size
    w = np.maximum(0.0, 2.0 * _accuracy(accuracy, n) - 1.0)
    a = 1.0 + float(w[choices == "A"].sum())
    b = 1.0 + float(w[choices == "B"].sum())
    ties = float(w[(choices != "A") & (choices != "B")].sum())
    p_a = a / (a + b)
    if n >= n_max:
        return Stop(True, "max", p_a)
    if n < n_min:
        return Stop(False, "", p_a)
    tail = (1.0 - level) / 2.0
    lo, hi = betaincinv(a, b, tail), betaincinv(a, b, 1.0 - tail)
    if lo > 0.5 or hi < 0.5:
        return Stop(True, "interval", p_a)
    if ties > (a - 1.0) + (b - 1.0):
        return Stop(True, "ties", p_a)
    return Stop(False, "", p_a)


def uncertainty(posterior) -> np.ndarray:
    """(n_items, K) posterior rows -> (n_items,) entropy in [0, 1] (divided by log K)."""
    p = np.asarray(posterior, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError("posterior must be (n_items, K) with K >= 2")
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return h / np.log(p.shape[1])


# Queue levels of uncertainty-first order: unlabelled items above every labelled one, the
# labelled in ten bands of uncertainty, finished items at the bottom. Few levels keep the
# claim's walk down the priority levels short.
LEVEL_UNLABELLED, LEVEL_BANDS, LEVEL_DONE = 11, 10, 0


def uncertainty_levels(u) -> np.ndarray:
    """(n,) uncertainty in [0, 1] -> queue levels 1..LEVEL_BANDS, the most uncertain highest."""
    u = np.clip(np.nan_to_num(np.asarray(u, dtype=float), nan=1.0), 0.0, 1.0)
    return 1 + np.minimum((u * LEVEL_BANDS).astype(np.int64), LEVEL_BANDS - 1)
