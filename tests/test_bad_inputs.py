"""The bad-input corpus: every file fails with one clear line and leaves nothing.

Each file under ``tests/bad_inputs/`` has an entry in ``expected.yaml``: the
command that reads it (``validate`` or ``run``), the field path the error must
name, and a fragment of the message. The test asserts exit code 2, exactly one
line on stderr naming the file (and the field), no traceback, and, for ``run``,
no output folder left behind. Two oversized inputs are generated at test time
rather than committed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from peacegame.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())


def test_corpus_is_complete():
    files = {p.name for p in CORPUS.glob("*.yaml")} - {"expected.yaml"}
    assert files == set(EXPECTED)
    assert len(files) >= 40
    kinds = {name.split("_")[0] for name in files}
    assert {"scenario", "actor", "match", "tournament", "train"} <= kinds


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input(name, tmp_path, capsys, monkeypatch):
    case = EXPECTED[name]
    path = CORPUS / name
    monkeypatch.chdir(tmp_path)  # relative outputs would land here
    out = tmp_path / "out"
    if case["command"] == "run":
        argv = ["run", str(path), "--out", str(out), "--quiet", "--no-plots"]
    else:
        argv = ["validate", str(path)]
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("error: "), line
    if case["field"] is not None:
        assert f": {case['field']}: " in line, line
    assert case["contains"] in line, line
    if "actor_file_missing" not in name:
        assert str(path) in line, line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_no_traceback_through_the_console_script(tmp_path):
    for name in (
        "scenario_anchor_bomb.yaml",
        "match_unknown_policy.yaml",
        "scenario_python_object_tag.yaml",
    ):
        command = "run" if name.startswith("match") else "validate"
        argv = [sys.executable, "-m", "peacegame.cli", command, str(CORPUS / name)]
        if command == "run":
            argv += ["--out", str(tmp_path / "o"), "--quiet"]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_fifty_megabyte_yaml_is_refused_without_reading_it(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    with big.open("w") as fh:
        fh.write("name: big\ncomment: '")
        fh.write("x" * (50 * 1024 * 1024))
        fh.write("'\n")
    assert main(["validate", str(big)]) == 2
    assert "expected at most 1048576 bytes" in capsys.readouterr().err


def test_safe_loading_only():
    """No unsafe YAML loading and no eval/exec anywhere in the package."""
    src = Path(__file__).resolve().parent.parent / "src" / "peacegame"
    unsafe = re.compile(
        r"yaml\.load\(|yaml\.unsafe_load|yaml\.full_load|FullLoader|UnsafeLoader"
        r"|Loader=yaml\.Loader|(?<![\w.])eval\(|(?<![\w.])exec\("
    )
    allowed = "yaml.load(text, Loader=_SafeLoader)"
    for file in src.rglob("*.py"):
        text = file.read_text().replace(allowed, "")
        found = unsafe.search(text)
        assert found is None, f"{file}: {found.group(0) if found else ''}"
