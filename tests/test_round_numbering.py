"""One round numbering everywhere (docs/log-schema.md, "Round numbering").

Round numbers start at 0 in the rules, the log, the transcripts, the plots and
the ``theory`` output; a count of rounds ("rounds played" = the last round + 1)
is labelled as a count and never shown as a round number.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from peacegame.cli import main
from peacegame.match import summarise, summary_text
from peacegame.play import play_config_file
from peacegame.scenario import load_compiled

from conftest import BASELINE, ROOT

RUN_SMALL = Path(__file__).parent / "data" / "analysis" / "run_small"
TEXTBOOK = ROOT / "configs" / "scenarios" / "textbook"


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> tuple[list[dict], int]:
    """A logged match (with events, a short deadline) and its ``max_rounds``."""
    out = tmp_path_factory.mktemp("rounds") / "run"
    max_rounds = 6
    code = main(
        [
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--quiet",
            "--no-plots",
            "--episodes",
            "40",
            "--set",
            f"protocol.max_rounds={max_rounds}",
            "--set",
            "log_events=rounds",
        ]
    )
    assert code == 0
    lines = (out / "episodes.jsonl").read_text().splitlines()
    return [json.loads(x) for x in lines], max_rounds


def test_log_round_is_a_number_from_0_and_rounds_a_count(logged):
    records, max_rounds = logged
    assert {r["end"] for r in records} - {"agreement", "deadline", "breakdown"} == set()
    for r in records:
        assert 0 <= r["round"] <= max_rounds - 1
        assert r["rounds"] == r["round"] + 1 == len(r["events"])
        assert [e["round"] for e in r["events"]] == list(range(r["rounds"]))
        assert r["events"][-1]["round"] == r["round"]
        if r["end"] == "deadline":
            assert r["round"] == max_rounds - 1 and r["rounds"] == max_rounds
    # Both ends of the range occur, so the test is not vacuous.
    assert any(r["round"] == 0 for r in records) or any(
        r["rounds"] == max_rounds for r in records
    )


def test_the_run_summary_calls_the_count_rounds_played(logged):
    records, _ = logged
    scenario = load_compiled()
    text = summary_text(summarise(records, scenario), list(scenario.actors))
    assert "mean rounds played: " in text.splitlines()[0]


def test_plot_axes_say_which_rounds_they_show():
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.plots import plot_concession, plot_rounds

    run = load_run(RUN_SMALL)
    fig = plot_concession(run.events, run.episodes, run.scenario)
    assert {ax.get_xlabel() for ax in fig.axes} == {"round (from 0)"}
    assert "from 0" in fig.get_suptitle()
    (ax,) = plot_rounds(run.episodes, max_rounds=5).axes
    assert ax.get_xlabel() == (
        "rounds played until agreement (count: agreement round + 1)"
    )
    assert ax.get_title().startswith("Rounds played until agreement")


def test_the_summary_table_labels_the_count():
    pytest.importorskip("pandas")
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.summary import summarize, summary_rows

    _, rows = summary_rows([summarize(load_run(RUN_SMALL))])
    labels = [row[0] for row in rows]
    assert "rounds played (agreements)" in labels
    assert "rounds to agreement" not in labels


def test_play_numbers_rounds_from_0_and_names_the_last_one():
    out = io.StringIO()
    play_config_file(
        "nash-mediator",
        "ukraine",
        iter(("suggest\npropose\naccept\n" * 10).splitlines()),
        out,
        overrides=["protocol.max_rounds=4"],
    )
    text = out.getvalue()
    assert "4 rounds numbered 0 to 3" in text
    assert "(rounds: 4)" not in text
    assert "round 4" not in text


def test_theory_labels_agreement_rounds_as_numbers_from_0(capsys):
    assert main(["theory", str(TEXTBOOK / "rubinstein.yaml")]) == 0
    out = capsys.readouterr().out
    assert "expected agreement round (from 0)" in out
