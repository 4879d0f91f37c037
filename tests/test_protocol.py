"""The rules kernel: hand-computed games, the documented draws, properties."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from peacegame.engine import Episodes, IllegalActionError, ProtocolConfig, Rules
from peacegame.engine.config import (
    AGREEMENT,
    BREAKDOWN,
    DEADLINE,
    END_REASONS,
    ENDED,
    ILLEGAL,
    NO_VOTE,
    PROPOSING,
    RUNNING,
    VOTING,
)
from peacegame.engine.record import PublicRecord
from peacegame.engine.rules import (
    C_END,
    C_OFFER,
    C_PENDING,
    C_PHASE,
    C_PROPOSER,
    C_ROUND,
    C_ROUNDS_DONE,
    MASK_NONE,
    MASK_PROPOSE,
    MASK_VOTE,
    MASK_WAIT,
    MOVE_NONE,
    MOVE_PROPOSE,
    MOVE_VOTE,
    col_last_votes,
    col_voters,
    col_votes,
    is_legal,
    move_kind,
)
from peacegame.protocol import discount_powers
from peacegame.scenario import compile_dict, load_compiled

THREE_ACTORS = Path(__file__).parent / "data" / "three_actors.yaml"

# ------------------------------------------------- the documented hash (spec)
_M64 = 2**64 - 1


def splitmix(z: int) -> int:
    """SplitMix64's finaliser, written from the paper (Python integers)."""
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def unit(key: int, round_index: int, purpose: int) -> float:
    """mix(seed, round, purpose) as a 53-bit float on [0, 1)."""
    bits = splitmix(splitmix(key & _M64) ^ ((round_index << 32) | purpose))
    return (bits >> 11) / 2**53


def expected_random_proposer(scenario: Any, key: int, round_index: int) -> int:
    cdf = np.cumsum(np.asarray(scenario.recognition, np.float64))
    cdf /= cdf[-1]
    u = unit(key, round_index, 0)
    return min(int(np.searchsorted(cdf, u, side="right")), scenario.n_actors - 1)


# ----------------------------------------------------------------- scenarios
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


class Game:
    """One kernel slot with every actor driven from the test."""

    def __init__(self, scenario: Any, config: ProtocolConfig | None = None, key=0):
        self.rules = Rules(scenario, config)
        self.episodes = Episodes(self.rules, [None] * self.rules.n_actors, 1)
        self.episodes.start(np.array([0]), np.array([key]))
        self.n = self.rules.n_actors

    @property
    def row(self) -> np.ndarray:
        return self.episodes.state[0]

    @property
    def rewards(self) -> np.ndarray:
        return self.episodes.rewards[0]

    def __getitem__(self, column: int) -> int:
        return int(self.row[column])

    def apply(self, actor: int, action: int) -> None:
        assert self.episodes.apply(0, actor, action), (actor, action)

    def voters(self) -> list[int]:
        start = col_voters(self.n)
        return np.flatnonzero(self.row[start : start + self.n]).tolist()

    def votes(self) -> list[int]:
        start = col_votes(self.n)
        return self.row[start : start + self.n].tolist()

    def last_votes(self) -> list[int]:
        start = col_last_votes(self.n)
        return self.row[start : start + self.n].tolist()

    def record(self) -> PublicRecord:
        return PublicRecord(self.n, self.rules.max_rounds, self.episodes.state, 0)

    def reject_round(self, offer: int = 0) -> None:
        self.apply(self[C_PROPOSER], offer)
        for voter in self.voters():
            self.apply(voter, self.rules.reject_action)


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
        Rules(two_actors, ProtocolConfig(order=["a"]))
    with pytest.raises(ValueError, match="permutation"):
        Rules(two_actors, ProtocolConfig(order=["a", "c"]))
    game = Game(two_actors, ProtocolConfig(order=["b", "a"]))
    assert game.rules.order == (1, 0)
    assert game[C_PROPOSER] == 1


def test_action_numbering(two_actors: Any) -> None:
    rules = Rules(two_actors)
    assert rules.n_outcomes == 3
    assert (rules.accept_action, rules.reject_action) == (3, 4)
    assert rules.wait_action == 5
    assert rules.n_actions == 6


# --------------------------------------------------------- hand-computed games
def test_first_proposal_accepted_pays_the_utilities(two_actors: Any) -> None:
    game = Game(two_actors)
    assert (game[C_ROUND], game[C_PHASE], game[C_PROPOSER]) == (0, PROPOSING, 0)
    assert game[C_END] == RUNNING
    game.apply(0, 1)  # a proposes "even"
    assert game[C_PHASE] == VOTING
    assert game.voters() == [1]
    assert game[C_OFFER] == 1 and game[C_PENDING] == 1
    game.apply(1, game.rules.accept_action)
    assert game[C_PHASE] == ENDED
    assert game[C_END] == AGREEMENT and END_REASONS[AGREEMENT] == "agreement"
    assert game[C_OFFER] == 1 and game[C_ROUNDS_DONE] == 1
    assert game.rewards.dtype == np.float64
    assert game.rewards.tolist() == [0.5, 0.5]


def test_deadline_pays_the_no_deal_values(two_actors: Any) -> None:
    game = Game(two_actors, ProtocolConfig(max_rounds=2))
    game.apply(0, 0)  # a: a_wins
    game.apply(1, game.rules.reject_action)
    assert (game[C_ROUND], game[C_PHASE], game[C_PROPOSER]) == (1, PROPOSING, 1)
    assert game.rewards.tolist() == [0.0, 0.0]  # nothing until the end
    game.apply(1, 2)  # b: b_wins
    game.apply(0, game.rules.reject_action)
    assert game[C_PHASE] == ENDED
    assert game[C_END] == DEADLINE
    assert game[C_ROUND] == 1 and game[C_ROUNDS_DONE] == 2
    assert game.rewards.tolist() == [0.25, 0.375]


def test_agreement_in_round_three_is_discounted(two_actors: Any) -> None:
    game = Game(two_actors)
    for round_index in range(3):
        proposer = round_index % 2
        assert (game[C_ROUND], game[C_PROPOSER]) == (round_index, proposer)
        game.apply(proposer, 2 * proposer)  # own best outcome
        game.apply(1 - proposer, game.rules.reject_action)
    assert (game[C_ROUND], game[C_PROPOSER]) == (3, 1)  # rotating: b again
    game.apply(1, 1)  # even split
    game.apply(0, game.rules.accept_action)
    assert game[C_END] == AGREEMENT
    assert game[C_ROUND] == 3
    assert game.rewards.tolist() == [0.9**3 * 0.5, 0.8**3 * 0.5]
    assert game.rewards.tolist() == pytest.approx([0.3645, 0.256], abs=1e-15)


def test_record_and_last_votes_after_rejections(two_actors: Any) -> None:
    game = Game(two_actors, ProtocolConfig(history_length=3))
    record = game.record()
    assert record.rounds_done == 0
    assert record.offers.tolist()[:2] == [-1, -1]
    game.apply(0, 0)
    game.apply(1, game.rules.reject_action)
    assert record.rounds_done == 1
    assert record.offers[0] == 0 and record.proposers[0] == 0
    assert record.votes[0].tolist() == [NO_VOTE, 0]
    assert game.last_votes() == [NO_VOTE, 0]
    assert game.votes() == [NO_VOTE, NO_VOTE]  # the new round has no votes yet
    game.apply(1, 2)
    game.apply(0, game.rules.reject_action)
    assert record.offers[:2].tolist() == [0, 2]
    assert record.proposers[:2].tolist() == [0, 1]
    assert game.last_votes() == [0, NO_VOTE]
    assert record.events(game.rules.actors) == [
        {"round": 0, "proposer": "a", "offer": 0, "votes": {"b": "reject"}},
        {"round": 1, "proposer": "b", "offer": 2, "votes": {"a": "reject"}},
    ]


def test_history_in_the_observation(two_actors: Any) -> None:
    """The observation's history holds past offers' utility to me, latest first."""
    game = Game(two_actors, ProtocolConfig(history_length=3))
    obs = np.zeros((2, game.rules.observation_size), np.float32)
    field = game.rules.fields["history"]
    game.episodes.encode(0, obs)
    assert obs[0, field].tolist() == [-1, -1, -1]
    game.reject_round(0)
    game.apply(1, 2)
    game.apply(0, game.rules.reject_action)
    game.episodes.encode(0, obs)
    assert obs[0, field].tolist() == [0.0, 1.0, -1]  # b_wins, then a_wins, to a
    assert obs[1, field].tolist() == [1.0, 0.0, -1]


def test_offer_needing_only_the_proposer_is_agreed_at_once() -> None:
    scenario = two_actor_scenario(consent=[{"actors": ["a"]}])
    game = Game(scenario)
    game.apply(0, 0)  # a needs nobody else
    assert game[C_PHASE] == ENDED and game[C_END] == AGREEMENT
    assert game.rewards.tolist() == [1.0, 0.0]
    assert game.last_votes() == [NO_VOTE, NO_VOTE]
    # When b proposes, a must vote.
    game = Game(scenario, ProtocolConfig(order=["b", "a"]))
    game.apply(1, 2)
    assert game[C_PHASE] == VOTING
    assert game.voters() == [0]


def test_voters_are_the_required_actors_but_the_proposer() -> None:
    scenario = load_compiled(THREE_ACTORS)
    ids = list(scenario.actors)
    for proposer in range(3):
        order = ids[proposer:] + ids[:proposer]
        for outcome in range(scenario.n_outcomes):
            game = Game(scenario, ProtocolConfig(order=order))
            assert game[C_PROPOSER] == proposer
            game.apply(proposer, outcome)
            expected = [
                i for i in range(3) if scenario.required[i, outcome] and i != proposer
            ]
            assert game.voters() == expected
            if expected:
                assert game[C_PENDING] == len(expected)
                assert game[C_PHASE] == VOTING
            else:
                assert game[C_END] == AGREEMENT


def test_consent_china_never_votes_without_chinese_troops_or_unsc(
    ukraine: Any,
) -> None:
    """Without Chinese troops and without a UN Security Council role, China
    never votes. (With command coalition_un_endorsed, un_commanded or
    two_tier the scenario's security_council rule gives China a P5 vote even
    without troops, so "no Chinese troops" alone is not enough.)"""
    china = ukraine.actor_index("china")
    ids = list(ukraine.actors)
    command = [issue.name for issue in ukraine.issues].index("command")
    coalition = ukraine.issues[command].levels.index("coalition")
    no_troops = ukraine.features["chinese_troops"] == 0
    plain = no_troops & (ukraine.levels[:, command] == coalition)
    assert plain.sum() > 100
    for proposer in range(ukraine.n_actors):
        if proposer == china:
            continue
        game = Game(ukraine, ProtocolConfig(order=ids[proposer:] + ids[:proposer]))
        for outcome in np.flatnonzero(plain):
            game.episodes.start(np.array([0]), np.array([0]))
            game.apply(proposer, int(outcome))
            assert china not in game.voters()
            assert move_kind(game.rules.game, game.episodes.state, 0, china) == (
                MOVE_NONE
            )
    # With Chinese troops China always votes (unless it proposes).
    game = Game(ukraine)  # russia proposes
    for outcome in np.flatnonzero(~no_troops)[:200]:
        game.episodes.start(np.array([0]), np.array([0]))
        game.apply(0, int(outcome))
        assert china in game.voters()


def test_moves_and_masks(two_actors: Any) -> None:
    game = Game(two_actors)
    rules, state, tables = game.rules, game.episodes.state, game.rules.game
    assert move_kind(tables, state, 0, 0) == MOVE_PROPOSE
    assert move_kind(tables, state, 0, 1) == MOVE_NONE
    assert rules.mask_row(state, 0, 0, False) == MASK_PROPOSE
    assert rules.mask_row(state, 0, 1, False) == MASK_NONE
    assert rules.mask_row(state, 0, 1, True) == MASK_WAIT
    game.apply(0, 1)
    assert move_kind(tables, state, 0, 0) == MOVE_NONE  # the proposal counts
    assert move_kind(tables, state, 0, 1) == MOVE_VOTE
    assert rules.mask_row(state, 0, 1, False) == MASK_VOTE
    assert rules.mask_row(state, 0, 0, True) == MASK_WAIT
    for mask in (rules.propose_mask, rules.vote_mask, rules.wait_mask):
        assert not mask.flags.writeable
        assert mask.dtype == np.int8
    assert rules.propose_mask.tolist() == [1, 1, 1, 0, 0, 0]
    assert rules.vote_mask.tolist() == [0, 0, 0, 1, 1, 0]
    assert rules.wait_mask.tolist() == [0, 0, 0, 0, 0, 1]
    assert rules.empty_mask.tolist() == [0] * 6
    game.apply(1, rules.accept_action)
    assert rules.mask_row(state, 0, 1, True) == MASK_NONE  # ended: nothing


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
def test_illegal_actions_are_refused_naming_actor_action_phase(
    two_actors: Any,
    phase_actions: list[tuple[int, int]],
    actor: int,
    action: int,
    message: str,
) -> None:
    game = Game(two_actors)
    for who, what in phase_actions:
        game.apply(who, what)
    before = game.row.copy()
    assert not game.episodes.apply(0, actor, action)
    assert np.array_equal(game.row, before)  # nothing changed
    error = game.rules.illegal_action_error(game.episodes.state, 0, actor, action)
    assert isinstance(error, IllegalActionError)
    assert isinstance(error, ValueError)
    assert message in str(error)
    assert error.actor == ("a", "b")[actor]
    assert error.phase == ("propose", "vote")[game[C_PHASE]]
    assert repr(("a", "b")[actor]) in str(error)


def test_wait_is_legal_only_when_allowed_and_idle(two_actors: Any) -> None:
    game = Game(two_actors)
    state, tables, wait = game.episodes.state, game.rules.game, game.rules.wait_action
    assert not is_legal(tables, state, 0, 1, wait, False)
    assert is_legal(tables, state, 0, 1, wait, True)
    assert not is_legal(tables, state, 0, 0, wait, True)
    before = game.row.copy()
    assert not game.episodes.apply(0, 1, wait)  # WAIT changes nothing
    assert np.array_equal(game.row, before)


def test_end_illegal_penalizes_the_offenders_only(two_actors: Any) -> None:
    game = Game(two_actors, ProtocolConfig(illegal_penalty=-2.5))
    game.episodes.end_illegal(0, [1])
    assert game[C_PHASE] == ENDED
    assert game[C_END] == ILLEGAL
    assert game.rewards.tolist() == [0.0, -2.5]


def test_a_copied_state_row_plays_on_by_itself(two_actors: Any) -> None:
    rules = Rules(two_actors)
    episodes = Episodes(rules, [None, None], 2)
    episodes.start(np.array([0]), np.array([9]))
    assert episodes.apply(0, 0, 1)
    episodes.state[1] = episodes.state[0]  # snapshot into slot 1
    assert episodes.apply(0, 1, rules.reject_action)
    assert episodes.state[1, C_PHASE] == VOTING and episodes.state[1, C_ROUND] == 0
    assert episodes.state[0, C_ROUND] == 1
    assert episodes.apply(1, 1, rules.accept_action)
    assert episodes.state[1, C_END] == AGREEMENT
    assert episodes.state[0, C_END] == RUNNING
    assert episodes.rewards[1].tolist() == [0.5, 0.5]
    assert episodes.rewards[0].tolist() == [0.0, 0.0]


def test_discount_powers_table() -> None:
    discount = np.array([0.9, 0.97, 1.0])
    table = discount_powers(discount, 5)
    assert table.shape == (5, 3)
    for r in range(5):
        assert table[r].tolist() == [0.9**r, 0.97**r, 1.0]


# ---------------------------------------------------------------- randomness
def test_random_proposers_follow_the_documented_hash(ukraine: Any) -> None:
    config = ProtocolConfig(proposer="random", max_rounds=6)
    game = Game(ukraine, config)
    for key in [*range(200), 2**40 + 7, 2**63 - 1]:
        game.episodes.start(np.array([0]), np.array([key]))
        for r in range(config.max_rounds):
            assert game[C_ROUND] == r
            assert game[C_PROPOSER] == expected_random_proposer(ukraine, key, r)
            if r + 1 < config.max_rounds:
                game.reject_round()


def test_random_proposers_follow_the_recognition_probabilities(ukraine: Any) -> None:
    rules = Rules(ukraine, ProtocolConfig(proposer="random"))
    episodes = Episodes(rules, [None] * ukraine.n_actors, 20_000)
    episodes.start(np.arange(20_000), np.arange(20_000) * 7919 + 3)
    counts = np.bincount(episodes.state[:, C_PROPOSER], minlength=ukraine.n_actors)
    p = np.asarray(ukraine.recognition, np.float64)
    p /= p.sum()
    sigma = np.sqrt(20_000 * p * (1 - p))
    assert np.all(np.abs(counts - 20_000 * p) < 5 * sigma + 1)


def test_zero_recognition_is_never_drawn() -> None:
    scenario = dataclasses.replace(
        load_compiled(THREE_ACTORS), recognition=np.array([0.5, 0.0, 0.5])
    )
    rules = Rules(scenario, ProtocolConfig(proposer="random"))
    episodes = Episodes(rules, [None] * 3, 500)
    episodes.start(np.arange(500), np.arange(500))
    assert set(episodes.state[:, C_PROPOSER].tolist()) == {0, 2}


def test_breakdown_and_proposer_draws_are_pinned(ukraine: Any) -> None:
    """After a failed round r: the breakdown draw (r, purpose 1); then round
    r + 1's proposer (r + 1, purpose 0)."""
    breakdown = 0.2
    config = ProtocolConfig(proposer="random", breakdown_prob=breakdown, max_rounds=50)
    game = Game(ukraine, config)
    ends = set()
    for key in range(60):
        game.episodes.start(np.array([0]), np.array([key]))
        assert game[C_PROPOSER] == expected_random_proposer(ukraine, key, 0)
        while game[C_PHASE] != ENDED:
            r = game[C_ROUND]
            game.reject_round(0)  # every actor must consent to outcome 0
            if game[C_PHASE] == ENDED:
                if game[C_END] == BREAKDOWN:
                    assert unit(key, r, 1) < breakdown
                else:
                    assert game[C_END] == DEADLINE
                    assert r + 1 == config.max_rounds
                ends.add(game[C_END])
                break
            assert not unit(key, r, 1) < breakdown
            assert game[C_PROPOSER] == expected_random_proposer(ukraine, key, r + 1)
    assert BREAKDOWN in ends


def test_no_breakdown_draw_before_the_deadline_check(two_actors: Any) -> None:
    """A rejected last round is a deadline even if the breakdown draw would hit."""
    config = ProtocolConfig(max_rounds=1, breakdown_prob=0.999999)
    game = Game(two_actors, config, key=3)
    game.reject_round(0)
    assert game[C_END] == DEADLINE


def test_rotating_proposers_do_not_depend_on_the_key() -> None:
    scenario = load_compiled(THREE_ACTORS)
    config = ProtocolConfig(max_rounds=7, order=["z", "x", "y"])
    for key in (0, 7, 2**62):
        game = Game(scenario, config, key=key)
        seen = []
        while game[C_PHASE] != ENDED:
            seen.append(game[C_PROPOSER])
            game.reject_round(scenario.n_outcomes - 1)
        assert seen == [2, 0, 1, 2, 0, 1, 2]
        assert game[C_END] == DEADLINE


def test_breakdown_ends_with_no_deal(two_actors: Any) -> None:
    game = Game(two_actors, ProtocolConfig(breakdown_prob=0.999999), key=3)
    assert unit(3, 0, 1) < 0.999999
    game.apply(0, 0)
    game.apply(1, game.rules.reject_action)
    assert game[C_END] == BREAKDOWN
    assert game[C_ROUND] == 0
    assert game.rewards.tolist() == [0.25, 0.375]


def test_breakdown_frequency(two_actors: Any) -> None:
    p = 0.3
    rules = Rules(two_actors, ProtocolConfig(breakdown_prob=p))
    size = 5000
    episodes = Episodes(rules, [None, None], size)
    episodes.start(np.arange(size), np.arange(size) + 10**6)
    for slot in range(size):
        assert episodes.apply(slot, 0, 0)
        assert episodes.apply(slot, 1, rules.reject_action)
    broke = int((episodes.state[:, C_END] == BREAKDOWN).sum())
    assert abs(broke - p * size) < 5 * np.sqrt(size * p * (1 - p))


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
    unit_floats = st.floats(0, 1, allow_nan=False)
    weights = [draw(st.integers(1, 10)) for _ in range(n_actors)]
    actors = []
    for a in range(n_actors):
        terms = [
            {
                "weight": draw(st.integers(1, 5)),
                "issue": issue["name"],
                "values": [draw(unit_floats) for _ in issue["levels"]],
            }
            for issue in issues
        ]
        actors.append(
            {
                "id": f"actor{a}",
                "name": f"Actor {a}",
                "no_deal": draw(unit_floats),
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


@settings(max_examples=60, deadline=None)
@given(
    scenario=small_scenarios(),
    max_rounds=st.integers(1, 6),
    proposer=st.sampled_from(["rotating", "random"]),
    breakdown=st.sampled_from([0.0, 0.3]),
    history_length=st.integers(0, 3),
    shuffle=st.randoms(use_true_random=False),
    key=st.integers(0, 2**63 - 1),
    policy_seed=st.integers(0, 2**32 - 1),
)
def test_random_legal_play_respects_the_rules(
    scenario: Any,
    max_rounds: int,
    proposer: str,
    breakdown: float,
    history_length: int,
    shuffle: Any,
    key: int,
    policy_seed: int,
) -> None:
    order = list(scenario.actors)
    shuffle.shuffle(order)
    config = ProtocolConfig(
        max_rounds=max_rounds,
        proposer=proposer,
        breakdown_prob=breakdown,
        history_length=history_length,
        order=order,
    )
    game = Game(scenario, config, key=key)
    rules, n = game.rules, scenario.n_actors
    rotation = [scenario.actors.index(a) for a in order]
    policy = np.random.default_rng(policy_seed)
    utility = scenario.utility.astype(np.float64)
    no_deal = scenario.no_deal.astype(np.float64)
    state, tables = game.episodes.state, rules.game
    steps = 0
    while game[C_PHASE] != ENDED:
        r = game[C_ROUND]
        assert r < max_rounds
        if proposer == "rotating":
            assert game[C_PROPOSER] == rotation[r % n]
        else:
            assert game[C_PROPOSER] == expected_random_proposer(scenario, key, r)
        movers = [i for i in range(n) if move_kind(tables, state, 0, i) != MOVE_NONE]
        assert movers == [game[C_PROPOSER]]
        outcome = int(policy.integers(scenario.n_outcomes))
        game.apply(movers[0], outcome)
        expected_voters = [
            i for i in range(n) if scenario.required[i, outcome] and i != movers[0]
        ]
        accepted = True
        if game[C_PHASE] == VOTING:
            assert game.voters() == expected_voters
            for voter in expected_voters:
                legal = np.flatnonzero(
                    rules.masks[rules.mask_row(state, 0, voter, False)]
                )
                assert legal.tolist() == [rules.accept_action, rules.reject_action]
                action = int(policy.choice(legal))
                accepted &= action == rules.accept_action
                game.apply(voter, action)
        else:
            assert expected_voters == []
        steps += 1
        assert steps <= max_rounds
        if accepted:
            assert game[C_END] == AGREEMENT and game[C_ROUND] == r
            expected = [
                float(scenario.discount[i]) ** r * float(utility[i, outcome])
                for i in range(n)
            ]
            assert game.rewards.tolist() == expected
        elif r + 1 == max_rounds:
            assert game[C_END] == DEADLINE
        elif breakdown > 0 and unit(key, r, 1) < breakdown:
            assert game[C_END] == BREAKDOWN and game[C_ROUND] == r
        else:
            assert game[C_PHASE] == PROPOSING and game[C_ROUND] == r + 1
    rewards = game.rewards
    lowest = np.minimum(
        no_deal,
        discount_powers(scenario.discount, max_rounds)[-1] * utility.min(axis=1),
    )
    highest = np.maximum(no_deal, utility.max(axis=1))
    assert np.all(rewards >= lowest - 1e-12)
    assert np.all(rewards <= highest + 1e-12)
    assert np.all(rewards <= 1.0)
    if game[C_END] != AGREEMENT:
        assert game[C_END] in {DEADLINE, BREAKDOWN}
        assert rewards.tolist() == no_deal.tolist()
