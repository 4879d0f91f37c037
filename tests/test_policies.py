"""Scripted strategies: behaviour through the env, against closed forms."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacegame.engine.strategies import (
    MEMO_ACTOR,
    MEMO_COUNT,
    MEMO_COUNTS,
    MEMO_GUESS,
    MEMO_HASH,
    MEMO_PICK,
    Strategy,
    _memo_hash,
    pick_memo,
    private_pick,
    remembered_pick,
)
from peacegame.engine.tables import Rules
from peacegame.env import NegotiationEnv
from peacegame.errors import ConfigError
from peacegame.match import EpisodePlayer
from peacegame.match_config import MatchConfig
from peacegame.policies import REGISTRY, make_policy, make_view
from peacegame.protocol import ProtocolConfig
from peacegame.scenario import compile_dict, load_compiled
from peacegame.scenario.consent import coalition_values
from peacegame.solutions import nash_point

from scenario_strategies import scenario_dicts

_M64 = 2**64 - 1


def _splitmix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def unit(key: int, round_index: int, purpose: int) -> float:
    """The documented counter-based draw, from SplitMix64's definition."""
    bits = _splitmix(_splitmix(key & _M64) ^ ((round_index << 32) | purpose))
    return (bits >> 11) / 2**53


def faratin(u_max: float, d: float, e: float, t: int, max_rounds: int) -> float:
    horizon = max(max_rounds - 1, 1)
    return u_max - (u_max - d) * min(t / horizon, 1.0) ** (1 / e)


def small_scenario():
    """x: U = (a + b) / 2 with a (1, .5, 0), b (0, 1); y mirrors a."""
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


Opponent = Callable[[NegotiationEnv, str, dict[str, Any]], int]


def reject_all(propose: Callable[[int, str], int]) -> Opponent:
    """External actors that propose ``propose(round, agent)`` and reject all."""

    def act(env: NegotiationEnv, agent: str, info: dict[str, Any]) -> int:
        if info["phase"] == "propose":
            return propose(info["round"], agent)
        return env.rules.reject_action

    return act


def play(
    scenario: Any,
    specs: dict[str, Any],
    opponent: Opponent,
    seed: int = 0,
    check: Callable[[NegotiationEnv, str, dict[str, Any], int], None] | None = None,
    **protocol: Any,
) -> tuple[NegotiationEnv, list[tuple[str, int, str, int, int]]]:
    """Play one episode through the AEC env: scripted ``specs``, the rest external.

    Returns the env and every scripted move as (agent, round, phase, offer on
    the table, action); ``check`` is called before each scripted move.
    """
    env = NegotiationEnv(scenario=scenario, protocol=ProtocolConfig(**protocol))
    policies = {a: make_policy(spec) for a, spec in specs.items()}
    env.reset(seed=seed)
    for i, (agent, policy) in enumerate(policies.items()):
        view = make_view(env.rules, agent, env.record)
        policy.reset(agent, view, np.random.default_rng([seed, i]))
    moves = []
    while not all(env.terminations.values()):
        agent = env.agent_selection
        info = dict(env.infos[agent])
        obs = env.observe(agent)
        if agent in policies:
            if check is not None:
                check(env, agent, info, -1)
            action = policies[agent].act(obs, info)
            assert obs["action_mask"][action] == 1
            moves.append((agent, info["round"], info["phase"], info["offer"], action))
        else:
            action = opponent(env, agent, info)
        env.step(action)
    return env, moves


def reference_pick(env: NegotiationEnv, actor: int, count: int) -> int:
    """The documented private-information pick, computed from the public record.

    Levels a proposer proposed count 2, levels of offers an actor accepted 1;
    j's estimate of o is the mean over issues of count / the issue's largest
    count (1/2 before any evidence); among the first ``count`` outcomes of the
    actor's order the pick has the largest smallest estimate over the other
    required actors, ties going to the lowest own utility (the later position).
    """
    s = env.scenario
    record = env.record
    n, n_issues = s.n_actors, len(s.issues)
    counts = [[[0] * issue.n_levels for issue in s.issues] for _ in range(n)]
    for r in range(record.rounds_done):
        offer, proposer = int(record.offers[r]), int(record.proposers[r])
        for k in range(n_issues):
            counts[proposer][k][int(s.levels[offer, k])] += 2
        for j in range(n):
            if record.votes[r, j] == 1:
                for k in range(n_issues):
                    counts[j][k][int(s.levels[offer, k])] += 1

    def estimate(j: int, o: int) -> float:
        total = 0.0
        for k in range(n_issues):
            peak = max(counts[j][k])
            level = int(s.levels[o, k])
            total += counts[j][k][level] / peak if peak > 0 else 0.5
        return total

    order = [int(o) for o in s.order[actor]]
    best, best_score = order[count - 1], -np.inf
    for p in range(count - 1, -1, -1):
        o = order[p]
        scores = [estimate(j, o) for j in range(n) if j != actor and s.required[j, o]]
        score = min(scores) if scores else np.inf
        if score > best_score:
            best, best_score = o, score
    return best


def prefix_count(utility: np.ndarray, aspiration: float) -> int:
    return max(int(np.sum(utility.astype(np.float64) >= aspiration)), 1)


def near(utility: np.ndarray, aspiration: float) -> bool:
    return bool(np.any(np.abs(utility.astype(np.float64) - aspiration) < 1e-9))


# ------------------------------------------------------- time-dependent family
@pytest.mark.parametrize("spec", ["boulware", "linear", "conceder", 0.5, 0.7, 3.0])
@pytest.mark.parametrize("max_rounds", [1, 2, 11, 20])
def test_aspiration_is_faratins_formula(default_scenario, spec, max_rounds):
    if isinstance(spec, float):
        policy, e = make_policy({"policy": "time_dependent", "e": spec}), spec
    else:
        policy = make_policy(spec)
        e = {"boulware": 0.2, "linear": 1.0, "conceder": 2.0}[spec]
    env = NegotiationEnv(scenario=default_scenario, max_rounds=max_rounds)
    view = make_view(env.rules, "ukraine", env.record)
    policy.reset("ukraine", view, np.random.default_rng(0))
    u_max, d = float(view.utility.max()), view.no_deal
    table = policy.kernel.strategy_plan.plan_f[view.index, 0]
    for t in range(max_rounds):
        assert table[t] == pytest.approx(faratin(u_max, d, e, t, max_rounds), abs=1e-12)
    # Decimal check of the exact definition at a few rounds.
    horizon = Decimal(max(max_rounds - 1, 1))
    t = Decimal(max_rounds - 1)
    exact = Decimal(u_max) - (Decimal(u_max) - Decimal(d)) * (t / horizon) ** (
        1 / Decimal(e)
    )
    if max_rounds > 1:
        assert table[-1] == float(exact) == pytest.approx(d)
    assert table[0] == u_max


def test_boulware_concedes_slower_than_conceder(default_scenario):
    u = default_scenario.utility[0]
    u_max, d = float(u.max()), float(default_scenario.no_deal[0])
    curves = {
        e: np.array([faratin(u_max, d, e, t, 20) for t in range(20)])
        for e in (0.2, 1.0, 2.0)
    }
    boulware, linear, conceder = curves[0.2], curves[1.0], curves[2.0]
    for curve in curves.values():
        assert np.all(np.diff(curve) <= 1e-12)
    assert np.all(boulware >= linear - 1e-12) and np.all(linear >= conceder - 1e-12)
    assert boulware[10] > linear[10] > conceder[10]
    # In play, each proposal is at or above the curve (its best when none is).
    for name, e in (("boulware", 0.2), ("linear", 1.0), ("conceder", 2.0)):
        _, moves = play(
            default_scenario,
            {"russia": name},
            reject_all(lambda r, a: 0),
            max_rounds=20,
        )
        proposals = [(r, k) for _, r, phase, _, k in moves if phase == "propose"]
        assert len(proposals) == 4  # rounds 0, 5, 10, 15
        for r, k in proposals:
            assert float(u[k]) >= faratin(u_max, d, e, r, 20) - 1e-9 or k == int(
                default_scenario.order[0, 0]
            )


@pytest.mark.parametrize("e", [0.2, 1.0, 2.0])
def test_time_dependent_votes_and_proposals_follow_the_curve(e):
    """x (scripted) faces y proposing outcome k every odd round: x accepts at
    the first odd round t with U_x(k) >= a(t); every x proposal is the
    documented pick among its outcomes at or above a(t)."""
    s = small_scenario()
    u = s.utility[0].astype(np.float64)
    rounds = 20
    spec = {"policy": "time_dependent", "e": e}
    for k in range(s.n_outcomes):
        picks = []

        def check(env, agent, info, _, picks=picks):
            if info["phase"] == "propose":
                a = faratin(1.0, float(s.no_deal[0]), e, info["round"], rounds)
                picks.append(
                    None if near(u, a) else reference_pick(env, 0, prefix_count(u, a))
                )

        env, moves = play(
            s,
            {"x": spec},
            reject_all(lambda r, a, k=k: k),
            check=check,
            max_rounds=rounds,
        )
        votes = [(r, action) for _, r, phase, _, action in moves if phase == "vote"]
        expected_accept = next(
            (
                t
                for t in range(1, rounds, 2)
                if u[k] >= faratin(1.0, float(s.no_deal[0]), e, t, rounds)
            ),
            None,
        )
        for r, action in votes:
            accepted = action == env.rules.accept_action
            assert accepted == (r == expected_accept)
        proposals = [a for _, _, phase, _, a in moves if phase == "propose"]
        assert len(proposals) == len(picks)
        assert [p for p, w in zip(proposals, picks, strict=True) if w is not None] == [
            w for w in picks if w is not None
        ]


# ------------------------------------------------------------------ hardliner
@pytest.mark.parametrize("params", [{"level": 0.6}, {"threshold": 0.5}])
def test_hardliner_never_offers_or_accepts_below_threshold(default_scenario, params):
    s = default_scenario
    eu = s.actor_index("eu")
    u = s.utility[eu].astype(np.float64)
    d = float(s.no_deal[eu])
    threshold = params.get("threshold", d + params.get("level", 0) * (u.max() - d))
    rng = np.random.default_rng(4)
    offers = rng.integers(s.n_outcomes, size=60)
    env, moves = play(
        s,
        {"eu": {"policy": "hardliner", **params}},
        reject_all(lambda r, a: int(offers[r])),
        max_rounds=30,
    )
    proposals = [a for _, _, phase, _, a in moves if phase == "propose"]
    votes = [(offer, a) for _, _, phase, offer, a in moves if phase == "vote"]
    assert len(proposals) == 6 and len(votes) > 10
    assert min(u[o] for o in proposals) >= threshold - 1e-9
    for offer, action in votes:
        assert (action == env.rules.accept_action) == (u[offer] >= threshold)
    assert any(action == env.rules.accept_action for _, action in votes)
    assert any(action == env.rules.reject_action for _, action in votes)


# --------------------------------------------------------------- tit-for-tat
def test_tit_for_tat_mirrors_concessions():
    s = small_scenario()
    # x's utilities by outcome: (a0b0 .5, a0b1 1, a1b0 .25, a1b1 .75, a2b0 0, a2b1 .5)
    assert s.utility[0].tolist() == [0.5, 1.0, 0.25, 0.75, 0.0, 0.5]
    first = s.encode({"a": "a2", "b": "b0"})  # worth 0 to x
    better = s.encode({"a": "a1", "b": "b0"})  # worth .25 to x: a concession of .25
    fair = s.encode({"a": "a1", "b": "b1"})  # worth .75 to x
    script = {1: first, 3: better, 5: fair}
    env, moves = play(
        s, {"x": "tit_for_tat"}, reject_all(lambda r, a: script[r]), max_rounds=10
    )
    accept, reject = env.rules.accept_action, env.rules.reject_action
    best = s.encode({"a": "a0", "b": "b1"})
    assert [(r, a) for _, r, _, _, a in moves] == [
        (0, best),  # aspiration u_max = 1
        (1, reject),  # received nothing yet: 0 < 1
        (2, best),  # first offer = best offer: no concession
        (3, reject),  # the concession of .25 counts once the round is over
        # a = 1 - .25: among (a0b1, a1b1) y, who proposed a1 and a2, likes a1b1
        (4, fair),
        (5, accept),  # .75 >= .75
    ]
    assert env.infos["x"]["end_reason"] == "agreement"
    assert env.rewards == {"x": 0.75, "y": 0.75}


def test_tit_for_tat_niceness_concedes_per_round():
    s = small_scenario()
    nothing = s.encode({"a": "a2", "b": "b0"})  # 0 to x, every time
    moves_by_niceness = {}
    for niceness in (0.0, 0.1):
        _, moves = play(
            s,
            {"x": {"policy": "tit_for_tat", "niceness": niceness}},
            reject_all(lambda r, a: nothing),
            max_rounds=10,
        )
        moves_by_niceness[niceness] = moves
    u = s.utility[0]
    plain = [a for _, _, ph, _, a in moves_by_niceness[0.0] if ph == "propose"]
    assert all(u[a] == 1.0 for a in plain)  # nothing received: no concession
    for _, r, phase, _, a in moves_by_niceness[0.1]:
        if phase == "propose":
            assert u[a] >= max(0.1, 1.0 - 0.1 * r) - 1e-9
    nice = [a for _, _, ph, _, a in moves_by_niceness[0.1] if ph == "propose"]
    assert min(u[a] for a in nice) < 1.0


# -------------------------------------------------------------- nash mediator
def test_nash_mediator_proposes_the_nash_point(default_scenario):
    s = default_scenario
    nash = nash_point(s)
    us = s.actor_index("us")
    env, moves = play(
        s,
        {"us": "nash_mediator"},
        reject_all(lambda r, a: nash if r == 0 else 0),
        information="public",
        max_rounds=9,
    )
    proposals = [(r, a) for _, r, phase, _, a in moves if phase == "propose"]
    assert proposals == [(3, nash), (8, nash)]
    votes = {(r, offer): a for _, r, phase, offer, a in moves if phase == "vote"}
    if s.required[us, nash]:
        assert votes[(0, nash)] == env.rules.accept_action
    u = s.utility[us]
    for (_, offer), action in votes.items():
        assert (action == env.rules.accept_action) == (u[offer] >= u[nash])


def test_nash_mediator_needs_public_information(default_scenario):
    env = NegotiationEnv(scenario=default_scenario, information="private")
    view = make_view(env.rules, "us", env.record)
    with pytest.raises(ConfigError, match="information: public"):
        make_policy("nash_mediator").reset("us", view, np.random.default_rng(0))


def test_public_proposal_maximises_the_weakest_voters_surplus(default_scenario):
    s = default_scenario
    ukraine = s.actor_index("ukraine")
    _, moves = play(
        s,
        {"ukraine": "linear"},
        reject_all(lambda r, a: 0),
        information="public",
        max_rounds=20,
    )
    proposals = [(r, a) for _, r, phase, _, a in moves if phase == "propose"]
    assert [r for r, _ in proposals] == [2, 7, 12, 17]
    u = s.utility[ukraine].astype(np.float64)
    d = float(s.no_deal[ukraine])
    surplus = s.utility.astype(float) - s.no_deal.astype(float)[:, None]
    need = s.required.copy()
    need[ukraine] = False
    score = np.where(need, surplus, np.inf).min(axis=0)
    for r, k in proposals:
        threshold = faratin(float(u.max()), d, 1.0, r, 20)
        eligible = u >= threshold
        assert u[k] >= threshold
        assert score[k] == score[eligible].max()
        ties = eligible & (score == score[k])
        assert u[k] == u[ties].min()  # ties go to the lowest own utility


# ------------------------------------------------------ private information
def test_private_opponent_model_learns_from_offers():
    """y keeps proposing (a1, b0); x (linear) learns that y wants a1 and b0."""
    s = small_scenario()
    wanted = s.encode({"a": "a1", "b": "b0"})  # .25 to x: rejected until late
    env, moves = play(
        s, {"x": "linear"}, reject_all(lambda r, a: wanted), max_rounds=20
    )
    proposals = {r: a for _, r, phase, _, a in moves if phase == "propose"}
    u = s.utility[0]
    # Round 12: a(12) = 1 - .9 * 12 / 19 ~ .43: x may offer (a0b1 1, a1b1 .75,
    # a0b0 .5, a2b1 .5). y's estimates: a0b1 0, a1b1 1, a0b0 1, a2b1 0; the
    # tie goes to the lower own utility, a0b0. With no evidence (all 1/2) x
    # would offer the last of its .5 outcomes instead.
    assert s.decode(proposals[12]) == {"a": "a0", "b": "b0"}
    assert s.decode(proposals[10]) == {"a": "a1", "b": "b1"}
    assert u[proposals[12]] >= faratin(1.0, float(s.no_deal[0]), 1.0, 12, 20)


def full_scan_pick(rules: Rules, counts: np.ndarray, actor: int, count: int) -> int:
    """The private pick by scoring every outcome of the prefix (no search).

    The estimates are summed issue by issue in float64, as the kernel does;
    the score is the smallest over the other voters ("all of" rules) or the
    cheapest winning coalition's, and ties go to the later position.
    """
    columns = rules.level_columns
    bounds = np.concatenate(
        [[0], np.cumsum([i.n_levels for i in rules.scenario.issues])]
    )
    table = np.empty(counts.shape)
    for k in range(columns.shape[1]):
        part = counts[:, bounds[k] : bounds[k + 1]]
        peak = part.max(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            table[:, bounds[k] : bounds[k + 1]] = np.where(peak > 0, part / peak, 0.5)
    estimate = np.zeros((counts.shape[0], columns.shape[0]))
    for k in range(columns.shape[1]):
        estimate += table[:, columns[:, k]]
    consent = rules.scenario.consent
    if consent.unanimous:
        voters = rules.required.T.astype(bool).copy()
        voters[actor] = False
        score = np.where(voters, estimate, np.inf).min(axis=0)
    else:
        score = coalition_values(
            consent.rules, consent.applies, rules.required, estimate, actor
        )
    candidates = rules.scenario.order[actor][:count][::-1]
    return int(candidates[int(np.argmax(score[candidates]))])


def check_model_search(rules: Rules, rng: np.random.Generator, states: int) -> None:
    """The kernel's search over the outcome tree picks what a full scan picks."""
    n = rules.n_actors
    plan = rules.plan([Strategy("time_dependent")] * n)
    assert plan.use_model
    for state in range(states):
        # Small counts, many of them zero: ties between outcomes are common.
        top = int(rng.integers(1, 5))
        counts = rng.integers(0, top, size=(n, rules.n_levels)) * (
            rng.random((n, rules.n_levels)) < rng.random()
        )
        if state == 0:
            counts[:] = 0  # no evidence: every estimate ties
        actor = int(rng.integers(n))
        count = int(rng.integers(1, rules.n_outcomes + 1))
        # The search's first guess (the actor's last proposal) is any outcome,
        # in the prefix or not, or none; it must not change the pick.
        guess = int(rng.integers(-1, rules.n_outcomes))
        got = private_pick(
            rules.game,
            plan.model_tree,
            plan.order[actor],
            counts.astype(np.int64),
            actor,
            count,
            guess,
        )
        assert got == full_scan_pick(rules, counts, actor, count), (state, count)


def test_private_search_picks_what_a_full_scan_picks(default_scenario):
    rules = Rules(default_scenario, ProtocolConfig(information="private"))
    check_model_search(rules, np.random.default_rng(0), 400)


def test_private_search_picks_what_a_full_scan_picks_under_a_quota():
    scenario = load_compiled("security-council")  # quota and veto rules
    assert not scenario.consent.unanimous
    rules = Rules(scenario, ProtocolConfig(information="private"))
    check_model_search(rules, np.random.default_rng(1), 150)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=scenario_dicts(max_issues=4, max_levels=4, max_actors=4),
    seed=st.integers(0, 2**16),
)
def test_private_search_picks_what_a_full_scan_picks_random_scenarios(data, seed):
    rules = Rules(compile_dict(data), ProtocolConfig(information="private"))
    check_model_search(rules, np.random.default_rng(seed), 30)


def random_model_states(rules: Rules, rng: np.random.Generator, states: int):
    """``(counts, actor, count, guess)`` draws, many of them repeated."""
    n = rules.n_actors
    drawn: list[tuple[np.ndarray, int, int, int]] = []
    for _ in range(states):
        if drawn and rng.random() < 0.5:  # a state seen before, as repeats are
            drawn.append(drawn[int(rng.integers(len(drawn)))])
            continue
        counts = rng.integers(0, 3, size=(n, rules.n_levels)).astype(np.int64)
        actor = int(rng.integers(n))
        count = int(rng.integers(1, rules.n_outcomes + 1))
        drawn.append((counts, actor, count, int(rng.integers(-1, rules.n_outcomes))))
    return drawn


@pytest.mark.parametrize("sightings, entries", [(None, None), (1, 1), (2, 4)])
def test_remembered_picks_are_the_searchs_picks(default_scenario, sightings, entries):
    """The memo changes no pick: first sightings, entries, hits, and (in a
    one-row memo) keys that collide on every row all give the search's pick;
    an actor's own counts are not part of the key, and do not change it."""
    rules = Rules(default_scenario, ProtocolConfig(information="private"))
    plan = rules.plan([Strategy("time_dependent")] * rules.n_actors)
    memo = pick_memo(rules.n_actors, rules.n_levels)
    if sightings is not None:
        memo = (memo[0][:sightings].copy(), memo[1][:entries].copy())
    rng = np.random.default_rng(3)
    for counts, actor, count, guess in random_model_states(rules, rng, 300):
        args = (plan.order[actor], counts, actor, count, guess)
        expected = private_pick(rules.game, plan.model_tree, *args)
        assert remembered_pick(rules.game, plan.model_tree, memo, *args) == expected
        own = counts.copy()
        own[actor] = rng.integers(0, 9, rules.n_levels)
        args = (plan.order[actor], own, actor, count, guess)
        assert private_pick(rules.game, plan.model_tree, *args) == expected
        assert remembered_pick(rules.game, plan.model_tree, memo, *args) == expected
    assert (memo[1][:, MEMO_PICK] >= 0).any()  # some keys were seen twice


def test_a_remembered_pick_is_served_from_the_memo(default_scenario):
    """The second search of a key stores it and the third reads it back (an
    entry altered in place is what comes back), so repeated episodes skip the
    search; a key that differs in one count is searched again."""
    rules = Rules(default_scenario, ProtocolConfig(information="private"))
    plan = rules.plan([Strategy("time_dependent")] * rules.n_actors)
    memo = pick_memo(rules.n_actors, rules.n_levels)
    counts = np.random.default_rng(4).integers(0, 4, (rules.n_actors, rules.n_levels))
    args = (plan.order[1], counts.astype(np.int64), 1, 200, -1)
    picks = [remembered_pick(rules.game, plan.model_tree, memo, *args) for _ in "ab"]
    assert picks[0] == picks[1] == private_pick(rules.game, plan.model_tree, *args)
    (row,) = np.flatnonzero(memo[1][:, MEMO_PICK] >= 0)
    assert memo[1][row, MEMO_ACTOR] == 1 and memo[1][row, MEMO_HASH] != 0
    memo[1][row, MEMO_PICK] = 12345
    assert remembered_pick(rules.game, plan.model_tree, memo, *args) == 12345
    other = args[1].copy()
    other[0, 0] += 1
    changed = (plan.order[1], other, 1, 200, -1)
    assert remembered_pick(rules.game, plan.model_tree, memo, *changed) == private_pick(
        rules.game, plan.model_tree, *changed
    )


def test_a_memo_entry_with_the_same_hash_but_other_counts_is_not_read(
    default_scenario,
):
    """Hashes collide in principle: an entry is read only if its counts are
    the key's (an entry forged with the key's hash and one other count is
    searched again, and then replaced)."""
    rules = Rules(default_scenario, ProtocolConfig(information="private"))
    plan = rules.plan([Strategy("time_dependent")] * rules.n_actors)
    sightings, entries = memo = pick_memo(rules.n_actors, rules.n_levels)
    counts = np.random.default_rng(5).integers(0, 4, (rules.n_actors, rules.n_levels))
    counts = counts.astype(np.int64)
    actor, count, guess = 2, 300, -1
    h = int(_memo_hash(counts, actor, count, guess))
    key = h >> 1
    sightings[(h >> 32) & (sightings.shape[0] - 1)] = key
    row = h & (entries.shape[0] - 1)
    others = np.delete(counts, actor, axis=0).ravel()
    entries[row, :MEMO_COUNTS] = 0
    entries[row, MEMO_HASH], entries[row, MEMO_PICK] = key, 12345
    entries[row, MEMO_ACTOR], entries[row, MEMO_COUNT] = actor, count
    entries[row, MEMO_GUESS] = guess
    entries[row, MEMO_COUNTS:] = others
    args = (plan.order[actor], counts, actor, count, guess)
    assert remembered_pick(rules.game, plan.model_tree, memo, *args) == 12345
    entries[row, -1] += 1  # the same hash, one other count
    expected = private_pick(rules.game, plan.model_tree, *args)
    assert remembered_pick(rules.game, plan.model_tree, memo, *args) == expected
    assert entries[row, MEMO_PICK] == expected
    assert (entries[row, MEMO_COUNTS:] == others).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_private_proposals_are_the_frequency_models_picks(default_scenario, seed):
    """Against random external offers and votes, every private-information
    proposal of a time-dependent or hardliner actor is the documented pick."""
    s = default_scenario
    specs = {
        "russia": "boulware",
        "ukraine": "linear",
        "eu": "conceder",
        "china": {"policy": "hardliner", "level": 0.5},
    }
    e = {"russia": 0.2, "ukraine": 1.0, "eu": 2.0}
    rng = np.random.default_rng(seed)
    rounds = 25
    checked = []

    def opponent(env, agent, info):
        if info["phase"] == "propose":
            return int(rng.integers(s.n_outcomes))
        return (
            env.rules.accept_action if rng.random() < 0.3 else env.rules.reject_action
        )

    def check(env, agent, info, _):
        if info["phase"] != "propose":
            return
        i = s.actor_index(agent)
        u = s.utility[i].astype(np.float64)
        d = float(s.no_deal[i])
        if agent in e:
            a = faratin(float(u.max()), d, e[agent], info["round"], rounds)
        else:
            a = d + 0.5 * (float(u.max()) - d)
        if not near(u, a):
            checked.append(reference_pick(env, i, prefix_count(u, a)))
        else:
            checked.append(None)

    _, moves = play(s, specs, opponent, seed=seed, check=check, max_rounds=rounds)
    proposals = [a for _, _, phase, _, a in moves if phase == "propose"]
    assert len(proposals) == len(checked) > 0
    assert sum(c is not None for c in checked) > 0
    for want, got in zip(checked, proposals, strict=True):
        if want is not None:
            assert got == want


# --------------------------------------------------------------------- random
def test_random_policy_is_legal_deterministic_and_the_documented_draw(
    default_scenario,
):
    s = default_scenario
    n_outcomes = s.n_outcomes
    specs = dict.fromkeys(s.actors, "random")
    proposals = set()
    runs = {}
    for seed in (0, 1, 2, 0):
        env, moves = play(s, specs, None, seed=seed)  # type: ignore[arg-type]
        key = env.seed_of_episode
        assert key == seed
        for agent, r, phase, _, action in moves:
            i = s.actor_index(agent)
            draw = unit(key, r, 2 + i)
            if phase == "propose":
                assert action == min(int(draw * n_outcomes), n_outcomes - 1)
                proposals.add(action)
            else:
                assert (action == env.rules.accept_action) == (draw < 0.5)
        if seed in runs:
            assert moves == runs[seed]  # same seed: the same episode
        runs[seed] = moves
    assert runs[0] != runs[1]
    assert len(proposals) > 5  # it really randomises


# ---------------------------------------------------------------- user policy
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
    # It plays through the env path: x proposes its best, y accepts at once.
    s = small_scenario()
    config = MatchConfig(
        name="user",
        policies={
            "x": {"policy": "my_negotiator:AlwaysBest"},
            "y": {"policy": "my_negotiator:AlwaysBest", "greed": 0.1},
        },
        episodes=1,
        seed=0,
        protocol={"max_rounds": 3},
    )
    record = EpisodePlayer(config, s).play(0)
    assert record["agreement"] and record["round"] == 0
    assert record["outcome"] == int(s.order[0, 0])


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
