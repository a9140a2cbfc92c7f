"""Result types and vote-counting aggregators for categorical labels.

Conventions shared by every categorical method in Vox:

* Input is three int arrays of shape (n_votes,): ``item_idx`` in 0..n_items-1, ``rater_idx`` in
  0..n_raters-1 and ``label`` in 0..n_labels-1.
* Duplicate (item, rater) votes: every row is one vote, so a rater who answered an item twice
  votes twice (see :mod:`aggregation.numeric._votes`).
* ``posterior`` rows sum to 1. Items without votes get a uniform row; ``n_votes`` is 0 for them.
* ``label`` is the argmax of ``posterior`` with ties going to the lowest label code; ``ties``
  marks the items where that rule decided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._votes import Votes, argmax_lowest, prepare_votes


@dataclass(frozen=True)
class CategoricalResult:
    """Aggregated categorical labels.

    posterior: (n_items, n_labels) float64, rows sum to 1 (uniform for items without votes).
    label: (n_items,) int64, argmax of posterior, ties to the lowest label code.
    ties: (n_items,) bool, items whose label was decided by the tie rule.
    n_votes: (n_items,) float64, number of votes on the item (a repeated answer counts again).
    """

    posterior: np.ndarray
    label: np.ndarray
    ties: np.ndarray
    n_votes: np.ndarray

    @property
    def unvoted(self) -> np.ndarray:
        """(n_items,) bool: items without any vote (their posterior row is uniform)."""
        return self.n_votes == 0


def finish_posterior(votes: Votes, posterior: np.ndarray) -> dict:
    """Make unvoted rows uniform and compute label, ties and n_votes for a result."""
    voted = votes.voted
    if not voted.all():
        posterior[~voted] = 1.0 / votes.n_labels
    label, ties = argmax_lowest(posterior)
    return {
        "posterior": posterior,
        "label": label,
        "ties": ties,
        "n_votes": votes.effective_votes(),
    }


def vote_counts(votes: Votes, rater_weights: np.ndarray | None = None) -> np.ndarray:
    """(n_items, n_labels) vote counts, each row one vote, times the rater weights if given."""
    k = votes.n_labels
    w = None if rater_weights is None else rater_weights[votes.rater]
    flat = np.bincount(votes.item * k + votes.label, weights=w, minlength=votes.n_items * k)
    return flat[: votes.n_items * k].reshape(votes.n_items, k).astype(np.float64)


def majority_vote(
    item_idx, rater_idx, label, *, n_items, n_raters, n_labels, weights=None
) -> CategoricalResult:
    """Majority vote, optionally weighted per rater.

    Shapes: ``item_idx``, ``rater_idx``, ``label`` (n_votes,) int; ``weights`` (n_raters,)
    non-negative float or None. The posterior is each label's share of the (weighted) votes.
    Tie rule: the lowest label code wins and ``ties`` marks the item; the result does not depend
    on the order of the input rows. An item whose votes all have weight 0 is treated as unvoted.
    """
    votes = prepare_votes(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    rw = None
    if weights is not None:
        rw = np.asarray(weights, dtype=np.float64)
        if rw.shape != (n_raters,):
            raise ValueError(f"weights must have shape ({n_raters},), got {rw.shape}")
        if np.any(rw < 0) or not np.all(np.isfinite(rw)):
            raise ValueError("weights must be finite and non-negative")
    counts = vote_counts(votes, rw)
    total = counts.sum(axis=1, keepdims=True)
    has = total[:, 0] > 0
    posterior = np.full_like(counts, 1.0 / n_labels)
    posterior[has] = counts[has] / total[has]
    lab, ties = argmax_lowest(counts)
    lab[~has] = 0
    ties[~has] = n_labels > 1
    n_votes = votes.effective_votes()
    if rw is not None:
        n_votes = np.where(has, n_votes, 0.0)
    return CategoricalResult(posterior=posterior, label=lab, ties=ties, n_votes=n_votes)


def gold_accuracy_weights(
    item_idx, rater_idx, label, gold, *, n_items, n_raters, n_labels, a=1.0, b=1.0
) -> np.ndarray:
    """Per-rater weights from accuracy on gold items ("weighted by experts").

    After Callison-Burch (2009), "Fast, cheap, and creative", EMNLP: each rater's vote counts in
    proportion to their agreement with expert labels. ``gold`` is (n_items,) int with -1 for
    items without a gold label. The weight is the posterior mean of the rater's accuracy under a
    Beta(a, b) prior, so raters without gold items get a / (a + b).
    Returns (n_raters,) float64.
    """
    votes = prepare_votes(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    g = np.asarray(gold, dtype=np.int64)
    if g.shape != (n_items,):
        raise ValueError(f"gold must have shape ({n_items},), got {g.shape}")
    on_gold = g[votes.item] >= 0
    right = on_gold & (g[votes.item] == votes.label)
    n = np.bincount(votes.rater, weights=on_gold, minlength=n_raters)[:n_raters]
    k = np.bincount(votes.rater, weights=right, minlength=n_raters)[:n_raters]
    return (k + a) / (n + a + b)


def _run_lengths(sorted_key: np.ndarray) -> np.ndarray:
    """(n,) for each entry of a sorted key, how many entries share its value."""
    if sorted_key.size == 0:
        return np.zeros(0)
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    run = np.diff(np.r_[starts, sorted_key.size])
    return np.repeat(run, run).astype(np.float64)


def agreement_weights(
    item_idx, rater_idx, label, *, n_items, n_raters, n_labels, a=1.0, b=1.0
) -> np.ndarray:
    """Per-rater weights from agreement with the other raters ("weighted by non-experts").

    After Callison-Burch (2009): a rater's weight is how often the other raters on the same items
    chose the same label. For each vote the agreement is the share of the other raters' votes on
    that item with the same label; votes on items nobody else labelled carry no information.
    The weight is the Beta(a, b)-smoothed mean over the rater's votes. Returns (n_raters,).
    """
    votes = prepare_votes(
        item_idx, rater_idx, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels
    )
    counts = vote_counts(votes)
    # "The others" are the other raters: a rater's own answers on the item, this one and any
    # repeat, are taken out, or a repeated answer would count as agreeing with itself.
    pair = votes.item * n_raters + votes.rater
    same = counts[votes.item, votes.label] - _run_lengths(pair * n_labels + votes.label)
    others = votes.effective_votes()[votes.item] - _run_lengths(pair)
    informative = others > 1e-9
    share = np.where(informative, same / np.where(informative, others, 1.0), 0.0)
    n = np.bincount(votes.rater, weights=informative, minlength=n_raters)[:n_raters]
    k = np.bincount(votes.rater, weights=share, minlength=n_raters)[:n_raters]
    return (k + a) / (n + a + b)


def weighted_vote(
    item_idx, rater_idx, label, *, n_items, n_raters, n_labels, gold=None, a=1.0, b=1.0
) -> CategoricalResult:
    """Weighted majority vote after Callison-Burch (2009).

    With ``gold`` ((n_items,) int, -1 where unknown) raters are weighted by their smoothed gold
    accuracy ("weighted by experts"); without it, by their agreement with the other raters
    ("weighted by non-experts"). Shapes and tie rule as in :func:`majority_vote`.
    """
    kw = {"n_items": n_items, "n_raters": n_raters, "n_labels": n_labels, "a": a, "b": b}
    if gold is not None:
        rw = gold_accuracy_weights(item_idx, rater_idx, label, gold, **kw)
    else:
        rw = agreement_weights(item_idx, rater_idx, label, **kw)
    return majority_vote(
        item_idx,
        rater_idx,
        label,
        n_items=n_items,
        n_raters=n_raters,
        n_labels=n_labels,
        weights=rw,
    )
