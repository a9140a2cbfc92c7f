"""Rankings: Plackett–Luce by Hunter's MM algorithm, and the Borda count as a baseline.

R. L. Plackett (1975), "The analysis of permutations", Applied Statistics 24:193–202.
D. R. Hunter (2004), "MM algorithms for generalized Bradley–Terry models", Annals of
Statistics 32(1):384–406, section 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .pairwise import best_shift, bootstrap_interval


def _check_rankings(rankings, n_items):
    """(n_rankings, max_len) int, best first, padded with -1 at the end of each row."""
    r = np.asarray(rankings)
    if r.ndim != 2:
        raise ValueError(f"rankings must be 2-D (n_rankings, max_len), got shape {r.shape}")
    r = r.astype(np.int64)
    valid = r >= 0
    if np.any(valid[:, 1:] & ~valid[:, :-1]):
        raise ValueError("padding (-1) must come after the ranked items in each row")
    if np.any(r >= n_items):
        raise ValueError(f"item codes must lie in 0..{n_items - 1}")
    length = valid.sum(axis=1)
    flat = np.where(valid, r, -1)
    rows = np.repeat(np.arange(r.shape[0]), length)
    items = flat[valid]
    if items.size and np.any(np.diff(np.sort(rows * (n_items + 1) + items)) == 0):
        raise ValueError("an item appears twice in one ranking")
    return r, valid, length


@dataclass(frozen=True)
class PlackettLuceResult:
    """scores: (n_items,) log-worths centred to mean 0 over ranked items; ci_low, ci_high:
    (n_items,) interval bounds (NaN when ``ci=None``); n_rankings: (n_items,) weighted number
    of rankings each item appears in; log_likelihood, n_iter, converged."""

    scores: np.ndarray
    n_rankings: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    ci_low: np.ndarray | None = None
    ci_high: np.ndarray | None = None


def _pl_terms(gamma, r, valid, length):
    """Per-ranking suffix sums of worths, for each position."""
    g = np.where(valid, np.take(gamma, np.maximum(r, 0)), 0.0)
    return np.cumsum(g[:, ::-1], axis=1)[:, ::-1]


def _pl_stage_sums(gamma, r, valid, length, w, power=1):
    """Per item, the sum over the stages it takes part in of w / (worth of the stage's
    choice set) ** power: the MM denominator (power 1) and, with power 2, the part of the
    observed information the MM step does not already hold."""
    width = r.shape[1]
    pos = np.broadcast_to(np.arange(width), r.shape)
    chooses = valid & (pos < (length - 1)[:, None])
    suffix = _pl_terms(gamma, r, valid, length)
    inv = np.where(chooses, w[:, None] / np.where(chooses, suffix, 1.0) ** power, 0.0)
    cum = np.cumsum(inv, axis=1)
    # an item at position p is among the alternatives of stages 0..min(p, length - 2)
    reach = np.minimum(pos, np.maximum(length - 2, 0)[:, None])
    contrib = np.take_along_axis(cum, reach, axis=1)
    contrib = np.where(valid & (length > 1)[:, None], contrib, 0.0)
    return np.bincount(np.maximum(r, 0)[valid], weights=contrib[valid], minlength=gamma.size)


def _pl_fit(r, valid, length, w, n_items, prior, max_iter, tol, start=None):
    """MM iterations for log-worths (Hunter 2004, section 5)."""
    width = r.shape[1]
    pos = np.broadcast_to(np.arange(width), r.shape)
    items = np.maximum(r, 0)
    # A stage t of ranking j chooses r[j, t] among the items ranked t or later; the last
    # item of a ranking is never chosen among alternatives, so it wins nothing.
    chooses = valid & (pos < (length - 1)[:, None])
    wr = np.broadcast_to(w[:, None], r.shape)
    wins = np.bincount(items[chooses], weights=wr[chooses], minlength=n_items) + 0.5 * prior
    appears = np.bincount(items[valid], weights=wr[valid], minlength=n_items)
    gamma = np.ones(n_items) if start is None else np.exp(start)
    seen = appears > 0
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        denom = _pl_stage_sums(gamma, r, valid, length, w)
        denom += prior / (gamma + 1.0)
        new = np.where(denom > 0, wins / np.where(denom > 0, denom, 1.0), gamma)
        new = np.maximum(new, 1e-300)
        if prior == 0 and seen.any():
            new /= np.exp(np.mean(np.log(new[seen])))
        elif prior > 0:
            new = np.exp(best_shift(np.log(new), prior))
        step = np.max(np.abs(np.log(new) - np.log(gamma))) if n_items else 0.0
        gamma = new
        if step < tol:
            converged = True
            break
    return np.log(gamma), appears, n_iter, converged


def plackett_luce(
    rankings,
    *,
    n_items,
    weights=None,
    prior=0.1,
    ci=None,
    level=0.95,
    n_bootstrap=200,
    rng=None,
    groups=None,
    max_iter=2000,
    tol=1e-9,
) -> PlackettLuceResult:
    """Plackett–Luce worths from (partial) rankings by Hunter's (2004) MM algorithm.

    Shapes: ``rankings`` (n_rankings, max_len) int item codes, best first, each row padded with
    -1 after its last ranked item (top-k lists of different lengths are fine); ``weights``
    (n_rankings,), read as counts (a ranking split in two halves of weight 1/2 counts once).
    ``prior`` adds pseudo-comparisons per item against a virtual item of worth 1 (half won,
    half lost) so that items always ranked last stay finite; 0 gives the plain MLE. Each
    iteration is O(n_rankings * max_len).

    ``ci``: "hessian" uses the diagonal of the observed information, at each stage the
    variance of "this item is chosen" under the model, gamma/S (1 - gamma/S), summed with the
    weights (each score's uncertainty with the others held fixed, as for Bradley–Terry);
    "bootstrap" resamples ``n_bootstrap`` times with ``rng`` (None means seed 0), whole
    ``groups`` (n_rankings,) int when given (e.g. the two halves of one tied ranking), else
    single rankings, and takes percentile intervals; None (the default) skips intervals.
    """
    r, valid, length = _check_rankings(rankings, n_items)
    n_r = r.shape[0]
    w = np.ones(n_r) if weights is None else np.asarray(weights, dtype=np.float64)
    theta, appears, n_iter, converged = _pl_fit(r, valid, length, w, n_items, prior, max_iter, tol)
    gamma = np.exp(theta)
    seen = appears > 0
    pos = np.broadcast_to(np.arange(r.shape[1]), r.shape)
    chooses = valid & (pos < (length - 1)[:, None])
    suffix = _pl_terms(gamma, r, valid, length)
    chosen = np.where(chooses, np.take(theta, np.maximum(r, 0)), 0.0)
    ll = float(
        (w[:, None] * np.where(chooses, chosen - np.log(np.where(chooses, suffix, 1.0)), 0.0)).sum()
    )
    shift = theta[seen].mean() if seen.any() else 0.0
    scores = theta - shift
    low = high = None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    if ci == "hessian":
        info = gamma * _pl_stage_sums(gamma, r, valid, length, w)
        info -= gamma**2 * _pl_stage_sums(gamma, r, valid, length, w, power=2)
        info += prior * gamma / (1.0 + gamma) ** 2
        se = np.sqrt(np.divide(1.0, info, out=np.full(n_items, np.inf), where=info > 1e-12))
        low, high = scores - z * se, scores + z * se
    elif ci == "bootstrap":
        tol_b = max(tol, 1e-6)

        def refit(wb):
            tb, ab, _, _ = _pl_fit(r, valid, length, wb, n_items, prior, max_iter, tol_b, theta)
            return tb, ab > 0

        low, high = bootstrap_interval(
            refit, w, groups, n_items=n_items, level=level, n_bootstrap=n_bootstrap, rng=rng
        )
    elif ci is not None:
        raise ValueError("ci must be 'hessian', 'bootstrap' or None")
    return PlackettLuceResult(
        scores=scores,
        n_rankings=appears,
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
        ci_low=low,
        ci_high=high,
    )


@dataclass(frozen=True)
class BordaResult:
    """scores: (n_items,) mean normalised Borda score in [0, 1] (1 = always first, NaN when
    never ranked); points: (n_items,) total Borda points (an item ranked p-th of m gets
    m - 1 - p); n_rankings: (n_items,) number of rankings of length >= 2 the item appears in."""

    scores: np.ndarray
    points: np.ndarray
    n_rankings: np.ndarray


def borda(rankings, *, n_items) -> BordaResult:
    """Borda count, the baseline for :func:`plackett_luce`. Same ``rankings`` layout.

    Rankings of different lengths are comparable through the normalised score
    (m - 1 - p) / (m - 1); rankings with a single item carry no order and are ignored.
    """
    r, valid, length = _check_rankings(rankings, n_items)
    pos = np.broadcast_to(np.arange(r.shape[1]), r.shape)
    use = valid & (length > 1)[:, None]
    m = np.broadcast_to(length[:, None], r.shape)
    pts = (m - 1 - pos)[use].astype(np.float64)
    norm = pts / (m[use] - 1)
    items = r[use]
    points = np.bincount(items, weights=pts, minlength=n_items)
    n = np.bincount(items, minlength=n_items).astype(np.float64)
    total = np.bincount(items, weights=norm, minlength=n_items)
    scores = np.divide(total, n, out=np.full(n_items, np.nan), where=n > 0)
    return BordaResult(scores=scores, points=points, n_rankings=n)
