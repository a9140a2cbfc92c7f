"""Leaderboard numerics: the win matrix, intervals under reliability weights, and
Plackett–Luce intervals. No database."""

import numpy as np
import pytest

from aggregation.numeric.pairwise import bradley_terry, win_matrix
from aggregation.numeric.ranking import plackett_luce
from tests.aggregation.test_numeric_pairwise_ranking import simulated_games


def test_the_win_matrix_counts_each_head_to_head_exactly():
    # 0 beats 1 twice, 1 beats 0 once, 2 beats 0 once, 1 and 2 draw twice (sides either way).
    winner = [0, 0, 1, 2, 1, 2]
    loser = [1, 1, 0, 0, 2, 1]
    ties = [False, False, False, False, True, True]
    wm = win_matrix(winner, loser, n_items=3, ties=ties)
    np.testing.assert_array_equal(wm.wins, [[0, 2, 0], [1, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(wm.ties, [[0, 0, 0], [0, 0, 2], [0, 2, 0]])


def test_sandwich_intervals_equal_the_hessian_for_unit_weights_and_ignore_a_common_scale():
    win, lose, _ = simulated_games(n_games=400, seed=11)
    h = bradley_terry(win, lose, n_items=8)
    s = bradley_terry(win, lose, n_items=8, ci="sandwich")
    np.testing.assert_allclose(s.ci_high, h.ci_high)
    half = bradley_terry(win, lose, n_items=8, weights=np.full(win.size, 0.5), ci="sandwich")
    hess_half = bradley_terry(win, lose, n_items=8, weights=np.full(win.size, 0.5))
    # Halving every reliability says nothing new about the models: the robust interval
    # stays (up to the weak prior), while reading the weights as counts widens it by sqrt 2.
    np.testing.assert_allclose(half.ci_high - half.ci_low, s.ci_high - s.ci_low, rtol=0.02)
    assert np.all(hess_half.ci_high - hess_half.ci_low > 1.35 * (s.ci_high - s.ci_low))


def test_sandwich_intervals_agree_with_the_bootstrap_under_uneven_weights():
    win, lose, _ = simulated_games(n_games=2000, seed=12)
    w = np.where(np.random.default_rng(13).random(win.size) < 0.5, 0.1, 1.0)
    s = bradley_terry(win, lose, n_items=8, weights=w, ci="sandwich")
    b = bradley_terry(win, lose, n_items=8, weights=w, ci="bootstrap", n_bootstrap=60, rng=1)
    assert np.all(s.ci_low < s.scores) and np.all(s.scores < s.ci_high)
    np.testing.assert_allclose(b.ci_high - b.ci_low, s.ci_high - s.ci_low, rtol=0.35)


def test_bradley_terry_intervals_contain_the_estimate_and_widen_with_fewer_comparisons():
    win, lose, _ = simulated_games(n_games=1600, seed=14)
    many = bradley_terry(win, lose, n_items=8, ci="sandwich")
    few = bradley_terry(win[:200], lose[:200], n_items=8, ci="sandwich")
    for r in (many, few):
        assert np.all(r.ci_low < r.scores) and np.all(r.scores < r.ci_high)
    assert np.all(few.ci_high - few.ci_low > 2 * (many.ci_high - many.ci_low))


def test_a_bootstrap_over_raters_widens_when_each_rater_repeats_one_judgement():
    # 40 raters each give one judgement ten times over: 400 rows but only 40 independent
    # answers. Resampling rows believes the 400; resampling raters sees the 40.
    win, lose, _ = simulated_games(n_items=4, n_games=40, seed=15)
    win, lose = np.repeat(win, 10), np.repeat(lose, 10)
    rater = np.repeat(np.arange(40), 10)
    rows = bradley_terry(win, lose, n_items=4, ci="bootstrap", n_bootstrap=100, rng=2)
    raters = bradley_terry(
        win, lose, n_items=4, ci="bootstrap", n_bootstrap=100, rng=2, groups=rater
    )
    assert np.all(raters.ci_high - raters.ci_low > 2 * (rows.ci_high - rows.ci_low))


def simulated_rankings(n_items=6, n_rankings=300, seed=0):
    rng = np.random.default_rng(seed)
    true = rng.normal(size=n_items)
    ranks = np.array([rng.permutation(n_items) for _ in range(n_rankings)])
    noise = true[ranks] + rng.gumbel(size=ranks.shape)
    return np.take_along_axis(ranks, np.argsort(-noise, axis=1), axis=1), true


def test_plackett_luce_hessian_intervals_on_pairs_are_the_bradley_terry_ones():
    win, lose, _ = simulated_games(seed=16)
    pl = plackett_luce(np.stack([win, lose], axis=1), n_items=8, ci="hessian")
    bt = bradley_terry(win, lose, n_items=8)
    np.testing.assert_allclose(pl.ci_low, bt.ci_low, atol=1e-6)
    np.testing.assert_allclose(pl.ci_high, bt.ci_high, atol=1e-6)


def test_plackett_luce_intervals_contain_the_estimate_widen_with_fewer_rankings_and_agree():
    ranks, _ = simulated_rankings(seed=17)
    many = plackett_luce(ranks, n_items=6, ci="hessian")
    few = plackett_luce(ranks[:40], n_items=6, ci="hessian")
    boot = plackett_luce(ranks, n_items=6, ci="bootstrap", n_bootstrap=60, rng=3)
    for r in (many, few, boot):
        assert np.all(r.ci_low < r.scores) and np.all(r.scores < r.ci_high)
    assert np.all(few.ci_high - few.ci_low > 2 * (many.ci_high - many.ci_low))
    np.testing.assert_allclose(boot.ci_high - boot.ci_low, many.ci_high - many.ci_low, rtol=0.5)
    assert plackett_luce(ranks, n_items=6).ci_low is None


def test_plackett_luce_intervals_cover_the_true_worths_about_as_often_as_they_claim():
    hits = []
    for seed in range(30):
        ranks, true = simulated_rankings(n_rankings=80, seed=100 + seed)
        r = plackett_luce(ranks, n_items=6, ci="hessian", prior=0.0)
        centred = true - true.mean()
        hits += list((r.ci_low <= centred) & (centred <= r.ci_high))
    assert np.mean(hits) == pytest.approx(0.95, abs=0.06)
