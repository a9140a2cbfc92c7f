import numpy as np
import pytest

from quality.numeric import (
    cohen_kappa_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    position_bias_test,
)


def reliability_data(seed=0, n_raters=6, n_items=40, missing=0.3):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 4, (n_raters, n_items)).astype(float)
    data[:3] = np.where(rng.random((3, n_items)) < 0.7, data[0], data[:3])
    data[rng.random(data.shape) < missing] = np.nan
    rater, item = np.nonzero(~np.isnan(data))
    return data, item, rater, data[rater, item]


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_alpha_matches_the_krippendorff_package_with_missing_data(level):
    krippendorff = pytest.importorskip("krippendorff")
    data, item, rater, value = reliability_data()
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert krippendorff_alpha(item, rater, value, level=level) == pytest.approx(expected)


def test_krippendorff_alpha_is_one_for_perfect_agreement_and_nan_without_pairs():
    assert krippendorff_alpha([0, 0, 1, 1], [0, 1, 0, 1], [2, 2, 5, 5]) == pytest.approx(1.0)
    assert np.isnan(krippendorff_alpha([0, 1], [0, 0], [1, 2]))


def test_cohen_kappa_matrix_matches_scikit_learn_for_every_pair_and_is_nan_when_too_few():
    metrics = pytest.importorskip("sklearn.metrics")
    data, item, rater, value = reliability_data(seed=1, missing=0.2)
    k = cohen_kappa_matrix(item, rater, value.astype(int), n_raters=7, min_shared=5)
    for a in range(6):
        for b in range(6):
            if a == b:
                assert np.isnan(k[a, b])
                continue
            both = ~np.isnan(data[a]) & ~np.isnan(data[b])
            expected = metrics.cohen_kappa_score(data[a, both], data[b, both])
            assert k[a, b] == pytest.approx(expected)
    assert np.all(np.isnan(k[6]))  # rater 6 never voted


def test_fleiss_kappa_matches_a_hand_computed_example():
    # 3 items x 3 raters: counts per item (2,1), (3,0), (0,3)
    item = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    rater = [0, 1, 2] * 3
    label = [0, 0, 1, 0, 0, 0, 1, 1, 1]
    p_i = np.array([2 / 6, 1.0, 1.0])
    p_j = np.array([5 / 9, 4 / 9])
    expected = (p_i.mean() - (p_j**2).sum()) / (1 - (p_j**2).sum())
    assert fleiss_kappa(item, rater, label) == pytest.approx(expected)


def test_percent_agreement_counts_agreeing_pairs():
    # item 0: labels 0,0,1 -> 1 agreeing pair of 3; item 1: 1,1 -> 1 of 1
    assert percent_agreement([0, 0, 0, 1, 1], [0, 1, 2, 0, 1], [0, 0, 1, 1, 1]) == pytest.approx(
        (2 + 2) / (6 + 2)
    )


def test_agreement_keeps_one_vote_per_rater_and_item():
    once = krippendorff_alpha([0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 0, 1])
    twice = krippendorff_alpha([0, 0, 1, 1, 1], [0, 1, 0, 1, 1], [1, 1, 0, 1, 1])
    assert once == pytest.approx(twice)


def test_position_bias_test_is_an_exact_two_sided_binomial_test():
    stats = pytest.importorskip("scipy.stats")
    for left, right in [(60, 40), (5, 0), (50, 50), (1, 30)]:
        r = position_bias_test(left, right)
        assert r.p_value == pytest.approx(stats.binomtest(left, left + right).pvalue)
    assert position_bias_test(0, 0).p_value == 1.0
