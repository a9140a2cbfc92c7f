"""Training dynamics: what the epochs of one training run say about each item's label.

Three readings of the same per-epoch outputs, each from its paper:

* data maps: S. Swayamdipta, R. Schwartz, N. Lourie, Y. Wang, H. Hajishirzi, N. A. Smith and
  Y. Choi (2020), "Dataset cartography: mapping and diagnosing datasets with training
  dynamics", EMNLP;
* forgetting events: M. Toneva, A. Sordoni, R. T. des Combes, A. Trischler, Y. Bengio and
  G. J. Gordon (2019), "An empirical study of example forgetting during deep neural network
  learning", ICLR;
* area under the margin (AUM) with threshold samples: G. Pleiss, T. Zhang, E. Elenberg and
  K. Q. Weinberger (2020), "Identifying mislabeled data using the area under the margin
  ranking", NeurIPS.

Inputs are per-epoch outputs of shape (n_epochs, n, K), probabilities for data maps and
forgetting, logits (pre-softmax) for AUM as in its paper, and ``labels`` (n,) the given labels.
Each function walks the epochs one at a time, so a float32 array of a million items is never
copied whole. numpy only, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check_dynamics(outputs, labels) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(outputs)
    if z.ndim != 3:
        raise ValueError(f"outputs must have shape (n_epochs, n, K), got {z.shape}")
    y = np.asarray(labels)
    if y.shape != (z.shape[1],):
        raise ValueError(f"labels must have shape ({z.shape[1]},), got {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels must hold integer codes, got dtype {y.dtype}")
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < 0 or y.max() >= z.shape[2]):
        raise ValueError(f"labels must lie in 0..{z.shape[2] - 1}")
    return z, y


def _given(epoch_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.take_along_axis(epoch_out, y[:, None], axis=1)[:, 0].astype(np.float64)


def _correct(epoch_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    return epoch_out.argmax(axis=1) == y


@dataclass(frozen=True)
class DataMap:
    """Swayamdipta et al. (2020) coordinates of each item, all (n,) float64.

    confidence: mean over epochs of p(given label); variability: its standard deviation over
    epochs (population, divided by n_epochs); correctness: share of epochs whose top class is
    the given label. Mislabelled items sit in the "hard to learn" corner: low confidence and
    low variability.
    """

    confidence: np.ndarray
    variability: np.ndarray
    correctness: np.ndarray


def data_map(probs, labels) -> DataMap:
    """Data map of a training run (Swayamdipta et al. 2020, Section 2).

    probs: (n_epochs, n, K) the model's probabilities on the training items after each epoch;
    labels: (n,). Returns a :class:`DataMap`.
    """
    z, y = _check_dynamics(probs, labels)
    t, n = z.shape[0], z.shape[1]
    if t == 0:
        raise ValueError("need at least one epoch")
    total = np.zeros(n)
    square = np.zeros(n)
    right = np.zeros(n)
    for e in range(t):
        g = _given(z[e], y)
        total += g
        square += g * g
        right += _correct(z[e], y)
    mean = total / t
    # E[g^2] - E[g]^2 can come out a rounding step below zero for a constant series.
    variability = np.sqrt(np.maximum(square / t - mean * mean, 0.0))
    return DataMap(confidence=mean, variability=variability, correctness=right / t)


@dataclass(frozen=True)
class Forgetting:
    """Forgetting events (Toneva et al. 2019), all (n,).

    n_forgotten: int64, transitions from correct at epoch t to wrong at t+1.
    never_learned: bool, items never classified as their given label in any epoch.
    first_learned: int64, first epoch the item was correct, -1 if never.
    score: float64, n_forgotten, with never-learned items set to n_epochs (above any count
    possible), which is how the paper ranks them: as forgotten more than any learned item.
    """

    n_forgotten: np.ndarray
    never_learned: np.ndarray
    first_learned: np.ndarray
    score: np.ndarray


def forgetting_events(outputs, labels) -> Forgetting:
    """Count forgetting events per item (Toneva et al. 2019, Section 3).

    outputs: (n_epochs, n, K) probabilities or logits (only the top class is used), labels (n,).
    An event is an item classified as its given label at one epoch and not at the next.
    """
    z, y = _check_dynamics(outputs, labels)
    t, n = z.shape[0], z.shape[1]
    forgotten = np.zeros(n, dtype=np.int64)
    first = np.full(n, -1, dtype=np.int64)
    prev = None
    for e in range(t):
        now = _correct(z[e], y)
        first[(first < 0) & now] = e
        if prev is not None:
            forgotten += prev & ~now
        prev = now
    never = first < 0
    score = np.where(never, float(t), forgotten.astype(np.float64))
    return Forgetting(n_forgotten=forgotten, never_learned=never, first_learned=first, score=score)


def area_under_margin(logits, labels) -> np.ndarray:
    """AUM: the mean over epochs of z_given - max_{k != given} z_k (Pleiss et al. 2020, Eq. 1-2).

    logits: (n_epochs, n, K), the pre-softmax outputs the paper uses; labels: (n,).
    Returns (n,) float64; a negative AUM means the model kept preferring another class.
    """
    z, y = _check_dynamics(logits, labels)
    t, n = z.shape[0], z.shape[1]
    if t == 0:
        raise ValueError("need at least one epoch")
    total = np.zeros(n)
    rows = np.arange(n)
    for e in range(t):
        out = np.array(z[e], dtype=np.float64)
        given = out[rows, y].copy()
        out[rows, y] = -np.inf
        total += given - out.max(axis=1)
    return total / t


def assign_threshold_samples(labels, n_labels, *, rng, n_samples=None):
    """Threshold samples for AUM (Pleiss et al. 2020, Section 3.2).

    ``n_samples`` items (default n / (K + 1), the paper's choice, so the fake class is as
    large as a real one) are moved to a fake class K. Train on the returned labels with
    K + 1 outputs; these items are mislabelled by construction, so their AUM shows how low a
    wrong label's AUM goes. Returns (new_labels (n,) int64, is_threshold (n,) bool). The paper
    runs twice with disjoint threshold sets so that every item gets an AUM under its own label.
    """
    y = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(rng)
    m = y.size // (int(n_labels) + 1) if n_samples is None else int(n_samples)
    chosen = rng.choice(y.size, size=min(m, y.size), replace=False)
    is_threshold = np.zeros(y.size, dtype=bool)
    is_threshold[chosen] = True
    return np.where(is_threshold, int(n_labels), y), is_threshold


def aum_threshold(aum, is_threshold, *, percentile=99.0) -> float:
    """The AUM below which an item counts as mislabelled (Pleiss et al. 2020, Section 3.2).

    The given percentile (the paper's 99th) of the threshold samples' AUM: an item whose AUM is
    lower than that of 99% of the items known to be wrong looks wrong too.
    """
    a = np.asarray(aum, dtype=np.float64)
    mask = np.asarray(is_threshold, dtype=bool)
    if not mask.any():
        raise ValueError("no threshold samples")
    return float(np.percentile(a[mask], percentile))
