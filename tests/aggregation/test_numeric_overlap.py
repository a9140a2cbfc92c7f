"""Dynamic overlap: the stop rule per label kind, the queue priority, and the replay benchmark."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aggregation import numeric
from aggregation.numeric.overlap import AGE_RANKS, PRIORITY_MAX, one_coin_confusion
from aggregation.numeric.pairwise import LEFT, RIGHT, TIE
from aggregation.numeric.synthetic import synthetic_crowd

ROOT = Path(__file__).resolve().parents[2]
SPAMMER = np.full((2, 2), 0.5)


def trusted(n, accuracy=0.9, k=2):
    return one_coin_confusion(np.full(n, accuracy), k)


# -- categorical --------------------------------------------------------------------------------


def test_two_trusted_raters_agreeing_stop_a_binary_item_at_a_090_target():
    d = numeric.categorical_stop([1, 1], trusted(2), min_raters=2, max_raters=5, target=0.9)
    assert d.done and d.reason == "confident"
    # 0.9 * 0.9 against 0.1 * 0.1, by hand.
    np.testing.assert_allclose(d.posterior, [0.01 / 0.82, 0.81 / 0.82])
    assert d.estimate == pytest.approx(0.81 / 0.82)


def test_a_spammers_agreement_does_not_stop_an_item():
    conf = np.stack([SPAMMER, SPAMMER, SPAMMER])
    d = numeric.categorical_stop([1, 1, 1], conf, min_raters=2, max_raters=5, target=0.9)
    assert not d.done and d.reason == "unsure"
    np.testing.assert_allclose(d.posterior, [0.5, 0.5])
    # A trusted rater of 0.8 with a spammer agreeing is still one 0.8 vote.
    conf = np.stack([trusted(1, 0.8)[0], SPAMMER])
    d = numeric.categorical_stop([0, 0], conf, min_raters=2, max_raters=5, target=0.9)
    assert not d.done and d.posterior[0] == pytest.approx(0.8)


def test_max_raters_stops_an_item_however_split_its_votes_are():
    d = numeric.categorical_stop([0, 1, 0, 1], trusted(4), min_raters=2, max_raters=4, target=0.9)
    assert d.done and d.reason == "max_raters"
    np.testing.assert_allclose(d.posterior, [0.5, 0.5])


def test_min_raters_holds_even_a_near_certain_single_vote():
    d = numeric.categorical_stop([1], trusted(1, 0.999), min_raters=2, max_raters=5, target=0.9)
    assert not d.done and d.reason == "min_raters" and d.estimate > 0.99
    d = numeric.categorical_stop([1], trusted(1, 0.999), min_raters=1, max_raters=5, target=0.9)
    assert d.done


def test_the_class_prior_enters_the_posterior():
    d = numeric.categorical_stop(
        [1], trusted(1, 0.8), class_prior=[0.8, 0.2], min_raters=1, max_raters=5, target=0.9
    )
    np.testing.assert_allclose(d.posterior, [0.5, 0.5])


def test_bounds_must_be_ordered():
    with pytest.raises(ValueError, match="min_raters"):
        numeric.categorical_stop([0], trusted(1), min_raters=3, max_raters=2)


def test_the_many_item_posterior_matches_the_single_item_rule_and_permutes_with_the_classes():
    rng = np.random.default_rng(0)
    k, n_items = 3, 6
    item = np.repeat(np.arange(n_items), 4)
    label = rng.integers(0, k, item.size)
    conf = rng.dirichlet(np.ones(k), size=(item.size, k))
    prior = np.array([0.5, 0.3, 0.2])
    post = numeric.categorical_posterior(item, label, conf, n_items=n_items, class_prior=prior)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    for i in range(n_items):
        v = item == i
        one = numeric.categorical_stop(label[v], conf[v], class_prior=prior, max_raters=10)
        np.testing.assert_allclose(post[i], one.posterior)
    perm = np.array([2, 0, 1])  # class c becomes perm[c]
    inv = np.argsort(perm)
    moved = numeric.categorical_posterior(
        item, perm[label], conf[:, inv][:, :, inv], n_items=n_items, class_prior=prior[inv]
    )
    np.testing.assert_allclose(moved[:, perm], post)
    done = numeric.categorical_done(post, np.full(n_items, 4), max_raters=10, target=0.0)
    assert done.all()


def test_rater_quality_comes_from_the_run_then_gold_then_the_prior():
    run = np.array([0.9, np.nan, np.nan])
    gold = np.array([0.6, 0.75, np.nan])
    acc = numeric.vote_accuracy(3, accuracy=run, gold_accuracy=gold, prior_accuracy=0.7)
    np.testing.assert_allclose(acc, [0.9, 0.75, 0.7])
    fitted = np.full((3, 2, 2), np.nan)
    fitted[2] = [[0.6, 0.4], [0.1, 0.9]]
    conf = numeric.vote_confusion(3, 2, confusion=fitted, accuracy=run, gold_accuracy=gold)
    np.testing.assert_allclose(conf[0], [[0.9, 0.1], [0.1, 0.9]])
    np.testing.assert_allclose(conf[1], [[0.75, 0.25], [0.25, 0.75]])
    np.testing.assert_allclose(conf[2], fitted[2])


def test_rater_confusion_shrinks_a_short_record_and_gives_the_unseen_the_prior():
    # Rater 0 answered three items, each with rater 1 agreeing; rater 2 never voted.
    item = np.array([0, 0, 1, 1, 2, 2])
    rater = np.array([0, 1, 0, 1, 0, 1])
    label = np.array([0, 0, 1, 1, 1, 1])
    post = np.array([[0.99, 0.01], [0.01, 0.99], [0.01, 0.99]])
    conf = numeric.rater_confusion(
        item, rater, label, post, n_raters=3, prior_accuracy=0.7, strength=4.0, towards="prior"
    )
    np.testing.assert_allclose(conf.sum(axis=2), 1.0)
    np.testing.assert_allclose(conf[2], [[0.7, 0.3], [0.3, 0.7]])
    assert 0.7 < conf[0, 1, 1] < 0.9  # right three times, yet far from certain


def test_rater_confusion_shrinks_towards_the_crowd_it_works_in():
    # A poor crowd: 40 raters right on 60 % of 50 items each (by the posterior), and one
    # newcomer seen on one item. The newcomer is taken for a 0.6 rater, not the 0.8 prior.
    rng = np.random.default_rng(0)
    n_items, n_raters = 200, 41
    truth = rng.integers(0, 2, n_items)
    post = np.eye(2)[truth] * 0.98 + 0.01
    item = np.concatenate([rng.integers(0, n_items, 50) for _ in range(40)] + [[0]])
    rater = np.concatenate([np.full(50, r) for r in range(40)] + [[40]])
    right = rng.random(item.size) < 0.6
    label = np.where(right, truth[item], 1 - truth[item])
    crowd = numeric.rater_confusion(item, rater, label, post, n_raters=n_raters)
    fixed = numeric.rater_confusion(item, rater, label, post, n_raters=n_raters, towards="prior")
    assert abs(crowd[40, 0, 0] - 0.6) < 0.05
    assert fixed[40, 0, 0] > 0.7
    with pytest.raises(ValueError, match="towards"):
        numeric.rater_confusion(item, rater, label, post, n_raters=n_raters, towards="x")


def test_leave_one_out_credit_ignores_votes_alone_on_their_item():
    item, rater, label = np.array([0]), np.array([0]), np.array([1])
    post = np.array([[0.01, 0.99]])
    run = np.tile(np.array([[0.99, 0.01], [0.01, 0.99]]), (1, 1, 1))
    with_self = numeric.rater_confusion(item, rater, label, post, n_raters=1, prior_accuracy=0.7)
    loo = numeric.rater_confusion(
        item, rater, label, post, n_raters=1, confusion=run, prior_accuracy=0.7
    )
    assert with_self[0, 1, 1] > loo[0, 1, 1]
    np.testing.assert_allclose(loo[0], [[0.7, 0.3], [0.3, 0.7]])  # no record: the prior


def test_gold_answers_count_against_the_known_answer_even_alone_and_under_leave_one_out():
    # Rater 0 answered five gold items (each alone, answer 1) wrongly, and two live items.
    item = np.array([0, 0, 1, 1, 2, 3, 4, 5, 6])
    rater = np.array([0, 1, 0, 1, 0, 0, 0, 0, 0])
    label = np.array([0, 0, 1, 1, 0, 0, 0, 0, 0])
    post = np.vstack([[[0.99, 0.01], [0.01, 0.99]], np.tile([0.0, 1.0], (5, 1))])
    run = np.tile(np.array([[0.9, 0.1], [0.1, 0.9]]), (2, 1, 1))
    known = np.array([False, False, True, True, True, True, True])
    args = (item, rater, label, post)
    kw = {"n_raters": 2, "confusion": run, "prior_accuracy": 0.7, "towards": "prior"}
    with_gold = numeric.rater_confusion(*args, known=known, **kw)
    without = numeric.rater_confusion(*args, **kw)
    # Unmarked, the gold rows are votes alone on their items and say nothing; marked, five
    # wrong answers on true 1 pull the rater's P(says 1 | 1) well below the prior.
    assert without[0, 1, 1] > 0.7
    assert with_gold[0, 1, 1] < 0.5
    np.testing.assert_allclose(with_gold[1], without[1])  # rater 1 answered no gold


# -- pairwise -----------------------------------------------------------------------------------


def test_unanimous_reliable_pairwise_votes_stop_once_the_interval_excludes_a_half():
    d = numeric.pairwise_stop([LEFT] * 3, [1.0] * 3, min_raters=2, max_raters=10, level=0.9)
    assert not d.done and d.interval[0] < 0.5  # Beta(4, 1): 5 % quantile 0.47
    d = numeric.pairwise_stop([LEFT] * 4, [1.0] * 4, min_raters=2, max_raters=10, level=0.9)
    assert d.done and d.reason == "preference"
    assert d.interval[0] == pytest.approx(0.05 ** (1 / 5)) and d.estimate == pytest.approx(5 / 6)


def test_split_pairwise_votes_do_not_stop_and_coin_flippers_move_nothing():
    d = numeric.pairwise_stop([LEFT, RIGHT, LEFT, RIGHT], None, max_raters=10)
    assert not d.done and d.reason == "unsure"
    coin = numeric.vote_weight([0.5] * 6)
    d = numeric.pairwise_stop([LEFT] * 6, coin, max_raters=10)
    assert not d.done and d.estimate == pytest.approx(0.5)


def test_ties_dominating_stop_a_comparison():
    d = numeric.pairwise_stop([TIE, TIE, LEFT], None, max_raters=10, tie_share=0.5)
    assert d.done and d.reason == "ties"
    np.testing.assert_allclose(d.posterior, [1 / 3, 0, 2 / 3])


def test_a_slight_preference_counts_for_less_than_a_clear_one():
    clear = numeric.pairwise_stop([LEFT] * 4, None, max_raters=10)
    slight = numeric.pairwise_stop([LEFT] * 4, None, strength=[0.5] * 4, max_raters=10)
    assert clear.done and not slight.done and slight.estimate < clear.estimate


def test_max_raters_stops_a_split_comparison():
    d = numeric.pairwise_stop([LEFT, RIGHT], None, min_raters=1, max_raters=2)
    assert d.done and d.reason == "max_raters"


# -- Likert -------------------------------------------------------------------------------------


def test_agreeing_likert_ratings_stop_once_the_mean_is_pinned_and_two_equal_ones_do_not():
    two = numeric.likert_stop([3, 3], n_levels=5, max_width=1.0)
    assert not two.done and two.reason == "wide" and two.interval[1] - two.interval[0] > 1.0
    many = numeric.likert_stop([3, 3, 3, 4, 3, 3, 3], n_levels=5, max_width=1.0)
    assert many.done and many.reason == "narrow" and many.estimate == pytest.approx(22 / 7)
    scattered = numeric.likert_stop([0, 4, 0, 4, 2, 0, 4], n_levels=5, max_width=1.0)
    assert not scattered.done


def test_likert_weights_move_the_mean_towards_the_trusted_rater():
    d = numeric.likert_stop([0, 4], [0.1, 0.9], n_levels=5)
    assert d.estimate == pytest.approx(3.6)
    np.testing.assert_allclose(d.posterior, [0.1, 0, 0, 0, 0.9])


def test_the_dispatch_reaches_each_kind_and_refuses_others():
    assert numeric.stop_rule("categorical", [0, 0], trusted(2)).done
    assert numeric.stop_rule("pairwise", [LEFT] * 4).done
    assert not numeric.stop_rule("likert", [1, 1], n_levels=5).done
    with pytest.raises(ValueError, match="kind"):
        numeric.stop_rule("ranking", [0])


# -- queue order --------------------------------------------------------------------------------


def test_uncertainty_is_one_for_a_uniform_row_and_zero_for_a_certain_one():
    post = np.array([[1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0], [0.6, 0.3, 0.1]])
    for measure in ("entropy", "least_confidence"):
        u = numeric.categorical_uncertainty(post, measure=measure)
        np.testing.assert_allclose(u[:2], [1.0, 0.0], atol=1e-12)
        assert 0 < u[2] < 1
    assert numeric.categorical_uncertainty(post, measure="least_confidence")[2] == pytest.approx(
        0.6
    )


def test_the_pairwise_interval_narrows_with_votes():
    w = numeric.pairwise_uncertainty([0, 2, 8, 8], [0, 2, 8, 0])
    assert w[0] > w[1] > w[2] > w[3] and w[0] < 1


def test_the_queue_serves_unlabelled_first_then_the_most_uncertain_then_the_oldest():
    n_labels = np.array([2, 0, 3, 1, 0, 2])
    uncertainty = np.array([0.2, 0.0, 0.9, 0.2, 0.7, 0.2])
    age = np.array([5, 4, 3, 2, 1, 0])
    key = numeric.queue_priority(n_labels, uncertainty, age)
    # Unlabelled items 4 and 1 by age; then 2 (most unsure); then 5, 3, 0 tied on 0.2, by age.
    assert np.argsort(key, kind="stable").tolist() == [4, 1, 2, 5, 3, 0]
    assert key.dtype == np.int64 and key.min() >= 0


def test_the_priority_fits_below_two_to_the_53():
    key = numeric.queue_priority([1, 0], [0.0, 1.0], [AGE_RANKS - 1, AGE_RANKS - 1])
    assert key.max() <= PRIORITY_MAX < 2**53
    with pytest.raises(ValueError, match="age_rank"):
        numeric.queue_priority([1], [0.5], [AGE_RANKS])
    with pytest.raises(ValueError, match="NaN"):
        numeric.queue_priority([1], [np.nan], [0])


# -- the replay benchmark -----------------------------------------------------------------------


def write_folder(folder: Path, seed=0, n_votes=2400):
    """A synthetic crowd in the shared format, with string labels, an extra column and items
    that have fewer than five labels."""
    c = synthetic_crowd(
        n_votes, n_labels=2, per_item=8, n_raters=30, spammers=0.1, constant=0.0, rng=seed
    )
    keep = np.ones(c.item_idx.size, bool)
    keep[: 8 * 20] = np.tile(np.arange(8) < 3, 20)  # the first 20 items keep 3 labels
    folder.mkdir()
    names = ["no", "yes"]
    with open(folder / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item", "worker", "label", "seconds"])
        for i, r, lab in zip(c.item_idx[keep], c.rater_idx[keep], c.label[keep], strict=True):
            w.writerow([f"it{i}", f"w{r}", names[lab], 3])
    with open(folder / "truth.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item", "label"])
        w.writerows([f"it{i}", names[t]] for i, t in enumerate(c.truth))


def run_replay(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "overlap_replay.py"), *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_the_replay_reports_every_strategy_and_dynamic_overlap_spends_less_than_fixed_five(
    tmp_path,
):
    write_folder(tmp_path / "tiny_a", seed=1)
    write_folder(tmp_path / "tiny_b", seed=2)
    (tmp_path / "not_a_dataset").mkdir()
    out = tmp_path / "out.json"
    proc = run_replay("--datasets", tmp_path, "--shuffles", 2, "--json", out)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert json.loads(proc.stdout) == data
    assert {"tiny_a", "tiny_b", "mean", "settings", "timings", "stop_rule_cost_us"} <= set(data)
    for name in ("tiny_a", "tiny_b", "mean"):
        row = data[name]
        assert {
            "fixed3_mv_acc",
            "fixed3_ds_acc",
            "fixed5_mv_acc",
            "fixed5_ds_acc",
            "fixed5_labels_per_item",
            "dynamic_acc",
            "dynamic_labels_per_item",
            "uncertainty_first_acc",
        } <= set(row)
        assert row["dynamic_labels_per_item"] < row["fixed5_labels_per_item"]
        assert row["uncertainty_first_labels_per_item"] == pytest.approx(
            row["fixed3_labels_per_item"]
        )
        assert 0.5 < row["dynamic_acc"] <= 1
    # 20 of 300 items have only three labels, so fixed 5 averages below 5.
    assert data["tiny_a"]["fixed5_labels_per_item"] == pytest.approx((280 * 5 + 20 * 3) / 300)
    assert data["settings"]["shuffles"] == 2
    assert all(v < 2000 for v in data["stop_rule_cost_us"].values())


def test_the_replay_names_the_file_and_line_of_a_bad_row(tmp_path):
    write_folder(tmp_path / "tiny", n_votes=400)
    with open(tmp_path / "tiny" / "labels.csv", "a") as f:
        f.write("it1,,yes,3\n")
    proc = run_replay("--datasets", tmp_path, "--only", "tiny", "--shuffles", 1, "--no-micro")
    assert proc.returncode == 2
    assert f"{tmp_path / 'tiny' / 'labels.csv'}:" in proc.stderr and "worker" in proc.stderr


def test_the_replay_with_silent_gold_scores_only_live_items_against_both_baselines(tmp_path):
    write_folder(tmp_path / "tiny", seed=3)
    out = tmp_path / "out.json"
    proc = run_replay(
        "--datasets", tmp_path, "--shuffles", 2, "--no-micro", "--gold-rate", 0.2, "--json", out
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    row = data["tiny"]
    assert 30 < row["n_gold"] < 90  # about a fifth of 300 items
    assert {"fixed5_ds_gold_acc", "dynamic_acc", "fixed5_ds_acc"} <= set(row)
    # Gold labels are not live labels: the budget and the counts are over live items only.
    assert row["uncertainty_first_labels_per_item"] == pytest.approx(row["fixed3_labels_per_item"])
    assert row["dynamic_labels_per_item"] < row["fixed5_labels_per_item"]
    assert "dynamic_acc_minus_fixed5_ds_gold" in data["targets"]
    assert data["settings"]["gold_rate"] == 0.2


def test_the_replay_with_oracle_raters_runs_and_says_so(tmp_path):
    write_folder(tmp_path / "tiny", seed=4)
    proc = run_replay("--datasets", tmp_path, "--shuffles", 1, "--no-micro", "--oracle-raters")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["settings"]["oracle_raters"] is True
    assert data["tiny"]["dynamic_labels_per_item"] < data["tiny"]["fixed5_labels_per_item"]
    assert data["tiny"]["dynamic_acc"] > 0.8  # the oracle knows the spammers from the start


def test_the_replay_refuses_a_gold_rate_outside_zero_to_one(tmp_path):
    write_folder(tmp_path / "tiny", n_votes=400)
    proc = run_replay("--datasets", tmp_path, "--no-micro", "--gold-rate", 1.5)
    assert proc.returncode == 2 and "--gold-rate" in proc.stderr
