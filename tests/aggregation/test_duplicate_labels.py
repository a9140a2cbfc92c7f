"""The duplicate-vote rule: every row is one vote, as in Dawid & Skene's counts and in
crowd-kit. A rater who answered an item twice votes twice; no method depends on row order."""

import numpy as np
import pytest

from aggregation import numeric
from aggregation.numeric._votes import prepare_votes
from aggregation.numeric.categorical import agreement_weights
from aggregation.numeric.dawid_skene import _e_step, vote_matrix
from aggregation.numeric.io import read_labels_csv, read_truth_csv
from aggregation.numeric.synthetic import synthetic_crowd, with_repeats
from tests.aggregation.shared_crowds import DATASETS, NAMES

CATEGORICAL = [
    numeric.majority_vote,
    numeric.weighted_vote,
    numeric.dawid_skene,
    numeric.one_coin_dawid_skene,
    numeric.mace,
    numeric.glad,
]


def repeated_dataset(name):
    """A shared real crowd with a second answer on a fifth of its rows (30% of them changed):
    the published files hold no repeats, so the repeats are added, seeded."""
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset {name} not found at {folder}; CI clones shared/ beside")
    t = read_labels_csv(folder / "labels.csv")
    truth = read_truth_csv(folder / "truth.csv", t)
    votes = with_repeats(t.item_idx, t.rater_idx, t.label, n_labels=len(t.labels), rng=0)
    return t, votes, truth


def accuracy(pred, truth):
    known = truth >= 0
    return float(np.mean(pred[known] == truth[known]))


# --- The rule, by hand ------------------------------------------------------------------------


def test_a_raters_repeated_answers_each_count_as_a_vote():
    # rater 0 says 1 three times, raters 1 and 2 say 0 once: 1 wins 3 to 2
    r = numeric.majority_vote(
        [0, 0, 0, 0, 0], [0, 0, 0, 1, 2], [1, 1, 1, 0, 0], n_items=1, n_raters=3, n_labels=2
    )
    np.testing.assert_allclose(r.posterior, [[0.4, 0.6]])
    np.testing.assert_allclose(r.n_votes, [5.0])
    # a rater who answered 0 and then 1 votes once for each
    r = numeric.majority_vote([0, 0, 0], [0, 0, 1], [0, 1, 1], n_items=1, n_raters=2, n_labels=2)
    np.testing.assert_allclose(r.posterior, [[1 / 3, 2 / 3]])


def test_dawid_skene_multiplies_in_a_repeated_answers_likelihood_once_per_row():
    # Rater 0 says 1 twice and rater 1 says 0 once: P(item = k) is proportional to
    # prior[k] * conf0[k, 1]^2 * conf1[k, 0], the n_il^(k) counts of Dawid & Skene (1979).
    votes = prepare_votes([0, 0, 0], [0, 1, 0], [1, 0, 1], n_items=1, n_raters=2, n_labels=2)
    prior = np.array([0.6, 0.4])
    conf = np.array([[[0.8, 0.2], [0.3, 0.7]], [[0.9, 0.1], [0.4, 0.6]]])
    post, ll = _e_step(votes, prior, conf)
    p = prior * conf[0][:, 1] ** 2 * conf[1][:, 0]
    np.testing.assert_allclose(post, [p / p.sum()])
    assert ll == pytest.approx(np.log(p.sum()))


def test_the_sparse_vote_matrix_counts_the_same_votes_as_prepare_votes():
    rng = np.random.default_rng(4)
    item, rater, label = rng.integers(0, 30, 500), rng.integers(0, 6, 500), rng.integers(0, 3, 500)
    shape = {"n_items": 30, "n_raters": 6, "n_labels": 3}
    vm = vote_matrix(item, rater, label, **shape)
    votes = prepare_votes(item, rater, label, **shape)
    np.testing.assert_array_equal(vm.n_votes, np.bincount(item, minlength=30))
    np.testing.assert_array_equal(vm.n_votes, votes.effective_votes())
    dense = vm.counts.toarray().reshape(30, 6, 3)
    np.testing.assert_array_equal(dense.sum(), 500)
    np.add.at(dense, (item, rater, label), -1)
    assert not dense.any()


def test_a_repeated_answer_does_not_count_as_agreeing_with_itself():
    # Item 0: rater 0 says 1 twice, rater 1 says 0. Rater 0's "others" there are rater 1 only,
    # who disagrees, so both of rater 0's votes agree with nobody: weight (0 + 1) / (2 + 2),
    # where counting rater 0's other answer as another rater would give (1 + 1) / (2 + 2).
    # Rater 1's one vote disagrees with both of rater 0's: (0 + 1) / (1 + 2).
    w = agreement_weights([0, 0, 0], [0, 0, 1], [1, 1, 0], n_items=1, n_raters=2, n_labels=2)
    np.testing.assert_allclose(w, [0.25, 1 / 3])


def test_a_repeated_rating_counts_twice_in_the_likert_mean_and_median():
    r = numeric.likert_summary([0, 0, 0], [0, 0, 1], [3, 3, 0], n_items=1, n_raters=2, n_levels=4)
    np.testing.assert_allclose(r.mean, [2.0])
    np.testing.assert_allclose(r.median, [3.0])
    np.testing.assert_allclose(r.distribution, [[1 / 3, 0, 0, 2 / 3]])


@pytest.mark.parametrize("method", CATEGORICAL, ids=lambda f: f.__name__)
def test_no_method_depends_on_the_order_of_repeated_rows(method):
    c = synthetic_crowd(1500, n_labels=3, n_raters=25, rng=2)
    item, rater, label = with_repeats(c.item_idx, c.rater_idx, c.label, n_labels=3, rng=1)
    kw = {"n_items": c.n_items, "n_raters": c.n_raters, "n_labels": 3}
    a = method(item, rater, label, **kw)
    order = np.random.default_rng(9).permutation(item.size)
    b = method(item[order], rater[order], label[order], **kw)
    np.testing.assert_allclose(b.posterior, a.posterior, atol=1e-9)


def test_with_repeats_answers_a_share_of_rows_again_by_the_same_rater():
    c = synthetic_crowd(2000, n_labels=4, n_raters=25, rng=3)
    item, rater, label = with_repeats(c.item_idx, c.rater_idx, c.label, n_labels=4, rng=0)
    n = c.item_idx.size
    assert item.size == n + 400
    extra = np.c_[item[n:], rater[n:]]
    first = {(i, r): lab for i, r, lab in zip(c.item_idx, c.rater_idx, c.label, strict=True)}
    assert all((i, r) in first for i, r in extra.tolist())
    changed = np.mean([label[n + j] != first[(i, r)] for j, (i, r) in enumerate(extra.tolist())])
    assert 0.2 < changed < 0.4


# --- Real crowds with repeats ----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_majority_vote_with_repeats_gives_crowd_kits_shares_exactly(name):
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    pd = pytest.importorskip("pandas")
    t, (item, rater, label), _ = repeated_dataset(name)
    ours = numeric.majority_vote(item, rater, label, **t.sizes)
    df = pd.DataFrame({"task": item, "worker": rater, "label": label})
    theirs = crowdkit.MajorityVote().fit(df).probas_.sort_index()
    theirs = theirs.reindex(columns=range(len(t.labels)), fill_value=0.0).to_numpy()
    np.testing.assert_allclose(ours.posterior, theirs, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_dawid_skene_with_repeats_is_within_half_a_point_of_crowd_kit_or_better(name):
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    pd = pytest.importorskip("pandas")
    t, (item, rater, label), truth = repeated_dataset(name)
    ours = numeric.dawid_skene(item, rater, label, **t.sizes)
    df = pd.DataFrame({"task": item, "worker": rater, "label": label})
    theirs = crowdkit.DawidSkene(n_iter=100).fit_predict(df).sort_index().to_numpy()
    ours_acc, theirs_acc = accuracy(ours.label, truth), accuracy(theirs, truth)
    assert ours_acc >= theirs_acc - 0.005, (name, ours_acc, theirs_acc)
    # The repeats carry noise (a changed answer is a random other label), yet the fit stays
    # far above the majority vote of the same rows on every shared crowd.
    mv = numeric.majority_vote(item, rater, label, **t.sizes)
    assert ours_acc >= accuracy(mv.label, truth) - 0.005
