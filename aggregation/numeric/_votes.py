"""Vote validation, the duplicate-vote rule and the vectorised kernels shared by all methods.

Duplicate rule (applied here and nowhere else): every row is one vote. A rater who answered the
same item m times contributes m votes, identical or not, exactly as a rater answering m
different items would. This is the model's own reading: Dawid & Skene (1979) count n_il^(k),
the number of times observer k gave label l to patient i, and their clinicians examined
patients more than once. It is also what crowd-kit does (each row of its task/worker/label
frame counts), so Vox and crowd-kit fit the same likelihood on the same file. The rule does not
depend on row order. In the Vox database a rater answers an item at most once (a unique
constraint on annotations, and imports refuse a rater labelling an item twice), so repeats
reach the numeric core only from files: the command line, benchmarks, offline use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Votes are processed in chunks of whole items so that the per-vote (n, K) temporaries stay in
# cache; this is about twice as fast as materialising them for all votes at once.
_CHUNK_VOTES = 1 << 16


@dataclass(frozen=True)
class Votes:
    """Validated votes, sorted by (item, rater, label).

    Shapes: ``item``, ``rater``, ``label``, ``cell`` are (n_votes,) int64; ``counts`` is
    (n_items,) with the number of votes per item; ``bounds`` is (n_items + 1,) with each
    item's slice.
    ``cell`` is ``rater * n_labels + label`` and ``item_label`` is ``item * n_labels + label``.
    """

    item: np.ndarray
    rater: np.ndarray
    label: np.ndarray
    n_items: int
    n_raters: int
    n_labels: int
    counts: np.ndarray
    bounds: np.ndarray
    cell: np.ndarray
    item_label: np.ndarray

    @property
    def n_votes(self) -> int:
        return int(self.item.size)

    @property
    def voted(self) -> np.ndarray:
        """(n_items,) bool: items with at least one vote."""
        return self.counts > 0

    def effective_votes(self) -> np.ndarray:
        """(n_items,) float64: number of votes per item (a repeated answer counts again)."""
        return self.counts.astype(np.float64)


def _as_codes(name: str, values, upper: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer codes, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= upper:
        raise ValueError(f"{name} codes must lie in 0..{upper - 1}, found {lo}..{hi}")
    return arr


def prepare_votes(item_idx, rater_idx, label, *, n_items, n_raters, n_labels) -> Votes:
    """Validate the vote arrays and sort them by (item, rater, label); every row is one vote."""
    if n_items < 0 or n_raters < 0 or n_labels < 1:
        raise ValueError("n_items and n_raters must be >= 0 and n_labels >= 1")
    item = _as_codes("item_idx", item_idx, n_items)
    rater = _as_codes("rater_idx", rater_idx, n_raters)
    lab = _as_codes("label", label, n_labels)
    if not (item.size == rater.size == lab.size):
        raise ValueError(
            f"item_idx, rater_idx and label must have equal length, got "
            f"{item.size}, {rater.size}, {lab.size}"
        )
    n = item.size
    if n:
        # Grouping by item is what the kernels need; sorting on rater and label too makes the
        # order fully determined, so no result depends on the order of the input rows.
        if n_items * n_raters * n_labels < 2**62:
            order = np.argsort((item * n_raters + rater) * n_labels + lab)
        else:  # pragma: no cover - astronomically many codes
            order = np.lexsort((lab, rater, item))
        item, rater, lab = np.take(item, order), np.take(rater, order), np.take(lab, order)
    counts = np.bincount(item, minlength=n_items)[:n_items] if n else np.zeros(n_items, np.int64)
    bounds = np.zeros(n_items + 1, np.int64)
    np.cumsum(counts, out=bounds[1:])
    return Votes(
        item=item,
        rater=rater,
        label=lab,
        n_items=int(n_items),
        n_raters=int(n_raters),
        n_labels=int(n_labels),
        counts=counts,
        bounds=bounds,
        cell=rater * n_labels + lab,
        item_label=item * n_labels + lab,
    )


def argmax_lowest(scores: np.ndarray, rtol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise argmax with ties going to the lowest label code.

    scores: (n_items, n_labels). Values within ``rtol`` (relative to the row maximum) of the
    maximum count as tied, so that sums of fractional rater weights tie when they should.
    Returns ``label`` (n_items,) int64 and ``ties`` (n_items,) bool.
    """
    if scores.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    top = scores.max(axis=1, keepdims=True)
    near = scores >= top - rtol * np.maximum(np.abs(top), 1e-300)
    label = np.argmax(near, axis=1).astype(np.int64)
    ties = near.sum(axis=1) > 1
    return label, ties


def item_sum(votes: Votes, values: np.ndarray) -> np.ndarray:
    """(n_items,) sum of per-vote ``values`` (n_votes,) over each item's votes (unweighted)."""
    out = np.zeros(votes.n_items)
    voted = votes.counts > 0
    if voted.any():
        out[voted] = np.add.reduceat(values, votes.bounds[:-1][voted])
    return out


def take(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table.ravel()[index]``; np.take is several times faster than fancy indexing here."""
    return np.take(table.ravel(), index)


def sum_rows_by_item(votes: Votes, table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """For each item, the sum of ``table[index[v]]`` over its votes v.

    table: (n_rows, K); index: (n_votes,) into table rows. Returns (n_items, K); items without
    votes get zeros.
    """
    k = table.shape[1]
    out = np.zeros((votes.n_items, k))
    voted = np.flatnonzero(votes.counts)
    if voted.size == 0:
        return out
    starts = votes.bounds[voted]
    # Chunk on item boundaries so that each item's votes fall in one chunk.
    a = 0
    while a < voted.size:
        lo = starts[a]
        b = int(np.searchsorted(starts, lo + _CHUNK_VOTES, side="left"))
        b = max(b, a + 1)
        hi = starts[b] if b < voted.size else votes.n_votes
        g = np.take(table, index[lo:hi], axis=0)
        out[voted[a:b]] = np.add.reduceat(g, starts[a:b] - lo, axis=0)
        a = b
    return out


def sum_item_rows_by_key(
    votes: Votes, rows: np.ndarray, key: np.ndarray, n_keys: int
) -> np.ndarray:
    """For each key value, the sum of ``rows[item[v]]`` over the votes v with that key.

    rows: (n_items, K); key: (n_votes,) in 0..n_keys-1. Returns (n_keys, K).
    """
    k = rows.shape[1]
    out = np.empty((n_keys, k))
    cols = np.ascontiguousarray(rows.T)
    for j in range(k):
        # Votes are sorted by item, so repeating the item column is a cheap gather.
        v = np.repeat(cols[j], votes.counts)
        out[:, j] = np.bincount(key, weights=v, minlength=n_keys)[:n_keys]
    return out


def log_normalize(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise softmax of log scores; returns (probabilities, log normaliser per row)."""
    n, k = scores.shape
    if k > 16 or n == 0:
        top = scores.max(axis=1, keepdims=True)
        p = np.subtract(scores, top)
        np.exp(p, out=p)
        s = p.sum(axis=1, keepdims=True)
        p /= s
        return p, (np.log(s) + top)[:, 0]
    # With few labels, numpy's row reductions spend their time on per-row overhead; a loop
    # over the K columns runs each step over all rows at once, about six times faster.
    top = scores[:, 0].copy()
    for j in range(1, k):
        np.maximum(top, scores[:, j], out=top)
    p = np.subtract(scores, top[:, None])
    np.exp(p, out=p)
    total = p[:, 0].copy()
    for j in range(1, k):
        total += p[:, j]
    p /= total[:, None]
    return p, np.log(total) + top


def digamma(x: np.ndarray) -> np.ndarray:
    """Digamma function for positive arguments (recurrence up to 6, then asymptotic series)."""
    x = np.array(x, dtype=np.float64, copy=True)
    out = np.zeros_like(x)
    small = x < 6.0
    while small.any():
        out[small] -= 1.0 / x[small]
        x[small] += 1.0
        small = x < 6.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return out + np.log(x) - 0.5 * inv - series
