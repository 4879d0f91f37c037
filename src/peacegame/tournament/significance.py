"""Significance tests of the rankings, from scipy and statsmodels.

- :func:`wilcoxon_signed_rank`: paired, on the differences ``d``
  (``scipy.stats.wilcoxon``). Zero differences are dropped (Wilcoxon's
  method); ``|d|`` gets average ranks. With at most :data:`EXACT_MAX` non-zero
  differences and no ties the p-value is exact; otherwise it is the normal
  approximation with the tie correction, without continuity correction.
- :func:`paired_t_test`: Student's t on ``d``, ``n - 1`` degrees of freedom
  (``scipy.stats.ttest_1samp`` against 0, which is what ``ttest_rel`` computes
  on the pairs).
- :func:`welch_t_test`: two independent samples, Welch-Satterthwaite degrees of
  freedom (``scipy.stats.ttest_ind(equal_var=False)``; the ``sampled`` scheme,
  whose assignments are not paired).
- :func:`holm`: Holm's step-down adjustment
  (``statsmodels.stats.multitest.multipletests(method="holm")``), which
  controls the family-wise error rate of the neighbour comparisons.

Every p-value is two-sided. A test with nothing to test (no pairs, or all
differences zero) has p = 1; under a t test a constant non-zero difference
has p = 0 (Wilcoxon treats it as ``n`` tied ranks).
scipy and statsmodels are imported on first use
(:func:`peacegame.analysis.stats.require`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from peacegame.analysis.stats import require

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

    @property
    def direction(self) -> int:
        """+1 when the data lean to a positive difference, -1 negative, else 0.

        The sign of ``t``, or of ``W+ - n(n + 1)/4`` (``W+`` minus its mean
        under the null) for Wilcoxon: the side a rejection is on.
        """
        centre = self.n * (self.n + 1) / 4 if self.method.startswith("wilcoxon") else 0
        lean = self.statistic - centre
        return 0 if math.isnan(lean) else int(np.sign(lean))


def wilcoxon_signed_rank(d: Sequence[float] | np.ndarray) -> TestResult:
    """Wilcoxon signed-rank test of the paired differences ``d`` (see above)."""
    x = np.asarray(d, np.float64)
    x = x[~np.isnan(x)]
    x = x[x != 0]
    n = int(x.size)
    if n == 0:
        return TestResult(0.0, 1.0, 0, "wilcoxon-exact")
    stats = require("scipy.stats")
    ranks = stats.rankdata(np.abs(x))
    w_plus = float(ranks[x > 0].sum())
    tied = np.unique(np.abs(x)).size < n
    exact = n <= EXACT_MAX and not tied
    result = stats.wilcoxon(
        x, zero_method="wilcox", correction=False, method="exact" if exact else "approx"
    )
    p = float(result.pvalue)
    if math.isnan(p):  # every |d| tied and the variance vanished
        p = 1.0
    method = "wilcoxon-exact" if exact else "wilcoxon-normal"
    return TestResult(w_plus, min(1.0, p), n, method)


def _degenerate(diff: float, n: int, method: str) -> TestResult:
    """No spread: p = 1 without a difference, p = 0 with one."""
    t = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return TestResult(t, 1.0 if diff == 0 else 0.0, n, method)


def paired_t_test(d: Sequence[float] | np.ndarray) -> TestResult:
    """Student's paired t test on the differences ``d``."""
    x = np.asarray(d, np.float64)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return TestResult(0.0, 1.0, 0, "paired-t")
    if n < 2 or float(x.std(ddof=1)) == 0.0:
        return _degenerate(float(x.mean()), n, "paired-t")
    result = require("scipy.stats").ttest_1samp(x, 0.0)
    return TestResult(float(result.statistic), float(result.pvalue), n, "paired-t")


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
    if float(x.var(ddof=1)) + float(y.var(ddof=1)) == 0.0:
        return _degenerate(float(x.mean() - y.mean()), n, "welch-t")
    result = require("scipy.stats").ttest_ind(x, y, equal_var=False)
    return TestResult(float(result.statistic), float(result.pvalue), n, "welch-t")


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order (NaN counts as 1)."""
    p = np.array([1.0 if math.isnan(v) else float(v) for v in p_values])
    if p.size == 0:
        return []
    multitest = require("statsmodels.stats.multitest")
    adjusted = multitest.multipletests(p, method="holm")[1]
    return [float(v) for v in adjusted]
