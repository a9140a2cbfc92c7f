"""Multi-label items: one binary aggregation per label (tag)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .categorical import majority_vote
from .dawid_skene import dawid_skene, one_coin_dawid_skene
from .glad import glad
from .mace import mace

_METHODS = {
    "majority": majority_vote,
    "dawid_skene": dawid_skene,
    "one_coin": one_coin_dawid_skene,
    "mace": mace,
    "glad": glad,
}


@dataclass(frozen=True)
class MultiLabelResult:
    """probability: (n_items, n_tags) posterior that each tag applies; label: (n_items, n_tags)
    bool, ``probability > 0.5`` (an exact 0.5 means no, the lower code); ties: (n_items,
    n_tags) bool."""

    probability: np.ndarray
    label: np.ndarray
    ties: np.ndarray


def multilabel(
    item_idx, rater_idx, tags, *, n_items, n_raters, method="dawid_skene", **kwargs
) -> MultiLabelResult:
    """Aggregate multi-label votes tag by tag with a binary categorical method.

    Shapes: ``item_idx``, ``rater_idx`` (n_votes,) int; ``tags`` (n_votes, n_tags) bool, the
    tags the rater ticked in that vote (an unticked tag is a "no" vote). Each tag is aggregated
    independently with ``method`` ("majority", "dawid_skene", "one_coin", "mace", "glad"), so
    each rater gets a separate reliability per tag.
    """
    t = np.asarray(tags, dtype=bool)
    if t.ndim != 2 or t.shape[0] != np.asarray(item_idx).shape[0]:
        raise ValueError("tags must have shape (n_votes, n_tags)")
    fn = _METHODS[method]
    prob = np.empty((n_items, t.shape[1]))
    lab = np.empty((n_items, t.shape[1]), dtype=bool)
    ties = np.empty((n_items, t.shape[1]), dtype=bool)
    for j in range(t.shape[1]):
        res = fn(
            item_idx,
            rater_idx,
            t[:, j].astype(np.int64),
            n_items=n_items,
            n_raters=n_raters,
            n_labels=2,
            **kwargs,
        )
        prob[:, j] = res.posterior[:, 1]
        lab[:, j] = res.label == 1
        ties[:, j] = res.ties
    return MultiLabelResult(probability=prob, label=lab, ties=ties)
