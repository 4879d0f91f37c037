"""The scenario commands of the CLI, and one-line errors for bad input."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from peacegame.cli import main

from conftest import SCENARIOS

BASE: dict[str, Any] = {
    "name": "small",
    "issues": [
        {"name": "size", "levels": [{"name": "s", "n": 1}, {"name": "l", "n": 3}]},
        {"name": "lead", "levels": ["a", "b", "c"]},
    ],
    "features": [{"name": "force", "product": ["size.n", 2]}],
    "feasibility": [
        {
            "name": "no_sc",
            "forbid": {
                "all": [{"issue": "size", "in": ["s"]}, {"issue": "lead", "in": ["c"]}]
            },
        }
    ],
    "actors": [
        {
            "id": "x",
            "no_deal": 0.3,
            "discount": 0.9,
            "recognition": 0.5,
            "terms": [
                {"weight": 1, "issue": "lead", "values": [1, 0.5, 0]},
                {"weight": 1, "feature": "force", "curve": [[0, 0], [6, 1]]},
            ],
        },
        {
            "id": "y",
            "no_deal": 0.2,
            "discount": 0.9,
            "recognition": 0.5,
            "terms": [
                {"weight": 1, "issue": "lead", "values": {"a": 0, "b": 1, "c": 1}}
            ],
        },
    ],
    "consent": [{"actors": ["x", "y"]}],
}


def write(tmp_path: Path, data: Any, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def mutate(fn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    fn(data)
    return data


def test_base_is_valid(tmp_path, capsys):
    assert main(["validate", str(write(tmp_path, BASE))]) == 0
    assert "5 feasible outcomes of 6" in capsys.readouterr().out


BAD_CASES = {
    "yaml_syntax": ("name: [unclosed\nissues: {", None, "YAML syntax error at line"),
    "unknown_issue": (
        mutate(lambda d: d["actors"][0]["terms"][0].update(issue="sizes")),
        "actors[0].terms[0].issue",
        "unknown issue 'sizes' (did you mean 'size'?)",
    ),
    "unknown_level": (
        mutate(lambda d: d["feasibility"][0]["forbid"]["all"][1].update({"in": ["d"]})),
        "feasibility[0].forbid.all[1].in",
        "unknown level 'd'",
    ),
    "unknown_actor_in_consent": (
        mutate(lambda d: d["consent"].append({"actors": ["z"]})),
        "consent[1].actors",
        "unknown actor 'z'",
    ),
    "unknown_feature": (
        mutate(lambda d: d["actors"][0]["terms"][1].update(feature="forse")),
        "actors[0].terms[1].feature",
        "unknown feature 'forse' (did you mean 'force'?)",
    ),
    "negative_weight": (
        mutate(lambda d: d["actors"][0]["terms"][0].update(weight=-1)),
        "actors[0].terms[0].weight",
        "greater than or equal to 0",
    ),
    "weights_sum_to_zero": (
        mutate(lambda d: [t.update(weight=0) for t in d["actors"][0]["terms"]]),
        "actors[0]",
        "sum to zero",
    ),
    "curve_not_increasing": (
        mutate(lambda d: d["actors"][0]["terms"][1].update(curve=[[6, 0], [0, 1]])),
        "actors[0].terms[1].curve",
        "strictly increasing",
    ),
    "recognition_sum": (
        mutate(lambda d: d["actors"][1].update(recognition=0.2)),
        "actors[*].recognition",
        "sum to 0.7; expected 1",
    ),
    "consent_names_no_actor": (
        mutate(lambda d: d["consent"].append({"actors": []})),
        "consent[1].actors",
        "at least 1 item",
    ),
    "empty_feasible_set": (
        mutate(
            lambda d: d["feasibility"].append(
                {"name": "all", "forbid": {"issue": "lead", "in": ["a", "b", "c"]}}
            )
        ),
        "feasibility",
        "no outcome is feasible",
    ),
    "too_large": (
        mutate(
            lambda d: d["issues"].extend(
                {"name": f"big{i}", "levels": [f"v{j}" for j in range(100)]}
                for i in range(4)
            )
        ),
        "issues",
        "600,000,000 outcomes",
    ),
    "unknown_key": (
        mutate(lambda d: d["actors"][0].update(no_dael=0.3)),
        "actors[0].no_dael",
        "unknown field 'no_dael' (did you mean 'no_deal'?)",
    ),
    "discount_out_of_range": (
        mutate(lambda d: d["actors"][0].update(discount=1.5)),
        "actors[0].discount",
        "less than or equal to 1",
    ),
    "python_tag": (
        "name: !!python/object/apply:os.system ['echo hi']\n",
        None,
        "could not determine a constructor",
    ),
    "not_a_mapping": ("- just\n- a list\n", None, "expected a scenario"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_scenarios_give_one_line_errors(case, tmp_path, capsys):
    data, field, expected = BAD_CASES[case]
    path = write(tmp_path, data)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}")
    if field:
        assert f": {field}: " in lines[0], lines[0]
    assert expected in lines[0], lines[0]


def test_missing_file(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_actor_file_errors_name_the_actor_file(tmp_path, capsys):
    actor = copy.deepcopy(BASE["actors"][1])
    actor["terms"][0]["issue"] = "leed"
    write(tmp_path, actor, "y.yaml")
    data = copy.deepcopy(BASE)
    data["actors"][1] = "y.yaml"
    path = write(tmp_path, data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'y.yaml'}: terms[0].issue: unknown issue 'leed'" in err


def test_no_traceback_from_the_console_script(tmp_path):
    path = write(tmp_path, mutate(lambda d: d["actors"][0].update(recognition=2)))
    proc = subprocess.run(
        [sys.executable, "-m", "peacegame.cli", "solve", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_solve_prints_zone_frontier_and_points(capsys):
    assert main(["solve", str(SCENARIOS / "ukraine-2025.yaml")]) == 0
    out = capsys.readouterr().out
    assert "zone of agreement: 578 outcomes" in out
    assert "Pareto frontier:" in out
    nash_line = next(line for line in out.splitlines() if line.startswith("Nash"))
    for level in (
        "25k",
        "nonaligned",
        "un_commanded",
        "air_support",
        "rear",
        "3_years",
    ):
        assert level in nash_line
    for label in ("Kalai-Smorodinsky", "utilitarian", "egalitarian"):
        assert label in out


def test_solve_json(capsys):
    assert main(["solve", "ukraine-2025", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["zone_size"] == 578 and doc["n_outcomes"] == 3840
    assert doc["points"]["nash"]["decoded"]["troops"] == "25k"
    assert doc["points"]["nash"]["utility"]["us"] == pytest.approx(0.8, abs=0.005)


def test_solve_hardline_reports_empty_zone(capsys):
    assert main(["solve", "hardline"]) == 0
    out = capsys.readouterr().out
    assert "zone of agreement: 0 outcomes" in out
    assert "empty" in out


def test_scenario_show(capsys):
    assert main(["scenario", "show", "ukraine-2025"]) == 0
    out = capsys.readouterr().out
    assert "3,840 feasible outcomes" in out
    assert "security_council: all of russia, china, us, eu when command in" in out


def test_schema_export(tmp_path, capsys):
    assert main(["schema", "--out", str(tmp_path)]) == 0
    scenario = json.loads((tmp_path / "scenario.schema.json").read_text())
    assert "issues" in scenario["properties"]
    actor = json.loads((tmp_path / "actor.schema.json").read_text())
    assert set(actor["required"]) >= {
        "id",
        "no_deal",
        "discount",
        "recognition",
        "terms",
    }
    assert main(["schema", "nope"]) == 2


def test_validate_shipped_configs(capsys):
    files = sorted(str(p) for p in SCENARIOS.glob("*.yaml"))
    files += sorted(str(p) for p in (SCENARIOS.parent.parent / "agents").glob("*.yaml"))
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().out.count("ok: ") == len(files)
