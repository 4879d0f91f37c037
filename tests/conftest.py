"""Shared fixtures: the default scenario, compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from peacegame.scenario import CompiledScenario, load_compiled

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "configs" / "scenarios"


@pytest.fixture(scope="session")
def default_scenario() -> CompiledScenario:
    return load_compiled(SCENARIOS / "ukraine-2025.yaml")
