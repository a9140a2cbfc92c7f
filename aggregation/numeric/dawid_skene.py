"""Dawid–Skene with full confusion matrices, and its one-coin variant.

A. P. Dawid and A. M. Skene (1979), "Maximum likelihood estimation of observer error-rates
using the EM algorithm", Journal of the Royal Statistical Society C 28(1):20–28.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._votes import (
    Votes,
    _as_codes,
    item_sum,
    log_normalize,
    prepare_votes,
    sum_item_rows_by_key,
    sum_rows_by_item,
    take,
)
from .categorical import CategoricalResult, finish_posterior, vote_counts


@dataclass(frozen=True)
class DawidSkeneResult(CategoricalResult):
    """Dawid–Skene fit.

    confusion: (n_raters, n_labels, n_labels), ``confusion[r, k, l]`` = P(rater r says l | true k).
    class_prior: (n_labels,). competence: (n_raters,), the rater's expected accuracy
    ``sum_k class_prior[k] * confusion[r, k, k]``. log_likelihood: marginal log-likelihood of
    the votes at the returned parameters. n_iter: EM rounds run; converged: whether the
    log-posterior changed by at most ``tol`` (relative) before ``max_iter``.
    """

    confusion: np.ndarray
    class_prior: np.ndarray
    competence: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool


def check_gold(gold, n_items: int, n_labels: int) -> np.ndarray | None:
    """Validate ``gold``: (n_items,) int, -1 where unknown, else a label code."""
    if gold is None:
        return None
    g = np.asarray(gold)
    if g.shape != (n_items,):
        raise ValueError(f"gold must have shape ({n_items},), got {g.shape}")
    g = g.astype(np.int64)
    if np.any((g < -1) | (g >= n_labels)):
        raise ValueError(f"gold codes must be -1 (unknown) or in 0..{n_labels - 1}")
    return g if np.any(g >= 0) else None


def clamp_gold(posterior: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    if gold is not None:
        known = gold >= 0
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
    return posterior


def initial_posterior(votes: Votes, gold: np.ndarray | None) -> np.ndarray:
    """Vote shares (a soft majority vote), uniform where unvoted, gold clamped."""
    counts = vote_counts(votes)
    total = counts.sum(axis=1, keepdims=True)
    post = np.divide(counts, total, out=np.full_like(counts, 1.0 / votes.n_labels), where=total > 0)
    return clamp_gold(post, gold)


def posterior_from_scores(
    votes: Votes, scores: np.ndarray, gold: np.ndarray | None
) -> tuple[np.ndarray, float]:
    """Normalise log scores (n_items, K) into a posterior and the marginal log-likelihood.

    Items without votes contribute nothing; gold items contribute the joint log-probability of
    their votes and their known label.
    """
    post, lognorm = log_normalize(scores)
    voted = votes.voted
    if gold is not None:
        known = gold >= 0
        lognorm = np.where(known, scores[np.arange(scores.shape[0]), np.maximum(gold, 0)], lognorm)
        clamp_gold(post, gold)
    return post, float(lognorm[voted].sum())


def _log(x: np.ndarray) -> np.ndarray:
    # Only reachable with prior=0: a probability of exactly 0 becomes a very small one, so that
    # an item whose every label is "impossible" still gets a finite, comparable score.
    return np.log(np.maximum(x, 1e-300))


def _e_step(
    votes: Votes, class_prior: np.ndarray, confusion: np.ndarray, gold: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Posterior over true labels (n_items, K) and log-likelihood, given the parameters.

    class_prior: (K,); confusion: (n_raters, K, K). Pure function.
    """
    r, k, _ = confusion.shape
    table = _log(confusion).transpose(0, 2, 1).reshape(r * k, k)
    scores = sum_rows_by_item(votes, table, votes.cell) + _log(class_prior)
    return posterior_from_scores(votes, scores, gold)


def _m_step(votes: Votes, posterior: np.ndarray, prior) -> tuple[np.ndarray, np.ndarray]:
    """MAP class prior (K,) and confusion matrices (n_raters, K, K) from the posterior.

    ``prior`` is a pseudo-count added to every confusion cell and every class-prior entry:
    a scalar or an array broadcastable to (K, K). Pure function.
    """
    r, k = votes.n_raters, votes.n_labels
    counts = sum_item_rows_by_key(votes, posterior, votes.cell, r * k)
    counts = counts.reshape(r, k, k).transpose(0, 2, 1) + prior
    total = counts.sum(axis=2, keepdims=True)
    confusion = np.divide(counts, total, out=np.full_like(counts, 1.0 / k), where=total > 0)
    class_counts = posterior[votes.voted].sum(axis=0) + np.mean(np.broadcast_to(prior, (k, k)))
    class_prior = class_counts / class_counts.sum()
    return class_prior, confusion


def _log_prior(prior, class_prior, confusion) -> float:
    if np.all(np.asarray(prior) == 0):
        return 0.0
    k = class_prior.size
    pc = np.mean(np.broadcast_to(prior, (k, k)))
    return float((prior * _log(confusion)).sum() + (pc * _log(class_prior)).sum())


def _converged(new: float, old: float, tol: float) -> bool:
    return bool(np.isfinite(old)) and abs(new - old) <= tol * max(abs(old), 1.0)


@dataclass(frozen=True)
class VoteMatrix:
    """Votes as a sparse count matrix, for the sparse-dense products of the EM rounds.

    ``counts`` (n_items, n_raters * n_labels) CSR holds the number of times
    rater r gave label l on item i in column ``r * n_labels + l``; ``counts_t`` is its
    transpose, a CSC view of the same arrays. ``voted`` (n_items,) bool and ``n_votes`` (n_items,) the votes per item.
    """

    counts: sparse.csr_matrix
    counts_t: sparse.csc_matrix
    voted: np.ndarray
    n_votes: np.ndarray
    n_items: int
    n_raters: int
    n_labels: int

    @property
    def all_voted(self) -> bool:
        return bool(self.voted.all())

    # The attributes finish_posterior and posterior_from_scores read from Votes.
    def effective_votes(self) -> np.ndarray:
        return self.n_votes


def vote_matrix(item_idx, rater_idx, label, *, n_items, n_raters, n_labels) -> VoteMatrix:
    """Validate the votes and build their :class:`VoteMatrix`, applying the duplicate rule.

    Building CSR matrices needs no full sort of the votes (scipy counts them into rows), which
    is what makes this several times cheaper than :func:`prepare_votes` on large inputs. It
    counts the same votes as :func:`prepare_votes`, where the duplicate rule is stated.
    """
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
    k = n_labels
    shape = (n_items, n_raters * k)
    # Every row is one vote (the duplicate rule of prepare_votes): summing repeated cells
    # counts a rater's repeated answers as the votes they are.
    counts = sparse.csr_matrix((np.ones(item.size), (item, rater * k + lab)), shape=shape)
    counts.sum_duplicates()  # canonical: one sorted entry per (item, cell)
    n_votes = np.bincount(item, minlength=n_items)[:n_items].astype(np.float64)
    return VoteMatrix(
        counts=counts,
        counts_t=counts.T,
        voted=n_votes > 0,
        n_votes=n_votes,
        n_items=int(n_items),
        n_raters=int(n_raters),
        n_labels=int(k),
    )


def _sparse_initial_posterior(vm: VoteMatrix, gold) -> np.ndarray:
    k = vm.n_labels
    # Summing each label's columns over raters: a product with R stacked identity matrices.
    counts = vm.counts @ np.tile(np.eye(k), (vm.n_raters, 1))
    total = counts.sum(axis=1, keepdims=True)
    post = np.divide(counts, total, out=np.full_like(counts, 1.0 / k), where=total > 0)
    return clamp_gold(post, gold)


def _sparse_e_step(vm: VoteMatrix, class_prior, confusion, gold=None):
    """:func:`_e_step` as one sparse-dense product: (n_items, R*K) @ (R*K, K). Pure."""
    r, k, _ = confusion.shape
    table = _log(confusion).transpose(0, 2, 1).reshape(r * k, k)
    scores = vm.counts @ table
    scores += _log(class_prior)
    return posterior_from_scores(vm, scores, gold)


def _sparse_m_step(vm: VoteMatrix, posterior, prior):
    """:func:`_m_step` as one sparse-dense product: (R*K, n_items) @ (n_items, K). Pure."""
    r, k = vm.n_raters, vm.n_labels
    # counts_t is a CSC view of counts: its product scatters rows of the posterior in order, which
    # measured faster than gathering through a CSR copy of the transpose.
    counts = (vm.counts_t @ posterior).reshape(r, k, k).transpose(0, 2, 1) + prior
    total = counts.sum(axis=2, keepdims=True)
    confusion = np.divide(counts, total, out=np.full_like(counts, 1.0 / k), where=total > 0)
    voted = posterior if vm.all_voted else posterior[vm.voted]
    class_counts = voted.sum(axis=0) + np.mean(np.broadcast_to(prior, (k, k)))
    return class_counts / class_counts.sum(), confusion


def dawid_skene(
    item_idx,
    rater_idx,
    label,
    *,
    n_items,
    n_raters,
    n_labels,
    gold=None,
    prior=0.01,
    max_iter=100,
    tol=1e-6,
) -> DawidSkeneResult:
    """Dawid–Skene (1979) label aggregation by EM with a full confusion matrix per rater.

    Shapes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int codes; ``gold`` (n_items,) int
    with -1 where unknown (known items are clamped to their gold label throughout, which also
    anchors the raters' confusion matrices); ``prior`` a Dirichlet pseudo-count added to every
    confusion cell and class-prior entry (scalar or (n_labels, n_labels)); it keeps a rater who
    never saw a class from producing 0/0.

    EM starts from the vote shares, alternates :func:`_m_step` and :func:`_e_step`, and stops
    when the log-posterior (log-likelihood plus log-prior) changes by at most ``tol`` relative
    to its size, or after ``max_iter`` rounds. Duplicate votes follow the rule in
    :mod:`aggregation.numeric._votes`; unvoted items get a uniform posterior.

    Each round runs as two sparse-dense matrix products on the item x (rater, label) count
    matrix (:func:`vote_matrix`), the same arithmetic as :func:`_e_step` and :func:`_m_step`
    on per-vote gathers, in a fraction of the time.
    """
    vm = vote_matrix(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    gold = check_gold(gold, n_items, n_labels)
    prior = np.asarray(prior, dtype=np.float64)
    if np.any(prior < 0):
        raise ValueError("prior must be non-negative")
    posterior = _sparse_initial_posterior(vm, gold)
    objective = -np.inf
    converged = False
    n_iter = 0
    ll = 0.0
    empty = vm.counts.nnz == 0
    class_prior, confusion = _sparse_m_step(vm, posterior, prior)
    for n_iter in range(1, max_iter + 1):
        posterior, ll = _sparse_e_step(vm, class_prior, confusion, gold)
        new = ll + _log_prior(prior, class_prior, confusion)
        if empty or _converged(new, objective, tol):
            converged = True
            break
        objective = new
        class_prior, confusion = _sparse_m_step(vm, posterior, prior)
    competence = np.einsum("k,rkk->r", class_prior, confusion)
    return DawidSkeneResult(
        **finish_posterior(vm, posterior),
        confusion=confusion,
        class_prior=class_prior,
        competence=competence,
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
    )


def coin_scores(votes: Votes, off: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """Log scores (n_items, K) when each vote's log-probability takes only two values.

    off: (n_votes,) log P(vote | true label != voted label);
    diag: (n_votes,) log P(vote | true label == voted label).
    Two bincounts instead of K, which is what keeps one-coin DS, MACE and GLAD fast.
    """
    n, k = votes.n_items, votes.n_labels
    base = item_sum(votes, off)
    extra = np.bincount(votes.item_label, weights=diag - off, minlength=n * k)
    return extra[: n * k].reshape(n, k) + base[:, None]


def _one_coin_e_step(votes, class_prior, accuracy, gold=None):
    """Posterior (n_items, K) and log-likelihood for one-coin accuracies (n_raters,). Pure."""
    k = votes.n_labels
    acc = take(accuracy, votes.rater)
    off = _log((1.0 - acc) / max(k - 1, 1))
    scores = coin_scores(votes, off, _log(acc)) + _log(class_prior)
    return posterior_from_scores(votes, scores, gold)


def _one_coin_m_step(votes, posterior, prior):
    """Class prior (K,) and rater accuracies (n_raters,); ``prior`` pseudo-counts per cell. Pure."""
    r, k = votes.n_raters, votes.n_labels
    right = take(posterior, votes.item_label)
    correct = np.bincount(votes.rater, weights=right, minlength=r)[:r]
    total = np.bincount(votes.rater, minlength=r)[:r].astype(np.float64)
    denom = total + prior * k
    accuracy = np.divide(correct + prior, denom, out=np.full(r, 1.0 / k), where=denom > 0)
    class_counts = posterior[votes.voted].sum(axis=0) + prior
    return class_counts / class_counts.sum(), accuracy


def one_coin_dawid_skene(
    item_idx,
    rater_idx,
    label,
    *,
    n_items,
    n_raters,
    n_labels,
    gold=None,
    prior=0.01,
    max_iter=100,
    tol=1e-6,
) -> DawidSkeneResult:
    """One-coin Dawid–Skene: each rater is right with probability p_r, else uniformly wrong.

    The confusion matrix of rater r is ``p_r`` on the diagonal and ``(1 - p_r) / (K - 1)``
    elsewhere; this is the model of Dawid and Skene (1979) with one parameter per rater, as used
    e.g. by Karger, Oh and Shah (2011) and Zhang et al. (2014). Arguments, shapes, the stopping
    rule and the duplicate rule are those of :func:`dawid_skene`; ``prior`` adds pseudo-counts as
    if to every cell of a full confusion row. ``competence`` is p_r.
    """
    votes = prepare_votes(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    gold = check_gold(gold, n_items, n_labels)
    prior = float(prior)
    if prior < 0:
        raise ValueError("prior must be non-negative")
    k = n_labels
    posterior = initial_posterior(votes, gold)
    objective = -np.inf
    converged = False
    n_iter = 0
    ll = 0.0
    class_prior, accuracy = _one_coin_m_step(votes, posterior, prior)
    for n_iter in range(1, max_iter + 1):
        posterior, ll = _one_coin_e_step(votes, class_prior, accuracy, gold)
        new = ll
        if prior > 0:
            off = (1.0 - accuracy) / max(k - 1, 1)
            new += prior * float(
                (_log(accuracy) + (k - 1) * _log(off)).sum() + _log(class_prior).sum()
            )
        if votes.n_votes == 0 or _converged(new, objective, tol):
            converged = True
            break
        objective = new
        class_prior, accuracy = _one_coin_m_step(votes, posterior, prior)
    eye = np.eye(k)
    off = ((1.0 - accuracy) / max(k - 1, 1))[:, None, None]
    confusion = accuracy[:, None, None] * eye + off * (1.0 - eye)
    return DawidSkeneResult(
        **finish_posterior(votes, posterior),
        confusion=confusion,
        class_prior=class_prior,
        competence=accuracy,
        log_likelihood=ll,
        n_iter=n_iter,
        converged=converged,
    )
