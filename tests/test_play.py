"""``peacegame play``: a scripted person negotiates through stdin."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

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


def _session(lines: list[str], actor: str = "russia", **kwargs) -> tuple[dict, str]:
    out = io.StringIO()
    info = play_config_file("all-boulware", actor, iter(lines), out, **kwargs)
    return info, out.getvalue()


def test_edits_accept_spaces_any_case_and_several_on_one_line():
    _, text = _session(
        [
            "Troops = 25K",
            "COMPOSITION=Nonaligned command = UN_COMMANDED, zone=REAR",
            "set duration 3_YEARS us_backstop air_support",
            "quit",
        ]
    )
    assert "[25k]" in text
    draft = text.split("propose > ")[-2]  # the draft shown after the last edit
    for level in ("[25k]", "[nonaligned]", "[un_commanded]", "[rear]", "[3_years]"):
        assert level in draft, level
    assert "[air_support]" in draft
    assert "unknown" not in text


def test_a_bad_edit_on_a_line_changes_nothing():
    _, text = _session(["troops=25k zone=moon", "show", "quit"])
    assert "unknown level 'moon' of zone" in text
    shown = text.split("propose > ")[2]  # after 'show'
    assert "[25k]" not in shown


def test_quit_exits_zero(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("show\nquit\n"))
    assert main(["play", "baseline", "--as", "russia"]) == 0
    captured = capsys.readouterr()
    assert "you left the game" in captured.out
    assert captured.err == ""
    monkeypatch.setattr(sys, "stdin", io.StringIO("QUIT\n"))
    assert main(["play", "baseline", "--as", "russia"]) == 0


def _first_offer(text: str) -> tuple[str, int]:
    """The line of the first vote and the offer it shows, decoded back."""
    from peacegame.scenario import load_compiled

    line = next(t for t in text.splitlines() if t.startswith("round 0: russia"))
    described = line.split("proposes: ", 1)[1].split("  (worth")[0]
    decoded = dict(part.split("=") for part in described.split(", "))
    return line, load_compiled().encode(decoded)


def test_the_vote_shows_who_proposed():
    # Russia proposes first in rotation; as Ukraine the first thing is a vote.
    _, text = _session(["reject", "quit"], actor="ukraine")
    assert "round 0: russia proposes: troops=" in text


def test_accepting_below_the_no_deal_value_asks_to_confirm():
    from peacegame.scenario import load_compiled

    scenario = load_compiled()
    ukraine = scenario.actor_index("ukraine")
    _, text = _session(["accept", "reject", "quit"], actor="ukraine")
    line, offer = _first_offer(text)
    worth = float(scenario.utility[ukraine, offer])  # round 0: no discount yet
    no_deal = float(scenario.no_deal[ukraine])
    assert worth < no_deal  # Russia's opening offer is bad for Ukraine
    assert f"(worth {worth:.3f} to you)" in line
    assert (
        f"warning: this offer pays you {worth:.3f}, less than your no-deal value "
        f"{no_deal:.3f}; type 'accept' again" in text
    )
    assert "ukraine rejects" in text  # the confirmation was not given
    _, text = _session(["accept", "accept", "quit"], actor="ukraine")
    assert "ukraine accepts" in text  # confirmed


def test_no_warning_for_an_offer_worth_the_no_deal_value():
    from peacegame.scenario import load_compiled

    scenario = load_compiled()
    china = scenario.actor_index("china")
    _, text = _session(["accept", "quit"], actor="china")
    _, offer = _first_offer(text)
    assert float(scenario.utility[china, offer]) >= float(scenario.no_deal[china])
    assert "warning" not in text
    assert "china accepts" in text


def test_help_is_plain_text_and_lists_the_actors(capsys):
    from peacegame.play import HELP

    assert "``" not in HELP and ":data:" not in HELP
    with pytest.raises(SystemExit):
        main(["play", "--help"])
    out = capsys.readouterr().out
    assert "``" not in out
    assert "troops=25k" in out
    actors = "russia (Russia), china (China), ukraine (Ukraine)"
    assert actors in out
