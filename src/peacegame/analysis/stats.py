"""Confidence intervals used by the summaries (numpy and the standard library only).

- **Proportions** (the agreement rate, the share of agreements in the zone): the
  Wilson score interval, which stays inside [0, 1] and behaves at 0 and n.
- **Means** (utilities, rewards, social welfare): the Student t interval
  ``mean +- t_{(1+c)/2, n-1} * s / sqrt(n)`` with the sample standard deviation
  ``s`` (ddof=1). The t quantile is computed exactly here (bisection on the t
  CDF through the regularised incomplete beta function), so scipy is not
  needed. With fewer than two values the bounds are NaN.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
"""The confidence level of every interval the summaries print."""


def normal_quantile(p: float) -> float:
    """Return the standard normal quantile at ``p``."""
    return NormalDist().inv_cdf(p)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function ``I_x(a, b)``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + a * math.log(x)
        + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student t cumulative distribution function."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Student t quantile at ``p`` with ``df`` degrees of freedom.

    Args:
        p: Probability in (0, 1).
        df: Degrees of freedom, > 0.

    Returns:
        The ``t`` with ``t_cdf(t, df) == p`` (to about 1e-12).

    """
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"expected 0 < p < 1 and df > 0, got p={p}, df={df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def wilson_interval(
    successes: int, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Args:
        successes: Number of successes ``k``.
        n: Number of trials.
        confidence: Two-sided confidence level.

    Returns:
        ``(low, high)``; ``(nan, nan)`` when ``n == 0``.

    """
    if n <= 0:
        return (math.nan, math.nan)
    z = normal_quantile(0.5 + confidence / 2.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


def mean_interval(
    values: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float, float, int]:
    """Mean and Student t confidence interval, ignoring NaN.

    Args:
        values: The sample (NaN entries are dropped).
        confidence: Two-sided confidence level.

    Returns:
        ``(mean, low, high, n)``; the mean is NaN for an empty sample, the
        bounds are NaN with fewer than two values.

    """
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return (mean, math.nan, math.nan, n)
    half = (
        t_quantile(0.5 + confidence / 2.0, n - 1)
        * float(x.std(ddof=1))
        / (math.sqrt(n))
    )
    return (mean, mean - half, mean + half, n)
