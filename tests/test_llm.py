"""Issue 18 without a server: statements, the text view, constrained decoding.

The in-process ``transformers`` backend runs a tiny model with random weights,
built inside the test (no download); constrained decoding must make every one
of its replies a legal action.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import yaml

from peacegame.cli import main
from peacegame.engine.talk import Statements, clean_statement
from peacegame.env import NegotiationEnv
from peacegame.match import EpisodePlayer, run_match
from peacegame.match_config import MatchConfig
from peacegame.policies import make_view
from peacegame.policies.llm.grammar import (
    GrammarLogitsProcessor,
    ReplyGrammar,
    TokenIndex,
)
from peacegame.policies.text import ReplyError, TextView

from conftest import ROOT

SCENARIO = str(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
SCRIPTED = {
    "russia": {"policy": "boulware", "e": 0.3},
    "china": "tit_for_tat",
    "ukraine": "linear",
    "us": "conceder",
    "eu": {"policy": "boulware", "e": 0.5},
}


def _config(policies: dict, **protocol) -> MatchConfig:
    return MatchConfig(
        name="llm-test",
        scenario=SCENARIO,
        protocol={"max_rounds": 6, **protocol},
        policies=policies,
        episodes=4,
        seed=3,
        engine="env",
    )


def _view(talk: str = "public", information: str = "private") -> TextView:
    env = NegotiationEnv(
        scenario=SCENARIO, protocol={"talk": talk, "information": information}
    )
    env.reset(seed=0)
    return TextView(make_view(env.rules, "ukraine", env.record, Statements(50)))


# ------------------------------------------------------------------ statements
def test_statements_are_cleaned_and_bounded():
    assert clean_statement("  hello\n\tworld \x00 ", 100) == "hello world"
    assert clean_statement("a" * 500, 280) == "a" * 280
    assert clean_statement("   ", 10) is None
    assert clean_statement(42, 10) is None


def test_vote_statements_stay_hidden_until_the_round_is_over():
    said = Statements(40)
    said.add(0, "russia", "propose", "opening")
    said.add(0, "china", "vote", "no way")
    said.add(1, "china", "propose", "try this")
    said.add(1, "us", "vote", "fine")
    now = [(s.round, s.actor) for s in said.visible(1)]
    assert now == [(0, "russia"), (0, "china"), (1, "china")]  # not us's vote
    assert said.of_round(1) == {
        "china": {"propose": "try this"},
        "us": {"vote": "fine"},
    }


def test_talk_is_logged_and_changes_no_payoff_and_no_observation():
    policies = dict(SCRIPTED, ukraine="llm_helpers:Talker", us="llm_helpers:Talker")
    silent = EpisodePlayer(_config(policies), _load())
    talking = EpisodePlayer(
        _config(policies, talk="public", statement_max_chars=12), _load()
    )
    for episode in range(4):
        quiet, loud = silent.play(episode), talking.play(episode)
        events = loud.pop("events")
        assert {k: v for k, v in quiet.items() if k != "events"} == loud
        said = [e.pop("statements", {}) for e in events]
        assert events == quiet["events"]  # the same moves, round by round
        texts = [t for r in said for moves in r.values() for t in moves.values()]
        assert texts and all(len(t) <= 12 for t in texts)
        assert all(set(r) <= {"ukraine", "us"} for r in said)
    # Observation vectors are the same with and without talk.
    a = NegotiationEnv(scenario=SCENARIO)
    b = NegotiationEnv(scenario=SCENARIO, talk="public")
    a.reset(seed=5)
    b.reset(seed=5)
    assert a.observation_space("eu") == b.observation_space("eu")
    assert np.array_equal(
        a.observe("russia")["observation"], b.observe("russia")["observation"]
    )


def test_scripted_matches_log_the_same_lines_with_talk_on():
    quiet = EpisodePlayer(_config(SCRIPTED), _load())
    loud = EpisodePlayer(_config(SCRIPTED, talk="public"), _load())
    assert [quiet.play(i) for i in range(3)] == [loud.play(i) for i in range(3)]


def _load():
    from peacegame.scenario import load_compiled

    return load_compiled(SCENARIO)


# ------------------------------------------------------------------- text view
def test_every_outcome_round_trips_through_its_reply():
    text = _view()
    view = text.view
    mask = np.ones(view.n_outcomes + 3, dtype=np.int8)
    for k in range(0, view.n_outcomes, 37):
        move = text.parse(text.reply(k, "hi"), "propose", mask)
        assert (move.action, move.statement) == (k, "hi")
    schema = text.schema("propose")
    issues = schema["properties"]["propose"]["properties"]
    assert list(issues) == [i.name for i in view.issues]
    assert issues["troops"]["enum"] == list(view.issues[0].levels)
    assert schema["properties"]["statement"]["maxLength"] == 50
    assert "statement" not in _view(talk="none").schema("vote")["properties"]


@pytest.mark.parametrize(
    ("reply", "phase", "expected"),
    [
        ("", "vote", "the reply is empty"),
        ("I accept", "vote", "no JSON object"),
        ('{"vote": "maybe"}', "vote", "vote must be 'accept' or 'reject'"),
        ('{"propose": {}}', "vote", "you are voting"),
        ('{"vote": "accept"}', "propose", "you are proposing"),
        ('{"propose": {"troops": "25k"}}', "propose", "missing issue(s)"),
        ('{"propose": {"tanks": "1"}}', "propose", "unknown issue 'tanks'"),
        ('{"propose": {"troops": "9k"}}', "propose", "unknown level '9k' of troops"),
    ],
)
def test_bad_replies_say_what_was_expected(reply, phase, expected):
    text = _view()
    mask = np.ones(text.view.n_outcomes + 3, dtype=np.int8)
    with pytest.raises(ReplyError, match=None) as caught:
        text.parse(reply, phase, mask)
    assert expected in str(caught.value)


def test_infeasible_and_illegal_replies_are_refused(default_scenario):
    text = _view()
    view = text.view
    infeasible = None
    grid = [list(i.levels) for i in view.issues]
    rng = random.Random(0)
    while infeasible is None:
        pick = {i.name: rng.choice(g) for i, g in zip(view.issues, grid, strict=True)}
        try:
            default_scenario.encode(pick)
        except ValueError:
            infeasible = pick
    mask = np.ones(view.n_outcomes + 3, dtype=np.int8)
    with pytest.raises(ReplyError, match="not feasible"):
        text.parse(json.dumps({"propose": infeasible}), "propose", mask)
    mask[view.accept_action] = 0
    with pytest.raises(ReplyError, match="not legal now"):
        text.parse('{"vote": "accept"}', "vote", mask)


def test_the_state_names_role_offer_history_and_statements():
    env = NegotiationEnv(scenario=SCENARIO, talk="public", information="public")
    said = Statements(60)
    env.reset(seed=2)
    text = TextView(make_view(env.rules, "ukraine", env.record, said))
    proposer = env.agent_selection
    said.add(0, proposer, "propose", "a fair start")
    env.step(0)
    voter = env.agent_selection
    state = text.state(env.observe(voter), env.infos[voter])
    assert f"{proposer} proposes troops=" in state
    assert '"a fair start"' in state
    assert "Its worth to each actor" in state  # public information
    assert "no-deal value" in state and "troops: 0 " in state
    private = _view(information="private").state({}, {"round": 0, "phase": "propose"})
    assert "Its worth to each actor" not in private and "You propose" in private


# --------------------------------------------------------- constrained decoding
def test_random_walks_through_the_grammar_end_in_legal_replies(tiny_model):
    from transformers import AutoTokenizer

    text = _view()
    index = TokenIndex(AutoTokenizer.from_pretrained(tiny_model))
    mask = np.zeros(text.view.n_outcomes + 3, dtype=np.int8)
    rng = random.Random(1)
    for phase, legal in (
        ("vote", [text.view.accept_action, text.view.reject_action]),
        ("propose", list(range(text.view.n_outcomes))),
    ):
        mask[:] = 0
        mask[legal] = 1
        grammar = ReplyGrammar([text.reply(a) for a in legal], statement_chars=30)
        processor = GrammarLogitsProcessor(grammar, index, 0)
        for _ in range(15):
            reply = ""
            while True:
                allowed = processor.allowed(reply).tolist()
                token = rng.choice(allowed)
                if token == index.eos:
                    break
                reply += index.texts[token]
            move = text.parse(reply, phase, mask)
            assert move.action in legal
            assert move.statement is None or len(move.statement) <= 30


def test_the_in_process_backend_on_random_weights_plays_only_legal_moves(
    tiny_model, tmp_path
):
    llm = {"policy": "llm", "backend": "transformers", "model": str(tiny_model)}
    policies = dict(SCRIPTED, russia={**llm, "temperature": 1.5}, ukraine=llm)
    config = _config(policies, talk="public", statement_max_chars=16)
    config = config.model_copy(update={"episodes": 3})
    result = run_match(config, SCENARIO, run_dir=tmp_path / "run", progress=False)
    assert result.played == 3
    stats = [r["llm"][a] for r in result.records for a in ("russia", "ukraine")]
    assert sum(s["decisions"] for s in stats) > 0
    assert sum(s["invalid"] for s in stats) == 0
    assert sum(s["fallbacks"] for s in stats) == 0
    assert all(s["requests"] == s["decisions"] for s in stats)
    lines = (tmp_path / "run" / "transcripts.jsonl").read_text().splitlines()
    exchanges = [
        e for line in lines for ex in json.loads(line)["exchanges"].values() for e in ex
    ]
    assert all("error" not in e and e["structured"] for e in exchanges)

    # The analysis reports the LLM measures (and the report shows them).
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.summary import format_summary, summarize

    summary = summarize(load_run(tmp_path / "run"))
    assert summary["llm_invalid_reply_rate"] == 0.0
    assert summary["llm_fallback_rate"] == 0.0
    tokens = sum(s["prompt_tokens"] + s["completion_tokens"] for s in stats)
    agreements = sum(r["agreement"] for r in result.records)
    if agreements:
        assert summary["llm_tokens_per_agreement"] == tokens / agreements
    assert "LLM fallback rate (per decision)" in format_summary([summary])


def test_statement_lengths_reach_the_summary(tmp_path):
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.summary import summarize

    policies = dict(SCRIPTED, us={"policy": "llm_helpers:Talker", "words": 9})
    config = _config(policies, talk="public")
    run_match(config, SCENARIO, run_dir=tmp_path / "run", progress=False)
    summary = summarize(load_run(tmp_path / "run"))
    assert summary["statements"] > 0 and summary["statement_length_mean"] == 9
    assert "llm_requests" not in summary


# ------------------------------------------------------------------- config errors
def _write(tmp_path: Path, spec: dict) -> Path:
    data = {
        "name": "bad-llm",
        "scenario": SCENARIO,
        "policies": dict(SCRIPTED, ukraine={"policy": "llm", **spec}),
        "episodes": 1,
    }
    path = tmp_path / "match.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"model": "m", "api_key": "sk-secret"}, "policies.ukraine.api_key: API keys"),
        ({"model": "m", "api_key_env": "PEACEGAME_NO_SUCH_KEY"}, "is not set"),
        ({"model": "m", "backend": "vllm"}, "policies.ukraine.backend"),
        (
            {"model": "m", "base_url": "http://x", "system_prompt": "nope.txt"},
            "cannot read the system prompt",
        ),
        ({"backend": "transformers", "model": "/no/such/model"}, "cannot load model"),
    ],
)
def test_bad_llm_specs_are_one_line_errors(
    spec, expected, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("PEACEGAME_NO_SUCH_KEY", raising=False)
    path = _write(tmp_path, spec)
    code = main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert "sk-secret" not in err[0]


def test_llm_policies_enter_tournaments(tiny_model, tmp_path, capsys):
    llm = {"policy": "llm", "backend": "transformers", "model": str(tiny_model)}
    config = {
        "name": "llm-tournament",
        "scenarios": [SCENARIO],
        "protocol": {"max_rounds": 3, "information": "public"},
        "competitors": {"linear": "linear", "llm": llm},
        "assignment": {"scheme": "role_rotation", "opponents": 1},
        "episodes": 1,
        "seed": 1,
    }
    path = tmp_path / "tournament.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert main(["tournament", str(path), "--out", str(out), "--no-report"]) == 0
    lines = (out / "episodes.jsonl").read_text().splitlines()
    labels = {v for line in lines for v in json.loads(line)["policies"].values()}
    assert "llm(transformers:" + tiny_model.name + ")" in labels
    assert all("llm" in json.loads(line) for line in lines if "llm(" in line)
    assert "llm" in capsys.readouterr().out
