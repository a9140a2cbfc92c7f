"""Pairwise comparisons: per-comparison preference, and Bradley–Terry–Davidson scores.

R. A. Bradley and M. E. Terry (1952), "Rank analysis of incomplete block designs: I. The method
of paired comparisons", Biometrika 39:324–345. R. R. Davidson (1970), "On extending the
Bradley–Terry model to accommodate ties in paired comparison experiments", JASA 65:317–328.
D. R. Hunter (2004), "MM algorithms for generalized Bradley–Terry models", Annals of
Statistics 32(1):384–406.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .categorical import CategoricalResult, majority_vote
from .dawid_skene import dawid_skene, one_coin_dawid_skene
from .glad import glad
from .mace import mace

LEFT, RIGHT, TIE = 0, 1, 2
_PREFERENCE_METHODS = {
    "majority": majority_vote,
    "dawid_skene": dawid_skene,
    "one_coin": one_coin_dawid_skene,
    "mace": mace,
    "glad": glad,
}


@dataclass(frozen=True)
class PreferenceResult:
    """Aggregated preference per comparison.

    posterior: (n_comparisons, 3) over {left (A), right (B), tie}; label: (n_comparisons,)
    argmax with ties to the lowest code (left, then right, then tie); margin: (n_comparisons,)
    ``posterior[:, 0] - posterior[:, 1]`` in [-1, 1], the strength of the preference for A;
    vote_margin: (n_comparisons,) (votes for A - votes for B) / votes, from the raw votes;
    model: the rater-model result the posterior came from.
    """

    posterior: np.ndarray
    label: np.ndarray
    margin: np.ndarray
    vote_margin: np.ndarray
    model: CategoricalResult


def preference(
    comparison_idx, rater_idx, choice, *, n_comparisons, n_raters, method="dawid_skene", **kwargs
) -> PreferenceResult:
    """Aggregate the raters' choices on each comparison over {A = 0, B = 1, tie = 2}.

    Shapes: ``comparison_idx``, ``rater_idx``, ``choice`` (n_votes,) int. ``method`` is one of
    "majority", "dawid_skene", "one_coin", "mace", "glad" and ``kwargs`` go to it, so a rater who
    always picks the left answer is discounted the same way a spammer is for labels. Duplicate
    votes follow the categorical duplicate rule.
    """
    fn = _PREFERENCE_METHODS[method]
    model = fn(
        comparison_idx,
        rater_idx,
        choice,
        n_items=n_comparisons,
        n_raters=n_raters,
        n_labels=3,
        **kwargs,
    )
    mv = majority_vote(
        comparison_idx, rater_idx, choice, n_items=n_comparisons, n_raters=n_raters, n_labels=3
    )
    return PreferenceResult(
        posterior=model.posterior,
        label=model.label,
        margin=model.posterior[:, LEFT] - model.posterior[:, RIGHT],
        vote_margin=np.where(mv.unvoted, 0.0, mv.posterior[:, LEFT] - mv.posterior[:, RIGHT]),
        model=model,
    )


def bootstrap_interval(refit, weights, groups, *, n_items, level, n_bootstrap, rng):
    """Percentile intervals of centred log-scores over ``n_bootstrap`` refits.

    Each refit gets ``weights`` (n_units,) times how often the unit's group was drawn, which
    is resampling with replacement; ``groups`` (n_units,) int draws whole groups (a cluster
    bootstrap, e.g. all of a rater's comparisons), None single units. ``refit(w)`` returns
    (log-scores, bool mask of the items seen). ``rng``: None means seed 0.
    """
    gen = np.random.default_rng(0 if rng is None else rng)
    units = np.arange(weights.size) if groups is None else np.asarray(groups)
    _, group = np.unique(units, return_inverse=True)
    if group.shape != weights.shape:
        raise ValueError("groups must have one entry per comparison or ranking")
    if group.size == 0:
        return np.full(n_items, np.nan), np.full(n_items, np.nan)
    n_groups = int(group.max()) + 1
    draws = np.empty((n_bootstrap, n_items))
    for b in range(n_bootstrap):
        times = np.bincount(gen.integers(0, n_groups, n_groups), minlength=n_groups)
        theta, seen = refit(weights * times[group])
        draws[b] = theta - (theta[seen].mean() if seen.any() else 0.0)
    alpha = (1.0 - level) / 2
    return tuple(np.quantile(draws, [alpha, 1.0 - alpha], axis=0))


@dataclass(frozen=True)
class BradleyTerryResult:
    """Bradley–Terry(–Davidson) fit.

    scores: (n_items,) log-strengths, centred to mean 0 over compared items; an item's
    probability of beating another is ``exp(s_i) / (exp(s_i) + exp(s_j) + tie term)``.
    Multiply by 400 / ln(10) for an Elo-like scale. ci_low, ci_high: (n_items,) interval bounds
    (NaN when ``ci=None``). tie_strength: Davidson's nu (0 without ties). n_comparisons:
    (n_items,) weighted number of comparisons of each item. log_likelihood, n_iter, converged.
    """

    scores: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    tie_strength: float
    n_comparisons: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def best_shift(log_p: np.ndarray, prior: float) -> np.ndarray:
    """Shift log-strengths to maximise the prior's pseudo-comparisons.

    The data likelihood does not change when every score moves by the same amount, so only the
    weak prior pins the overall level, and MM creeps along that flat direction very slowly.
    Solving for the best common shift (Newton on sum(sigmoid(log_p + c)) = n / 2) after every
    MM step keeps the iteration monotone and fast.
    """
    if prior <= 0 or log_p.size == 0:
        return log_p
    c = 0.0
    for _ in range(20):
        s = 1.0 / (1.0 + np.exp(-(log_p + c)))
        g = 0.5 * s.size - s.sum()
        h = (s * (1.0 - s)).sum()
        if h <= 0:
            break
        c += g / h
        if abs(g / h) < 1e-12:
            break
    return log_p + c


def _bt_fit(i, j, tie, w, n_items, prior, max_iter, tol, start=None):
    """MM iterations for log-strengths; i, j are the two sides (i the winner unless tied)."""
    half = 0.5 * w * tie
    wins = np.bincount(i, weights=w * ~tie + half, minlength=n_items).astype(np.float64)
    wins += np.bincount(j, weights=half, minlength=n_items)
    wins += 0.5 * prior
    t_total = float((w * tie).sum())
    played = np.bincount(i, weights=w, minlength=n_items).astype(np.float64)
    played += np.bincount(j, weights=w, minlength=n_items)
    p = np.ones(n_items) if start is None else np.exp(start)
    nu = 0.5 if t_total > 0 else 0.0
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        pi, pj = np.take(p, i), np.take(p, j)
        root = np.sqrt(pi * pj)
        d = pi + pj + nu * root
        # MM step after bounding sqrt(pi pj) by its tangent (AM-GM), as in Hunter (2004).
        a = w * (1.0 + 0.5 * nu * np.sqrt(pj / pi)) / d
        b = w * (1.0 + 0.5 * nu * np.sqrt(pi / pj)) / d
        denom = np.bincount(i, weights=a, minlength=n_items).astype(np.float64)
        denom += np.bincount(j, weights=b, minlength=n_items)
        denom += prior / (p + 1.0)
        new = np.where(denom > 0, wins / np.where(denom > 0, denom, 1.0), p)
        new = np.maximum(new, 1e-300)
        if prior == 0:
            seen = played > 0
            if seen.any():
                new /= np.exp(np.mean(np.log(new[seen])))
        else:
            new = np.exp(best_shift(np.log(new), prior))
        if t_total > 0:
            nu = t_total / float((w * root / d).sum())
        step = np.max(np.abs(np.log(new) - np.log(p))) if n_items else 0.0
        p = new
        if step < tol:
            converged = True
            break
    return np.log(p), nu, n_iter, converged, played


def _bt_loglik(theta, nu, i, j, tie, w):
    ti, tj = np.take(theta, i), np.take(theta, j)
    m = np.maximum(ti, tj)
    d = np.exp(ti - m) + np.exp(tj - m) + nu * np.exp(0.5 * (ti + tj) - m)
    num = np.where(tie, np.log(max(nu, 1e-300)) + 0.5 * (ti + tj), ti) - m
    return float((w * (num - np.log(d))).sum())


def bradley_terry(
    winner_idx,
    loser_idx,
    *,
    n_items,
    ties=None,
    weights=None,
    prior=0.1,
    ci="hessian",
    level=0.95,
    n_bootstrap=200,
    rng=None,
    groups=None,
    max_iter=2000,
    tol=1e-9,
) -> BradleyTerryResult:
    """Bradley–Terry scores from pairwise outcomes, with Davidson's tie model.

    Shapes: ``winner_idx``, ``loser_idx`` (n_comparisons,) int item codes; ``ties``
    (n_comparisons,) bool marks draws (then winner/loser are just the two sides); ``weights``
    (n_comparisons,) non-negative, e.g. per-rater reliabilities. ``prior`` adds that many
    pseudo-comparisons per item (half won, half lost) against a virtual item of score 0, which
    keeps unbeaten or never-winning items finite; 0 gives the plain maximum-likelihood fit.

    Fitted by Hunter's (2004) MM algorithm with O(n_comparisons + n_items) memory per iteration;
    no items x items matrix is formed. ``ci``: "hessian" uses the diagonal of the observed
    information (each score's uncertainty with the others held fixed, a slight underestimate
    when items share few opponents), reading ``weights`` as counts of repeated comparisons;
    "sandwich" reads them as reliabilities instead and uses the robust variance
    H^-1 J H^-1 (Huber 1967; White 1982) on the same diagonal, J summing the squared weights:
    it is unchanged when every weight is scaled, and equals "hessian" for unit weights;
    "bootstrap" resamples ``n_bootstrap`` times with ``rng`` (None means seed 0) and takes
    percentile intervals, resampling whole ``groups`` (n_comparisons,) int, e.g. raters, when
    given (a cluster bootstrap: one rater's comparisons are not independent), else single
    comparisons; None skips intervals.
    """
    i = np.asarray(winner_idx, dtype=np.int64)
    j = np.asarray(loser_idx, dtype=np.int64)
    if i.shape != j.shape or i.ndim != 1:
        raise ValueError("winner_idx and loser_idx must be 1-D arrays of equal length")
    if i.size and (min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n_items):
        raise ValueError(f"item codes must lie in 0..{n_items - 1}")
    if np.any(i == j):
        raise ValueError("an item cannot be compared with itself")
    tie = np.zeros(i.size, bool) if ties is None else np.asarray(ties, dtype=bool)
    w = np.ones(i.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if tie.shape != i.shape or w.shape != i.shape:
        raise ValueError("ties and weights must have the shape of winner_idx")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    theta, nu, n_iter, converged, played = _bt_fit(i, j, tie, w, n_items, prior, max_iter, tol)
    seen = played > 0
    shift = theta[seen].mean() if seen.any() else 0.0
    scores = theta - shift
    low = np.full(n_items, np.nan)
    high = np.full(n_items, np.nan)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    if ci in ("hessian", "sandwich"):
        p = np.exp(theta)
        pi, pj = np.take(p, i), np.take(p, j)
        d = pi + pj + nu * np.sqrt(pi * pj)
        pw, pl, pt = pi / d, pj / d, 1.0 - (pi + pj) / d
        # Observed information of a log-strength: the variance of the item's game score
        # (1 win, 1/2 tie, 0 loss) under the model, summed over its comparisons.
        var_i = pw + 0.25 * pt - (pw + 0.5 * pt) ** 2
        var_j = pl + 0.25 * pt - (pl + 0.5 * pt) ** 2
        info = np.bincount(i, weights=w * var_i, minlength=n_items).astype(np.float64)
        info += np.bincount(j, weights=w * var_j, minlength=n_items)
        prior_info = prior * p / (1.0 + p) ** 2
        info += prior_info
        var = np.divide(1.0, info, out=np.full(n_items, np.inf), where=info > 0)
        if ci == "sandwich":
            # The prior is not data: it enters the curvature H but not the spread J.
            spread = np.bincount(i, weights=w * w * var_i, minlength=n_items).astype(np.float64)
            spread += np.bincount(j, weights=w * w * var_j, minlength=n_items)
            var = np.where(info > 0, (spread + prior_info) * var * var, np.inf)
        se = np.sqrt(var)
        low, high = scores - z * se, scores + z * se
    elif ci == "bootstrap":

        def refit(wb):
            tb, _, _, _, pb = _bt_fit(
                i, j, tie, wb, n_items, prior, max_iter, max(tol, 1e-6), theta
            )
            return tb, pb > 0

        low, high = bootstrap_interval(
            refit, w, groups, n_items=n_items, level=level, n_bootstrap=n_bootstrap, rng=rng
        )
    elif ci is not None:
        raise ValueError("ci must be 'hessian', 'sandwich', 'bootstrap' or None")
    return BradleyTerryResult(
        scores=scores,
        ci_low=low,
        ci_high=high,
        tie_strength=float(nu),
        n_comparisons=played,
        log_likelihood=_bt_loglik(theta, nu, i, j, tie, w),
        n_iter=n_iter,
        converged=converged,
    )


@dataclass(frozen=True)
class WinMatrix:
    """wins: (n_items, n_items) int, wins[a, b] = comparisons a won against b (so losses of a
    to b are wins[b, a]); ties: (n_items, n_items) int, symmetric, draws between a and b."""

    wins: np.ndarray
    ties: np.ndarray


def win_matrix(winner_idx, loser_idx, *, n_items, ties=None) -> WinMatrix:
    """Head-to-head counts of pairwise outcomes, in the layout of :func:`bradley_terry`.

    Counts are raw (unweighted): they say what raters answered, whatever each answer weighs
    in the fit.
    """
    i = np.asarray(winner_idx, dtype=np.int64)
    j = np.asarray(loser_idx, dtype=np.int64)
    tie = np.zeros(i.size, bool) if ties is None else np.asarray(ties, dtype=bool)
    flat = n_items * n_items
    won = np.bincount(i[~tie] * n_items + j[~tie], minlength=flat).reshape(n_items, n_items)
    drawn = np.bincount(i[tie] * n_items + j[tie], minlength=flat).reshape(n_items, n_items)
    return WinMatrix(wins=won, ties=drawn + drawn.T)
