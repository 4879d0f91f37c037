"""Confidence intervals used by the summaries, from scipy and statsmodels.

- **Proportions** (the agreement rate, the share of agreements in the zone): the
  Wilson score interval (``statsmodels.stats.proportion.proportion_confint``
  with ``method="wilson"``), which stays inside [0, 1] and behaves at 0 and n.
- **Means** (utilities, rewards, social welfare): the Student t interval
  ``mean +- t_{(1+c)/2, n-1} * s / sqrt(n)`` with the sample standard deviation
  ``s`` (ddof=1) and the quantile from ``scipy.stats.t.ppf``. With fewer than
  two values the bounds are NaN.

scipy and statsmodels come with the ``analysis`` extra. They are imported on
first use (:func:`require`), not when this module is imported, so that
``import peacegame`` stays fast; a missing one is a :class:`UserError` that says
what to install.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

import numpy as np

from peacegame.errors import UserError

CONFIDENCE = 0.95
"""The confidence level of every interval the summaries print."""


def require(module: str) -> ModuleType:
    """Import ``module`` (scipy or statsmodels) on first use.

    Raises:
        UserError: If it is not installed, naming the extra that provides it.

    """
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise UserError(
            f"statistics need {top}, which is not installed; expected "
            "pip install 'peacegame[analysis]'"
        ) from None


def t_quantile(p: float, df: float) -> float:
    """Student t quantile at ``p`` with ``df`` degrees of freedom.

    Args:
        p: Probability in (0, 1).
        df: Degrees of freedom, > 0.

    Returns:
        The ``t`` whose t CDF is ``p`` (``scipy.stats.t.ppf``).

    Raises:
        ValueError: If ``p`` or ``df`` is out of range.

    """
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"expected 0 < p < 1 and df > 0, got p={p}, df={df}")
    return float(require("scipy.stats").t.ppf(p, df))


def wilson_interval(
    successes: int, n: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Args:
        successes: Number of successes ``k``.
        n: Number of trials.
        confidence: Two-sided confidence level.

    Returns:
        ``(low, high)``, exactly 0 at ``k = 0`` and 1 at ``k = n``;
        ``(nan, nan)`` when ``n == 0``.

    """
    if n <= 0:
        return (math.nan, math.nan)
    proportion = require("statsmodels.stats.proportion")
    lo, hi = proportion.proportion_confint(
        successes, n, alpha=1.0 - confidence, method="wilson"
    )
    lo = 0.0 if successes <= 0 else max(0.0, float(lo))
    hi = 1.0 if successes >= n else min(1.0, float(hi))
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
    t = t_quantile(0.5 + confidence / 2.0, n - 1)
    half = t * float(x.std(ddof=1)) / math.sqrt(n)
    return (mean, mean - half, mean + half, n)
