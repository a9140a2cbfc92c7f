"""One trust posterior: quality.numeric.trust_posterior, read by every door.

The numeric tests need no database; the others show that the doors which used to compute the
posterior each in their own way (the quality selectors, the calibration dashboards, the rater
scores and the gold-weighted vote) now report the same figure for the same rater, including
the counts on which they used to disagree.
"""

import numpy as np
import pytest

from aggregation import methods
from aggregation.models import RaterScore
from aggregation.scoring import rater_scores_compute
from aggregation.services import rater_info
from quality.dashboards import calibration_table, rater_detail
from quality.numeric import trust_posterior
from quality.selectors import trust_from_counts, trust_of
from raters.models import Membership
from tests.aggregation.helpers import annotate
from tests.conftest import make_raters
from tests.factories import ItemFactory

# --- The numbers ------------------------------------------------------------------------------


def test_the_posterior_is_scipys_beta_of_one_plus_right_and_one_plus_wrong():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    n = rng.integers(0, 200, size=50).astype(float)
    right = np.round(rng.uniform(0, 1, size=50) * n * 4) / 4  # partial credit in quarters
    post = trust_posterior(right, n)
    a, b = 1 + right, 1 + n - right
    np.testing.assert_allclose(post.mean, stats.beta.mean(a, b), rtol=1e-12)
    np.testing.assert_allclose(post.lower, stats.beta.ppf(0.05, a, b), rtol=1e-9)
    np.testing.assert_allclose(post.upper, stats.beta.ppf(0.95, a, b), rtol=1e-9)
    # The band is the 90% equal-tailed interval, whatever the counts.
    np.testing.assert_allclose(
        stats.beta.cdf(post.upper, a, b) - stats.beta.cdf(post.lower, a, b), 0.9
    )


def test_all_right_and_all_wrong_raters_get_the_closed_form_quantiles():
    # Beta(n + 1, 1) has CDF x^(n+1) and Beta(1, n + 1) has CDF 1 - (1 - x)^(n+1), so their
    # quantiles are checkable by hand: for 4 of 4 right the lower bound is 0.05^(1/5) = 0.5493.
    n = np.array([0.0, 1.0, 4.0, 19.0])
    right = trust_posterior(n, n)
    np.testing.assert_allclose(right.mean, (n + 1) / (n + 2))
    np.testing.assert_allclose(right.lower, 0.05 ** (1 / (n + 1)))
    np.testing.assert_allclose(right.upper, 0.95 ** (1 / (n + 1)))
    assert right.lower[2] == pytest.approx(0.549280, abs=1e-6)
    wrong = trust_posterior(np.zeros(4), n)
    np.testing.assert_allclose(wrong.mean, 1 / (n + 2))
    np.testing.assert_allclose(wrong.lower, 1 - 0.95 ** (1 / (n + 1)))
    np.testing.assert_allclose(wrong.upper, 1 - 0.05 ** (1 / (n + 1)))


def test_a_rater_with_no_gold_answers_sits_at_the_uniform_prior():
    (t,) = trust_posterior(0.0, 0).rows()
    assert (t.n, t.mean, t.lower, t.upper) == (0, 0.5, pytest.approx(0.05), pytest.approx(0.95))


def test_credit_above_the_count_reads_as_all_right_and_below_zero_as_all_wrong():
    post = trust_posterior([4.0, 4.5, 6.0, 1e9, np.inf], [4, 4, 4, 4, 4])
    for field in ("right", "mean", "lower", "upper"):
        np.testing.assert_array_equal(getattr(post, field), getattr(post, field)[0])
    low = trust_posterior([0.0, -0.5, -3.0, np.nan, -np.inf], [3, 3, 3, 3, 3])
    for field in ("right", "mean", "lower", "upper"):
        np.testing.assert_array_equal(getattr(low, field), getattr(low, field)[0])
    assert post.mean[0] == pytest.approx(5 / 6) and low.mean[0] == pytest.approx(1 / 5)
    assert np.all(np.isfinite(post.lower)) and np.all(np.isfinite(low.upper))


def test_misaligned_counts_are_refused():
    with pytest.raises(ValueError, match="aligned"):
        trust_posterior([1.0, 2.0], [3])


# --- Every door, the same figure ---------------------------------------------------------------

# (gold_n, gold_score_sum): ordinary counts, partial credit, and the counts the doors used to
# disagree on. Above the count, the selectors left the credit uncapped: 4.5 of 4 gave a mean of
# 0.917 where the dashboards' table and the scores gave 0.833, and 6 of 4 made Beta(7, -1),
# whose quantile raised. Below zero, the selectors and the table read -0.5 of 3 as a mean of
# 0.1, and the rater scores raised.
CASES = [(20, 19.0), (5, 2.5), (4, 4.0), (4, 4.5), (4, 6.0), (3, -0.5), (1, 0.0)]


@pytest.fixture
def graded(project):
    raters = make_raters(project, len(CASES))
    items = ItemFactory.create_batch(3, project=project)
    for item in items:
        for r in raters:
            annotate(item, r, "yes")
    for r, (n, s) in zip(raters, CASES, strict=True):
        Membership.objects.filter(project=project, user=r).update(gold_n=n, gold_score_sum=s)
    trust_from_counts.cache_clear()
    return raters


def test_the_selectors_dashboards_scores_and_weights_agree_on_every_rater(project, graded):
    n = np.array([c[0] for c in CASES], dtype=float)
    want = trust_posterior([c[1] for c in CASES], n)
    members = {m.user_id: m for m in Membership.objects.filter(project=project)}
    table = {row.membership_id: row for row in calibration_table([project])}
    rater_scores_compute(project_id=project.pk)
    scores = {s.rater_id: s for s in RaterScore.objects.filter(project=project)}
    rater_ids = np.array([u.pk for u in graded])
    info = rater_info(project, rater_ids)
    votes = (np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), 1, len(graded), 2)
    weights, source = methods.rater_weights(votes, info, {"weights": "gold"}, subjective=False)
    assert source == "gold"
    for k, user in enumerate(graded):
        m = members[user.pk]
        mean, lower, upper = want.mean[k], want.lower[k], want.upper[k]
        selector = trust_of(m)
        row = table[m.pk]
        detail = rater_detail(m)["row"]
        score = scores[user.pk]
        assert (selector.mean, selector.lower, selector.upper) == (mean, lower, upper), CASES[k]
        assert (row.gold_mean, row.gold_lower, row.gold_upper) == (mean, lower, upper), CASES[k]
        assert (detail.gold_mean, detail.gold_lower, detail.gold_upper) == (mean, lower, upper)
        assert (score.gold_accuracy_mean, score.gold_accuracy_lower) == (mean, lower), CASES[k]
        assert weights[k] == mean, CASES[k]


def test_a_credit_above_the_count_no_longer_lifts_the_selectors_above_the_dashboards(
    project, graded
):
    by_case = dict(zip(CASES, graded, strict=True))
    capped = trust_of(Membership.objects.get(project=project, user=by_case[(4, 4.0)]))
    for case in [(4, 4.5), (4, 6.0)]:
        m = Membership.objects.get(project=project, user=by_case[case])
        assert trust_of(m) == capped
        assert calibration_table([project], q=m.user.username)[0].gold_mean == capped.mean
    assert capped.mean == pytest.approx(5 / 6)
    below = trust_of(Membership.objects.get(project=project, user=by_case[(3, -0.5)]))
    assert below.mean == pytest.approx(1 / 5) and below.lower == pytest.approx(1 - 0.95**0.25)
