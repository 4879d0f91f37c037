"""One external actor over many slots: the loops of the vector env (compiled).

The Gymnasium vector env (:mod:`peacegame.vector_env`) drives one learner, the
only external actor of an :class:`~peacegame.engine.episodes.Episodes`, in
every slot at once. The functions here are loops over slots around the
kernel's own calls (:func:`~peacegame.engine.rules.is_legal`,
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

from peacegame.engine.config import ENDED
from peacegame.engine.episodes import Episodes
from peacegame.engine.observe import encode
from peacegame.engine.play import scripted_turns
from peacegame.engine.rules import (
    C_PHASE,
    G_INTS,
    I_ACTORS,
    apply_action,
    end_illegal,
    is_legal,
    mask_row,
)


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


__all__ = ["advance", "observe", "step_external"]
