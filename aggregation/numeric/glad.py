"""GLAD: Generative model of Labels, Abilities, and Difficulties.

J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan (2009), "Whose vote should count
more: optimal integration of labels from labelers of unknown expertise", NIPS 22.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._votes import Votes, item_sum, prepare_votes, take
from .categorical import CategoricalResult, finish_posterior
from .dawid_skene import _converged, check_gold, posterior_from_scores


@dataclass(frozen=True)
class GladResult(CategoricalResult):
    """GLAD fit.

    competence: (n_raters,) ability alpha_r (negative means adversarial).
    inverse_difficulty: (n_items,) exp(beta_i) > 0; small values are hard items.
    log_likelihood: marginal log-likelihood at the returned parameters; n_iter, converged.
    """

    competence: np.ndarray
    inverse_difficulty: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def _softplus(x):
    # log(1 + e^x) as max(x, 0) + log1p(e^-|x|): stable, and about twice as fast as
    # np.logaddexp(0, x).
    out = np.exp(-np.abs(x))
    np.log1p(out, out=out)
    out += np.maximum(x, 0.0)
    return out


def _item_repeat(votes: Votes, values):
    """(n_votes,) ``values[item]`` for per-item ``values``; votes are sorted by item."""
    return np.repeat(values, votes.counts)


def _e_step(votes: Votes, alpha, beta, class_prior, gold=None):
    """Posterior (n_items, K) and log-likelihood. Pure.

    P(vote right) = sigmoid(alpha_r * exp(beta_i)); a wrong vote is uniform over the K - 1
    other labels. With x = alpha_r * exp(beta_i), log P(right) - log P(wrong label) is
    ``x + log(K - 1)`` (softplus(x) - softplus(-x) = x), and the log-probability of a wrong
    vote, the same for every candidate label, cancels in the posterior: it only adds its sum
    over all votes to the likelihood.
    """
    k = votes.n_labels
    x = take(alpha, votes.rater) * _item_repeat(votes, np.exp(beta))
    log_others = np.log(max(k - 1, 1))
    off = -_softplus(x) - log_others
    n = votes.n_items
    extra = np.bincount(votes.item_label, weights=x + log_others, minlength=n * k)
    scores = extra[: n * k].reshape(n, k) + np.log(class_prior)
    posterior, ll = posterior_from_scores(votes, scores, gold)
    return posterior, ll + float(off.sum())


def _m_step(votes: Votes, posterior, alpha, beta, *, alpha_mean, beta_mean, steps):
    """Maximise the expected complete log-likelihood plus Gaussian priors over (alpha, beta).

    Alternating Fisher-scoring steps, each one exact per block: given beta the objective
    separates over raters, given alpha over items. Pure.
    """
    r = votes.n_raters
    right = take(posterior, votes.item_label)
    alpha, beta = alpha.copy(), beta.copy()
    for _ in range(steps):
        # exp(beta) per item, then repeated over the item's votes: n_items exps, not n_votes
        e = _item_repeat(votes, np.exp(beta))
        x = take(alpha, votes.rater) * e
        resid, curv = _residual_and_curvature(right, x)
        g = np.bincount(votes.rater, weights=resid * e, minlength=r)[:r] - (alpha - alpha_mean)
        curv *= e
        curv *= e
        h = np.bincount(votes.rater, weights=curv, minlength=r)[:r] + 1.0
        alpha += np.clip(g / h, -2.0, 2.0)
        x = take(alpha, votes.rater) * e
        resid, curv = _residual_and_curvature(right, x)
        resid *= x
        g = item_sum(votes, resid) - (beta - beta_mean)
        curv *= x
        curv *= x
        h = item_sum(votes, curv) + 1.0
        beta += np.clip(g / h, -2.0, 2.0)
    return alpha, beta


def _residual_and_curvature(right, x):
    """``right - sigmoid(x)`` and ``sigmoid(x) * (1 - sigmoid(x))``, per vote."""
    # 1 / (1 + e^-x) in place: numpy's vectorised exp makes this twice as fast as
    # scipy.special.expit; for very negative x, e^-x = inf gives s = 0, as it should.
    s = np.negative(x)
    np.exp(s, out=s)
    s += 1.0
    np.reciprocal(s, out=s)
    curv = 1.0 - s
    curv *= s
    np.subtract(right, s, out=s)
    return s, curv


def glad(
    item_idx,
    rater_idx,
    label,
    *,
    n_items,
    n_raters,
    n_labels,
    gold=None,
    class_prior=None,
    alpha_mean=1.0,
    beta_mean=1.0,
    max_iter=100,
    tol=1e-6,
    m_steps=2,
) -> GladResult:
    """GLAD (Whitehill et al. 2009): rater ability alpha_r and item inverse difficulty exp(beta_i).

    Shapes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int codes; ``gold`` (n_items,)
    int with -1 where unknown (clamped); ``class_prior`` (n_labels,), uniform by default.
    alpha and beta have N(alpha_mean, 1) and N(beta_mean, 1) priors, as in the paper.
    EM alternates :func:`_e_step` and ``m_steps`` Fisher-scoring sweeps of :func:`_m_step`;
    it stops when the log-posterior changes by at most ``tol`` relative, or after ``max_iter``.
    Duplicate votes follow the rule in :mod:`aggregation.numeric._votes`.
    """
    votes = prepare_votes(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    gold = check_gold(gold, n_items, n_labels)
    if class_prior is None:
        class_prior = np.full(n_labels, 1.0 / n_labels)
    class_prior = np.asarray(class_prior, dtype=np.float64)
    alpha = np.full(n_raters, float(alpha_mean))
    beta = np.full(n_items, float(beta_mean))
    posterior, ll = _e_step(votes, alpha, beta, class_prior, gold)
    old = -np.inf
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        alpha, beta = _m_step(
            votes,
            posterior,
            alpha,
            beta,
            alpha_mean=alpha_mean,
            beta_mean=beta_mean,
            steps=m_steps,
        )
        posterior, ll = _e_step(votes, alpha, beta, class_prior, gold)
        new = ll - 0.5 * float(((alpha - alpha_mean) ** 2).sum() + ((beta - beta_mean) ** 2).sum())
        if votes.n_votes == 0 or _converged(new, old, tol):
            converged = True
            break
        old = new
    return GladResult(
        **finish_posterior(votes, posterior),
        competence=alpha,
        inverse_difficulty=np.exp(beta),
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
    )
