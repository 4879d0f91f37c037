"""Uncertain numbers, batched calibrations and ``peacegame sensitivity``."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacegame.analysis.compare import red_line_table
from peacegame.analysis.sensitivity import run_sensitivity
from peacegame.analysis.sensitivity.sampling import to_values, unit_design
from peacegame.analysis.sensitivity.solve import BatchQuestion, answer_batch
from peacegame.analysis.sensitivity.summary import indices
from peacegame.cli import main
from peacegame.resources import resolve_config
from peacegame.scenario import compile_scenario, load_scenario, scenario_from_dict
from peacegame.scenario.calibrations import Calibrations
from peacegame.scenario.uncertainty import (
    UncertainNumber,
    UncertainParameter,
    parse_uncertain,
)
from peacegame.solutions import TIE_TOLERANCE, nash_point, zone_of_agreement

from scenario_strategies import scenario_dicts

DEFAULT = "ukraine-2025"


def _default():
    return load_scenario(resolve_config(DEFAULT, "scenarios"))


# --------------------------------------------------------------------------- #
# The language
# --------------------------------------------------------------------------- #


def test_plain_number_stays_plain_and_provenance_is_kept():
    number = parse_uncertain({"value": 0.3, "source": "IISS"})
    assert number == UncertainNumber(value=0.3, source="IISS")
    assert not number.uncertain
    tri = parse_uncertain(
        {"value": 0.3, "range": [0.2, 0.5], "distribution": "triangular"}
    )
    assert tri.parameters == {"mode": 0.3}
    normal = parse_uncertain(
        {"value": 0.3, "range": [0.2, 0.5], "distribution": {"normal": {"sd": 0.1}}}
    )
    assert normal.parameters == {"sd": 0.1, "mean": 0.3}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": 0.9, "range": [0.2, 0.5]}, "outside its range"),
        ({"value": 0.3, "range": [0.5, 0.2]}, "negative width"),
        ({"value": 0.3, "range": [0.3, 0.3]}, "zero width"),
        ({"value": 0.3, "distribution": "uniform"}, "needs a 'range'"),
        (
            {"value": 0.3, "range": [0, 1], "distribution": {"beta": {"a": 1}}},
            "needs parameter(s) ['b']",
        ),
        (
            {"value": 0.3, "range": [0, 1], "distribution": {"beta": {"a": 1, "c": 2}}},
            "unknown parameter 'c'",
        ),
        (
            {"value": 0.3, "range": [0, 1], "distribution": {"normal": {"sd": -1}}},
            "sd must be positive",
        ),
        (
            {
                "value": 0.3,
                "range": [0, 1],
                "distribution": {"triangular": {"mode": 2}},
            },
            "mode 2 lies outside",
        ),
    ],
)
def test_bad_uncertain_numbers(data, message):
    with pytest.raises(
        ValueError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        parse_uncertain(data)


def test_default_scenario_compiles_to_the_same_arrays_at_the_values():
    loaded = _default()
    assert len(loaded.uncertain) >= 40
    plain = loaded.resolved
    text = json.dumps(plain)
    assert '"range"' not in text and '"assumption"' not in text
    reference = scenario_from_dict(plain, source="plain")
    # Adding ranges does not change the game's identity: this is the hash the
    # default scenario had before its numbers got ranges (commit a5868bc).
    assert loaded.scenario_hash == (
        "5f53d107b32d8cfc8f14519fb407eb255c6a5b19e0e2032e8367d53215952687"
    )
    assert reference.scenario_hash == loaded.scenario_hash
    cal = Calibrations(loaded)
    substituted = scenario_from_dict(cal.substituted(cal.nominal), source="s")
    a = compile_scenario(loaded)
    for b in (compile_scenario(reference), compile_scenario(substituted)):
        for name in (
            "levels",
            "grid_index",
            "utility",
            "utility64",
            "required",
            "no_deal64",
            "discount",
            "recognition",
            "order",
        ):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    # The golden check of SCENARIO.md.
    assert int(zone_of_agreement(a).sum()) == 578


def test_every_default_range_has_provenance():
    for p in _default().uncertain:
        assert p.number.source or p.number.assumption, p.name


def test_every_interior_value_of_the_default_actors_has_a_range():
    """Weights and curves are ASSUMPTIONS (the actor files say so): every table
    value and curve height gets a range, except a term's 0 and 1 anchors (the
    ends of its scale; moving one is moving the term's weight, which has one)."""
    from peacegame.scenario.model import CurveTerm, TableTerm

    loaded = _default()
    cal = Calibrations(loaded)
    ranged = set(cal._by_target)
    missing = []
    for a, actor in enumerate(loaded.actors):
        assert ("no_deal", a) in ranged and ("discount", a) in ranged
        for j, term in enumerate(actor.terms):
            assert ("weight", a, j) in ranged, (actor.id, j)
            if isinstance(term, TableTerm):
                values = term.values
                if isinstance(values, dict):
                    names = cal.level_names[term.issue]
                    values = [values[n] for n in names]
                keys = [("table", a, j, k) for k in range(len(values))]
            elif isinstance(term, CurveTerm):
                values = [y for _, y in term.curve]
                keys = [("curve", a, j, k, 1) for k in range(len(values))]
            else:
                continue
            anchors = {v for v in (min(values), max(values)) if v in (0.0, 1.0)}
            for key, v in zip(keys, values, strict=True):
                if v not in anchors and key not in ranged:
                    missing.append((actor.id, j, key[3], v))
    assert not missing


def test_schema_accepts_uncertain_numbers():
    from peacegame.config_kinds import json_schemas

    text = json.dumps(json_schemas()["actor"])
    assert "UncertainNumber" in text and '"distribution"' in text


# --------------------------------------------------------------------------- #
# Batched compilation == one by one
# --------------------------------------------------------------------------- #


def test_nominal_batch_answers_the_china_question_as_compare_does():
    loaded = _default()
    sc = compile_scenario(loaded)
    cal = Calibrations(loaded)
    batch = cal.compile(cal.nominal[None, :], relaxed=True)
    question = BatchQuestion(
        sc.actor_index("russia"), "chinese_troops", tuple(sc.red_lines)
    )
    out = {k: v[0] for k, v in answer_batch(batch, question).items()}
    assert out["focus_accepts"] == 1398 and out["accepts_without"] == 562
    assert out["zone"] == 578 and out["zone_without"] == 203
    assert out["nash"] == sc.grid_index[nash_point(sc)]
    binds = [r["binds"] for r in red_line_table(loaded, sc, zone_of_agreement(sc))]
    assert list(out["binds"]) == binds[: len(sc.red_lines)]


def _wrap(value: float, low: float, high: float, draw: Any) -> Any:
    dist = draw(st.sampled_from([None, "triangular", "normal", "beta"]))
    out: dict[str, Any] = {"value": value, "range": [low, high]}
    if dist == "triangular":
        out["distribution"] = "triangular"
    elif dist == "normal":
        out["distribution"] = {"normal": {"sd": (high - low) / 3}}
    elif dist == "beta":
        out["distribution"] = {"beta": {"a": 2, "b": 3}}
    return out


@st.composite
def uncertain_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A random scenario with random uncertain numbers of every kind."""
    data = draw(scenario_dicts())
    maybe = st.booleans()
    for issue in data["issues"]:
        for level in issue["levels"]:
            if draw(maybe):
                x = level["x"]
                level["x"] = _wrap(x, x - 1.5, x + 1.5, draw)
    n = len(data["issues"])
    for actor in data["actors"]:
        for key, lo, hi in (
            ("no_deal", 0, 1),
            ("discount", 0.5, 1),
            ("recognition", 0, 1),
        ):
            v = actor[key]
            if draw(maybe) and lo < v < hi:
                actor[key] = _wrap(v, max(lo, v - 0.1), min(hi, v + 0.1), draw)
        for term in actor["terms"]:
            if draw(maybe):
                w = term["weight"]
                term["weight"] = _wrap(w, w / 2, w * 2, draw)
            for k, v in enumerate(term.get("values", [])):
                if draw(maybe):
                    term["values"][k] = (
                        _wrap(v, max(0, v - 0.3), min(1, v + 0.3) or 0.1, draw)
                        if v < 1
                        else _wrap(v, 0.7, 1, draw)
                    )
            for point in term.get("curve", []):
                if draw(maybe):
                    x = point[0]
                    point[0] = _wrap(x, x - 1, x + 1, draw)
                if draw(maybe):
                    y = point[1]
                    point[1] = (
                        _wrap(y, max(0, y - 0.3), min(1, y + 0.3), draw)
                        if (0 < y < 1)
                        else y
                    )
        if draw(maybe):
            threshold = draw(st.integers(0, 10 * n))
            kind = draw(st.sampled_from(["soft", "hard"]))
            red: dict[str, Any] = {
                "name": "r",
                "kind": kind,
                "when": {"feature": "total", "above": threshold},
            }
            amount = draw(st.sampled_from([0.1, 0.25, 0.5]))
            red["penalty" if kind == "soft" else "floor"] = (
                _wrap(amount, amount - 0.05, amount + 0.05, draw)
                if draw(maybe)
                else amount
            )
            actor["red_lines"] = [red]
    if draw(maybe):
        data["feasibility"] = [
            {"name": "f", "forbid": {"feature": "total", "above": 8 * n}}
        ]
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=uncertain_scenarios(), seed=st.integers(0, 2**31 - 1))
def test_batch_equals_compiling_each_calibration_alone(data, seed):
    try:
        loaded = scenario_from_dict(data, source="random")
    except Exception:  # noqa: BLE001 - a random draw that does not validate
        return
    if not loaded.uncertain:
        return
    cal = Calibrations(loaded)
    design = np.random.default_rng(seed).random((5, len(cal.parameters)))
    values = np.vstack([cal.nominal, to_values(design, cal.parameters)])
    try:
        one = [cal.compile_one(row) for row in values]
    except Exception:  # noqa: BLE001 - a calibration with no feasible outcome
        return
    batch = cal.compile(values, relaxed=True)
    ref = one[0]
    question = BatchQuestion(0, "total", tuple(ref.red_lines))
    answers = answer_batch(batch, question)
    feasible = np.broadcast_to(batch.feasible, batch.utility[:, 0].shape)
    for s, sc in enumerate(one):
        cols = feasible[s]
        assert np.array_equal(batch.outcomes[cols], sc.grid_index)
        np.testing.assert_allclose(
            batch.utility[s][:, cols], sc.utility64, rtol=0, atol=1e-12
        )
        assert np.array_equal(
            np.broadcast_to(batch.required, batch.utility.shape)[s][:, cols],
            sc.required,
        )
        np.testing.assert_allclose(batch.no_deal[s], sc.no_deal64, atol=1e-15)
        np.testing.assert_allclose(batch.recognition[s], sc.recognition, atol=1e-12)
        zone = zone_of_agreement(sc)
        assert answers["zone"][s] == zone.sum()
        k = nash_point(sc)
        assert answers["nash"][s] == (-1 if k is None else sc.grid_index[k])
        acc = sc.utility64[0] - sc.no_deal64[0] >= -TIE_TOLERANCE
        marked = sc.features["total"] > 0
        assert answers["accepts_with"][s] == (acc & marked).sum()
        assert answers["zone_with"][s] == (zone & marked).sum()
        if ref.red_lines:
            from peacegame.analysis.compare import red_line_table as table

            loaded_s = scenario_from_dict(cal.substituted(values[s]), source="s")
            binds = [r["binds"] for r in table(loaded_s, sc, zone)]
            assert list(answers["binds"][s]) == binds[: len(sc.red_lines)]


# --------------------------------------------------------------------------- #
# SALib on a known function; an irrelevant number
# --------------------------------------------------------------------------- #


def _params(n: int, low: float, high: float) -> list[UncertainParameter]:
    return [
        UncertainParameter(
            name=f"x{k}",
            label=f"x{k}",
            file="-",
            field="-",
            path=(),
            target=(),
            number=UncertainNumber(value=(low + high) / 2, range=(low, high)),
        )
        for k in range(n)
    ]


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    from SALib.test_functions import Ishigami

    params = _params(3, -math.pi, math.pi)
    design = unit_design("sobol", params, 2**13 * 5, seed=1)
    y = Ishigami.evaluate(to_values(design, params))
    res = indices("sobol", params, design, y, seed=1)
    assert res is not None
    # Analytic values (a = 7, b = 0.1), as in SALib's own tests.
    np.testing.assert_allclose(res["S1"], [0.3139, 0.4424, 0.0], atol=0.05)
    np.testing.assert_allclose(res["ST"], [0.5576, 0.4424, 0.2437], atol=0.05)


TINY = """
name: tiny
issues:
  - name: size
    levels:
      - {name: none, n: 0}
      - {name: some, n: 1}
      - {name: many, n: 3}
  - name: lead
    levels: [a, b, c]
features:
  - {name: extra, product: [size.n, 1]}
actors:
  - id: x
    no_deal: 0.3
    discount: {value: 0.9, range: [0.8, 0.99], assumption: cannot matter}
    recognition: 0.5
    terms:
      - weight: 1
        issue: lead
        values: [1, 0.5, 0]
      - weight: 1
        issue: size
        values: [0, {value: 0.6, range: [0.4, 0.9], assumption: matters}, 1]
  - id: y
    no_deal: 0.2
    discount: 0.9
    recognition: 0.5
    terms:
      - {weight: 1, issue: lead, values: [0, 1, 1]}
consent:
  - actors: [x, y]
questions:
  counterfactuals:
    - {name: extra_size, focus: x, feature: extra, label: extra size, noun: deals}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_a_number_that_cannot_change_the_answer(tiny, tmp_path):
    doc, paths = run_sensitivity(
        str(tiny), samples=512, out=tmp_path / "run", plots=True
    )
    assert doc["holds"]["p"] == 1.0
    assert doc["holds"]["low"] > 0.99
    idx = doc["indices"]["accepts_with"]
    k_discount = idx["names"].index("x.discount")
    k_value = idx["names"].index("x.terms[1].values[1]")
    assert abs(idx["S1"][k_discount]) < 1e-9 and abs(idx["ST"][k_discount]) < 1e-9
    assert idx["ST"][k_value] > 0.5
    assert doc["depends_most_on"][0]["name"] == "x.terms[1].values[1]"
    assert {p.name for p in paths} == {"tornado.png", "histograms.png", "indices.png"}
    assert "In 100.0% of calibrations" in doc["text"]


def test_run_is_resumable_and_identical_across_workers(tiny, tmp_path):
    a, _ = run_sensitivity(
        str(tiny), samples=256, method="lhs", out=tmp_path / "a", plots=False
    )
    b, _ = run_sensitivity(
        str(tiny), samples=256, method="lhs", out=tmp_path / "b", plots=False, workers=2
    )
    strip = ("run_dir",)
    assert {k: v for k, v in a.items() if k not in strip} == {
        k: v for k, v in b.items() if k not in strip
    }
    # Drop a chunk as an interrupted run would have; --resume recomputes it.
    chunks = sorted((tmp_path / "a" / "chunks").glob("*.npz"))
    chunks[-1].unlink()
    c, _ = run_sensitivity(
        str(tiny),
        samples=256,
        method="lhs",
        out=tmp_path / "a",
        plots=False,
        resume=True,
    )
    assert c["holds"] == a["holds"] and c["effects"] == a["effects"]


def test_cli_refuses_to_overwrite_and_checks_resume(tiny, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "sensitivity",
        str(tiny),
        "--samples",
        "64",
        "--out",
        str(out),
        "--quiet",
        "--no-plots",
    ]
    assert main(argv) == 0
    assert "of calibrations" in capsys.readouterr().out
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0] and str(out) in err[0]
    assert main([*argv[:3], "128", *argv[4:], "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "differs" in err[0]
    assert main([*argv, "--resume", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["holds"]["p"] == 1.0 and doc["calibrations"] > 0


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = yaml.safe_load(TINY)
    bad["questions"]["counterfactuals"][0]["focus"] = "nobody"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "questions.counterfactuals[0].focus" in err[0] and str(path) in err[0]
    assert not (tmp_path / "o").exists()


def test_default_scenario_morris_runs(tmp_path):
    doc, _ = run_sensitivity(
        DEFAULT, method="morris", samples=400, out=tmp_path / "m", plots=False
    )
    assert doc["question"]["name"] == "chinese_contingent"
    assert doc["nominal"]["accepts_with"] == 836
    assert 0.5 < doc["holds"]["p"] <= 1.0
    assert doc["indices"]["accepts_with"]["mu_star"]


def test_ray_backend_gives_the_same_answers(tiny, tmp_path):
    pytest.importorskip("ray")
    a, _ = run_sensitivity(
        str(tiny), samples=64, method="lhs", out=tmp_path / "a", plots=False
    )
    b, _ = run_sensitivity(
        str(tiny),
        samples=64,
        method="lhs",
        out=tmp_path / "b",
        plots=False,
        backend="ray",
        workers=1,
    )
    assert a["effects"] == b["effects"] and a["holds"] == b["holds"]
