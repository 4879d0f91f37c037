"""SIGKILL mid-training, then ``--resume``: the run ends as if never killed.

Both loops that keep state across a long run are killed in a subprocess once a
checkpoint exists, resumed, and compared with an uninterrupted run of the same
config: the ``marl`` trainer (``marl.pt`` after every iteration) and PSRO (a
best response per actor per generation). Both are exactly reproducible across
a kill: marl resumes from a whole iteration with the slots' episodes in flight
and the torch generator, PSRO retrains the response that was cut off from
scratch with its seed and replays the profiles on the same seeds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MARL_CONFIG = ROOT / "configs" / "train" / "all-actors-marl.yaml"
MARL_TINY = [
    "num_envs=64",
    "rollout_steps=4",
    "eval_every=0",
    "ppo.minibatch=128",
    "ppo.epochs=2",
    "exploring_offers=0.3",  # every exploring-start option: resumed exactly too
    "exploring_curriculum=300",
    "exploring_proposer=uniform",
    "start_round_units=true",
]
TIMING = {"seconds_collect", "seconds_update", "steps_per_second"}


def _train_argv(config: Path, out: Path, sets: list[str], *more: str) -> list[str]:
    argv = ["train", str(config), "--out", str(out), "--quiet", *more]
    for assignment in sets:
        argv += ["--set", assignment]
    return argv


def _kill_when(argv: list[str], ready: Callable[[], bool], timeout: float = 60) -> None:
    """Run ``peacegame ARGV`` in a subprocess; SIGKILL it once ``ready()``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "peacegame.cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(
                    f"the run ended (exit {proc.returncode}) before the kill: "
                    f"{proc.stderr.read() if proc.stderr else ''}"
                )
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint within the timeout")
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _progress(run: Path) -> list[dict]:
    """``progress.jsonl``: every line whole JSON, each ending in a newline."""
    text = (run / "progress.jsonl").read_text()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _untimed(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in line.items() if k not in TIMING} for line in lines]


def _assert_same_marl(a: Path, b: Path) -> None:
    import numpy as np
    import torch

    left = torch.load(a / "marl.pt", weights_only=True)
    right = torch.load(b / "marl.pt", weights_only=True)
    assert left["iteration"] == right["iteration"]
    assert left["next_episode"] == right["next_episode"]
    for x, y in zip(left["learners"], right["learners"], strict=True):
        for part in ("policy", "value"):
            for key, tensor in x[part].items():
                assert torch.equal(tensor, y[part][key]), (part, key)
        assert str(x["optimizer"]) == str(y["optimizer"])
    assert torch.equal(left["torch_rng"], right["torch_rng"])
    for name, array in left["slots"].items():  # the episodes in flight
        np.testing.assert_array_equal(array, right["slots"][name], err_msg=name)
    assert json.loads((a / "evaluation.json").read_text()) == json.loads(
        (b / "evaluation.json").read_text()
    )
    assert _untimed(_progress(a)) == _untimed(_progress(b))


POOL_CONFIG = ROOT / "configs" / "train" / "all-actors-pool-marl.yaml"
POOL_TINY = ["opponents.groups=8", "opponents.redraw_every=3"]
"""With scripted opponents: 32 of the 64 slots in 8 assignments, drawn anew
every 3 iterations (so a kill falls before, at and after redraws)."""
ISSUES_CONFIG = ROOT / "configs" / "train" / "baron-ferejohn-fine-marl.yaml"
ISSUES_TINY = ["exploring_drafts=0.5", "accepting_voters=4"]
"""``issues`` actions with part-drafted proposal starts (drafts in flight at
the kill are in the checkpoint), every vote ACCEPT for the first 4 of the 12
iterations (the kill falls before or after the switch)."""


@pytest.mark.parametrize(
    ("config", "more"),
    [(MARL_CONFIG, []), (POOL_CONFIG, POOL_TINY), (ISSUES_CONFIG, ISSUES_TINY)],
    ids=["self-play", "pool", "issues-drafts-accepting"],
)
def test_marl_resumes_after_sigkill_as_if_never_killed(tmp_path, config, more):
    pytest.importorskip("torchrl")
    from peacegame.cli import main

    iterations = 12
    sets = [*MARL_TINY, *more, f"iterations={iterations}"]
    killed = tmp_path / "killed"
    _kill_when(
        _train_argv(config, killed, sets),
        lambda: (killed / "marl.pt").exists(),
    )
    done = len(_progress(killed)) if (killed / "progress.jsonl").exists() else 0
    assert done < iterations  # killed mid-run
    assert main(_train_argv(config, killed, sets, "--resume")) == 0
    lines = _progress(killed)
    assert [line["iteration"] for line in lines] == list(range(1, iterations + 1))
    whole = tmp_path / "whole"
    assert main(_train_argv(config, whole, sets)) == 0
    _assert_same_marl(killed, whole)
    if config == POOL_CONFIG:  # the pool's slots were played and reported
        assert sum(line["extra"]["pool"]["episodes"] for line in lines) > 0


def test_marl_resume_drops_a_progress_line_ahead_of_its_checkpoint(tmp_path, capsys):
    """A kill between an iteration's line and its ``marl.pt`` (a narrow window).

    Reproduced exactly: ``progress.jsonl`` holds iterations 1, 2 and half of 3
    while ``marl.pt`` is still iteration 1's. The resume drops the lines past
    the checkpoint, says so, and ends equal to an uninterrupted run.
    """
    pytest.importorskip("torchrl")
    import shutil

    from peacegame.cli import main

    run = tmp_path / "run"
    assert main(_train_argv(MARL_CONFIG, run, [*MARL_TINY, "iterations=1"])) == 0
    shutil.copy(run / "marl.pt", tmp_path / "iteration1.pt")
    sets = [*MARL_TINY, "iterations=2"]
    assert main(_train_argv(MARL_CONFIG, run, sets, "--resume")) == 0
    shutil.copy(tmp_path / "iteration1.pt", run / "marl.pt")
    with (run / "progress.jsonl").open("a") as out:
        out.write('{"iteration": 3, "decis')
    capsys.readouterr()
    sets = [*MARL_TINY, "iterations=3"]
    assert main(_train_argv(MARL_CONFIG, run, sets, "--resume")) == 0
    assert "dropped 2 progress.jsonl line(s)" in capsys.readouterr().out
    assert [line["iteration"] for line in _progress(run)] == [1, 2, 3]
    whole = tmp_path / "whole"
    assert main(_train_argv(MARL_CONFIG, whole, sets)) == 0
    _assert_same_marl(run, whole)


def _psro_config(tmp_path: Path) -> Path:
    """A two-actor PSRO train config on the dollar game (tests/test_train.py)."""
    from tests.test_train import OPPONENT, PROTOCOL, dollar

    (tmp_path / "dollar.yaml").write_text(yaml.safe_dump(dollar()))
    (tmp_path / "match.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "dollar-psro",
                "scenario": "dollar.yaml",
                "protocol": PROTOCOL,
                "policies": {"a": {"policy": "linear"}, "b": OPPONENT},
                "seed": 1,
            }
        )
    )
    config = tmp_path / "psro.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "dollar-psro",
                "trainer": "psro",
                "match": "match.yaml",
                "generations": 2,
                "timesteps_per_response": 1024,
                "episodes_per_profile": 8,
                "n_envs": 2,
                "seed": 3,
                "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1},
            }
        )
    )
    return config


def _psro_reports(run: Path) -> list[dict]:
    reports = json.loads((run / "psro.json").read_text())
    assert [r["generation"] for r in reports] == [0, 1, 2]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in reports]


def _response_weights(run: Path) -> dict[str, dict]:
    from sb3_contrib import MaskablePPO

    out = {}
    for model in sorted(run.glob("gen*/*/model.zip")):
        policy = MaskablePPO.load(model, device="cpu").policy
        out[str(model.relative_to(run))] = policy.state_dict()
    return out


def test_psro_resumes_after_sigkill_as_if_never_killed(tmp_path):
    pytest.importorskip("sb3_contrib")
    import torch

    from peacegame.cli import main

    config = _psro_config(tmp_path)
    killed = tmp_path / "killed"
    # Killed once the first best response is whole: mid-way through the second.
    _kill_when(
        _train_argv(config, killed, []),
        lambda: (killed / "gen0" / "a" / "model.json").exists(),
    )
    assert not (killed / "gen1").exists()
    assert main(_train_argv(config, killed, [], "--resume")) == 0
    assert not list(killed.glob("gen*/*.partial"))
    whole = tmp_path / "whole"
    assert main(_train_argv(config, whole, [])) == 0
    assert _psro_reports(killed) == _psro_reports(whole)
    left, right = _response_weights(killed), _response_weights(whole)
    assert sorted(left) == [f"gen{g}/{a}/model.zip" for g in (0, 1) for a in "ab"]
    assert sorted(left) == sorted(right)
    for name, params in left.items():
        for key, tensor in params.items():
            assert torch.equal(tensor, right[name][key]), (name, key)
    # A rerun without --resume is refused; --resume with fewer generations
    # than trained is refused too.
    assert main(_train_argv(config, killed, [])) == 2
    assert main(_train_argv(config, killed, ["generations=1"], "--resume")) == 2
