"""Action interfaces (outcome, utility, issues): legality by construction, the
utility interface's proposal rule against a brute-force reference, and the
interfaces in every env.
"""

from __future__ import annotations

import itertools
import math

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
from peacegame.solutions import TIE_TOLERANCE
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
    """The utility interface's rule, written out in plain Python (module doc).

    The needed voters: the others sorted by surplus (descending, then lower
    index), the shortest prefix that carries the outcome with the proposer.
    The coalition maximising its least surplus is checked against enumeration
    of every coalition on the way.
    """
    utility, no_deal = rules.utility, rules.no_deal
    consent = rules.scenario.consent
    n, n_outcomes = utility.shape
    targets = utility_targets(utility, no_deal, bins)
    picks = np.zeros((n, bins), np.int64)

    def carried(k: int, members: tuple[int, ...]) -> bool:
        mask = sum(1 << j for j in members)
        return bool(carries(consent.rules, consent.applies, 0, k, np.int64(mask)))

    for i in range(n):
        keys = []
        for k in range(n_outcomes):
            surplus = [float(utility[j, k] - no_deal[j]) for j in range(n)]
            others = [j for j in range(n) if rules.required[k, j] and j != i]
            ranked = sorted(others, key=lambda j, s=surplus: (-s[j], j))
            needed = next(
                (
                    ranked[:m]
                    for m in range(len(ranked) + 1)
                    if carried(k, (i, *ranked[:m]))
                ),
                None,
            )
            best = max(
                (
                    min((surplus[j] for j in members), default=math.inf)
                    for size in range(len(others) + 1)
                    for members in itertools.combinations(others, size)
                    if carried(k, (i, *members))
                ),
                default=-math.inf,
            )
            if needed is None:
                keys.append((False, -math.inf))
                assert best == -math.inf
                continue
            least = min((surplus[j] for j in needed), default=math.inf)
            assert least == best  # the prefix is the most willing coalition
            if not needed:  # the proposer carries it alone: first
                keys.append((True, math.inf))
            elif least >= 0.0:
                product = math.prod(max(surplus[j], 0.0) for j in needed)
                keys.append((True, round(product / TIE_TOLERANCE)))
            else:
                keys.append((False, least))
        for b in range(bins):
            eligible = [k for k in range(n_outcomes) if utility[i, k] >= targets[i, b]]
            if rules.public:
                picks[i, b] = max(
                    eligible, key=lambda k, i=i, ks=keys: (*ks[k], utility[i, k], -k)
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
