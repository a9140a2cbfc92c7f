"""Vox's own model for the label checks: TF-IDF + logistic regression in K-fold
cross-validation on the current aggregate labels ("noisy" labels: the ones under suspicion).

Confident learning needs out-of-sample probabilities (Northcutt et al. 2021, Section 2): each
item is predicted by a model that never saw its label, so a wrong label is not memorised.
The per-epoch probabilities for the data map, forgetting and AUM (Swayamdipta et al. 2020;
Toneva et al. 2019; Pleiss et al. 2020) are by definition in-sample: one SGD logistic
regression trained on all items, read after every epoch. No Django here; scikit-learn only,
and nothing is downloaded.

Two learners, named in LEARNERS; a label kind says which one reads its items
(`Kind.model_learner`) and what it reads of one item (`Kind.model_example`):

- "text": one classifier over each item's text (`noisy_cv_probs`).
- "preference": a classifier of which of two texts is better (`noisy_cv_preference_probs`),
  on the difference of their TF-IDF vectors and trained on both orders of every pair, so the
  side a text is on says nothing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold


@dataclass(frozen=True)
class NoisyCV:
    """probs: (n, K) out-of-fold; epochs: (n_epochs, n, K) in-sample after each epoch;
    extra_probs: (m, K) for the m unlabelled examples, from one model fitted on every label."""

    probs: np.ndarray
    epochs: np.ndarray
    stats: dict
    extra_probs: np.ndarray | None = None


def _full_columns(proba: np.ndarray, classes: np.ndarray, n_labels: int) -> np.ndarray:
    # A fold may lack a rare label: it gets probability 0 there, the others keep theirs.
    out = np.zeros((proba.shape[0], n_labels))
    out[:, classes] = proba
    return out


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, min_df=1, ngram_range=(1, 2))


def noisy_cv_probs(
    texts: list[str],
    y,
    *,
    n_labels: int,
    n_folds: int = 5,
    n_epochs: int = 5,
    seed: int = 0,
    progress=None,
    extra: list[str] | None = None,
) -> NoisyCV:
    """Out-of-fold probabilities of a TF-IDF + LogisticRegression model, and per-epoch ones
    of SGDClassifier(loss="log_loss"). texts: n strings; y: (n,) int codes in [0, n_labels).
    Folds are stratified, and fewer than n_folds when the largest label has fewer items.
    progress(share done in [0, 1]) is called after each fold and epoch."""
    y = np.asarray(y, dtype=np.int64)
    if np.unique(y).size < 2:
        raise ValueError("need at least two labels among the aggregate labels")
    if not any(t.strip() for t in texts):
        raise ValueError("the items have no text fields to learn from")
    # The vocabulary is fitted once on all texts: it sees no labels, so no label leaks.
    # `extra` (items without a label) only get predicted: rows past len(y).
    x = _vectorizer().fit_transform(list(texts) + list(extra or []))
    fit = _cross_validate(x, y, n_labels, n_folds, n_epochs, seed, progress)
    return NoisyCV(fit.probs, fit.epochs, {"learner": "text", **fit.stats}, fit.extra_probs)


def noisy_cv_preference_probs(
    pairs: list[tuple[str, str, str]],
    y,
    *,
    n_labels: int,
    swap,
    n_folds: int = 5,
    n_epochs: int = 5,
    seed: int = 0,
    progress=None,
    extra: list[tuple[str, str, str]] | None = None,
) -> NoisyCV:
    """noisy_cv_probs for preferences: pairs are n (context, first, second) texts, e.g. a
    prompt and two responses; y: (n,) label codes; swap: (n_labels,) the code each label
    becomes when first and second trade places (A better <-> B better; a tie stays a tie).

    Features: [tfidf(first) - tfidf(second), |tfidf(first) - tfidf(second)|, tfidf(context)].
    The first block changes sign with the order, the others do not. Every training pair is
    also fed swapped with its label swapped, and every prediction is the mean of the pair's
    two orders (the swapped one mapped back), so P(A better | a, b) = P(B better | b, a)
    holds exactly: the model has no position bias to lend the suspects. A three-way output
    follows from that symmetry: the order-blind blocks can only move the labels that stay
    put under a swap (tie) against the others, and the difference block moves "first" against
    "second", so a tie is likelier where the texts differ little or the prompt is one that
    raters tie on. The context cannot say which side is better, only how tie-prone a pair is.
    """
    y = np.asarray(y, dtype=np.int64)
    swap = np.asarray(swap, dtype=np.int64)
    if sorted(swap.tolist()) != list(range(n_labels)) or (swap[swap] != np.arange(n_labels)).any():
        raise ValueError("swap must pair up the labels (a permutation that is its own inverse)")
    # A project whose aggregate is always "A" still has two labels once pairs are mirrored.
    if np.unique(np.concatenate([y, swap[y]])).size < 2:
        raise ValueError("need at least two labels among the aggregate labels")
    everything = list(pairs) + list(extra or [])  # `extra`: predicted only, rows past len(y)
    context, first, second = (
        (list(t) for t in zip(*everything, strict=True)) if everything else ([],) * 3
    )
    if not any(t.strip() for t in first[: y.size] + second[: y.size]):
        raise ValueError("the items have no responses to learn from")
    # One vocabulary for both sides, so a word counts the same on either; it sees no labels.
    vec = _vectorizer().fit(context + first + second)
    diff = (vec.transform(first) - vec.transform(second)).tocsr()
    same = sp.hstack([abs(diff), vec.transform(context)]).tocsr()
    x = sp.hstack([diff, same]).tocsr()
    x_swapped = sp.hstack([-diff, same]).tocsr()
    fit = _cross_validate(x, y, n_labels, n_folds, n_epochs, seed, progress, (x_swapped, swap))
    return NoisyCV(fit.probs, fit.epochs, {"learner": "preference", **fit.stats}, fit.extra_probs)


# What modelruns.services calls, by the name a kind gives (Kind.model_learner).
LEARNERS = {"text": noisy_cv_probs, "preference": noisy_cv_preference_probs}


def _cross_validate(x, y, n_labels, n_folds, n_epochs, seed, progress, mirror=None) -> NoisyCV:
    """The folds and the epochs over features x (n labelled rows, then any rows only to
    predict, by one model fitted on all n). mirror: (x of the swapped items, label codes under
    the swap) to train on both orders and predict their mean."""
    n = y.size
    counts = np.bincount(y, minlength=n_labels)

    def rows(idx):
        if mirror is None:
            return x[idx], y[idx]
        x_swapped, swap = mirror
        return sp.vstack([x[idx], x_swapped[idx]]).tocsr(), np.concatenate([y[idx], swap[y[idx]]])

    def predict(model, idx):
        p = _full_columns(model.predict_proba(x[idx]), model.classes_, n_labels)
        if mirror is None:
            return p
        # Column j of the swapped pair's row is its label j, the original's label swap[j].
        q = _full_columns(model.predict_proba(mirror[0][idx]), model.classes_, n_labels)
        return 0.5 * (p + q[:, mirror[1]])

    # Stratified folds; a label rarer than the folds lands in only some of them (scikit-learn
    # warns and copes), and the folds that lack it give it probability 0.
    folds = int(min(n_folds, counts.max(), n))
    probs = np.zeros((n, n_labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(np.zeros(n), y))
    steps, done = len(splits) + n_epochs, 0
    for train, test in splits:
        done += 1
        if progress is not None:
            progress(done / steps)
        x_train, y_train = rows(train)
        classes = np.unique(y_train)
        if classes.size < 2:
            probs[test] = np.eye(n_labels)[classes[0]]
            continue
        model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
        probs[test] = predict(model, test)
    x_all, y_all = rows(np.arange(n))
    extra_probs = None
    if x.shape[0] > n:
        model = LogisticRegression(max_iter=1000).fit(x_all, y_all)
        extra_probs = predict(model, np.arange(n, x.shape[0]))
    classes = np.unique(y_all)
    sgd = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=seed)
    rng = np.random.default_rng(seed)
    epochs = np.zeros((n_epochs, n, n_labels))
    for e in range(n_epochs):
        done += 1
        if progress is not None:
            progress(done / steps)
        order = rng.permutation(y_all.size)
        sgd.partial_fit(x_all[order], y_all[order], classes=classes)
        epochs[e] = predict(sgd, np.arange(n))  # the labelled rows only
    # SGD's one-vs-rest probabilities are normalised by scikit-learn; zero rows cannot occur,
    # but a tiny floor keeps every row a distribution after rounding.
    epochs = np.maximum(epochs, 1e-12)
    epochs /= epochs.sum(axis=-1, keepdims=True)
    stats = {
        "n_folds": folds,
        "n_epochs": n_epochs,
        "n_items": int(n),
        "cv_accuracy": round(float((probs.argmax(axis=1) == y).mean()), 4),
    }
    if extra_probs is not None:
        stats["n_predicted_only"] = int(x.shape[0] - n)
    return NoisyCV(probs=probs, epochs=epochs, stats=stats, extra_probs=extra_probs)
