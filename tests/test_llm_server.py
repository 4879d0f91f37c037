"""Issue 18 against a real server: ``transformers serve`` with a tiny random model.

The model is built inside the test (no download) and served on localhost; the
``openai`` client plays full matches against it. A random model's replies are
not moves, so every decision exercises validation, re-asking with the error
and the counted fallback. No part of the server is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peacegame.match import run_config_file, run_match
from peacegame.match_config import MatchConfig
from peacegame.policies.llm.cache import close_caches

from conftest import ROOT
from llm_helpers import transformers_server

SCENARIO = str(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
KEY_ENV = "PEACEGAME_TEST_LLM_KEY"
SECRET = "sk-peacegame-test-3f9a1c77e2"

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tiny_model):
    with transformers_server(tiny_model) as url:
        yield url


def _config(url: str, model: Path, episodes: int, **llm) -> MatchConfig:
    spec = {
        "policy": "llm",
        "backend": "openai",
        "base_url": url,
        "model": str(model),
        "api_key_env": KEY_ENV,
        "max_tokens": 12,
        "max_retries": 1,
        "backoff": 0.05,
        **llm,
    }
    return MatchConfig(
        name="llm-server",
        scenario=SCENARIO,
        protocol={"max_rounds": 4, "talk": "public", "information": "public"},
        policies={
            "russia": spec,
            "china": "tit_for_tat",
            "ukraine": spec,
            "us": "conceder",
            "eu": {"policy": "boulware", "e": 0.5},
        },
        episodes=episodes,
        seed=11,
        engine="env",
    )


def _exchanges(run: Path) -> list[dict]:
    lines = (run / "transcripts.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_match_against_transformers_serve(server, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    run = tmp_path / "run"
    config = _config(server, tiny_model, episodes=3)
    result = run_match(config, SCENARIO, run_dir=run, workers=3, progress=False)
    assert result.played == 3
    close_caches()

    # Every action applied was legal: the env raises on an illegal one, and
    # each logged round is a feasible offer voted on by actors that count.
    records = result.records
    for record in records:
        for event in record["events"]:
            assert 0 <= event["offer"] < 3840
            assert set(event["votes"]) <= {"russia", "china", "ukraine", "us", "eu"}

    # Invalid replies were answered with the error, asked again, then fell back.
    transcripts = _exchanges(run)
    assert [t["episode"] for t in sorted(transcripts, key=lambda t: t["episode"])] == [
        0,
        1,
        2,
    ]
    by_episode = {t["episode"]: t for t in transcripts}
    total_invalid = 0
    for record in records:
        for actor in ("russia", "ukraine"):
            stats = record["llm"][actor]
            exchanges = by_episode[record["episode"]]["exchanges"][actor]
            assert stats["requests"] == len(exchanges) > 0
            assert stats["invalid"] == sum("error" in e for e in exchanges)
            assert stats["fallbacks"] == sum("fallback" in e for e in exchanges)
            # Each decision: invalid replies, then a valid one or the fallback.
            valid = stats["decisions"] - stats["fallbacks"]
            assert stats["requests"] == stats["invalid"] + valid
            assert stats["prompt_tokens"] == sum(e["prompt_tokens"] for e in exchanges)
            assert stats["completion_tokens"] > 0
            total_invalid += stats["invalid"]
            for e in exchanges:
                assert e["messages"][0]["role"] == "system"
                assert e["messages"][1]["role"] == "user"
                assert e["latency_s"] >= 0 and e["prompt_tokens"] > 0
                assert ("action" in e) != ("error" in e)  # legal, or refused
            retried = [e for e in exchanges if e["attempt"] == 1]
            for e in retried:  # the second ask carries the first reply and error
                assert e["messages"][2]["role"] == "assistant"
                assert "not a legal move" in e["messages"][3]["content"]
    # A random model: re-asks and fallbacks happened, and were counted.
    assert total_invalid > 0
    assert sum(r["llm"][a]["fallbacks"] for r in records for a in ("russia", "ukraine"))

    # The API key appears nowhere in the run folder.
    for path in run.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path

    # A cache replay, offline and without a server, is byte-identical.
    replay = tmp_path / "replay"
    offline = _config(
        "http://127.0.0.1:9/v1",
        tiny_model,
        episodes=3,
        cache=str(run / "llm-cache.jsonl"),
        offline=True,
    )
    again = run_match(offline, SCENARIO, run_dir=replay, workers=1, progress=False)
    assert again.played == 3
    assert (replay / "episodes.jsonl").read_bytes() == (
        run / "episodes.jsonl"
    ).read_bytes()
    cached = [
        e for t in _exchanges(replay) for ex in t["exchanges"].values() for e in ex
    ]
    assert cached and all(e["cached"] for e in cached)
    close_caches()


def test_resume_continues_an_llm_match(server, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    run = tmp_path / "run"
    config = _config(server, tiny_model, episodes=2)
    first = run_match(config, SCENARIO, run_dir=run, progress=False)
    assert first.played == 2
    # A crash after a transcript line but before its episode line: resume
    # drops the orphan transcript and plays the episode again.
    with open(run / "transcripts.jsonl", "a") as fh:
        fh.write(json.dumps({"episode": 2, "exchanges": {}}) + "\n" + '{"epis')
    close_caches()
    more = config.model_copy(update={"episodes": 3})
    resumed = run_match(more, SCENARIO, run_dir=run, resume=True, progress=False)
    assert resumed.played == 1 and len(resumed.records) == 3
    assert sorted(t["episode"] for t in _exchanges(run)) == [0, 1, 2]
    fresh = tmp_path / "fresh"
    whole = run_match(more, SCENARIO, run_dir=fresh, progress=False)
    assert (fresh / "episodes.jsonl").read_bytes() == (
        run / "episodes.jsonl"
    ).read_bytes()
    assert whole.played == 3
    close_caches()
    # The folder resumes from its manifest alone (peacegame run --resume --out).
    done = run_config_file(None, run_dir=run, resume=True, progress=False)
    assert done.already_complete
