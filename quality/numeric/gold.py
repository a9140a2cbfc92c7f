"""Rater accuracy on gold items as a Beta posterior, and a position-bias test for pairwise
left/right choices. Pure numpy and the standard library."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _betacf(a, b, x):
    """Continued fraction for the regularised incomplete beta (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of Beta(a, b) by bisection on :func:`beta_cdf` (accurate to ~1e-12)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if beta_cdf(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class GoldAccuracy:
    """Per-rater accuracy on gold items. mean, lower: (n_raters,) posterior mean and lower
    credible bound at ``level``; correct, total: (n_raters,) counts behind them."""

    mean: np.ndarray
    lower: np.ndarray
    correct: np.ndarray
    total: np.ndarray


def gold_accuracy(correct, total, *, a=1.0, b=1.0, level=0.95) -> GoldAccuracy:
    """Beta(a, b) posterior of each rater's accuracy from ``correct`` of ``total`` gold answers.

    Shapes: ``correct``, ``total`` (n_raters,). ``lower`` is the one-sided ``level`` lower
    credible bound, the quantile 1 - level of Beta(a + correct, b + total - correct); use it to
    flag raters whose accuracy is credibly below a threshold without punishing raters who
    simply answered few gold items.
    """
    k = np.asarray(correct, dtype=np.float64)
    n = np.asarray(total, dtype=np.float64)
    if k.shape != n.shape or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= correct <= total, arrays of equal shape")
    pa, pb = a + k, b + n - k
    mean = pa / (pa + pb)
    lower = np.array(
        [beta_ppf(1.0 - level, x, y) for x, y in zip(pa.ravel(), pb.ravel(), strict=False)]
    )
    return GoldAccuracy(mean=mean, lower=lower.reshape(k.shape), correct=k, total=n)


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
