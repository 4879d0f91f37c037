"""The config kinds users write, how to recognise them, and their JSON Schemas.

Each kind maps to a pydantic model; ``peacegame schema`` exports every model's
JSON Schema so editors can validate and autocomplete, and ``peacegame validate``
recognises a file's kind from its top-level keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from peacegame.errors import ConfigError
from peacegame.yamlio import read_yaml, validate


def _kinds() -> dict[str, type[BaseModel]]:
    from peacegame.match_config import MatchConfig
    from peacegame.scenario.model import SCHEMA_KINDS
    from peacegame.tournament.config import TournamentConfig
    from peacegame.train.config import (
        MaskablePPOConfig,
        RllibConfig,
        SelfPlayConfig,
        SweepConfig,
    )

    return {
        **SCHEMA_KINDS,
        "match": MatchConfig,
        "tournament": TournamentConfig,
        "train_maskable_ppo": MaskablePPOConfig,
        "train_self_play": SelfPlayConfig,
        "train_rllib": RllibConfig,
        "sweep": SweepConfig,
    }


def json_schemas() -> dict[str, dict[str, Any]]:
    """Return the JSON Schema of every config kind, by kind name."""
    out = {}
    for kind, model in _kinds().items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"peacegame {kind}"
        out[kind] = schema
    return out


def detect_kind(data: Any, path: Path) -> str:
    """Guess a config file's kind from its keys."""
    if isinstance(data, dict):
        if "param_space" in data:
            return "sweep"
        if "trainer" in data or "learner" in data or "total_timesteps" in data:
            return "train"
        if "competitors" in data:
            return "tournament"
        if "policies" in data:
            return "match"
        if "issues" in data or "extends" in data:
            return "scenario"
        if "terms" in data:
            return "actor"
    raise ConfigError(
        "cannot tell what kind of config this is; expected a scenario (with "
        "'issues' or 'extends'), an actor (with 'terms'), a match (with "
        "'policies'), a tournament (with 'competitors'), a training run (with "
        "'trainer') or a sweep (with 'param_space')",
        file=path,
    )


KIND_NAMES = {
    "scenario": "a scenario",
    "actor": "an actor file",
    "match": "a match config",
    "tournament": "a tournament config",
    "train": "a training config",
    "sweep": "a sweep config",
}
"""How errors name each kind."""

_KIND_KEYS = {
    "scenario": "'issues'",
    "actor": "'terms'",
    "match": "'policies'",
    "tournament": "'competitors'",
    "train": "'trainer'",
    "sweep": "'param_space'",
}


def _how_to_use(kind: str, data: dict[str, Any], path: Path, expected: str) -> str:
    """What to do with a file of ``kind`` given where ``expected`` was meant."""
    if kind == "match":
        ref = data.get("scenario", "ukraine-2025")
        if expected == "scenario" and isinstance(ref, str):
            local = path.parent / ref
            shown = os.path.normpath(local) if local.is_file() else ref
            return (
                f"give its scenario {shown} instead, or play the match with: "
                f"peacegame run {path}"
            )
        return f"play it with: peacegame run {path}"
    if kind == "scenario":
        return (
            f"solve it with: peacegame solve {path}; to play it, name it in the "
            "'scenario' field of a match config (e.g. configs/matches/baseline.yaml)"
        )
    if kind == "actor":
        return (
            "name it under 'actors' of a scenario "
            "(e.g. configs/scenarios/ukraine-2025.yaml)"
        )
    if kind == "tournament":
        return f"run it with: peacegame tournament {path}"
    return f"run it with: peacegame train {path}"


def kind_mismatch(data: Any, path: str | Path, expected: str) -> ConfigError | None:
    """An error when ``data`` is clearly another kind of config than ``expected``.

    Args:
        data: The file's parsed YAML.
        path: The file, for the message.
        expected: The kind the command needs (``scenario``, ``match``...).

    Returns:
        A one-line ConfigError that says what the file is and which command or
        file is meant, or None when the file looks like ``expected`` (or like
        nothing known: ordinary validation then explains what is missing).

    """
    try:
        kind = detect_kind(data, Path(path))
    except ConfigError:
        return None
    if kind == expected or (expected == "train" and kind == "sweep"):
        return None
    return ConfigError(
        f"expected {KIND_NAMES[expected]} (with {_KIND_KEYS[expected]}), got "
        f"{KIND_NAMES[kind]} (it has {_KIND_KEYS[kind]}); "
        f"{_how_to_use(kind, data, Path(path), expected)}",
        file=path,
    )


def _validate_scenario(path: Path, data: Any) -> str:
    from peacegame.scenario import compile_scenario, load_scenario

    compiled = compile_scenario(load_scenario(path))
    return (
        f"scenario {compiled.name!r}: {compiled.n_actors} actors, "
        f"{compiled.n_outcomes} feasible outcomes of {compiled.grid_size}"
    )


def _validate_actor(path: Path, data: Any) -> str:
    from peacegame.scenario.model import Actor

    actor = validate(Actor, data, file=path)
    return (
        f"actor {actor.id!r}: {len(actor.terms)} terms, "
        f"{len(actor.red_lines)} red lines"
    )


def _validate_match(path: Path, data: Any) -> str:
    from peacegame.match_config import check_policies_cover_actors, load_match_config
    from peacegame.policies import make_policy
    from peacegame.scenario import load_compiled

    config, scenario_file = load_match_config(path)
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(config, scenario.actors, path)
    for actor, spec in config.policies.items():
        make_policy(spec, file=str(path), field=f"policies.{actor}")
    return (
        f"match {config.name!r}: scenario {scenario.name!r}, {config.episodes} episodes"
    )


def _validate_tournament(path: Path, data: Any) -> str:
    from peacegame.tournament.setup import validate_tournament_file

    return validate_tournament_file(path, data)


def _validate_training(path: Path, data: Any) -> str:
    from peacegame.train.config import describe_file

    return describe_file(path)


VALIDATORS: dict[str, Callable[[Path, Any], str]] = {
    "scenario": _validate_scenario,
    "actor": _validate_actor,
    "match": _validate_match,
    "tournament": _validate_tournament,
    "train": _validate_training,
    "sweep": _validate_training,
}


def validate_file(path: Path) -> str:
    """Validate one config file of any kind; return a one-line description.

    Raises:
        ConfigError: If the file does not validate.

    """
    data = read_yaml(path)
    kind = detect_kind(data, path)
    return VALIDATORS[kind](path, data)
