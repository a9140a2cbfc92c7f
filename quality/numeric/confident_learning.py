"""Confident learning: which given labels a model's out-of-sample probabilities contradict.

C. G. Northcutt, L. Jiang and I. L. Chuang (2021), "Confident learning: estimating uncertainty
in dataset labels", Journal of Artificial Intelligence Research 70:1373–1411 (CL below).
The per-item scores are those compared by J. Kuan and J. Mueller (2022), "Model-agnostic
label quality scoring to detect real-world label errors", ICML DataPerf workshop.

Every function takes ``labels`` (n,) int codes in 0..K-1 (the given, possibly noisy label) and
``pred_probs`` (n, K), rows summing to 1, which must be out-of-sample (cross-validated):
a model that saw an item's label mostly repeats it. numpy only, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A class whose every item has the same probability has that value as its mean; the mean can
# come out one rounding step above it, and then none of the class's own items would pass its
# threshold. Comparing with this much slack keeps such items in.
_THRESHOLD_SLACK = 1e-9


def check_labels_probs(labels, pred_probs) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``labels`` (n,) int codes and ``pred_probs`` (n, K) finite, non-negative."""
    p = np.asarray(pred_probs)
    if p.ndim != 2:
        raise ValueError(f"pred_probs must have shape (n, K), got {p.shape}")
    if not np.issubdtype(p.dtype, np.floating):
        p = p.astype(np.float64)
    y = np.asarray(labels)
    if y.shape != (p.shape[0],):
        raise ValueError(f"labels must have shape ({p.shape[0]},), got {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels must hold integer codes, got dtype {y.dtype}")
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels must lie in 0..{p.shape[1] - 1}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("pred_probs must be finite and non-negative")
    return y, p


def per_class_thresholds(labels, pred_probs) -> np.ndarray:
    """Per-class thresholds t_j: the mean self-confidence of the items labelled j (CL, Eq. 1).

    Returns (K,) float64. A class nobody was given gets threshold 1 (so only a model sure of it
    puts an item there); CL leaves that case undefined.
    """
    y, p = check_labels_probs(labels, pred_probs)
    k = p.shape[1]
    n_per_class = np.bincount(y, minlength=k).astype(np.float64)
    self_conf = p[np.arange(y.size), y].astype(np.float64)
    total = np.bincount(y, weights=self_conf, minlength=k)
    return np.divide(total, n_per_class, out=np.ones(k), where=n_per_class > 0)


def confident_guess(labels, pred_probs, thresholds=None) -> np.ndarray:
    """The label CL believes in for each item, or -1 where no class is confident (CL, Eq. 1).

    An item counts for class j when p_j >= t_j; of several such classes the most probable
    wins. Returns (n,) int64. ``thresholds`` (K,) defaults to :func:`per_class_thresholds`.
    """
    y, p = check_labels_probs(labels, pred_probs)
    t = per_class_thresholds(y, p) if thresholds is None else np.asarray(thresholds, np.float64)
    above = p >= t - _THRESHOLD_SLACK * np.maximum(t, 1.0)
    # Masked argmax: classes below their threshold get -1, below any probability.
    guess = np.where(above, p, -1.0).argmax(axis=1)
    return np.where(above.any(axis=1), guess, -1).astype(np.int64)


def calibrate_joint(counts: np.ndarray, labels, n_labels: int) -> np.ndarray:
    """Calibrate a confident joint so that row i sums to the number of items labelled i (CL, Eq. 2).

    counts: (K, K) confident counts C[i, j] (given i, believed j). Returns (K, K) float64 that
    sums to n; a row without any confident item keeps its labelled items on the diagonal,
    which is the "no evidence of noise" reading.
    """
    c = np.asarray(counts, dtype=np.float64)
    n_given = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_labels).astype(float)
    row = c.sum(axis=1, keepdims=True)
    out = np.divide(c, row, out=np.eye(n_labels), where=row > 0) * n_given[:, None]
    return out


def confident_joint(labels, pred_probs, *, thresholds=None, calibrate=True) -> np.ndarray:
    """The confident joint C[i, j]: items given label i that the model confidently puts in j.

    Northcutt, Jiang and Chuang (2021), Eq. 1 (counts) and Eq. 2 (``calibrate=True``: each row
    rescaled to the number of items given that label). Returns (K, K) float64; divide by its
    sum for the estimated joint Q(given, true).
    """
    y, p = check_labels_probs(labels, pred_probs)
    k = p.shape[1]
    guess = confident_guess(y, p, thresholds)
    ok = guess >= 0
    counts = np.bincount(y[ok] * k + guess[ok], minlength=k * k).reshape(k, k).astype(float)
    return calibrate_joint(counts, y, k) if calibrate else counts


def self_confidence(labels, pred_probs) -> np.ndarray:
    """Label quality p(given label): (n,) in [0, 1], low = suspect (Kuan & Mueller 2022)."""
    y, p = check_labels_probs(labels, pred_probs)
    return p[np.arange(y.size), y].astype(np.float64)


def normalized_margin(labels, pred_probs) -> np.ndarray:
    """Label quality (p_given - max_{k != given} p_k + 1) / 2: (n,) in [0, 1] (Kuan & Mueller 2022).

    The margin against the strongest rival class, the ordering CL's prune-by-noise-rate uses.
    """
    y, p = check_labels_probs(labels, pred_probs)
    rows = np.arange(y.size)
    given = p[rows, y].astype(np.float64)
    rival = p.copy()
    rival[rows, y] = -np.inf
    return (given - rival.max(axis=1) + 1.0) / 2.0


def confidence_weighted_entropy(labels, pred_probs, *, eps=1e-6) -> np.ndarray:
    """Label quality p(given) / H_norm(p): (n,), low = suspect (Kuan & Mueller 2022).

    H_norm is the entropy divided by log K, so a confident wrong model (low p(given), low
    entropy) ranks lowest. Probabilities are clipped at ``eps`` before the logarithm so that
    one-hot rows have a small, finite entropy; the score is then mapped to log(1 + s), which
    keeps the order and the values in a readable range.
    """
    y, p = check_labels_probs(labels, pred_probs)
    k = p.shape[1]
    q = np.clip(p, eps, None)
    entropy = -(q * np.log(q)).sum(axis=1) / np.log(max(k, 2))
    return np.log1p(q[np.arange(y.size), y] / entropy)


RANKINGS = {
    "self_confidence": self_confidence,
    "normalized_margin": normalized_margin,
    "confidence_weighted_entropy": confidence_weighted_entropy,
}


def label_quality_scores(labels, pred_probs, *, method="self_confidence") -> np.ndarray:
    """One of :data:`RANKINGS` by name: (n,) label quality, low = suspect."""
    try:
        return RANKINGS[method](labels, pred_probs)
    except KeyError:
        raise ValueError(f"method must be one of {sorted(RANKINGS)}, got {method!r}") from None


def _rounded_counts(joint: np.ndarray) -> np.ndarray:
    """Round a calibrated joint to whole items per cell, keeping each row's total.

    Largest-remainder rounding: rounding cells one by one can add or lose items in a row, so the
    number pruned would differ from the number labelled. Returns (K, K) int64.
    """
    floor = np.floor(joint)
    short = np.rint(joint.sum(axis=1) - floor.sum(axis=1)).astype(np.int64)
    order = np.argsort(-(joint - floor), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(joint.shape[1])[None, :], axis=1)
    return (floor + (rank < short[:, None])).astype(np.int64)


def prune_by_noise_rate(labels, pred_probs, joint_counts: np.ndarray) -> np.ndarray:
    """CL's "prune by noise rate" (Section 3.2, C_{prune by noise rate}): (n,) bool.

    For each off-diagonal cell (i, j) the n·Q[i, j] items given i with the largest margin
    p_j - p_i are flagged. joint_counts: (K, K) whole items per cell (a rounded calibrated
    confident joint).
    """
    y, p = check_labels_probs(labels, pred_probs)
    k = p.shape[1]
    flagged = np.zeros(y.size, dtype=bool)
    for i in range(k):
        members = np.flatnonzero(y == i)
        for j in range(k):
            m = int(min(joint_counts[i, j], members.size)) if i != j else 0
            if m <= 0:
                continue
            margin = p[members, j] - p[members, i]
            top = np.argpartition(-margin, m - 1)[:m]
            flagged[members[top]] = True
    return flagged


def prune_by_class(labels, pred_probs, joint_counts: np.ndarray) -> np.ndarray:
    """CL's "prune by class" (Section 3.2, C_{prune by class}): (n,) bool.

    For each class i, the sum_{j != i} n·Q[i, j] items given i with the lowest p_i are flagged.
    """
    y, p = check_labels_probs(labels, pred_probs)
    k = p.shape[1]
    flagged = np.zeros(y.size, dtype=bool)
    for i in range(k):
        members = np.flatnonzero(y == i)
        m = int(min(joint_counts[i].sum() - joint_counts[i, i], members.size))
        if m <= 0:
            continue
        low = np.argpartition(p[members, i], m - 1)[:m]
        flagged[members[low]] = True
    return flagged


@dataclass(frozen=True)
class LabelIssues:
    """Label issues found by confident learning.

    is_issue: (n,) bool. ranked: (n_issues,) int64 indices of the issues, worst first (lowest
    label quality). quality: (n,) the ranking score, low = suspect. joint: (K, K) calibrated
    confident joint; thresholds: (K,) per-class thresholds.
    """

    is_issue: np.ndarray
    ranked: np.ndarray
    quality: np.ndarray
    joint: np.ndarray
    thresholds: np.ndarray


def find_label_issues(
    labels, pred_probs, *, filter_by="prune_by_noise_rate", rank_by="self_confidence"
) -> LabelIssues:
    """Label issues by confident learning (Northcutt, Jiang and Chuang 2021, Section 3.2).

    filter_by: "prune_by_noise_rate", "prune_by_class" or "both" (their intersection).
    rank_by: a name in :data:`RANKINGS`, used to order the issues worst first.

    Two product rules on top of the paper: an item whose given label is the model's top class
    is never an issue (the counts only say how many to prune, not that this one is wrong), and
    each class keeps at least one item labelled with it, so no class is pruned away entirely.
    """
    y, p = check_labels_probs(labels, pred_probs)
    k = p.shape[1]
    thresholds = per_class_thresholds(y, p)
    joint = confident_joint(y, p, thresholds=thresholds)
    counts = _rounded_counts(joint)
    # Keep one item per class: lower the number pruned from a class that would lose all of them.
    n_given = np.bincount(y, minlength=k)
    off = counts.sum(axis=1) - np.diag(counts)
    excess = np.maximum(off - np.maximum(n_given - 1, 0), 0)
    for i in np.flatnonzero(excess):
        for j in np.argsort(counts[i])[::-1]:
            if j != i and excess[i] > 0:
                take = min(excess[i], counts[i, j])
                counts[i, j] -= take
                excess[i] -= take
    if filter_by == "prune_by_noise_rate":
        flagged = prune_by_noise_rate(y, p, counts)
    elif filter_by == "prune_by_class":
        flagged = prune_by_class(y, p, counts)
    elif filter_by == "both":
        flagged = prune_by_noise_rate(y, p, counts) & prune_by_class(y, p, counts)
    else:
        raise ValueError(
            f"filter_by must be prune_by_noise_rate, prune_by_class or both, got {filter_by!r}"
        )
    flagged &= p.argmax(axis=1) != y
    quality = label_quality_scores(y, p, method=rank_by)
    issues = np.flatnonzero(flagged)
    ranked = issues[np.argsort(quality[issues], kind="stable")]
    return LabelIssues(
        is_issue=flagged, ranked=ranked, quality=quality, joint=joint, thresholds=thresholds
    )
