"""Plays episode ``i`` of a tournament: the assignment's policies in the env.

One :class:`~peacegame.match.EpisodePlayer` per scenario holds the env, the
metrics and the actors' views; before each episode its policies are swapped for
the assignment's competitors (one policy object per scenario, competitor and
role, built once and reset every episode, exactly as a match reuses its
policies). The episode is played as a match episode is, on the tournament seed
(:meth:`~peacegame.tournament.plan.Plan.seed`): the env is reset with it and
the policy of the actor at position ``a`` gets ``default_rng([seed, a])``. The
log line is the match line plus an ``assignment`` object.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from peacegame.match import EpisodePlayer
from peacegame.match_config import MatchConfig
from peacegame.policies import Policy, make_policy
from peacegame.tournament.setup import Tournament


def _match_config(tournament: Tournament, s: int) -> MatchConfig:
    """A match config for scenario ``s`` (its policies are placeholders)."""
    config = tournament.config
    return MatchConfig(
        name=config.name,
        scenario=tournament.scenario_files[s],
        protocol=config.protocol,
        policies={actor: "random" for actor in tournament.scenarios[s].actors},
        episodes=1,
        seed=config.seed,
        log_events=config.log_events,
        engine="env",
    )


class TournamentPlayer:
    """Plays the episodes of one tournament (see the module docstring).

    Args:
        tournament: The checked tournament.

    Raises:
        ConfigError: If the protocol does not fit a scenario.
    """

    def __init__(self, tournament: Tournament) -> None:
        self.tournament = tournament
        self.plan = tournament.plan
        self.players = [
            EpisodePlayer(
                _match_config(tournament, s),
                scenario,
                tournament.metrics[s],
                config_file=tournament.config_path,
            )
            for s, scenario in enumerate(tournament.scenarios)
        ]
        self.names = [c.name for c in tournament.competitors]
        self.labels = [c.label for c in tournament.competitors]
        self._policies: dict[tuple[int, int, int], Policy] = {}

    def policy(self, s: int, c: int, r: int) -> Policy:
        """The policy of competitor ``c`` in role ``r`` of scenario ``s``."""
        key = (s, c, r)
        policy = self._policies.get(key)
        if policy is None:
            competitor = self.tournament.competitors[c]
            policy = make_policy(
                dict(competitor.spec),
                file=self.tournament.config_path,
                field=f"competitors.{competitor.name}",
            )
            self._policies[key] = policy
        return policy

    def check(self) -> None:
        """Reset every competitor on every (scenario, role) view it will meet.

        Raises:
            ConfigError: If a policy cannot play a role of a scenario (for
                example a checkpoint trained on another scenario).
        """
        roles = self.tournament.roles
        for s, player in enumerate(self.players):
            for r, pool in enumerate(self.tournament.eligible()):
                role = roles[r]
                for c in pool:
                    self.policy(s, c, r).reset(
                        role, player.views[role], np.random.default_rng(0)
                    )

    def play(self, episode: int) -> dict[str, Any]:
        """Play episode ``episode`` of the tournament; return its log line."""
        assignment, replicate = self.plan.locate(episode)
        s = assignment.scenario
        player = self.players[s]
        roles = self.tournament.roles
        for r, c in enumerate(assignment.profile):
            role = roles[r]
            player.policies[role] = self.policy(s, c, r)
            player.labels[role] = self.labels[c]
        seed = self.plan.seed(episode)
        line = player.play(episode, seed)
        info = {
            "id": episode // self.plan.episodes_per_assignment,
            "competitors": {
                roles[r]: self.names[c] for r, c in enumerate(assignment.profile)
            },
            "focal": None if assignment.focal is None else roles[assignment.focal],
            "context": assignment.context,
            "replicate": replicate,
        }
        events = line.pop("events", None)
        line["assignment"] = info
        if events is not None:
            line["events"] = events
        return line
