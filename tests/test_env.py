"""The AEC and parallel envs: equivalence, determinism, observations, errors."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pettingzoo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.utils import wrappers

from peacegame.engine.rules import C_PHASE, C_PROPOSER
from peacegame.env import (
    ENV_ID,
    NegotiationEnv,
    NegotiationParallelEnv,
    parallel_env,
    raw_env,
    register_envs,
)
from peacegame.env import env as aec_env
from peacegame.protocol import PHASES, ProtocolConfig
from peacegame.scenario import compile_dict, load_compiled

from scenario_strategies import scenario_dicts

THREE_ACTORS = Path(__file__).parent / "data" / "three_actors.yaml"


@functools.cache
def three_actors() -> Any:
    return load_compiled(THREE_ACTORS)


# ------------------------------------------------------------------ drivers
class SeededPolicy:
    """A deterministic per-actor policy: uniform legal moves from its own RNG.

    It draws only when it has a real choice, so it makes the same decisions
    whether it is asked only when it must move (AEC) or at every step
    (parallel, where an idle actor's only legal action is WAIT).
    """

    def __init__(self, seed: int, accept_bias: float = 0.5) -> None:
        self.rng = np.random.default_rng(seed)
        self.accept_bias = accept_bias

    def __call__(self, mask: np.ndarray) -> int:
        legal = np.flatnonzero(mask)
        if legal.size == 1:
            return int(legal[0])
        if legal.size == 2 and mask[-3] and mask[-2]:  # ACCEPT, REJECT
            return int(legal[0] if self.rng.random() < self.accept_bias else legal[1])
        return int(self.rng.choice(legal))


def policies(agents: list[str], seed: int, accept_bias: float = 0.5) -> dict:
    return {
        agent: SeededPolicy(seed * 100 + i, accept_bias)
        for i, agent in enumerate(agents)
    }


def play_aec(env: Any, seed: int, policy_seed: int, bias: float = 0.5) -> dict:
    """Play one episode; return the result and every decision's observation."""
    env.reset(seed=seed)
    players = policies(env.possible_agents, policy_seed, bias)
    decisions: dict[str, list] = {agent: [] for agent in env.possible_agents}
    final: dict[str, Any] = {}
    for agent in env.agent_iter():
        observation, reward, terminated, truncated, info = env.last()
        if terminated or truncated:
            final[agent] = (reward, terminated, truncated, info)
            env.step(None)
            continue
        mask = observation["action_mask"]
        assert mask.sum() >= 1
        decisions[agent].append(observation["observation"].copy())
        env.step(players[agent](mask))
    events = env.unwrapped.record.events(tuple(env.possible_agents))
    return {"final": final, "decisions": decisions, "events": events}


def play_parallel(env: Any, seed: int, policy_seed: int, bias: float = 0.5) -> dict:
    observations, infos = env.reset(seed=seed)
    players = policies(env.possible_agents, policy_seed, bias)
    decisions: dict[str, list] = {agent: [] for agent in env.possible_agents}
    while env.agents:
        actions = {}
        for agent in env.agents:
            mask = observations[agent]["action_mask"]
            assert mask.sum() >= 1
            if not (mask.sum() == 1 and mask[-1]):  # not just WAIT
                decisions[agent].append(observations[agent]["observation"].copy())
            actions[agent] = players[agent](mask)
        observations, rewards, terminations, truncations, infos = env.step(actions)
    final = {
        agent: (rewards[agent], terminations[agent], truncations[agent], infos[agent])
        for agent in env.possible_agents
    }
    events = env.record.events(tuple(env.possible_agents))
    return {"final": final, "decisions": decisions, "events": events}


def assert_same_episode(a: dict, b: dict) -> None:
    assert a["events"] == b["events"]
    assert a["final"].keys() == b["final"].keys()
    for agent, (reward, terminated, truncated, info) in a["final"].items():
        other = b["final"][agent]
        assert reward == other[0], agent
        assert (terminated, truncated) == other[1:3]
        assert info == other[3]
    for agent, observations in a["decisions"].items():
        other = b["decisions"][agent]
        assert len(observations) == len(other), agent
        for mine, theirs in zip(observations, other, strict=True):
            np.testing.assert_array_equal(mine, theirs)


# ------------------------------------------------------------- equivalence
CONFIGS = [
    {},
    {"proposer": "random", "breakdown_prob": 0.1},
    {"proposer": "random", "max_rounds": 3, "information": "public"},
    {"order": ["eu", "us", "ukraine", "china", "russia"], "history_length": 1},
]


@pytest.mark.parametrize("config", CONFIGS)
def test_aec_and_parallel_play_identical_episodes(
    default_scenario: Any, config: dict
) -> None:
    aec = aec_env(scenario=default_scenario, **config)
    parallel = parallel_env(scenario=default_scenario, **config)
    outcomes = set()
    for seed in range(25):
        bias = (0.5, 0.8, 0.95)[seed % 3]
        a = play_aec(aec, seed, seed, bias)
        b = play_parallel(parallel, seed, seed, bias)
        assert_same_episode(a, b)
        info = a["final"]["russia"][3]
        outcomes.add((info["end_reason"], info["round"], info["outcome"]))
    assert len(outcomes) > 5  # the seeds do produce different episodes


@pytest.mark.parametrize("config", [{}, {"proposer": "random"}])
def test_aec_and_parallel_agree_on_three_actors(config: dict) -> None:
    aec = raw_env(scenario=three_actors(), **config)
    parallel = parallel_env(scenario=three_actors(), **config)
    for seed in range(100):
        assert_same_episode(
            play_aec(aec, seed, seed, 0.3), play_parallel(parallel, seed, seed, 0.3)
        )


def test_equivalence_check_can_fail(default_scenario: Any) -> None:
    aec = aec_env(scenario=default_scenario, proposer="random")
    parallel = parallel_env(scenario=default_scenario, proposer="random")
    with pytest.raises(AssertionError):
        for seed in range(10):
            assert_same_episode(
                play_aec(aec, seed, seed), play_parallel(parallel, seed + 1, seed)
            )


# ------------------------------------------------------------- determinism
@pytest.mark.parametrize("kind", ["aec", "parallel"])
def test_multi_episode_determinism(default_scenario: Any, kind: str) -> None:
    config = {"proposer": "random", "breakdown_prob": 0.05}

    def run(seed: int) -> list[dict]:
        if kind == "aec":
            env = aec_env(scenario=default_scenario, **config)
            results = [play_aec(env, seed, 0)]
            for k in range(1, 4):  # later resets without a seed continue the RNG
                results.append(play_aec(env, None, k))
            return results
        env = parallel_env(scenario=default_scenario, **config)
        results = [play_parallel(env, seed, 0)]
        for k in range(1, 4):
            results.append(play_parallel(env, None, k))
        return results

    first, second = run(42), run(42)
    for a, b in zip(first, second, strict=True):
        assert_same_episode(a, b)
    other = run(43)
    with pytest.raises(AssertionError):
        for a, b in zip(first, other, strict=True):
            assert_same_episode(a, b)


def test_reset_with_the_same_seed_replays(default_scenario: Any) -> None:
    env = parallel_env(scenario=default_scenario, proposer="random")
    first = play_parallel(env, 5, 1)
    play_parallel(env, 6, 2)
    assert_same_episode(first, play_parallel(env, 5, 1))


# ------------------------------------------------------------ observations
def obs_fields(env: Any, vector: np.ndarray) -> dict[str, list[float]]:
    return {
        name: vector[field].tolist()
        for name, field in env.unwrapped.observation_fields.items()
    }


def test_observation_fields_by_hand() -> None:
    """x proposes (large, b); y, z vote; both reject; y proposes next."""
    env = raw_env(scenario=three_actors(), max_rounds=4)
    env.reset(seed=0)
    assert env.agent_selection == "x"
    x0 = obs_fields(env, env.observe("x")["observation"])
    assert x0["phase"] == [1, 0, 0]
    assert x0["round_fraction"] == [0.0]
    assert x0["role"] == [1, 0, 0]
    assert x0["proposer"] == [1, 0, 0]
    assert x0["offer"] == [0, 0, 0, 0, 0]
    assert x0["consent"] == [0, 0, 0]
    assert x0["offer_utility"] == [0.0]
    assert x0["no_deal"] == [pytest.approx(0.3)]
    assert x0["discount"] == [pytest.approx(0.95)]
    assert x0["last_votes"] == [0, 0, 0]
    assert x0["history"] == [-1, -1, -1]
    assert "public_utilities" not in x0

    offer = three_actors().encode({"size": "large", "lead": "b"})
    assert offer == 3
    env.step(offer)
    assert env.agent_selection == "y"
    y = obs_fields(env, env.observe("y")["observation"])
    assert y["phase"] == [0, 1, 0]
    assert y["role"] == [0, 1, 0]
    assert y["proposer"] == [1, 0, 0]
    assert y["offer"] == [0, 1, 0, 1, 0]  # size: large; lead: b
    assert y["consent"] == [1, 1, 1]  # force 6 > 2: z must consent too
    assert y["offer_utility"] == [pytest.approx(0.3)]
    assert y["no_deal"] == [pytest.approx(0.2)]
    # Only the agent to move has legal actions in the AEC env.
    assert env.observe("y")["action_mask"].tolist() == [0] * 5 + [1, 1, 0]
    assert env.observe("z")["action_mask"].sum() == 0
    assert env.observe("x")["action_mask"].sum() == 0
    z_before = env.observe("z")["observation"]
    env.step(env.unwrapped.protocol.reject_action)
    # Simultaneous votes: y's vote is invisible until the round ends.
    np.testing.assert_array_equal(env.observe("z")["observation"], z_before)
    env.step(env.unwrapped.protocol.reject_action)
    assert env.agent_selection == "y"
    x1 = obs_fields(env, env.observe("x")["observation"])
    assert x1["phase"] == [1, 0, 0]
    assert x1["round_fraction"] == [0.25]
    assert x1["role"] == [0, 0, 1]
    assert x1["proposer"] == [0, 1, 0]
    assert x1["offer"] == [0, 0, 0, 0, 0]
    assert x1["last_votes"] == [0, -1, -1]
    assert x1["history"] == [pytest.approx(0.75), -1, -1]
    assert env.infos["x"] == {"phase": "propose", "round": 1, "offer": -1}


def test_public_record_of_completed_rounds() -> None:
    env = raw_env(scenario=three_actors(), max_rounds=3)
    env.reset(seed=0)
    reject, accept = 6, 5
    for action in (3, reject, reject, 0, accept):  # x: #3, rejected; y: #0
        env.step(action)
    assert env.record.events(("x", "y", "z")) == [
        {
            "round": 0,
            "proposer": "x",
            "offer": 3,
            "votes": {"y": "reject", "z": "reject"},
        },
        {"round": 1, "proposer": "y", "offer": 0, "votes": {"x": "accept"}},
    ]
    assert env.infos["x"]["agreement"] is True
    env.reset(seed=0)
    assert env.record.rounds_done == 0


def test_public_information_adds_everyones_utility() -> None:
    scenario = three_actors()
    env = parallel_env(scenario=scenario, information="public")
    observations, _ = env.reset(seed=0)
    observations, *_ = env.step({"x": 2, "y": 7, "z": 7})
    for agent in env.possible_agents:
        fields = obs_fields(env, observations[agent]["observation"])
        assert fields["public_utilities"] == pytest.approx(
            scenario.utility[:, 2].tolist()
        )
    private = parallel_env(scenario=scenario)
    assert (
        env.observation_space("x")["observation"].shape[0]
        == private.observation_space("x")["observation"].shape[0] + 3
    )


def test_spaces_are_cached_and_observations_fit(default_scenario: Any) -> None:
    env = parallel_env(scenario=default_scenario)
    observations, _ = env.reset(seed=1)
    players = policies(env.possible_agents, 1)
    for _ in range(6):
        for agent in env.possible_agents:
            space = env.observation_space(agent)
            assert space is env.observation_space(agent)
            assert env.action_space(agent) is env.action_space(agent)
            assert env.action_space(agent).n == default_scenario.n_outcomes + 3
            assert space.contains(observations[agent])
            assert observations[agent]["action_mask"].dtype == np.int8
            assert observations[agent]["observation"].dtype == np.float32
        if not env.agents:
            break
        actions = {a: players[a](observations[a]["action_mask"]) for a in env.agents}
        observations, *_ = env.step(actions)


def test_observations_are_copies(default_scenario: Any) -> None:
    env = raw_env(scenario=default_scenario)
    env.reset(seed=0)
    first = env.observe("ukraine")["observation"]
    kept = first.copy()
    env.step(0)
    np.testing.assert_array_equal(first, kept)


def test_parallel_idle_actors_may_only_wait(default_scenario: Any) -> None:
    env = parallel_env(scenario=default_scenario)
    observations, _ = env.reset(seed=0)
    protocol = env.protocol
    assert observations["russia"]["action_mask"] is protocol.propose_mask
    for agent in ("china", "ukraine", "us", "eu"):
        assert observations[agent]["action_mask"].tolist() == (
            protocol.wait_mask.tolist()
        )


# -------------------------------------------------------------------- info
def test_info_at_the_end(default_scenario: Any) -> None:
    env = parallel_env(scenario=default_scenario)
    env.reset(seed=0)
    outcome = 1548  # needs china, ukraine, us, eu
    wait = env.protocol.wait_action
    accept = env.protocol.accept_action
    _, _, _, _, infos = env.step(
        {"russia": outcome, "china": wait, "ukraine": wait, "us": wait, "eu": wait}
    )
    assert infos["us"] == {"phase": "vote", "round": 0, "offer": outcome}
    _, rewards, terminations, truncations, infos = env.step(
        {"russia": wait, "china": accept, "ukraine": accept, "us": accept, "eu": accept}
    )
    assert all(terminations.values()) and not any(truncations.values())
    assert env.agents == []
    info = infos["eu"]
    assert info["agreement"] is True
    assert info["end_reason"] == "agreement"
    assert info["outcome"] == outcome
    assert info["decoded"] == default_scenario.decode(outcome)
    assert rewards == pytest.approx(
        dict(
            zip(
                env.possible_agents,
                default_scenario.utility[:, outcome].tolist(),
                strict=True,
            )
        )
    )


def test_aec_infos_while_running_and_at_the_end(default_scenario: Any) -> None:
    """``infos`` reads as PettingZoo's: every agent's running info (the dict
    ``last`` returns), then a dict of its own per agent at the end; the decoded
    outcome is a new dict every episode (altering one leaves the next alone)."""
    env = raw_env(scenario=default_scenario)
    outcome = 1548  # proposed by russia, needs china, ukraine, us, eu
    for _ in range(2):
        env.reset(seed=0)
        assert env.infos == dict.fromkeys(
            env.possible_agents, {"phase": "propose", "round": 0, "offer": -1}
        )
        assert env.agent_selection == "russia"
        env.step(outcome)
        running = env.last()[4]
        assert running == {"phase": "vote", "round": 0, "offer": outcome}
        assert all(env.infos[a] is running for a in env.agents)
        while env.agents and not env.terminations[env.agent_selection]:
            env.step(env.protocol.accept_action)
        infos = env.infos
        assert len({id(infos[a]) for a in env.agents}) == len(env.agents)
        for agent in env.agents:
            assert infos[agent]["decoded"] == default_scenario.decode(outcome)
            assert infos[agent]["agreement"] is True
        infos["eu"]["decoded"]["altered"] = "by the user"  # must not carry over
        while env.agents:
            env.step(None)


# ------------------------------------------------------------------ errors
def test_aec_illegal_action_raises_naming_agent_action_phase(
    default_scenario: Any,
) -> None:
    env = aec_env(scenario=default_scenario)
    env.reset(seed=0)
    accept = env.unwrapped.protocol.accept_action
    with pytest.raises(ValueError, match=r"'russia'.*ACCEPT.*'propose'"):
        env.step(accept)
    env.step(5)  # russia's proposal is fine
    voter = env.agent_selection
    with pytest.raises(ValueError, match=rf"'{voter}'.*propose #7.*'vote'"):
        env.step(7)


def test_aec_penalize_ends_the_episode(default_scenario: Any) -> None:
    env = aec_env(
        scenario=default_scenario, illegal_action="penalize", illegal_penalty=-3.0
    )
    env.reset(seed=0)
    env.step(10)
    offender = env.agent_selection
    env.step(12)  # a voter proposing
    assert all(env.terminations.values())
    for agent in env.agents:
        expected = -3.0 if agent == offender else 0.0
        assert env.rewards[agent] == expected
        assert env.infos[agent]["end_reason"] == "illegal"
    left = 0
    for agent in env.agent_iter():
        _, reward, terminated, _, _ = env.last()
        assert terminated
        assert reward == (-3.0 if agent == offender else 0.0)
        env.step(None)
        left += 1
    assert left == 5


def test_parallel_illegal_actions(default_scenario: Any) -> None:
    env = parallel_env(scenario=default_scenario)
    env.reset(seed=0)
    wait = env.protocol.wait_action
    waits = dict.fromkeys(env.agents, wait)
    with pytest.raises(ValueError, match=r"'russia'.*WAIT.*'propose'"):
        env.step(waits)
    with pytest.raises(ValueError, match=r"'china'.*propose #3"):
        env.step({**waits, "russia": 1, "china": 3})
    with pytest.raises(ValueError, match=r"'russia'.*no action"):
        env.step({"china": wait})
    with pytest.raises(ValueError, match="unknown agent"):
        env.step({**waits, "russia": 1, "mars": wait})
    # Idle actors may leave their WAIT out.
    observations, *_ = env.step({"russia": 1548})
    assert PHASES[env.state[0, C_PHASE]] == "vote"

    env = parallel_env(scenario=default_scenario, illegal_action="penalize")
    env.reset(seed=0)
    _, rewards, terminations, _, infos = env.step(
        {**waits, "russia": 1, "china": 3, "us": 0}
    )
    assert rewards == {
        "russia": 0.0,
        "china": -1.0,
        "ukraine": 0.0,
        "us": -1.0,
        "eu": 0.0,
    }
    assert all(terminations.values())
    assert infos["eu"]["end_reason"] == "illegal"
    assert env.agents == []
    with pytest.raises(ValueError, match="reset"):
        env.step({})


def test_env_applies_the_usual_wrappers(default_scenario: Any) -> None:
    env = aec_env(scenario=default_scenario)
    assert isinstance(env, wrappers.OrderEnforcingWrapper)
    assert isinstance(env.env, NegotiationEnv)  # the env checks actions itself
    assert isinstance(env.unwrapped, NegotiationEnv)
    assert str(env) == "peacegame_v0"
    with pytest.raises(AttributeError, match="before reset"):
        _ = env.agents
    with pytest.raises(AttributeError, match="before reset"):
        env.last()
    with pytest.raises(AssertionError, match="before reset|reset"):
        env.step(0)
    env.reset(seed=0)
    last = default_scenario.n_outcomes + 2
    with pytest.raises(ValueError, match=f"out of range 0..{last}"):
        env.step(default_scenario.n_outcomes + 3)
    with pytest.raises(ValueError, match=f"-1 \\(out of range 0..{last}\\)"):
        env.step(-1)
    with pytest.raises(ValueError, match="4.5 in the 'propose' phase"):
        env.step(4.5)
    env.step(np.int64(4))  # numpy integers are fine
    assert env.agent_selection != "russia"


def test_an_out_of_range_action_is_penalized_when_configured(default_scenario):
    env = aec_env(scenario=default_scenario, illegal_action="penalize")
    env.reset(seed=0)
    mover = env.agent_selection
    env.step(default_scenario.n_outcomes + 7)
    assert env.rewards[mover] == -1.0
    assert all(env.terminations.values())
    assert env.infos[mover]["end_reason"] == "illegal"


def test_metadata_and_registration(default_scenario: Any) -> None:
    for cls in (NegotiationEnv, NegotiationParallelEnv):
        assert cls.metadata["name"] == "peacegame_v0"
        assert cls.metadata["render_modes"] == ["ansi", "human"]
        assert cls.metadata["is_parallelizable"] is True
    aec = pettingzoo.make("aec", ENV_ID, scenario=default_scenario)
    assert isinstance(aec.unwrapped, NegotiationEnv)
    assert isinstance(aec, wrappers.OrderEnforcingWrapper)
    parallel = pettingzoo.make(
        "parallel", ENV_ID, scenario=default_scenario, max_cycles=7
    )
    assert isinstance(parallel, NegotiationParallelEnv)
    assert parallel.max_cycles == 7
    register_envs()  # idempotent


def test_constructor_arguments(default_scenario: Any) -> None:
    env = parallel_env(
        scenario=default_scenario, protocol=ProtocolConfig(max_rounds=5), max_rounds=3
    )
    assert env.config.max_rounds == 3
    env = parallel_env(scenario=default_scenario, protocol={"proposer": "random"})
    assert env.config.proposer == "random"
    with pytest.raises(ValueError, match="max_round"):
        parallel_env(scenario=default_scenario, max_round=3)
    with pytest.raises(ValueError, match="render_mode"):
        parallel_env(scenario=default_scenario, render_mode="rgb_array")
    with pytest.raises(ValueError, match="max_cycles"):
        aec_env(scenario=default_scenario, max_cycles=0)
    with pytest.raises(ValueError, match="permutation"):
        aec_env(scenario=default_scenario, order=["russia", "china"])
    by_path = raw_env(scenario=str(THREE_ACTORS))
    assert by_path.possible_agents == ["x", "y", "z"]
    default = raw_env()
    assert default.possible_agents == ["russia", "china", "ukraine", "us", "eu"]


# --------------------------------------------------------------- max_cycles
def test_truncation_counts_rounds_in_aec_and_steps_in_parallel() -> None:
    scenario = three_actors()
    reject = scenario.n_outcomes + 1
    env = raw_env(scenario=scenario, max_cycles=2)
    env.reset(seed=0)
    rounds_started = 0
    for _agent in env.agent_iter():
        observation, reward, terminated, truncated, info = env.last()
        if terminated or truncated:
            assert truncated and not terminated
            assert reward == 0.0
            assert info["end_reason"] == "truncated"
            env.step(None)
            continue
        if observation["action_mask"][0]:
            rounds_started += 1
            env.step(0)
        else:
            env.step(reject)
    assert rounds_started == 2

    env = parallel_env(scenario=scenario, max_cycles=3)
    env.reset(seed=0)
    wait = scenario.n_outcomes + 2
    steps = 0
    while env.agents:
        phase = PHASES[env.state[0, C_PHASE]]
        actions = dict.fromkeys(env.agents, wait)
        if phase == "propose":
            actions[env.possible_agents[env.state[0, C_PROPOSER]]] = 0
        else:
            for voter in env.possible_agents:
                if env.action_mask(voter)[reject]:
                    actions[voter] = reject
        _, rewards, terminations, truncations, infos = env.step(actions)
        steps += 1
    assert steps == 3
    assert all(truncations.values()) and not any(terminations.values())
    assert set(rewards.values()) == {0.0}
    assert infos["x"]["end_reason"] == "truncated"


# ------------------------------------------------------------------ render
def test_render_ansi_transcript(default_scenario: Any) -> None:
    env = parallel_env(scenario=default_scenario, render_mode="ansi")
    env.reset(seed=0)
    wait = env.protocol.wait_action
    waits = dict.fromkeys(env.agents, wait)
    env.step({**waits, "russia": 1548})
    text = env.render()
    assert "russia proposes #1548" in text
    assert default_scenario.describe(1548) in text
    assert "to vote" in text
    assert "ACCEPT" not in text  # votes are shown once the round is over
    accept, reject = env.protocol.accept_action, env.protocol.reject_action
    env.step(
        {"russia": wait, "china": accept, "ukraine": reject, "us": accept, "eu": accept}
    )
    text = env.render()
    assert "china ACCEPT, ukraine REJECT, us ACCEPT, eu ACCEPT -> rejected" in text
    assert "(round 1, propose step: china to propose)" in text


def test_render_human_prints(default_scenario: Any, capsys: Any) -> None:
    env = aec_env(scenario=default_scenario, render_mode="human", max_rounds=1)
    env.reset(seed=0)
    env.step(0)
    while env.agents and not env.terminations[env.agent_selection]:
        env.step(env.unwrapped.protocol.reject_action)
    assert env.render() is None
    out = capsys.readouterr().out
    assert "Deadline: no agreement after 1 rounds" in out
    assert "Rewards: russia 0.602" in out


def test_render_without_mode_warns(default_scenario: Any) -> None:
    env = raw_env(scenario=default_scenario)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render"):
        assert env.render() is None


# ---------------------------------------------------------------- property
@settings(max_examples=40, deadline=None)
@given(
    data=scenario_dicts(),
    max_rounds=st.integers(1, 5),
    proposer=st.sampled_from(["rotating", "random"]),
    breakdown_prob=st.sampled_from([0.0, 0.25]),
    seed=st.integers(0, 2**31),
)
def test_random_legal_play_on_random_scenarios(
    data: dict, max_rounds: int, proposer: str, breakdown_prob: float, seed: int
) -> None:
    scenario = compile_dict(data)
    options = {
        "max_rounds": max_rounds,
        "proposer": proposer,
        "breakdown_prob": breakdown_prob,
    }
    aec = aec_env(scenario=scenario, **options)
    parallel = parallel_env(scenario=scenario, **options)
    a = play_aec(aec, seed, seed)
    b = play_parallel(parallel, seed, seed)
    assert_same_episode(a, b)
    utility = scenario.utility.astype(np.float64)
    no_deal = scenario.no_deal.astype(np.float64)
    lowest = np.minimum(
        no_deal, scenario.discount ** (max_rounds - 1) * utility.min(axis=1)
    )
    highest = np.maximum(no_deal, utility.max(axis=1))
    for i, agent in enumerate(scenario.actors):
        reward, terminated, truncated, info = a["final"][agent]
        assert terminated and not truncated
        assert lowest[i] - 1e-12 <= reward <= highest[i] + 1e-12
        assert reward <= 1.0
        assert info["round"] < max_rounds
        assert info["end_reason"] in {"agreement", "deadline", "breakdown"}


def test_order_enforcing_behaves_as_pettingzoos_wrapper(
    default_scenario, caplog: pytest.LogCaptureFixture
) -> None:
    """The subclass returns what OrderEnforcingWrapper returns, step by step."""
    ours = aec_env(scenario=default_scenario)
    theirs = wrappers.OrderEnforcingWrapper(NegotiationEnv(scenario=default_scenario))
    for name in ("agents", "agent_selection", "rewards", "infos", "num_agents"):
        for env in (ours, theirs):
            with pytest.raises(AttributeError, match=f"{name} cannot be accessed"):
                getattr(env, name)
    for env in (ours, theirs):
        env.reset(seed=3)
    rng = np.random.default_rng(0)
    steps = 0
    while ours.agents:
        a, b = ours.last(), theirs.last()
        assert ours.agent_selection == theirs.agent_selection
        sel = ours.agent_selection  # last() is what the dicts hold
        assert a[1:] == (
            ours._cumulative_rewards[sel],
            ours.terminations[sel],
            ours.truncations[sel],
            ours.infos[sel],
        )
        assert a[4] is ours.infos[sel]
        np.testing.assert_array_equal(a[0]["observation"], b[0]["observation"])
        np.testing.assert_array_equal(a[0]["action_mask"], b[0]["action_mask"])
        assert a[1:] == b[1:]
        assert ours.terminations == theirs.terminations
        assert ours.rewards == theirs.rewards
        legal = np.flatnonzero(a[0]["action_mask"])
        action = None if a[2] or a[3] else int(rng.choice(legal))
        ours.step(action)
        theirs.step(action)
        steps += 1
    assert theirs.agents == [] and steps > 5
    for env in (theirs, ours):  # no agents left: PettingZoo's warning, both
        caplog.clear()
        env.step(None)
        assert "step() called after all agents" in caplog.text
