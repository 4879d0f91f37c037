"""benchmarks/scale_train.py: the 10^5-outcome scale attempts, at smoke size."""

from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("torchrl")

from conftest import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))

import scale_train  # noqa: E402
from peacegame.train.marl import MarlSettings  # noqa: E402


def test_quick_run_trains_both_interfaces_and_writes_the_summary(tmp_path):
    out = tmp_path / "scale.json"
    summary = scale_train.main(["--quick", "--quiet", "--out", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(summary))
    assert summary["scenario"]["n_outcomes"] == 1000
    assert summary["rules"]["utility"]["n_actions"] == 16 + 3
    assert summary["rules"]["outcome"]["n_actions"] == 1000 + 3
    assert summary["rules"]["utility"]["picks_shape"] == [5, 16]
    utility = summary["utility"]
    assert utility["iterations"] == 2
    assert [e["iteration"] for e in utility["evaluations"]] == [0, 2]
    assert utility["decisions"] == sum(r["decisions"] for r in utility["per_iteration"])
    assert utility["decisions"] > 0
    outcome = summary["outcome"]
    assert outcome["ran"]
    assert outcome["attempts"][-1]["verdict"] == "run"
    run = outcome["run"]
    assert run["iterations"] >= 1
    assert [e["iteration"] for e in run["evaluations"]] == [0, run["iterations"]]
    assert (
        run["policy_parameters_per_actor"]
        == (outcome["attempts"][-1]["estimate"]["policy_parameters_per_actor"])
    )


def test_the_memory_guard_refuses_the_flat_action_at_full_size():
    full = scale_train.memory_estimate(100_003, 89, 5, MarlSettings(), 1024)
    assert full["total_gib"] > 8
    small = scale_train.memory_estimate(100_003, 89, 5, MarlSettings(num_envs=32), 256)
    assert small["total_gib"] < full["total_gib"] / 4
    assert small["total_gib"] < 8
    utility = scale_train.memory_estimate(19, 89, 5, MarlSettings(), 1024)
    assert utility["total_gib"] < 0.1


def test_outcome_attempt_refused_everywhere_trains_nothing():
    scenario, _ = scale_train.build(2, 10, 0)
    result = scale_train.outcome_attempt(
        scenario,
        scale_train.protocol("outcome", 10),
        MarlSettings(num_envs=8, rollout_steps=2),
        max_gib=0.0,
        max_num_envs=None,
        budget_seconds=1.0,
        eval_episodes=8,
        decisions_per_slot_step=2.5,
        log=lambda _: None,
    )
    assert not result["ran"] and "run" not in result
    assert [a["num_envs"] for a in result["attempts"]] == [8, 4, 2, 1]
    assert {a["verdict"] for a in result["attempts"]} == {"refused: memory"}
