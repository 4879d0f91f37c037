"""The resume contract: nothing lost, nothing misleading (issue 16, item 1).

``--resume`` continues exactly the recorded run: the effective config
(overrides included) and the planned count come from the run folder, the hint
printed after an interruption is a command that does that, the planned count
is never lowered silently, conflicting flags are an error, a complete run says
so, and a changed config is a one-line error that says how to continue.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from peacegame.cli import main

from conftest import BASELINE, ROOT, spawn_run, wait_for_log

SCENARIO = ROOT / "configs" / "scenarios" / "ukraine-2025.yaml"


def small_config(tmp_path: Path, episodes: int = 5) -> Path:
    """The baseline with few episodes in its file (so a run may plan more)."""
    data = yaml.safe_load(BASELINE.read_text())
    data["scenario"] = str(SCENARIO)
    data["episodes"] = episodes
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cli(*args: str) -> int:
    return main(["run", *args, "--quiet", "--no-plots"])


def log(run_dir: Path) -> bytes:
    return (run_dir / "episodes.jsonl").read_bytes()


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def keep_lines(run_dir: Path, n: int) -> None:
    """Cut the log to its first ``n`` lines (as if interrupted there)."""
    rows = log(run_dir).splitlines(keepends=True)
    (run_dir / "episodes.jsonl").write_bytes(b"".join(rows[:n]))


def n_lines(run_dir: Path) -> int:
    return len(log(run_dir).splitlines())


# --------------------------------------------------------------------------- #
# The real CLI: SIGINT, then the printed hint, verbatim.
# --------------------------------------------------------------------------- #


def test_sigint_then_the_printed_hint_verbatim_equals_uninterrupted(tmp_path):
    episodes = 1500  # more than the config's 200, with an override: both recorded
    extra = ("--set", "protocol.max_rounds=12")
    reference = tmp_path / "reference"
    assert (
        cli(
            str(BASELINE),
            "--out",
            str(reference),
            "--episodes",
            str(episodes),
            "--engine",
            "env",
            *extra,
        )
        == 0
    )
    out = tmp_path / "interrupted"
    proc = spawn_run(out, episodes, capture=True, extra=extra)
    wait_for_log(out / "episodes.jsonl", 20_000)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert 0 < n_lines(out) < episodes
    found = re.search(r"resume with: (.+)$", stderr + stdout, re.MULTILINE)
    assert found, stderr
    hint = found.group(1).strip()
    assert hint.startswith("peacegame run ")
    assert "--overwrite" not in hint
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    resumed = subprocess.run(
        hint, shell=True, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert log(out) == log(reference)
    assert manifest(out)["episodes"] == episodes


# --------------------------------------------------------------------------- #
# In-process: the contract, piece by piece.
# --------------------------------------------------------------------------- #


def test_resume_without_flags_keeps_the_recorded_overrides_and_count(tmp_path):
    config = small_config(tmp_path, episodes=5)
    full = tmp_path / "full"
    args = ["--episodes", "12", "--set", "protocol.max_rounds=9", "--engine", "env"]
    assert cli(str(config), "--out", str(full), *args) == 0
    for hint in (["--resume"], [str(config), "--resume"]):  # with or without CONFIG
        part = tmp_path / f"part{len(hint)}"
        assert cli(str(config), "--out", str(part), *args) == 0
        keep_lines(part, 4)
        assert cli(*hint, "--out", str(part)) == 0
        assert log(part) == log(full)
        assert manifest(part)["episodes"] == 12
        assert manifest(part)["config"]["protocol"]["max_rounds"] == 9


def test_a_run_recorded_before_new_protocol_fields_resumes(tmp_path):
    """Fields added later (talk, actions...) are absent at their defaults: no diff."""
    config = small_config(tmp_path, episodes=6)
    full, part = tmp_path / "full", tmp_path / "part"
    assert cli(str(config), "--out", str(full), "--engine", "env") == 0
    assert cli(str(config), "--out", str(part), "--engine", "env") == 0
    keep_lines(part, 3)
    path = part / "manifest.json"
    data = json.loads(path.read_text())
    for key in ("talk", "statement_max_chars", "actions", "utility_bins"):
        assert key in data["config"]["protocol"]
        del data["config"]["protocol"][key]
    path.write_text(json.dumps(data))
    assert cli("--resume", "--out", str(part)) == 0
    assert log(part) == log(full)
    # A field recorded with another value is still a difference.
    data["config"]["protocol"]["max_rounds"] = 3
    path.write_text(json.dumps(data))
    assert cli("--resume", "--out", str(part)) == 2


def test_manifest_records_the_effective_config_and_overrides(tmp_path):
    out = tmp_path / "m"
    assert cli(str(BASELINE), "--out", str(out), "--episodes", "7", "--seed", "3") == 0
    data = manifest(out)
    assert data["episodes"] == data["config"]["episodes"] == 7
    assert data["config"]["seed"] == 3
    assert "episodes=7" in data["overrides"] and "seed=3" in data["overrides"]
    assert data["resume_command"] == f"peacegame run --resume --out {out}"


def test_resume_never_lowers_the_planned_count(tmp_path, capsys):
    config = small_config(tmp_path, episodes=5)
    out = tmp_path / "long"
    assert cli(str(config), "--out", str(out), "--episodes", "14") == 0
    keep_lines(out, 6)
    # The old hint (config path, no --episodes) finishes the recorded 14.
    assert cli(str(config), "--resume", "--out", str(out)) == 0
    assert n_lines(out) == 14
    assert manifest(out)["episodes"] == 14
    before, planned = log(out), manifest(out)
    capsys.readouterr()
    # Fewer than logged: an error, and nothing changes.
    assert cli("--resume", "--out", str(out), "--episodes", "10") == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "--episodes 14 or more" in err and "--overwrite" not in err
    assert log(out) == before and manifest(out) == planned
    # More: the run is extended, and says so.
    assert cli("--resume", "--out", str(out), "--episodes", "17") == 0
    assert "extending the run from 14 to 17" in capsys.readouterr().err
    assert n_lines(out) == 17 and manifest(out)["episodes"] == 17


def test_resume_and_overwrite_together_are_refused(tmp_path, capsys):
    out = tmp_path / "both"
    assert cli(str(BASELINE), "--out", str(out), "--episodes", "6") == 0
    before = log(out)
    keep_lines(out, 3)
    cut = log(out)
    capsys.readouterr()
    code = cli(str(BASELINE), "--out", str(out), "--resume", "--overwrite")
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "--resume" in err and "--overwrite" in err
    assert log(out) == cut != before


def test_resuming_a_complete_run_says_so_and_plays_nothing(tmp_path, capsys):
    out = tmp_path / "done"
    assert cli(str(BASELINE), "--out", str(out), "--episodes", "6") == 0
    before = log(out)
    capsys.readouterr()
    assert cli("--resume", "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert "already complete" in text and "6 of 6" in text
    assert "0 episodes played" in text
    assert log(out) == before


def test_a_changed_config_says_what_differs_and_how_to_continue(tmp_path, capsys):
    config = small_config(tmp_path)
    out = tmp_path / "changed"
    args = ["--episodes", "8", "--set", "protocol.max_rounds=9"]
    assert cli(str(config), "--out", str(out), *args) == 0
    keep_lines(out, 3)
    capsys.readouterr()
    code = cli(str(config), "--resume", "--out", str(out), "--set", "seed=77")
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "seed (recorded 2025, now 77)" in err
    assert f"peacegame run --resume --out {out}" in err
    assert "--overwrite" not in err and "delete" not in err
    assert n_lines(out) == 3  # nothing lost
    # The advice works: it continues the recorded run.
    assert cli("--resume", "--out", str(out)) == 0
    assert n_lines(out) == 8


def test_resume_of_a_folder_without_a_run_says_how_to_start(tmp_path, capsys):
    code = cli("--resume", "--out", str(tmp_path / "nothing"))
    err = capsys.readouterr().err
    assert code == 2 and "no manifest.json" in err and "peacegame run CONFIG" in err


@pytest.mark.parametrize("signum", [signal.SIGTERM])
def test_the_hint_after_sigterm_needs_no_other_flag(tmp_path, signum):
    out = tmp_path / "term"
    proc = spawn_run(out, 5000, capture=True, extra=("--set", "protocol.max_rounds=9"))
    wait_for_log(out / "episodes.jsonl")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert f"resume with: peacegame run --resume --out {out}" in err


# --------------------------------------------------------------------------- #
# Tournaments: the same contract.
# --------------------------------------------------------------------------- #

TOURNAMENT = {
    "name": "tiny",
    "scenarios": [str(ROOT / "tests" / "data" / "tournament" / "split.yaml")],
    "protocol": {"max_rounds": 3, "information": "public"},
    "competitors": {
        "hard": {"policy": "hardliner", "threshold": 1.0},
        "linear": "linear",
    },
    "assignment": {"scheme": "role_rotation", "opponents": "all"},
    "episodes": 3,
    "seed": 7,
}


def tournament(*args: str) -> int:
    from peacegame.tournament.commands import main as tournament_main

    return tournament_main([*args, "--quiet", "--no-report"])


@pytest.fixture
def tournament_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TOURNAMENT, sort_keys=False))
    return path


def test_tournament_resume_alone_continues_the_recorded_overrides(
    tmp_path, tournament_file, capsys
):
    args = ["--set", "episodes=5", "--set", "seed=11"]
    full, part = tmp_path / "full", tmp_path / "part"
    assert tournament(str(tournament_file), "--out", str(full), *args) == 0
    assert tournament(str(tournament_file), "--out", str(part), *args) == 0
    assert manifest(part)["overrides"] == ["episodes=5", "seed=11"]
    for hint in (["--resume"], [str(tournament_file), "--resume"]):
        keep_lines(part, 7)
        assert tournament(*hint, "--out", str(part)) == 0
        assert log(part) == log(full)
    capsys.readouterr()
    # Complete: says so, plays nothing.
    assert tournament("--resume", "--out", str(part)) == 0
    out = capsys.readouterr().out
    assert "already complete" in out and "0 matches played" in out
    assert log(part) == log(full)


def test_tournament_changed_config_says_how_to_continue(
    tmp_path, tournament_file, capsys
):
    out = tmp_path / "t"
    assert tournament(str(tournament_file), "--out", str(out)) == 0
    keep_lines(out, 4)
    capsys.readouterr()
    code = tournament(
        str(tournament_file), "--resume", "--out", str(out), "--set", "episodes=2"
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "episodes (recorded 3, now 2)" in err
    assert f"peacegame tournament --resume --out {out}" in err
    assert "--overwrite" not in err
    assert n_lines(out) == 4
    code = tournament(
        str(tournament_file), "--resume", "--overwrite", "--out", str(out)
    )
    err = capsys.readouterr().err
    assert code == 2 and "exclude each other" in err and n_lines(out) == 4


def test_tournament_hint_after_sigterm_is_resume_with_out(tmp_path):
    data = dict(TOURNAMENT, scenarios=["ukraine-2025"], episodes=400)
    data["protocol"] = {"max_rounds": 30, "information": "public"}
    data["competitors"] = {"linear": "linear", "tft": "tit_for_tat"}
    data["assignment"] = {"scheme": "role_rotation", "opponents": 1}
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "long"
    cmd = [
        sys.executable,
        "-m",
        "peacegame.tournament.commands",
        str(config),
        "--out",
        str(out),
        "--quiet",
        "--no-report",
        "--engine",
        "env",
        "--set",
        "seed=3",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for_log(out / "episodes.jsonl", 5_000)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"resume with: peacegame tournament --resume --out {out}" in err
