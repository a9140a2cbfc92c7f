"""Vox's own model for the label checks: TF-IDF + logistic regression in K-fold
cross-validation on the current aggregate labels ("noisy" labels: the ones under suspicion).

Confident learning needs out-of-sample probabilities (Northcutt et al. 2021, Section 2): each
item is predicted by a model that never saw its label, so a wrong label is not memorised.
The per-epoch probabilities for the data map, forgetting and AUM (Swayamdipta et al. 2020;
Toneva et al. 2019; Pleiss et al. 2020) are by definition in-sample: one SGD logistic
regression trained on all items, read after every epoch. No Django here; scikit-learn only,
and nothing is downloaded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import StratifiedKFold


@dataclass(frozen=True)
class NoisyCV:
    """probs: (n, K) out-of-fold; epochs: (n_epochs, n, K) in-sample after each epoch;
    extra_probs: (m, K) for texts without a label, from one model fitted on every label."""

    probs: np.ndarray
    epochs: np.ndarray
    stats: dict
    extra_probs: np.ndarray | None = None


def _full_columns(proba: np.ndarray, classes: np.ndarray, n_labels: int) -> np.ndarray:
    # A fold may lack a rare label: it gets probability 0 there, the others keep theirs.
    out = np.zeros((proba.shape[0], n_labels))
    out[:, classes] = proba
    return out


def noisy_cv_probs(
    texts: list[str],
    y,
    *,
    n_labels: int,
    n_folds: int = 5,
    n_epochs: int = 5,
    seed: int = 0,
    progress=None,
    extra_texts: list[str] | None = None,
) -> NoisyCV:
    """Out-of-fold probabilities of a TF-IDF + LogisticRegression model, and per-epoch ones
    of SGDClassifier(loss="log_loss"). texts: n strings; y: (n,) int codes in [0, n_labels).
    Folds are stratified, and fewer than n_folds when the largest label has fewer items.
    progress(share done in [0, 1]) is called after each fold and epoch. ``extra_texts``
    (items without a label) are predicted by a model fitted on all n labelled texts."""
    y = np.asarray(y, dtype=np.int64)
    n = y.size
    counts = np.bincount(y, minlength=n_labels)
    present = counts[counts > 0]
    if present.size < 2:
        raise ValueError("need at least two labels among the aggregate labels")
    if not any(t.strip() for t in texts):
        raise ValueError("the items have no text fields to learn from")
    # Stratified folds; a label rarer than the folds lands in only some of them (scikit-learn
    # warns and copes), and the folds that lack it give it probability 0.
    folds = int(min(n_folds, present.max(), n))
    # The vocabulary is fitted once on all texts: it sees no labels, so no label leaks.
    extra = list(extra_texts or [])
    everything = TfidfVectorizer(sublinear_tf=True, min_df=1, ngram_range=(1, 2)).fit_transform(
        list(texts) + extra
    )
    x, x_extra = everything[:n], everything[n:]
    probs = np.zeros((n, n_labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(x, y))
    steps, done = len(splits) + n_epochs, 0
    for train, test in splits:
        done += 1
        if progress is not None:
            progress(done / steps)
        classes = np.unique(y[train])
        if classes.size < 2:
            probs[test] = np.eye(n_labels)[classes[0]]
            continue
        model = LogisticRegression(max_iter=1000).fit(x[train], y[train])
        probs[test] = _full_columns(model.predict_proba(x[test]), model.classes_, n_labels)
    extra_probs = None
    if extra:
        model = LogisticRegression(max_iter=1000).fit(x, y)
        extra_probs = _full_columns(model.predict_proba(x_extra), model.classes_, n_labels)
    classes = np.flatnonzero(counts)
    sgd = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=seed)
    rng = np.random.default_rng(seed)
    epochs = np.zeros((n_epochs, n, n_labels))
    for e in range(n_epochs):
        done += 1
        if progress is not None:
            progress(done / steps)
        order = rng.permutation(n)
        sgd.partial_fit(x[order], y[order], classes=classes)
        epochs[e] = _full_columns(sgd.predict_proba(x), sgd.classes_, n_labels)
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
    if extra:
        stats["n_predicted_only"] = len(extra)
    return NoisyCV(probs=probs, epochs=epochs, stats=stats, extra_probs=extra_probs)
