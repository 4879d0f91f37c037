"""Exact solution concepts over a compiled scenario's feasible outcomes.

All functions are vectorised numpy over the outcome arrays; none samples. They
read the float64 utilities and no-deal values (``utility64``, ``no_deal64``),
never the float32 copy the step loop uses, so float32 rounding never decides a
tie.

Definitions (utilities ``u[i, o]``, no-deal values ``d[i]``, weights ``w[i]`` =
recognition probabilities):

- **Zone of agreement**: outcomes that the actors at or above their no-deal
  values (``u >= d`` up to :data:`TIE_TOLERANCE`) carry under the consent
  rules: under "all of" rules, every actor who votes on the outcome is at or
  above its d; under quota, weight and veto rules, those actors meet every
  rule that applies.
- **Bargaining set**: outcomes of the zone at which *every* actor, required or
  not, gets at least ``d``. Nash, Kalai-Smorodinsky and egalitarian points are
  taken over it, as bargaining theory defines them relative to the
  disagreement point.
- **Pareto frontier**: feasible outcomes whose utility vector no other feasible
  outcome weakly improves for all actors and strictly for one, comparing
  utilities rounded to multiples of :data:`TIE_TOLERANCE` (so that "equal" is
  transitive). Outcomes with equal utility vectors are all on the frontier or
  all off it.
- **Nash point**: maximises ``prod_i (u_i - d_i) ** w_i`` over the bargaining set.
  Outcomes where a weighted actor gains nothing (at most :data:`TIE_TOLERANCE`)
  rank below every outcome where all weighted actors gain (fewest zero gains
  first, then the product). Actors with zero weight do not enter the product.
- **Kalai-Smorodinsky point**: maximises ``min_i (u_i - d_i) / (ideal_i - d_i)``
  over the bargaining set, where ``ideal_i`` is actor i's best utility in it;
  actors with ``ideal_i == d_i`` (indifferent) are left out.
- **Utilitarian point**: maximises ``sum_i u_i`` over the zone.
- **Egalitarian point**: maximises ``min_i (u_i - d_i)`` over the bargaining set.

**Tie rule** (:func:`best_outcome`, used by every point here, by
:func:`nearest_outcome` and by the theory module): two values of a criterion
within :data:`TIE_TOLERANCE` of each other are a tie; ties are broken by the
larger utility sum (again up to the tolerance), then by the lower outcome index.
Points are None when their set is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.consent import carried_outcomes

POINTS = ("nash", "kalai_smorodinsky", "utilitarian", "egalitarian")

TIE_TOLERANCE = 1e-9
"""Two values of a criterion closer than this are a tie, everywhere ties are broken.

Utilities lie in [0, 1] and are computed in float64, so values that are equal in
exact arithmetic (the Nash products (0.5 - 0.1)(0.5 - 0.15) and
(0.45 - 0.1)(0.55 - 0.15) are both 0.14) differ by rounding error of order
1e-16, while values a scenario means to be different differ by far more.
Float32 (spacing about 6e-8 near 1) cannot resolve this, which is why the
float64 utilities are used. The same
tolerance applies to utility sums, gains, Kalai-Smorodinsky ratios, logarithms
of Nash products (a relative tolerance on the product) and distances.
"""


def _at_least_no_deal(scenario: CompiledScenario) -> np.ndarray:
    """``bool[n_actors, n_outcomes]``: u >= d up to the tie tolerance."""
    gain = scenario.utility64 - scenario.no_deal64[:, None]
    return gain >= -TIE_TOLERANCE


def zone_of_agreement(scenario: CompiledScenario) -> np.ndarray:
    """Return ``bool[n_outcomes]``: the actors at or above d carry the outcome.

    Under the default "all of" rules: every actor who votes on it gets at
    least its d. Under quota, weight and veto rules: the coalition of the
    actors at or above their d meets every rule that applies
    (:func:`peacegame.scenario.consent.carried_outcomes`).
    """
    rules = scenario.consent
    return carried_outcomes(
        rules.rules, rules.applies, np.ascontiguousarray(_at_least_no_deal(scenario))
    )


def bargaining_set(scenario: CompiledScenario) -> np.ndarray:
    """Return ``bool[n_outcomes]``: in the zone and every actor at least at d."""
    all_ir = np.all(_at_least_no_deal(scenario), axis=0)
    return all_ir & zone_of_agreement(scenario)


def pareto_mask(utility: np.ndarray, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """Pareto-efficient mask for maximisation.

    Utilities are compared after rounding to multiples of ``tolerance``, so
    utilities that are equal in exact arithmetic compare equal however they
    were rounded, and "equal" stays transitive.

    Args:
        utility: ``[n_actors, n_outcomes]`` utilities.
        tolerance: The rounding grid (0: compare exactly).

    Returns:
        ``bool[n_outcomes]``, True for outcomes no other outcome dominates.

    """
    utility = np.asarray(utility, dtype=np.float64)
    if utility.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    points = utility.T / tolerance if tolerance > 0 else utility.T
    points = np.ascontiguousarray(np.round(points) if tolerance > 0 else points)
    order = np.argsort(-points.sum(axis=1), kind="stable")
    return _efficient_in_order(points, order)


@njit(cache=True)
def _efficient_in_order(points: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Efficient mask of ``points`` (``[n, n_actors]``), visited by descending sum.

    A point can only be dominated by a point with a strictly larger sum, so a
    point that no efficient point visited before it weakly improves is
    efficient; one that equals an efficient point is efficient too (ties are
    all on the frontier) but is not kept as a comparison point. The frontier
    kept so far is a compact ``[k, n_actors]`` array; the compiled loop is
    about 5x the earlier numpy elimination (2026-12-01, 10^4 outcomes, 5
    actors, 732 on the frontier: 3.0 ms against 14 ms).
    """
    n, d = points.shape
    front = np.empty((n, d), points.dtype)
    kept = 0
    mask = np.zeros(n, np.bool_)
    for i in order:
        point = points[i]
        for k in range(kept):
            other = front[k]
            weakly_below, equal = True, True
            for a in range(d):
                if point[a] > other[a]:
                    weakly_below = False
                    break
                if point[a] < other[a]:
                    equal = False
            if weakly_below:  # dominated, or a copy of a frontier point
                mask[i] = equal
                break
        else:
            mask[i] = True
            # An element loop, not ``front[kept] = point``: the row assignment
            # brings numba's shape-error formatting, about 1 s of compilation.
            for a in range(d):
                front[kept, a] = point[a]
            kept += 1
    return mask


def best_outcome(
    keys: list[np.ndarray], candidates: np.ndarray, utility: np.ndarray
) -> int | None:
    """The best candidate by the project's tie rule.

    Keys are compared in order, each larger-is-better: the candidates within
    :data:`TIE_TOLERANCE` of the best value of a key stay tied and go on to the
    next key. After the keys, the larger utility sum decides (up to the same
    tolerance), then the lower outcome index.

    Args:
        keys: ``float[n_outcomes]`` criteria, most important first.
        candidates: ``bool[n_outcomes]``, the outcomes to choose from.
        utility: ``float64[n_actors, n_outcomes]``, for the utility sums.

    Returns:
        The chosen outcome index, or None if there is no candidate.

    """
    idx = np.flatnonzero(candidates)
    if idx.size == 0:
        return None
    sums = np.asarray(utility, np.float64).sum(axis=0)
    for key in [*keys, sums]:
        values = np.asarray(key, np.float64)[idx]
        idx = idx[values >= values.max() - TIE_TOLERANCE]
        if idx.size == 1:
            break
    return int(idx[0])


def nearest_outcome(scenario: CompiledScenario, point: np.ndarray) -> int:
    """The outcome whose utility vector is closest (Euclidean) to ``point``.

    Distances within :data:`TIE_TOLERANCE` are ties, broken by the tie rule
    (larger utility sum, then lower index).
    """
    u = scenario.utility64
    target = np.asarray(point, np.float64)[:, None]
    dist = np.sqrt(((u - target) ** 2).sum(axis=0))
    best = best_outcome([-dist], np.ones(u.shape[1], dtype=bool), u)
    assert best is not None, "a compiled scenario has at least one outcome"
    return best


def nash_point(
    scenario: CompiledScenario, weights: np.ndarray | None = None
) -> int | None:
    """Weighted Nash bargaining point over the bargaining set (None if empty)."""
    cand = bargaining_set(scenario)
    u = scenario.utility64
    d = scenario.no_deal64[:, None]
    w = scenario.recognition if weights is None else np.asarray(weights, float)
    active = w > 0
    gain = (u - d)[active]
    positive = gain > TIE_TOLERANCE
    with np.errstate(divide="ignore"):
        logs = np.where(positive, np.log(np.where(positive, gain, 1.0)), 0.0)
    objective = (w[active][:, None] * logs).sum(axis=0)
    zeros = (~positive).sum(axis=0)
    return best_outcome([-zeros.astype(float), objective], cand, u)


def kalai_smorodinsky_point(scenario: CompiledScenario) -> int | None:
    """Kalai-Smorodinsky point over the bargaining set (None if empty)."""
    cand = bargaining_set(scenario)
    if not cand.any():
        return None
    u = scenario.utility64
    d = scenario.no_deal64
    ideal = u[:, cand].max(axis=1)
    span = ideal - d
    moving = span > TIE_TOLERANCE
    if not moving.any():
        ratio = np.zeros(u.shape[1])
    else:
        ratio = ((u[moving] - d[moving, None]) / span[moving, None]).min(axis=0)
    return best_outcome([ratio], cand, u)


def utilitarian_point(scenario: CompiledScenario) -> int | None:
    """Outcome of the zone with the largest utility sum (None if empty)."""
    return best_outcome([], zone_of_agreement(scenario), scenario.utility64)


def egalitarian_point(scenario: CompiledScenario) -> int | None:
    """Outcome of the bargaining set with the largest smallest gain over d."""
    u = scenario.utility64
    gain = u - scenario.no_deal64[:, None]
    return best_outcome([gain.min(axis=0)], bargaining_set(scenario), u)


@njit(cache=True)
def _nearest_distances(points, targets, out) -> None:
    """``out[i]``: the distance from ``points[i]`` to its nearest row of ``targets``.

    Plain float64 loops, differences squared in a fixed order: no BLAS, so the
    same bits on every CPU. A partial sum already at the best so far stops
    (the full sum could only be larger), which changes no result.
    """
    m, n = points.shape
    for i in range(m):
        best = np.inf
        for j in range(targets.shape[0]):
            acc = 0.0
            for k in range(n):
                d = points[i, k] - targets[j, k]
                acc += d * d
                if acc >= best:
                    break
            if acc < best:
                best = acc
        out[i] = np.sqrt(best)


def distance_to_set(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Euclidean distance from each point to its nearest target, in utility space.

    Computed from the differences (not ``|p|^2 - 2 p.t + |t|^2`` with a matrix
    product, whose cancellation is ~1e-8 off near 0 and whose bits depend on
    the BLAS kernel): the values are logged, so they are the same everywhere.

    Args:
        points: ``[m, n_actors]`` utility vectors.
        targets: ``[t, n_actors]`` utility vectors (for example the frontier);
            with none, every distance is infinite.

    """
    points = np.ascontiguousarray(np.atleast_2d(np.asarray(points, np.float64)))
    targets = np.ascontiguousarray(np.atleast_2d(np.asarray(targets, np.float64)))
    out = np.empty(len(points))
    if len(points):
        _nearest_distances(points, targets, out)
    return out


@dataclass(frozen=True)
class Solution:
    """Every solution concept of one scenario.

    Attributes:
        zone: ``bool[n_outcomes]`` zone of agreement.
        bargaining: ``bool[n_outcomes]`` bargaining set.
        frontier: ``bool[n_outcomes]`` Pareto frontier of all feasible outcomes.
        points: Outcome index (or None) per name in :data:`POINTS`.

    """

    zone: np.ndarray
    bargaining: np.ndarray
    frontier: np.ndarray
    points: dict[str, int | None]

    def frontier_distance(
        self, scenario: CompiledScenario, outcomes: np.ndarray
    ) -> np.ndarray:
        """Distance in utility space from each outcome to the Pareto frontier.

        An outcome on the frontier is at distance 0 (the loop would find its
        own point, exactly 0), so only the others are searched: on a split
        pie, where every outcome is on the frontier, nothing is.
        """
        u = scenario.utility64
        outcomes = np.asarray(outcomes)
        out = np.zeros(outcomes.shape, np.float64)
        off = ~self.frontier[outcomes]
        if off.any():
            out[off] = distance_to_set(u[:, outcomes[off]].T, u[:, self.frontier].T)
        return out

    def nash_distance(
        self, scenario: CompiledScenario, outcomes: np.ndarray
    ) -> np.ndarray:
        """Distance in utility space from each outcome to the Nash point (or NaN)."""
        outcomes = np.asarray(outcomes)
        nash = self.points["nash"]
        if nash is None:
            return np.full(outcomes.shape, np.nan)
        u = scenario.utility64
        return distance_to_set(u[:, outcomes].T, u[:, nash][None, :])


def solve(scenario: CompiledScenario) -> Solution:
    """Compute the zone, the bargaining set, the frontier and every point."""
    return Solution(
        zone=zone_of_agreement(scenario),
        bargaining=bargaining_set(scenario),
        frontier=pareto_mask(scenario.utility64),
        points={
            "nash": nash_point(scenario),
            "kalai_smorodinsky": kalai_smorodinsky_point(scenario),
            "utilitarian": utilitarian_point(scenario),
            "egalitarian": egalitarian_point(scenario),
        },
    )
