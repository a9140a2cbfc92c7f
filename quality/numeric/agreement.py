"""Inter-rater agreement: percent agreement, Cohen's kappa matrix, Fleiss' kappa and
Krippendorff's alpha (nominal, ordinal, interval) with missing data.

All functions take votes as int arrays ``item_idx``, ``rater_idx`` of shape (n_votes,) and a
value per vote: a label code for nominal data, an ordered code for ordinal data, a number for
interval data. Duplicate (item, rater) votes: only each rater's first vote in the sorted order
(lowest value) is kept here, since agreement is about one judgement per rater and item.

J. Cohen (1960), "A coefficient of agreement for nominal scales", Educational and
Psychological Measurement 20:37–46. J. L. Fleiss (1971), "Measuring nominal scale agreement
among many raters", Psychological Bulletin 76:378–382. K. Krippendorff (2011), "Computing
Krippendorff's alpha-reliability", University of Pennsylvania.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _dedupe(item_idx, rater_idx, value):
    """Sorted, one vote per (item, rater): the lowest value wins (order-independent)."""
    item = np.asarray(item_idx, dtype=np.int64)
    rater = np.asarray(rater_idx, dtype=np.int64)
    value = np.asarray(value)
    if not (item.shape == rater.shape == value.shape) or item.ndim != 1:
        raise ValueError("item_idx, rater_idx and values must be 1-D arrays of equal length")
    order = np.lexsort((value, rater, item))
    item, rater, value = item[order], rater[order], value[order]
    keep = np.r_[True, (item[1:] != item[:-1]) | (rater[1:] != rater[:-1])] if item.size else []
    return item[keep], rater[keep], value[keep]


def _codes(value):
    uniq, inv = np.unique(value, return_inverse=True)
    return uniq, inv.astype(np.int64)


def percent_agreement(item_idx, rater_idx, label) -> float:
    """Share of agreeing pairs among all pairs of raters on the same item (items with >= 2
    raters), each item weighted by its number of pairs. NaN when there is no pair."""
    item, _, lab = _dedupe(item_idx, rater_idx, label)
    if item.size == 0:
        return float("nan")
    _, code = _codes(lab)
    k = int(code.max()) + 1
    n_items = int(item.max()) + 1
    counts = np.bincount(item * k + code, minlength=n_items * k).reshape(n_items, k)
    m = counts.sum(axis=1)
    pairs = (m * (m - 1)).sum()
    if pairs == 0:
        return float("nan")
    return float((counts * (counts - 1)).sum() / pairs)


def cohen_kappa_matrix(item_idx, rater_idx, label, *, n_raters, min_shared=5) -> np.ndarray:
    """Cohen's kappa for every pair of raters, as a (n_raters, n_raters) matrix.

    Each entry uses the items both raters labelled; pairs sharing fewer than ``min_shared``
    items, and pairs whose kappa is undefined (both constant and equal), are NaN. The diagonal
    is NaN. Memory is O(n_raters^2 * n_labels) for the per-pair label margins.
    """
    item, rater, lab = _dedupe(item_idx, rater_idx, label)
    out = np.full((n_raters, n_raters), np.nan)
    if item.size == 0:
        return out
    _, code = _codes(lab)
    k = int(code.max()) + 1
    # all ordered pairs of votes on the same item, by a self-join on the item-sorted votes
    bounds = np.flatnonzero(np.r_[True, item[1:] != item[:-1], True])
    sizes = np.diff(bounds)
    first = np.repeat(bounds[:-1], sizes)  # start of each vote's item block
    size = np.repeat(sizes, sizes)
    a = np.repeat(np.arange(item.size), size)
    offs = np.arange(a.size) - np.repeat(np.cumsum(size) - size, size)
    b = np.repeat(first, size) + offs
    keep = rater[a] != rater[b]
    a, b = a[keep], b[keep]
    pair = rater[a] * n_raters + rater[b]
    n_pairs = n_raters * n_raters
    shared = np.bincount(pair, minlength=n_pairs).astype(float)
    agree = np.bincount(pair, weights=(code[a] == code[b]), minlength=n_pairs)
    ma = np.bincount(pair * k + code[a], minlength=n_pairs * k).reshape(n_pairs, k)
    mb = np.bincount(pair * k + code[b], minlength=n_pairs * k).reshape(n_pairs, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        po = agree / shared
        pe = (ma * mb).sum(axis=1) / shared**2
        kappa = (po - pe) / (1.0 - pe)
    kappa[(shared < max(min_shared, 1)) | ~np.isfinite(kappa)] = np.nan
    out[:] = kappa.reshape(n_raters, n_raters)
    np.fill_diagonal(out, np.nan)
    return out


@dataclass(frozen=True)
class FleissKappa:
    """kappa (NaN when undefined); n_items: items with at least two raters, the ones it
    stands on; n_labels: distinct labels given on them; n_votes: their votes (deduplicated)."""

    kappa: float
    n_items: int
    n_labels: int
    n_votes: int


def fleiss_kappa_detail(item_idx, rater_idx, label) -> FleissKappa:
    """Fleiss' kappa over items with at least two raters, and what it stands on.

    With a varying number of raters per item, each item's agreement P_i is computed with its own
    count n_i and averaged over items, and the label shares p_j pool all those votes; with a
    constant count this is exactly Fleiss (1971).
    """
    item, _, lab = _dedupe(item_idx, rater_idx, label)
    if item.size == 0:
        return FleissKappa(float("nan"), 0, 0, 0)
    _, code = _codes(lab)
    k = int(code.max()) + 1
    n_items = int(item.max()) + 1
    counts = np.bincount(item * k + code, minlength=n_items * k).reshape(n_items, k)
    m = counts.sum(axis=1)
    use = m >= 2
    if not use.any():
        return FleissKappa(float("nan"), 0, 0, 0)
    c, m = counts[use].astype(float), m[use].astype(float)
    p_i = ((c * (c - 1)).sum(axis=1)) / (m * (m - 1))
    p_j = c.sum(axis=0) / c.sum()
    p_bar, p_e = p_i.mean(), (p_j**2).sum()
    kappa = float((p_bar - p_e) / (1.0 - p_e)) if p_e < 1 else float("nan")
    return FleissKappa(kappa, int(use.sum()), int((p_j > 0).sum()), int(m.sum()))


def fleiss_kappa(item_idx, rater_idx, label) -> float:
    """Fleiss' kappa over items with at least two raters (see :func:`fleiss_kappa_detail`)."""
    return fleiss_kappa_detail(item_idx, rater_idx, label).kappa


def krippendorff_alpha(item_idx, rater_idx, value, *, level="nominal") -> float:
    """Krippendorff's alpha with missing data (raters simply have no vote on some items).

    ``level``: "nominal" (values are categories), "ordinal" (values are ordered; distances use
    the marginal frequencies between them) or "interval" (squared differences of the values).
    Items with fewer than two values are not pairable and are dropped, as in Krippendorff
    (2011). Built from the coincidence matrix, O(n_votes + n_values^2).
    """
    item, _, val = _dedupe(item_idx, rater_idx, value)
    if item.size == 0:
        return float("nan")
    uniq, code = _codes(val)
    v = uniq.size
    n_items = int(item.max()) + 1
    counts = np.bincount(item * v + code, minlength=n_items * v).reshape(n_items, v)
    m = counts.sum(axis=1)
    use = m >= 2
    counts, m = counts[use].astype(float), m[use].astype(float)
    if counts.size == 0:
        return float("nan")
    o = (counts / (m - 1)[:, None]).T @ counts
    o -= np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if level == "nominal":
        delta = 1.0 - np.eye(v)
    elif level == "interval":
        x = uniq.astype(float)
        delta = (x[:, None] - x[None, :]) ** 2
    elif level == "ordinal":
        cum = np.cumsum(n_c)
        lo = np.minimum.outer(np.arange(v), np.arange(v))
        hi = np.maximum.outer(np.arange(v), np.arange(v))
        between = cum[hi] - np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
        delta = (between - (n_c[:, None] + n_c[None, :]) / 2) ** 2
    else:
        raise ValueError("level must be 'nominal', 'ordinal' or 'interval'")
    d_o = (o * delta).sum()
    d_e = (np.outer(n_c, n_c) * delta).sum()
    if d_e == 0:
        return float("nan")
    return float(1.0 - (n - 1) * d_o / d_e)


def ordinal_rater_figures(rater_idx, rating, reference, *, n_raters: int, n_levels: int):
    """Each rater's ratings against a reference rating per vote (the final label, rounded),
    on an ordinal scale of levels 0..n_levels-1.

    Returns (closeness, confusion, weighted_kappa):
    - closeness (n_raters,): 1 - mean |rating - reference| / (n_levels - 1), 1 when always equal;
    - confusion (n_raters, n_levels, n_levels): counts, rows the reference, columns the rating;
    - weighted_kappa (n_raters,): Cohen's (1968) quadratic-weighted kappa of the rater against
      the reference, chance taken from the two margins of that rater's own table.
    NaN where a rater has no rated vote (or, for kappa, where their table has no spread).
    """
    rater_idx = np.asarray(rater_idx, dtype=np.int64)
    rating = np.asarray(rating, dtype=np.int64)
    reference = np.asarray(reference, dtype=np.int64)
    top = max(n_levels - 1, 1)
    n = np.bincount(rater_idx, minlength=n_raters).astype(float)
    gap = np.bincount(rater_idx, weights=np.abs(rating - reference), minlength=n_raters)
    closeness = np.divide(n - gap / top, n, out=np.full(n_raters, np.nan), where=n > 0)
    cell = (rater_idx * n_levels + reference) * n_levels + rating
    confusion = np.bincount(cell, minlength=n_raters * n_levels * n_levels).reshape(
        n_raters, n_levels, n_levels
    )
    levels = np.arange(n_levels)
    weight = (levels[:, None] - levels[None, :]) ** 2 / top**2
    observed = confusion / np.maximum(n, 1)[:, None, None]
    expected = observed.sum(axis=2)[:, :, None] * observed.sum(axis=1)[:, None, :]
    disagree_obs = (observed * weight).sum(axis=(1, 2))
    disagree_exp = (expected * weight).sum(axis=(1, 2))
    kappa = np.divide(
        disagree_exp - disagree_obs,
        disagree_exp,
        out=np.full(n_raters, np.nan),
        where=(n > 0) & (disagree_exp > 0),
    )
    return closeness, confusion, kappa


def ranking_rater_figures(rater_idx, given, final, *, n_raters: int, n_positions: int):
    """Each rater's rankings against the final order of the same items.

    given, final: (n_rankings, n_positions) int; row k holds, for each response of ranking
    k's item, its place in the rater's ranking (a tier index: tied responses share it) and in
    the final order; -1 pads items with fewer responses. Returns (tau, confusion):
    - tau (n_raters,): the mean over the rater's rankings of Kendall's tau-b against the
      final order (1 the same order, -1 reversed; a ranking whose pairs are all tied counts
      0), NaN for a rater without rankings;
    - confusion (n_raters, n_positions, n_positions): counts, rows the final place of a
      response, columns the rater's tier for it.
    """
    rater_idx = np.asarray(rater_idx, dtype=np.int64)
    given = np.asarray(given, dtype=np.int64)
    final = np.asarray(final, dtype=np.int64)
    i, j = np.triu_indices(n_positions, k=1)
    valid = (given[:, i] >= 0) & (given[:, j] >= 0)
    g = np.sign(given[:, i] - given[:, j]) * valid
    f = np.sign(final[:, i] - final[:, j]) * valid
    # tau-b: (concordant - discordant) / sqrt(pairs untied in each), per ranking.
    numerator = (g * f).sum(axis=1)
    denominator = np.sqrt((g != 0).sum(axis=1) * (f != 0).sum(axis=1))
    tau = np.divide(numerator, denominator, out=np.zeros(len(g)), where=denominator > 0)
    n = np.bincount(rater_idx, minlength=n_raters)
    mean = np.divide(
        np.bincount(rater_idx, weights=tau, minlength=n_raters),
        n,
        out=np.full(n_raters, np.nan),
        where=n > 0,
    )
    has = (given >= 0) & (final >= 0)
    owner = np.broadcast_to(rater_idx[:, None], given.shape)[has]
    cell = (owner * n_positions + final[has]) * n_positions + given[has]
    confusion = np.bincount(cell, minlength=n_raters * n_positions**2).reshape(
        n_raters, n_positions, n_positions
    )
    return mean, confusion
