"""Solution concepts: brute-force references, textbook goldens, the default scenario."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peacegame.scenario import compile_dict
from peacegame.solutions import (
    bargaining_set,
    distance_to_set,
    kalai_smorodinsky_point,
    nash_point,
    pareto_mask,
    solve,
    zone_of_agreement,
)

from scenario_strategies import scenario_dicts


def brute_force_pareto(u: np.ndarray) -> np.ndarray:
    n = u.shape[1]
    mask = np.ones(n, dtype=bool)
    for j in range(n):
        for k in range(n):
            if np.all(u[:, k] >= u[:, j]) and np.any(u[:, k] > u[:, j]):
                mask[j] = False
                break
    return mask


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda k: st.lists(
            st.lists(
                st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), min_size=k, max_size=k
            ),
            min_size=1,
            max_size=40,
        )
    )
)
def test_pareto_equals_brute_force_with_ties(rows):
    u = np.array(rows, dtype=np.float32).T
    mask = pareto_mask(u)
    np.testing.assert_array_equal(mask, brute_force_pareto(u))


@settings(max_examples=60, deadline=None)
@given(scenario_dicts())
def test_frontier_and_points_on_random_scenarios(data):
    s = compile_dict(data)
    sol = solve(s)
    u = s.utility
    front = np.flatnonzero(sol.frontier)
    np.testing.assert_array_equal(sol.frontier, brute_force_pareto(u))
    # No frontier point is dominated; every dominated outcome is off it.
    for j in front:
        assert not np.any(
            np.all(u >= u[:, [j]], axis=0) & np.any(u > u[:, [j]], axis=0)
        )
    # The zone is exactly "every required actor at or above d".
    for o in range(s.n_outcomes):
        req = s.required[:, o]
        assert sol.zone[o] == bool(np.all(u[req, o] >= s.no_deal[req]))
    # The Nash point maximises the weighted Nash product over the bargaining set.
    nash = sol.points["nash"]
    bset = np.flatnonzero(bargaining_set(s))
    if bset.size == 0:
        assert nash is None
    else:
        assert nash in bset
        gain = u.astype(float) - s.no_deal.astype(float)[:, None]
        w = s.recognition

        def product(o):
            return float(np.prod(np.where(w > 0, gain[:, o], 1.0) ** w))

        best = max(product(o) for o in bset)
        assert product(nash) == pytest.approx(best, rel=1e-9, abs=1e-12)
    ks = sol.points["kalai_smorodinsky"]
    assert (ks is None) == (bset.size == 0)
    util = sol.points["utilitarian"]
    zone = np.flatnonzero(sol.zone)
    if zone.size:
        assert u[:, util].astype(float).sum() == pytest.approx(
            u[:, zone].astype(float).sum(axis=0).max()
        )
    else:
        assert util is None


def divide_the_dollar(d_a: float, d_b: float, w_a: float = 0.5, step: int = 100):
    """Actor a gets x, actor b gets 1 - x, on a grid of 1/step."""
    return compile_dict(_dollar_data(d_a, d_b, w_a, step))


def _dollar_data(d_a: float, d_b: float, w_a: float = 0.5, step: int = 100):
    return {
        "name": "dollar",
        "issues": [
            {
                "name": "split",
                "levels": [{"name": f"s{i}", "x": i / step} for i in range(step + 1)],
            }
        ],
        "actors": [
            {
                "id": "a",
                "no_deal": d_a,
                "discount": 1,
                "recognition": w_a,
                "terms": [
                    {"weight": 1, "feature": "split.x", "curve": [[0, 0], [1, 1]]}
                ],
            },
            {
                "id": "b",
                "no_deal": d_b,
                "discount": 1,
                "recognition": 1 - w_a,
                "terms": [
                    {"weight": 1, "feature": "split.x", "curve": [[0, 1], [1, 0]]}
                ],
            },
        ],
        "consent": [{"actors": ["a", "b"]}],
    }


def share(s, k):
    return float(s.utility[0, k])


def test_nash_divide_the_dollar_golden():
    # Nash: max (x - 0.4) (1 - x) -> x = 0.7.
    s = divide_the_dollar(0.4, 0.0)
    sol = solve(s)
    assert share(s, sol.points["nash"]) == pytest.approx(0.7, abs=1e-6)
    # KS: ideal (1, 0.6); (x - .4) / .6 = (1 - x) / .6 -> x = 0.7.
    assert share(s, sol.points["kalai_smorodinsky"]) == pytest.approx(0.7, abs=1e-6)
    assert share(s, sol.points["egalitarian"]) == pytest.approx(0.7, abs=1e-6)
    assert int(sol.zone.sum()) == 61  # x in [0.40, 1.00]
    assert int(sol.frontier.sum()) == 101  # every split is efficient


def test_weighted_nash_golden():
    # max .75 log(x - .4) + .25 log(1 - x) -> x = .4 + .75 * .6 = .85.
    s = divide_the_dollar(0.4, 0.0, w_a=0.75)
    assert share(s, nash_point(s)) == pytest.approx(0.85, abs=1e-6)


def test_symmetric_nash_is_half():
    s = divide_the_dollar(0.0, 0.0)
    assert share(s, nash_point(s)) == pytest.approx(0.5, abs=1e-6)


def test_empty_zone_gives_no_points():
    s = divide_the_dollar(0.7, 0.7)
    sol = solve(s)
    assert not sol.zone.any()
    assert all(v is None for v in sol.points.values())


def test_indifferent_actor_is_handled():
    s = compile_dict(
        {
            "name": "indifferent",
            "issues": [{"name": "i", "levels": ["a", "b", "c"]}],
            "actors": [
                {
                    "id": "x",
                    "no_deal": 0.2,
                    "discount": 1,
                    "recognition": 0.5,
                    "terms": [{"weight": 1, "issue": "i", "values": [0.3, 0.9, 0.6]}],
                },
                {
                    "id": "flat",
                    "no_deal": 0.5,
                    "discount": 1,
                    "recognition": 0.5,
                    "terms": [{"weight": 1, "constant": 0.5}],
                },
            ],
            "consent": [{"actors": ["x", "flat"]}],
        }
    )
    sol = solve(s)
    assert sol.points["nash"] == 1  # the flat actor gains nothing anywhere
    assert kalai_smorodinsky_point(s) == 1


def test_default_solution_golden(default_scenario):
    s = default_scenario
    sol = solve(s)
    assert int(sol.zone.sum()) == 578
    nash = sol.points["nash"]
    assert s.decode(nash) == {
        "troops": "25k",
        "composition": "nonaligned",
        "command": "un_commanded",
        "us_backstop": "air_support",
        "zone": "rear",
        "duration": "3_years",
    }
    np.testing.assert_allclose(
        s.utility[:, nash], [0.74, 0.73, 0.72, 0.80, 0.59], atol=0.005
    )
    assert sol.frontier[nash]
    assert sol.nash_distance(s, np.array([nash]))[0] == pytest.approx(0.0)
    assert sol.frontier_distance(s, np.array([nash]))[0] == pytest.approx(0.0)


def test_distance_to_set():
    d = distance_to_set(np.array([[0, 0], [1, 1]]), np.array([[3, 4], [1, 1]]))
    np.testing.assert_allclose(d, [np.sqrt(2), 0.0])


@settings(max_examples=40, deadline=None)
@given(scenario_dicts())
def test_frontier_distance_is_the_brute_force_nearest_frontier_point(doc):
    s = compile_dict(doc)
    sol = solve(s)
    u = s.utility64
    every = np.arange(s.n_outcomes)
    frontier = u[:, sol.frontier].T
    expected = [np.sqrt(((u[:, k] - frontier) ** 2).sum(axis=1).min()) for k in every]
    got = sol.frontier_distance(s, every)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert (got[sol.frontier] == 0.0).all()
    assert (got[~sol.frontier] > 0.0).all()


def test_zone_ignores_actors_whose_consent_is_not_required():
    s = divide_the_dollar(0.0, 0.5)
    assert int(zone_of_agreement(s).sum()) == 51  # b needs 1 - x >= .5
    only_a = compile_dict({**_dollar_data(0.0, 0.5), "consent": [{"actors": ["a"]}]})
    assert zone_of_agreement(only_a).all()
    assert not bargaining_set(only_a).all()  # b below d still leaves the set
