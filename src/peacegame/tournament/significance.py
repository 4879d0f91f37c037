"""Significance tests of the rankings (numpy and the standard library only).

- :func:`wilcoxon_signed_rank`: paired, on the differences ``d``. Zero
  differences are dropped (Wilcoxon's method); ``|d|`` gets average ranks.
  With at most :data:`EXACT_MAX` non-zero differences and no ties the p-value
  is exact (the permutation distribution of ``W+``); otherwise it is the normal
  approximation with the tie correction
  ``var = n(n+1)(2n+1)/24 - sum(t^3 - t)/48``, without continuity correction.
  These are the conventions of ``scipy.stats.wilcoxon`` (``method="auto"``).
- :func:`paired_t_test`: Student's t on ``d``, ``n - 1`` degrees of freedom.
- :func:`welch_t_test`: two independent samples, Welch-Satterthwaite degrees of
  freedom (the ``sampled`` scheme, whose assignments are not paired).
- :func:`holm`: Holm's step-down adjustment, which controls the family-wise
  error rate of the neighbour comparisons: with ``m`` p-values sorted
  ascending, ``p_(i)`` becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``.

Every p-value is two-sided. A test with nothing to test (no pairs, or all
differences zero) has p = 1; a constant non-zero difference has p = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from peacegame.analysis.stats import t_cdf

EXACT_MAX = 50
"""Largest number of non-zero differences with an exact Wilcoxon p-value."""


@dataclass(frozen=True)
class TestResult:
    """The outcome of one test.

    Attributes:
        statistic: ``W+`` (Wilcoxon) or ``t``.
        p_value: Two-sided p-value (NaN when the test is undefined).
        n: Pairs (or observations) used.
        method: ``wilcoxon-exact``, ``wilcoxon-normal``, ``paired-t`` or
            ``welch-t``.
    """

    statistic: float
    p_value: float
    n: int
    method: str


def _rank_abs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based) of ``values`` and the sizes of tied groups."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(values.size, np.float64)
    _, start, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    return ranks, counts


def _exact_wilcoxon_cdf(n: int) -> np.ndarray:
    """``P(W+ <= w)`` for ``w = 0..n(n+1)/2``, untied ranks ``1..n``."""
    top = n * (n + 1) // 2
    counts = np.zeros(top + 1, np.float64)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    return np.cumsum(counts) / 2.0**n


def wilcoxon_signed_rank(d: Sequence[float] | np.ndarray) -> TestResult:
    """Wilcoxon signed-rank test of the paired differences ``d`` (see above)."""
    x = np.asarray(d, np.float64)
    x = x[~np.isnan(x)]
    x = x[x != 0]
    n = int(x.size)
    if n == 0:
        return TestResult(0.0, 1.0, 0, "wilcoxon-exact")
    ranks, ties = _rank_abs(np.abs(x))
    w_plus = float(ranks[x > 0].sum())
    if n <= EXACT_MAX and not (ties > 1).any():
        cdf = _exact_wilcoxon_cdf(n)
        top = n * (n + 1) // 2
        low = min(w_plus, top - w_plus)
        p = min(1.0, 2.0 * float(cdf[int(round(low))]))
        return TestResult(w_plus, p, n, "wilcoxon-exact")
    mean = n * (n + 1) / 4.0
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float((ties**3 - ties).sum()) / 48.0
    if var <= 0:
        return TestResult(w_plus, 1.0, n, "wilcoxon-normal")
    z = (w_plus - mean) / math.sqrt(var)
    p = 2.0 * (1.0 - NormalDist().cdf(abs(z)))
    return TestResult(w_plus, min(1.0, p), n, "wilcoxon-normal")


def _t_p_value(t: float, df: float) -> float:
    return min(1.0, 2.0 * (1.0 - t_cdf(abs(t), df)))


def paired_t_test(d: Sequence[float] | np.ndarray) -> TestResult:
    """Student's paired t test on the differences ``d``."""
    x = np.asarray(d, np.float64)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return TestResult(0.0, 1.0, 0, "paired-t")
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    if sd == 0.0:
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        return TestResult(t, 1.0 if mean == 0 else 0.0, n, "paired-t")
    t = mean / (sd / math.sqrt(n))
    return TestResult(t, _t_p_value(t, n - 1), n, "paired-t")


def welch_t_test(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
) -> TestResult:
    """Welch's t test of two independent samples (``mean(a) - mean(b)``)."""
    x = np.asarray(a, np.float64)
    y = np.asarray(b, np.float64)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    n = int(x.size + y.size)
    if x.size < 2 or y.size < 2:
        return TestResult(math.nan, math.nan, n, "welch-t")
    diff = float(x.mean() - y.mean())
    vx, vy = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    if vx + vy == 0.0:
        t = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        return TestResult(t, 1.0 if diff == 0 else 0.0, n, "welch-t")
    t = diff / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return TestResult(t, _t_p_value(t, df), n, "welch-t")


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order (NaN counts as 1)."""
    p = np.array([1.0 if math.isnan(v) else float(v) for v in p_values])
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return [float(v) for v in adjusted]
