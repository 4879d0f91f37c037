"""Errors that say what to do next (issue 16, items 4 and 8).

A command given the wrong kind of file says what the file is and which command
or file is meant; a missing name lists the shipped names of that kind and the
closest one; a bad flag is blamed on the flag. One line, exit code 2, no
traceback.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import peacegame
from peacegame.cli import build_parser, main

from conftest import ROOT

CONFIGS = ROOT / "configs"


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def test_run_on_a_scenario_says_which_command_is_meant(capsys, tmp_path):
    scenario = CONFIGS / "scenarios" / "ukraine-2025.yaml"
    line = _error(["run", str(scenario), "--out", str(tmp_path / "o")], capsys)
    assert line.startswith(f"error: {scenario}: expected a match config")
    assert "got a scenario" in line
    assert f"peacegame solve {scenario}" in line
    assert "policies: missing required field" not in line
    assert not (tmp_path / "o").exists()


def test_solve_on_a_match_config_names_its_scenario(capsys):
    match = CONFIGS / "matches" / "no-china.yaml"
    line = _error(["solve", str(match)], capsys)
    assert line.startswith(f"error: {match}: expected a scenario")
    assert "got a match config" in line
    assert str(CONFIGS / "scenarios" / "no-china.yaml") in line
    assert f"peacegame run {match}" in line
    assert "actors" not in line


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["solve", "configs/tournaments/scripted.yaml"], "peacegame tournament"),
        (["solve", "configs/train/self-play.yaml"], "peacegame train"),
        (["scenario", "show", "configs/matches/baseline.yaml"], "peacegame run"),
        (["run", "agents/russia.yaml"], "under 'actors' of a scenario"),
    ],
)
def test_other_kinds_are_recognised(argv, fragment, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    line = _error(argv, capsys)
    assert fragment in line


def test_no_such_file_lists_the_shipped_names_and_the_closest(capsys):
    line = _error(["solve", "no_china"], capsys)
    assert "no such file" in line
    assert "(did you mean 'no-china'?)" in line
    shipped = sorted(
        p.relative_to(CONFIGS / "scenarios").with_suffix("").as_posix()
        for p in (CONFIGS / "scenarios").rglob("*.yaml")
    )
    assert f"shipped scenarios: {', '.join(shipped)};" in line
    line = _error(["run", "no_china"], capsys)
    assert "(did you mean 'no-china'?)" in line
    assert "shipped match configs: " in line and "baseline" in line
    line = _error(["solve", "baseline"], capsys)
    assert "'baseline' is the name of a shipped match config" in line


def test_a_match_naming_a_missing_scenario_lists_the_shipped_ones(tmp_path, capsys):
    match = tmp_path / "m.yaml"
    match.write_text(
        yaml.safe_dump(
            {"name": "m", "scenario": "no_china", "policies": {"russia": "random"}}
        )
    )
    line = _error(["run", str(match), "--out", str(tmp_path / "o")], capsys)
    assert line.startswith(f"error: {match}: scenario: no scenario file")
    assert "(did you mean 'no-china'?)" in line
    assert "shipped scenarios: hardline, no-china" in line


def test_shipped_names_in_subfolders_resolve(capsys):
    assert main(["solve", "textbook/rubinstein"]) == 0
    assert "Scenario rubinstein" in capsys.readouterr().out


def test_shipped_names_follow_one_convention():
    """File names use hyphens (no-china, not no_china); scenario and match
    names are their file names."""
    for path in CONFIGS.rglob("*.yaml"):
        assert "_" not in path.stem, path
    for kind in ("scenarios", "matches"):
        for path in (CONFIGS / kind).rglob("*.yaml"):
            assert yaml.safe_load(path.read_text())["name"] == path.stem, path


def test_no_old_underscore_names_remain():
    """Every reference to a renamed config uses its new name."""
    old = re.compile(r"(?<![\w-])(no_china|no_us_backstop|un_only)(?![\w-])")
    for folder in ("src", "tests", "docs", "configs"):
        for path in (ROOT / folder).rglob("*"):
            if path == Path(__file__).resolve():
                continue
            if path.suffix in (".py", ".md", ".yaml") and path.is_file():
                found = old.search(path.read_text())
                assert found is None, f"{path}: {found.group(0) if found else ''}"


@pytest.mark.parametrize(
    ("flag", "value"), [("--episodes", "-5"), ("--episodes", "0"), ("--seed", "-1")]
)
def test_a_bad_flag_is_blamed_on_the_flag(flag, value, capsys, tmp_path):
    out = tmp_path / "o"
    line = _error(["run", "baseline", flag, value, "--out", str(out)], capsys)
    assert line.startswith(f"error: {flag} {value}: expected ")
    assert "baseline.yaml" not in line
    assert f"give {flag} N" in line
    assert not out.exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"peacegame {peacegame.__version__}"


def test_every_command_has_a_description():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    # 'evaluate' is added by peacegame.train.commands (owned elsewhere).
    ours = ("validate", "scenario", "solve", "run", "play", "schema")
    ours += ("analyze", "report", "compare", "tournament", "train", "theory")
    for name in ours:
        command = sub.choices[name]
        assert command.description, f"'peacegame {name} --help' has no description"
    assert "Validate config files" in sub.choices["validate"].format_help()


def test_console_script_prints_no_traceback(tmp_path):
    match = "configs/matches/no-china.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "peacegame.cli", "solve", match],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert Path(ROOT / "configs/scenarios/no-china.yaml").is_file()


def test_match_descriptions_agree_with_their_settings():
    """A description that names the information setting names the one it sets."""
    from peacegame.match_config import load_match_config

    checked = 0
    for path in sorted((CONFIGS / "matches").rglob("*.yaml")):
        config, _ = load_match_config(path)
        text = " ".join((config.description or "").lower().split())
        setting = config.protocol.information
        other = "private" if setting == "public" else "public"
        assert f"{other} information" not in text, path
        checked += f"{setting} information" in text
    assert checked >= 1
