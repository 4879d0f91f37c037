"""A scenario declares its own questions (issue 16, item 6).

The ``questions:`` block names the focus actor, the contingent feature, the
variant to compare with and the plot pairs; nothing in the analysis names an
actor or a feature. A scenario with other actors asks its own question and gets
its own answer, checked here against a brute-force count over the YAML.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from peacegame.analysis.compare import compare_inputs, compare_scenarios
from peacegame.cli import main
from peacegame.errors import ConfigError, UserError
from peacegame.scenario import load_compiled, load_scenario, scenario_from_dict

from conftest import ROOT

ANALYSIS = ROOT / "src" / "peacegame" / "analysis"
RUN = Path(__file__).parent / "data" / "analysis" / "run_small"

PRICE = {"low": 1, "mid": 2, "high": 3}
RUSH = {"slow": 0, "fast": 1, "express": 2}
WARRANTY = ["none", "one_year", "two_years"]
TABLES = {  # per actor: (weight, values) per issue, in level order
    "buyer": {"price": (2, [1, 0.6, 0.1]), "delivery": (1, [0.2, 0.7, 1.0])},
    "seller": {"price": (2, [0, 0.5, 1]), "delivery": (1, [1, 0.6, 0.3])},
}
WARRANTY_VALUES = {"buyer": (1, [0, 0.5, 1]), "seller": (1, [1, 0.6, 0.2])}
NO_DEAL = {"buyer": 0.47, "seller": 0.41, "courier": 0.52}
COURIER_CURVE = [[0, 0.3], [6, 1.0]]
QUESTION = {
    "name": "courier",
    "text": "Does an express courier widen the deals the seller accepts?",
    "focus": "seller",
    "feature": "rush_fee",
    "label": "paid rush delivery",
    "noun": "deals",
    "variant": "market-slow.yaml",
}


def _actor(actor_id: str) -> dict[str, Any]:
    if actor_id == "courier":
        terms = [{"weight": 1, "feature": "rush_fee", "curve": COURIER_CURVE}]
    else:
        terms = [
            {"weight": w, "issue": issue, "values": values}
            for issue, (w, values) in TABLES[actor_id].items()
        ]
        w, values = WARRANTY_VALUES[actor_id]
        terms.append({"weight": w, "issue": "warranty", "values": values})
    return {
        "id": actor_id,
        "name": actor_id.capitalize(),
        "no_deal": NO_DEAL[actor_id],
        "discount": 0.95,
        "recognition": 1 / 3 if actor_id != "courier" else 1 - 2 / 3,
        "terms": terms,
    }


MARKET: dict[str, Any] = {
    "name": "market",
    "issues": [
        {"name": "price", "levels": [{"name": k, "p": v} for k, v in PRICE.items()]},
        {
            "name": "delivery",
            "levels": [{"name": k, "rush": v} for k, v in RUSH.items()],
        },
        {"name": "warranty", "levels": WARRANTY},
    ],
    "features": [{"name": "rush_fee", "product": ["delivery.rush", "price.p"]}],
    "actors": [_actor(a) for a in ("buyer", "seller", "courier")],
    "consent": [
        {"actors": ["buyer", "seller"]},
        {"actors": ["courier"], "when": {"feature": "rush_fee", "above": 0}},
    ],
    "questions": {
        "counterfactuals": [QUESTION],
        "plot_pairs": [["buyer", "courier"]],
    },
}


def _brute_force(deliveries: list[str]) -> dict[str, Any]:
    """Enumerate the market's outcomes by hand and count what compare reports."""
    n = accepts = accepts_with = zone = zone_with = with_fee = 0
    gaps = []
    for price, delivery, warranty in itertools.product(
        PRICE, deliveries, range(len(WARRANTY))
    ):
        fee = RUSH[delivery] * PRICE[price]
        utility = {}
        for actor in ("buyer", "seller"):
            w_p, v_p = TABLES[actor]["price"]
            w_d, v_d = TABLES[actor]["delivery"]
            w_w, v_w = WARRANTY_VALUES[actor]
            total = (
                w_p * v_p[list(PRICE).index(price)]
                + w_d * v_d[list(RUSH).index(delivery)]
                + w_w * v_w[warranty]
            )
            utility[actor] = total / (w_p + w_d + w_w)
        (x0, y0), (x1, y1) = COURIER_CURVE
        utility["courier"] = y0 + (y1 - y0) * (fee - x0) / (x1 - x0)
        ok = {a: utility[a] >= NO_DEAL[a] for a in utility}
        gaps += [abs(utility[a] - NO_DEAL[a]) for a in utility]
        required = ["buyer", "seller"] + (["courier"] if fee > 0 else [])
        in_zone = all(ok[a] for a in required)
        n += 1
        with_fee += fee > 0
        accepts += ok["seller"]
        accepts_with += ok["seller"] and fee > 0
        zone += in_zone
        zone_with += in_zone and fee > 0
    assert min(gaps) > 1e-6  # no float32 rounding can decide u >= d here
    return {
        "n": n,
        "accepts": accepts,
        "accepts_with": accepts_with,
        "zone": zone,
        "zone_with": zone_with,
        "with_fee": with_fee,
    }


@pytest.fixture
def market(tmp_path: Path) -> Path:
    path = tmp_path / "market.yaml"
    path.write_text(yaml.safe_dump(MARKET, sort_keys=False))
    (tmp_path / "market-slow.yaml").write_text(
        yaml.safe_dump(
            {
                "extends": "market.yaml",
                "name": "market-slow",
                "drop_levels": {"delivery": ["fast", "express"]},
            }
        )
    )
    return path


def test_a_scenario_with_other_actors_asks_its_own_question(market):
    doc = compare_inputs(str(market))  # B: the variant the question names
    full, slow = _brute_force(list(RUSH)), _brute_force(["slow"])
    a, b = doc["a"], doc["b"]
    assert (a["name"], b["name"]) == ("market", "market-slow")
    assert (a["n_outcomes"], b["n_outcomes"]) == (full["n"], slow["n"])
    assert (a["zone_size"], b["zone_size"]) == (full["zone"], slow["zone"])
    assert a["contingent"]["outcomes"] == full["with_fee"]
    assert a["contingent"]["zone"] == full["zone_with"]
    focus = a["contingent"]["focus"]
    assert (focus["actor"], focus["accepts"], focus["accepts_with"]) == (
        "seller",
        full["accepts"],
        full["accepts_with"],
    )
    assert b["contingent"]["focus"]["accepts"] == slow["accepts"]
    answer = doc["answer"]
    lines = answer.splitlines()
    assert lines[0] == QUESTION["text"]
    assert lines[1].startswith(
        f"  market: Seller accepts {full['accepts']:,} of {full['n']:,} deals; "
        f"{full['accepts_with']:,} of them have paid rush delivery"
    )
    more = full["accepts"] - slow["accepts"]
    verdict = "Yes" if more > 0 else "No"
    assert (
        f"{verdict}: allowing paid rush delivery changes the deals Seller accepts "
        f"from {slow['accepts']:,} to {full['accepts']:,} ({more:+,}" in answer
    )
    assert f"zone of agreement from {slow['zone']:,} to {full['zone']:,}" in answer
    assert not re.search(r"russia|china|chinese|ukrain", answer, re.IGNORECASE)


def test_flags_override_the_declared_question(market):
    full = _brute_force(list(RUSH))
    loaded = load_scenario(market)
    slow = load_scenario(market.parent / "market-slow.yaml")
    doc = compare_scenarios(loaded, slow, focus="buyer")
    assert doc["question"]["focus"] == "buyer"
    assert doc["answer"].startswith(
        "Does allowing paid rush delivery enlarge the set of deals Buyer accepts?"
    )
    compiled = load_compiled(market)
    buyer = compiled.actor_index("buyer")
    assert doc["a"]["focus"]["accepts"] == int(
        (compiled.utility[buyer] >= compiled.no_deal[buyer]).sum()
    )
    assert doc["a"]["contingent"]["outcomes"] == full["with_fee"]
    with pytest.raises(UserError, match=r"--focus nobody: unknown actor"):
        compare_scenarios(loaded, slow, focus="nobody")
    with pytest.raises(UserError, match=r"--feature rush: unknown feature"):
        compare_scenarios(loaded, slow, feature="rush")
    with pytest.raises(UserError, match=r"--question x: no question of that name"):
        compare_scenarios(loaded, slow, name="x")


def test_a_scenario_without_questions_names_no_actor(market):
    data = copy.deepcopy(MARKET)
    del data["questions"]
    plain = scenario_from_dict(data)
    doc = compare_scenarios(plain, plain)
    assert doc["question"] is None and doc["answer"] is None
    assert doc["a"]["focus"] is None and doc["a"]["contingent"] is None
    doc = compare_scenarios(plain, plain, focus="courier")
    assert "How does the set of outcomes Courier accepts change?" in doc["answer"]
    with pytest.raises(UserError, match="no variant|declares no question"):
        compare_inputs(str(_write(market.parent / "plain.yaml", data)))


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_ukraine_scenario_declares_the_china_question(capsys):
    loaded = load_scenario(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
    (question,) = loaded.spec.questions.counterfactuals
    assert (question.focus, question.feature, question.variant) == (
        "russia",
        "chinese_troops",
        "no-china",
    )
    assert loaded.spec.questions.plot_pairs == [("russia", "ukraine")]
    assert main(["compare", "ukraine-2025", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["b"]["name"] == "no-china"  # the declared variant
    compiled = load_compiled()
    russia = compiled.actor_index("russia")
    accepts = compiled.utility[russia] >= compiled.no_deal[russia]
    china = compiled.features["chinese_troops"] > 0
    focus = doc["a"]["contingent"]["focus"]
    assert (focus["accepts"], focus["accepts_with"]) == (
        int(accepts.sum()),
        int((accepts & china).sum()),
    )
    assert doc["answer"].startswith(question.text)


def test_compare_flags_on_the_command_line(capsys):
    assert main(["compare", "ukraine-2025", "no-china", "--focus", "eu"]) == 0
    out = capsys.readouterr().out
    assert "enlarge the set of forces European coalition accepts?" in out
    assert main(["compare", "ukraine-2025", "--feature", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --feature nope: ")
    assert "chinese_troops" in err[0]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"focus": "sellr"}, "questions.counterfactuals[0].focus", "'seller'"),
        ({"feature": "fee"}, "questions.counterfactuals[0].feature", "rush_fee"),
        ({"focus": None}, "questions.counterfactuals[0].focus", "missing"),
        ({"colour": "red"}, "questions.counterfactuals[0].colour", "unknown"),
    ],
)
def test_questions_are_validated(change, field, fragment):
    data = copy.deepcopy(MARKET)
    question = data["questions"]["counterfactuals"][0]
    for key, value in change.items():
        if value is None:
            del question[key]
        else:
            question[key] = value
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(data, source="market.yaml")
    assert caught.value.file == "market.yaml"
    assert caught.value.field == field
    assert fragment in caught.value.message


def test_plot_pairs_are_validated():
    data = copy.deepcopy(MARKET)
    data["questions"]["plot_pairs"] = [["buyer", "nobody"]]
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(data, source="market.yaml")
    assert caught.value.field == "questions.plot_pairs[0]"
    data["questions"]["plot_pairs"] = [["buyer", "buyer"]]
    with pytest.raises(ConfigError, match="two different actors"):
        scenario_from_dict(data, source="market.yaml")


def test_questions_do_not_change_the_scenario_hash():
    data = copy.deepcopy(MARKET)
    with_questions = scenario_from_dict(data).scenario_hash
    del data["questions"]
    assert scenario_from_dict(data).scenario_hash == with_questions


def test_schema_exports_the_questions_block(capsys):
    assert main(["schema", "scenario"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "questions" in schema["properties"]
    question = schema["$defs"]["CounterfactualQuestion"]
    assert {"focus", "feature", "variant", "text"} <= set(question["properties"])
    assert question["required"] == ["name", "focus"]
    assert "plot_pairs" in schema["$defs"]["Questions"]["properties"]


def test_no_actor_or_feature_name_is_hard_coded_in_the_analysis():
    loaded = load_scenario(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
    names = [a.id for a in loaded.actors] + [f.name for f in loaded.spec.features]
    alternatives = "|".join(map(re.escape, names))
    quoted = re.compile(rf"""["']({alternatives})["']""", re.IGNORECASE)
    words = re.compile(r"russia|china|chinese|ukrain", re.IGNORECASE)
    for path in sorted(ANALYSIS.glob("*.py")):
        text = path.read_text()
        assert not quoted.search(text), f"{path.name}: {quoted.search(text)}"
        assert not words.search(text), f"{path.name}: {words.search(text)}"


def test_analyze_pair_flag(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    assert main(["analyze", str(run), "--pair", "us,eu"]) == 0
    out = capsys.readouterr().out
    assert "projection_us_eu.png" in out and (run / "projection_us_eu.png").is_file()
    assert not (run / "projection_russia_ukraine.png").exists()
    assert main(["analyze", str(run), "--pair", "us,mars", "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(run), "--pair", "us,mars"]) == 2
    err = capsys.readouterr().err
    assert "--pair us,mars: unknown actor 'mars'" in err


def test_declared_pairs_are_the_default(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    assert main(["analyze", str(run)]) == 0
    assert (run / "projection_russia_ukraine.png").is_file()
    assert np.all([p.stat().st_size > 0 for p in run.glob("projection_*.png")])
