"""Lazy imports of the optional training libraries, with one-line errors."""

from __future__ import annotations

import os
from types import ModuleType

from peacegame.errors import UserError

TRAIN_EXTRA = "pip install 'peacegame[train]'"
RAY_EXTRA = "pip install 'peacegame[ray]'"


def limit_threads() -> None:
    """Default ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` to 1 before torch loads.

    On a small machine torch's intra-op threads fight the environment and the
    other workers; one thread per process is measurably faster here. An
    explicit setting in the environment wins.
    """
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def require_sb3() -> ModuleType:
    """Import and return ``sb3_contrib`` (with torch and SB3), or raise UserError.

    Raises:
        UserError: If the ``train`` extra is not installed.
    """
    limit_threads()
    try:
        import sb3_contrib
        import stable_baselines3  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"training needs torch, stable-baselines3 and sb3-contrib ({exc.name} "
            f"is missing); {TRAIN_EXTRA}"
        ) from None
    return sb3_contrib


def require_ray() -> ModuleType:
    """Import and return ``ray`` (with RLlib and Tune), or raise UserError.

    Raises:
        UserError: If the ``ray`` extra is not installed.
    """
    limit_threads()
    try:
        import ray
        import ray.rllib  # noqa: F401
        import ray.tune  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"multi-agent training and sweeps need ray[rllib] and torch "
            f"({exc.name} is missing); {RAY_EXTRA}"
        ) from None
    return ray
