"""Draw calibrations: SALib designs on the unit cube, scipy.stats for the rest.

SALib draws the design in ``[0, 1]^P`` (Saltelli/Sobol', Latin hypercube or
Morris trajectories); each column is then mapped through the inverse CDF of
its number's distribution (``scipy.stats``: uniform, triangular, truncated
normal, beta on the range). The maps are monotone and the inputs independent,
so Sobol' indices computed on the unit design are those of the calibration.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from peacegame.errors import UserError
from peacegame.scenario.uncertainty import UncertainParameter

METHODS = ("sobol", "lhs", "morris")
MORRIS_LEVELS = 4


def problem(parameters: Sequence[UncertainParameter]) -> dict[str, Any]:
    """The SALib problem: one unit-interval variable per uncertain number."""
    return {
        "num_vars": len(parameters),
        "names": [p.name for p in parameters],
        "bounds": [[0.0, 1.0]] * len(parameters),
    }


def design_size(method: str, samples: int, n_parameters: int) -> int:
    """The SALib base size for about ``samples`` calibrations.

    Sobol': the largest power of two ``N`` with ``N * (P + 2) <= samples``
    (at least 2); Morris: ``samples // (P + 1)`` trajectories (at least 2);
    Latin hypercube: ``samples``.
    """
    if method == "sobol":
        n = 2
        while 2 * n * (n_parameters + 2) <= samples:
            n *= 2
        return n
    if method == "morris":
        return max(2, samples // (n_parameters + 1))
    return max(1, samples)


def unit_design(
    method: str, parameters: Sequence[UncertainParameter], samples: int, seed: int
) -> np.ndarray:
    """``float64[S, P]`` in the unit cube, drawn by SALib.

    Raises:
        UserError: For an unknown method or a scenario without uncertain numbers.

    """
    if method not in METHODS:
        raise UserError(f"--method {method}: expected one of {list(METHODS)}")
    if not parameters:
        raise UserError(
            "the scenario declares no uncertain numbers; give some a range, for "
            "example weight: {value: 0.35, range: [0.25, 0.45]}"
        )
    prob = problem(parameters)
    n = design_size(method, samples, len(parameters))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.sample import sobol

            design = sobol.sample(prob, n, calc_second_order=False, seed=seed)
        elif method == "morris":
            from SALib.sample import morris

            design = morris.sample(prob, n, num_levels=MORRIS_LEVELS, seed=seed)
        else:
            from SALib.sample import latin

            design = latin.sample(prob, n, seed=seed)
    return np.asarray(design, dtype=np.float64)


def _frozen(p: UncertainParameter) -> Any:
    from scipy import stats

    number = p.number
    assert number.range is not None
    low, high = number.range
    width = high - low
    par = number.parameters
    if number.distribution == "triangular":
        return stats.triang((par["mode"] - low) / width, loc=low, scale=width)
    if number.distribution == "normal":
        mean, sd = par["mean"], par["sd"]
        return stats.truncnorm(
            (low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd
        )
    if number.distribution == "beta":
        return stats.beta(par["a"], par["b"], loc=low, scale=width)
    return stats.uniform(loc=low, scale=width)


def to_values(unit: np.ndarray, parameters: Sequence[UncertainParameter]) -> np.ndarray:
    """Map a unit design to calibration values through each inverse CDF."""
    unit = np.atleast_2d(unit)
    out = np.empty_like(unit, dtype=np.float64)
    for k, p in enumerate(parameters):
        low, high = p.number.range  # type: ignore[misc]
        out[:, k] = np.clip(_frozen(p).ppf(unit[:, k]), low, high)
    return out


def one_at_a_time(parameters: Sequence[UncertainParameter]) -> np.ndarray:
    """``float64[1 + 2P, P]``: the nominal row, then each number at its two ends."""
    nominal = np.array([p.number.value for p in parameters], float)
    rows = [nominal]
    for k, p in enumerate(parameters):
        for end in p.number.range:  # type: ignore[union-attr]
            row = nominal.copy()
            row[k] = end
            rows.append(row)
    return np.vstack(rows)
