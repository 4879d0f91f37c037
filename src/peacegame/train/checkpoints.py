"""Run folders, checkpoint metadata and finding the last checkpoint.

A train run folder (default ``runs/train/<name>``) holds:

* ``run.json``: the train config, the match config, the scenario identity and
  the library versions, written when the run starts;
* ``checkpoints/<prefix>_<timesteps>_steps.zip``: SB3 checkpoints (SB3's
  ``CheckpointCallback`` naming), each with its metadata ``.json`` beside it;
* ``model.zip`` + ``model.json``: the final model;
* ``learning_curve.csv`` (+ ``learning_curve.png`` after ``evaluate``) and
  ``tb/``: TensorBoard event files.

The metadata is what :class:`peacegame.policies.learned.LearnedPolicy` checks
when a match loads a checkpoint (actor, scenario hash, observation size, number
of actions, protocol).
"""

from __future__ import annotations

import json
import re
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from peacegame import __version__, logs
from peacegame.env import NegotiationEnv
from peacegame.errors import UserError
from peacegame.policies.base import make_view
from peacegame.policies.learned import view_fingerprint
from peacegame.protocol import ProtocolConfig
from peacegame.record import PublicRecord
from peacegame.scenario.compiled import CompiledScenario

RUN_FILE = "run.json"
"""The run folder's description, written when training starts."""
CHECKPOINTS = "checkpoints"
"""The run folder's checkpoint subfolder."""
FINAL_MODEL = "model.zip"
"""The final SB3 model of a run."""
CURVE = "learning_curve.csv"
"""The learning curve (one row per rollout)."""
CURVE_PNG = "learning_curve.png"
"""The plotted learning curve."""

_STEPS = re.compile(r"_(\d+)_steps\.zip$")


def library_versions(*names: str) -> dict[str, str]:
    """Installed versions of peacegame and of the named distributions."""
    out = {"peacegame": __version__}
    for name in names:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def now() -> str:
    """The local time as ISO 8601 with offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def actor_metadata(
    scenario: CompiledScenario,
    protocol: ProtocolConfig,
    actor: str,
    *,
    backend: str,
    algorithm: str,
) -> dict[str, Any]:
    """The metadata that identifies what a checkpoint of ``actor`` can play.

    Args:
        scenario: The scenario it was trained on.
        protocol: The protocol it was trained under.
        actor: The actor it plays.
        backend: ``sb3`` or ``rllib``.
        algorithm: For example ``MaskablePPO`` or ``PPO``.

    Returns:
        JSON-ready metadata (see :func:`peacegame.policies.learned.read_metadata`).
    """
    env = NegotiationEnv(scenario=scenario, protocol=protocol)
    rules = env.protocol
    view = make_view(rules, actor, PublicRecord(scenario.n_actors, rules.max_rounds))
    return {
        "backend": backend,
        "algorithm": algorithm,
        "actor": actor,
        "scenario": {
            "name": scenario.name,
            "hash": scenario.scenario_hash,
            "n_outcomes": scenario.n_outcomes,
            "actors": list(scenario.actors),
        },
        "view_fingerprint": view_fingerprint(view),
        "obs_size": int(env.table.size),
        "n_actions": int(rules.n_actions),
        "observation_fields": {
            name: [s.start, s.stop] for name, s in env.observation_fields.items()
        },
        "protocol": protocol.model_dump(mode="json"),
    }


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """SB3 checkpoints in ``folder`` as ``(timesteps, path)``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*_steps.zip"):
        match = _STEPS.search(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint with the most timesteps in ``folder``, or None."""
    found = list_checkpoints(folder)
    return found[-1][1] if found else None


def prepare_run_dir(run_dir: Path, *, resume: bool, overwrite: bool) -> None:
    """Create the run folder; refuse to mix a new run into an old one.

    Raises:
        UserError: If the folder has results and neither flag is given, or it
            cannot be written.
    """
    if run_dir.exists() and not run_dir.is_dir():
        logs.ensure_folder(run_dir)  # raises: the output folder is a file
    if (run_dir / RUN_FILE).exists() and not (resume or overwrite):
        raise UserError(
            "the run folder already has a training run; pass --resume to continue "
            "it or --overwrite to start again",
            file=run_dir,
        )
    if overwrite and run_dir.is_dir():
        import shutil

        for name in (
            RUN_FILE,
            FINAL_MODEL,
            "model.json",
            CURVE,
            CURVE_PNG,
            "evaluation.json",
            "returns.csv",
            "returns.png",
            "self_play.json",
            "final-match.yaml",
        ):
            (run_dir / name).unlink(missing_ok=True)
        for sub in (CHECKPOINTS, "tb", "snapshots", "modules", "rllib"):
            shutil.rmtree(run_dir / sub, ignore_errors=True)
    logs.ensure_folder(run_dir)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically, keys sorted (training metadata is compared by eye)."""
    logs.write_json(path, data, sort_keys=True, default=str)


def write_run_file(
    run_dir: Path,
    *,
    config: Any,
    config_file: str | Path | None,
    match: Any,
    match_file: str | Path,
    scenario: Any,
    scenario_file: str | Path,
    **extra: Any,
) -> None:
    """Write the run folder's ``run.json``: what was trained, on what, with what.

    Args:
        run_dir: The run folder.
        config: The validated train config.
        config_file: Its file, if any.
        match: The match config the learner plays.
        match_file: The match config's file.
        scenario: The compiled scenario.
        scenario_file: The scenario's file.
        **extra: Trainer-specific fields (learner, order, versions...).
    """
    write_json(
        run_dir / RUN_FILE,
        {
            "kind": "train",
            "trainer": config.trainer,
            "created": now(),
            "config_path": str(config_file) if config_file else None,
            "config": config.model_dump(mode="json"),
            "match_path": str(match_file),
            "match": match.model_dump(mode="json"),
            "scenario": {
                "name": scenario.name,
                "hash": scenario.scenario_hash,
                "path": str(scenario_file),
            },
            **extra,
        },
    )


def read_run(run_dir: Path) -> dict[str, Any] | None:
    """The run folder's ``run.json``, or None."""
    path = run_dir / RUN_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def check_resumable(run_dir: Path, config: dict[str, Any]) -> None:
    """A resumed run must have the same config but for its length and output.

    Raises:
        UserError: Naming the fields that differ.
    """
    old = read_run(run_dir)
    if old is None:
        return
    # Length, place and resources may change; what is learned may not.
    ignore = {
        "total_timesteps",
        "iterations",
        "rounds",
        "output",
        "description",
        "num_env_runners",
        "envs_per_runner",
        "rollout_fragment_length",
        "sample_timeout_s",
        "vec_env",
        "torch_threads",
    }
    previous = old.get("config", {})
    keys = sorted(
        k
        for k in set(config) | set(previous)
        if k not in ignore and previous.get(k) != config.get(k)
    )
    if keys:
        raise UserError(
            f"cannot resume: the train config differs from the run's in {keys}; "
            "use --overwrite to start again",
            file=run_dir / RUN_FILE,
        )


def truncate_curve(path: Path, timesteps: int) -> None:
    """Drop learning-curve rows past ``timesteps`` (before resuming there)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return
    kept = [lines[0]]
    for line in lines[1:]:
        try:
            if int(line.split(",", 1)[0]) <= timesteps:
                kept.append(line)
        except ValueError:
            continue
    path.write_text("".join(kept))


__all__ = [
    "CHECKPOINTS",
    "CURVE",
    "CURVE_PNG",
    "FINAL_MODEL",
    "RUN_FILE",
    "actor_metadata",
    "check_resumable",
    "latest_checkpoint",
    "library_versions",
    "list_checkpoints",
    "prepare_run_dir",
    "read_run",
    "truncate_curve",
    "write_json",
]
