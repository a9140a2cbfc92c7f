import numpy as np
import pytest

from aggregation.numeric import majority_vote, weighted_vote
from aggregation.numeric.categorical import agreement_weights, gold_accuracy_weights
from aggregation.numeric.io import read_labels_csv, read_truth_csv
from tests.aggregation.shared_crowds import DATASETS

MV_ACCURACY = {
    "snow_rte": 0.919,
    "welinder_bluebird": 0.759,
    "zhou_dog": 0.818,
    "gal_barzan_mozafari": 0.696,
    "rodrigues_sentiment_polarity": 0.890,
}


def load_dataset(name):
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset {name} not found at {folder}; CI clones shared/ beside")
    table = read_labels_csv(folder / "labels.csv")
    return table, read_truth_csv(folder / "truth.csv", table)


def accuracy(pred, truth):
    return float(np.mean(pred[truth >= 0] == truth[truth >= 0]))


def test_majority_vote_breaks_ties_towards_the_lowest_label_code():
    # item 0: 1 vs 2 tie; item 1: clear 2; item 2: three-way tie
    item = [0, 0, 1, 1, 2, 2, 2]
    rater = [0, 1, 0, 1, 0, 1, 2]
    label = [2, 1, 2, 2, 2, 0, 1]
    r = majority_vote(item, rater, label, n_items=3, n_raters=3, n_labels=3)
    np.testing.assert_array_equal(r.label, [1, 2, 0])
    np.testing.assert_array_equal(r.ties, [True, False, True])
    np.testing.assert_allclose(r.posterior[0], [0, 0.5, 0.5])


def test_majority_vote_does_not_depend_on_row_order():
    rng = np.random.default_rng(3)
    item = rng.integers(0, 50, 400)
    rater = rng.integers(0, 8, 400)
    label = rng.integers(0, 3, 400)
    a = majority_vote(item, rater, label, n_items=50, n_raters=8, n_labels=3)
    p = rng.permutation(400)
    b = majority_vote(item[p], rater[p], label[p], n_items=50, n_raters=8, n_labels=3)
    np.testing.assert_array_equal(a.label, b.label)
    np.testing.assert_array_equal(a.ties, b.ties)
    np.testing.assert_allclose(a.posterior, b.posterior)


def test_majority_vote_gives_unvoted_items_a_uniform_row_and_zero_votes():
    r = majority_vote([0], [0], [1], n_items=3, n_raters=1, n_labels=4)
    np.testing.assert_allclose(r.posterior[1:], 0.25)
    np.testing.assert_array_equal(r.unvoted, [False, True, True])
    np.testing.assert_allclose(r.posterior.sum(axis=1), 1.0)


def test_majority_vote_with_rater_weights_follows_the_heavier_rater():
    r = majority_vote(
        [0, 0, 0],
        [0, 1, 2],
        [0, 1, 1],
        n_items=1,
        n_raters=3,
        n_labels=2,
        weights=np.array([3.0, 1.0, 1.0]),
    )
    np.testing.assert_array_equal(r.label, [0])
    np.testing.assert_allclose(r.posterior, [[0.6, 0.4]])


def test_majority_vote_on_empty_input_returns_uniform_rows():
    r = majority_vote([], [], [], n_items=2, n_raters=0, n_labels=3)
    np.testing.assert_allclose(r.posterior, 1 / 3)
    np.testing.assert_array_equal(r.label, [0, 0])


def test_majority_vote_rejects_codes_out_of_range():
    with pytest.raises(ValueError, match="label codes"):
        majority_vote([0], [0], [3], n_items=1, n_raters=1, n_labels=3)
    with pytest.raises(ValueError, match="equal length"):
        majority_vote([0, 1], [0], [0], n_items=2, n_raters=1, n_labels=3)


def test_gold_accuracy_weights_are_beta_smoothed_accuracies_on_gold_items():
    item = [0, 1, 0, 1, 2]
    rater = [0, 0, 1, 1, 2]
    label = [1, 0, 1, 1, 0]
    gold = [1, 0, -1]
    w = gold_accuracy_weights(item, rater, label, gold, n_items=3, n_raters=3, n_labels=2)
    np.testing.assert_allclose(w, [3 / 4, 2 / 4, 1 / 2])


def test_agreement_weights_reward_raters_who_agree_with_the_others():
    item = [0, 0, 0, 1, 1, 1]
    rater = [0, 1, 2, 0, 1, 2]
    label = [1, 1, 0, 0, 0, 1]
    w = agreement_weights(item, rater, label, n_items=2, n_raters=3, n_labels=2)
    # each rater has 2 informative votes; agreement shares 0.5/0.5, 0.5/0.5, 0/0
    np.testing.assert_allclose(w, [(1 + 1) / 4, (1 + 1) / 4, 1 / 4])


@pytest.mark.parametrize("name", sorted(MV_ACCURACY))
def test_majority_vote_matches_the_accuracy_measured_on_the_shared_datasets(name):
    t, truth = load_dataset(name)
    r = majority_vote(t.item_idx, t.rater_idx, t.label, **t.sizes)
    assert accuracy(r.label, truth) == pytest.approx(MV_ACCURACY[name], abs=0.001)


def test_majority_vote_beats_crowd_kit_on_snow_rte_because_ties_do_not_follow_row_order():
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    pd = pytest.importorskip("pandas")
    t, truth = load_dataset("snow_rte")
    ours = majority_vote(t.item_idx, t.rater_idx, t.label, **t.sizes)
    df = pd.DataFrame({"task": t.item_idx, "worker": t.rater_idx, "label": t.label})
    theirs = crowdkit.MajorityVote().fit_predict(df).sort_index().to_numpy()
    assert ours.ties.sum() > 0
    # outside the ties both agree exactly
    np.testing.assert_array_equal(ours.label[~ours.ties], theirs[~ours.ties])
    assert accuracy(ours.label, truth) > accuracy(theirs, truth)


def test_weighted_vote_by_agreement_is_at_least_as_accurate_as_majority_vote_on_dogs():
    t, truth = load_dataset("zhou_dog")
    mv = majority_vote(t.item_idx, t.rater_idx, t.label, **t.sizes)
    wv = weighted_vote(t.item_idx, t.rater_idx, t.label, **t.sizes)
    assert accuracy(wv.label, truth) >= accuracy(mv.label, truth)


def test_weighted_vote_by_gold_prefers_the_rater_who_matched_the_experts():
    # raters 0 and 1 disagree on item 1; only rater 1 matched the gold label of item 0
    item = [0, 0, 1, 1]
    rater = [0, 1, 0, 1]
    label = [0, 1, 0, 1]
    r = weighted_vote(item, rater, label, n_items=2, n_raters=2, n_labels=2, gold=[1, -1])
    assert r.label[1] == 1
