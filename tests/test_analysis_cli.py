"""The analyze, report and compare subcommands: output, exit codes, one-line errors."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from brute_force import evaluate
from peacegame.analysis import require_analysis
from peacegame.analysis.commands import add_commands
from peacegame.errors import UserError

RUN = Path(__file__).parent / "data" / "analysis" / "run_small"


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run through ``peacegame.cli.main``: the real wiring, so a regression fails."""
    from peacegame.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cheap_plots(monkeypatch):
    """Replace the plot set by one tiny figure (the plots have their own tests)."""
    from matplotlib.figure import Figure

    from peacegame.analysis import plots, report

    def fake(run, *args, **kwargs):
        out = plots.PlotSet()
        out.figures["tiny.png"] = (Figure(figsize=(1, 1)), "tiny")
        out.notes.append("a skipped plot")
        return out

    monkeypatch.setattr(plots, "run_plots", fake)
    monkeypatch.setattr(report, "run_plots", fake)


@pytest.fixture
def run_dir(tmp_path):
    dest = tmp_path / "run_small"
    shutil.copytree(RUN, dest)
    return dest


def test_analyze_prints_the_summary_and_writes_plots(run_dir, capsys):
    code, out, err = run_cli(["analyze", str(run_dir)], capsys)
    assert code == 0 and err == ""
    assert out.startswith("Summary (95% intervals: Wilson score")
    assert "agreement rate [95% CI]       0.667 [0.300, 0.903]" in out
    assert "utility russia (agreements)   0.671 [0.526, 0.816]" in out
    assert "Most frequent agreed outcomes: run_small" in out
    assert f"plots written into {run_dir}" in out
    assert len(list(run_dir.glob("*.png"))) == 5


def test_analyze_json_and_csv(run_dir, capsys, cheap_plots):
    # With plots: stdout holds the JSON document only, the plot lines go to stderr.
    code, out, err = run_cli(["analyze", "--json", str(run_dir)], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["runs"][0]["agreements"] == 4
    # The fixture's most frequent outcome is the Nash point (make_fixture.py);
    # its index is derived by brute force over the YAML.
    nash = evaluate("ukraine-2025").nash_point
    assert doc["runs"][0]["top_outcomes"][0]["outcome"] == nash.index
    assert doc["mixed_scenarios"] is False
    assert f"plots written into {run_dir}: tiny.png" in err
    assert "note: run_small: a skipped plot" in err
    (run_dir / "tiny.png").unlink()
    code, out, err = run_cli(["analyze", "--csv", "--no-plots", str(run_dir)], capsys)
    assert code == 0 and err == ""
    header, row = out.strip().splitlines()
    assert header.startswith("run,path,scenario,scenario_hash,episodes,agreements")
    assert row.startswith("run_small,")
    assert not list(run_dir.glob("*.png"))
    with pytest.raises(SystemExit):
        run_cli(["analyze", "--csv", "--json", str(run_dir)], capsys)


def test_analyze_several_runs_and_mixed_scenarios(run_dir, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(RUN, other)
    log = other / "episodes.jsonl"
    log.write_text(
        log.read_text().replace('"scenario":"ukraine-2025"', '"scenario":"v"')
    )
    with open(log, "a") as fh:
        fh.write('{"schema_version":1,"epi')
    code, out, err = run_cli(
        ["analyze", "--no-plots", str(run_dir), str(other)], capsys
    )
    assert code == 0
    header = out.splitlines()[2]
    assert header.split() == ["run_small", "other"]
    assert "6 (partial last line ignored)" in out
    assert "these runs use different scenarios" in out
    warnings = err.strip().splitlines()
    assert all(w.startswith("warning: ") for w in warnings)
    assert any("episodes.jsonl: line 7 is incomplete" in w for w in warnings)
    assert any("different scenarios" in w for w in warnings)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("empty", "no episodes.jsonl here"),
        ("missing", "no such folder"),
        ("corrupt", "episodes.jsonl: line 2 is corrupt"),
        ("version", "episodes.jsonl: line 1 has schema_version 3"),
    ],
)
def test_bad_input_is_one_line_error(run_dir, tmp_path, capsys, setup, message):
    target = run_dir
    log = run_dir / "episodes.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    if setup == "empty":
        target = tmp_path / "empty"
        target.mkdir()
    elif setup == "missing":
        target = tmp_path / "missing"
    elif setup == "corrupt":
        lines[1] = "{oops\n"
        log.write_text("".join(lines))
    else:
        lines[0] = lines[0].replace('"schema_version":1', '"schema_version":3')
        log.write_text("".join(lines))
    for command in (["analyze", "--no-plots"], ["report"]):
        code, out, err = run_cli([*command, str(target)], capsys)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and message in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_report_command(run_dir, tmp_path, capsys, cheap_plots):
    code, out, err = run_cli(["report", str(run_dir)], capsys)
    assert code == 0
    assert out.splitlines() == [
        f"wrote {run_dir / 'report.html'}",
        f"wrote {run_dir / 'report.md'}",
        f"wrote 1 plot into {run_dir}",
    ]
    code, out, err = run_cli(["report", str(run_dir), "--out", str(tmp_path)], capsys)
    assert code == 2 and "expected a file name for the report" in err


def test_compare_command(capsys):
    # The zone sizes are derived by brute force over the YAML.
    a, b = evaluate("ukraine-2025"), evaluate("no-china")
    za, zb = len(a.zone), len(b.zone)
    assert (a.n_outcomes, za) == (3840, 578)  # the SCENARIO.md goldens
    code, out, err = run_cli(["compare", "ukraine-2025", "no-china"], capsys)
    assert code == 0
    share_a = f"{za} ({100 * za / a.n_outcomes:.1f}%)"
    share_b = f"{zb} ({100 * zb / b.n_outcomes:.1f}%)"
    assert re.search(
        rf"zone of agreement\s+{re.escape(share_a)}\s+{re.escape(share_b)}", out
    )
    assert "Yes: allowing Chinese troops changes the forces Russia accepts" in out
    code, out, err = run_cli(["compare", "ukraine-2025", "no-china", "--json"], capsys)
    doc = json.loads(out)
    assert (doc["a"]["zone_size"], doc["b"]["zone_size"]) == (za, zb)
    code, out, err = run_cli(["compare", "ukraine-2025", "nope"], capsys)
    assert code == 2 and err.startswith("error: nope: no such file")
    assert "shipped scenarios: " in err and "no-china" in err
    code, out, err = run_cli(["compare", "a", "b", "--episodes", "0"], capsys)
    assert code == 2 and "--episodes 0" in err


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(UserError, match=r"pip install peacegame\[analysis\]"):
        require_analysis()


def test_subcommands_are_registered():
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["analyze", "x", "y", "--csv"])
    assert (args.runs, args.csv, args.json, args.no_plots) == (
        ["x", "y"],
        True,
        False,
        False,
    )
    args = parser.parse_args(["report", "x", "--out", "r.html"])
    assert (args.run_dir, args.out) == ("x", "r.html")
    args = parser.parse_args(["compare", "a", "b", "--episodes", "7", "--json"])
    assert (args.a, args.b, args.episodes, args.json) == ("a", "b", 7, True)
    assert all(callable(a.func) for a in [args])


def test_write_run_plots_for_the_runner(run_dir, monkeypatch, capsys, cheap_plots):
    from peacegame.analysis.commands import write_run_plots

    assert write_run_plots(run_dir) == [run_dir / "tiny.png"]
    assert (run_dir / "tiny.png").read_bytes().startswith(b"\x89PNG")
    assert "note: a skipped plot" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert write_run_plots(run_dir) == []
    assert "pip install peacegame[analysis]" in capsys.readouterr().err
