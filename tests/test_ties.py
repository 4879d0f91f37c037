"""Exact ties: the documented tie rule decides them, not float32 rounding.

The rule (``peacegame.solutions``): values within ``TIE_TOLERANCE`` are tied;
ties go to the larger utility sum, then to the lower outcome index. Every
expected answer below is found by brute force in exact arithmetic
(:class:`fractions.Fraction` of the numbers the scenario declares).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from peacegame.scenario import compile_dict
from peacegame.solutions import solve

LEVELS = 21  # a gets i / 20, b gets 1 - i / 20
D_A, D_B = 0.1, 0.15


def pie(term: str, d_a: float = D_A, d_b: float = D_B) -> dict[str, Any]:
    """Two actors splitting a pie in 21 steps, unanimous consent.

    Args:
        term: ``table`` (a value per level) or ``curve`` (a line over the
            level attribute, so utilities pick up float64 rounding noise).
        d_a: a's no-deal value.
        d_b: b's no-deal value.

    """
    shares = [i / (LEVELS - 1) for i in range(LEVELS)]

    def terms(up: bool) -> list[dict[str, Any]]:
        if term == "table":
            values = shares if up else [(LEVELS - 1 - i) / 20 for i in range(LEVELS)]
            return [{"weight": 1, "issue": "split", "values": values}]
        curve = [[0, 0], [1, 1]] if up else [[0, 1], [1, 0]]
        return [{"weight": 1, "feature": "split.x", "curve": curve}]

    return {
        "name": "pie21",
        "issues": [
            {
                "name": "split",
                "levels": [{"name": f"s{i}", "x": x} for i, x in enumerate(shares)],
            }
        ],
        "actors": [
            {
                "id": "a",
                "no_deal": d_a,
                "discount": 1,
                "recognition": 0.5,
                "terms": terms(True),
            },
            {
                "id": "b",
                "no_deal": d_b,
                "discount": 1,
                "recognition": 0.5,
                "terms": terms(False),
            },
        ],
        "consent": [{"actors": ["a", "b"]}],
    }


def exact(x: float) -> Fraction:
    """The decimal a scenario author wrote, exactly (``0.45`` is 9/20)."""
    return Fraction(repr(x))


def exact_pie(d_a: float = D_A, d_b: float = D_B):
    """Exact utilities ``u[o] = (a, b)`` and no-deal values of :func:`pie`."""
    u = []
    for i in range(LEVELS):
        x = exact(i / (LEVELS - 1))
        u.append((x, 1 - x))
    return u, (exact(d_a), exact(d_b))


def rule_winner(
    u: list[tuple[Fraction, ...]],
    candidates: list[int],
    key: Callable[[int], Fraction],
) -> tuple[int, list[int]]:
    """Best candidate by ``key``, then the larger sum, then the lower index.

    Returns:
        The winner and every candidate tied on ``key`` (to show the tie is real).

    """
    best = max(key(o) for o in candidates)
    tied = [o for o in candidates if key(o) == best]
    top_sum = max(sum(u[o]) for o in tied)
    return min(o for o in tied if sum(u[o]) == top_sum), tied


@pytest.mark.parametrize("term", ["table", "curve"])
def test_exact_nash_ks_egalitarian_ties_follow_the_rule(term: str) -> None:
    s = compile_dict(pie(term))
    sol = solve(s)
    u, d = exact_pie()
    gains = [tuple(ui - di for ui, di in zip(uo, d, strict=True)) for uo in u]
    bset = [o for o in range(LEVELS) if all(g >= 0 for g in gains[o])]
    assert [bool(sol.bargaining[o]) for o in range(LEVELS)] == [
        o in bset for o in range(LEVELS)
    ]
    ideal = [max(u[o][i] for o in bset) for i in range(2)]
    keys = {
        # Equal weights: the weighted Nash product orders like the plain product.
        "nash": lambda o: gains[o][0] * gains[o][1],
        "kalai_smorodinsky": lambda o: min(
            gains[o][i] / (ideal[i] - d[i]) for i in range(2)
        ),
        "egalitarian": lambda o: min(gains[o]),
    }
    for name, key in keys.items():
        want, tied = rule_winner(u, bset, key)
        # The example of issue 16: 45-55 (index 9) and 50-50 (index 10) tie
        # exactly, with equal sums, so the lower index wins.
        assert tied == [9, 10], name
        assert sol.points[name] == want == 9, name


@pytest.mark.parametrize("term", ["table", "curve"])
def test_utilitarian_tie_on_equal_sums_is_the_lowest_index(term: str) -> None:
    s = compile_dict(pie(term))
    sol = solve(s)
    u, d = exact_pie()
    zone = [
        o
        for o in range(LEVELS)
        if all(ui >= di for ui, di in zip(u[o], d, strict=True))
    ]
    assert {sum(u[o]) for o in zone} == {1}  # every zone outcome sums to 1
    assert [bool(sol.zone[o]) for o in range(LEVELS)] == [
        o in zone for o in range(LEVELS)
    ]
    assert sol.points["utilitarian"] == min(zone) == 2


def test_zone_boundary_is_exact_when_u_equals_d() -> None:
    # a's utility at s2 is exactly its d (0.1) and b's at s17 exactly 0.15,
    # through a curve (float64 noise): both are in the zone.
    s = compile_dict(pie("curve"))
    sol = solve(s)
    u, d = exact_pie()
    assert u[2][0] == d[0] and u[17][1] == d[1]
    assert sol.zone[2] and sol.zone[17] and not sol.zone[1] and not sol.zone[18]


def test_nearest_outcome_tie_follows_the_rule() -> None:
    from peacegame.solutions import nearest_outcome

    s = compile_dict(pie("curve"))
    # (0.475, 0.525) is exactly as far from s9 (0.45, 0.55) as from s10.
    target = (exact(0.475), exact(0.525))
    u, _ = exact_pie()
    dist = [
        sum((ui - ti) ** 2 for ui, ti in zip(u[o], target, strict=True))
        for o in range(21)
    ]
    tied = [o for o in range(LEVELS) if dist[o] == min(dist)]
    assert tied == [9, 10]
    assert nearest_outcome(s, [0.475, 0.525]) == 9


def test_pareto_frontier_treats_exactly_equal_vectors_alike() -> None:
    # Two issues: the second is a label nobody cares about, so each utility
    # vector occurs twice: once from a table, once computed through a curve.
    data = pie("table")
    data["issues"].append({"name": "label", "levels": ["p", "q"]})
    for actor in data["actors"]:
        actor["terms"][0]["weight"] = 3
        actor["terms"].append({"weight": 1, "issue": "label", "values": [0.5, 0.5]})
    s = compile_dict(data)
    sol = solve(s)
    # Exact: u = 3/4 share + 1/8, every split is efficient, so every outcome is
    # on the frontier (equal vectors are on it together).
    assert sol.frontier.all()


def test_grid_equilibrium_proposer_tie_follows_the_rule() -> None:
    from peacegame.theory import grid_equilibrium

    # One round, a proposes. a cares only about the split; b also about a
    # label (q over p). With d = 0, b accepts everything, so a's best share
    # (all of it) comes with either label: a tie the utility sum decides.
    data = pie("table", d_a=0.0, d_b=0.0)
    data["issues"].append({"name": "label", "levels": ["p", "q"]})
    data["actors"][1]["terms"].append(
        {"weight": 1, "issue": "label", "values": [0.0, 1.0]}
    )
    s = compile_dict(data)
    eq = grid_equilibrium(s, proposer="rotating", max_rounds=1)
    # Exact: outcome 2 i + l has u_a = i / 20, u_b = (1 - i / 20 + l) / 2.
    u = [
        (exact(i / 20), (1 - exact(i / 20) + label) / 2)
        for i in range(LEVELS)
        for label in (0, 1)
    ]
    accepted = [o for o in range(len(u)) if u[o][1] >= 0]
    want, tied = rule_winner(u, accepted, lambda o: u[o][0])
    assert tied == [40, 41] and want == 41
    assert bool(eq.agrees[0, 0]) and int(eq.offers[0, 0]) == want
