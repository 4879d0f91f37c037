"""What kind of config a file is, from its top-level keys alone.

Low in the layers (it needs no config model), so the loaders of every kind can
say, in one line, that a file is another kind and which command or file is
meant. :mod:`peacegame.config_kinds` builds validation and JSON Schemas on it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from peacegame.errors import ConfigError


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
