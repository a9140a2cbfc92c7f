import numpy as np
import pytest

from aggregation.numeric import dawid_skene, one_coin_dawid_skene
from aggregation.numeric._votes import prepare_votes
from aggregation.numeric.dawid_skene import _e_step, _m_step
from aggregation.numeric.io import read_labels_csv, read_truth_csv
from aggregation.numeric.synthetic import synthetic_crowd
from tests.aggregation.shared_crowds import DATASETS, NAMES


def load_dataset(name):
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset {name} not found at {folder}; CI clones shared/ beside")
    table = read_labels_csv(folder / "labels.csv")
    return table, read_truth_csv(folder / "truth.csv", table)


def accuracy(pred, truth):
    return float(np.mean(pred[truth >= 0] == truth[truth >= 0]))


def crowdkit_frame(t):
    pd = pytest.importorskip("pandas")
    return pd.DataFrame({"task": t.item_idx, "worker": t.rater_idx, "label": t.label})


def test_dawid_skene_e_step_matches_a_hand_computed_posterior():
    # one item, two raters both saying 1; K=2
    votes = prepare_votes([0, 0], [0, 1], [1, 1], n_items=1, n_raters=2, n_labels=2)
    prior = np.array([0.5, 0.5])
    conf = np.array([[[0.8, 0.2], [0.3, 0.7]], [[0.6, 0.4], [0.1, 0.9]]])
    post, ll = _e_step(votes, prior, conf)
    p0, p1 = 0.5 * 0.2 * 0.4, 0.5 * 0.7 * 0.9
    np.testing.assert_allclose(post, [[p0 / (p0 + p1), p1 / (p0 + p1)]])
    assert ll == pytest.approx(np.log(p0 + p1))


def test_dawid_skene_m_step_counts_soft_labels_plus_pseudo_counts():
    votes = prepare_votes([0, 1], [0, 0], [1, 1], n_items=2, n_raters=1, n_labels=2)
    post = np.array([[1.0, 0.0], [0.25, 0.75]])
    class_prior, conf = _m_step(votes, post, 0.5)
    np.testing.assert_allclose(conf[0], [[0.5 / 2.25, 1.75 / 2.25], [0.5 / 1.75, 1.25 / 1.75]])
    np.testing.assert_allclose(class_prior, [1.75 / 3, 1.25 / 3])


def test_dawid_skene_posterior_rows_sum_to_one_and_report_iterations():
    c = synthetic_crowd(3000, n_labels=4, n_raters=30, rng=1)
    r = dawid_skene(
        c.item_idx, c.rater_idx, c.label, n_items=c.n_items, n_raters=c.n_raters, n_labels=4
    )
    np.testing.assert_allclose(r.posterior.sum(axis=1), 1.0)
    assert r.converged and 1 < r.n_iter < 100
    assert r.confusion.shape == (30, 4, 4)
    np.testing.assert_allclose(r.confusion.sum(axis=2), 1.0)
    assert accuracy(r.label, c.truth) > 0.9


def test_dawid_skene_stopped_by_max_iter_says_it_did_not_converge():
    c = synthetic_crowd(3000, n_labels=4, n_raters=30, rng=1)
    r = dawid_skene(
        c.item_idx,
        c.rater_idx,
        c.label,
        n_items=c.n_items,
        n_raters=c.n_raters,
        n_labels=4,
        max_iter=2,
    )
    assert r.n_iter == 2 and not r.converged


@pytest.mark.parametrize("method", [dawid_skene, one_coin_dawid_skene])
def test_permuting_label_ids_permutes_the_dawid_skene_output(method):
    c = synthetic_crowd(2000, n_labels=3, n_raters=25, rng=2)
    perm = np.array([2, 0, 1])
    kw = {"n_items": c.n_items, "n_raters": c.n_raters, "n_labels": 3}
    a = method(c.item_idx, c.rater_idx, c.label, **kw)
    b = method(c.item_idx, c.rater_idx, perm[c.label], **kw)
    np.testing.assert_allclose(b.posterior[:, perm], a.posterior, atol=1e-9)


@pytest.mark.parametrize("method", [dawid_skene, one_coin_dawid_skene])
def test_dawid_skene_clamps_gold_items_to_their_known_label(method):
    c = synthetic_crowd(2000, n_labels=3, n_raters=25, rng=4)
    gold = np.full(c.n_items, -1)
    gold[:20] = (c.truth[:20] + 1) % 3  # deliberately not the truth: clamping must still hold
    r = method(
        c.item_idx,
        c.rater_idx,
        c.label,
        n_items=c.n_items,
        n_raters=c.n_raters,
        n_labels=3,
        gold=gold,
    )
    np.testing.assert_array_equal(r.label[:20], gold[:20])
    np.testing.assert_allclose(r.posterior[np.arange(20), gold[:20]], 1.0)


@pytest.mark.parametrize("method", [dawid_skene, one_coin_dawid_skene])
@pytest.mark.parametrize(
    "case",
    [
        ("one rater", [0, 1, 2], [0, 0, 0], [0, 1, 1], 3, 1, 2),
        ("one item", [0, 0, 0], [0, 1, 2], [1, 1, 0], 1, 3, 2),
        ("all raters agree", [0, 0, 1, 1], [0, 1, 0, 1], [2, 2, 0, 0], 2, 2, 3),
        ("a rater with a single vote", [0, 0, 1, 1, 1], [0, 1, 0, 1, 2], [1, 1, 0, 0, 1], 2, 3, 2),
        ("a label never used", [0, 0, 1], [0, 1, 0], [0, 0, 2], 2, 2, 4),
        ("empty input", [], [], [], 2, 0, 3),
    ],
    ids=lambda c: c[0] if isinstance(c, tuple) else None,
)
def test_dawid_skene_handles_edge_cases_with_valid_posteriors(method, case):
    _, item, rater, label, n_items, n_raters, n_labels = case
    r = method(item, rater, label, n_items=n_items, n_raters=n_raters, n_labels=n_labels)
    assert r.posterior.shape == (n_items, n_labels)
    assert np.all(np.isfinite(r.posterior))
    np.testing.assert_allclose(r.posterior.sum(axis=1), 1.0)
    if case[0] == "all raters agree":
        np.testing.assert_array_equal(r.label, [2, 0])
    if case[0] == "empty input":
        np.testing.assert_allclose(r.posterior, 1 / 3)
        assert r.converged


def test_dawid_skene_agrees_with_crowd_kit_on_a_well_separated_synthetic_crowd():
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    c = synthetic_crowd(5000, n_labels=3, n_raters=40, rng=6)
    df = crowdkit_frame(c)
    r = dawid_skene(
        c.item_idx,
        c.rater_idx,
        c.label,
        n_items=c.n_items,
        n_raters=c.n_raters,
        n_labels=3,
        prior=0.0,
    )
    theirs = crowdkit.DawidSkene(n_iter=100).fit_predict_proba(df).sort_index()
    theirs = theirs[sorted(theirs.columns)].to_numpy()
    assert np.mean(np.argmax(theirs, axis=1) == r.label) > 0.99


@pytest.mark.parametrize("name", NAMES)
def test_dawid_skene_is_within_half_a_point_of_crowd_kit_or_better_on_real_data(name):
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    t, truth = load_dataset(name)
    ours = dawid_skene(t.item_idx, t.rater_idx, t.label, **t.sizes)
    theirs = crowdkit.DawidSkene(n_iter=100).fit_predict(crowdkit_frame(t)).sort_index()
    assert accuracy(ours.label, truth) >= accuracy(theirs.to_numpy(), truth) - 0.005


@pytest.mark.parametrize("name", NAMES)
def test_one_coin_dawid_skene_is_close_to_crowd_kit_on_real_data(name):
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    t, truth = load_dataset(name)
    ours = one_coin_dawid_skene(t.item_idx, t.rater_idx, t.label, **t.sizes)
    theirs = crowdkit.OneCoinDawidSkene(n_iter=100).fit_predict(crowdkit_frame(t)).sort_index()
    assert accuracy(ours.label, truth) >= accuracy(theirs.to_numpy(), truth) - 0.005


def test_the_sparse_em_rounds_match_the_per_vote_e_and_m_steps():
    import sys

    ds = sys.modules["aggregation.numeric.dawid_skene"]
    rng = np.random.default_rng(3)
    n_items, n_raters, k = 60, 7, 3
    item = rng.integers(0, n_items, 400)
    rater = rng.integers(0, n_raters, 400)  # repeats included: each row is a vote
    label = rng.integers(0, k, 400)
    shape = {"n_items": n_items, "n_raters": n_raters, "n_labels": k}
    votes = prepare_votes(item, rater, label, **shape)
    vm = ds.vote_matrix(item, rater, label, **shape)
    np.testing.assert_allclose(vm.n_votes, votes.effective_votes())
    post = ds.initial_posterior(votes, None)
    np.testing.assert_allclose(ds._sparse_initial_posterior(vm, None), post)
    prior = np.asarray(0.01)
    for _ in range(5):
        cp, conf = _m_step(votes, post, prior)
        cp2, conf2 = ds._sparse_m_step(vm, post, prior)
        np.testing.assert_allclose(cp2, cp, rtol=1e-12)
        np.testing.assert_allclose(conf2, conf, rtol=1e-12)
        post, ll = _e_step(votes, cp, conf)
        post2, ll2 = ds._sparse_e_step(vm, cp, conf)
        np.testing.assert_allclose(post2, post, rtol=1e-10, atol=1e-14)
        assert ll2 == pytest.approx(ll, rel=1e-12)
