"""The scenario language and the compiler, on the default scenario and variants."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brute_force import evaluate
from peacegame.errors import ConfigError
from peacegame.scenario import compile_dict, load_compiled, load_scenario
from peacegame.scenario.loader import deep_merge
from peacegame.solutions import nash_point, zone_of_agreement

from conftest import SCENARIOS
from scenario_strategies import scenario_dicts


def test_default_grid_and_feasible_counts(default_scenario):
    s = default_scenario
    assert s.grid_size == 5 * 6 * 4 * 4 * 3 * 4 == 5760
    assert s.n_outcomes == 3840  # SCENARIO.md golden
    assert s.actors == ("russia", "china", "ukraine", "us", "eu")
    assert s.utility.shape == (5, 3840) and s.utility.dtype == np.float32
    assert s.required.shape == (5, 3840) and s.required.dtype == bool
    assert s.levels.shape == (3840, 6)
    assert float(s.utility.min()) >= 0.0 and float(s.utility.max()) <= 1.0


def test_default_zone_golden(default_scenario):
    # SCENARIO.md: an independent brute-force computation gives 578 of 3,840.
    assert int(zone_of_agreement(default_scenario).sum()) == 578


def test_hand_computed_utility(default_scenario):
    s = default_scenario
    k = s.encode(
        {
            "troops": "25k",
            "composition": "nonaligned",
            "command": "un_commanded",
            "us_backstop": "air_support",
            "zone": "rear",
            "duration": "3_years",
        }
    )
    # Russia: european_troops 0 -> 1; command 1; backstop .2; troops 25k -> .5;
    # zone 1; duration .3; no red line crossed.
    russia = 0.35 * 1 + 0.20 * 1 + 0.15 * 0.2 + 0.25 * 0.5 + 0.03 * 1 + 0.02 * 0.3
    assert s.utility[0, k] == pytest.approx(russia, abs=1e-6)
    # Ukraine: deterrence 25k * 1.4 = 35k -> .6 + (.9-.6)*(10/35) ; backstop .75;
    # no Chinese troops 1; troops 25k .6; zone rear .4; duration 3y .7.
    deterrence = 0.6 + 0.3 * (35000 - 25000) / 35000
    ukraine = (
        0.35 * deterrence + 0.25 * 0.75 + 0.15 + 0.15 * 0.6 + 0.05 * 0.4 + 0.05 * 0.7
    )
    assert s.utility[2, k] == pytest.approx(ukraine, abs=1e-6)
    # All P5 proxies must consent under a UN command; China contributes nothing
    # but still votes as a Security Council member.
    assert s.required[:, k].all()


def test_soft_red_line_penalty(default_scenario):
    s = default_scenario
    base = {
        "troops": "10k",
        "composition": "european",
        "command": "coalition",
        "us_backstop": "none",
        "zone": "rear",
        "duration": "6_months",
    }
    k = s.encode(base)
    # Russia: 10k European troops -> .15; command coalition 0; backstop none 1;
    # troops 10k .8; zone 1; duration 1; minus two soft red lines of .25 each.
    raw = 0.35 * 0.15 + 0 + 0.15 * 1 + 0.25 * 0.8 + 0.03 + 0.02
    assert s.utility[0, k] == pytest.approx(max(raw - 0.5, 0.0), abs=1e-6)
    assert s.red_lines[("russia", "no_nato_troops")][k]
    assert s.red_lines[("russia", "no_force_without_unsc_mandate")][k]


def test_consent_without_chinese_troops_excludes_china(default_scenario):
    s = default_scenario
    without_china = s.features["chinese_troops"] == 0
    non_un = np.isin(s.levels[:, 2], [0])  # coalition command: no UNSC vote
    assert not s.required[1, without_china & non_un].any()
    assert s.required[1, s.features["chinese_troops"] > 0].all()
    assert s.required[0].all() and s.required[2].all()  # the parties, always


def test_feasibility_rules(default_scenario):
    s = default_scenario
    share_other = s.issues[1].attributes["share_other"][s.levels[:, 1]]
    assert not ((share_other > 0) & (s.levels[:, 2] == 0)).any()
    zero = s.levels[:, 0] == 0
    assert (s.levels[zero, 1] == 0).all()


def test_order_is_sorted_by_own_utility(default_scenario):
    s = default_scenario
    for a in range(s.n_actors):
        sorted_u = s.utility[a, s.order[a]]
        assert np.all(np.diff(sorted_u) <= 0)


def test_hardline_zone_is_empty():
    s = load_compiled(SCENARIOS / "hardline.yaml")
    assert s.n_outcomes == 3840
    assert int(zone_of_agreement(s).sum()) == 0


def test_no_china_shrinks_the_zone(default_scenario):
    # The counts come from the brute-force evaluator over the YAML, not from a
    # snapshot of the compiler's output.
    brute, brute_default = evaluate("no-china"), evaluate("ukraine-2025")
    s = load_compiled(SCENARIOS / "no-china.yaml")
    assert s.n_outcomes == brute.n_outcomes
    assert int(zone_of_agreement(s).sum()) == len(brute.zone)
    assert int(zone_of_agreement(default_scenario).sum()) == len(brute_default.zone)
    assert len(brute.zone) < len(brute_default.zone)
    assert not (s.features["chinese_troops"] > 0).any()


def test_brute_force_reproduces_the_scenario_goldens():
    # /work/shared/SCENARIO.md: 5,760 grid points, 3,840 feasible, a zone of 578
    # and the weighted Nash point with its utilities. This checks the evaluator
    # that the other tests take their numbers from.
    e = evaluate("ukraine-2025")
    assert (e.grid_size, e.n_outcomes, len(e.zone)) == (5760, 3840, 578)
    nash = e.nash_point
    assert nash is not None and nash.levels == {
        "troops": "25k",
        "composition": "nonaligned",
        "command": "un_commanded",
        "us_backstop": "air_support",
        "zone": "rear",
        "duration": "3_years",
    }
    rounded = {a: round(float(u), 2) for a, u in nash.utility.items()}
    assert rounded == {
        "russia": 0.74,
        "china": 0.73,
        "ukraine": 0.72,
        "us": 0.8,
        "eu": 0.59,
    }
    # No outcome sits within 0.001 of any d (SCENARIO.md), so exact ``u >= d``
    # and the package's float64 test with tolerance 1e-9 cannot differ, and no
    # tie decides the Nash point.
    assert e.margin >= Fraction(1, 1000)
    assert e.nash_gap > 1e-6
    assert evaluate("no-china").margin >= Fraction(1, 1000)


@pytest.mark.parametrize("name", ["ukraine-2025", "no-china"])
def test_compiler_agrees_with_brute_force(name):
    e = evaluate(name)
    s = load_compiled(SCENARIOS / f"{name}.yaml")
    assert s.grid_size == e.grid_size and s.n_outcomes == e.n_outcomes
    assert s.actors == e.actors
    issues = [(i.name, i.levels) for i in s.issues]
    decoded = [
        {n: levels[j] for (n, levels), j in zip(issues, row, strict=True)}
        for row in s.levels.tolist()
    ]
    assert decoded == [o.levels for o in e.outcomes]
    exact = np.array([[float(o.utility[a]) for o in e.outcomes] for a in e.actors])
    assert np.abs(s.utility64 - exact).max() < 1e-12
    assert s.no_deal64.tolist() == [float(e.no_deal[a]) for a in e.actors]
    required = [[a in o.required for o in e.outcomes] for a in e.actors]
    assert s.required.tolist() == required
    assert zone_of_agreement(s).tolist() == [e.in_zone(o) for o in e.outcomes]
    assert nash_point(s) == e.nash_point.index


@pytest.mark.parametrize(
    ("name", "outcomes", "zone"),
    [("no-us-backstop", 960, 93), ("un-only", 3600, 578)],
)
def test_other_variants(name, outcomes, zone):
    s = load_compiled(SCENARIOS / f"{name}.yaml")
    assert s.n_outcomes == outcomes
    assert int(zone_of_agreement(s).sum()) == zone


def test_scenario_hash_is_stable_and_content_based(tmp_path, default_scenario):
    again = load_compiled(SCENARIOS / "ukraine-2025.yaml")
    assert again.scenario_hash == default_scenario.scenario_hash
    assert (
        load_compiled(SCENARIOS / "no-china.yaml").scenario_hash != again.scenario_hash
    )


def test_shipped_name_resolution():
    assert load_compiled("hardline").name == "hardline"
    assert load_compiled(None).name == "ukraine-2025"


def test_encode_decode_default(default_scenario):
    s = default_scenario
    for k in range(0, s.n_outcomes, 97):
        assert s.encode(s.decode(k)) == k
    with pytest.raises(ValueError, match="not feasible"):
        s.encode({**s.decode(0), "troops": "0", "composition": "china_led"})
    with pytest.raises(KeyError, match="unknown level"):
        s.encode({**s.decode(0), "troops": "7k"})


@settings(max_examples=60, deadline=None)
@given(scenario_dicts())
def test_encode_decode_round_trip(data):
    s = compile_dict(data)
    for k in range(s.n_outcomes):
        assert s.encode(s.decode(k)) == k
    assert np.all(np.diff(s.grid_index) > 0)


@settings(max_examples=40, deadline=None)
@given(scenario_dicts(), st.data())
def test_weights_are_normalised(data, extra):
    s = compile_dict(data)
    assert s.utility.min() >= 0 and s.utility.max() <= 1
    # Scaling every weight of an actor leaves its utilities unchanged.
    scaled = dict(data)
    factor = extra.draw(st.sampled_from([0.5, 3.0]))
    scaled["actors"] = [
        {**a, "terms": [{**t, "weight": t["weight"] * factor} for t in a["terms"]]}
        for a in data["actors"]
    ]
    np.testing.assert_allclose(compile_dict(scaled).utility, s.utility, atol=1e-6)


def test_deep_merge_named_lists():
    base = {"a": 1, "items": [{"name": "x", "v": 1}, {"name": "y", "v": 2}]}
    over = {
        "items": [
            {"name": "y", "v": 3},
            {"name": "z", "v": 4},
            {"name": "x", "remove": True},
        ]
    }
    assert deep_merge(base, over) == {
        "a": 1,
        "items": [{"name": "y", "v": 3}, {"name": "z", "v": 4}],
    }


def test_extends_cycle_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_hard_red_line_floor():
    data = {
        "name": "t",
        "issues": [{"name": "i", "levels": ["a", "b"]}],
        "actors": [
            {
                "id": "x",
                "no_deal": 0.1,
                "discount": 1,
                "recognition": 1,
                "terms": [{"weight": 1, "issue": "i", "values": [0.9, 0.8]}],
                "red_lines": [
                    {
                        "name": "r",
                        "when": {"issue": "i", "in": ["b"]},
                        "kind": "hard",
                        "floor": 0.05,
                    }
                ],
            }
        ],
        "consent": [{"actors": ["x"]}],
    }
    s = compile_dict(data)
    np.testing.assert_allclose(s.utility[0], [0.9, 0.05], atol=1e-6)
