"""The vector env: Gymnasium-style checks, masks, and equality with the AEC env."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, VectorEnv

from peacegame.engine import episode_seed
from peacegame.env import NegotiationEnv
from peacegame.errors import ConfigError
from peacegame.policies import make_policy, make_view
from peacegame.scenario import load_compiled
from peacegame.vector_env import NegotiationVectorEnv, sb3_vec_env, vector_env

from conftest import ROOT

THREE = ROOT / "tests" / "data" / "three_actors.yaml"
OPPONENTS = {
    "russia": "boulware",
    "china": "tit_for_tat",
    "us": "conceder",
    "eu": "random",
}


@pytest.fixture(scope="module")
def three():
    return load_compiled(THREE)


def masked_random_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random legal action per row of a mask."""
    actions = np.empty(len(masks), np.int64)
    for k, row in enumerate(masks):
        legal = np.flatnonzero(row)
        assert legal.size, "a sub-env with no legal action"
        actions[k] = legal[rng.integers(legal.size)]
    return actions


def test_spaces_and_metadata(default_scenario):
    venv = vector_env(4, scenario=default_scenario, learner="ukraine", seed=1)
    assert isinstance(venv, VectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert venv.num_envs == 4
    n_actions = default_scenario.n_outcomes + 3
    assert venv.single_action_space == spaces.Discrete(n_actions)
    assert isinstance(venv.action_space, spaces.MultiDiscrete)
    assert venv.action_space.shape == (4,)
    assert venv.single_observation_space.dtype == np.float32
    assert venv.observation_space.shape == (4, venv.single_observation_space.shape[0])
    reference = NegotiationEnv(scenario=default_scenario)
    assert venv.observation_fields == reference.observation_fields
    single = reference.observation_space("ukraine")["observation"]
    assert np.array_equal(venv.single_observation_space.low, single.low)
    assert np.array_equal(venv.single_observation_space.high, single.high)


def test_reset_and_step_contracts(default_scenario):
    venv = vector_env(
        6,
        scenario=default_scenario,
        learner="ukraine",
        opponents=OPPONENTS,
        protocol={"max_rounds": 12, "proposer": "random", "breakdown_prob": 0.05},
    )
    obs, info = venv.reset(seed=3)
    assert obs.dtype == np.float32 and obs in venv.observation_space
    masks = venv.action_masks()
    assert masks.dtype == np.bool_ and masks.shape == (6, venv.n_actions)
    assert np.array_equal(info["action_mask"], masks) and info["_action_mask"].all()
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(150):
        actions = masked_random_actions(venv.action_masks(), rng)
        assert actions in venv.action_space
        obs, rewards, terminated, truncated, info = venv.step(actions)
        assert obs.shape == venv.observation_space.shape and obs.dtype == np.float32
        assert obs in venv.observation_space
        assert rewards.shape == (6,) and rewards.dtype == np.float64
        assert terminated.dtype == np.bool_ and truncated.dtype == np.bool_
        assert not truncated.any()
        assert np.all(rewards[~terminated] == 0.0)
        assert np.array_equal(info["action_mask"], venv.action_masks())
        if terminated.any():
            finished += int(terminated.sum())
            assert np.array_equal(info["_final_obs"], terminated)
            assert np.array_equal(info["_final_info"], terminated)
            for k in np.flatnonzero(terminated):
                final = info["final_obs"][k]
                assert final in venv.single_observation_space
                done = final[venv.observation_fields["phase"]]
                assert done.tolist() == [0.0, 0.0, 1.0]
                assert info["final_info"]["end_reason"][k] in (
                    "agreement",
                    "deadline",
                    "breakdown",
                )
            for k in np.flatnonzero(~terminated):
                assert info["final_obs"][k] is None
    assert finished > 10
    venv.close()


def test_seeding_is_deterministic(default_scenario):
    def rollout(seed):
        venv = vector_env(
            3,
            scenario=default_scenario,
            learner="us",
            opponents={"russia": "random", "ukraine": "linear"},
            protocol={"max_rounds": 10, "proposer": "random"},
        )
        rng = np.random.default_rng(0)
        out = [venv.reset(seed=seed)]
        for _ in range(40):
            out.append(venv.step(masked_random_actions(venv.action_masks(), rng)))
        return out

    assert data_equivalence(rollout(5), rollout(5), exact=True)
    assert not data_equivalence(rollout(5), rollout(6))


def test_reset_without_seed_continues_the_episode_count(default_scenario):
    venv = vector_env(2, scenario=default_scenario, learner="ukraine", seed=4)
    venv.reset(seed=4)
    first = venv.episode_ids.copy()
    venv.reset()
    assert venv.episode_ids.min() > first.max()
    venv.reset(seed=4)
    assert np.array_equal(venv.episode_ids, first)


def test_illegal_actions(default_scenario):
    venv = vector_env(2, scenario=default_scenario, learner="ukraine")
    venv.reset(seed=0)
    wait = default_scenario.n_outcomes + 2
    with pytest.raises(ValueError, match="illegal action"):
        venv.step(np.array([wait, wait]))
    penalizing = vector_env(
        2,
        scenario=default_scenario,
        learner="ukraine",
        protocol={"illegal_action": "penalize", "illegal_penalty": -0.5},
    )
    penalizing.reset(seed=0)
    legal = masked_random_actions(penalizing.action_masks(), np.random.default_rng(0))
    _, rewards, terminated, _, info = penalizing.step(np.array([wait, legal[1]]))
    assert terminated[0] and rewards[0] == -0.5
    assert info["final_info"]["end_reason"][0] == "illegal"


def replay_in_aec_env(scenario, protocol, learner, opponents, seed, episode, actions):
    """One episode in the AEC env: opponents as policy objects, learner replayed.

    Returns what the learner saw at each of its moves, its final observation,
    its reward and the episode's final info.
    """
    env = NegotiationEnv(
        scenario=scenario, protocol=protocol, max_cycles=protocol.max_rounds + 1
    )
    key = episode_seed(seed, episode)
    env.reset(seed=key)
    policies = {a: make_policy(spec) for a, spec in opponents.items()}
    for actor, policy in policies.items():
        policy.reset(
            actor,
            make_view(env.rules, actor, env.record),
            np.random.default_rng([key, scenario.actor_index(actor)]),
        )
    me = scenario.actor_index(learner)
    replay = iter(actions)
    seen = []
    while True:
        agent = env.agent_selection
        if env.terminations[agent] or env.truncations[agent]:
            break
        observation = env.observe(agent)
        if agent == learner:
            seen.append(observation["observation"])
            action = next(replay, None)
            assert action is not None, f"episode {episode}: the AEC env asks more"
            assert observation["action_mask"][action] == 1
            env.step(action)
        else:
            env.step(policies[agent].act(observation, env.infos[agent]))
    assert next(replay, None) is None, f"episode {episode}: moves left over"
    info = env.infos[learner]
    return {
        "seen": seen,
        "final": env.observations[me].copy(),
        "reward": float(env.episodes.rewards[0, me]),
        "agreement": info.get("agreement"),
        "end_reason": info.get("end_reason"),
        "round": info.get("round"),
    }


def play_vector_env(venv, scenario, steps):
    """Traces of the vector env's episodes under a deterministic learner rule."""
    fields = venv.observation_fields
    accept = scenario.n_outcomes
    n_envs = venv.num_envs

    def rule(episode, observation):
        if observation[fields["phase"]][0] == 1.0:  # propose
            r = int(round(float(observation[fields["round_fraction"]][0]) * 1000))
            return (episode * 31 + r * 17) % scenario.n_outcomes
        return accept if observation[fields["offer_utility"]][0] >= 0.45 else accept + 1

    obs, _ = venv.reset()
    current = venv.episode_ids.copy()
    traces = {
        int(e): {"seen": [o.copy()], "actions": []}
        for e, o in zip(current, obs, strict=True)
    }
    for _ in range(steps):
        actions = np.array([rule(int(e), o) for e, o in zip(current, obs, strict=True)])
        masks = venv.action_masks()
        assert masks[np.arange(n_envs), actions].all()
        obs, rewards, terminated, _, info = venv.step(actions)
        for k in range(n_envs):
            trace = traces[int(current[k])]
            trace["actions"].append(int(actions[k]))
            if terminated[k]:
                final = info["final_info"]
                trace["reward"] = float(rewards[k])
                trace["final"] = info["final_obs"][k]
                trace["agreement"] = bool(final["agreement"][k])
                trace["end_reason"] = final["end_reason"][k]
                trace["round"] = int(final["round"][k])
                assert final["episode"][k] == current[k]
                traces[int(venv.episode_ids[k])] = {
                    "seen": [obs[k].copy()],
                    "actions": [],
                }
            else:
                trace["seen"].append(obs[k].copy())
        current = venv.episode_ids.copy()
    return traces


def same_episode(aec, trace):
    """Whether an AEC replay equals a vector env trace, bit for bit."""
    return (
        len(aec["seen"]) == len(trace["seen"])
        and all(
            np.array_equal(a, b)
            for a, b in zip(aec["seen"], trace["seen"], strict=False)
        )
        and np.array_equal(aec["final"], trace["final"])
        and all(aec[k] == trace[k] for k in ("reward", "agreement", "end_reason"))
        and aec["round"] == trace["round"]
    )


CASES = [
    (
        "default",
        "ukraine",
        OPPONENTS,
        {"max_rounds": 12, "proposer": "random", "information": "public"},
    ),
    (
        "default",
        "russia",
        {"china": "linear", "ukraine": "boulware", "us": "random", "eu": "hardliner"},
        {"max_rounds": 10, "breakdown_prob": 0.05, "information": "private"},
    ),
    (
        "default",
        "us",
        {
            "russia": "tit_for_tat",
            "china": "nash_mediator",
            "ukraine": "conceder",
            "eu": "random",
        },
        {
            "max_rounds": 8,
            "information": "public",
            "order": ["eu", "us", "china", "russia", "ukraine"],
            "history_length": 5,
        },
    ),
    (
        "three",
        "z",
        {"x": "linear", "y": "random"},
        {"max_rounds": 6, "proposer": "random"},
    ),
    (
        "three",
        "x",
        {"y": "tit_for_tat", "z": "boulware"},
        {"max_rounds": 7, "breakdown_prob": 0.1, "history_length": 0},
    ),
]


@pytest.mark.parametrize(("which", "learner", "opponents", "protocol"), CASES)
@pytest.mark.parametrize("seed", [7, 2**40 + 3])
def test_same_episodes_as_the_aec_env(
    default_scenario, three, which, learner, opponents, protocol, seed
):
    scenario = default_scenario if which == "default" else three
    venv = vector_env(
        5,
        scenario=scenario,
        learner=learner,
        opponents=opponents,
        protocol=protocol,
        seed=seed,
    )
    traces = play_vector_env(venv, scenario, 60)
    finished = {e: t for e, t in traces.items() if "reward" in t}
    assert len(finished) >= 10
    config = venv.config
    for episode, trace in finished.items():
        aec = replay_in_aec_env(
            scenario, config, learner, opponents, seed, episode, trace["actions"]
        )
        assert same_episode(aec, trace), episode
    # Episodes the vector env skipped gave the learner no move in the AEC env.
    for episode in range(max(traces)):
        if episode not in traces:
            aec = replay_in_aec_env(
                scenario, config, learner, opponents, seed, episode, []
            )
            assert aec["seen"] == []


def test_the_equality_check_can_fail(default_scenario):
    """Other opponents or other seeds in the AEC replay give other episodes."""
    learner, opponents, protocol = CASES[1][1:]
    venv = vector_env(
        4,
        scenario=default_scenario,
        learner=learner,
        opponents=opponents,
        protocol=protocol,
        seed=3,
    )
    traces = {e: t for e, t in play_vector_env(venv, default_scenario, 40).items()}
    finished = {e: t for e, t in traces.items() if "reward" in t}
    config = venv.config
    other = {**opponents, "china": "conceder", "eu": "linear"}

    def differs(opponents, seed):
        for episode, trace in finished.items():
            try:
                aec = replay_in_aec_env(
                    default_scenario,
                    config,
                    learner,
                    opponents,
                    seed,
                    episode,
                    trace["actions"],
                )
            except AssertionError:  # the replay itself went another way
                return True
            if not same_episode(aec, trace):
                return True
        return False

    assert not differs(opponents, 3)
    assert differs(other, 3)
    assert differs(opponents, 4)


def test_masks_are_the_kernels_mask_rows(default_scenario):
    venv = vector_env(
        8,
        scenario=default_scenario,
        learner="china",
        opponents=OPPONENTS,
        protocol={"max_rounds": 6, "proposer": "random"},
    )
    venv.reset(seed=1)
    rules = venv.rules
    rng = np.random.default_rng(1)
    kinds = set()
    for _ in range(30):
        masks = venv.action_masks()
        for k in range(venv.num_envs):
            row = rules.mask_row(venv.state, k, venv.learner_index, False)
            kinds.add(row)
            assert np.array_equal(masks[k], rules.masks[row].astype(bool))
        venv.step(masked_random_actions(masks, rng))
    assert len(kinds) == 2  # proposals and votes


def test_opponents_must_be_scripted(default_scenario):
    with pytest.raises(ConfigError, match="needs protocol.information: public"):
        vector_env(
            2,
            scenario=default_scenario,
            learner="ukraine",
            opponents={"china": "nash_mediator"},
            protocol={"information": "private"},
        )


def test_match_config_and_defaults():
    venv = vector_env(2, match="baseline", learner="ukraine")
    assert isinstance(venv, NegotiationVectorEnv)
    assert venv.config.information == "public"
    assert venv.rules.config.information == "public"
    assert venv.base_seed == 2025  # the match's seed
    with pytest.raises(KeyError):
        vector_env(2, learner="nobody")


@pytest.mark.skipif(
    importlib.util.find_spec("sb3_contrib") is None, reason="sb3-contrib not installed"
)
def test_maskable_ppo_never_takes_a_masked_action():
    import torch
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.utils import get_action_masks

    torch.set_num_threads(1)
    # illegal_action: raise (the default): one masked action would raise.
    venv = sb3_vec_env(vector_env(8, match="baseline", learner="ukraine", seed=0))
    venv.seed(0)
    first = venv.reset()
    assert first.shape == (8, venv.observation_space.shape[0])
    assert get_action_masks(venv).shape == (8, venv.action_space.n)
    model = MaskablePPO(
        "MlpPolicy",
        venv,
        n_steps=16,
        batch_size=64,
        n_epochs=1,
        policy_kwargs={"net_arch": [16]},
        seed=0,
        device="cpu",
    )
    model.learn(256)
    assert model.num_timesteps >= 256
