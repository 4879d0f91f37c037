"""Exploring starts of training episodes (``engine.rules.exploring_starts``).

A moved slot is round r's subgame: that round's proposer, the deadline as
before, and an agreement pays ``delta_i^r u_i`` (closed form here).
"""

from __future__ import annotations

import numpy as np
import pytest

from peacegame.engine import Episodes, ProtocolConfig, Rules, episode_seeds
from peacegame.engine.config import AGREEMENT
from peacegame.engine.rules import (
    C_END,
    C_KEY,
    C_PROPOSER,
    C_ROUND,
    exploring_starts,
    proposer_of_round,
)
from peacegame.engine.tables import nash_of
from peacegame.engine.vector import step_all
from peacegame.scenario import load_compiled


def _started(rules: Rules, size: int, share: float, first: int = 0) -> Episodes:
    episodes = Episodes(rules, [None] * rules.n_actors, size)
    slots = np.arange(size, dtype=np.int64)
    episodes.start(slots, episode_seeds(7, np.arange(first, first + size)))
    exploring_starts(rules.game, episodes.state, slots, share)
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
        step_all(
            rules.game,
            iface.tables,
            episodes.plan.tables,
            state,
            episodes.rewards,
            episodes.memory,
            episodes.counts,
            episodes.seen,
            drafts,
            actions,
            moved,
            offenders,
        )
    assert (state[:, C_END] == AGREEMENT).all()
    discount = np.asarray(scenario.discount, np.float64)
    utility = np.asarray(scenario.utility64, np.float64)[:, nash]
    expected = discount[None, :] ** rounds[:, None] * utility[None, :]
    np.testing.assert_allclose(episodes.rewards, expected, rtol=1e-6)
