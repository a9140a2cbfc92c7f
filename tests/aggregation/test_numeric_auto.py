"""``auto``: the truth-free choice of a categorical method, and its guards on tiny data."""

import numpy as np
import pytest

from aggregation import numeric
from aggregation.numeric._votes import prepare_votes
from aggregation.numeric.auto import CANDIDATES, keep_unanimous, unreliable_from_gold
from aggregation.numeric.io import read_labels_csv, read_truth_csv
from aggregation.numeric.synthetic import synthetic_crowd
from tests.aggregation.shared_crowds import DATASETS, NAMES

A, B = 0, 1
# The pilot of issue 20: 6 pairwise items, 2 raters; both raters chose B on pw-2, and
# Dawid–Skene, which cannot be identified on two raters, ran 100 rounds and labelled it A.
PILOT = [(A, A), (B, B), (B, A), (A, B), (B, A), (A, A)]


def crowd_of(table, n_labels):
    """Votes from table[i][r] (None: no answer) as numeric arguments."""
    rows = [(i, r, v) for i, row in enumerate(table) for r, v in enumerate(row) if v is not None]
    item, rater, label = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    n_raters = max(len(row) for row in table)
    shape = {"n_items": len(table), "n_raters": n_raters, "n_labels": n_labels}
    return (item, rater, label), shape


def accuracy(res, truth):
    return float(np.mean(res.label == truth))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_beats_majority_vote_on_a_synthetic_crowd_with_spammers(seed):
    c = synthetic_crowd(5000, n_labels=3, per_item=5, spammers=0.3, rng=seed)
    votes = (c.item_idx, c.rater_idx, c.label)
    shape = {"n_items": c.n_items, "n_raters": c.n_raters, "n_labels": c.n_labels}
    res = numeric.auto(*votes, **shape)
    mv = numeric.majority_vote(*votes, **shape)
    assert res.method in ("one_coin", "glad", "mace", "dawid_skene")
    assert accuracy(res, c.truth) >= accuracy(mv, c.truth) + 0.03
    best = max(accuracy(numeric.dawid_skene(*votes, **shape), c.truth), accuracy(mv, c.truth))
    assert accuracy(res, c.truth) >= best - 0.04


@pytest.mark.parametrize("name", NAMES)
def test_auto_is_within_half_a_point_of_the_best_method_on_each_shared_crowd(name):
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset not found at {folder}")
    t = read_labels_csv(folder / "labels.csv")
    truth = read_truth_csv(folder / "truth.csv", t)
    votes = (t.item_idx, t.rater_idx, t.label)
    res = numeric.auto(*votes, **t.sizes)
    fits = {
        "majority": numeric.majority_vote,
        "dawid_skene": numeric.dawid_skene,
        "one_coin": numeric.one_coin_dawid_skene,
        "mace": numeric.mace,
        "glad": numeric.glad,
    }
    best = max(accuracy(fn(*votes, **t.sizes), truth) for fn in fits.values())
    assert accuracy(res, truth) >= best - 0.005, res.reason
    assert res.scores[res.method]["held_out_log_likelihood"] == max(
        s["held_out_log_likelihood"] for s in res.scores.values() if s["eligible"]
    )
    assert "held-out log-likelihood" in res.reason


def test_a_two_rater_pilot_falls_back_to_the_vote_and_keeps_both_raters_b():
    votes, shape = crowd_of(PILOT, 3)
    ds = numeric.dawid_skene(*votes, **shape)
    assert not ds.converged and ds.label[1] == A, "the pilot no longer shows the failure"
    res = numeric.auto(*votes, **shape)
    assert res.method == "majority"
    assert res.label.tolist() == [A, B, A, A, A, A]
    assert "a median of 2 rater(s) per item" in res.reason
    assert [m for m in CANDIDATES if res.scores[m]["eligible"]] == ["majority"]
    np.testing.assert_allclose(res.posterior.sum(axis=1), 1.0)


def test_a_crowd_collected_with_dynamic_overlap_can_fit_a_rater_model():
    # Most items stop at two agreeing votes; every split gets a third, as dynamic overlap
    # collects them. Over all items the median is 2, yet every disagreement has a third
    # vote: rater models are identified, and held-out likelihood chooses among them all.
    rng = np.random.default_rng(0)
    n_items, n_raters = 600, 30
    accuracy = np.where(np.arange(n_raters) < 12, 0.5, 0.9)  # 40 % are coin-flippers
    truth = rng.integers(0, 2, n_items)
    item, rater, label = [], [], []
    for i in range(n_items):
        said = []
        for r in rng.permutation(n_raters)[:3]:
            right = rng.random() < accuracy[r]
            said.append(truth[i] if right else 1 - truth[i])
            item.append(i), rater.append(r), label.append(said[-1])
            if len(said) == 2 and said[0] == said[1]:
                break
    votes = (np.array(item), np.array(rater), np.array(label))
    shape = {"n_items": n_items, "n_raters": n_raters, "n_labels": 2}
    assert np.median(np.bincount(votes[0])) == 2
    res = numeric.auto(*votes, **shape)
    for method in ("one_coin", "mace", "dawid_skene"):
        assert res.scores[method]["eligible"], res.scores[method]["note"]
        assert res.scores[method]["held_out_log_likelihood"] is not None
    assert "held-out log-likelihood" in res.reason
    # The same crowd cut to its first two votes per item is not identified: splits stay 1-1.
    first_two = np.concatenate([[True], votes[0][1:] != votes[0][:-1]])
    first_two |= np.concatenate([[False], first_two[:-1]]) & ~first_two
    pilot = numeric.auto(*(v[first_two] for v in votes), **shape)
    assert pilot.method == "majority" and "per item where raters disagree" in pilot.reason


def test_a_one_rater_crowd_gets_that_raters_labels():
    votes, shape = crowd_of([[2], [0], [1], [1], [0]], 3)
    res = numeric.auto(*votes, **shape)
    assert res.label.tolist() == [2, 0, 1, 1, 0]
    assert res.method == "majority" and "1 rater(s) per item" in res.reason


@pytest.mark.parametrize("seed", range(30))
def test_unanimous_items_are_never_flipped_on_tiny_data(seed):
    rng = np.random.default_rng(seed)
    n_items, n_raters, k = rng.integers(3, 9), rng.integers(1, 5), rng.integers(2, 4)
    table = [
        [int(rng.integers(0, k)) if rng.random() < 0.8 else None for _ in range(n_raters)]
        for _ in range(n_items)
    ]
    table = [row if any(v is not None for v in row) else [0] + row[1:] for row in table]
    votes, shape = crowd_of(table, int(k))
    res = numeric.auto(*votes, **shape)
    for i, row in enumerate(table):
        given = {v for v in row if v is not None}
        if len(given) == 1:
            assert res.label[i] == given.pop(), (table, res.reason)


def test_the_guard_puts_back_a_flipped_unanimous_label_unless_every_rater_on_it_is_unreliable():
    votes, shape = crowd_of([[1, 1, None], [0, None, 1], [None, 0, 0]], 2)
    prepared = prepare_votes(*votes, **shape)
    model_label = np.array([0, 0, 1])  # flips items 0 and 2, both unanimous
    posterior = np.eye(2)[model_label]
    nobody = np.zeros(3, bool)
    label, post, kept = keep_unanimous(prepared, model_label, posterior, nobody)
    assert label.tolist() == [1, 0, 0] and kept.tolist() == [True, False, True]
    np.testing.assert_allclose(post[0], [0.0, 1.0])
    # Gold says raters 1 and 2, the only ones on item 2, are unreliable: the model may flip it.
    label, _, kept = keep_unanimous(prepared, model_label, posterior, np.array([0, 1, 1], bool))
    assert label.tolist() == [1, 0, 1] and kept.tolist() == [True, False, False]


def test_gold_marks_raters_who_are_credibly_wrong_more_often_than_right():
    table = [[i % 2, 1 - i % 2, i % 2 if i < 3 else None] for i in range(12)]
    votes, shape = crowd_of(table, 2)
    prepared = prepare_votes(*votes, **shape)
    gold = np.arange(12) % 2
    # Rater 0 is always right, rater 1 always wrong (12 of 12), rater 2 right on its 3 only.
    assert unreliable_from_gold(prepared, gold).tolist() == [False, True, False]


def test_with_enough_gold_auto_picks_the_method_most_accurate_on_it():
    folder = DATASETS / "welinder_bluebird"
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset not found at {folder}")
    t = read_labels_csv(folder / "labels.csv")
    truth = read_truth_csv(folder / "truth.csv", t)
    gold = np.where(np.arange(truth.size) % 4 == 0, truth, -1)
    res = numeric.auto(t.item_idx, t.rater_idx, t.label, gold=gold, **t.sizes)
    eligible = {m: s["gold_accuracy"] for m, s in res.scores.items() if s["eligible"]}
    assert res.scores[res.method]["gold_accuracy"] == max(eligible.values())
    assert res.method == "dawid_skene" and "gold items" in res.reason
    assert eligible["one_coin"] < 0.7  # welinder's asymmetric errors defeat one-coin


def test_auto_does_not_depend_on_the_order_of_the_rows():
    c = synthetic_crowd(2000, n_labels=3, per_item=5, spammers=0.3, rng=4)
    shape = {"n_items": c.n_items, "n_raters": c.n_raters, "n_labels": c.n_labels}
    order = np.random.default_rng(9).permutation(c.label.size)
    one = numeric.auto(c.item_idx, c.rater_idx, c.label, **shape)
    two = numeric.auto(c.item_idx[order], c.rater_idx[order], c.label[order], **shape)
    assert one.method == two.method and one.scores == two.scores
    np.testing.assert_allclose(one.posterior, two.posterior)


def adversary_crowd():
    """30 items labelled right by raters 0-2 and wrong by rater 3, then one item that only
    rater 3 labelled: a fitted rater model reads rater 3 backwards and would flip it."""
    truth = np.arange(30) % 2
    table = [[t, t, t, 1 - t] for t in truth] + [[None, None, None, 1]]
    return crowd_of(table, 2)


def test_a_unanimous_item_is_overruled_only_when_gold_says_its_raters_are_unreliable():
    votes, shape = adversary_crowd()
    kept = numeric.auto(*votes, **shape)
    assert kept.method != "majority" and kept.model.label[30] == 0
    assert kept.label[30] == 1 and kept.n_kept_unanimous == 1
    assert "kept the raters' unanimous label on 1 item(s)" in kept.reason
    overruled = numeric.auto(*votes, **shape, unreliable=np.array([0, 0, 0, 1], bool))
    assert overruled.label[30] == 0 and overruled.n_kept_unanimous == 0
