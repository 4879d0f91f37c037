"""Shared fixtures: the default scenario, compiled once per session."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from peacegame.scenario import CompiledScenario, load_compiled

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "configs" / "scenarios"


@pytest.fixture(scope="session")
def default_scenario() -> CompiledScenario:
    return load_compiled(SCENARIOS / "ukraine-2025.yaml")


BASELINE = ROOT / "configs" / "matches" / "baseline.yaml"


def spawn_run(
    out: Path, episodes: int, capture: bool = False, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    """Start ``peacegame run`` of the baseline in a subprocess, on the env engine.

    The env engine writes one line per episode, so a signal lands mid-run.

    Args:
        out: The run folder.
        episodes: ``--episodes``.
        capture: Capture stdout and stderr (text) instead of discarding them.
        extra: More arguments (``--set KEY=VALUE``...).
    """
    cmd = [
        sys.executable,
        "-m",
        "peacegame.cli",
        "run",
        str(BASELINE),
        "--out",
        str(out),
        "--episodes",
        str(episodes),
        "--quiet",
        "--no-plots",
        "--engine",
        "env",
        *extra,
    ]
    pipe = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(cmd, stdout=pipe, stderr=pipe, text=True)


def wait_for_log(log: Path, min_bytes: int = 1, timeout: float = 60) -> None:
    """Wait until ``log`` holds more than ``min_bytes - 1`` bytes (or time out)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if log.exists() and log.stat().st_size >= min_bytes:
            return
        time.sleep(0.01)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight chat model and tokenizer, built locally (LLM tests)."""
    from peacegame.policies.llm.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
