"""External actors over many slots: the loops of the vector env and the trainer.

The Gymnasium vector env (:mod:`peacegame.vector_env`) drives one learner, the
only external actor of an :class:`~peacegame.engine.episodes.Episodes`, in
every slot at once; the multi-agent trainer (:mod:`peacegame.train.marl`)
drives every external actor of its slots at once (:func:`step_all`), scripted
opponents, if any, playing their turns in between. The functions here are
loops over slots around the kernel's own calls
(:func:`~peacegame.engine.rules.is_legal`,
:func:`~peacegame.engine.rules.apply_action`,
:func:`~peacegame.engine.rules.end_illegal`,
:func:`~peacegame.engine.play.scripted_turns`,
:func:`~peacegame.engine.observe.encode` and
:func:`~peacegame.engine.rules.mask_row`), so a batch step costs a few
compiled calls instead of a few per slot. They add no rule: legality, turns,
moves and observations are the kernel's.

The Python wrappers take an :class:`Episodes` and pass its arrays.
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
    encode_draft,
    fill_mask,
    translate,
)
from peacegame.engine.config import ENDED
from peacegame.engine.episodes import Episodes
from peacegame.engine.observe import encode
from peacegame.engine.play import scripted_turns
from peacegame.engine.rules import (
    C_PHASE,
    G_INTS,
    I_ACTORS,
    MOVE_NONE,
    apply_action,
    end_illegal,
    is_legal,
    mask_row,
    move_kind,
)
from peacegame.engine.strategies import EXTERNAL, P_KIND, PL_I


@njit(cache=True)
def _step_external(
    game, plan, state, rewards, memory, counts, seen, actor, actions, penalize, legal
) -> int:
    """Apply ``actor``'s action in every slot, then play the scripted turns.

    ``legal[s]`` is set to whether ``actions[s]`` is legal. With an illegal
    action and ``penalize`` false nothing is applied; with ``penalize`` the
    offending slots end with ``actor`` as the offender.

    Returns:
        The number of illegal actions.
    """
    size = actions.shape[0]
    illegal = 0
    for slot in range(size):
        legal[slot] = is_legal(game, state, slot, actor, actions[slot], False)
        if not legal[slot]:
            illegal += 1
    if illegal and not penalize:
        return illegal
    offenders = np.zeros(game[G_INTS][I_ACTORS], np.uint8)
    offenders[actor] = 1
    for slot in range(size):
        if legal[slot]:
            apply_action(game, state, rewards, slot, actor, actions[slot])
            scripted_turns(game, plan, state, rewards, memory, counts, seen, slot)
        else:
            end_illegal(game, state, rewards, slot, offenders)
    return illegal


@njit(cache=True)
def _advance(game, plan, state, rewards, memory, counts, seen, slots) -> int:
    """Play the scripted turns of ``slots``; return how many of them ended."""
    ended = 0
    for k in range(slots.shape[0]):
        slot = slots[k]
        scripted_turns(game, plan, state, rewards, memory, counts, seen, slot)
        if state[slot, C_PHASE] == ENDED:
            ended += 1
    return ended


@njit(cache=True)
def _observe(game, state, slots, actor, scratch, out, masks) -> None:
    """``actor``'s observation and mask row in each of ``slots``.

    ``scratch`` (``float32[n_actors, size]``) receives every actor's
    observation of a slot; row ``actor`` is copied to ``out[k]``.
    """
    for k in range(slots.shape[0]):
        slot = slots[k]
        encode(game, state, slot, scratch)
        out[k] = scratch[actor]
        masks[k] = mask_row(game, state, slot, actor, False)


def step_external(
    episodes: Episodes,
    actor: int,
    actions: np.ndarray,
    penalize: bool,
    legal: np.ndarray,
) -> int:
    """Apply ``actor``'s ``actions`` (one per slot) and play to its next move.

    Args:
        episodes: The slots; ``actor`` must be their only external actor.
        actor: The external actor.
        actions: ``int64[size]``, one action per slot.
        penalize: End the slots of illegal actions (else apply nothing).
        legal: ``bool[size]``, set to whether each action was legal.

    Returns:
        The number of illegal actions.
    """
    return int(_step_external(*episodes.arrays(), actor, actions, penalize, legal))


def advance(episodes: Episodes, slots: np.ndarray) -> int:
    """Play the scripted turns of ``slots`` (:meth:`Episodes.advance` for many).

    Returns:
        How many of ``slots`` have ended.
    """
    return int(_advance(*episodes.arrays(), np.asarray(slots, np.int64)))


def observe(
    episodes: Episodes,
    slots: np.ndarray,
    actor: int,
    scratch: np.ndarray,
    out: np.ndarray,
    masks: np.ndarray,
) -> None:
    """``actor``'s observations (``out[len(slots), size]``) and mask rows.

    ``masks`` receives :func:`~peacegame.engine.rules.mask_row` of ``actor``
    (without WAIT) in each slot: a row of ``Rules.masks``.
    """
    _observe(
        episodes.rules.game,
        episodes.state,
        np.asarray(slots, np.int64),
        actor,
        scratch,
        out,
        masks,
    )


# ------------------------------------------------- under an action interface
@njit(cache=True)
def _step_external_in(
    game,
    iface,
    plan,
    state,
    rewards,
    memory,
    counts,
    seen,
    drafts,
    actor,
    actions,
    penalize,
    legal,
) -> int:
    """:func:`_step_external` for actions in ``iface`` (:mod:`~.actions`).

    A slot whose action is an ``issues`` sub-step only updates its draft.
    Nothing changes (not even a draft) when an action is illegal and
    ``penalize`` is false.
    """
    size = actions.shape[0]
    concrete = np.empty(size, np.int64)
    saved = drafts.copy()
    illegal = 0
    for slot in range(size):
        concrete[slot] = translate(
            game, iface, state, drafts, slot, actor, actions[slot], False
        )
        legal[slot] = concrete[slot] != ILLEGAL
        if not legal[slot]:
            illegal += 1
    if illegal and not penalize:
        drafts[:] = saved
        return illegal
    offenders = np.zeros(game[G_INTS][I_ACTORS], np.uint8)
    offenders[actor] = 1
    for slot in range(size):
        if not legal[slot]:
            end_illegal(game, state, rewards, slot, offenders)
        elif concrete[slot] != SUBSTEP:
            apply_action(game, state, rewards, slot, actor, concrete[slot])
            scripted_turns(game, plan, state, rewards, memory, counts, seen, slot)
    return illegal


@njit(cache=True)
def _observe_in(game, iface, state, drafts, slots, actor, scratch, out, masks, start):
    """:func:`_observe` under ``iface``: observations with the draft, and masks.

    ``scratch`` rows and ``out`` rows are ``Rules.interface_observation_size``
    long; ``masks`` is ``int8[len(slots), n_actions]`` of the interface.
    """
    issues = iface[X_INTS][A_KIND] == KIND_ISSUES
    for k in range(slots.shape[0]):
        slot = slots[k]
        encode(game, state, slot, scratch)
        if issues:
            encode_draft(iface, state, drafts, slot, scratch, start)
        out[k] = scratch[actor]
        fill_mask(game, iface, state, drafts, slot, actor, False, masks[k])


@njit(cache=True)
def step_all(
    game,
    iface,
    plan,
    state,
    rewards,
    memory,
    counts,
    seen,
    drafts,
    actions,
    moved,
    offenders,
) -> int:
    """Every external actor of every slot: apply the movers' actions at once.

    ``actions`` (``int64[B, n_actors]``) holds an interface action per actor;
    only external actors with a move (``moved[B, n_actors]``, set here before
    the actions apply) are read: the proposer, or every external voter (in
    actor order, as the parallel env). An illegal action ends its slot with
    the offender flagged (``offenders[B, n_actors]``). Slots that have ended
    are skipped. When ``plan`` has scripted actors, each slot then plays
    their turns (:func:`~peacegame.engine.play.scripted_turns`) up to the next
    external move, as :func:`_step_external` does for one external actor;
    with every actor external (the self-play trainer) nothing else is done.

    Returns:
        The number of illegal actions.
    """
    size, n = actions.shape
    illegal = 0
    flags = np.zeros(n, np.uint8)
    kinds = plan[PL_I][:, P_KIND]
    scripted = False
    for i in range(n):
        if kinds[i] != EXTERNAL:
            scripted = True
    for slot in range(size):
        for i in range(n):
            moved[slot, i] = False
            offenders[slot, i] = 0
        if state[slot, C_PHASE] == ENDED:
            continue
        for i in range(n):
            moved[slot, i] = (
                kinds[i] == EXTERNAL and move_kind(game, state, slot, i) != MOVE_NONE
            )
        ended = False
        for i in range(n):
            if not moved[slot, i]:
                continue
            c = translate(game, iface, state, drafts, slot, i, actions[slot, i], False)
            if c == ILLEGAL:
                flags[:] = 0
                flags[i] = 1
                offenders[slot, i] = 1
                end_illegal(game, state, rewards, slot, flags)
                illegal += 1
                ended = True
                break
            if c != SUBSTEP:
                apply_action(game, state, rewards, slot, i, c)
        if scripted and not ended:
            scripted_turns(game, plan, state, rewards, memory, counts, seen, slot)
    return illegal


@njit(cache=True)
def observe_all(game, iface, state, drafts, out, masks, start) -> None:
    """Every actor's observation (``out[B, n_actors, size]``) and interface mask.

    ``masks`` is ``int8[B, n_actors, n_actions]``; WAIT is never legal.
    """
    issues = iface[X_INTS][A_KIND] == KIND_ISSUES
    size, n = masks.shape[0], masks.shape[1]
    for slot in range(size):
        encode(game, state, slot, out[slot])
        if issues:
            encode_draft(iface, state, drafts, slot, out[slot], start)
        for i in range(n):
            fill_mask(game, iface, state, drafts, slot, i, False, masks[slot, i])


def _interface_arrays(episodes: Episodes) -> tuple[object, ...]:
    """The leading arguments of the kernel's interface-aware steps.

    ``episodes.arrays()`` with its rules' interface tables after ``game``.
    """
    game, *rest = episodes.arrays()
    return (game, episodes.rules.interface.tables, *rest)


def step_external_in(
    episodes: Episodes,
    drafts: np.ndarray,
    actor: int,
    actions: np.ndarray,
    penalize: bool,
    legal: np.ndarray,
) -> int:
    """:func:`step_external` for actions in ``episodes.rules.interface``.

    Returns:
        The number of illegal actions.
    """
    return int(
        _step_external_in(
            *_interface_arrays(episodes), drafts, actor, actions, penalize, legal
        )
    )


def step_all_in(
    episodes: Episodes,
    drafts: np.ndarray,
    actions: np.ndarray,
    moved: np.ndarray,
    offenders: np.ndarray,
) -> int:
    """:func:`step_all` on ``episodes``, under its rules' action interface.

    Returns:
        The number of illegal actions.
    """
    return int(
        step_all(*_interface_arrays(episodes), drafts, actions, moved, offenders)
    )


def observe_in(
    episodes: Episodes,
    drafts: np.ndarray,
    slots: np.ndarray,
    actor: int,
    scratch: np.ndarray,
    out: np.ndarray,
    masks: np.ndarray,
) -> None:
    """:func:`observe` under ``episodes.rules.interface`` (masks as int8 rows)."""
    rules = episodes.rules
    start = rules.observation_size
    _observe_in(
        rules.game,
        rules.interface.tables,
        episodes.state,
        drafts,
        np.asarray(slots, np.int64),
        actor,
        scratch,
        out,
        masks,
        start,
    )


__all__ = [
    "advance",
    "observe",
    "observe_all",
    "observe_in",
    "step_all",
    "step_all_in",
    "step_external",
    "step_external_in",
]
