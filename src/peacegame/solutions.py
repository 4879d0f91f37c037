"""Exact solution concepts over a compiled scenario's feasible outcomes.

All functions are vectorised numpy over the outcome arrays; none samples.

Definitions (utilities ``u[i, o]``, no-deal values ``d[i]``, weights ``w[i]`` =
recognition probabilities):

- **Zone of agreement**: outcomes at which every actor whose consent the outcome
  requires gets at least its no-deal value (``u >= d``, compared in float32).
- **Bargaining set**: outcomes of the zone at which *every* actor, required or
  not, gets at least ``d``. Nash, Kalai-Smorodinsky and egalitarian points are
  taken over it, as bargaining theory defines them relative to the
  disagreement point.
- **Pareto frontier**: feasible outcomes whose utility vector no other feasible
  outcome weakly improves for all actors and strictly for one. Outcomes with
  identical utility vectors are all on the frontier or all off it.
- **Nash point**: maximises ``prod_i (u_i - d_i) ** w_i`` over the bargaining set.
  Outcomes where a weighted actor gains nothing rank below every outcome where
  all weighted actors gain (fewest zero gains first, then the product). Actors
  with zero weight do not enter the product.
- **Kalai-Smorodinsky point**: maximises ``min_i (u_i - d_i) / (ideal_i - d_i)``
  over the bargaining set, where ``ideal_i`` is actor i's best utility in it;
  actors with ``ideal_i == d_i`` (indifferent) are left out.
- **Utilitarian point**: maximises ``sum_i u_i`` over the zone.
- **Egalitarian point**: maximises ``min_i (u_i - d_i)`` over the bargaining set.

Ties are broken by the larger utility sum, then by the lower outcome index.
Points are None when their set is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from peacegame.scenario.compiled import CompiledScenario

POINTS = ("nash", "kalai_smorodinsky", "utilitarian", "egalitarian")


def zone_of_agreement(scenario: CompiledScenario) -> np.ndarray:
    """Return ``bool[n_outcomes]``: every required actor gets at least its d."""
    ok = scenario.utility >= scenario.no_deal[:, None]
    return np.all(ok | ~scenario.required, axis=0)


def bargaining_set(scenario: CompiledScenario) -> np.ndarray:
    """Return ``bool[n_outcomes]``: in the zone and every actor at least at d."""
    all_ir = np.all(scenario.utility >= scenario.no_deal[:, None], axis=0)
    return all_ir & zone_of_agreement(scenario)


def pareto_mask(utility: np.ndarray) -> np.ndarray:
    """Exact Pareto-efficient mask for maximisation.

    Args:
        utility: ``[n_actors, n_outcomes]`` utilities.

    Returns:
        ``bool[n_outcomes]``, True for outcomes no other outcome dominates.

    """
    utility = np.asarray(utility)
    n = utility.shape[1]
    if n == 0:
        return np.zeros(0, dtype=bool)
    points = np.ascontiguousarray(utility.T)
    unique, inverse = _unique_rows(points)
    efficient = _efficient_unique(unique)
    return efficient[inverse]


def _unique_rows(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deduplicate rows through a byte view (much faster than axis=0 unique)."""
    rows = np.ascontiguousarray(points)
    void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    _, first, inverse = np.unique(void.ravel(), return_index=True, return_inverse=True)
    return rows[first], inverse.ravel()


def _efficient_unique(points: np.ndarray) -> np.ndarray:
    """Efficient mask over distinct points, by elimination in descending-sum order.

    A point can only be dominated by a point with a strictly larger sum, so once
    every point ahead of it in that order has eliminated what it dominates, the
    point is efficient and eliminates its own dominated points in turn. Points
    are distinct, so "no better in any coordinate" means dominated.
    """
    order = np.argsort(-points.astype(np.float64).sum(axis=1), kind="stable")
    cols = np.ascontiguousarray(points[order].T)  # [n_actors, n], column scans
    index = order
    i = 0
    while i < cols.shape[1]:
        p = cols[:, i]
        dominated = cols[0, i + 1 :] <= p[0]
        for a in range(1, cols.shape[0]):
            dominated &= cols[a, i + 1 :] <= p[a]
        if dominated.any():
            keep = np.ones(cols.shape[1], dtype=bool)
            keep[i + 1 :] = ~dominated
            cols = cols[:, keep]
            index = index[keep]
        i += 1
    mask = np.zeros(len(points), dtype=bool)
    mask[index] = True
    return mask


def _argbest(keys: list[np.ndarray], candidates: np.ndarray) -> int | None:
    """Index of the best candidate by keys (each larger-is-better), then low index."""
    idx = np.flatnonzero(candidates)
    if idx.size == 0:
        return None
    # lexsort sorts ascending by the last key first; negate for descending.
    sort_keys = [idx] + [-k[idx] for k in reversed(keys)]
    return int(idx[np.lexsort(sort_keys)[0]])


def nash_point(
    scenario: CompiledScenario, weights: np.ndarray | None = None
) -> int | None:
    """Weighted Nash bargaining point over the bargaining set (None if empty)."""
    cand = bargaining_set(scenario)
    u = scenario.utility.astype(np.float64)
    d = scenario.no_deal.astype(np.float64)[:, None]
    w = scenario.recognition if weights is None else np.asarray(weights, float)
    active = w > 0
    gain = (u - d)[active]
    positive = gain > 0
    with np.errstate(divide="ignore"):
        logs = np.where(positive, np.log(np.where(positive, gain, 1.0)), 0.0)
    objective = (w[active][:, None] * logs).sum(axis=0)
    zeros = (~positive).sum(axis=0)
    return _argbest([-zeros.astype(float), objective, u.sum(axis=0)], cand)


def kalai_smorodinsky_point(scenario: CompiledScenario) -> int | None:
    """Kalai-Smorodinsky point over the bargaining set (None if empty)."""
    cand = bargaining_set(scenario)
    if not cand.any():
        return None
    u = scenario.utility.astype(np.float64)
    d = scenario.no_deal.astype(np.float64)
    ideal = u[:, cand].max(axis=1)
    span = ideal - d
    moving = span > 0
    if not moving.any():
        ratio = np.zeros(u.shape[1])
    else:
        ratio = ((u[moving] - d[moving, None]) / span[moving, None]).min(axis=0)
    return _argbest([ratio, u.sum(axis=0)], cand)


def utilitarian_point(scenario: CompiledScenario) -> int | None:
    """Outcome of the zone with the largest utility sum (None if empty)."""
    u = scenario.utility.astype(np.float64)
    return _argbest([u.sum(axis=0)], zone_of_agreement(scenario))


def egalitarian_point(scenario: CompiledScenario) -> int | None:
    """Outcome of the bargaining set with the largest smallest gain over d."""
    u = scenario.utility.astype(np.float64)
    gain = u - scenario.no_deal.astype(np.float64)[:, None]
    return _argbest([gain.min(axis=0), u.sum(axis=0)], bargaining_set(scenario))


def distance_to_set(
    points: np.ndarray, targets: np.ndarray, chunk: int = 4096
) -> np.ndarray:
    """Euclidean distance from each point to its nearest target, in utility space.

    Args:
        points: ``[m, n_actors]`` utility vectors.
        targets: ``[t, n_actors]`` utility vectors (for example the frontier).
        chunk: Rows of ``points`` handled at once, to bound memory.

    """
    points = np.atleast_2d(np.asarray(points, np.float64))
    targets = np.atleast_2d(np.asarray(targets, np.float64))
    out = np.empty(len(points))
    t_sq = (targets**2).sum(axis=1)
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        sq = (block**2).sum(axis=1)[:, None] - 2 * block @ targets.T + t_sq[None, :]
        out[start : start + chunk] = np.sqrt(np.maximum(sq.min(axis=1), 0.0))
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
        """Distance in utility space from each outcome to the Pareto frontier."""
        front = scenario.utility[:, self.frontier].T
        return distance_to_set(scenario.utility[:, np.asarray(outcomes)].T, front)

    def nash_distance(
        self, scenario: CompiledScenario, outcomes: np.ndarray
    ) -> np.ndarray:
        """Distance in utility space from each outcome to the Nash point (or NaN)."""
        outcomes = np.asarray(outcomes)
        nash = self.points["nash"]
        if nash is None:
            return np.full(outcomes.shape, np.nan)
        target = scenario.utility[:, nash][None, :]
        return distance_to_set(scenario.utility[:, outcomes].T, target)


def solve(scenario: CompiledScenario) -> Solution:
    """Compute the zone, the bargaining set, the frontier and every point."""
    return Solution(
        zone=zone_of_agreement(scenario),
        bargaining=bargaining_set(scenario),
        frontier=pareto_mask(scenario.utility),
        points={
            "nash": nash_point(scenario),
            "kalai_smorodinsky": kalai_smorodinsky_point(scenario),
            "utilitarian": utilitarian_point(scenario),
            "egalitarian": egalitarian_point(scenario),
        },
    )
