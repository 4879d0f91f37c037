"""A CI-sized smoke run of the benchmark harness (timings are not checked)."""

from __future__ import annotations

import importlib.util
import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import matches  # noqa: E402
import run_all  # noqa: E402


def test_run_all_quick_writes_every_case(tmp_path, capsys):
    output = tmp_path / "results.json"
    assert run_all.main(["--quick", "--in-process", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "targets" in printed and "batch / OpenSpiel bargaining" in printed
    report = json.loads(output.read_text())
    assert report["mode"] == "quick" and report["machine"]["cores"]
    results = report["results"]
    quick_cases = [c.name for c in run_all.CASES if not c.full_only]
    assert sorted(results) == sorted(quick_cases)
    ours = [n for n in quick_cases if n.split(".")[0] in ("batch", "matches", "solve")]
    peers = {
        "env.tictactoe": "pettingzoo",
        "env.rps": "pettingzoo",
        "env.openspiel": "pyspiel",
        "matches.negmas": "negmas",
        "solve.negmas": "negmas",
        "train.env": "sb3_contrib",
        "train.vector": "sb3_contrib",
    }
    for name in ["env.aec", "env.raw", "env.parallel", *ours]:
        if name in peers:
            continue
        assert results[name]["rate"] > 0, name
    for name, module in peers.items():
        result = results[name]
        if importlib.util.find_spec(module) is None:
            assert "skipped" in result, name
        else:
            # Importable, but a peer may still lack an optional dependency
            # (PettingZoo's classic envs need pygame): then it says why.
            assert result.get("rate", 0) > 0 or result.get("skipped"), name
    if "rate" in results["solve.negmas"]:
        assert results["solve.negmas"]["same_frontier"] is True
    assert {t["target"] for t in report["targets"]} == {t[0] for t in run_all.TARGETS}


def test_matches_script_quick(capsys):
    assert matches.main(["--quick", "--in-process"]) == 0
    printed = capsys.readouterr().out
    assert "matches.batch_public" in printed and "matches: batch / NegMAS" in printed
