"""Finding bad labels from what a model learns: quality.numeric, no database.

cleanlab (>= 2.8, Apache-2.0) is the reference for confident learning; Vox never imports it.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aggregation.numeric import dawid_skene, majority_vote
from quality.numeric import (
    area_under_margin,
    assign_threshold_samples,
    aum_threshold,
    confident_joint,
    data_map,
    find_label_issues,
    forgetting_events,
    label_quality_scores,
    model_consensus,
    per_class_thresholds,
    softmax_regression_checkpoints,
    suspect_scores,
    tracin_self_influence,
    tracin_self_influence_from_probs,
)
from quality.numeric.confident_learning import RANKINGS, _rounded_counts
from quality.numeric.suspects import percentile_rank

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


# ---------------------------------------------------------------- training dynamics


def test_data_map_gives_mean_spread_and_share_correct_of_the_given_label():
    # 2 items, 2 classes, 4 epochs; item 0 labelled 0, item 1 labelled 1.
    p0 = np.array([0.2, 0.6, 0.8, 0.8])  # p(class 0) for item 0
    p1 = np.array([0.9, 0.9, 0.9, 0.9])  # p(class 0) for item 1
    probs = np.stack([np.stack([p0, 1 - p0], axis=1), np.stack([p1, 1 - p1], axis=1)], axis=1)
    m = data_map(probs, np.array([0, 1]))
    np.testing.assert_allclose(m.confidence, [0.6, 0.1])
    np.testing.assert_allclose(m.variability, [np.std(p0), 0.0], atol=1e-12)
    np.testing.assert_allclose(m.correctness, [0.75, 0.0])


def test_an_item_learned_then_forgotten_counts_one_forgetting_event():
    # Correct at epochs 1 and 3 (0-based), wrong at 0, 2: learned, forgotten, relearned.
    top = np.array([[1, 0, 0], [0, 0, 0], [1, 0, 1], [0, 0, 0]])  # (epochs, items) top class
    probs = np.eye(2)[top]  # one-hot probabilities
    f = forgetting_events(probs, np.array([0, 0, 1]))
    np.testing.assert_array_equal(f.n_forgotten, [1, 0, 1])
    np.testing.assert_array_equal(f.first_learned, [1, 0, 2])
    np.testing.assert_array_equal(f.never_learned, [False, False, False])
    g = forgetting_events(probs, np.array([1, 1, 1]))  # item 1 is never its label 1
    assert g.never_learned[1] and g.score[1] == 4.0


def test_an_item_whose_margin_stays_negative_has_low_aum():
    logits = np.array(
        [
            [[3.0, 0.0, 1.0], [0.0, 2.0, 0.0]],
            [[4.0, 0.0, 1.0], [0.0, 3.0, 1.0]],
        ]
    )  # (2 epochs, 2 items, 3 classes)
    aum = area_under_margin(logits, np.array([0, 0]))
    # item 0: margins 3-1 and 4-1; item 1: 0-2 and 0-3.
    np.testing.assert_allclose(aum, [2.5, -2.5])


def test_threshold_samples_are_one_class_worth_and_set_the_99th_percentile():
    labels = np.repeat(np.arange(4), 250)
    new, is_thr = assign_threshold_samples(labels, 4, rng=0)
    assert is_thr.sum() == 1000 // 5
    assert np.all(new[is_thr] == 4) and np.all(new[~is_thr] == labels[~is_thr])
    aum = np.where(is_thr, np.linspace(-3, -1, 1000), 2.0)
    assert aum_threshold(aum, is_thr) == pytest.approx(np.percentile(aum[is_thr], 99))


def test_aum_with_threshold_samples_flags_flipped_labels_of_a_trained_model():
    rng = np.random.default_rng(8)
    k, n = 3, 900
    truth = np.repeat(np.arange(k), n // k)
    centres = np.array([[4.0, 0.0], [-2.0, 3.5], [-2.0, -3.5]])
    x = centres[truth] + rng.normal(size=(n, 2))
    labels = truth.copy()
    flipped = rng.choice(n, 30, replace=False)
    labels[flipped] = (truth[flipped] + 1) % k
    train, is_thr = assign_threshold_samples(labels, k, rng=1)
    ckpts, _ = softmax_regression_checkpoints(x, train, n_labels=k + 1, n_epochs=30)
    logits = np.stack([np.hstack([x, np.ones((n, 1))]) @ w for w in ckpts[1:]])
    aum = area_under_margin(logits, train)
    cut = aum_threshold(aum, is_thr)
    flagged = (aum < cut) & ~is_thr
    real_flips = np.zeros(n, bool)
    real_flips[flipped] = True
    real_flips &= ~is_thr
    assert (flagged & real_flips).sum() >= 0.8 * real_flips.sum()
    assert (flagged & ~real_flips).sum() <= 0.05 * (~real_flips).sum()


# ---------------------------------------------------------------- influence


def separable_with_one_flip(seed=9):
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.normal(-3, 0.5, (100, 2)), rng.normal(3, 0.5, (100, 2))])
    labels = np.repeat([0, 1], 100)
    labels[17] = 1  # deep inside class 0
    return x, labels


def test_self_influence_ranks_a_flipped_label_first_on_a_separable_set():
    x, labels = separable_with_one_flip()
    ckpts, _ = softmax_regression_checkpoints(x, labels, n_labels=2, n_epochs=15)
    influence = tracin_self_influence(x, labels, ckpts, learning_rates=0.5)
    assert np.argmax(influence) == 17


def test_self_influence_is_the_squared_norm_of_the_outer_product_gradient():
    rng = np.random.default_rng(10)
    x = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    w = rng.normal(size=(2, 4, 3))
    xi = np.hstack([x, np.ones((5, 1))])
    expected = np.zeros(5)
    for t in range(2):
        z = xi @ w[t]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        for i in range(5):
            grad = np.outer(xi[i], p[i] - np.eye(3)[labels[i]])  # dLoss/dW, shape (d+1, K)
            expected[i] += 0.1 * (grad**2).sum()
    np.testing.assert_allclose(
        tracin_self_influence(x, labels, w, learning_rates=0.1), expected, rtol=1e-12
    )


def test_self_influence_from_saved_probabilities_equals_the_one_from_checkpoints():
    x, labels = separable_with_one_flip(seed=11)
    ckpts, probs = softmax_regression_checkpoints(x, labels, n_labels=2, n_epochs=8)
    np.testing.assert_allclose(
        tracin_self_influence_from_probs(probs, labels, x),
        tracin_self_influence(x, labels, ckpts),
        rtol=1e-5,
    )


# ---------------------------------------------------------------- combined score


def test_with_probabilities_alone_the_suspect_score_is_one_minus_self_confidence():
    _, labels, probs, _ = noisy_classification(n=500, seed=12)
    s = suspect_scores(labels, pred_probs=probs)
    np.testing.assert_allclose(s.score, 1 - probs[np.arange(500), labels])
    assert np.all(np.diff(s.score[s.order]) <= 0)
    assert set(s.reasons) == {"confident_learning"}


def test_the_combined_score_puts_a_flip_flagged_by_every_score_first():
    x, labels = separable_with_one_flip()
    ckpts, probs = softmax_regression_checkpoints(x, labels, n_labels=2, n_epochs=15)
    logits = np.stack([np.hstack([x, np.ones((200, 1))]) @ w for w in ckpts])
    s = suspect_scores(
        labels,
        pred_probs=probs[-1],
        aum=area_under_margin(logits, labels),
        forgetting=forgetting_events(probs, labels),
        data_map=data_map(probs, labels),
        self_influence=tracin_self_influence(x, labels, ckpts),
    )
    assert s.order[0] == 17
    assert {"low_aum", "high_self_influence", "never_learned"} <= set(s.reasons_of(17))
    assert 0 <= s.score.min() and s.score.max() <= 1


def test_percentile_ranks_share_ties():
    np.testing.assert_allclose(percentile_rank([3.0, 1.0, 3.0, 2.0]), [5 / 6, 0, 5 / 6, 1 / 3])


# ---------------------------------------------------------------- command line


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "quality.numeric", *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_prints_confident_learning_issues_as_csv(tmp_path):
    # Four items labelled 0, two labelled 1; the model puts "d" confidently in class 1.
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.85, 0.15], [0.1, 0.9], [0.2, 0.8], [0.05, 0.95]])
    np.save(tmp_path / "p.npy", probs)
    (tmp_path / "labels.csv").write_text("item,label\na,0\nb,0\nc,0\nd,0\ne,1\nf,1\n")
    proc = run_cli("issues", tmp_path / "labels.csv", tmp_path / "p.npy")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["item,label,quality,issue,suggested", "d,0,0.100000,1,1"]


def test_cli_prints_the_consensus_of_raters_and_model_as_csv(tmp_path):
    np.save(tmp_path / "p.npy", np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]]))
    (tmp_path / "votes.csv").write_text(
        "item,worker,label\nx,w1,0\nx,w2,0\ny,w1,1\ny,w2,1\nz,w1,1\nz,w2,0\n"
    )
    proc = run_cli("consensus", tmp_path / "votes.csv", tmp_path / "p.npy")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "item,label,quality,n_votes"
    assert [line.split(",")[:2] + line.split(",")[3:] for line in lines[1:]] == [
        ["x", "0", "2"],
        ["y", "1", "2"],
        ["z", "0", "2"],  # a 1-1 split: the model breaks it
    ]
    assert "model weight" in proc.stderr


def test_cli_refuses_a_label_that_is_not_a_column_and_exits_with_2(tmp_path):
    np.save(tmp_path / "p.npy", np.array([[0.5, 0.5]]))
    (tmp_path / "labels.csv").write_text("item,label\na,7\n")
    proc = run_cli("issues", tmp_path / "labels.csv", tmp_path / "p.npy")
    assert proc.returncode == 2
    assert "labels.csv:2: label 7 is outside 0..1" in proc.stderr


def test_the_scale_benchmark_prints_time_and_peak_memory_of_every_score():
    proc = subprocess.run(
        [sys.executable, "bench/model_loop.py", "--scale", "--items", "5000"],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    scale = json.loads(proc.stdout)["scale"]
    assert scale["n_items"] == 5000 and scale["peak_rss_mb"] > 0
    assert {"find_label_issues", "model_consensus", "area_under_margin", "suspect_scores"} <= set(
        scale["steps_s"]
    )
