"""Chunks of tournament episodes: how the backends split and play the work.

Shared by the local process pool (:mod:`peacegame.tournament.runner`) and the
Ray backend (:mod:`peacegame.tournament.ray_backend`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peacegame.logs import dumps_record

if TYPE_CHECKING:
    from peacegame.tournament.player import TournamentPlayer

CHUNK = 64
"""Episodes per chunk of work at most (local processes and Ray tasks)."""


def chunks(todo: range, workers: int, cap: int = CHUNK) -> list[range]:
    """Contiguous chunks of ``todo``: at least 8 per worker, ``cap`` at most.

    Small chunks keep the workers busy to the end (the last chunk is the only
    one without a partner); each costs one round trip, about a millisecond.
    The batch engine gets larger chunks (``runner.BATCH_CHUNK``): it plays each
    chunk's episodes of one profile together.
    """
    size = max(1, min(cap, len(todo) // (workers * 8)))
    return [
        range(i, min(i + size, todo.stop)) for i in range(todo.start, todo.stop, size)
    ]


def play_chunk(player: TournamentPlayer, episodes: range) -> list[str]:
    """Play a chunk of episodes; return their serialised lines."""
    return [dumps_record(line) for line in player.play_many(episodes)]
