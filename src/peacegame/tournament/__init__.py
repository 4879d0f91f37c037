"""Tournaments: every strategy in every role, many seeds, ranked with significance.

Modules (see ``docs/tournaments.md``):

- :mod:`~peacegame.tournament.config`: the config model
  (``configs/tournaments/*.yaml``);
- :mod:`~peacegame.tournament.plan`: the assignment schemes (``role_rotation``,
  ``cartesian``, ``sampled``) and the episode seeds;
- :mod:`~peacegame.tournament.setup`: config file to a checked
  :class:`~peacegame.tournament.setup.Tournament`, before any match starts;
- :mod:`~peacegame.tournament.player`: plays one episode of an assignment;
- :mod:`~peacegame.tournament.runner`: the crash-safe, resumable run folder,
  serial or local processes; :mod:`~peacegame.tournament.ray_backend`: Ray;
- :mod:`~peacegame.tournament.rankings` and
  :mod:`~peacegame.tournament.significance`: rankings with paired tests;
- :mod:`~peacegame.tournament.game`: the empirical game (stable profiles,
  replicator dynamics);
- :mod:`~peacegame.tournament.report`: the heat map and the report sections
  (analysis extra);
- :mod:`~peacegame.tournament.commands`: the ``tournament`` subcommand.
"""

from importlib import import_module
from typing import Any

# Imported on first use: the CLI imports this package to build its parser, and
# the runner (workers, Ray, analysis) is not needed for that.
_LAZY = {
    "Tournament": "peacegame.tournament.setup",
    "TournamentConfig": "peacegame.tournament.config",
    "TournamentResult": "peacegame.tournament.runner",
    "load_tournament_config": "peacegame.tournament.config",
    "prepare_tournament": "peacegame.tournament.setup",
    "run_tournament": "peacegame.tournament.runner",
    "validate_tournament_file": "peacegame.tournament.player",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'peacegame.tournament' has no attribute {name!r}")


__all__ = [
    "Tournament",
    "TournamentConfig",
    "TournamentResult",
    "load_tournament_config",
    "prepare_tournament",
    "run_tournament",
    "validate_tournament_file",
]
