import numpy as np

from aggregation.numeric.likert import bias_corrected_mean, likert_summary
from aggregation.numeric.multilabel import multilabel


def test_likert_summary_gives_hand_checkable_mean_median_and_distribution():
    item = [0, 0, 0, 0, 1, 1, 1]
    rater = [0, 1, 2, 3, 0, 1, 2]
    rating = [0, 1, 3, 4, 2, 2, 4]
    r = likert_summary(item, rater, rating, n_items=3, n_raters=4, n_levels=5)
    np.testing.assert_allclose(r.mean[:2], [2.0, 8 / 3])
    np.testing.assert_allclose(r.median[:2], [2.0, 2.0])
    np.testing.assert_allclose(r.distribution[0], [0.25, 0.25, 0, 0.25, 0.25])
    assert np.isnan(r.mean[2]) and np.isnan(r.median[2])
    np.testing.assert_allclose(r.distribution[2], 0.2)


def test_bias_corrected_mean_removes_a_harsh_raters_offset():
    rng = np.random.default_rng(0)
    n_items, n_raters = 200, 10
    quality = rng.uniform(1, 3, n_items)
    item = np.repeat(np.arange(n_items), 3)
    rater = np.concatenate([rng.choice(n_raters, 3, replace=False) for _ in range(n_items)])
    offset = np.where(np.arange(n_raters) < 3, -1.0, 0.0)  # raters 0-2 are harsh
    x = np.clip(np.rint(quality[item] + offset[rater] + rng.normal(0, 0.3, item.size)), 0, 4)
    r = bias_corrected_mean(
        item, rater, x.astype(int), n_items=n_items, n_raters=n_raters, n_levels=5
    )
    plain = likert_summary(
        item, rater, x.astype(int), n_items=n_items, n_raters=n_raters, n_levels=5
    )
    assert r.converged
    assert r.offset[:3].mean() < r.offset[3:].mean() - 0.5
    assert np.corrcoef(r.mean, quality)[0, 1] > np.corrcoef(plain.mean, quality)[0, 1]


def test_multilabel_aggregates_each_tag_on_its_own():
    item = [0, 0, 0, 1, 1, 1]
    rater = [0, 1, 2, 0, 1, 2]
    tags = [[1, 0], [1, 1], [0, 1], [0, 0], [0, 0], [1, 0]]
    r = multilabel(item, rater, tags, n_items=2, n_raters=3, method="majority")
    np.testing.assert_array_equal(r.label, [[True, True], [False, False]])
    np.testing.assert_allclose(r.probability, [[2 / 3, 2 / 3], [1 / 3, 0]])
