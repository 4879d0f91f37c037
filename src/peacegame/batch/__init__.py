"""The batch runner: configured all-scripted matches on the engine, many at once.

An adapter over :class:`peacegame.engine.Episodes`: it builds the scripted
strategies of a match config, plays chunks of episodes in one compiled call
each, and builds their log lines with :func:`peacegame.engine.episode_record`,
the same function the env path uses. Its lines therefore equal
``peacegame.match.EpisodePlayer.play(i)``'s by construction; the tests check
it on many seeds.

Entry points: :func:`run_episodes`, :func:`supports`, :class:`BatchEngine`
(``play`` returns the outcome arrays without building records).
"""

from peacegame.batch.runner import (
    DEFAULT_BATCH_SIZE,
    BatchEngine,
    BatchResult,
    UnsupportedError,
    run_episodes,
    supported_spec,
    supports,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BatchEngine",
    "BatchResult",
    "UnsupportedError",
    "run_episodes",
    "supported_spec",
    "supports",
]
