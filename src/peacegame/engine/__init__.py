"""The rules kernel: the game written once, batch-first and compiled.

Every env, runner and trainer drives this package; none restates a rule.

numba's on-disk cache (``__pycache__/*.nbi``, ``*.nbc``) is invalidated only
when a function's own file changes, not when a function it calls changes in
another file; :mod:`~peacegame.engine.cache` therefore drops the whole cache
when any kernel source changed (checked once, on import). With
``NUMBA_CACHE_DIR`` set, that folder is the user's to clear.

* :mod:`~peacegame.engine.config`: the protocol's knobs and shared codes;
* :mod:`~peacegame.engine.randomness`: counter-based draws keyed by (episode
  seed, round, purpose);
* :mod:`~peacegame.engine.rules`: state of B episodes as arrays; reset, legal
  moves, proposals, votes, the resolution of a round (compiled with numba);
* :mod:`~peacegame.engine.strategies`: the scripted strategies' moves and the
  private-information opponent model (compiled);
* :mod:`~peacegame.engine.play`: scripted turns over the rules (compiled);
* :mod:`~peacegame.engine.observe`: observation vectors (compiled);
* :mod:`~peacegame.engine.tables`: a scenario and a protocol as the kernel's
  arrays (:class:`Rules`), strategies as its plan tables;
* :mod:`~peacegame.engine.episodes`: :class:`Episodes`, B slots and the calls;
* :mod:`~peacegame.engine.actor`: one scripted actor's tables, for a policy
  object in the env path;
* :mod:`~peacegame.engine.turns`: the PettingZoo envs' turn-taking (compiled);
* :mod:`~peacegame.engine.entry`: kernel functions bound once to an adapter's
  arrays (no per-call overload resolution);
* :mod:`~peacegame.engine.vector`: the vector env's loops over slots (compiled);
* :mod:`~peacegame.engine.record`: the episode's log line and public record.
"""

from pathlib import Path as _Path

from peacegame.engine.cache import drop_stale_cache as _drop_stale_cache

_drop_stale_cache(
    _Path(__file__).parent,
    _Path(__file__).parent / "__pycache__",
    (_Path(__file__).parent.parent / "scenario" / "consent.py",),
)

# ruff: noqa: E402 (the imports below come after the cache check)
from peacegame.engine.config import (
    DONE,
    END_REASONS,
    PHASES,
    PROPOSE,
    VOTE,
    IllegalActionError,
    ProtocolConfig,
)
from peacegame.engine.episodes import Episodes
from peacegame.engine.randomness import episode_seed, episode_seeds
from peacegame.engine.record import (
    SCHEMA_VERSION,
    OutcomeMetrics,
    PublicRecord,
    episode_record,
)
from peacegame.engine.strategies import Strategy
from peacegame.engine.tables import Plan, Rules, discount_powers

__all__ = [
    "DONE",
    "END_REASONS",
    "PHASES",
    "PROPOSE",
    "SCHEMA_VERSION",
    "VOTE",
    "Episodes",
    "IllegalActionError",
    "OutcomeMetrics",
    "Plan",
    "ProtocolConfig",
    "PublicRecord",
    "Rules",
    "Strategy",
    "discount_powers",
    "episode_record",
    "episode_seed",
    "episode_seeds",
]
