"""The protocol state machine: hand-computed games, RNG order, properties."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from peacegame.protocol import (
    DONE,
    PROPOSE,
    ROLE_IDLE,
    ROLE_PROPOSER,
    ROLE_VOTER,
    VOTE,
    IllegalActionError,
    Protocol,
    ProtocolConfig,
    discount_powers,
)
from peacegame.scenario import compile_dict, load_compiled

THREE_ACTORS = Path(__file__).parent / "data" / "three_actors.yaml"


def two_actor_scenario(consent: list[dict[str, Any]] | None = None) -> Any:
    """Actors a and b split one issue; utilities (1, .5, 0) and (0, .5, 1)."""
    return compile_dict(
        {
            "name": "two-actors",
            "issues": [{"name": "split", "levels": ["a_wins", "even", "b_wins"]}],
            "actors": [
                {
                    "id": "a",
                    "name": "A",
                    "no_deal": 0.25,
                    "discount": 0.9,
                    "recognition": 0.75,
                    "terms": [{"weight": 1, "issue": "split", "values": [1, 0.5, 0]}],
                },
                {
                    "id": "b",
                    "name": "B",
                    "no_deal": 0.375,
                    "discount": 0.8,
                    "recognition": 0.25,
                    "terms": [{"weight": 1, "issue": "split", "values": [0, 0.5, 1]}],
                },
            ],
            "consent": consent or [{"actors": ["a", "b"]}],
        }
    )


@pytest.fixture(scope="module")
def two_actors() -> Any:
    return two_actor_scenario()


@pytest.fixture(scope="module")
def ukraine(default_scenario: Any) -> Any:
    return default_scenario


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------- config
def test_config_defaults() -> None:
    config = ProtocolConfig()
    assert config.max_rounds == 20
    assert config.proposer == "rotating"
    assert config.order is None
    assert config.breakdown_prob == 0.0
    assert config.information == "private"
    assert config.illegal_action == "raise"
    assert config.illegal_penalty == -1.0
    assert config.history_length == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"max_rounds": 0},
        {"breakdown_prob": 1.0},
        {"breakdown_prob": -0.1},
        {"proposer": "dictator"},
        {"information": "secret"},
        {"illegal_action": "ignore"},
        {"history_length": -1},
        {"order": ["a", "a"]},
        {"unknown_knob": 1},
    ],
)
def test_config_rejects(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProtocolConfig(**bad)


def test_order_must_be_a_permutation(two_actors: Any) -> None:
    with pytest.raises(ValueError, match="permutation"):
        Protocol(two_actors, ProtocolConfig(order=["a"]))
    with pytest.raises(ValueError, match="permutation"):
        Protocol(two_actors, ProtocolConfig(order=["a", "c"]))
    protocol = Protocol(two_actors, ProtocolConfig(order=["b", "a"]))
    assert protocol.order == (1, 0)
    assert protocol.reset(rng()).proposer == 1


def test_action_numbering(two_actors: Any) -> None:
    protocol = Protocol(two_actors)
    assert protocol.n_outcomes == 3
    assert (protocol.accept_action, protocol.reject_action) == (3, 4)
    assert protocol.wait_action == 5
    assert protocol.n_actions == 6


# --------------------------------------------------------- hand-computed games
def test_first_proposal_accepted_pays_the_utilities(two_actors: Any) -> None:
    protocol = Protocol(two_actors)
    state = protocol.reset(rng())
    assert (state.round, state.phase, state.proposer) == (0, PROPOSE, 0)
    protocol.apply(state, 0, 1, rng())  # a proposes "even"
    assert state.phase == VOTE
    assert state.voters.tolist() == [False, True]
    protocol.apply(state, 1, protocol.accept_action, rng())
    assert state.phase == DONE
    assert state.agreement and state.end_reason == "agreement"
    assert state.outcome == 1
    assert state.rewards.dtype == np.float64
    assert state.rewards.tolist() == [0.5, 0.5]


def test_deadline_pays_the_no_deal_values(two_actors: Any) -> None:
    protocol = Protocol(two_actors, ProtocolConfig(max_rounds=2))
    state = protocol.reset(rng())
    protocol.apply(state, 0, 0, rng())  # a: a_wins
    protocol.apply(state, 1, protocol.reject_action, rng())
    assert (state.round, state.phase, state.proposer) == (1, PROPOSE, 1)
    protocol.apply(state, 1, 2, rng())  # b: b_wins
    protocol.apply(state, 0, protocol.reject_action, rng())
    assert state.phase == DONE
    assert not state.agreement
    assert state.end_reason == "deadline"
    assert state.outcome == -1
    assert state.round == 1
    assert state.rewards.tolist() == [0.25, 0.375]


def test_agreement_in_round_three_is_discounted(two_actors: Any) -> None:
    protocol = Protocol(two_actors)
    state = protocol.reset(rng())
    for round_index in range(3):
        proposer = round_index % 2
        assert (state.round, state.proposer) == (round_index, proposer)
        protocol.apply(state, proposer, 2 * proposer, rng())  # own best outcome
        protocol.apply(state, 1 - proposer, protocol.reject_action, rng())
    assert (state.round, state.proposer) == (3, 1)  # rotating: b again
    protocol.apply(state, 1, 1, rng())  # even split
    protocol.apply(state, 0, protocol.accept_action, rng())
    assert state.agreement
    assert state.round == 3
    assert state.rewards.tolist() == [0.9**3 * 0.5, 0.8**3 * 0.5]
    assert state.rewards.tolist() == pytest.approx([0.3645, 0.256], abs=1e-15)


def test_history_and_last_votes_after_rejections(two_actors: Any) -> None:
    protocol = Protocol(two_actors, ProtocolConfig(history_length=3))
    state = protocol.reset(rng())
    assert state.history.tolist() == [-1, -1, -1]
    protocol.apply(state, 0, 0, rng())
    protocol.apply(state, 1, protocol.reject_action, rng())
    assert state.history.tolist() == [0, -1, -1]
    assert state.last_votes.tolist() == [-1, 0]
    assert state.votes.tolist() == [-1, -1]  # the new round has no votes yet
    protocol.apply(state, 1, 2, rng())
    protocol.apply(state, 0, protocol.reject_action, rng())
    assert state.history.tolist() == [2, 0, -1]
    assert state.last_votes.tolist() == [0, -1]


def test_offer_needing_only_the_proposer_is_agreed_at_once() -> None:
    scenario = two_actor_scenario(consent=[{"actors": ["a"]}])
    protocol = Protocol(scenario)
    state = protocol.reset(rng())
    protocol.apply(state, 0, 0, rng())  # a needs nobody else
    assert state.phase == DONE and state.agreement
    assert state.rewards.tolist() == [1.0, 0.0]
    assert state.last_votes.tolist() == [-1, -1]
    # When b proposes, a must vote.
    state = Protocol(scenario, ProtocolConfig(order=["b", "a"])).reset(rng())
    protocol.apply(state, 1, 2, rng())
    assert state.phase == VOTE
    assert protocol.voter_order(state) == (0,)


def test_voters_are_the_required_actors_but_the_proposer() -> None:
    scenario = load_compiled(THREE_ACTORS)
    protocol = Protocol(scenario)
    for outcome in range(scenario.n_outcomes):
        for proposer in range(3):
            state = protocol.reset(rng())
            state.proposer = proposer
            protocol.propose(state, outcome, rng())
            expected = [
                i for i in range(3) if scenario.required[i, outcome] and i != proposer
            ]
            assert list(protocol.voter_order(state)) == expected
            assert np.flatnonzero(state.voters).tolist() == expected
            assert state.pending == len(expected)


def test_consent_china_never_votes_without_chinese_troops_or_unsc(
    ukraine: Any,
) -> None:
    """Without Chinese troops and without a UN Security Council role, China
    never votes. (With command coalition_un_endorsed, un_commanded or
    two_tier the scenario's security_council rule gives China a P5 vote even
    without troops, so "no Chinese troops" alone is not enough.)"""
    protocol = Protocol(ukraine)
    china = ukraine.actor_index("china")
    command = [issue.name for issue in ukraine.issues].index("command")
    coalition = ukraine.issues[command].levels.index("coalition")
    no_troops = ukraine.features["chinese_troops"] == 0
    plain = no_troops & (ukraine.levels[:, command] == coalition)
    assert plain.sum() > 100
    for outcome in np.flatnonzero(plain):
        for proposer in range(ukraine.n_actors):
            if proposer == china:
                continue
            state = protocol.reset(rng())
            state.proposer = proposer
            protocol.propose(state, int(outcome), rng())
            assert china not in protocol.voter_order(state)
            assert protocol.role(state, china) == ROLE_IDLE
    # With Chinese troops China always votes (unless it proposes).
    for outcome in np.flatnonzero(~no_troops)[:200]:
        state = protocol.reset(rng())  # russia proposes
        protocol.propose(state, int(outcome), rng())
        assert china in protocol.voter_order(state)


def test_roles_and_masks(two_actors: Any) -> None:
    protocol = Protocol(two_actors)
    state = protocol.reset(rng())
    assert protocol.role(state, 0) == ROLE_PROPOSER
    assert protocol.role(state, 1) == ROLE_IDLE
    assert protocol.legal_mask(state, 0) is protocol.propose_mask
    assert protocol.legal_mask(state, 1) is protocol.empty_mask
    assert protocol.legal_mask(state, 1, allow_wait=True) is protocol.wait_mask
    protocol.propose(state, 1, rng())
    assert protocol.role(state, 0) == ROLE_PROPOSER
    assert protocol.role(state, 1) == ROLE_VOTER
    assert protocol.legal_mask(state, 1) is protocol.vote_mask
    assert protocol.legal_mask(state, 0, allow_wait=True) is protocol.wait_mask
    for mask in (protocol.propose_mask, protocol.vote_mask, protocol.wait_mask):
        assert not mask.flags.writeable
        assert mask.dtype == np.int8
    assert protocol.propose_mask.tolist() == [1, 1, 1, 0, 0, 0]
    assert protocol.vote_mask.tolist() == [0, 0, 0, 1, 1, 0]
    assert protocol.wait_mask.tolist() == [0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("phase_actions", "actor", "action", "message"),
    [
        ([], 1, 0, "not this actor's move"),
        ([], 0, 3, "ACCEPT"),
        ([], 0, 99, "out of range"),
        ([(0, 1)], 1, 0, "'vote' phase"),
        ([(0, 1)], 0, 3, "not this actor's move"),
    ],
)
def test_illegal_actions_raise_naming_actor_action_phase(
    two_actors: Any,
    phase_actions: list[tuple[int, int]],
    actor: int,
    action: int,
    message: str,
) -> None:
    protocol = Protocol(two_actors)
    state = protocol.reset(rng())
    for who, what in phase_actions:
        protocol.apply(state, who, what, rng())
    with pytest.raises(IllegalActionError, match=message) as error:
        protocol.apply(state, actor, action, rng())
    assert isinstance(error.value, ValueError)
    assert error.value.actor == ("a", "b")[actor]
    assert error.value.phase == state.phase
    assert repr(("a", "b")[actor]) in str(error.value)


def test_wait_is_legal_only_when_allowed_and_idle(two_actors: Any) -> None:
    protocol = Protocol(two_actors)
    state = protocol.reset(rng())
    assert not protocol.is_legal(state, 1, protocol.wait_action)
    assert protocol.is_legal(state, 1, protocol.wait_action, allow_wait=True)
    assert not protocol.is_legal(state, 0, protocol.wait_action, allow_wait=True)
    before = state.copy()
    protocol.apply(state, 1, protocol.wait_action, rng(), allow_wait=True)
    assert state.phase == before.phase and state.offer == before.offer


def test_end_illegal_penalizes_the_offenders_only(two_actors: Any) -> None:
    protocol = Protocol(two_actors, ProtocolConfig(illegal_penalty=-2.5))
    state = protocol.reset(rng())
    protocol.end_illegal(state, [1])
    assert state.phase == DONE
    assert state.end_reason == "illegal"
    assert not state.agreement
    assert state.rewards.tolist() == [0.0, -2.5]


def test_state_copy_is_independent(two_actors: Any) -> None:
    protocol = Protocol(two_actors)
    state = protocol.reset(rng())
    protocol.propose(state, 1, rng())
    snapshot = state.copy()
    protocol.vote(state, 1, False, rng())
    assert snapshot.phase == VOTE and snapshot.round == 0
    assert snapshot.votes.tolist() == [-1, -1]
    assert state.round == 1
    # The copy plays on by itself.
    protocol.vote(snapshot, 1, True, rng())
    assert snapshot.agreement and not state.agreement


def test_discount_powers_table() -> None:
    discount = np.array([0.9, 0.97, 1.0])
    table = discount_powers(discount, 5)
    assert table.shape == (5, 3)
    for r in range(5):
        assert table[r].tolist() == [0.9**r, 0.97**r, 1.0]


# ---------------------------------------------------------------- randomness
def test_random_proposer_equals_numpy_choice(ukraine: Any) -> None:
    protocol = Protocol(ukraine, ProtocolConfig(proposer="random"))
    for seed in range(300):
        ours, numpys = rng(seed), rng(seed)
        for _ in range(5):
            expected = numpys.choice(ukraine.n_actors, p=ukraine.recognition)
            assert protocol.draw_proposer(ours) == expected
        assert ours.random() == numpys.random()  # same number of draws


def test_zero_recognition_is_never_drawn() -> None:
    scenario = dataclasses.replace(
        load_compiled(THREE_ACTORS), recognition=np.array([0.5, 0.0, 0.5])
    )
    protocol = Protocol(scenario, ProtocolConfig(proposer="random"))
    generator = rng(1)
    draws = {protocol.draw_proposer(generator) for _ in range(500)}
    assert draws == {0, 2}


def test_draw_order_is_pinned(ukraine: Any) -> None:
    """reset: proposer draw; each failed round: breakdown draw, proposer draw."""
    breakdown = 0.2
    config = ProtocolConfig(proposer="random", breakdown_prob=breakdown, max_rounds=50)
    protocol = Protocol(ukraine, config)
    recognition = ukraine.recognition
    for seed in range(50):
        generator, replica = rng(seed), rng(seed)
        state = protocol.reset(generator)
        assert state.proposer == replica.choice(5, p=recognition)
        while state.phase != DONE:
            protocol.propose(state, 0, generator)  # every actor must consent
            for voter in protocol.voter_order(state):
                protocol.vote(state, voter, False, generator)
            if state.phase == DONE:
                if state.end_reason == "breakdown":
                    assert replica.random() < breakdown
                else:
                    assert state.round + 1 == config.max_rounds
                break
            assert not replica.random() < breakdown
            assert state.proposer == replica.choice(5, p=recognition)
        assert generator.random() == replica.random()


def test_rotating_without_breakdown_draws_nothing(two_actors: Any) -> None:
    protocol = Protocol(two_actors, ProtocolConfig(max_rounds=4))
    generator = rng(7)
    state = protocol.reset(generator)
    while state.phase != DONE:
        protocol.propose(state, 0, generator)
        for voter in protocol.voter_order(state):
            protocol.vote(state, voter, False, generator)
    assert generator.random() == rng(7).random()


def test_breakdown_ends_with_no_deal(two_actors: Any) -> None:
    protocol = Protocol(two_actors, ProtocolConfig(breakdown_prob=0.999999))
    state = protocol.reset(rng(3))
    protocol.propose(state, 0, rng(3))
    protocol.vote(state, 1, False, rng(3))
    assert state.end_reason == "breakdown"
    assert state.round == 0
    assert state.rewards.tolist() == [0.25, 0.375]


# ------------------------------------------------------------------ property
@st.composite
def small_scenarios(draw: st.DrawFn) -> Any:
    """Random scenarios of 2-4 actors and 1-3 issues of 2-4 levels."""
    n_actors = draw(st.integers(2, 4))
    issues = [
        {
            "name": f"issue{j}",
            "levels": [f"l{k}" for k in range(draw(st.integers(2, 4)))],
        }
        for j in range(draw(st.integers(1, 3)))
    ]
    unit = st.floats(0, 1, allow_nan=False)
    weights = [draw(st.integers(1, 10)) for _ in range(n_actors)]
    actors = []
    for a in range(n_actors):
        terms = [
            {
                "weight": draw(st.integers(1, 5)),
                "issue": issue["name"],
                "values": [draw(unit) for _ in issue["levels"]],
            }
            for issue in issues
        ]
        actors.append(
            {
                "id": f"actor{a}",
                "name": f"Actor {a}",
                "no_deal": draw(unit),
                "discount": draw(st.floats(0.5, 1.0)),
                "recognition": weights[a] / sum(weights),
                "terms": terms,
            }
        )
    ids = [actor["id"] for actor in actors]
    always = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    consent: list[dict[str, Any]] = [{"actors": always}]
    for _ in range(draw(st.integers(0, 2))):
        issue = draw(st.sampled_from(issues))
        consent.append(
            {
                "actors": draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)),
                "when": {"issue": issue["name"], "in": [issue["levels"][0]]},
            }
        )
    return compile_dict(
        {"name": "random", "issues": issues, "actors": actors, "consent": consent}
    )


configs = st.builds(
    ProtocolConfig,
    max_rounds=st.integers(1, 6),
    proposer=st.sampled_from(["rotating", "random"]),
    breakdown_prob=st.sampled_from([0.0, 0.3]),
    history_length=st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(scenario=small_scenarios(), config=configs, seed=st.integers(0, 2**32 - 1))
def test_random_legal_play_respects_the_rules(
    scenario: Any, config: ProtocolConfig, seed: int
) -> None:
    protocol = Protocol(scenario, config)
    generator = np.random.default_rng(seed)
    policy = np.random.default_rng(seed + 1)
    state = protocol.reset(generator)
    steps = 0
    while state.phase != DONE:
        movers = (
            [state.proposer]
            if state.phase == PROPOSE
            else list(protocol.voter_order(state))
        )
        assert movers
        for actor in movers:
            mask = protocol.legal_mask(state, actor)
            legal = np.flatnonzero(mask)
            assert legal.size >= 1
            action = int(policy.choice(legal))
            assert protocol.is_legal(state, actor, action)
            protocol.apply(state, actor, action, generator)
        assert state.round < config.max_rounds
        steps += 1
        assert steps <= 2 * config.max_rounds
    rewards = state.rewards
    utility = scenario.utility.astype(np.float64)
    no_deal = scenario.no_deal.astype(np.float64)
    lowest = np.minimum(
        no_deal,
        discount_powers(scenario.discount, config.max_rounds)[-1] * utility.min(axis=1),
    )
    highest = np.maximum(no_deal, utility.max(axis=1))
    assert np.all(rewards >= lowest - 1e-12)
    assert np.all(rewards <= highest + 1e-12)
    assert np.all(rewards <= 1.0)
    if state.agreement:
        expected = scenario.discount**state.round * utility[:, state.outcome]
        np.testing.assert_allclose(rewards, expected, rtol=1e-12)
    else:
        assert state.end_reason in {"deadline", "breakdown"}
        assert rewards.tolist() == no_deal.tolist()
