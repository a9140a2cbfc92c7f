"""Rater accuracy on gold items as a Beta posterior, and a position-bias test for pairwise
left/right choices. numpy, scipy.special and the standard library; no Django."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv

# The one rule for a rater's trust, read by every door (the gold policy before a lease, the
# trust rules after a gold answer, the rater's own standing, the calibration dashboards, the
# rater scores and the gold-weighted vote):
# - Prior Beta(1, 1): uniform, so a rater with no gold answers sits at 0.5 with the widest
#   band, and each answer moves the estimate by a comparable step from the first one on.
# - The credit (Membership.gold_score_sum) is capped to [0, gold_n] before anything else. Each
#   answer scores in [0, 1], so a sum outside that range is drift (float sums of partial credit)
#   or a hand edit. Uncapped, a sum above gold_n pushed the second shape parameter below 1
#   (4.5 of 4 read as 92% where 4 of 4 reads as 83%) and from gold_n + 1 on the quantile
#   raised; a negative sum lowered the mean below that of all wrong, or raised. Capping reads
#   such a rater as all right (or all wrong), the nearest counts the posterior is defined for.
# - The band is the equal-tailed 90% credible interval: `lower` is the 5% quantile, so the
#   suspension rule ("lower < T2") suspends only raters whose accuracy is credibly low (95%
#   one-sided), not those who slipped on their first few answers.
# The quantiles come from scipy.special.betaincinv, vectorised and exact to rounding: a page of
# 1,000 raters takes one call.
TRUST_PRIOR = (1.0, 1.0)
TRUST_BAND = (0.05, 0.95)


@dataclass(frozen=True)
class Trust:
    """One rater's trust: n gold answers, posterior mean and the 90% credible band."""

    n: int
    mean: float
    lower: float
    upper: float


@dataclass(frozen=True)
class TrustPosterior:
    """Per-rater Beta posterior of gold accuracy, all (n_raters,) float64 arrays.

    n: gold answers; right: the credit after capping to [0, n]; a, b: the posterior's shape;
    mean: its mean; lower, upper: its 5% and 95% quantiles.
    """

    n: np.ndarray
    right: np.ndarray
    a: np.ndarray
    b: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    def rows(self) -> list[Trust]:
        return [
            Trust(n=int(n), mean=float(m), lower=float(lo), upper=float(hi))
            for n, m, lo, hi in zip(self.n, self.mean, self.lower, self.upper, strict=True)
        ]


def trust_posterior(score_sum, n) -> TrustPosterior:
    """Beta posterior of each rater's accuracy on gold answers, by the rule above.

    score_sum: (n_raters,) credit summed over gold answers (partial credit counts fractionally);
    n: (n_raters,) number of gold answers. Scalars are read as one rater. A credit that is not a
    number counts as none. Beta-binomial conjugacy: with prior Beta(a0, b0), ``right`` of ``n``
    gives Beta(a0 + right, b0 + n - right) (Gelman et al., Bayesian Data Analysis, 3rd ed., ch. 2).
    """
    count = np.maximum(np.atleast_1d(np.asarray(n, dtype=np.float64)), 0.0)
    credit = np.nan_to_num(np.atleast_1d(np.asarray(score_sum, dtype=np.float64)), nan=0.0)
    if count.shape != credit.shape or count.ndim != 1:
        raise ValueError(
            f"score_sum and n must be aligned 1-d arrays, got {credit.shape}, {count.shape}"
        )
    right = np.clip(credit, 0.0, count)
    a, b = TRUST_PRIOR[0] + right, TRUST_PRIOR[1] + count - right
    return TrustPosterior(
        n=count,
        right=right,
        a=a,
        b=b,
        mean=a / (a + b),
        lower=betaincinv(a, b, TRUST_BAND[0]),
        upper=betaincinv(a, b, TRUST_BAND[1]),
    )


@dataclass(frozen=True)
class PositionBias:
    """n_left, n_right: choices of the left and right answer (ties excluded); share_left;
    p_value: exact two-sided binomial test of share_left = 1/2."""

    n_left: int
    n_right: int
    share_left: float
    p_value: float


def position_bias_test(n_left: int, n_right: int) -> PositionBias:
    """Exact two-sided binomial test that left and right answers are chosen equally often.

    Run it per rater (or overall) on comparisons whose left/right order was randomised: a small
    p-value means the position, not the content, drives the choices. The two-sided p-value sums
    the probabilities of all outcomes no more likely than the observed one.
    """
    n_left, n_right = int(n_left), int(n_right)
    n = n_left + n_right
    if n == 0:
        return PositionBias(0, 0, float("nan"), 1.0)
    ks = np.arange(n + 1)
    logfact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
    logpmf = logfact[n] - logfact[ks] - logfact[n - ks] - n * math.log(2.0)
    obs = logpmf[n_left]
    p = float(np.exp(logpmf[logpmf <= obs + 1e-7]).sum())
    return PositionBias(n_left, n_right, n_left / n, min(1.0, p))
