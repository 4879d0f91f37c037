"""Action interfaces (outcome, utility, issues): legality by construction, the
utility interface's proposal rule against a brute-force reference, and the
interfaces in every env.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacegame.engine import ProtocolConfig, Rules
from peacegame.engine.actions import utility_targets
from peacegame.env import env as aec_env
from peacegame.env import parallel_env
from peacegame.scenario import compile_dict, load_compiled
from peacegame.scenario.consent import carries
from peacegame.vector_env import vector_env
from test_voting_rules import voting_rules

from scenario_strategies import scenario_dicts

INTERFACES = ("outcome", "utility", "issues")
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def games(draw: st.DrawFn):
    data = draw(scenario_dicts(max_actors=4))
    if draw(st.booleans()):
        data["consent"] = draw(voting_rules(data))
    return compile_dict(data)


def _reference_picks(rules: Rules, bins: int) -> np.ndarray:
    """The utility interface's rule by enumeration of coalitions (module doc)."""
    utility, no_deal = rules.utility, rules.no_deal
    consent = rules.scenario.consent
    n, n_outcomes = utility.shape
    targets = utility_targets(utility, no_deal, bins)
    picks = np.zeros((n, bins), np.int64)
    for i in range(n):
        score = np.full(n_outcomes, -np.inf)
        for k in range(n_outcomes):
            others = [j for j in range(n) if rules.required[k, j] and j != i]
            for size in range(len(others) + 1):
                for members in itertools.combinations(others, size):
                    mask = (1 << i) | sum(1 << j for j in members)
                    if carries(consent.rules, consent.applies, 0, k, np.int64(mask)):
                        value = min(
                            (utility[j, k] - no_deal[j] for j in members),
                            default=np.inf,
                        )
                        score[k] = max(score[k], value)
        for b in range(bins):
            eligible = [k for k in range(n_outcomes) if utility[i, k] >= targets[i, b]]
            if rules.public:
                picks[i, b] = max(
                    eligible, key=lambda k, i=i, sc=score: (sc[k], utility[i, k], -k)
                )
            else:
                picks[i, b] = min(eligible, key=lambda k, i=i: (utility[i, k], k))
    return picks


@SETTINGS
@given(games(), st.integers(1, 7), st.sampled_from(["public", "private"]))
def test_utility_picks_match_brute_force(scenario, bins, information):
    rules = Rules(
        scenario,
        ProtocolConfig(actions="utility", utility_bins=bins, information=information),
    )
    np.testing.assert_array_equal(rules.interface.picks, _reference_picks(rules, bins))


@SETTINGS
@given(
    games(),
    st.sampled_from(INTERFACES),
    st.integers(0, 2**31),
    st.sampled_from(["aec", "parallel"]),
)
def test_masked_actions_are_always_legal_and_proposals_feasible(
    scenario, actions, seed, api
):
    """Random masked play never raises; an issues proposal is what was drafted."""
    rng = np.random.default_rng(seed)
    kw = {"scenario": scenario, "actions": actions, "max_rounds": 4}
    if api == "aec":
        env = aec_env(**kw)
        env.reset(seed=seed)
        drafted: list[int] = []
        for _agent in env.agent_iter():
            obs, _, term, trunc, info = env.last()
            if term or trunc:
                env.step(None)
                continue
            mask = obs["action_mask"]
            assert mask.any()
            action = int(rng.choice(np.flatnonzero(mask)))
            phase = info["phase"]
            env.step(action)
            if actions == "issues" and phase == "propose":
                drafted.append(action)
                if len(drafted) == len(scenario.issues):
                    offer = env.unwrapped.state[0, 3]
                    assert list(scenario.levels[offer]) == drafted
                    drafted = []
    else:
        env = parallel_env(**kw)
        observations, _ = env.reset(seed=seed)
        while env.agents:
            step = {
                a: int(rng.choice(np.flatnonzero(o["action_mask"])))
                for a, o in observations.items()
            }
            observations, *_ = env.step(step)


@pytest.mark.parametrize("actions", INTERFACES)
def test_pettingzoo_api_tests_pass_for_each_interface(actions):
    from pettingzoo.test import api_test, parallel_api_test

    api_test(aec_env(actions=actions, information="public"), num_cycles=30)
    parallel_api_test(parallel_env(actions=actions), num_cycles=30)


def test_utility_actions_do_not_grow_with_the_outcomes():
    scenario = load_compiled(None)
    env = aec_env(actions="utility", utility_bins=8)
    assert env.action_space("russia").n == 8 + 3
    env = aec_env(actions="issues")
    assert env.action_space("russia").n == max(i.n_levels for i in scenario.issues) + 3


def test_outcome_interface_is_todays_env():
    default = aec_env()
    explicit = aec_env(actions="outcome")
    assert default.action_space("us").n == explicit.action_space("us").n
    assert default.unwrapped.observation_fields == explicit.unwrapped.observation_fields


@pytest.mark.parametrize("actions", INTERFACES)
def test_vector_env_and_sb3_adapter_serve_each_interface(actions):
    from peacegame.train.sb3_adapter import LearnerEnv, LearnerSpec

    venv = vector_env(
        num_envs=4, match="baseline", learner="russia", protocol={"actions": actions}
    )
    obs, _ = venv.reset(seed=0)
    rng = np.random.default_rng(0)
    ended = 0
    while ended < 8:
        masks = venv.action_masks()
        assert masks.any(axis=1).all()
        acts = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        obs, _, term, _, _ = venv.step(acts)
        ended += int(term.sum())
    assert obs.shape == (4, venv.single_observation_space.shape[0])
    scenario = load_compiled(None)
    env = LearnerEnv(
        LearnerSpec(
            scenario=scenario,
            protocol=ProtocolConfig(actions=actions),
            learner="ukraine",
            opponents={a: {"policy": "linear"} for a in scenario.actors},
        )
    )
    env.reset(seed=1)
    for _ in range(200):
        mask = env.action_masks()
        _, _, term, _, _ = env.step(int(rng.choice(np.flatnonzero(mask))))
        if term:
            env.reset()
    assert env.action_space.n == venv.single_action_space.n


def test_an_unmasked_action_is_a_clear_error():
    env = aec_env(actions="issues")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="issues"):
        env.step(env.action_space(env.agent_selection).n - 1)  # WAIT in AEC
