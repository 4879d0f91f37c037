"""The batch runner and the env path play the same episodes (records, seeds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacegame.batch import BatchEngine, UnsupportedError, run_episodes, supports
from peacegame.engine import episode_seeds
from peacegame.engine.strategies import public_picks
from peacegame.errors import ConfigError
from peacegame.logs import dumps_record
from peacegame.match import EpisodePlayer, OutcomeMetrics, episode_seed
from peacegame.match_config import MatchConfig
from peacegame.scenario import compile_dict, load_compiled
from peacegame.scenario.consent import unanimity

from conftest import ROOT
from scenario_strategies import scenario_dicts

THREE = ROOT / "tests" / "data" / "three_actors.yaml"

TIME_DEPENDENT = [
    "boulware",
    "linear",
    "conceder",
    {"policy": "time_dependent", "e": 0.7},
    {"policy": "boulware", "e": 0.1},
]
EVERY = [
    "boulware",
    "tit_for_tat",
    "linear",
    {"policy": "hardliner", "level": 0.3},
    "conceder",
    {"policy": "tit_for_tat", "niceness": 0.02},
    {"policy": "hardliner", "threshold": 0.5},
    "random",
]


@pytest.fixture(scope="module")
def three():
    return load_compiled(THREE)


@pytest.fixture(scope="module")
def metrics_cache():
    return {}


def config(scenario, policies, episodes=20, seed=3, log_events="rounds", **protocol):
    return MatchConfig(
        name="batch-test",
        policies=dict(zip(scenario.actors, policies, strict=False)),
        episodes=episodes,
        seed=seed,
        log_events=log_events,
        protocol=protocol,
    )


def assert_same_records(scenario, cfg, metrics_cache, episodes, batch_size=7):
    metrics = metrics_cache.get(scenario.name)
    if metrics is None:
        metrics = metrics_cache[scenario.name] = OutcomeMetrics.of(scenario)
    player = EpisodePlayer(cfg, scenario, metrics)
    expected = [player.play(i) for i in episodes]
    got = run_episodes(cfg, scenario, episodes, metrics, batch_size=batch_size)
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert have == want
        assert list(have) == list(want)  # same key order
        if "events" in want:
            assert [list(e) for e in have["events"]] == [
                list(e) for e in want["events"]
            ]
    return expected


# ------------------------------------------------------------------ records
@pytest.mark.parametrize("information", ["public", "private"])
@pytest.mark.parametrize("proposer", ["rotating", "random"])
@pytest.mark.parametrize("breakdown", [0.0, 0.05])
def test_time_dependent_family_matches_env(
    default_scenario, metrics_cache, information, proposer, breakdown
):
    cfg = config(
        default_scenario,
        TIME_DEPENDENT,
        information=information,
        proposer=proposer,
        breakdown_prob=breakdown,
        max_rounds=25,
    )
    records = assert_same_records(default_scenario, cfg, metrics_cache, range(16))
    if information == "public" and breakdown == 0.0:
        assert any(r["agreement"] for r in records)


@pytest.mark.parametrize("information", ["public", "private"])
@pytest.mark.parametrize("offset", [0, 1, 2, 3])
def test_every_strategy_matches_env(
    default_scenario, metrics_cache, information, offset
):
    # Rotate the strategies over the actors so that each plays every role.
    policies = [EVERY[(offset + i) % len(EVERY)] for i in range(5)]
    cfg = config(
        default_scenario,
        policies,
        seed=offset,
        information=information,
        proposer="random",
        breakdown_prob=0.02,
        max_rounds=20,
    )
    assert_same_records(default_scenario, cfg, metrics_cache, range(12))


def test_private_ties_match_env(default_scenario, metrics_cache):
    # Linear proposers under private information: the frequency model's ties
    # depend on the last bit of the estimates, summed in issue order.
    cfg = config(
        default_scenario,
        ["linear"] * 5,
        seed=1,
        information="private",
        proposer="random",
        max_rounds=30,
    )
    assert_same_records(default_scenario, cfg, metrics_cache, range(30), batch_size=30)


def test_random_policy_matches_env(default_scenario, metrics_cache):
    cfg = config(
        default_scenario,
        ["random"] * 5,
        proposer="random",
        breakdown_prob=0.02,
        max_rounds=12,
    )
    records = assert_same_records(default_scenario, cfg, metrics_cache, range(40))
    assert {r["end"] for r in records} >= {"agreement", "deadline"}


def test_nash_mediator_matches_env(default_scenario, metrics_cache):
    cfg = config(
        default_scenario,
        ["boulware", "linear", "tit_for_tat", "nash_mediator", "random"],
        information="public",
        proposer="random",
        max_rounds=30,
    )
    assert_same_records(default_scenario, cfg, metrics_cache, range(20))


@pytest.mark.parametrize(
    ("policies", "protocol"),
    [
        (["linear", "random", "conceder"], {"information": "private"}),
        (["tit_for_tat", "boulware", "linear"], {"information": "public"}),
        (
            [{"policy": "hardliner", "level": 0.2}, "random", "tit_for_tat"],
            {"proposer": "random", "breakdown_prob": 0.1},
        ),
        (["nash_mediator", "conceder", "random"], {"information": "public"}),
        (["boulware", "boulware", "boulware"], {"max_rounds": 1}),
        (["linear", "conceder", "linear"], {"max_rounds": 2, "proposer": "random"}),
    ],
)
def test_three_actor_scenario_matches_env(three, metrics_cache, policies, protocol):
    protocol = {"max_rounds": 8, **protocol}
    cfg = config(three, policies, seed=11, **protocol)
    assert_same_records(three, cfg, metrics_cache, range(25), batch_size=10)


def test_episode_ranges_and_no_events(default_scenario, metrics_cache):
    cfg = config(
        default_scenario,
        EVERY[:5],
        log_events="none",
        proposer="random",
        information="public",
        max_rounds=15,
    )
    records = assert_same_records(
        default_scenario, cfg, metrics_cache, range(1000, 1030, 3), batch_size=4
    )
    assert all("events" not in r for r in records)


def play_with_seed(player, episode, seed):
    """EpisodePlayer's loop on an explicit seed (as tournaments play)."""
    env = player.env
    env.reset(seed=seed)
    for a, actor in enumerate(player.actors):
        view = player.views[actor]
        player.policies[actor].reset(actor, view, np.random.default_rng([seed, a]))
    while True:
        agent = env.agent_selection
        if env.terminations[agent] or env.truncations[agent]:
            break
        env.step(player.policies[agent].act(env.observe(agent), env.infos[agent]))
    return player.record(episode, seed)


def test_explicit_seeds_and_episode_lists(default_scenario, metrics_cache):
    cfg = config(
        default_scenario,
        EVERY[3:8],
        proposer="random",
        breakdown_prob=0.03,
        max_rounds=15,
    )
    metrics = metrics_cache.setdefault(
        default_scenario.name, OutcomeMetrics.of(default_scenario)
    )
    player = EpisodePlayer(cfg, default_scenario, metrics)
    episodes = [5, 2, 9, 40, 41]
    seeds = [123, 2**40 + 5, 0, 7, 2**63 - 2]
    expected = [
        play_with_seed(player, e, s) for e, s in zip(episodes, seeds, strict=True)
    ]
    got = run_episodes(
        cfg, default_scenario, episodes, metrics, seeds=seeds, batch_size=3
    )
    assert got == expected


def test_play_returns_the_records_outcomes(default_scenario):
    cfg = config(default_scenario, TIME_DEPENDENT, information="public", max_rounds=40)
    engine = BatchEngine(cfg, default_scenario, batch_size=8)
    result = engine.play(range(10))
    records = engine.run(range(10))
    assert result.decisions > 0
    for i, record in enumerate(records):
        assert record["seed"] == int(result.seed[i])
        assert record["round"] == int(result.round[i])
        expected = record["outcome"] if record["agreement"] else -1
        assert int(result.outcome[i]) == expected


def test_records_share_no_dicts_and_keep_the_sign_of_zero(default_scenario):
    # Lines are built from parts kept per outcome and per rewards: a record's
    # nested dicts are still its own, and -0.0 keeps its sign in the line.
    cfg = config(default_scenario, TIME_DEPENDENT, information="public", max_rounds=40)
    engine = BatchEngine(cfg, default_scenario, OutcomeMetrics.of(default_scenario))
    first, second = engine.run(range(2))
    assert first["agreement"] and first["outcome"] == second["outcome"]
    before = dumps_record(second)
    for key in ("decoded", "utility", "reward", "policies"):
        first[key].clear()
    assert dumps_record(second) == before
    assert dumps_record(engine.run([1])[0]) == before
    metrics = engine.metrics
    actors = default_scenario.actors[:2]
    plus, _ = metrics.reward_parts(actors, np.array([0.0, 0.5]))
    minus, _ = metrics.reward_parts(actors, np.array([-0.0, 0.5]))
    assert json.dumps(plus) != json.dumps(minus)
    assert json.dumps(minus) == json.dumps({actors[0]: -0.0, actors[1]: 0.5})


# ------------------------------------------------------------------ support
def test_supports(default_scenario):
    scripted = config(default_scenario, EVERY[:5])
    assert supports(scripted)
    assert supports(scripted, default_scenario)
    learned = config(
        default_scenario,
        ["linear", "linear", {"policy": "learned", "checkpoint": "x.zip"}],
    )
    assert not supports(learned)
    user = config(default_scenario, ["linear"] * 4 + ["tests.somewhere:Policy"])
    assert not supports(user)
    with pytest.raises(UnsupportedError):
        run_episodes(learned, default_scenario, range(1))


def test_nash_mediator_under_private_information_fails_like_the_env(default_scenario):
    cfg = config(default_scenario, ["nash_mediator"] + ["linear"] * 4)
    with pytest.raises(ConfigError, match="information: public") as batch_error:
        run_episodes(cfg, default_scenario, range(1))
    with pytest.raises(ConfigError, match="information: public") as env_error:
        EpisodePlayer(cfg, default_scenario).play(0)
    assert str(batch_error.value) == str(env_error.value)


# ---------------------------------------------------------------- randomness
_M64 = 2**64 - 1


def _splitmix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def test_episode_seeds_are_the_documented_hash_of_base_and_episode():
    ids = np.array([0, 1, 2, 7, 2**32 - 1, 2**32, 2**40 + 3, 123456789])
    for base in (0, 5, 2025, 2**32 + 1, 2**63 - 1):
        expected = [(_splitmix(_splitmix(base) ^ _splitmix(int(i))) >> 1) for i in ids]
        assert episode_seeds(base, ids).tolist() == expected
        # Any subset, in any order, gets the same seeds.
        assert [episode_seed(base, int(i)) for i in ids[::-1]] == expected[::-1]
    with pytest.raises(ValueError, match="base seed"):
        episode_seeds(-1, ids)
    with pytest.raises(ValueError, match="base seed"):
        episode_seeds(2**64, ids)


def test_episode_seeds_accept_base_seeds_above_2_63():
    base = 2**64 - 1
    expected = _splitmix(_splitmix(base) ^ _splitmix(3)) >> 1
    assert episode_seed(base, 3) == expected


def test_public_pick_is_the_last_best_of_every_prefix():
    """Among the first c outcomes: the largest acceptability, ties to the later."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        n_actors, n_outcomes = 3, 50
        utility = rng.integers(0, 4, (n_actors, n_outcomes)).astype(float) / 4
        required = (rng.random((n_outcomes, n_actors)) < 0.7).astype(np.uint8)
        no_deal = np.zeros(n_actors)
        order = rng.permutation(n_outcomes)
        rules = unanimity(required.T.astype(bool))
        picks = public_picks(order, required, rules, utility, no_deal, 0)
        others = required.T.astype(bool).copy()
        others[0] = False
        score = np.where(others, utility, np.inf).min(axis=0)
        for count in range(1, n_outcomes + 1):
            candidates = order[:count][::-1]
            expected = candidates[int(np.argmax(score[candidates]))]
            assert picks[count] == expected
        assert picks[0] == picks[1]


# ------------------------------------------------- random scenarios (property)
SPECS = [
    "boulware",
    "linear",
    "conceder",
    {"policy": "time_dependent", "e": 0.7},
    "tit_for_tat",
    {"policy": "tit_for_tat", "niceness": 0.05},
    {"policy": "hardliner", "level": 0.4},
    {"policy": "hardliner", "threshold": 0.5},
    "random",
    "nash_mediator",
]


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=scenario_dicts(),
    choices=st.data(),
    max_rounds=st.integers(1, 8),
    proposer=st.sampled_from(["rotating", "random"]),
    breakdown=st.sampled_from([0.0, 0.1]),
    information=st.sampled_from(["public", "private"]),
    custom_order=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_random_scenarios_protocols_and_policies_match_env(
    data, choices, max_rounds, proposer, breakdown, information, custom_order, seed
):
    scenario = compile_dict(data)
    actors = list(scenario.actors)
    specs = SPECS if information == "public" else SPECS[:-1]
    policies = [choices.draw(st.sampled_from(specs)) for _ in actors]
    protocol: dict[str, Any] = {
        "max_rounds": max_rounds,
        "proposer": proposer,
        "breakdown_prob": breakdown,
        "information": information,
    }
    if custom_order:
        protocol["order"] = choices.draw(st.permutations(actors))
    cfg = config(scenario, policies, seed=seed, **protocol)
    metrics = OutcomeMetrics.of(scenario)
    player = EpisodePlayer(cfg, scenario, metrics)
    expected = [player.play(i) for i in range(6)]
    got = run_episodes(cfg, scenario, range(6), metrics, batch_size=4)
    assert got == expected
    for want, have in zip(expected, got, strict=True):
        assert list(have) == list(want)


def test_custom_order_and_proposals_without_voters_match_env(metrics_cache):
    """a0 alone must consent to l0 outcomes: its proposals there need no vote."""
    scenario = compile_dict(
        {
            "name": "solo",
            "issues": [{"name": "i0", "levels": ["l0", "l1", "l2"]}],
            "actors": [
                {
                    "id": f"a{a}",
                    "no_deal": 0.2,
                    "discount": 0.9,
                    "recognition": 1 / 3,
                    "terms": [{"weight": 1, "issue": "i0", "values": values}],
                }
                for a, values in enumerate([[1, 0.5, 0], [0, 1, 0.5], [0.5, 0, 1]])
            ],
            "consent": [
                {"actors": ["a0"]},
                {"actors": ["a1", "a2"], "when": {"issue": "i0", "in": ["l1", "l2"]}},
            ],
        }
    )
    for order in (["a2", "a1", "a0"], ["a1", "a0", "a2"]):
        for policies in (["linear", "random", "tit_for_tat"], ["random"] * 3):
            cfg = config(scenario, policies, seed=5, order=order, max_rounds=6)
            records = assert_same_records(scenario, cfg, metrics_cache, range(30))
            solo = [
                r
                for r in records
                if r["agreement"]
                and r["proposer"] == "a0"
                and r["decoded"] == {"i0": "l0"}
            ]
            assert solo and all(r["events"][-1]["votes"] == {} for r in solo)


# ----------------------------------------------------- CPU-independent bytes
def test_private_match_bytes_do_not_depend_on_the_blas_core(tmp_path):
    """batch and env, under two OpenBLAS core types: the same episodes.jsonl."""
    data = yaml.safe_load((ROOT / "configs" / "matches" / "baseline.yaml").read_text())
    data["scenario"] = str(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
    data["protocol"]["information"] = "private"
    data["policies"]["china"] = {"policy": "conceder"}
    data["policies"]["russia"] = {"policy": "linear"}
    data["episodes"] = 40
    path = tmp_path / "private.yaml"
    path.write_text(yaml.safe_dump(data))
    outputs = {}
    for core in ("SANDYBRIDGE", "HASWELL"):
        for engine in ("batch", "env"):
            out = tmp_path / f"{engine}-{core}"
            env = {**os.environ, "OPENBLAS_CORETYPE": core, "OMP_NUM_THREADS": "1"}
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "peacegame.cli",
                    "run",
                    str(path),
                    "--engine",
                    engine,
                    "--out",
                    str(out),
                    "--quiet",
                    "--no-plots",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr
            outputs[engine, core] = (out / "episodes.jsonl").read_bytes()
    first = outputs["batch", "SANDYBRIDGE"]
    assert first.count(b"\n") == 40
    assert b'"end": "agreement"' in first or b'"end":"agreement"' in first
    assert all(blob == first for blob in outputs.values())
