"""Match configs (``configs/matches/*.yaml``): validated like scenarios.

A match config names a scenario, the protocol settings, one policy per actor,
the number of episodes, the base seed, the output folder and how much of each
episode to log. Command-line overrides (``--set protocol.max_rounds=30``) are
applied to the YAML data before validation, so they are validated too.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from peacegame.errors import ConfigError, UserError, suggest
from peacegame.kinds import kind_mismatch
from peacegame.protocol import ProtocolConfig
from peacegame.resources import resolve_config, shipped_names
from peacegame.yamlio import read_yaml, validate


class MatchConfig(BaseModel):
    """A configured match: a scenario, a protocol, a policy per actor, episodes.

    Attributes:
        name: Run name; the default output folder is ``runs/<name>``.
        scenario: A scenario file (relative to this config file) or the name of
            a shipped scenario such as ``ukraine-2025``.
        protocol: The negotiation protocol (see ``ProtocolConfig``).
        policies: Per actor id, a policy spec ``{policy: NAME, ...params}``.
        episodes: Number of episodes.
        seed: Base seed; episode seeds derive from it (docs/log-schema.md).
        output: Output folder (relative to the working directory); default
            ``runs/<name>``.
        log_events: ``rounds`` logs every round's proposer, offer and votes;
            ``none`` logs outcomes only.
        engine: ``env`` plays through the PettingZoo AEC env; ``batch`` through
            the vectorised batch engine (every policy must have a vectorised
            form); ``auto`` picks the batch engine when it can. Both write the
            same log lines.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str | None = None
    scenario: str = "ukraine-2025"
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    policies: dict[str, Any]
    episodes: int = Field(default=100, ge=1, le=10_000_000)
    seed: int = Field(default=0, ge=0, lt=2**63)
    output: str | None = None
    log_events: Literal["rounds", "none"] = "rounds"
    engine: Literal["auto", "env", "batch"] = "auto"

    @field_validator("output")
    @classmethod
    def _output_stays_inside(cls, output: str | None) -> str | None:
        # A config file may come from someone else: its output path must not
        # write outside the working directory. ``--out`` on the command line is
        # the user's own choice and is not limited.
        if output is None:
            return output
        path = Path(output)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(
                f"output {output!r} must be a relative path inside the working "
                "directory (use --out for other places)"
            )
        return output


def apply_override(data: dict[str, Any], assignment: str) -> dict[str, Any]:
    """Apply one ``dotted.key=value`` override (value parsed as YAML).

    ``key=null`` removes the key, restoring its default. A whole policy spec can
    be replaced at once: ``policies.russia=hardliner`` or
    ``policies.russia={policy: boulware, e: 0.1}``.

    Raises:
        ConfigError: If the assignment is malformed.
    """
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"bad --set {assignment!r}; expected dotted.key=value",
            field="--set",
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    out = copy.deepcopy(data)
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {} if child is None else {"policy": child}
            node[part] = child
        node = child
    if value is None:
        node.pop(parts[-1], None)  # key=null restores the default
    else:
        node[parts[-1]] = value
    return out


def load_match_config(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[MatchConfig, Path]:
    """Read, override and validate a match config.

    Returns:
        The config and its resolved scenario file.

    Raises:
        ConfigError: With the file, the field path and what was expected.
    """
    path = resolve_config(str(path), "matches")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of match fields", file=path)
    mismatch = kind_mismatch(data, path, "match")
    if mismatch is not None:
        raise mismatch
    for assignment in overrides or []:
        data = apply_override(data, assignment)
    config = validate(MatchConfig, data, file=path)
    return config, scenario_path(config, path)


def scenario_path(config: MatchConfig, config_file: Path) -> Path:
    """Resolve the config's scenario relative to the config file, or by name."""
    relative = config_file.parent / config.scenario
    if relative.is_file():
        return relative
    try:
        return resolve_config(config.scenario, "scenarios")
    except UserError:
        names = shipped_names("scenarios")
        raise ConfigError(
            f"no scenario file {relative} and no shipped scenario "
            f"{config.scenario!r}{suggest(config.scenario, names)}; shipped "
            f"scenarios: {', '.join(names)}; give a path relative to this file "
            "or one of these names",
            file=config_file,
            field="scenario",
        ) from None


def check_policies_cover_actors(
    config: MatchConfig, actors: tuple[str, ...], file: str | Path
) -> None:
    """Every actor needs exactly one policy, and no unknown actor may have one.

    Raises:
        ConfigError: Naming the missing or unknown actor.
    """
    for name in config.policies:
        if name not in actors:
            raise ConfigError(
                f"unknown actor {name!r}{suggest(name, actors)}; the scenario's "
                f"actors are {list(actors)}",
                file=file,
                field=f"policies.{name}",
            )
    order = config.protocol.order
    if order is not None and sorted(order) != sorted(actors):
        raise ConfigError(
            f"expected a permutation of the scenario's actors {list(actors)}, "
            f"got {order}",
            file=file,
            field="protocol.order",
        )
    missing = [a for a in actors if a not in config.policies]
    if missing:
        raise ConfigError(
            f"no policy for actor(s) {missing}; expected one per actor of "
            f"{list(actors)}",
            file=file,
            field="policies",
        )
