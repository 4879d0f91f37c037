"""The scenario layer: YAML -> validated model -> :class:`CompiledScenario`.

The names below are imported on first use (PEP 562), so that importing one
submodule, such as :mod:`peacegame.scenario.compiled` to unpickle a compiled
scenario, does not load the others (pydantic models, the YAML loader).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peacegame.scenario.compile import (
        compile_dict,
        compile_scenario,
        estimate_bytes,
        load_compiled,
    )
    from peacegame.scenario.compiled import CompiledScenario, IssueInfo
    from peacegame.scenario.loader import (
        LoadedScenario,
        load_scenario,
        scenario_from_dict,
    )
    from peacegame.scenario.model import SCHEMA_KINDS, Actor, Scenario

_LAZY = {
    "compile_dict": "compile",
    "compile_scenario": "compile",
    "estimate_bytes": "compile",
    "load_compiled": "compile",
    "CompiledScenario": "compiled",
    "IssueInfo": "compiled",
    "LoadedScenario": "loader",
    "load_scenario": "loader",
    "scenario_from_dict": "loader",
    "SCHEMA_KINDS": "model",
    "Actor": "model",
    "Scenario": "model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'peacegame.scenario' has no attribute {name!r}")
    value = getattr(import_module(f"peacegame.scenario.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SCHEMA_KINDS",
    "Actor",
    "CompiledScenario",
    "IssueInfo",
    "LoadedScenario",
    "Scenario",
    "compile_dict",
    "compile_scenario",
    "estimate_bytes",
    "load_compiled",
    "load_scenario",
    "scenario_from_dict",
]
