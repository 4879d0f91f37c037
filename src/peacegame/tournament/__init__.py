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

from peacegame.tournament.config import TournamentConfig, load_tournament_config
from peacegame.tournament.runner import TournamentResult, run_tournament
from peacegame.tournament.setup import (
    Tournament,
    prepare_tournament,
    validate_tournament_file,
)

__all__ = [
    "Tournament",
    "TournamentConfig",
    "TournamentResult",
    "load_tournament_config",
    "prepare_tournament",
    "run_tournament",
    "validate_tournament_file",
]
