"""Playing episodes: the scripted strategies' turns over the rules (compiled).

:func:`scripted_turns` plays every scripted move of one slot until the episode
ends or an actor driven from outside (kind ``EXTERNAL``) must move; the batch
runner, tournaments and the vector env call it, and a scripted policy object
calls :func:`policy_move` for its own actor. Both fold completed rounds into
the strategies' memory with :func:`fold_rounds`, so a strategy sees the same
history in every engine.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from peacegame.engine.config import ENDED, PROPOSING, VOTING
from peacegame.engine.rules import (
    C_KEY,
    C_OFFER,
    C_PHASE,
    C_PROPOSER,
    C_ROUND,
    C_ROUNDS_DONE,
    F_NO_DEAL,
    I_ACTORS,
    I_OUTCOMES,
    I_ROUNDS,
    MOVE_PROPOSE,
    MOVE_VOTE,
    col_record_offers,
    col_record_proposers,
    col_record_votes,
    move_kind,
    next_voter,
    propose,
    reset_slot,
    vote,
)
from peacegame.engine.strategies import (
    EXTERNAL,
    P_KIND,
    choose_proposal,
    choose_vote,
    count_round,
    remember_offer,
)


@njit(cache=True)
def fold_rounds(
    state,
    ints,
    utility,
    level_columns,
    plan_i,
    memory,
    counts,
    slot,
    start,
    only_actor,
    use_model,
) -> int:
    """Fold the completed rounds from ``start`` into memory and counts.

    ``only_actor`` updates only that actor's memory (a policy object), or, at
    -1, every scripted actor's (the batch engine).

    Returns:
        The number of completed rounds (the next ``start``).
    """
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
                remember_offer(plan_i[a], utility[a], memory[a], a, proposer, offer)
        if use_model:
            count_round(
                level_columns,
                counts,
                proposer,
                offer,
                row[votes + r * n : votes + (r + 1) * n],
            )
    return done


@njit(cache=True)
def start_episodes(state, rewards, memory, counts, seen, ints, floats, slots, keys):
    """Reset ``slots`` for the episodes keyed ``keys``, memories cleared."""
    for s in range(slots.shape[0]):
        slot = slots[s]
        reset_slot(state, rewards, ints, floats, slot, keys[s])
        memory[slot] = np.nan
        counts[slot] = 0
        seen[slot] = 0


@njit(cache=True)
def scripted_turns(
    state,
    rewards,
    memory,
    counts,
    seen,
    ints,
    floats,
    required,
    utility,
    payoff_scale,
    level_columns,
    plan_i,
    plan_f,
    order,
    sorted_utility,
    public_pick,
    use_model,
    slot,
) -> int:
    """Play ``slot``'s scripted moves until it ends or an external actor moves.

    Returns:
        The number of decisions taken (proposals plus votes).
    """
    row = state[slot]
    n = ints[I_ACTORS]
    decisions = 0
    while True:
        seen[slot] = fold_rounds(
            state,
            ints,
            utility,
            level_columns,
            plan_i,
            memory[slot],
            counts[slot],
            slot,
            seen[slot],
            -1,
            use_model,
        )
        phase = row[C_PHASE]
        if phase == ENDED:
            return decisions
        key = row[C_KEY]
        round_index = row[C_ROUND]
        if phase == PROPOSING:
            actor = row[C_PROPOSER]
            if plan_i[actor, P_KIND] == EXTERNAL:
                return decisions
            outcome = choose_proposal(
                plan_i[actor],
                plan_f[actor],
                order[actor],
                sorted_utility[actor],
                public_pick[actor],
                ints,
                floats,
                required,
                level_columns,
                memory[slot, actor],
                counts[slot],
                floats[F_NO_DEAL + actor],
                key,
                round_index,
                actor,
            )
            propose(
                state,
                rewards,
                ints,
                floats,
                required,
                utility,
                payoff_scale,
                slot,
                outcome,
            )
            decisions += 1
            continue
        offer = row[C_OFFER]
        for actor in range(n):
            if row[C_PHASE] != VOTING:
                break
            if move_kind(state, ints, slot, actor) != MOVE_VOTE:
                continue
            if plan_i[actor, P_KIND] == EXTERNAL:
                continue  # its vote comes from outside
            accept = choose_vote(
                plan_i[actor],
                plan_f[actor],
                sorted_utility[actor],
                utility[actor],
                memory[slot, actor],
                floats[F_NO_DEAL + actor],
                key,
                round_index,
                actor,
                offer,
            )
            vote(
                state,
                rewards,
                ints,
                floats,
                utility,
                payoff_scale,
                slot,
                actor,
                accept,
            )
            decisions += 1
        if row[C_PHASE] == VOTING:  # an external voter has not voted yet
            return decisions


@njit(cache=True)
def play_episodes(
    state,
    rewards,
    memory,
    counts,
    seen,
    ints,
    floats,
    required,
    utility,
    payoff_scale,
    level_columns,
    plan_i,
    plan_f,
    order,
    sorted_utility,
    public_pick,
    use_model,
    keys,
) -> int:
    """Play one all-scripted episode per key, in slots ``0 .. len(keys) - 1``.

    Returns:
        The number of decisions taken.
    """
    slots = np.arange(keys.shape[0])
    start_episodes(state, rewards, memory, counts, seen, ints, floats, slots, keys)
    decisions = 0
    for slot in range(keys.shape[0]):
        decisions += scripted_turns(
            state,
            rewards,
            memory,
            counts,
            seen,
            ints,
            floats,
            required,
            utility,
            payoff_scale,
            level_columns,
            plan_i,
            plan_f,
            order,
            sorted_utility,
            public_pick,
            use_model,
            slot,
        )
    return decisions


@njit(cache=True)
def policy_move(
    state,
    ints,
    floats,
    required,
    utility,
    level_columns,
    plan_i,
    plan_f,
    order,
    sorted_utility,
    public_pick,
    memory,
    counts,
    seen,
    use_model,
    slot,
    actor,
) -> int:
    """The action of a scripted policy object playing ``actor`` in ``slot``.

    ``memory`` (``[n_actors, 2]``), ``counts`` and ``seen`` (``int64[1]``) are
    the policy's own; the rounds completed since its last move are folded in
    first. Returns a proposal, ACCEPT, REJECT, or WAIT when it has no move.
    """
    seen[0] = fold_rounds(
        state,
        ints,
        utility,
        level_columns,
        plan_i,
        memory,
        counts,
        slot,
        seen[0],
        actor,
        use_model,
    )
    row = state[slot]
    n_outcomes = ints[I_OUTCOMES]
    kind = move_kind(state, ints, slot, actor)
    key = row[C_KEY]
    round_index = row[C_ROUND]
    no_deal = floats[F_NO_DEAL + actor]
    if kind == MOVE_PROPOSE:
        return choose_proposal(
            plan_i[actor],
            plan_f[actor],
            order[actor],
            sorted_utility[actor],
            public_pick[actor],
            ints,
            floats,
            required,
            level_columns,
            memory[actor],
            counts,
            no_deal,
            key,
            round_index,
            actor,
        )
    if kind == MOVE_VOTE:
        accept = choose_vote(
            plan_i[actor],
            plan_f[actor],
            sorted_utility[actor],
            utility[actor],
            memory[actor],
            no_deal,
            key,
            round_index,
            actor,
            row[C_OFFER],
        )
        return n_outcomes if accept else n_outcomes + 1
    return n_outcomes + 2


__all__ = [
    "fold_rounds",
    "next_voter",
    "play_episodes",
    "policy_move",
    "scripted_turns",
    "start_episodes",
]
