"""Synthetic crowds with known truth, for benchmarks and tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SyntheticCrowd:
    """item_idx, rater_idx, label: (n_votes,) int64; truth: (n_items,) int64;
    kind: (n_raters,) 0 = honest, 1 = uniform spammer, 2 = always the same label."""

    item_idx: np.ndarray
    rater_idx: np.ndarray
    label: np.ndarray
    truth: np.ndarray
    kind: np.ndarray
    n_items: int
    n_raters: int
    n_labels: int


def synthetic_crowd(
    n_votes: int,
    *,
    n_labels: int = 5,
    per_item: int = 10,
    n_raters: int | None = None,
    spammers: float = 0.2,
    constant: float = 0.1,
    rng=None,
) -> SyntheticCrowd:
    """A crowd of ``n_votes`` labels, ``per_item`` distinct raters per item.

    Honest raters are right with a probability drawn from U(0.55, 0.95); half of their errors go
    to the "next" class, the rest uniformly elsewhere, so full confusion matrices matter. A
    share ``spammers`` of the raters answer uniformly at random and a share ``constant`` always
    give the same label. The class balance is drawn from a Dirichlet(5) distribution.
    ``n_raters`` defaults to one per thousand votes, between 20 and 10,000.
    """
    rng = np.random.default_rng(rng)
    k = n_labels
    n_items = max(1, n_votes // per_item)
    if n_raters is None:
        n_raters = int(np.clip(n_votes // 1000, 20, 10_000))
    if n_raters < per_item:
        raise ValueError("need at least per_item raters")
    truth = rng.choice(k, size=n_items, p=rng.dirichlet(np.full(k, 5.0)))
    # Distinct raters per item without a Python loop: an arithmetic progression modulo
    # n_raters whose stride keeps the per_item terms apart.
    base = rng.integers(0, n_raters, n_items)
    stride = rng.integers(1, max(2, (n_raters - 1) // max(per_item - 1, 1) + 1), n_items)
    steps = np.arange(per_item)
    rater = ((base[:, None] + steps[None, :] * stride[:, None]) % n_raters).ravel()
    item = np.repeat(np.arange(n_items), per_item)
    kind = rng.choice(3, size=n_raters, p=[1.0 - spammers - constant, spammers, constant])
    acc = rng.uniform(0.55, 0.95, n_raters)
    favourite = rng.integers(0, k, n_raters)
    t = truth[item]
    right = rng.random(item.size) < acc[rater]
    if k > 1:
        shift = np.where(rng.random(item.size) < 0.5, 1, rng.integers(1, k, item.size))
        wrong = (t + shift) % k
    else:
        wrong = t
    label = np.where(right, t, wrong)
    kv = kind[rater]
    label = np.where(kv == 1, rng.integers(0, k, item.size), label)
    label = np.where(kv == 2, favourite[rater], label)
    return SyntheticCrowd(
        item_idx=item.astype(np.int64),
        rater_idx=rater.astype(np.int64),
        label=label.astype(np.int64),
        truth=truth.astype(np.int64),
        kind=kind,
        n_items=n_items,
        n_raters=n_raters,
        n_labels=k,
    )


def with_repeats(item_idx, rater_idx, label, *, n_labels: int, share=0.2, changed=0.3, rng=None):
    """The votes plus a second answer from the same rater on a share of them, for testing the
    duplicate rule on real crowds (whose published files hold no repeats).

    A share ``share`` of the rows, drawn without replacement, is answered again by the same
    rater on the same item, as a re-import or a second pass would leave it; a share ``changed``
    of those second answers is a different label, drawn uniformly from the others (a rater who
    changed their mind). Returns (item_idx, rater_idx, label) with the repeats appended.
    """
    rng = np.random.default_rng(rng)
    item_idx, rater_idx, label = (
        np.asarray(a, dtype=np.int64) for a in (item_idx, rater_idx, label)
    )
    pick = rng.choice(label.size, size=int(round(share * label.size)), replace=False)
    again = label[pick].copy()
    flip = rng.random(pick.size) < changed
    if n_labels > 1:
        # A shift of 1..K-1 modulo K lands uniformly on the other labels.
        again[flip] = (again[flip] + rng.integers(1, n_labels, flip.sum())) % n_labels
    return (
        np.concatenate([item_idx, item_idx[pick]]),
        np.concatenate([rater_idx, rater_idx[pick]]),
        np.concatenate([label, again]),
    )
