"""Counter-based randomness: every draw is a hash of what it is for.

A draw is ``mix(episode seed, round, purpose)``: a SplitMix64 finaliser
(Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators")
applied to the seed and then to a counter built from the round and the purpose.
No generator state is carried, so every engine, every batch size and every
order of evaluation sees the same numbers by construction, and an episode can
be replayed from any round.

Purposes: :data:`DRAW_PROPOSER` (the round's proposer under ``proposer:
random``), :data:`DRAW_BREAKDOWN` (the breakdown draw after a round),
``action_purpose(actor)`` for a random policy's proposal or vote (a round holds
at most one move per actor, so the round and the actor identify it), and
:data:`DRAW_START` for the exploring starts of training episodes, and
:data:`DRAW_TIE` for the ``utility`` interface's random tie-break (protocol
``utility_ties: random``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

DRAW_PROPOSER = 0
"""Purpose of the draw that picks a round's proposer."""
DRAW_BREAKDOWN = 1
"""Purpose of the breakdown draw after a round without agreement."""
DRAW_START = 0x7FFFFFFF
"""Purpose of a training episode's exploring-start draws (counters 0 to 4:
whether it starts late, in which round, whether at a vote, on which outcome,
which actor proposes under ``exploring_proposer: uniform``; 5 to 7: whether
its first proposal starts part-drafted, on which outcome's levels, how deep,
``exploring_drafts``): above every action purpose."""
DRAW_TIE = 0x7FFFFFFE
"""Purpose of the draw among a ``utility`` proposal's tied outcomes
(``utility_ties: random``; one proposal per round, so the round identifies
it): above every action purpose, below :data:`DRAW_START`."""
_FIRST_ACTION = 2

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53


@njit(cache=True, inline="always")
def action_purpose(actor: int) -> int:
    """The purpose code of ``actor``'s own random move in a round."""
    return _FIRST_ACTION + actor


@njit(cache=True, inline="always")
def _splitmix(z: np.uint64) -> np.uint64:
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _MUL1
    z = (z ^ (z >> _S27)) * _MUL2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def draw_bits(key: int, round_index: int, purpose: int) -> np.uint64:
    """64 random bits for (episode key, round, purpose)."""
    counter = (np.uint64(round_index) << _S32) | np.uint64(purpose)
    return _splitmix(_splitmix(np.uint64(key)) ^ counter)


@njit(cache=True, inline="always")
def draw_unit(key: int, round_index: int, purpose: int) -> float:
    """A float64 uniform on [0, 1) with 53 random bits (exact: k / 2**53)."""
    return float(draw_bits(key, round_index, purpose) >> _S11) * _TO_UNIT


@njit(cache=True, inline="always")
def draw_below(key: int, round_index: int, purpose: int, n: int) -> int:
    """An integer uniform on ``0 .. n - 1`` (bias below n / 2**53)."""
    value = int(draw_unit(key, round_index, purpose) * n)
    return min(value, n - 1)


@njit(cache=True)
def _episode_seeds(base_seed: int, episodes: np.ndarray) -> np.ndarray:
    out = np.empty(episodes.shape[0], np.int64)
    base = _splitmix(np.uint64(base_seed))
    for i in range(episodes.shape[0]):
        bits = _splitmix(base ^ _splitmix(np.uint64(episodes[i])))
        out[i] = np.int64(bits >> np.uint64(1))
    return out


def episode_seeds(base_seed: int, episodes: np.ndarray) -> np.ndarray:
    """The 63-bit seeds of ``episodes`` of a match with base seed ``base_seed``.

    Episode ``i``'s seed depends on ``(base_seed, i)`` only, so any subset of
    episodes, in any order or process, gets the same seeds.
    """
    if not 0 <= int(base_seed) < 2**64:
        raise ValueError(f"base seed must be in [0, 2**64), got {base_seed}")
    return _episode_seeds(np.uint64(int(base_seed)), np.asarray(episodes, np.int64))


def episode_seed(base_seed: int, episode: int) -> int:
    """The seed of episode ``episode`` (see :func:`episode_seeds`)."""
    return int(episode_seeds(base_seed, np.array([episode]))[0])
