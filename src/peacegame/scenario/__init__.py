"""The scenario layer: YAML -> validated model -> :class:`CompiledScenario`."""

from peacegame.scenario.compile import (
    compile_dict,
    compile_scenario,
    estimate_bytes,
    load_compiled,
)
from peacegame.scenario.compiled import CompiledScenario, IssueInfo
from peacegame.scenario.loader import LoadedScenario, load_scenario, scenario_from_dict
from peacegame.scenario.model import SCHEMA_KINDS, Actor, Scenario

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
