"""numpy's ``SeedSequence`` and ``PCG64`` for many generators at once, bit for bit.

The env seeds each episode with ``gymnasium.utils.seeding.np_random(seed)``
(``Generator(PCG64(SeedSequence(seed)))``), the random policy uses
``default_rng([seed, actor])`` and the match runner derives episode seeds with
``SeedSequence([base_seed, episode]).generate_state(1, uint64)``. A batch engine
cannot keep one ``Generator`` per match and still step without a Python loop,
so this module re-implements the three pieces it needs as array code over many
independent streams, reproducing numpy's output exactly:

* :func:`seed_sequence_state`: ``SeedSequence(entropy).generate_state(n, dtype)``
  (the hash mixing of numpy's ``bit_generator.pyx``, in ``uint32`` arithmetic);
* :class:`PCG64Streams`: the PCG64 XSL-RR 128/64 generator (seeded as
  ``PCG64(SeedSequence(...))``), with ``random()`` (``next_double``) and
  ``integers(n)`` (Lemire's bounded method on 32-bit halves, as
  ``Generator.integers`` does for ranges below 2**32), advancing only the
  streams that are asked for a number.

128-bit state arithmetic is carried out on pairs of ``uint64`` arrays (numpy
array arithmetic wraps modulo 2**64 without warnings). The tests hold every
function equal to numpy's own generators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_U32 = np.uint32
_U64 = np.uint64

# numpy/random/bit_generator.pyx
_INIT_A = 0x43B0D7E5
_MULT_A = 0x931E8875
_INIT_B = 0x8B51F9DD
_MULT_B = 0x58F38DED
_MIX_MULT_L = _U32(0xCA01F9DD)
_MIX_MULT_R = _U32(0x4973F715)
_XSHIFT = _U32(16)
_POOL_SIZE = 4
_MASK32 = 0xFFFFFFFF

# numpy/random/src/pcg64: PCG_DEFAULT_MULTIPLIER_128
_MULT_HI = 2549297995355413924
_MULT_LO = 4865540595714422341
_MULT_LO_0 = _U64(_MULT_LO & _MASK32)
_MULT_LO_1 = _U64(_MULT_LO >> 32)
_M32 = _U64(_MASK32)
_S32 = _U64(32)
_S11 = _U64(11)
_S58 = _U64(58)
_S63 = _U64(63)
_S64 = _U64(64)
_TWO_POW_M53 = 1.0 / 9007199254740992.0


def int_words(value: int) -> list[int]:
    """Split a non-negative int into ``uint32`` words, least significant first.

    This is numpy's ``_int_to_uint32_array``: 0 is one zero word.

    Args:
        value: A non-negative integer.

    Returns:
        The words.

    Raises:
        ValueError: If ``value`` is negative.
    """
    if value < 0:
        raise ValueError(f"seeds must be non-negative, got {value}")
    if value == 0:
        return [0]
    words = []
    while value > 0:
        words.append(value & _MASK32)
        value >>= 32
    return words


def word_count(values: np.ndarray) -> np.ndarray:
    """Number of ``uint32`` words of each value (``int_words`` lengths)."""
    values = np.asarray(values, dtype=np.uint64)
    return np.where(values >> _S32 > 0, 2, 1)


def _hash_consts(count: int, init: int, mult: int) -> list[np.uint32]:
    """The successive multipliers of numpy's hashmix (they do not depend on data)."""
    out = []
    h = init
    for _ in range(count):
        out.append(h)
        h = (h * mult) & _MASK32
    return [_U32(x) for x in out] + [_U32(h)]


def _hashmix(value: np.ndarray, const: np.uint32, next_const: np.uint32) -> np.ndarray:
    value = value ^ const
    value = value * next_const
    return value ^ (value >> _XSHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = _MIX_MULT_L * x - _MIX_MULT_R * y
    return result ^ (result >> _XSHIFT)


def seed_sequence_state(entropy: np.ndarray, n_words: int) -> np.ndarray:
    """``SeedSequence(entropy).generate_state(n_words, uint32)`` for many seeds.

    Args:
        entropy: ``uint32[n, k]``, each row the entropy words of one
            ``SeedSequence`` (as numpy assembles them: every int split into
            words, least significant first, then concatenated).
        n_words: Number of ``uint32`` words to generate per row.

    Returns:
        ``uint32[n, n_words]``.
    """
    entropy = np.asarray(entropy, dtype=_U32)
    n, k = entropy.shape
    with np.errstate(over="ignore"):
        calls = _POOL_SIZE * _POOL_SIZE + max(k - _POOL_SIZE, 0) * _POOL_SIZE
        consts = _hash_consts(calls, _INIT_A, _MULT_A)
        position = 0

        def hashmix(value: np.ndarray) -> np.ndarray:
            nonlocal position
            out = _hashmix(value, consts[position], consts[position + 1])
            position += 1
            return out

        zero = np.zeros(n, _U32)
        mixer = [hashmix(entropy[:, i] if i < k else zero) for i in range(_POOL_SIZE)]
        for i_src in range(_POOL_SIZE):
            for i_dst in range(_POOL_SIZE):
                if i_src != i_dst:
                    mixer[i_dst] = _mix(mixer[i_dst], hashmix(mixer[i_src]))
        for i_src in range(_POOL_SIZE, k):
            for i_dst in range(_POOL_SIZE):
                mixer[i_dst] = _mix(mixer[i_dst], hashmix(entropy[:, i_src]))
        out = np.empty((n, n_words), _U32)
        h = _U32(_INIT_B)
        mult_b = _U32(_MULT_B)
        for i_dst in range(n_words):
            value = mixer[i_dst % _POOL_SIZE] ^ h
            h = _U32(h * mult_b)
            value = value * h
            out[:, i_dst] = value ^ (value >> _XSHIFT)
    return out


def _as_uint64(words: np.ndarray) -> np.ndarray:
    """Pairs of little-endian ``uint32`` words as ``uint64`` (numpy's view)."""
    low = words[:, 0::2].astype(_U64)
    high = words[:, 1::2].astype(_U64)
    return low | (high << _S32)


def entropy_rows(values: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Assemble ``SeedSequence([v0, v1, ...])`` entropy for many rows at once.

    Rows whose ints split into different numbers of words have entropy of
    different lengths; they are returned in groups of equal length.

    Args:
        values: Per entropy element, ``uint64[n]`` (or int-like) values.

    Returns:
        ``(rows, entropy)`` pairs: the row indices of one group and their
        ``uint32[len(rows), k]`` entropy words.
    """
    columns = [np.asarray(v, dtype=_U64) for v in values]
    n = columns[0].shape[0]
    # Word counts (1 or 2) of every element, as one small integer per row.
    key = np.zeros(n, np.int64)
    for column in columns:
        key = key * 2 + (word_count(column) - 1)
    if n == 0 or (key == key[0]).all():
        keys, inverse = key[:1], np.zeros(n, np.int64)
    else:
        keys, inverse = np.unique(key, return_inverse=True)
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    for g, code in enumerate(keys.tolist()):
        rows = np.flatnonzero(inverse == g) if len(keys) > 1 else np.arange(n)
        parts = []
        for position, column in enumerate(columns):
            value = column[rows]
            parts.append((value & _M32).astype(_U32))
            if code >> (len(columns) - 1 - position) & 1:
                parts.append((value >> _S32).astype(_U32))
        groups.append((rows, np.stack(parts, axis=1)))
    return groups


def generate_uint64(values: Sequence[np.ndarray], n_words: int) -> np.ndarray:
    """``SeedSequence([v0, v1, ...]).generate_state(n_words, uint64)`` per row.

    Args:
        values: Per entropy element, ``uint64[n]`` values (each < 2**64).
        n_words: Number of ``uint64`` words per row.

    Returns:
        ``uint64[n, n_words]``.
    """
    n = np.asarray(values[0]).shape[0]
    out = np.empty((n, n_words), _U64)
    for rows, entropy in entropy_rows(values):
        out[rows] = _as_uint64(seed_sequence_state(entropy, 2 * n_words))
    return out


def episode_seeds(base_seed: int, episodes: np.ndarray) -> np.ndarray:
    """``peacegame.match.episode_seed(base_seed, i)`` for many episodes.

    Args:
        base_seed: The match's base seed.
        episodes: ``int64[n]`` episode ids (non-negative).

    Returns:
        ``uint64[n]`` seeds (each < 2**63).
    """
    episodes = np.asarray(episodes, dtype=np.int64)
    if episodes.size and episodes.min() < 0:
        raise ValueError("episode ids must be non-negative")
    base = np.full(episodes.shape[0], base_seed, dtype=_U64)
    state = generate_uint64([base, episodes.astype(_U64)], 1)[:, 0]
    return state >> _U64(1)


def _mul_high(a: np.ndarray, b0: np.uint64, b1: np.uint64) -> np.ndarray:
    """High 64 bits of the 128-bit product of ``a`` and ``b1 * 2**32 + b0``."""
    a0 = a & _M32
    a1 = a >> _S32
    t = a0 * b0
    t >>= _S32
    u = a1 * b0
    u += t
    v = a0 * b1
    v += u & _M32
    high = a1 * b1
    u >>= _S32
    v >>= _S32
    high += u
    high += v
    return high


class PCG64Streams:
    """Many independent ``PCG64`` generators, advanced selectively.

    Stream ``s`` is in the same state as ``numpy.random.PCG64(SeedSequence(...))``
    seeded with the same entropy, and ``random`` / ``integers`` return what
    ``Generator.random()`` / ``Generator.integers(n)`` would on that stream.

    Args:
        words: ``uint64[n, 4]``, each stream's
            ``SeedSequence.generate_state(4, uint64)`` (see
            :meth:`from_entropy`).
    """

    def __init__(self, words: np.ndarray) -> None:
        words = np.asarray(words, dtype=_U64)
        n = words.shape[0]
        self.size = n
        self.state_hi = np.zeros(n, _U64)
        self.state_lo = np.zeros(n, _U64)
        self.inc_hi = np.zeros(n, _U64)
        self.inc_lo = np.zeros(n, _U64)
        self.has_uint32 = np.zeros(n, np.bool_)
        self.uinteger = np.zeros(n, _U64)
        self.seed(np.arange(n), words)

    @classmethod
    def from_entropy(cls, values: Sequence[np.ndarray]) -> PCG64Streams:
        """Streams seeded like ``PCG64(SeedSequence([v0, v1, ...]))`` per row."""
        return cls(generate_uint64(values, 4))

    def seed(self, rows: np.ndarray, words: np.ndarray) -> None:
        """Re-seed some streams (``pcg64_set_seed`` from 4 ``uint64`` words).

        Args:
            rows: Stream indices.
            words: ``uint64[len(rows), 4]``: seed high, seed low, increment
                high, increment low (before the shift).
        """
        words = np.asarray(words, dtype=_U64)
        seed_hi, seed_lo = words[:, 0], words[:, 1]
        inc_hi = (words[:, 2] << _U64(1)) | (words[:, 3] >> _S63)
        inc_lo = (words[:, 3] << _U64(1)) | _U64(1)
        self.inc_hi[rows] = inc_hi
        self.inc_lo[rows] = inc_lo
        zeros = np.zeros(len(rows), _U64)
        hi, lo = self._step(zeros, zeros, inc_hi, inc_lo)
        lo2 = lo + seed_lo
        hi = hi + seed_hi + (lo2 < lo).astype(_U64)
        hi, lo = self._step(hi, lo2, inc_hi, inc_lo)
        self.state_hi[rows] = hi
        self.state_lo[rows] = lo
        self.has_uint32[rows] = False
        self.uinteger[rows] = 0

    @staticmethod
    def _step(
        hi: np.ndarray, lo: np.ndarray, inc_hi: np.ndarray, inc_lo: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One LCG step: ``state * MULT + inc`` modulo 2**128."""
        new_hi = _mul_high(lo, _MULT_LO_0, _MULT_LO_1)
        new_hi += hi * _U64(_MULT_LO)
        new_hi += lo * _U64(_MULT_HI)
        new_hi += inc_hi
        p_lo = lo * _U64(_MULT_LO)
        new_lo = p_lo + inc_lo
        new_hi += new_lo < p_lo
        return new_hi, new_lo

    def next64(self, rows: np.ndarray) -> np.ndarray:
        """Advance the given streams once and return their 64-bit outputs.

        Args:
            rows: Distinct stream indices.

        Returns:
            ``uint64[len(rows)]``.
        """
        hi, lo = self._step(
            self.state_hi[rows],
            self.state_lo[rows],
            self.inc_hi[rows],
            self.inc_lo[rows],
        )
        self.state_hi[rows] = hi
        self.state_lo[rows] = lo
        x = hi ^ lo
        rot = hi >> _S58
        return (x >> rot) | (x << ((_S64 - rot) & _S63))

    def random(self, rows: np.ndarray) -> np.ndarray:
        """``Generator.random()`` on each given stream (distinct indices)."""
        return (self.next64(rows) >> _S11).astype(np.float64) * _TWO_POW_M53

    def next_uint32(self, rows: np.ndarray) -> np.ndarray:
        """PCG64's buffered 32-bit output on each given stream (as ``uint64``)."""
        out = np.empty(len(rows), _U64)
        buffered = self.has_uint32[rows]
        if buffered.any():
            out[buffered] = self.uinteger[rows[buffered]]
            self.has_uint32[rows[buffered]] = False
        fresh = ~buffered
        if fresh.any():
            fresh_rows = rows[fresh]
            value = self.next64(fresh_rows)
            out[fresh] = value & _M32
            self.uinteger[fresh_rows] = value >> _S32
            self.has_uint32[fresh_rows] = True
        return out

    def integers(self, rows: np.ndarray, high: int) -> np.ndarray:
        """``Generator.integers(high)`` on each given stream, for ``high < 2**32``.

        Lemire's method on 32-bit draws, with the same rejections as numpy's
        ``buffered_bounded_lemire_uint32``.

        Args:
            rows: Distinct stream indices.
            high: Exclusive upper bound, ``1 <= high < 2**32``.

        Returns:
            ``int64[len(rows)]`` in ``[0, high)``.
        """
        if not 1 <= high < 2**32:
            raise ValueError(f"high must be in [1, 2**32), got {high}")
        if high == 1:
            return np.zeros(len(rows), np.int64)
        span = _U64(high)
        threshold = _U64((2**32 - high) % high)
        m = self.next_uint32(rows) * span
        if threshold:
            pending = np.flatnonzero((m & _M32) < threshold)
            while pending.size:
                m[pending] = self.next_uint32(rows[pending]) * span
                pending = pending[(m[pending] & _M32) < threshold]
        return (m >> _S32).astype(np.int64)
