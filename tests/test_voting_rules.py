"""Voting rules: quotas, weighted votes and vetoes, checked against brute force.

The reference numbers come from ``tests/brute_force.py`` (exact ``Fraction``
arithmetic over the YAML, importing nothing from peacegame) or from
enumerating coalitions inside the test.
"""

from __future__ import annotations

import copy
import itertools
import tempfile
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from brute_force import evaluate, rule_met
from peacegame.batch import run_episodes
from peacegame.env import NegotiationEnv
from peacegame.match import EpisodePlayer, OutcomeMetrics
from peacegame.match_config import MatchConfig
from peacegame.scenario import compile_dict
from peacegame.scenario.consent import (
    coalition_values,
    minimal_winning_coalitions,
)
from peacegame.solutions import (
    bargaining_set,
    nash_point,
    pareto_mask,
    solve,
    zone_of_agreement,
)

from scenario_strategies import scenario_dicts

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _brute(data: dict[str, Any]):
    """Evaluate a scenario mapping with the independent brute-force evaluator.

    The package compares ``u >= d`` in float64 with a tolerance of 1e-9, the
    evaluator exactly; examples with ``0 < |u - d| <= 1e-6`` somewhere (a no-deal
    value such as 0.75 * 0.8 = 0.6000000000000001 against a utility of 0.6)
    are ones where the two rightly differ, so they are skipped.
    """
    folder = Path(tempfile.mkdtemp())
    path = folder / f"{uuid.uuid4().hex}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    brute = evaluate(path)
    assume(
        not any(
            0 < abs(o.utility[a] - brute.no_deal[a]) <= Fraction(1, 10**6)
            for o in brute.outcomes
            for a in brute.actors
        )
    )
    return brute


@st.composite
def voting_rules(draw: st.DrawFn, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Random consent rules: all-of, quotas, majorities, weights and vetoes."""
    actors = [a["id"] for a in data["actors"]]
    issues = data["issues"]
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        members = draw(st.lists(st.sampled_from(actors), min_size=1, unique=True))
        form = draw(st.sampled_from(["all", "count", "share", "majority", "weights"]))
        rule: dict[str, Any] = {}
        if form == "weights":
            weights = {a: draw(st.sampled_from([0, 0.5, 1, 2, 3])) for a in members}
            total = sum(weights.values())
            if total == 0:
                weights[members[0]] = 1
                total = 1
            rule["weights"] = weights
            rule["threshold"] = draw(
                st.sampled_from(sorted({total, total / 2, 0.5, 1.0} - {0}))
            )
            if rule["threshold"] > total:
                rule["threshold"] = total
        else:
            rule["actors"] = members
            if form == "count":
                rule["quota"] = draw(st.integers(1, len(members)))
            elif form == "share":
                rule["quota"] = draw(st.sampled_from([0.25, 0.5, 2 / 3, 0.75, 1.0]))
            elif form == "majority":
                rule["quota"] = "majority"
        if draw(st.booleans()):
            rule["veto"] = draw(st.lists(st.sampled_from(members), unique=True))
        if draw(st.booleans()):
            issue = issues[draw(st.integers(0, len(issues) - 1))]
            levels = [lv["name"] for lv in issue["levels"]]
            chosen = draw(st.lists(st.sampled_from(levels), min_size=1, unique=True))
            rule["when"] = {"issue": issue["name"], "in": chosen}
        rules.append(rule)
    return rules


@st.composite
def voting_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(scenario_dicts(max_actors=5))
    data["consent"] = draw(voting_rules(data))
    return data


# --------------------------------------------- explicit "all of" = the default
def _explicit(rule: dict[str, Any], form: str) -> dict[str, Any]:
    """The same "all of" rule written as a quota, a share, weights or vetoes."""
    out = copy.deepcopy(rule)
    n = len(rule["actors"])
    if form == "count":
        out["quota"] = n
    elif form == "share":
        out["quota"] = 1.0
    elif form == "weights":
        out["weights"] = {a: 1.5 for a in out.pop("actors")}
        out["threshold"] = 1.5 * n
    elif form == "vetoes":
        out["quota"] = 1
        out["veto"] = list(rule["actors"])
    return out


def _records(scenario, policies, seed, **protocol):
    cfg = MatchConfig(
        name="voting",
        policies=dict(zip(scenario.actors, policies, strict=True)),
        episodes=8,
        seed=seed,
        log_events="rounds",
        protocol=protocol,
    )
    metrics = OutcomeMetrics.of(scenario)
    records = run_episodes(cfg, scenario, range(8), metrics, batch_size=3)
    player = EpisodePlayer(cfg, scenario, metrics)
    assert [player.play(i) for i in range(8)] == records  # env path = batch
    for r in records:
        r.pop("scenario_hash")
    return records


@SETTINGS
@given(
    data=scenario_dicts(),
    choices=st.data(),
    information=st.sampled_from(["public", "private"]),
    seed=st.integers(0, 2**31),
)
def test_explicit_all_of_rules_give_todays_zone_frontier_and_episodes(
    data, choices, information, seed
):
    plain = compile_dict(data)
    forms = st.sampled_from(["count", "share", "weights", "vetoes"])
    variant = copy.deepcopy(data)
    variant["consent"] = [_explicit(r, choices.draw(forms)) for r in data["consent"]]
    explicit = compile_dict(variant)
    assert explicit.consent.unanimous
    np.testing.assert_array_equal(explicit.required, plain.required)
    np.testing.assert_array_equal(zone_of_agreement(explicit), zone_of_agreement(plain))
    np.testing.assert_array_equal(bargaining_set(explicit), bargaining_set(plain))
    np.testing.assert_array_equal(
        pareto_mask(explicit.utility64), pareto_mask(plain.utility64)
    )
    assert nash_point(explicit) == nash_point(plain)
    specs = ["boulware", "conceder", "random", "tit_for_tat", "hardliner"]
    if information == "public":
        specs.append("nash_mediator")
    policies = [choices.draw(st.sampled_from(specs)) for _ in plain.actors]
    protocol = {"max_rounds": 5, "information": information, "proposer": "random"}
    assert _records(explicit, policies, seed, **protocol) == _records(
        plain, policies, seed, **protocol
    )


# ------------------------------------------------------ brute-force references
@SETTINGS
@given(data=voting_scenarios())
def test_zone_and_coalitions_match_brute_force_under_random_rules(data):
    scenario = compile_dict(data)
    brute = _brute(data)
    assert brute.n_outcomes == scenario.n_outcomes
    zone = zone_of_agreement(scenario)
    assert np.flatnonzero(zone).tolist() == [o.index for o in brute.zone]
    assert np.flatnonzero(bargaining_set(scenario)).tolist() == [
        o.index for o in brute.outcomes if brute.in_bargaining_set(o)
    ]
    for o in brute.outcomes[:6]:
        voters = sorted(o.required, key=brute.actors.index)
        assert sorted(np.flatnonzero(scenario.required[:, o.index]).tolist()) == sorted(
            brute.actors.index(a) for a in voters
        )
        minimal = []
        for size in range(len(voters) + 1):
            for group in itertools.combinations(voters, size):
                wins = o.carried_by(set(group))
                smaller = any(set(m) <= set(group) for m in minimal)
                if wins and not smaller:
                    minimal.append(group)
        expected = sorted(
            ([brute.actors.index(a) for a in m] for m in minimal),
            key=lambda c: (len(c), sorted(c)),
        )
        got = minimal_winning_coalitions(scenario.consent, scenario.required, o.index)
        assert [sorted(c) for c in got] == [sorted(c) for c in expected]


@SETTINGS
@given(data=voting_scenarios(), proposer=st.integers(0, 4))
def test_cheapest_winning_coalition_matches_enumeration(data, proposer):
    """The greedy coalition value equals the best over all carrying coalitions."""
    scenario = compile_dict(data)
    brute = _brute(data)
    proposer %= scenario.n_actors
    me = scenario.actors[proposer]
    surplus = scenario.utility64 - scenario.no_deal64[:, None]
    got = coalition_values(
        scenario.consent.rules,
        scenario.consent.applies,
        np.ascontiguousarray(scenario.required.T, np.uint8),
        np.ascontiguousarray(surplus),
        proposer,
    )
    for o in brute.outcomes[:30]:
        others = [a for a in o.required if a != me]
        best = -np.inf
        for size in range(len(others) + 1):
            for group in itertools.combinations(others, size):
                if o.carried_by({me, *group}):
                    value = min(
                        (surplus[scenario.actor_index(a), o.index] for a in group),
                        default=np.inf,
                    )
                    best = max(best, value)
        assert got[o.index] == best


@SETTINGS
@given(data=voting_scenarios(), seed=st.integers(0, 2**31), choices=st.data())
def test_every_round_is_decided_by_the_rules(data, seed, choices):
    """Agreement exactly when proposer + accepting voters meet every rule."""
    scenario = compile_dict(data)
    brute = _brute(data)
    policies = [
        choices.draw(st.sampled_from(["random", "conceder", "boulware"]))
        for _ in scenario.actors
    ]
    records = _records(scenario, policies, seed, max_rounds=4, proposer="random")
    rounds = 0
    for record in records:
        for event in record["events"]:
            o = brute.outcomes[event["offer"]]
            assert set(event["votes"]) == o.required - {event["proposer"]}
            yes = {a for a, v in event["votes"].items() if v == "accept"}
            carried = o.carried_by({event["proposer"], *yes})
            last = event is record["events"][-1]
            assert carried == (last and record["agreement"])
            rounds += 1
    assert rounds > 0


# ------------------------------------------------------------ env observation
def _pie(consent: list[dict[str, Any]], n: int = 5) -> dict[str, Any]:
    """n actors splitting 1 in steps of 1/4 (shares as levels of n issues)."""
    levels = [{"name": f"s{k}", "share": k / 4} for k in range(5)]
    return {
        "name": "pie",
        "issues": [{"name": f"p{i}", "levels": levels} for i in range(n)],
        "features": [{"name": "total", "sum": [f"p{i}.share" for i in range(n)]}],
        "feasibility": [
            {"name": "whole", "require": {"feature": "total", "at_least": 1}},
            {"name": "no_more", "require": {"feature": "total", "at_most": 1}},
        ],
        "actors": [
            {
                "id": f"a{i}",
                "no_deal": 0.0,
                "discount": 0.9,
                "recognition": 1 / n,
                "terms": [
                    {"weight": 1, "issue": f"p{i}", "values": [0, 0.25, 0.5, 0.75, 1]}
                ],
            }
            for i in range(n)
        ],
        "consent": consent,
    }


def test_a_majority_passes_over_two_rejections_and_the_observation_says_so():
    actors = [f"a{i}" for i in range(5)]
    scenario = compile_dict(_pie([{"actors": actors, "quota": "majority"}]))
    env = NegotiationEnv(scenario=scenario, max_rounds=3)
    env.reset(seed=0)
    proposer = env.agent_selection
    offer = scenario.encode({f"p{i}": "s1" if i < 4 else "s0" for i in range(5)})
    env.step(offer)
    fields = env.unwrapped.observation_fields
    obs = env.observe(proposer)["observation"]
    assert obs[fields["veto"]].tolist() == [0.0] * 5
    assert obs[fields["quota"]][0] == pytest.approx(3 / 5)
    votes = iter([True, True, False, False])
    while env.agents and env.infos[env.agent_selection]["phase"] == "vote":
        accept = next(votes)
        env.step(scenario.n_outcomes if accept else scenario.n_outcomes + 1)
    assert env.infos[proposer]["agreement"] is True
    assert env.infos[proposer]["outcome"] == offer


def test_vetoes_and_weights_show_in_the_observation():
    consent = [
        {
            "weights": {"a0": 1, "a1": 1, "a2": 2, "a3": 3, "a4": 3},
            "threshold": 6,
            "veto": ["a0"],
        }
    ]
    scenario = compile_dict(_pie(consent))
    env = NegotiationEnv(scenario=scenario, max_rounds=3)
    env.reset(seed=0)
    env.step(0)
    fields = env.unwrapped.observation_fields
    obs = env.observe("a1")["observation"]
    # A veto player is in every carrying coalition (a0 holds the rule's veto).
    carrying = [
        set(group)
        for size in range(6)
        for group in itertools.combinations(range(5), size)
        if 0 in group and sum([1, 1, 2, 3, 3][i] for i in group) >= 6
    ]
    necessary = [float(all(i in c for c in carrying)) for i in range(5)]
    assert obs[fields["veto"]].tolist() == necessary
    smallest = min(len(c) for c in carrying)
    assert obs[fields["quota"]][0] == pytest.approx(smallest / 5)


# --------------------------------------------------------------- solve --json
def test_solve_json_lists_minimal_winning_coalitions(tmp_path, capsys):
    from peacegame.cli import main

    actors = [f"a{i}" for i in range(5)]
    path = tmp_path / "majority.yaml"
    path.write_text(
        yaml.safe_dump(_pie([{"actors": actors, "quota": 3}]), sort_keys=False)
    )
    assert main(["solve", str(path), "--json"]) == 0
    doc = __import__("json").loads(capsys.readouterr().out)
    coalitions = doc["points"]["utilitarian"]["minimal_winning_coalitions"]
    assert sorted(map(tuple, coalitions)) == sorted(itertools.combinations(actors, 3))
    scenario = compile_dict(_pie([{"actors": actors, "quota": 3}]))
    assert doc["zone_size"] == int(solve(scenario).zone.sum())
    assert rule_met({"actors": actors, "quota": 3}, {"a0", "a1", "a2"})


# ------------------------------------------------- the Security Council variant
def test_security_council_variant_against_brute_force():
    """9 of 15 with no permanent veto: zone and coalitions from exact arithmetic."""
    from peacegame.scenario import load_compiled

    scenario = load_compiled("security-council")
    brute = evaluate("security-council")
    assert brute.actors == scenario.actors and len(brute.actors) == 8
    zone = zone_of_agreement(scenario)
    assert np.flatnonzero(zone).tolist() == [o.index for o in brute.zone]
    mandated = [o for o in brute.outcomes if o.levels["command"] == "un_commanded"]
    for o in mandated[:25]:
        voters = sorted(o.required, key=brute.actors.index)
        expected = []
        for size in range(len(voters) + 1):
            for group in itertools.combinations(voters, size):
                if o.carried_by(set(group)) and not any(
                    set(m) <= set(group) for m in expected
                ):
                    expected.append(group)
        got = minimal_winning_coalitions(scenario.consent, scenario.required, o.index)
        assert sorted(tuple(scenario.actors[i] for i in c) for c in got) == sorted(
            tuple(sorted(g, key=brute.actors.index)) for g in expected
        )
        # Every minimal coalition holds the four permanent proxies and 9 votes.
        for group in expected:
            assert {"russia", "china", "us", "eu"} <= set(group)
    # Without a mandate the blocs do not vote.
    plain = next(o for o in brute.outcomes if o.levels["command"] == "coalition")
    assert not {"elected_western", "elected_africa_asia"} & plain.required
