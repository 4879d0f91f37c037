"""From a config file to a checked :class:`Tournament`, before any match starts.

:func:`prepare_tournament` loads and validates the config, compiles the
scenarios, checks that they share one actor set (the roles), builds every
competitor's policy once (an unknown policy, bad parameters or a missing
checkpoint fail here), works out which roles each competitor may play and
enumerates the plan (refusing a ``cartesian`` pool that is too large). The
runner's :class:`~peacegame.tournament.player.TournamentPlayer` then resets
every competitor's policy on every (scenario, role) view it will meet, so a
checkpoint trained on another scenario also fails before the first episode.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peacegame.engine import OutcomeMetrics
from peacegame.errors import ConfigError, suggest
from peacegame.policies import make_policy, policy_label
from peacegame.policies.registry import normalise_spec
from peacegame.scenario import CompiledScenario, load_compiled
from peacegame.tournament.config import TournamentConfig, load_tournament_config
from peacegame.tournament.plan import Plan, build_plan

with contextlib.suppress(ImportError):  # registers the ``learned`` policy kind
    import peacegame.policies.learned  # noqa: F401


@dataclass(frozen=True)
class Competitor:
    """One competitor of a tournament.

    Attributes:
        name: Its name in the config (and in logs and rankings).
        spec: Its policy spec, without ``roles``.
        roles: The roles (actor ids) it plays, in the tournament's role order.
        label: Its policy label, as in match logs (``boulware(e=0.2)``).
    """

    name: str
    spec: dict[str, Any]
    roles: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Tournament:
    """A validated tournament, ready to run (picklable, for workers).

    Attributes:
        config: The validated config.
        config_path: The config file, if any (relative checkpoint paths).
        scenario_files: Each scenario's file.
        scenarios: Each scenario, compiled.
        metrics: Each scenario's per-outcome quality metrics.
        roles: The roles: the first scenario's actor ids, in its order.
        competitors: The competitors, in config order.
        plan: Every assignment, in episode order.
    """

    config: TournamentConfig
    config_path: str | None
    scenario_files: tuple[str, ...]
    scenarios: tuple[CompiledScenario, ...]
    metrics: tuple[OutcomeMetrics, ...]
    roles: tuple[str, ...]
    competitors: tuple[Competitor, ...]
    plan: Plan

    def eligible(self) -> list[list[int]]:
        """Per role, the indices of the competitors that may play it."""
        return eligible_by_role(self.roles, self.competitors)

    @property
    def n_episodes(self) -> int:
        """Episodes in the whole tournament."""
        return self.plan.n_episodes


def eligible_by_role(
    roles: tuple[str, ...], competitors: tuple[Competitor, ...]
) -> list[list[int]]:
    """Per role, the indices of the competitors whose ``roles`` include it."""
    return [[i for i, c in enumerate(competitors) if r in c.roles] for r in roles]


def _scenarios(
    config: TournamentConfig, files: list[Path], where: str
) -> tuple[list[CompiledScenario], tuple[str, ...]]:
    compiled = [load_compiled(f) for f in files]
    roles = compiled[0].actors
    names: dict[str, int] = {}
    for i, scenario in enumerate(compiled):
        field = f"scenarios[{i}]"
        if scenario.name in names:
            raise ConfigError(
                f"scenarios[{names[scenario.name]}] and scenarios[{i}] are both named "
                f"{scenario.name!r}; scenario names label the episodes, so give "
                "each its own",
                file=where,
                field=field,
            )
        names[scenario.name] = i
        if set(scenario.actors) != set(roles):
            raise ConfigError(
                f"scenario {scenario.name!r} has actors {list(scenario.actors)} but "
                f"the tournament's roles are {list(roles)} (from scenario "
                f"{compiled[0].name!r}); every scenario needs the same actors",
                file=where,
                field=field,
            )
    return compiled, roles


def _competitor(name: str, raw: Any, roles: tuple[str, ...], where: str) -> Competitor:
    field = f"competitors.{name}"
    spec = normalise_spec(raw, file=where, field=field)
    wanted = spec.pop("roles", None)
    policy = make_policy(dict(spec), file=where, field=field)
    own_actor = getattr(policy, "actor", None)
    if wanted is None:
        if isinstance(own_actor, str):  # a learned checkpoint: its own actor
            if own_actor not in roles:
                raise ConfigError(
                    f"plays actor {own_actor!r} only (its checkpoint's), which is "
                    f"not a role of this tournament {list(roles)}",
                    file=where,
                    field=field,
                )
            wanted = [own_actor]
        else:
            wanted = list(roles)
    if (
        not isinstance(wanted, list)
        or not wanted
        or not all(isinstance(r, str) for r in wanted)
    ):
        raise ConfigError(
            "expected a non-empty list of actor ids", file=where, field=f"{field}.roles"
        )
    for r in wanted:
        if r not in roles:
            raise ConfigError(
                f"unknown role {r!r}{suggest(r, roles)}; the roles are {list(roles)}",
                file=where,
                field=f"{field}.roles",
            )
    ordered = tuple(r for r in roles if r in wanted)
    return Competitor(name, spec, ordered, policy_label(policy))


def tournament_from_config(
    config: TournamentConfig,
    scenario_files: list[Path],
    config_path: str | Path | None = None,
) -> Tournament:
    """Check a validated config and build its :class:`Tournament`.

    Raises:
        ConfigError: A scenario with other actors, an unknown policy, bad
            parameters, a missing checkpoint, an unknown role, a role nobody
            plays, or a ``cartesian`` pool that is too large.
    """
    where = str(config_path) if config_path is not None else "<config>"
    compiled, roles = _scenarios(config, scenario_files, where)
    competitors = tuple(
        _competitor(name, raw, roles, where) for name, raw in config.competitors.items()
    )
    eligible = eligible_by_role(roles, competitors)
    for role, pool in zip(roles, eligible, strict=True):
        if not pool:
            raise ConfigError(
                f"no competitor may play role {role!r}; check the competitors' roles",
                file=where,
                field="competitors",
            )
    plan = build_plan(config, eligible, file=where)
    return Tournament(
        config=config,
        config_path=str(config_path) if config_path is not None else None,
        scenario_files=tuple(str(f) for f in scenario_files),
        scenarios=tuple(compiled),
        metrics=tuple(OutcomeMetrics.of(s) for s in compiled),
        roles=roles,
        competitors=competitors,
        plan=plan,
    )


def prepare_tournament(
    path: str | Path, overrides: list[str] | None = None
) -> Tournament:
    """Load a tournament config file (with ``--set`` overrides) and check it.

    Raises:
        ConfigError: See :func:`tournament_from_config` and
            :func:`~peacegame.tournament.config.load_tournament_config`.
    """
    config, file, scenario_files = load_tournament_config(path, overrides)
    return tournament_from_config(config, scenario_files, file)
