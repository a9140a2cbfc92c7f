"""Consensus labels from raters plus a model, with quality scores for items and raters.

In the spirit of CROWDLAB: H. W. Goh, U. Tkachenko and J. Mueller (2022), "CROWDLAB:
Supervised learning to infer consensus labels and quality scores for data with multiple
annotators", NeurIPS Human in the Loop Learning workshop (arXiv:2210.06812). As there, the
consensus starts from the majority vote, raters are weighted by their agreement with the
consensus and the model by how well it predicts it, and the consensus is re-estimated with
those weights. Three choices differ, each for a measured reason (docs/label_quality.md):

* The pool is log-linear, a product of experts, not CROWDLAB's weighted average of
  probability vectors:
  ``log P(y | item) = alpha * log p_model(y) + beta * sum_votes w_r * log C[y, vote] + const``.
  A vote is read through a class confusion matrix C (shared by all raters, estimated from
  the consensus as in Dawid and Skene 1979), so that "cat" for a dog costs less than
  "truck" for a dog.
* The two global weights (alpha for the model, beta for the raters) are fitted without
  truth, by leave-one-vote-out prediction: each vote is predicted from the model and the
  item's other votes, and (alpha, beta) maximise the log-likelihood of the held-out votes.
  Raters who err together (the same hard items) make more votes worth less than
  independent ones, and this fit finds that discount; a naive Bayes product (alpha = beta =
  1) overcounts them.
* A rater's own weight w_r is their log-odds of agreeing with the consensus relative to the
  average rater, shrunk towards 1 with ``shrink`` pseudo-votes, so that a rater with few
  votes is treated as average.

numpy only, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .confident_learning import check_labels_probs

_EPS = 1e-12


@dataclass(frozen=True)
class ModelConsensusResult:
    """Consensus of raters plus a model.

    posterior: (n_items, K) rows sum to 1; label: (n_items,) argmax (ties to the lowest code).
    quality: (n_items,) posterior probability of the consensus label (low = unsure item).
    rater_quality: (n_raters,) the rater's shrunk mean posterior probability of their own
    labels (their soft agreement with the consensus); rater_weight: (n_raters,) w_r.
    model_weight: alpha; rater_exponent: beta. model_accuracy: the model's top class agreeing
    with the consensus, on items with votes. confusion: (K, K) C[true, voted].
    n_votes: (n_items,) votes per item; log_likelihood: mean held-out-vote log-likelihood at
    (alpha, beta); n_iter: rounds run.
    """

    posterior: np.ndarray
    label: np.ndarray
    quality: np.ndarray
    rater_quality: np.ndarray
    rater_weight: np.ndarray
    model_weight: float
    rater_exponent: float
    model_accuracy: float
    confusion: np.ndarray
    n_votes: np.ndarray
    log_likelihood: float
    n_iter: int


def _codes(name, values, upper) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer codes, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= upper):
        raise ValueError(f"{name} codes must lie in 0..{upper - 1}")
    return arr


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row softmax in place of ``logits`` (n, K); returns it."""
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits


def vote_log_sum(item, label, vote_w, log_confusion, n_items) -> np.ndarray:
    """(n_items, K): sum over each item's votes of w_r * log C[y, vote], for every class y.

    One bincount per class, so no (n_votes, K) temporary is built (240 MB at 3 million votes).
    """
    k = log_confusion.shape[0]
    out = np.empty((n_items, k))
    for c in range(k):
        out[:, c] = np.bincount(item, weights=log_confusion[c, label] * vote_w, minlength=n_items)
    return out


def majority_with_model_ties(item, label, pred_probs) -> np.ndarray:
    """Majority vote per item, ties broken by the model's probabilities: (n_items,) int64.

    CROWDLAB's starting point; on an item without votes it is the model's top class.
    """
    n, k = pred_probs.shape
    counts = np.bincount(item * k + label, minlength=n * k).reshape(n, k).astype(np.float64)
    # Vote counts are whole numbers and half a probability is below 1/2, so adding it changes
    # the order only between tied counts.
    return (counts + 0.5 * pred_probs).argmax(axis=1)


def class_confusion(item, label, posterior, *, prior=1.0) -> np.ndarray:
    """C[y, v] = P(a rater votes v | true class y), from the consensus posterior (K, K).

    The M-step of Dawid and Skene (1979) with one confusion matrix for all raters; ``prior``
    pseudo-votes are added to each cell, so a class never seen stays uniform.
    """
    k = posterior.shape[1]
    counts = np.empty((k, k))
    for v in range(k):
        on = label == v
        counts[:, v] = posterior[item[on]].sum(axis=0)
    counts += prior
    return counts / counts.sum(axis=1, keepdims=True)


def rater_agreement(item, rater, label, posterior, *, n_raters, shrink) -> np.ndarray:
    """Each rater's shrunk mean posterior probability of their own labels: (n_raters,).

    The mean is pulled towards the average over all votes with ``shrink`` pseudo-votes (an
    empirical-Bayes mean), so one lucky vote does not make a rater an expert.
    """
    agree = posterior[item, label]
    pooled = float(agree.mean()) if agree.size else 0.5
    total = np.bincount(rater, weights=agree, minlength=n_raters)
    n = np.bincount(rater, minlength=n_raters)
    return (total + shrink * pooled) / (n + shrink)


def rater_weights(agreement: np.ndarray, pooled: float, n_labels: int) -> np.ndarray:
    """w_r: a rater's log-odds of agreeing (one-coin, K classes) over the average rater's.

    Under a one-coin model a vote from a rater with accuracy a shifts the log-odds of its class
    by log(a (K-1) / (1-a)) (Dawid and Skene 1979, Karger, Oh and Shah 2011); the ratio keeps
    the global scale in beta. Raters at or below chance get weight 0.
    """

    def log_odds(a):
        a = np.clip(a, _EPS, 1 - 1e-9)
        return np.log(a * max(n_labels - 1, 1) / (1.0 - a))

    base = max(float(log_odds(np.asarray(pooled))), 1e-6)
    return np.maximum(log_odds(agreement), 0.0) / base


def held_out_vote_log_likelihood(model_part, votes_part, like, alpha, beta) -> float:
    """Mean log P(vote | model, the item's other votes), the score (alpha, beta) maximise.

    For each held-out vote (rows): model_part (n_votes, K) the log-probabilities of its item,
    votes_part (n_votes, K) the sum of w_r log C[y, v] over the item's other votes, like
    (n_votes, K) C[y, this vote]. Pure.
    """
    q = _softmax_rows(alpha * model_part + beta * votes_part)
    return float(np.log(np.maximum(np.einsum("vk,vk->v", q, like), _EPS)).mean())


def fit_pool_weights(log_probs, vote_sum, item, label, vote_w, log_confusion) -> tuple:
    """(alpha, beta, score) maximising :func:`held_out_vote_log_likelihood`.

    log_probs, vote_sum: (n_items, K) for the items the votes ``item`` (n_votes,) index.
    A log-grid, then a finer grid around its best point: two smooth parameters, and a grid
    cannot wander off to a degenerate corner the way an unbounded step could.
    """
    own = log_confusion[:, label].T
    model_part = log_probs[item]
    votes_part = vote_sum[item] - vote_w[:, None] * own
    like = np.exp(own)
    best = (1.0, 1.0, -np.inf)

    def scan(alphas, betas):
        nonlocal best
        for a in alphas:
            for b in betas:
                s = held_out_vote_log_likelihood(model_part, votes_part, like, a, b)
                if s > best[2]:
                    best = (float(a), float(b), s)

    scan(np.geomspace(0.125, 4.0, 9), np.geomspace(0.05, 2.0, 9))
    scan(best[0] * np.geomspace(0.75, 1.33, 5), best[1] * np.geomspace(0.75, 1.33, 5))
    return best


def model_consensus(
    item_idx,
    rater_idx,
    label,
    pred_probs,
    *,
    n_raters=None,
    n_iter=2,
    shrink=20.0,
    fit_items=10_000,
    rng=0,
) -> ModelConsensusResult:
    """Consensus labels and quality scores from raters plus a model's predicted probabilities.

    In the spirit of CROWDLAB (Goh, Tkachenko and Mueller 2022); see the module docstring for
    the model. Shapes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int codes;
    ``pred_probs`` (n_items, K), out-of-sample, row i for item i. Every row is one vote.
    Rounds (``n_iter``): class confusion and rater weights from the current consensus, then
    (alpha, beta) by held-out votes, then the new posterior. The weights are fitted on at most
    ``fit_items`` items drawn with ``rng`` (two numbers need no million items); the posterior
    covers all. Items without votes get the model's tempered probabilities.
    """
    n, k = np.shape(pred_probs)
    _, p = check_labels_probs(np.zeros(n, dtype=np.int64), pred_probs)
    item = _codes("item_idx", item_idx, n)
    lab = _codes("label", label, k)
    r_max = int(np.max(rater_idx)) + 1 if np.size(rater_idx) else 0
    n_raters = r_max if n_raters is None else int(n_raters)
    rater = _codes("rater_idx", rater_idx, max(n_raters, 1))
    if not (item.size == rater.size == lab.size):
        raise ValueError("item_idx, rater_idx and label must have equal length")
    rng = np.random.default_rng(rng)
    log_probs = np.log(np.maximum(p, _EPS))
    n_votes = np.bincount(item, minlength=n).astype(np.float64)

    mv = majority_with_model_ties(item, lab, p)
    posterior = np.zeros((n, k))
    posterior[np.arange(n), mv] = 1.0
    # The votes of a fixed random subset of items fit (alpha, beta): whole items, so that every
    # held-out vote keeps its item's other votes.
    voted = np.flatnonzero(n_votes > 0)
    fit = voted if voted.size <= fit_items else np.sort(rng.choice(voted, fit_items, replace=False))
    in_fit = np.zeros(n, dtype=bool)
    in_fit[fit] = True
    fit_votes = np.flatnonzero(in_fit[item])
    fit_pos = np.full(n, -1)
    fit_pos[fit] = np.arange(fit.size)

    alpha, beta, score = 1.0, 1.0, float("nan")
    weights = np.ones(max(n_raters, 0))
    confusion = np.full((k, k), 1.0 / k)
    for _ in range(n_iter):
        confusion = class_confusion(item, lab, posterior)
        agreement = rater_agreement(item, rater, lab, posterior, n_raters=n_raters, shrink=shrink)
        pooled = float(posterior[item, lab].mean()) if item.size else 0.5
        weights = rater_weights(agreement, pooled, k)
        log_c = np.log(confusion)
        vote_w = weights[rater]
        vote_sum = vote_log_sum(item, lab, vote_w, log_c, n)
        if fit_votes.size:
            alpha, beta, score = fit_pool_weights(
                log_probs[fit],
                vote_sum[fit],
                fit_pos[item[fit_votes]],
                lab[fit_votes],
                vote_w[fit_votes],
                log_c,
            )
        posterior = _softmax_rows(alpha * log_probs + beta * vote_sum)

    agreement = rater_agreement(item, rater, lab, posterior, n_raters=n_raters, shrink=shrink)
    top = posterior.max(axis=1, keepdims=True)
    cons = np.argmax(posterior >= top * (1 - 1e-9), axis=1).astype(np.int64)
    model_top = p.argmax(axis=1)
    model_acc = float((model_top[voted] == cons[voted]).mean()) if voted.size else float("nan")
    return ModelConsensusResult(
        posterior=posterior,
        label=cons,
        quality=posterior[np.arange(n), cons],
        rater_quality=agreement,
        rater_weight=weights,
        model_weight=alpha,
        rater_exponent=beta,
        model_accuracy=model_acc,
        confusion=confusion,
        n_votes=n_votes,
        log_likelihood=score,
        n_iter=n_iter,
    )
