"""GLAD: Generative model of Labels, Abilities, and Difficulties.

J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan (2009), "Whose vote should count
more: optimal integration of labels from labelers of unknown expertise", NIPS 22.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._votes import Votes, item_sum, prepare_votes, take
from .categorical import CategoricalResult, finish_posterior
from .dawid_skene import _converged, check_gold, coin_scores, posterior_from_scores


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
    return np.logaddexp(0.0, x)


def _e_step(votes: Votes, alpha, beta, class_prior, gold=None):
    """Posterior (n_items, K) and log-likelihood. Pure.

    P(vote right) = sigmoid(alpha_r * exp(beta_i)); a wrong vote is uniform over the K - 1
    other labels.
    """
    k = votes.n_labels
    x = take(alpha, votes.rater) * np.exp(take(beta, votes.item))
    off = -_softplus(x) - np.log(max(k - 1, 1))
    scores = coin_scores(votes, off, -_softplus(-x)) + np.log(class_prior)
    return posterior_from_scores(votes, scores, gold)


def _m_step(votes: Votes, posterior, alpha, beta, *, alpha_mean, beta_mean, steps):
    """Maximise the expected complete log-likelihood plus Gaussian priors over (alpha, beta).

    Alternating Fisher-scoring steps, each one exact per block: given beta the objective
    separates over raters, given alpha over items. Pure.
    """
    r = votes.n_raters
    right = take(posterior, votes.item_label)
    alpha, beta = alpha.copy(), beta.copy()
    for _ in range(steps):
        e = np.exp(take(beta, votes.item))
        x = take(alpha, votes.rater) * e
        s = 1.0 / (1.0 + np.exp(-x))
        resid = right - s
        curv = s * (1.0 - s)
        g = np.bincount(votes.rater, weights=resid * e, minlength=r)[:r] - (alpha - alpha_mean)
        h = np.bincount(votes.rater, weights=curv * e * e, minlength=r)[:r] + 1.0
        alpha += np.clip(g / h, -2.0, 2.0)
        x = take(alpha, votes.rater) * e
        s = 1.0 / (1.0 + np.exp(-x))
        resid = right - s
        curv = s * (1.0 - s)
        g = item_sum(votes, resid * x) - (beta - beta_mean)
        h = item_sum(votes, curv * x * x) + 1.0
        beta += np.clip(g / h, -2.0, 2.0)
    return alpha, beta


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
