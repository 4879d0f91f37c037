"""Scripted strategies: behaviour on the default and on hand-built scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from peacegame.env import NegotiationEnv
from peacegame.errors import ConfigError
from peacegame.policies import REGISTRY, make_policy, make_view
from peacegame.protocol import ProtocolConfig
from peacegame.record import PublicRecord
from peacegame.scenario import compile_dict
from peacegame.solutions import nash_point


def view_for(scenario, agent, **protocol):
    env = NegotiationEnv(scenario=scenario, protocol=ProtocolConfig(**protocol))
    return make_view(env.protocol, agent, env.record)


def proposals_over_time(policy, view, rounds):
    policy.reset(view.agent, view, np.random.default_rng(0))
    return np.array([float(view.utility[policy.propose(t)]) for t in range(rounds)])


def test_boulware_concedes_slower_than_conceder(default_scenario):
    view = view_for(default_scenario, "russia", max_rounds=20)
    boulware = proposals_over_time(make_policy("boulware"), view, 20)
    linear = proposals_over_time(make_policy("linear"), view, 20)
    conceder = proposals_over_time(make_policy("conceder"), view, 20)
    # Offers never rise over time, and a tougher strategy never asks for less.
    for curve in (boulware, linear, conceder):
        assert np.all(np.diff(curve) <= 1e-9)
    assert np.all(boulware >= linear - 1e-9) and np.all(linear >= conceder - 1e-9)
    assert boulware[10] > linear[10] > conceder[10]
    # Everyone starts at its best outcome and ends at or above its no-deal value.
    assert boulware[0] == pytest.approx(float(view.utility.max()))
    assert conceder[-1] >= view.no_deal - 1e-6


def test_aspiration_formula(default_scenario):
    view = view_for(default_scenario, "ukraine", max_rounds=11)
    policy = make_policy({"policy": "time_dependent", "e": 0.5})
    policy.reset("ukraine", view, np.random.default_rng(0))
    u_max, d = float(view.utility.max()), view.no_deal
    for t in (0, 3, 10):
        expected = u_max - (u_max - d) * (t / 10) ** (1 / 0.5)
        assert policy.aspiration(t) == pytest.approx(expected)


def test_hardliner_never_offers_or_accepts_below_threshold(default_scenario):
    view = view_for(default_scenario, "eu", max_rounds=30)
    policy = make_policy({"policy": "hardliner", "level": 0.6})
    policy.reset("eu", view, np.random.default_rng(0))
    threshold = view.no_deal + 0.6 * (float(view.utility.max()) - view.no_deal)
    offers = [policy.propose(t) for t in range(30)]
    assert min(float(view.utility[o]) for o in offers) >= threshold - 1e-6
    below = int(np.flatnonzero(view.utility < threshold)[0])
    assert not policy.accepts(below, 29)


def test_nash_mediator_proposes_the_nash_point(default_scenario):
    view = view_for(default_scenario, "us", information="public")
    policy = make_policy("nash_mediator")
    policy.reset("us", view, np.random.default_rng(0))
    nash = nash_point(default_scenario)
    assert policy.propose(0) == nash
    assert policy.accepts(nash, 0)


def test_nash_mediator_needs_public_information(default_scenario):
    view = view_for(default_scenario, "us", information="private")
    with pytest.raises(ConfigError, match="information: public"):
        make_policy("nash_mediator").reset("us", view, np.random.default_rng(0))


def test_public_proposal_maximises_the_weakest_voters_surplus(default_scenario):
    s = default_scenario
    view = view_for(s, "ukraine", information="public")
    policy = make_policy("linear")
    policy.reset("ukraine", view, np.random.default_rng(0))
    threshold = policy.aspiration(5)
    k = policy.propose(5)
    assert float(view.utility[k]) >= threshold
    surplus = s.utility.astype(float) - s.no_deal.astype(float)[:, None]
    need = s.required.copy()
    need[2] = False
    score = np.where(need, surplus, np.inf).min(axis=0)
    eligible = s.utility[2] >= threshold
    assert score[k] == pytest.approx(score[eligible].max())


def small_scenario():
    return compile_dict(
        {
            "name": "two-issue",
            "issues": [
                {"name": "a", "levels": ["a0", "a1", "a2"]},
                {"name": "b", "levels": ["b0", "b1"]},
            ],
            "actors": [
                {
                    "id": "x",
                    "no_deal": 0.1,
                    "discount": 1,
                    "recognition": 0.5,
                    "terms": [
                        {"weight": 1, "issue": "a", "values": [1, 0.5, 0]},
                        {"weight": 1, "issue": "b", "values": [0, 1]},
                    ],
                },
                {
                    "id": "y",
                    "no_deal": 0.1,
                    "discount": 1,
                    "recognition": 0.5,
                    "terms": [
                        {"weight": 1, "issue": "a", "values": [0, 0.5, 1]},
                        {"weight": 1, "issue": "b", "values": [0, 1]},
                    ],
                },
            ],
            "consent": [{"actors": ["x", "y"]}],
        }
    )


def test_private_opponent_model_learns_from_offers():
    s = small_scenario()
    env = NegotiationEnv(scenario=s, protocol=ProtocolConfig(max_rounds=10))
    env.reset(seed=0)
    view = make_view(env.protocol, "x", env.record)
    policy = make_policy("linear")
    policy.reset("x", view, np.random.default_rng(0))
    # y proposed (a2, b1) and rejected nothing yet: the model now prefers a2, b1.
    env.record.record(1, s.encode({"a": "a2", "b": "b1"}), np.array([0, -1], np.int8))
    policy.update_from_record()
    estimate = policy.estimated_utility(np.arange(s.n_outcomes))[1]
    best = int(np.argmax(estimate))
    assert s.decode(best) == {"a": "a2", "b": "b1"}
    # With aspiration low enough to allow a1, x offers (a1, b1): both like b1.
    k = policy.most_acceptable(0.74)
    assert s.decode(k) == {"a": "a1", "b": "b1"}


def test_tit_for_tat_mirrors_concessions():
    s = small_scenario()
    record = PublicRecord(2, 10)
    env = NegotiationEnv(scenario=s, protocol=ProtocolConfig(max_rounds=10))
    view = make_view(env.protocol, "x", record)
    policy = make_policy("tit_for_tat")
    policy.reset("x", view, np.random.default_rng(0))
    u_max = float(view.utility.max())
    assert policy.aspiration(3) == pytest.approx(u_max)
    first = s.encode({"a": "a2", "b": "b0"})  # worth 0 to x
    better = s.encode({"a": "a1", "b": "b0"})  # worth .25 to x: a concession of .25
    record.record(1, first, np.array([0, -1], np.int8))
    record.record(1, better, np.array([0, -1], np.int8))
    policy.update_from_record()
    assert policy.aspiration(3) == pytest.approx(u_max - 0.25)


def test_random_policy_only_takes_legal_actions(default_scenario):
    env = NegotiationEnv(scenario=default_scenario)
    policies = {a: make_policy("random") for a in env.possible_agents}
    proposals = set()
    for seed in range(5):
        env.reset(seed=seed)
        for i, (agent, policy) in enumerate(policies.items()):
            view = make_view(env.protocol, agent, env.record)
            policy.reset(agent, view, np.random.default_rng([seed, i]))
        while not all(env.terminations.values()):
            agent = env.agent_selection
            obs = env.observe(agent)
            action = policies[agent].act(obs, env.infos[agent])
            assert obs["action_mask"][action] == 1
            if action < default_scenario.n_outcomes:
                proposals.add(action)
            env.step(action)
    assert len(proposals) > 5  # it really randomises


def test_user_policy_by_import_path(tmp_path, monkeypatch):
    (tmp_path / "my_negotiator.py").write_text(
        "class AlwaysBest:\n"
        "    def __init__(self, greed=1.0):\n"
        "        self.greed = greed\n"
        "    def reset(self, agent, view, rng):\n"
        "        self.view = view\n"
        "    def act(self, observation, info):\n"
        "        mask = observation['action_mask']\n"
        "        if mask[self.view.accept_action]:\n"
        "            return self.view.accept_action\n"
        "        return int(self.view.order[0])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    policy = make_policy({"policy": "my_negotiator:AlwaysBest", "greed": 0.5})
    assert policy.greed == 0.5
    with pytest.raises(ConfigError, match="cannot import 'nope_module'"):
        make_policy({"policy": "nope_module:X"}, file="m.yaml", field="policies.us")
    with pytest.raises(ConfigError, match="has no class 'Missing'"):
        make_policy({"policy": "my_negotiator:Missing"})
    with pytest.raises(ConfigError, match="bad parameters"):
        make_policy({"policy": "my_negotiator:AlwaysBest", "nope": 1})


def test_registry_names_and_errors():
    assert {
        "random",
        "boulware",
        "linear",
        "conceder",
        "time_dependent",
        "hardliner",
        "tit_for_tat",
        "nash_mediator",
    } <= set(REGISTRY)
    with pytest.raises(ConfigError, match="did you mean 'conceder'"):
        make_policy("concede", file="m.yaml", field="policies.us")
    with pytest.raises(ConfigError, match=r"policies.us.e: .*greater than 0"):
        make_policy({"policy": "boulware", "e": 0}, file="m.yaml", field="policies.us")
    with pytest.raises(ConfigError, match="unknown field 'level'"):
        make_policy(
            {"policy": "boulware", "level": 1}, file="m.yaml", field="policies.us"
        )
