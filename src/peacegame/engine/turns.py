"""Turn-taking of the PettingZoo adapters, over the rules (compiled).

The AEC env selects one actor at a time: the round's proposer, then its voters
one by one in actor order. The parallel env takes every actor's action at once
(WAIT for an actor with nothing to do). Each step here is one compiled call
that checks the action(s) with :func:`peacegame.engine.rules.is_legal`,
applies them with the rules' own functions and re-encodes the observations
when something visible changed, so an env step costs one call into the kernel.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from peacegame.engine.actions import (
    A_KIND,
    ILLEGAL,
    KIND_ISSUES,
    SUBSTEP,
    X_INTS,
    draft_size,
    encode_draft,
    reset_draft,
    translate,
)
from peacegame.engine.config import ENDED, PROPOSING
from peacegame.engine.observe import encode
from peacegame.engine.rules import (
    C_OFFER,
    C_PHASE,
    C_PROPOSER,
    C_ROUND,
    C_ROUNDS_DONE,
    G_INTS,
    I_ACTORS,
    MOVE_NONE,
    NO_REFCOUNT,
    apply_action,
    is_legal,
    mask_row,
    move_kind,
    next_voter,
    reset_slot,
)

ILLEGAL_ACTION = -2
"""Return code of a step whose action was illegal (nothing changed)."""
ENDED_EPISODE = -1
"""Return code of a step after which the episode has ended."""
MISSING = -2
"""Parallel env: an actor that sent no action."""
NOT_AN_ACTION = -3
"""Parallel env: an action that is not an integer."""


@njit(cache=True, inline="always")
def shown(state, mover):
    """``(first, phase, round, offer)``: a step's result, then slot 0's state.

    What the adapters' kernel calls return, so they read nothing back from the
    state (``first`` is the AEC step's next mover or the parallel step's
    number of offenders).
    """
    row = state[0]
    return mover, row[C_PHASE], row[C_ROUND], row[C_OFFER]


@njit(cache=True, **NO_REFCOUNT)
def start_slot(game, iface, state, rewards, observations, drafts, key):
    """Start the episode keyed ``key`` in slot 0: state, observations, draft.

    One call for the adapters' ``reset``; the observation rows must be
    ``Rules.interface_observation_size`` long.

    Returns:
        ``(proposer, phase, round, offer)`` (:func:`shown`).
    """
    reset_slot(game, state, rewards, 0, key)
    encode(game, state, 0, observations)
    reset_draft(iface, drafts, 0)
    if iface[X_INTS][A_KIND] == KIND_ISSUES:
        start = observations.shape[1] - draft_size(iface)
        encode_draft(iface, state, drafts, 0, observations, start)
    return shown(state, state[0, C_PROPOSER])


@njit(cache=True, **NO_REFCOUNT)
def aec_step(game, state, rewards, observations, actor, action):
    """Apply the selected actor's action; return what the adapter shows next.

    Returns:
        ``(mover, phase, round, offer)`` (:func:`shown`): the next actor's
        index, ``ENDED_EPISODE``, or ``ILLEGAL_ACTION`` (the state is then
        unchanged); then the slot's phase, round and offer after the step, so
        the adapter reads nothing back from the state.
    """
    row = state[0]
    rounds_before = row[C_ROUNDS_DONE]
    proposing = row[C_PHASE] == PROPOSING
    if not apply_action(game, state, rewards, 0, actor, action):
        return shown(state, ILLEGAL_ACTION)
    if proposing or row[C_ROUNDS_DONE] != rounds_before:
        encode(game, state, 0, observations)
    if row[C_PHASE] == ENDED:
        return shown(state, ENDED_EPISODE)
    if row[C_PHASE] == PROPOSING:
        return shown(state, row[C_PROPOSER])
    return shown(state, next_voter(game, state, 0))


@njit(cache=True)
def fill_mask_rows(game, state, mask_rows) -> None:
    """Write every actor's legal set in slot 0 (``mask_row``, WAIT allowed)."""
    for i in range(mask_rows.shape[0]):
        mask_rows[i] = mask_row(game, state, 0, i, True)


@njit(cache=True)
def parallel_step(game, state, rewards, observations, actions, offenders, mask_rows):
    """Apply every actor's action at once, or flag the offenders.

    ``actions`` (``int64[n_actors]``) holds an action, ``MISSING`` or
    ``NOT_AN_ACTION`` per actor; ``offenders`` (``uint8[n_actors]``) is set to 1
    for each illegal action (a mover that sent none, or an actor without a move
    that sent anything but WAIT; an actor without a move may send nothing).
    ``mask_rows`` (``int64[n_actors]``) receives every actor's legal set
    afterwards (:func:`fill_mask_rows`).

    Returns:
        ``(offenders, phase, round, offer)``: the number of offenders (nothing
        is applied if there are any), then the slot's phase, round and offer.
    """
    n = game[G_INTS][I_ACTORS]
    count = 0
    movers = np.zeros(n, np.bool_)
    for i in range(n):
        action = actions[i]
        movers[i] = move_kind(game, state, 0, i) != MOVE_NONE
        legal = (action == MISSING and not movers[i]) or (
            action >= 0 and is_legal(game, state, 0, i, action, True)
        )
        offenders[i] = 0 if legal else 1
        count += offenders[i]
    if count == 0:
        for i in range(n):  # the proposer alone, or every voter in actor order
            if movers[i]:
                apply_action(game, state, rewards, 0, i, actions[i])
        encode(game, state, 0, observations)
    fill_mask_rows(game, state, mask_rows)
    return shown(state, count)


# ------------------------------------------------- under an action interface
@njit(cache=True, **NO_REFCOUNT)
def aec_step_in(game, iface, state, rewards, observations, drafts, actor, action):
    """:func:`aec_step` for an action in ``iface`` (:mod:`~.actions`).

    An ``issues`` sub-step changes only the draft; the same actor moves again.
    The observation rows must be ``Rules.interface_observation_size`` long.

    Returns:
        As :func:`aec_step`.
    """
    concrete = translate(game, iface, state, drafts, 0, actor, action, False)
    if concrete == ILLEGAL:
        return shown(state, ILLEGAL_ACTION)
    issues = iface[X_INTS][A_KIND] == KIND_ISSUES
    start = observations.shape[1] - draft_size(iface)
    if concrete == SUBSTEP:
        encode_draft(iface, state, drafts, 0, observations, start)
        return shown(state, actor)
    result = aec_step(game, state, rewards, observations, actor, concrete)
    if issues:
        encode_draft(iface, state, drafts, 0, observations, start)
    return result


@njit(cache=True)
def parallel_step_in(
    game,
    iface,
    state,
    rewards,
    observations,
    drafts,
    actions,
    concrete,
    offenders,
    mask_rows,
):
    """:func:`parallel_step` for actions in ``iface`` (:mod:`~.actions`).

    ``concrete`` (``int64[n_actors]``) is scratch for the translated actions.
    Nothing (not even the draft) changes when there are offenders.

    Returns:
        As :func:`parallel_step`.
    """
    n = game[G_INTS][I_ACTORS]
    depth, lo, hi = drafts[0, 0], drafts[0, 1], drafts[0, 2]
    substep = False
    for i in range(n):
        action = actions[i]
        if action < 0:
            concrete[i] = action
            continue
        c = translate(game, iface, state, drafts, 0, i, action, True)
        if c == SUBSTEP:
            substep = True
            concrete[i] = MISSING
        elif c == ILLEGAL:
            concrete[i] = NOT_AN_ACTION
        else:
            concrete[i] = c
    issues = iface[X_INTS][A_KIND] == KIND_ISSUES
    start = observations.shape[1] - draft_size(iface)
    if substep:  # the proposer drafted; everyone else must WAIT (or send none)
        count = 0
        for i in range(n):
            c = concrete[i]
            ok = c == MISSING or (c >= 0 and is_legal(game, state, 0, i, c, True))
            offenders[i] = 0 if ok else 1
            count += offenders[i]
        if count:
            drafts[0, 0], drafts[0, 1], drafts[0, 2] = depth, lo, hi
        else:
            encode_draft(iface, state, drafts, 0, observations, start)
        fill_mask_rows(game, state, mask_rows)
        return shown(state, count)
    result = parallel_step(
        game, state, rewards, observations, concrete, offenders, mask_rows
    )
    if result[0]:
        drafts[0, 0], drafts[0, 1], drafts[0, 2] = depth, lo, hi
    elif issues:
        encode_draft(iface, state, drafts, 0, observations, start)
    return result
