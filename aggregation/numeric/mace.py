"""MACE: Multi-Annotator Competence Estimation.

D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy (2013), "Learning whom to trust with
MACE", Proceedings of NAACL-HLT, 1120–1130.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._votes import Votes, digamma, prepare_votes, take
from .categorical import CategoricalResult, finish_posterior
from .dawid_skene import _converged, check_gold, coin_scores, posterior_from_scores


@dataclass(frozen=True)
class MaceResult(CategoricalResult):
    """MACE fit.

    competence: (n_raters,) probability that the rater knows the answer rather than spams.
    strategy: (n_raters, n_labels) the label distribution the rater uses when spamming.
    confusion: (n_raters, n_labels, n_labels) the implied ``P(says l | true k)``.
    log_likelihood: marginal log-likelihood of the best restart; n_iter, converged: of that
    restart; seed: the seed that restart drew from ``rng``.
    """

    competence: np.ndarray
    strategy: np.ndarray
    confusion: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    seed: int


@dataclass(frozen=True)
class _Cells:
    """The number of votes in every (rater, label) cell, reused by every iteration."""

    cell_votes: np.ndarray


def _cells(votes: Votes) -> _Cells:
    n = votes.n_raters * votes.n_labels
    return _Cells(
        cell_votes=np.bincount(votes.cell, minlength=n)[:n].astype(float),
    )


def _e_step(votes: Votes, knows, spams, strategy, gold=None):
    """Posterior (n_items, K) and marginal log-likelihood. Pure.

    knows, spams: (n_raters,) weights of "knows the answer" and "spams" (they sum to 1 under EM
    and to slightly less under variational Bayes); strategy: (n_raters, K).
    A vote l from rater r has probability ``knows[r] * [l == k] + spams[r] * strategy[r, l]``
    given the true label k.
    """
    k = votes.n_labels
    guess = spams[:, None] * strategy
    log_off = np.log(guess).ravel()
    log_diag = np.log(knows[:, None] + guess).ravel()
    scores = coin_scores(votes, take(log_off, votes.cell), take(log_diag, votes.cell)) - np.log(k)
    return posterior_from_scores(votes, scores, gold)


def _m_step(
    votes: Votes,
    cells: _Cells,
    posterior,
    knows,
    spams,
    strategy,
    *,
    variational,
    alpha,
    beta,
    gamma,
    smoothing,
):
    """New (knows, spams, strategy) from expected knowing/spamming counts. Pure."""
    r, k = votes.n_raters, votes.n_labels
    guess = spams[:, None] * strategy
    # P(rater knew | vote, true label = vote) for every (rater, label) cell
    knew_if_right = (knows[:, None] / (knows[:, None] + guess)).ravel()
    knew = take(posterior, votes.item_label) * take(knew_if_right, votes.cell)
    knew_cell = np.bincount(votes.cell, weights=knew, minlength=r * k)[: r * k]
    spam_cell = (cells.cell_votes - knew_cell).reshape(r, k)
    spam_cell = np.maximum(spam_cell, 0.0)
    knew_r = knew_cell.reshape(r, k).sum(axis=1)
    spam_r = spam_cell.sum(axis=1)
    if variational:
        total = digamma(knew_r + spam_r + alpha + beta)
        knows = np.exp(digamma(knew_r + alpha) - total)
        spams = np.exp(digamma(spam_r + beta) - total)
        strategy = np.exp(digamma(spam_cell + gamma) - digamma(spam_r + k * gamma)[:, None])
    else:
        knows = (knew_r + smoothing) / (knew_r + spam_r + 2 * smoothing)
        spams = 1.0 - knows
        strategy = (spam_cell + smoothing) / (spam_r + k * smoothing)[:, None]
    return knows, spams, strategy


def mace(
    item_idx,
    rater_idx,
    label,
    *,
    n_items,
    n_raters,
    n_labels,
    gold=None,
    rng=None,
    n_restarts=10,
    max_iter=50,
    tol=1e-6,
    variational=True,
    alpha=0.5,
    beta=0.5,
    gamma=10.0,
    smoothing=0.01,
) -> MaceResult:
    """MACE (Hovy et al. 2013): each rater either knows the answer or spams from a strategy.

    Shapes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int codes; ``gold`` (n_items,)
    int with -1 where unknown (clamped). The true label has a uniform prior. With
    ``variational=True`` (the default, as recommended in the paper) the M-step is variational
    Bayes with a Beta(alpha, beta) prior on knowing and a symmetric Dirichlet(gamma) prior on
    the strategy; otherwise it is EM with ``smoothing`` added to the counts.

    Each of ``n_restarts`` runs starts from parameters drawn from its own seed, taken from
    ``rng`` (a Generator or seed; None means seed 0, so that results are reproducible), and
    stops when the log-likelihood changes by at most ``tol`` relative, or after ``max_iter``
    rounds. The restart with the highest final log-likelihood wins. Duplicate votes follow the
    rule in :mod:`aggregation.numeric._votes`.
    """
    votes = prepare_votes(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    gold = check_gold(gold, n_items, n_labels)
    if n_restarts < 1:
        raise ValueError("n_restarts must be >= 1")
    rng = np.random.default_rng(0 if rng is None else rng)
    seeds = rng.integers(0, 2**63 - 1, size=n_restarts)
    cells = _cells(votes)
    k = n_labels
    kw = {
        "variational": variational,
        "alpha": alpha,
        "beta": beta,
        "gamma": gamma,
        "smoothing": smoothing,
    }
    best = None
    for seed in seeds:
        local = np.random.default_rng(seed)
        # Start near "half knowing, uniform strategy", perturbed per restart, as in MACE.
        spam0 = local.uniform(1.0, 1.5, size=(n_raters, 2))
        spam0 /= spam0.sum(axis=1, keepdims=True)
        knows, spams = spam0[:, 0], spam0[:, 1]
        strategy = local.uniform(1.0, 1.5, size=(n_raters, k))
        strategy /= strategy.sum(axis=1, keepdims=True)
        ll_old = -np.inf
        converged = False
        n_iter = 0
        posterior, ll = _e_step(votes, knows, spams, strategy, gold)
        for n_iter in range(1, max_iter + 1):
            knows, spams, strategy = _m_step(votes, cells, posterior, knows, spams, strategy, **kw)
            posterior, ll = _e_step(votes, knows, spams, strategy, gold)
            if votes.n_votes == 0 or _converged(ll, ll_old, tol):
                converged = True
                break
            ll_old = ll
        if best is None or ll > best[0]:
            best = (ll, posterior, knows, spams, strategy, n_iter, converged, int(seed))
    ll, posterior, knows, spams, strategy, n_iter, converged, seed = best
    # Report normalised competence so that knowing and spamming read as probabilities.
    competence = knows / (knows + spams)
    eye = np.eye(k)
    guess = (1.0 - competence)[:, None, None] * strategy[:, None, :]
    confusion = competence[:, None, None] * eye + guess
    confusion /= confusion.sum(axis=2, keepdims=True)
    return MaceResult(
        **finish_posterior(votes, posterior),
        competence=competence,
        strategy=strategy,
        confusion=confusion,
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
        seed=seed,
    )
