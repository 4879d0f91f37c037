"""Plays episode ``i`` of a tournament: the assignment's policies in the env.

One :class:`~peacegame.match.EpisodePlayer` per scenario holds the env, the
metrics and the actors' views; before each episode its policies are swapped for
the assignment's competitors (one policy object per scenario, competitor and
role, built once and reset every episode, exactly as a match reuses its
policies). The episode is played as a match episode is, on the tournament seed
(:meth:`~peacegame.tournament.plan.Plan.seed`): the episode is keyed by it
(every random draw is a hash of seed, round and purpose). The log line is the
match line plus an ``assignment`` object.

:meth:`TournamentPlayer.play_many` plays a chunk of episodes: unless the
config's ``engine`` is ``env``, the episodes of each (scenario, profile) whose
policies are all built-in scripted strategies are played together on the batch engine
(:class:`~peacegame.batch.BatchEngine`, on the same seeds), which returns the
env path's records exactly; the others are played through the env. The lines
are byte-identical whichever engine plays them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peacegame.batch import BatchEngine, UnsupportedError
from peacegame.batch.runner import DEFAULT_BATCH_SIZE, supported_spec
from peacegame.errors import UserError
from peacegame.match import BATCH_POLICIES, EpisodePlayer
from peacegame.match_config import MatchConfig
from peacegame.policies import Policy, make_policy, reset_policy
from peacegame.tournament.setup import Tournament, prepare_tournament


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


BATCH_SLOTS = 1024
"""Match slots of a batch engine at most (the episodes per assignment if fewer)."""
AUTO_MIN_GROUP = 8
"""``engine: auto`` plays a chunk's group of episodes of one profile on the
batch engine only from this size: building an engine and stepping a batch cost
more than playing a handful of episodes through the env."""
ENGINE_CACHE = 256
"""Batch engines kept per player, one per (scenario, profile)."""


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
        self.engine = tournament.config.engine
        self.vectorised = [supported_spec(c.spec) for c in tournament.competitors]
        self._engines: dict[tuple[int, tuple[int, ...]], BatchEngine | None] = {}

    def uses_batch(self) -> bool:
        """Whether some episodes may be played on the batch engine."""
        return self.engine != "env" and any(self.vectorised)

    def _no_twin(self, profile: tuple[int, ...]) -> UserError:
        names = [
            self.names[c] for c in dict.fromkeys(profile) if not self.vectorised[c]
        ]
        return UserError(
            f"engine: batch needs every policy to be one of {BATCH_POLICIES}; "
            f"competitor(s) {', '.join(names)} have no vectorised form; use "
            "engine: auto or env"
        )

    def batch_engine(self, s: int, profile: tuple[int, ...]) -> BatchEngine | None:
        """The batch engine of profile ``profile`` in scenario ``s``, if any.

        None when the config's engine is ``env`` or (``auto``) some policy of
        the profile has no vectorised form. Engines are cached (a bounded
        number, oldest dropped first).

        Raises:
            UserError: With ``engine: batch``, if the profile has a policy
                without a vectorised form.
        """
        if self.engine == "env":
            return None
        key = (s, profile)
        if key in self._engines:
            return self._engines[key]
        engine = None
        if all(self.vectorised[c] for c in profile):
            roles = self.tournament.roles
            config = self.players[s].config.model_copy(
                update={
                    "policies": {
                        roles[r]: dict(self.tournament.competitors[c].spec)
                        for r, c in enumerate(profile)
                    }
                }
            )
            try:
                engine = BatchEngine(
                    config,
                    self.tournament.scenarios[s],
                    self.tournament.metrics[s],
                    batch_size=min(
                        DEFAULT_BATCH_SIZE,
                        BATCH_SLOTS,
                        self.plan.episodes_per_assignment,
                    ),
                    config_file=self.tournament.config_path,
                )
            except UnsupportedError as exc:
                if self.engine == "batch":
                    raise UserError(
                        f"engine: batch cannot reproduce this tournament ({exc}); "
                        "use engine: auto or env"
                    ) from None
        elif self.engine == "batch":
            raise self._no_twin(profile)
        if len(self._engines) >= ENGINE_CACHE:
            del self._engines[next(iter(self._engines))]
        self._engines[key] = engine
        return engine

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
            UserError: With ``engine: batch``, if an assignment has a policy
                without a vectorised form.
        """
        if self.engine == "batch":
            for assignment in self.plan.assignments:
                if not all(self.vectorised[c] for c in assignment.profile):
                    raise self._no_twin(assignment.profile)
        roles = self.tournament.roles
        for s, player in enumerate(self.players):
            for r, pool in enumerate(self.tournament.eligible()):
                role = roles[r]
                for c in pool:
                    reset_policy(self.policy(s, c, r), role, player.views[role], 0, r)

    def play(self, episode: int) -> dict[str, Any]:
        """Play episode ``episode`` of the tournament; return its log line."""
        assignment, _ = self.plan.locate(episode)
        s = assignment.scenario
        player = self.players[s]
        roles = self.tournament.roles
        for r, c in enumerate(assignment.profile):
            role = roles[r]
            player.policies[role] = self.policy(s, c, r)
            player.labels[role] = self.labels[c]
        seed = self.plan.seed(episode)
        return self._with_assignment(player.play(episode, seed), episode)

    def play_many(self, episodes: range) -> list[dict[str, Any]]:
        """The log lines of ``episodes``, in order (see the module docstring)."""
        if not self.uses_batch():
            return [self.play(i) for i in episodes]
        groups: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        for i in episodes:
            assignment, _ = self.plan.locate(i)
            key = (assignment.scenario, assignment.profile)
            groups.setdefault(key, []).append(i)
        lines: dict[int, dict[str, Any]] = {}
        for (s, profile), ids in groups.items():
            small = self.engine == "auto" and len(ids) < AUTO_MIN_GROUP
            engine = None if small else self.batch_engine(s, profile)
            if engine is None:
                for i in ids:
                    lines[i] = self.play(i)
                continue
            seeds = [self.plan.seed(i) for i in ids]
            for i, record in zip(ids, engine.run(ids, seeds=seeds), strict=True):
                lines[i] = self._with_assignment(record, i)
        return [lines[i] for i in episodes]

    def _with_assignment(self, line: dict[str, Any], episode: int) -> dict[str, Any]:
        """Add the ``assignment`` object to a match line (before ``events``)."""
        assignment, replicate = self.plan.locate(episode)
        roles = self.tournament.roles
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


def validate_tournament_file(path: Path, data: Any) -> str:
    """``peacegame validate`` for a tournament config: a one-line description.

    Runs every check that :func:`~peacegame.tournament.runner.run_tournament`
    runs before the first match, including resetting every policy on every
    view it will meet.

    Raises:
        ConfigError: If the tournament could not start.
    """
    tournament = prepare_tournament(path)
    TournamentPlayer(tournament).check()
    config = tournament.config
    return (
        f"tournament {config.name!r}: {len(tournament.competitors)} competitors, "
        f"{len(tournament.roles)} roles, {len(tournament.scenarios)} scenario(s), "
        f"{config.assignment.scheme}: {len(tournament.plan.assignments):,} "
        f"assignments x {config.episodes} episodes = {tournament.n_episodes:,} "
        "matches"
    )
