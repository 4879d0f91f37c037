"""The config kinds users write, how to recognise them, and their JSON Schemas.

Each kind maps to a pydantic model; ``peacegame schema`` exports every model's
JSON Schema so editors can validate and autocomplete, and ``peacegame validate``
recognises a file's kind from its top-level keys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from peacegame.kinds import detect_kind
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
    from peacegame.tournament.player import validate_tournament_file

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
