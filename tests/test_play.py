"""``peacegame play``: a scripted person negotiates through stdin."""

from __future__ import annotations

import io
import subprocess
import sys

from peacegame.cli import main
from peacegame.play import play_config_file


def test_play_through_stdin_reaches_an_agreement():
    script = "suggest\npropose\naccept\n" * 100
    out = io.StringIO()
    info = play_config_file(
        "nash-mediator", "ukraine", iter(script.splitlines()), out, echo=True
    )
    text = out.getvalue()
    assert info["agreement"] is True
    assert "AGREEMENT in round" in text
    assert "vote [accept/reject] > accept" in text
    assert "your reward:" in text


def test_proposals_are_built_by_editing_levels():
    lines = iter(
        [
            "troops=10k",
            "set composition nonaligned",
            "set command coalition",  # infeasible with non-aligned troops
            "propose",  # refused: not feasible
            "command=un_commanded",
            "zone=moon",  # unknown level
            "propose",
        ]
        + ["reject"] * 200
    )
    out = io.StringIO()
    play_config_file(
        "all-boulware", "russia", lines, out, overrides=["protocol.max_rounds=2"]
    )
    text = out.getvalue()
    assert "[10k]" in text and "[nonaligned]" in text
    assert "not feasible" in text
    assert "unknown level 'moon' of zone" in text
    assert "round 0: russia proposed troops=10k, composition=nonaligned, " in text
    assert "command=un_commanded" in text


def test_input_that_ends_early_is_a_one_line_error(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("show\n"))
    assert main(["play", "baseline", "--as", "russia"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: game stopped: the input ended before the episode did"


def test_play_console_script_unknown_actor():
    proc = subprocess.run(
        [sys.executable, "-m", "peacegame.cli", "play", "baseline", "--as", "india"],
        input="",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown actor 'india'" in proc.stderr
    assert "Traceback" not in proc.stderr
