"""Observation vectors, encoded from the state arrays (compiled).

The layout (fields, sizes, values) is documented once, in the env's module
docstring (:mod:`peacegame.env`, "Observation space");
:func:`observation_fields` builds it and :func:`encode` fills it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from peacegame.engine.config import ROLE_IDLE, ROLE_PROPOSER, ROLE_VOTER
from peacegame.engine.rules import (
    C_OFFER,
    C_PHASE,
    C_PROPOSER,
    C_ROUND,
    C_ROUNDS_DONE,
    F_NO_DEAL,
    G_FLOATS,
    G_INTS,
    G_REQUIRED,
    G_UTILITY,
    I_ACTORS,
    I_HISTORY,
    I_ISSUES,
    I_LEVELS,
    I_PUBLIC,
    I_ROUNDS,
    col_last_votes,
    col_record_offers,
    col_smallest,
    col_veto_players,
    col_voters,
    level_column,
)


def observation_fields(
    n_actors: int, n_levels: int, public: bool, history_length: int
) -> dict[str, slice]:
    """Field name -> slice of the observation vector.

    ``public_utilities`` is there only under public information.
    """
    sizes = [
        ("phase", 3),
        ("round_fraction", 1),
        ("role", 3),
        ("proposer", n_actors),
        ("offer", n_levels),
        ("consent", n_actors),
        ("veto", n_actors),
        ("quota", 1),
        ("public_utilities", n_actors if public else 0),
        ("offer_utility", 1),
        ("no_deal", 1),
        ("discount", 1),
        ("last_votes", n_actors),
        ("history", history_length),
    ]
    fields: dict[str, slice] = {}
    start = 0
    for name, size in sizes:
        if size or name != "public_utilities":
            fields[name] = slice(start, start + size)
        start += size
    return fields


def observation_bounds(
    fields: dict[str, slice], no_deal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the observation vector."""
    size = max(s.stop for s in fields.values())
    low = np.zeros(size, np.float32)
    high = np.ones(size, np.float32)
    for name in ("last_votes", "history"):
        low[fields[name]] = -1.0
    low[fields["no_deal"]] = min(0.0, float(np.min(no_deal)))
    high[fields["no_deal"]] = max(1.0, float(np.max(no_deal)))
    return low, high


@njit(cache=True)
def encode(game, state, slot, out) -> None:
    """Write every actor's observation of ``slot`` into ``out[n_actors, size]``."""
    ints, floats, required = game[G_INTS], game[G_FLOATS], game[G_REQUIRED]
    utility = game[G_UTILITY]
    row = state[slot]
    n = ints[I_ACTORS]
    n_levels = ints[I_LEVELS]
    public = ints[I_PUBLIC] != 0
    history = ints[I_HISTORY]
    rounds = ints[I_ROUNDS]
    phase = row[C_PHASE]
    proposer = row[C_PROPOSER]
    offer = row[C_OFFER]
    voters = col_voters(n)
    last = col_last_votes(n)
    offers = col_record_offers(n)
    done = row[C_ROUNDS_DONE]
    round_fraction = row[C_ROUND] * (1.0 / rounds)
    discount = F_NO_DEAL + 2 * n
    n_issues = ints[I_ISSUES]
    for i in range(n):
        o = out[i]
        o[:] = 0.0
        o[phase] = 1.0
        o[3] = round_fraction
        if i == proposer:
            role = ROLE_PROPOSER
        elif row[voters + i] != 0:
            role = ROLE_VOTER
        else:
            role = ROLE_IDLE
        o[4 + role] = 1.0
        o[7 + proposer] = 1.0
        at = 7 + n
        if offer >= 0:
            for k in range(n_issues):
                o[at + level_column(ints, offer, k)] = 1.0
        at += n_levels
        if offer >= 0:
            voting = 0
            vetoes = col_veto_players(n)
            for j in range(n):
                voting += 1 if required[offer, j] != 0 else 0
                o[at + j] = 1.0 if required[offer, j] != 0 else 0.0
                o[at + n + j] = 1.0 if required[offer, vetoes + j] != 0 else 0.0
            if voting > 0:  # quota: the smallest carrying coalition per voter
                o[at + 2 * n] = np.float32(required[offer, col_smallest(n)] / voting)
        at += 2 * n + 1
        if public:
            if offer >= 0:
                for j in range(n):
                    o[at + j] = np.float32(utility[j, offer])
            at += n
        if offer >= 0:
            o[at] = np.float32(utility[i, offer])
        o[at + 1] = np.float32(floats[F_NO_DEAL + i])
        o[at + 2] = np.float32(floats[discount + i])
        at += 3
        for j in range(n):
            v = row[last + j]
            o[at + j] = 1.0 if v == 1 else (-1.0 if v == 0 else 0.0)
        at += n
        for k in range(history):
            r = done - 1 - k
            o[at + k] = np.float32(utility[i, row[offers + r]]) if r >= 0 else -1.0
