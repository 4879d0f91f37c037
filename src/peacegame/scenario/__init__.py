"""The scenario layer: YAML -> validated model -> :class:`CompiledScenario`.

The names below are imported on first use (PEP 562), so that importing one
submodule, such as :mod:`peacegame.scenario.compiled` to unpickle a compiled
scenario, does not load the others (pydantic models, the YAML loader).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peacegame.lazy import lazy_attribute

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
    "compile_dict": "peacegame.scenario.compile",
    "compile_scenario": "peacegame.scenario.compile",
    "estimate_bytes": "peacegame.scenario.compile",
    "load_compiled": "peacegame.scenario.compile",
    "CompiledScenario": "peacegame.scenario.compiled",
    "IssueInfo": "peacegame.scenario.compiled",
    "LoadedScenario": "peacegame.scenario.loader",
    "load_scenario": "peacegame.scenario.loader",
    "scenario_from_dict": "peacegame.scenario.loader",
    "SCHEMA_KINDS": "peacegame.scenario.model",
    "Actor": "peacegame.scenario.model",
    "Scenario": "peacegame.scenario.model",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute("peacegame.scenario", _LAZY, globals(), name)


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
