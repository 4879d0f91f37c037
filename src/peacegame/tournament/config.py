"""Tournament configs (``configs/tournaments/*.yaml``), validated like match configs.

A tournament config names the competitors (policy specs, scripted or learned),
the scenarios they play (shipped names or paths relative to the config file),
the protocol, the assignment scheme, the episodes per assignment and the base
seed. ``--set`` overrides are applied to the YAML data before validation, as
for matches. The schemes are defined in ``docs/tournaments.md`` and built by
:mod:`peacegame.tournament.plan`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from peacegame.errors import ConfigError, UserError
from peacegame.match_config import apply_override
from peacegame.protocol import ProtocolConfig
from peacegame.resources import resolve_config
from peacegame.yamlio import read_yaml, validate

NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
"""Competitor and tournament names: letters, digits, ``_ . -``."""

DEFAULT_MAX_MATCHES = 100_000
"""Default refusal threshold of ``cartesian`` and ``opponents: all``."""


class AssignmentConfig(BaseModel):
    """How competitors are assigned to roles (see ``docs/tournaments.md``).

    Attributes:
        scheme: ``role_rotation``: every competitor plays every role it may play
            against the same opponent assignments on the same seeds (paired);
            ``cartesian``: every full assignment of competitors to roles;
            ``sampled``: ``samples`` random full assignments.
        opponents: ``role_rotation`` only: how many opponent assignments are
            drawn from the pool (each role's opponents uniformly among the
            competitors that may play it), or ``all`` for every combination.
        samples: ``sampled`` only (required): the number of random assignments.
        max_matches: ``cartesian`` and ``opponents: all`` refuse to run more
            matches (episodes) than this, suggesting ``sampled``.
    """

    model_config = ConfigDict(extra="forbid")

    scheme: Literal["role_rotation", "cartesian", "sampled"] = Field(
        default="role_rotation", description="assignment scheme"
    )
    opponents: Annotated[int, Field(ge=1)] | Literal["all"] = Field(
        default=8, description="role_rotation: opponent assignments, or 'all'"
    )
    samples: int | None = Field(
        default=None, ge=1, description="sampled: number of random assignments"
    )
    max_matches: int = Field(
        default=DEFAULT_MAX_MATCHES, ge=1, description="refusal threshold"
    )

    @model_validator(mode="after")
    def _scheme_fields(self) -> AssignmentConfig:
        given = self.model_fields_set
        if self.scheme == "sampled" and self.samples is None:
            raise ValueError(
                "scheme 'sampled' needs samples: N (the number of random assignments)"
            )
        if self.scheme != "sampled" and "samples" in given:
            raise ValueError(
                f"samples is used by scheme 'sampled', not {self.scheme!r}"
            )
        if self.scheme != "role_rotation" and "opponents" in given:
            raise ValueError(
                f"opponents is used by scheme 'role_rotation', not {self.scheme!r}"
            )
        return self


class RankingConfig(BaseModel):
    """Statistics of the rankings and the empirical game.

    Attributes:
        test: Paired test between neighbours in the overall and the per-role
            rankings: ``wilcoxon`` (signed-rank) or ``t`` (paired t). The
            ``sampled`` scheme is not paired and always uses Welch's t test.
        alpha: Family-wise error rate (Holm) of the overall ranking's
            neighbour comparisons, and apart, of all the per-role ones.
        epsilon: A strategy profile is stable when no role gains more than this
            (in payoff) by switching competitor.
    """

    model_config = ConfigDict(extra="forbid")

    test: Literal["wilcoxon", "t"] = Field(default="wilcoxon")
    alpha: float = Field(default=0.05, gt=0, lt=1)
    epsilon: float = Field(default=0.01, ge=0)


class TournamentConfig(BaseModel):
    """A configured tournament.

    Attributes:
        name: Run name; the default output folder is ``runs/tournaments/<name>``.
        description: Free text.
        scenarios: Scenario files (relative to this config file) or shipped
            scenario names; every scenario needs the same actors (the roles).
        protocol: The negotiation protocol, shared by every scenario.
        competitors: Per competitor name, a policy spec ``{policy: NAME,
            ...params}`` (or just ``NAME``), with an optional ``roles: [actor,
            ...]`` restricting the roles it plays. A learned checkpoint plays
            only the actor it was trained for unless ``roles`` says otherwise.
        assignment: The assignment scheme.
        episodes: Episodes per assignment (each on its own seed).
        seed: Base seed; every seed and random draw derives from it.
        output: Output folder; default ``runs/tournaments/<name>``.
        log_events: ``rounds`` logs every round; ``none`` (the default for
            tournaments) logs outcomes only.
        ranking: Statistics of the rankings and the empirical game.
        engine: ``env`` plays every episode through the PettingZoo AEC env;
            ``batch`` through the vectorised batch engine (every competitor of
            every assignment must have a vectorised form); ``auto`` (default)
            uses the batch engine for each assignment whose policies all have
            one and the env for the others. Both write identical log lines.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    scenarios: list[str] = Field(default_factory=lambda: ["ukraine-2025"], min_length=1)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    competitors: dict[str, Any] = Field(min_length=2)
    assignment: AssignmentConfig = Field(default_factory=AssignmentConfig)
    episodes: int = Field(default=10, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0, lt=2**63)
    output: str | None = None
    log_events: Literal["rounds", "none"] = "none"
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    engine: Literal["auto", "env", "batch"] = "auto"

    @field_validator("competitors")
    @classmethod
    def _competitor_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        import re

        for name in value:
            if not re.match(NAME_PATTERN, str(name)):
                raise ValueError(
                    f"competitor name {name!r} must use letters, digits, '_', '.' "
                    "or '-'"
                )
        return value

    @field_validator("scenarios")
    @classmethod
    def _unique_scenarios(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a scenario is listed twice")
        return value


def default_output(config: TournamentConfig) -> Path:
    """The run folder used when neither ``--out`` nor ``output`` is given."""
    return Path(config.output or Path("runs") / "tournaments" / config.name)


def load_tournament_config(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[TournamentConfig, Path, list[Path]]:
    """Read, override and validate a tournament config.

    Args:
        path: A config file, or the name of a shipped tournament config.
        overrides: ``dotted.key=value`` overrides (see
            :func:`peacegame.match_config.apply_override`).

    Returns:
        The config, its resolved file, and its resolved scenario files.

    Raises:
        ConfigError: With the file, the field path and what was expected.
    """
    file = resolve_config(str(path), "tournaments")
    data = read_yaml(file)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of tournament fields", file=file)
    for assignment in overrides or []:
        data = apply_override(data, assignment)
    config = validate(TournamentConfig, data, file=file)
    return config, file, scenario_paths(config, file)


def scenario_paths(config: TournamentConfig, config_file: Path) -> list[Path]:
    """Resolve each scenario relative to the config file, or as a shipped name.

    Raises:
        ConfigError: Naming the scenario that is neither.
    """
    out = []
    for i, name in enumerate(config.scenarios):
        relative = config_file.parent / name
        if relative.is_file():
            out.append(relative)
            continue
        try:
            out.append(resolve_config(name, "scenarios"))
        except UserError:
            raise ConfigError(
                f"no scenario file {relative} and no shipped scenario {name!r}",
                file=config_file,
                field=f"scenarios[{i}]",
            ) from None
    return out
