"""Likert ratings: mean, median, ordinal distribution and a rater-bias-corrected mean.

Ratings are int codes 0..n_levels-1 (map a 1..5 scale to 0..4 before calling). Duplicate
(item, rater) votes follow the categorical rule: every row is one vote, a repeat counts again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._votes import prepare_votes, take


@dataclass(frozen=True)
class LikertResult:
    """mean, median: (n_items,) in code units, NaN for unrated items; distribution:
    (n_items, n_levels) share of (weighted) votes per level, uniform for unrated items;
    n_votes: (n_items,) number of votes (a repeated answer counts again)."""

    mean: np.ndarray
    median: np.ndarray
    distribution: np.ndarray
    n_votes: np.ndarray


def likert_summary(item_idx, rater_idx, rating, *, n_items, n_raters, n_levels) -> LikertResult:
    """Mean, median and ordinal distribution per item. Shapes: (n_votes,) int arrays.

    The median of an even number of votes is the midpoint of the two middle levels: of the
    lowest level whose cumulative count reaches half and the lowest level whose cumulative
    count exceeds half.
    """
    votes = prepare_votes(
        item_idx, rater_idx, rating, n_items=n_items, n_raters=n_raters, n_labels=n_levels
    )
    k = n_levels
    flat = np.bincount(votes.item_label, minlength=n_items * k)
    counts = flat[: n_items * k].reshape(n_items, k).astype(np.float64)
    total = counts.sum(axis=1)
    rated = total > 0
    dist = np.full_like(counts, 1.0 / k)
    dist[rated] = counts[rated] / total[rated, None]
    levels = np.arange(k, dtype=np.float64)
    mean = np.where(rated, dist @ levels, np.nan)
    cum = np.cumsum(counts, axis=1)
    half = total[:, None] / 2
    eps = 1e-9 * np.maximum(total[:, None], 1.0)
    lo = np.argmax(cum >= half - eps, axis=1)
    hi = np.argmax(cum > half + eps, axis=1)
    median = np.where(rated, (lo + hi) / 2.0, np.nan)
    return LikertResult(mean=mean, median=median, distribution=dist, n_votes=total)


@dataclass(frozen=True)
class BiasCorrectedResult:
    """mean: (n_items,) bias-corrected item means (NaN when unrated); offset, scale:
    (n_raters,) each rater's fitted ``rating ~ offset + scale * mean``; n_iter, converged."""

    mean: np.ndarray
    offset: np.ndarray
    scale: np.ndarray
    n_iter: int
    converged: bool


def bias_corrected_mean(
    item_idx,
    rater_idx,
    rating,
    *,
    n_items,
    n_raters,
    n_levels,
    shrinkage=2.0,
    max_iter=100,
    tol=1e-8,
) -> BiasCorrectedResult:
    """Item means corrected for each rater's offset (harshness) and scale (range use).

    Model: ``rating[v] = offset[r] + scale[r] * mean[i] + noise``, fitted by alternating
    least squares: item means given the raters, then each rater's weighted regression of
    their ratings on the item means. ``shrinkage`` adds that many pseudo-observations pulling
    offset to 0 and scale to 1, so raters with few votes stay close to the plain mean; scales
    are kept >= 0.05. The overall level and spread are fixed by re-centring the item means on
    the plain mean's level and spread after each round. Shapes: (n_votes,) int arrays.
    After e.g. Paul (1981), "Bias in rating scales", and the rater-effects models of
    Raykar et al. (2010), "Learning from crowds", JMLR 11.
    """
    votes = prepare_votes(
        item_idx, rater_idx, rating, n_items=n_items, n_raters=n_raters, n_labels=n_levels
    )
    x = votes.label.astype(np.float64)
    wi = np.bincount(votes.item, minlength=n_items).astype(np.float64)
    rated = wi > 0
    plain = np.divide(
        np.bincount(votes.item, weights=x, minlength=n_items),
        wi,
        out=np.full(n_items, np.nan),
        where=rated,
    )
    level, spread = (
        np.nanmean(plain) if rated.any() else 0.0,
        np.nanstd(plain) if rated.any() else 0.0,
    )
    offset = np.zeros(n_raters)
    scale = np.ones(n_raters)
    mean = plain.copy()
    converged = False
    n_iter = 0
    lam = float(shrinkage)
    for n_iter in range(1, max_iter + 1):
        a, s = take(offset, votes.rater), take(scale, votes.rater)
        num = np.bincount(votes.item, weights=s * (x - a), minlength=n_items)
        den = np.bincount(votes.item, weights=s * s, minlength=n_items)
        new = np.divide(num, den, out=np.full(n_items, np.nan), where=den > 0)
        if rated.any() and np.nanstd(new) > 0 and spread > 0:
            new = level + (new - np.nanmean(new)) * (spread / np.nanstd(new))
        m = take(np.nan_to_num(new), votes.item)
        # least squares per rater with pseudo-observations at offset 0, scale 1
        sw = np.bincount(votes.rater, minlength=n_raters) + lam
        sm = np.bincount(votes.rater, weights=m, minlength=n_raters) + lam * level
        sx = np.bincount(votes.rater, weights=x, minlength=n_raters) + lam * level
        smm = np.bincount(votes.rater, weights=m * m, minlength=n_raters) + lam * (
            level**2 + spread**2 + 1.0
        )
        smx = np.bincount(votes.rater, weights=m * x, minlength=n_raters) + lam * (
            level**2 + spread**2 + 1.0
        )
        var = smm / sw - (sm / sw) ** 2
        cov = smx / sw - (sm / sw) * (sx / sw)
        scale = np.maximum(np.divide(cov, var, out=np.ones(n_raters), where=var > 1e-12), 0.05)
        offset = sx / sw - scale * sm / sw
        change = np.nanmax(np.abs(new - mean)) if rated.any() else 0.0
        mean = new
        if n_iter > 1 and change < tol:
            converged = True
            break
    return BiasCorrectedResult(
        mean=mean, offset=offset, scale=scale, n_iter=n_iter, converged=converged
    )
