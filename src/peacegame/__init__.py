"""peacegame: a multi-agent negotiation game over a peacekeeping force for Ukraine.

Quick start::

    import peacegame
    env = peacegame.env(render_mode="ansi")      # PettingZoo AEC env
    par = peacegame.parallel_env()               # PettingZoo parallel env
    scenario = peacegame.load_compiled()          # the default scenario's arrays

The env factories are imported lazily so that ``import peacegame`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peacegame.lazy import lazy_attribute

if TYPE_CHECKING:
    from peacegame.scenario import CompiledScenario, compile_dict, load_compiled

__version__ = "0.1.0"

_LAZY = {
    "CompiledScenario": "peacegame.scenario",
    "compile_dict": "peacegame.scenario",
    "load_compiled": "peacegame.scenario",
    "env": "peacegame.env",
    "raw_env": "peacegame.env",
    "parallel_env": "peacegame.env",
    "solve": "peacegame.solutions",
    "vector_env": "peacegame.vector_env",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute("peacegame", _LAZY, globals(), name)


__all__ = [
    "CompiledScenario",
    "__version__",
    "compile_dict",
    "env",
    "load_compiled",
    "parallel_env",
    "raw_env",
    "solve",
    "vector_env",
]
