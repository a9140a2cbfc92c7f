import numpy as np
import pytest

from aggregation.numeric.pairwise import LEFT, RIGHT, TIE, _bt_loglik, bradley_terry, preference
from aggregation.numeric.ranking import borda, plackett_luce


def simulated_games(n_items=8, n_games=600, seed=0):
    rng = np.random.default_rng(seed)
    true = rng.normal(size=n_items)
    a = rng.integers(0, n_items, n_games)
    b = (a + rng.integers(1, n_items, n_games)) % n_items
    a_wins = rng.random(n_games) < 1 / (1 + np.exp(true[b] - true[a]))
    return np.where(a_wins, a, b), np.where(a_wins, b, a), true


def test_bradley_terry_matches_choix_maximum_likelihood_without_ties():
    choix = pytest.importorskip("choix")
    win, lose, _ = simulated_games()
    ours = bradley_terry(win, lose, n_items=8, prior=0.0, tol=1e-12)
    theirs = choix.mm_pairwise(
        8, list(zip(win, lose, strict=False)), alpha=0, tol=1e-12, max_iter=100_000
    )
    np.testing.assert_allclose(ours.scores, theirs - theirs.mean(), atol=1e-6)
    assert ours.converged


def test_bradley_terry_with_ties_sits_at_a_stationary_point_of_the_davidson_likelihood():
    win, lose, _ = simulated_games(seed=1)
    ties = np.random.default_rng(2).random(win.size) < 0.2
    r = bradley_terry(win, lose, n_items=8, ties=ties, prior=0.0, tol=1e-12)
    w = np.ones(win.size)
    assert r.tie_strength > 0
    base = _bt_loglik(r.scores, r.tie_strength, win, lose, ties, w)
    assert base == pytest.approx(r.log_likelihood)
    for k in range(8):
        step = np.zeros(8)
        step[k] = 1e-4
        assert _bt_loglik(r.scores + step, r.tie_strength, win, lose, ties, w) <= base + 1e-7
        assert _bt_loglik(r.scores - step, r.tie_strength, win, lose, ties, w) <= base + 1e-7
    for nu in (r.tie_strength * 0.99, r.tie_strength * 1.01):
        assert _bt_loglik(r.scores, nu, win, lose, ties, w) <= base + 1e-9


def test_bradley_terry_weights_act_like_repeated_comparisons():
    win, lose, _ = simulated_games(n_games=200, seed=3)
    w = np.random.default_rng(4).integers(1, 4, win.size)
    a = bradley_terry(win, lose, n_items=8, weights=w.astype(float), ci=None)
    b = bradley_terry(np.repeat(win, w), np.repeat(lose, w), n_items=8, ci=None)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)


def test_bradley_terry_intervals_contain_the_score_and_bootstrap_agrees_with_the_hessian():
    win, lose, _ = simulated_games(n_games=2000, seed=5)
    h = bradley_terry(win, lose, n_items=8)
    b = bradley_terry(win, lose, n_items=8, ci="bootstrap", n_bootstrap=60, rng=1)
    assert np.all(h.ci_low < h.scores) and np.all(h.scores < h.ci_high)
    np.testing.assert_allclose(b.ci_high - b.ci_low, h.ci_high - h.ci_low, rtol=0.35)


def test_bradley_terry_prior_keeps_an_unbeaten_item_finite():
    r = bradley_terry([0, 0, 0, 1], [1, 2, 2, 2], n_items=4)
    assert np.all(np.isfinite(r.scores))
    assert r.scores[0] > r.scores[1] > r.scores[2]
    assert r.n_comparisons[3] == 0


def test_bradley_terry_on_no_comparisons_returns_zero_scores():
    r = bradley_terry([], [], n_items=3)
    np.testing.assert_allclose(r.scores, 0.0)


def test_preference_discounts_a_rater_who_always_picks_the_left_answer():
    rng = np.random.default_rng(6)
    n = 300
    truth = rng.integers(0, 2, n)
    comp = np.repeat(np.arange(n), 5)
    rater = np.tile(np.arange(5), n)
    choice = np.where(rng.random(comp.size) < 0.85, truth[comp], 1 - truth[comp])
    choice[rater >= 3] = LEFT  # two of five raters always click the left answer
    r = preference(comp, rater, choice, n_comparisons=n, n_raters=5)
    assert r.posterior.shape == (n, 3)
    np.testing.assert_allclose(r.margin, r.posterior[:, LEFT] - r.posterior[:, RIGHT])
    assert np.mean(r.label == truth) > 0.9
    mv = preference(comp, rater, choice, n_comparisons=n, n_raters=5, method="majority")
    assert np.mean(mv.label == truth) < np.mean(r.label == truth)
    assert set(np.unique(mv.label)) <= {LEFT, RIGHT, TIE}


def test_plackett_luce_matches_choix_on_partial_rankings():
    choix = pytest.importorskip("choix")
    rng = np.random.default_rng(7)
    true = rng.normal(size=8)
    ranks = np.array([rng.permutation(8)[:5] for _ in range(300)])
    noise = true[ranks] + rng.gumbel(size=ranks.shape)
    ranks = np.take_along_axis(ranks, np.argsort(-noise, axis=1), axis=1)
    ranks[:60, 3:] = -1
    ours = plackett_luce(ranks, n_items=8, prior=0.0, tol=1e-12)
    theirs = choix.ilsr_rankings(8, [tuple(r[r >= 0]) for r in ranks], alpha=0, tol=1e-12)
    np.testing.assert_allclose(ours.scores, theirs - theirs.mean(), atol=1e-6)


def test_plackett_luce_on_pairs_equals_bradley_terry():
    win, lose, _ = simulated_games(seed=8)
    pl = plackett_luce(np.stack([win, lose], axis=1), n_items=8, prior=0.0, tol=1e-12)
    bt = bradley_terry(win, lose, n_items=8, prior=0.0, tol=1e-12, ci=None)
    np.testing.assert_allclose(pl.scores, bt.scores, atol=1e-7)


def test_borda_gives_hand_checkable_points_and_normalised_scores():
    r = borda([[0, 1, 2], [1, 0, -1], [2, -1, -1]], n_items=4)
    np.testing.assert_allclose(r.points, [2 + 0, 1 + 1, 0, 0])
    np.testing.assert_allclose(r.scores[:3], [(1 + 0) / 2, (0.5 + 1) / 2, 0.0])
    assert np.isnan(r.scores[3])


def test_rankings_with_gaps_or_repeats_are_rejected():
    with pytest.raises(ValueError, match="padding"):
        borda([[0, -1, 1]], n_items=2)
    with pytest.raises(ValueError, match="twice"):
        plackett_luce([[0, 0]], n_items=2)
