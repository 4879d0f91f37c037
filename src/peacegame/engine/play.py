"""Playing episodes: the scripted strategies' turns over the rules (compiled).

:func:`scripted_turns` plays every scripted move of one slot until the episode
ends or an actor driven from outside (kind ``EXTERNAL``) must move; the batch
runner, tournaments and the vector env call it, and a scripted policy object
calls :func:`policy_move` for its own actor. Both take their moves from
:func:`~peacegame.engine.strategies.scripted_move` and fold completed rounds
into the strategies' memory with :func:`fold_rounds`, so a strategy sees the
same history, and plays the same, in every engine.

``game`` is :attr:`peacegame.engine.tables.Rules.game` and ``plan``
:attr:`peacegame.engine.tables.Plan.tables`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from peacegame.engine.config import ENDED, PROPOSING
from peacegame.engine.rules import (
    C_PHASE,
    C_PROPOSER,
    C_ROUNDS_DONE,
    G_INTS,
    G_UTILITY,
    I_ACTORS,
    I_ROUNDS,
    MOVE_VOTE,
    NO_REFCOUNT,
    apply_action,
    col_record_offers,
    col_record_proposers,
    col_record_votes,
    move_kind,
    reset_slot,
)
from peacegame.engine.strategies import (
    EXTERNAL,
    P_KIND,
    PL_I,
    PL_USE_MODEL,
    count_round,
    remember_offer,
    scripted_move,
)


@njit(cache=True, inline="always")
def fold_rounds(game, plan, state, slot, memory, counts, start, only_actor) -> int:
    """Fold the completed rounds from ``start`` into memory and counts.

    ``memory`` is ``[n_actors, 2]`` and ``counts`` ``[n_actors, n_levels]``;
    ``only_actor`` updates only that actor's memory (a policy object), or, at
    -1, every scripted actor's (the batch engine).

    Returns:
        The number of completed rounds (the next ``start``).
    """
    ints = game[G_INTS]
    row = state[slot]
    n = ints[I_ACTORS]
    rounds = ints[I_ROUNDS]
    done = row[C_ROUNDS_DONE]
    offers = col_record_offers(n)
    proposers = col_record_proposers(n, rounds)
    votes = col_record_votes(n, rounds)
    for r in range(start, done):
        offer = row[offers + r]
        proposer = row[proposers + r]
        for a in range(n):
            if only_actor < 0 or a == only_actor:
                remember_offer(plan, game[G_UTILITY], memory[a], a, proposer, offer)
        if plan[PL_USE_MODEL]:
            first = votes + r * n
            cast = row[first : first + n]
            count_round(ints, counts, proposer, offer, cast)
    return done


@njit(cache=True)
def start_episodes(game, state, rewards, memory, counts, seen, slots, keys):
    """Reset ``slots`` for the episodes keyed ``keys``, memories cleared."""
    for s in range(slots.shape[0]):
        slot = slots[s]
        reset_slot(game, state, rewards, slot, keys[s])
        memory[slot] = np.nan
        counts[slot] = 0
        seen[slot] = 0


@njit(cache=True, **NO_REFCOUNT)
def scripted_turns(game, plan, state, rewards, memory, counts, seen, slot) -> int:
    """Play ``slot``'s scripted moves until it ends or an external actor moves.

    The next mover is the round's proposer, then each voter in actor order
    (votes are simultaneous: no scripted vote depends on another's).

    Returns:
        The number of decisions taken (proposals plus votes).
    """
    row = state[slot]
    n = game[G_INTS][I_ACTORS]
    kinds = plan[PL_I][:, P_KIND]
    slot_memory, slot_counts = memory[slot], counts[slot]
    decisions = 0
    while True:
        seen[slot] = fold_rounds(
            game, plan, state, slot, slot_memory, slot_counts, seen[slot], -1
        )
        phase = row[C_PHASE]
        if phase == ENDED:
            return decisions
        actor = -1
        if phase == PROPOSING:
            if kinds[row[C_PROPOSER]] != EXTERNAL:
                actor = row[C_PROPOSER]
        else:
            for i in range(n):
                if (
                    kinds[i] != EXTERNAL
                    and move_kind(game, state, slot, i) == MOVE_VOTE
                ):
                    actor = i
                    break
        if actor < 0:  # an external actor's move is due
            return decisions
        action = scripted_move(
            game, plan, slot_memory[actor], slot_counts, state, slot, actor
        )
        apply_action(game, state, rewards, slot, actor, action)
        decisions += 1


@njit(cache=True)
def play_episodes(game, plan, state, rewards, memory, counts, seen, keys) -> int:
    """Play one all-scripted episode per key, in slots ``0 .. len(keys) - 1``.

    Returns:
        The number of decisions taken.
    """
    slots = np.arange(keys.shape[0])
    start_episodes(game, state, rewards, memory, counts, seen, slots, keys)
    decisions = 0
    for slot in range(keys.shape[0]):
        decisions += scripted_turns(
            game, plan, state, rewards, memory, counts, seen, slot
        )
    return decisions


@njit(cache=True, **NO_REFCOUNT)
def policy_move(game, plan, memory, counts, seen, state, slot, actor) -> int:
    """The action of a scripted policy object playing ``actor`` in ``slot``.

    ``memory`` (``[n_actors, 2]``), ``counts`` and ``seen`` (``int64[1]``) are
    the policy's own; the rounds completed since its last move are folded in
    first. Returns a proposal, ACCEPT, REJECT, or WAIT when it has no move.
    """
    seen[0] = fold_rounds(game, plan, state, slot, memory, counts, seen[0], actor)
    return scripted_move(game, plan, memory[actor], counts, state, slot, actor)
