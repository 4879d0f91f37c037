"""Scenario comparison on hand-built scenarios with known zones, and the
counterfactual question the shipped Ukraine scenario declares."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from brute_force import evaluate
from peacegame.analysis import compare
from peacegame.analysis.compare import (
    compare_inputs,
    compare_scenarios,
    comparison_json,
    counterfactual_answer,
    declared_questions,
    format_comparison,
    scenario_facts,
)
from peacegame.errors import UserError
from peacegame.scenario import scenario_from_dict

RUN = Path(__file__).parent / "data" / "analysis" / "run_small"

# Two actors, two issues, four outcomes (index = 2 * size + who):
#   0 (small, west)  russia 0.5  ukraine 0.5   both >= 0.45: in the zone
#   1 (small, east)  russia 0.8  ukraine 0.2
#   2 (large, west)  russia 0.2  ukraine 0.8
#   3 (large, east)  russia 0.5  ukraine 0.5   in the zone; Chinese troops
BASE = {
    "name": "tiny",
    "issues": [
        {"name": "size", "levels": ["small", "large"]},
        {
            "name": "who",
            "levels": [
                {"name": "west", "share_china": 0.0, "troops": 1000},
                {"name": "east", "share_china": 0.5, "troops": 1000},
            ],
        },
    ],
    "features": [
        {"name": "chinese_troops", "product": ["who.share_china", "who.troops"]}
    ],
    "actors": [
        {
            "id": "russia",
            "name": "Russia",
            "no_deal": 0.45,
            "discount": 1,
            "recognition": 0.5,
            "terms": [
                {"weight": 1, "issue": "size", "values": [0.8, 0.2]},
                {"weight": 1, "issue": "who", "values": [0.2, 0.8]},
            ],
        },
        {
            "id": "ukraine",
            "name": "Ukraine",
            "no_deal": 0.45,
            "discount": 1,
            "recognition": 0.5,
            "terms": [
                {"weight": 1, "issue": "size", "values": [0.2, 0.8]},
                {"weight": 1, "issue": "who", "values": [0.8, 0.2]},
            ],
        },
    ],
    "consent": [{"actors": ["russia", "ukraine"]}],
    "questions": {
        "counterfactuals": [
            {
                "name": "contingent",
                "text": "Does a Chinese contingent enlarge the set of forces "
                "Russia accepts?",
                "focus": "russia",
                "feature": "chinese_troops",
                "label": "Chinese troops",
                "noun": "forces",
            }
        ]
    },
}


def variant(name: str, **changes) -> dict:
    data = copy.deepcopy(BASE)
    data["name"] = name
    data.update(changes)
    return data


def with_red_line(data: dict) -> dict:
    data = copy.deepcopy(data)
    data["actors"][1]["red_lines"] = [
        {
            "name": "no_east",
            "when": {"issue": "who", "in": ["east"]},
            "kind": "soft",
            "penalty": 0.1,
        }
    ]
    return data


@pytest.fixture
def tiny():
    return scenario_from_dict(variant("tiny"))


@pytest.fixture
def tiny_no_china():
    return scenario_from_dict(variant("tiny_no_china", drop_levels={"who": ["east"]}))


def test_facts_of_a_hand_built_scenario(tiny):
    assert scenario_facts(tiny)["contingent"] is None  # no question given
    f = scenario_facts(tiny, declared_questions(tiny)[0])
    assert f["focus"] == {"actor": "russia", "name": "Russia", "accepts": 3}
    assert (f["n_outcomes"], f["grid_size"], f["zone_size"]) == (4, 4, 2)
    assert f["accepts"] == {"russia": 3, "ukraine": 3}
    assert f["contingent"] == {
        "feature": "chinese_troops",
        "label": "Chinese troops",
        "outcomes": 2,
        "outcomes_without": 2,
        "zone": 1,
        "focus": {
            "actor": "russia",
            "name": "Russia",
            "accepts": 3,
            "accepts_with": 2,
            "accepts_without": 1,
        },
    }
    # Outcomes 0 and 3 tie on every criterion; the lower index wins.
    nash = f["points"]["nash"]
    assert nash["decoded"] == {"size": "small", "who": "west"}
    assert nash["utility"] == {"russia": 0.5, "ukraine": 0.5}
    assert f["red_lines"] == []


def test_red_line_binding(tiny):
    loaded = scenario_from_dict(with_red_line(variant("tiny_red")))
    f = scenario_facts(loaded)
    # Ukraine's penalty takes outcome 3 from 0.5 to 0.4 < 0.45: out of the zone.
    assert f["zone_size"] == 1
    row, total = f["red_lines"]
    assert row == {
        "actor": "ukraine",
        "red_line": "no_east",
        "kind": "soft",
        "crossed": 2,
        "crossed_in_zone": 0,
        "binds": 1,
    }
    assert total["actor"] == "(all red lines)" and total["binds"] == 1


def test_red_line_that_does_not_bind():
    data = with_red_line(variant("tiny_soft"))
    data["actors"][1]["red_lines"][0]["penalty"] = 0.02  # 0.5 -> 0.48 >= 0.45
    f = scenario_facts(scenario_from_dict(data))
    assert f["zone_size"] == 2
    assert f["red_lines"][0]["crossed_in_zone"] == 1
    assert f["red_lines"][0]["binds"] == 0


def test_compare_two_hand_built_scenarios(tiny, tiny_no_china):
    doc = compare_scenarios(tiny, tiny_no_china)
    a, b = doc["a"], doc["b"]
    assert (a["zone_size"], b["zone_size"]) == (2, 1)
    assert (a["n_outcomes"], b["n_outcomes"]) == (4, 2)
    assert b["accepts"]["russia"] == 1
    assert b["contingent"]["outcomes"] == 0
    answer = doc["answer"]
    assert answer.startswith("Does a Chinese contingent enlarge the set of forces")
    assert "Yes: allowing Chinese troops changes the forces Russia accepts" in answer
    assert "from 1 to 3 (+2, +200%)" in answer
    assert "zone of agreement from 1 to 2 (+1, +100%)" in answer
    text = format_comparison(doc)
    assert "A: tiny" in text and "B: tiny_no_china" in text
    assert "zone of agreement" in text and "2 (50.0%)" in text
    # The reverse order gives the same answer.
    assert "from 1 to 3" in compare_scenarios(tiny_no_china, tiny)["answer"]
    json.dumps(comparison_json(doc), allow_nan=False)


def test_answer_needs_the_feature_and_the_actor(tiny):
    data = variant("no_feature", features=[], questions={})
    plain = scenario_from_dict(data)
    assert compare_scenarios(plain, plain)["answer"] is None
    question = declared_questions(tiny)[0].model_copy(update={"focus": "nobody"})
    f = scenario_facts(tiny, question)
    assert f["focus"] is None and f["contingent"]["focus"] is None
    assert counterfactual_answer(f, f, question) is None


def test_china_counterfactual_on_the_shipped_scenarios():
    # Every count is derived by brute force over the YAML (tests/brute_force.py):
    # the outcomes Russia accepts (u >= d), those with Chinese troops
    # (chinese_troops > 0) and the zone outcomes with them.
    ea, eb = evaluate("ukraine-2025"), evaluate("no-china")

    def facts(e):
        accepts = [o for o in e.outcomes if e.accepts("russia", o)]
        with_ = [o for o in accepts if o.features["chinese_troops"] > 0]
        zone_with = [o for o in e.zone if o.features["chinese_troops"] > 0]
        return len(accepts), len(with_), len(accepts) - len(with_), len(zone_with)

    acc_a, with_a, without_a, zone_a = facts(ea)
    acc_b, with_b, _, zone_b = facts(eb)
    assert (ea.n_outcomes, len(ea.zone)) == (3840, 578)  # the SCENARIO.md goldens
    assert with_b == zone_b == 0 and acc_b == without_a  # no-china drops only them
    doc = compare_inputs("ukraine-2025", "no-china")
    a, b = doc["a"], doc["b"]
    assert (a["n_outcomes"], a["zone_size"]) == (ea.n_outcomes, len(ea.zone))
    assert (b["n_outcomes"], b["zone_size"]) == (eb.n_outcomes, len(eb.zone))
    fa, fb = a["contingent"]["focus"], b["contingent"]["focus"]
    assert (fa["accepts"], fa["accepts_with"], fa["accepts_without"]) == (
        acc_a,
        with_a,
        without_a,
    )
    assert (fb["accepts"], fb["accepts_with"]) == (acc_b, with_b)
    assert a["contingent"]["zone"] == zone_a
    more = acc_a - acc_b
    change = f"from {acc_b:,} to {acc_a:,} ({more:+,}, {100 * more / acc_b:+.0f}%)"
    assert change in doc["answer"]
    zone_more = len(ea.zone) - len(eb.zone)
    assert (
        f"zone of agreement from {len(eb.zone):,} to {len(ea.zone):,} "
        f"({zone_more:+,}, {100 * zone_more / len(eb.zone):+.0f}%)"
    ) in doc["answer"]
    names = {(r["actor"], r["red_line"]) for r in a["red_lines"]}
    assert ("russia", "no_nato_troops") in names
    assert ("(all red lines)", "") in names


def _write_match(folder: Path, name: str, scenario: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "scenario": scenario,
                "policies": {"russia": {"policy": "boulware"}},
                "seed": 11,
            }
        )
    )
    return path


def test_match_configs_without_runner_compare_scenarios(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "_match_records", lambda *a, **k: None)
    a = _write_match(tmp_path, "a", "ukraine-2025")
    b = _write_match(tmp_path, "b", "no-china")
    doc = compare_inputs(str(a), str(b), episodes=5)
    assert (doc["a"]["name"], doc["b"]["name"]) == ("ukraine-2025", "no-china")
    assert doc["matches"] is None
    assert any("not available" in n for n in doc["notes"])
    assert "note: match configs given" in format_comparison(doc)


def test_match_configs_run_with_the_same_seed(tmp_path, monkeypatch):
    calls = []
    records = [
        json.loads(line) for line in (RUN / "episodes.jsonl").read_text().splitlines()
    ]

    def fake(config, episodes, base_seed):
        calls.append((config.name, episodes, base_seed))
        return records[:episodes] if config.name == "a.yaml" else records

    monkeypatch.setattr(compare, "_match_records", fake)
    a = _write_match(tmp_path, "a", "ukraine-2025")
    b = _write_match(tmp_path, "b", "ukraine-2025")
    doc = compare_inputs(str(a), str(b), episodes=3)
    assert calls == [("a.yaml", 3, 11), ("b.yaml", 3, 11)]
    summaries = doc["matches"]["summaries"]
    assert [s["episodes"] for s in summaries] == [3, 6]
    assert summaries[0]["agreements"] == 2 and summaries[1]["agreements"] == 4
    assert "Matches (same base seed 11)" in format_comparison(doc)
    assert "text" not in comparison_json(doc)["matches"]


def test_scenario_reference_relative_to_the_match_config(tmp_path):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(variant("rel")))
    cfg = _write_match(tmp_path, "m", "s.yaml")
    loaded, match = compare.resolve_input(str(cfg))
    assert loaded.spec.name == "rel" and match == cfg


def test_bad_inputs(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        compare_inputs("no-such-scenario", "no-china")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: [1, 2]\npolicies: {}\n")
    with pytest.raises(UserError, match="scenario"):
        compare_inputs(str(bad), "no-china")


def test_match_configs_with_the_real_runner(tmp_path):
    pytest.importorskip("pandas")
    shipped = Path(__file__).resolve().parents[1] / "configs" / "matches"
    a, b = shipped / "baseline.yaml", shipped / "no-china.yaml"
    doc = compare_inputs(str(a), str(b), episodes=2)
    summaries = doc["matches"]["summaries"]
    assert [s["episodes"] for s in summaries] == [2, 2]
    assert [s["scenario"] for s in summaries] == ["ukraine-2025", "no-china"]
    assert "Matches (same base seed" in format_comparison(doc)
