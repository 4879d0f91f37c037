"""Exploring starts of training episodes (``engine.rules.exploring_starts``).

And exploring drafts (``engine.actions.exploring_drafts``): an ``issues``
proposal started at a drawn outcome's first levels.

A moved slot is round r's subgame: that round's proposer, the deadline as
before, and an agreement pays ``delta_i^r u_i`` (closed form here).
"""

from __future__ import annotations

import numpy as np
import pytest

from peacegame.engine import Episodes, ProtocolConfig, Rules, episode_seeds
from peacegame.engine.actions import (
    D_DEPTH,
    D_HI,
    D_LO,
    ILLEGAL,
    SUBSTEP,
    X_LEVELS,
    exploring_drafts,
    fill_mask,
    translate,
)
from peacegame.engine.config import AGREEMENT, ENDED, VOTING
from peacegame.engine.randomness import DRAW_START, draw_below, draw_unit
from peacegame.engine.rules import (
    C_END,
    C_KEY,
    C_OFFER,
    C_PENDING,
    C_PHASE,
    C_PROPOSER,
    C_ROUND,
    backward_curriculum,
    col_voters,
    exploring_starts,
    proposer_of_round,
    start_round_units,
)
from peacegame.engine.tables import nash_of
from peacegame.engine.vector import step_all_in
from peacegame.scenario import load_compiled


def _started(rules: Rules, size: int, share: float, first: int = 0) -> Episodes:
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    episodes.start(slots, episode_seeds(7, np.arange(first, first + size)))
    exploring_starts(
        rules.game,
        episodes.state,
        episodes.rewards,
        slots,
        share,
        np.zeros(size, np.int64),
        0.0,
    )
    return episodes


@pytest.mark.parametrize("proposer", ["rotating", "random"])
def test_moved_slots_are_the_subgame_of_their_round(proposer):
    scenario = load_compiled(None)
    rules = Rules(scenario, ProtocolConfig(proposer=proposer, max_rounds=30))
    size = 512
    state = _started(rules, size, 1.0).state
    rounds = state[:, C_ROUND]
    assert rounds.min() >= 0 and rounds.max() < 30
    assert len(set(rounds.tolist())) == 30  # every round drawn at B = 512
    if proposer == "rotating":  # actor order: round r's proposer is r mod n
        assert (state[:, C_PROPOSER] == rounds % rules.n_actors).all()
    else:  # the recognition draw of round r, not round 0's
        drawn = [
            proposer_of_round(rules.game, row[C_KEY], row[C_ROUND]) for row in state
        ]
        first = [proposer_of_round(rules.game, row[C_KEY], 0) for row in state]
        assert state[:, C_PROPOSER].tolist() == drawn
        assert drawn != first
    # Nobody moved with share 0; about half with share 0.5 (binomial, 6 sd).
    assert (_started(rules, size, 0.0).state[:, C_ROUND] == 0).all()
    moved = (_started(rules, size, 0.5).state[:, C_ROUND] > 0).sum()
    assert abs(moved - size * 0.5 * 29 / 30) < 6 * np.sqrt(size * 0.25)


def test_the_same_episodes_start_in_the_same_rounds_at_any_batch_size():
    rules = Rules(load_compiled(None), ProtocolConfig(proposer="random"))
    whole = _started(rules, 64, 0.7).state
    parts = np.concatenate(
        [_started(rules, 16, 0.7, first=k).state for k in range(0, 64, 16)]
    )
    np.testing.assert_array_equal(whole, parts)


def test_an_agreement_in_a_moved_slot_pays_the_discount_of_its_round():
    scenario = load_compiled(None)
    rules = Rules(scenario, ProtocolConfig(proposer="random", max_rounds=30))
    size = 256
    episodes = _started(rules, size, 1.0)
    state, n = episodes.state, rules.n_actors
    rounds, proposers = state[:, C_ROUND].copy(), state[:, C_PROPOSER].copy()
    nash = int(nash_of(scenario))  # in the zone: every voter accepts it
    iface = rules.interface
    drafts = iface.new_drafts(size)
    moved = np.zeros((size, n), np.bool_)
    offenders = np.zeros((size, n), np.uint8)
    propose = np.zeros((size, n), np.int64)
    propose[np.arange(size), proposers] = nash  # outcome actions: propose k
    accept = np.full((size, n), iface.accept_action, np.int64)
    for actions in (propose, accept):  # the proposal, then every vote
        step_all_in(episodes, drafts, actions, moved, offenders)
    assert (state[:, C_END] == AGREEMENT).all()
    discount = np.asarray(scenario.discount, np.float64)
    utility = np.asarray(scenario.utility64, np.float64)[:, nash]
    expected = discount[None, :] ** rounds[:, None] * utility[None, :]
    np.testing.assert_allclose(episodes.rewards, expected, rtol=1e-6)


def test_backward_curriculum_moves_the_earliest_round_from_the_deadline_to_0():
    ids = np.array([0, 250, 500, 750, 999, 1000, 5000])
    earliest = backward_curriculum(ids, 50, 1000)
    # floor(49 * (1 - e / 1000)), then 0 from episode 1000 on.
    assert earliest.tolist() == [49, 36, 24, 12, 0, 0, 0]
    assert (backward_curriculum(ids, 50, 0) == 0).all()  # no curriculum


@pytest.mark.parametrize("lo", [0, 20, 29])
def test_moved_slots_start_uniformly_from_the_earliest_round(lo):
    rules = Rules(load_compiled(None), ProtocolConfig(max_rounds=30))
    size = 1024
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    episodes.start(slots, episode_seeds(7, slots))
    earliest = np.full(size, lo, np.int64)
    exploring_starts(
        rules.game, episodes.state, episodes.rewards, slots, 1.0, earliest, 0.0
    )
    rounds = episodes.state[:, C_ROUND]
    assert set(rounds.tolist()) == set(range(lo, 30))  # every round from lo on
    counts = np.bincount(rounds - lo, minlength=30 - lo)
    expected = size / (30 - lo)  # uniform: each count within 6 sd
    assert np.abs(counts - expected).max() < 6 * np.sqrt(expected)


def _offered(rules: Rules, size: int, first: int, share: float) -> Episodes:
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    episodes.start(slots, episode_seeds(3, np.arange(first, first + size)))
    exploring_starts(
        rules.game,
        episodes.state,
        episodes.rewards,
        slots,
        share,
        np.zeros(size, np.int64),
        1.0,
    )
    return episodes


def test_offer_starts_put_a_uniformly_drawn_outcome_to_the_vote():
    scenario = load_compiled("textbook/rubinstein")
    rules = Rules(scenario, ProtocolConfig(max_rounds=50))
    size = 2100
    state = _offered(rules, size, 0, 0.5).state
    n_outcomes = scenario.utility.shape[1]
    # Every slot waits for its one voter, the other player, on a drawn offer.
    assert (state[:, C_PHASE] == VOTING).all()
    assert (state[:, C_PENDING] == 1).all()
    voters = state[:, col_voters(2) : col_voters(2) + 2]
    assert (voters[np.arange(size), state[:, C_PROPOSER]] == 0).all()
    assert (voters.sum(axis=1) == 1).all()
    # The proposer is its round's (rotating: round mod 2); some rounds moved.
    assert (state[:, C_PROPOSER] == state[:, C_ROUND] % 2).all()
    assert (state[:, C_ROUND] > 0).any() and (state[:, C_ROUND] == 0).any()
    counts = np.bincount(state[:, C_OFFER], minlength=n_outcomes)
    expected = size / n_outcomes  # uniform over the 21 splits, within 6 sd
    assert np.abs(counts - expected).max() < 6 * np.sqrt(expected)
    # The same episodes get the same offers at any batch size.
    parts = np.concatenate(
        [_offered(rules, 700, k, 0.5).state for k in range(0, size, 700)]
    )
    np.testing.assert_array_equal(state, parts)


def test_start_round_units_divide_by_the_discount_of_the_start_round():
    scenario = load_compiled("textbook/rubinstein")
    rules = Rules(scenario, ProtocolConfig(max_rounds=50))
    size = 512
    episodes = _offered(rules, size, 0, 1.0)
    state, n = episodes.state, rules.n_actors
    start = state[:, C_ROUND].copy()
    iface = rules.interface
    drafts = iface.new_drafts(size)
    moved = np.zeros((size, n), np.bool_)
    offenders = np.zeros((size, n), np.uint8)
    # Even slots' voter accepts (agreement in the start round); odd slots'
    # rejects, and the next proposer's offer of the 50-50 split is accepted.
    vote = np.where(np.arange(size) % 2 == 0, iface.accept_action, iface.reject_action)
    last = start == 49  # a rejection there is the deadline
    steps = [np.repeat(vote[:, None], n, axis=1)]
    half = int(np.flatnonzero(scenario.utility[0] == 0.5)[0])
    steps.append(np.full((size, n), half, np.int64))
    steps.append(np.full((size, n), iface.accept_action, np.int64))
    for actions in steps:
        step_all_in(episodes, drafts, actions, moved, offenders)
    assert (state[:, C_PHASE] == ENDED).all()
    units = np.empty((size, n))
    slots = np.arange(size, dtype=np.int64)
    start_round_units(rules.game, state, episodes.rewards, slots, units)
    discount = np.asarray(scenario.discount, np.float64)
    utility = np.asarray(scenario.utility, np.float64)  # as the kernel pays
    agreed_now = np.arange(size) % 2 == 0
    # Agreement in the start round: the utilities themselves.
    k = state[agreed_now, C_OFFER]
    np.testing.assert_allclose(units[agreed_now], utility[:, k].T, rtol=1e-12)
    # Agreement one round later: one round's discount; the deadline: d = 0.
    later = ~agreed_now & ~last
    expected = discount[None, :] * 0.5
    np.testing.assert_allclose(
        units[later], np.broadcast_to(expected, units[later].shape), rtol=1e-12
    )
    assert (units[~agreed_now & last] == 0.0).all()
    # The rewards themselves are the game's: delta^round * u.
    np.testing.assert_allclose(
        episodes.rewards[later],
        discount[None, :] ** (start[later, None] + 1) * 0.5,
        rtol=1e-12,
    )


def _uniform(rules: Rules, size: int, first: int, share: float, offers: float):
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    keys = episode_seeds(5, np.arange(first, first + size))
    episodes.start(slots, keys)
    zeros = np.zeros(size, np.int64)
    exploring_starts(
        rules.game, episodes.state, episodes.rewards, slots, share, zeros, offers, True
    )
    return episodes, keys


@pytest.mark.parametrize("share, offers", [(1.0, 0.0), (0.0, 1.0), (0.5, 0.5)])
def test_a_uniform_proposer_is_drawn_uniformly_in_every_exploring_start(share, offers):
    # Recognition 0.5 / 0.3 / 0.2: p3 is round r's proposer one time in five.
    scenario = load_compiled("textbook/baron-ferejohn-fine")
    rules = Rules(scenario, ProtocolConfig(proposer="random", max_rounds=50))
    size = 3000
    episodes, keys = _uniform(rules, size, 0, share, offers)
    state = episodes.state
    rounds = state[:, C_ROUND]
    protocol = np.array(
        [proposer_of_round(rules.game, k, r) for k, r in zip(keys, rounds, strict=True)]
    )
    # Explored: moved (to any round, 0 included) or put to a vote (counters 0, 2).
    moved = np.array([draw_unit(k, 0, DRAW_START) < share for k in keys])
    explored = moved | (state[:, C_PHASE] == VOTING)
    if share == 1.0 or offers == 1.0:  # every slot explores (round 0 included)
        drawn = state[:, C_PROPOSER]
    else:  # the other slots, in round 0's proposal step, keep its proposer
        untouched = ~explored
        assert untouched.sum() > size // 8
        assert (state[untouched, C_PROPOSER] == protocol[untouched]).all()
        drawn = state[explored, C_PROPOSER]
    counts = np.bincount(drawn, minlength=3)
    expected = drawn.size / 3  # uniform, each count within 6 sd
    assert np.abs(counts - expected).max() < 6 * np.sqrt(expected * 2 / 3)
    # The proposer of an offer start is the one that proposed the offer.
    voting = state[:, C_PHASE] == VOTING
    voters = state[:, col_voters(3) : col_voters(3) + 3]
    assert (voters[voting, state[voting, C_PROPOSER]] == 0).all()
    # The same episodes draw the same proposers at any batch size.
    parts = np.concatenate(
        [_uniform(rules, 1000, k, share, offers)[0].state for k in range(0, size, 1000)]
    )
    np.testing.assert_array_equal(state, parts)


def test_a_uniform_proposer_leaves_every_other_draw_as_it_was():
    scenario = load_compiled("textbook/baron-ferejohn-fine")
    rules = Rules(scenario, ProtocolConfig(proposer="random", max_rounds=50))
    size = 4096
    uniform = _uniform(rules, size, 0, 0.5, 0.5)[0].state
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    episodes.start(slots, episode_seeds(5, slots))
    zeros = np.zeros(size, np.int64)
    exploring_starts(
        rules.game, episodes.state, episodes.rewards, slots, 0.5, zeros, 0.5, False
    )
    protocol = episodes.state
    np.testing.assert_array_equal(uniform[:, C_ROUND], protocol[:, C_ROUND])
    np.testing.assert_array_equal(uniform[:, C_PHASE], protocol[:, C_PHASE])
    np.testing.assert_array_equal(uniform[:, C_OFFER], protocol[:, C_OFFER])
    # p3 proposes first in 0.2 of the protocol's episodes; uniformly drawn in
    # the three quarters that explore: 0.75 / 3 + 0.25 * 0.2 = 0.30 (>= 4 sd).
    p3 = lambda s: (s[:, C_PROPOSER] == 2).mean()  # noqa: E731
    assert p3(protocol) < 0.24 < 0.27 < p3(uniform)


# --------------------------------------------------------------- drafts
def _drafted(
    rules: Rules, size: int, share: float, first: int = 0, proposes: bool = True
) -> tuple[Episodes, np.ndarray]:
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    episodes.start(slots, episode_seeds(11, np.arange(first, first + size)))
    drafts = rules.interface.new_drafts(size)
    exploring_drafts(
        rules.game,
        rules.interface.tables,
        episodes.state,
        drafts,
        slots,
        share,
        np.full((size, rules.n_actors), proposes, np.bool_),
    )
    return episodes, drafts


@pytest.mark.parametrize(
    "scenario_name",
    ["textbook/baron-ferejohn-fine", None],  # 2 issues; default: 6
)
def test_exploring_drafts_start_a_proposal_at_a_drawn_outcome_prefix(scenario_name):
    scenario = load_compiled(scenario_name)
    rules = Rules(scenario, ProtocolConfig(proposer="random", actions="issues"))
    iface = rules.interface
    grid = iface.tables[X_LEVELS]  # grid position == outcome index
    n_issues, n_outcomes = grid.shape[1], scenario.n_outcomes
    size = 1200
    episodes, drafts = _drafted(rules, size, 0.5)
    keys = episodes.state[:, C_KEY]
    chosen = np.array([draw_unit(int(k), 5, DRAW_START) < 0.5 for k in keys])
    depth = drafts[:, D_DEPTH]
    # The drawn share starts part-drafted, the others fresh (6 sd).
    assert ((depth > 0) == chosen).all()
    assert abs(chosen.sum() - size / 2) < 6 * np.sqrt(size / 4)
    assert set(depth[chosen].tolist()) == set(range(1, n_issues))
    fresh = ~chosen
    assert (drafts[fresh, D_LO] == 0).all() and (
        drafts[fresh, D_HI] == n_outcomes
    ).all()
    mask = np.zeros(iface.n_actions, np.int8)
    rng = np.random.default_rng(0)
    for slot in np.flatnonzero(chosen):
        key, d = int(keys[slot]), int(depth[slot])
        outcome = draw_below(key, 6, DRAW_START, n_outcomes)
        assert d == 1 + draw_below(key, 7, DRAW_START, n_issues - 1)
        # [lo, hi): exactly the outcomes that share the drawn outcome's levels.
        same = (grid[:, :d] == grid[outcome, :d]).all(axis=1)
        lo, hi = drafts[slot, D_LO], drafts[slot, D_HI]
        assert np.flatnonzero(same).tolist() == list(range(lo, hi))
        # Finishing it by masked random levels proposes an outcome with them.
        proposer = int(episodes.state[slot, C_PROPOSER])
        where = (rules.game, iface.tables, episodes.state, drafts, slot, proposer)
        while True:
            fill_mask(*where, False, mask)
            level = int(rng.choice(np.flatnonzero(mask)))
            concrete = translate(*where, level, False)
            assert concrete != ILLEGAL
            if concrete != SUBSTEP:
                break
        assert 0 <= concrete < n_outcomes and same[concrete]
    # The same episodes get the same drafts at any batch size.
    parts = np.concatenate(
        [_drafted(rules, 300, 0.5, first=k)[1] for k in range(0, size, 300)]
    )
    np.testing.assert_array_equal(_drafted(rules, size, 0.5)[1], parts)


def test_exploring_drafts_leave_other_proposers_interfaces_and_votes_alone():
    scenario = load_compiled("textbook/baron-ferejohn-fine")
    issues = Rules(scenario, ProtocolConfig(proposer="random", actions="issues"))
    fresh = issues.interface.new_drafts(64)
    # Nobody with share 0, nor where the proposer is not the interface's.
    np.testing.assert_array_equal(_drafted(issues, 64, 0.0)[1], fresh)
    np.testing.assert_array_equal(_drafted(issues, 64, 1.0, proposes=False)[1], fresh)
    # Every proposal with share 1; none at a vote start.
    assert (_drafted(issues, 64, 1.0)[1][:, D_DEPTH] == 1).all()
    episodes = Episodes(issues, [None] * 3, 64)
    slots = np.arange(64, dtype=np.int64)
    episodes.start(slots, episode_seeds(11, slots))
    exploring_starts(
        issues.game,
        episodes.state,
        episodes.rewards,
        slots,
        0.0,
        np.zeros(64, np.int64),
        1.0,
    )
    assert (episodes.state[:, C_PHASE] == VOTING).all()
    drafts = issues.interface.new_drafts(64)
    exploring_drafts(
        issues.game,
        issues.interface.tables,
        episodes.state,
        drafts,
        slots,
        1.0,
        np.ones((64, 3), np.bool_),
    )
    np.testing.assert_array_equal(drafts, fresh)
    # Other interfaces have no drafts to start.
    for name in ("outcome", "utility"):
        rules = Rules(scenario, ProtocolConfig(proposer="random", actions=name))
        np.testing.assert_array_equal(
            _drafted(rules, 64, 1.0)[1], rules.interface.new_drafts(64)
        )
