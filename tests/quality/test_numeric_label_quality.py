"""Finding bad labels from what a model learns: quality.numeric, no database.

cleanlab (>= 2.8, Apache-2.0) is the reference for confident learning; Vox never imports it.
"""

from pathlib import Path

import numpy as np
import pytest

from aggregation.numeric import dawid_skene, majority_vote
from quality.numeric import (
    confident_joint,
    find_label_issues,
    label_quality_scores,
    model_consensus,
    per_class_thresholds,
)
from quality.numeric.confident_learning import RANKINGS, _rounded_counts

ROOT = Path(__file__).resolve().parents[2]


def noisy_classification(n=3000, k=4, flip=0.1, sharpness=6.0, seed=0):
    """Truth, noisy labels with ``flip`` of them moved to another class, and out-of-sample
    probabilities of a decent model that sees the truth (Dirichlet around it)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    alpha = np.ones((n, k))
    alpha[np.arange(n), truth] += sharpness
    probs = np.array([rng.dirichlet(a) for a in alpha])
    labels = truth.copy()
    flipped = rng.random(n) < flip
    labels[flipped] = (truth[flipped] + rng.integers(1, k, flipped.sum())) % k
    return truth, labels, probs, flipped


# ---------------------------------------------------------------- confident learning


def test_confident_learning_finds_planted_label_flips():
    _, labels, probs, flipped = noisy_classification()
    issues = find_label_issues(labels, probs)
    found = issues.is_issue
    precision = (found & flipped).sum() / found.sum()
    recall = (found & flipped).sum() / flipped.sum()
    assert precision > 0.85 and recall > 0.6
    # Ranked worst first: the ranking score never decreases along the list.
    assert np.all(np.diff(issues.quality[issues.ranked]) >= 0)
    assert set(issues.ranked) == set(np.flatnonzero(found))


def test_thresholds_and_confident_joint_match_cleanlab():
    from cleanlab.count import compute_confident_joint, get_confident_thresholds

    _, labels, probs, _ = noisy_classification(k=5, seed=1)
    np.testing.assert_allclose(
        per_class_thresholds(labels, probs), get_confident_thresholds(labels, probs)
    )
    np.testing.assert_array_equal(
        confident_joint(labels, probs, calibrate=False),
        compute_confident_joint(labels, probs, calibrate=False),
    )
    calibrated = confident_joint(labels, probs)
    # The paper's calibration (rows rescaled to the labelled counts); cleanlab returns it
    # rounded to whole items keeping each row's total, which is what pruning uses.
    np.testing.assert_allclose(calibrated.sum(axis=1), np.bincount(labels, minlength=5))
    np.testing.assert_array_equal(
        _rounded_counts(calibrated), compute_confident_joint(labels, probs, calibrate=True)
    )


@pytest.mark.parametrize("filter_by", ["prune_by_noise_rate", "prune_by_class", "both"])
def test_label_issues_are_the_ones_cleanlab_finds(filter_by):
    from cleanlab.filter import find_label_issues as cleanlab_issues

    _, labels, probs, _ = noisy_classification(k=3, flip=0.2, seed=2)
    ours = find_label_issues(labels, probs, filter_by=filter_by).is_issue
    theirs = cleanlab_issues(labels, probs, filter_by=filter_by)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("method", sorted(RANKINGS))
def test_each_ranking_orders_items_as_cleanlab_does(method):
    from cleanlab.rank import get_label_quality_scores

    _, labels, probs, _ = noisy_classification(seed=3)
    ours = label_quality_scores(labels, probs, method=method)
    theirs = get_label_quality_scores(labels, probs, method=method)
    np.testing.assert_array_equal(np.argsort(ours), np.argsort(theirs))


def test_permuting_classes_permutes_the_confident_joint():
    _, labels, probs, _ = noisy_classification(k=4, seed=4)
    perm = np.array([2, 0, 3, 1])  # new code of old class c is perm[c]
    inv = np.argsort(perm)
    joint = confident_joint(labels, probs)
    permuted = confident_joint(perm[labels], probs[:, inv])
    np.testing.assert_allclose(permuted[np.ix_(perm, perm)], joint)


# ---------------------------------------------------------------- consensus


def synthetic_crowd(n=3000, k=4, per_item=3, n_raters=30, seed=0):
    """One-coin raters of accuracy 0.55-0.75 and a good model (about 85% top-1)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    acc = rng.uniform(0.55, 0.75, n_raters)
    item = np.repeat(np.arange(n), per_item)
    rater = np.concatenate([rng.choice(n_raters, per_item, replace=False) for _ in range(n)])
    right = rng.random(item.size) < acc[rater]
    label = np.where(right, truth[item], (truth[item] + rng.integers(1, k, item.size)) % k)
    alpha = np.ones((n, k))
    alpha[np.arange(n), truth] += 5.0
    probs = np.array([rng.dirichlet(a) for a in alpha])
    return truth, item, rater, label, probs, acc


def test_consensus_recovers_the_truth_better_than_majority_and_dawid_skene():
    truth, item, rater, label, probs, _ = synthetic_crowd()
    n, k = probs.shape
    sizes = {"n_items": n, "n_raters": 30, "n_labels": k}
    res = model_consensus(item, rater, label, probs, n_raters=30)
    mv = majority_vote(item, rater, label, **sizes).label
    ds = dawid_skene(item, rater, label, **sizes).label
    ours = (res.label == truth).mean()
    assert ours > (mv == truth).mean() + 0.05
    assert ours > (ds == truth).mean() + 0.05
    assert ours > (probs.argmax(axis=1) == truth).mean()
    np.testing.assert_allclose(res.posterior.sum(axis=1), 1.0)
    np.testing.assert_allclose(res.quality, res.posterior.max(axis=1))


def test_rater_quality_follows_rater_accuracy():
    truth, item, rater, label, probs, acc = synthetic_crowd(n=4000, seed=5)
    res = model_consensus(item, rater, label, probs, n_raters=30)
    assert np.corrcoef(res.rater_quality, acc)[0, 1] > 0.8
    assert np.corrcoef(res.rater_weight, acc)[0, 1] > 0.8


def test_an_item_without_votes_gets_the_model_alone():
    truth, item, rater, label, probs, _ = synthetic_crowd(n=500, seed=6)
    keep = item != 0
    res = model_consensus(item[keep], rater[keep], label[keep], probs, n_raters=30)
    assert res.n_votes[0] == 0
    assert res.label[0] == probs[0].argmax()


def test_permuting_classes_permutes_the_consensus():
    truth, item, rater, label, probs, _ = synthetic_crowd(n=800, seed=7)
    perm = np.array([3, 1, 0, 2])
    res = model_consensus(item, rater, label, probs, n_raters=30)
    res_p = model_consensus(item, rater, perm[label], probs[:, np.argsort(perm)], n_raters=30)
    np.testing.assert_array_equal(res_p.label, perm[res.label])
    np.testing.assert_allclose(res_p.quality, res.quality)
