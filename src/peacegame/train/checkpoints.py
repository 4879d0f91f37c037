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
import shlex
import sys
import time
from collections.abc import Callable
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import yaml

from peacegame import __version__, logs
from peacegame.engine.record import PublicRecord
from peacegame.engine.tables import Rules
from peacegame.errors import UserError
from peacegame.policies.base import make_view
from peacegame.policies.learned import view_fingerprint
from peacegame.protocol import ProtocolConfig
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
FINAL_MATCH = "final-match.yaml"
"""A match config playing a run's final policies (self-play, marl)."""

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
    rules = Rules(scenario, protocol)
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
        "obs_size": int(rules.interface_observation_size),
        "n_actions": int(rules.interface.n_actions),
        "actions": rules.interface.name,
        "observation_fields": {
            name: [s.start, s.stop] for name, s in rules.interface_fields.items()
        },
        "protocol": protocol.model_dump(mode="json"),
    }


def learned_spec(path: Path) -> dict[str, Any]:
    """The ``{policy: learned}`` spec of a checkpoint (absolute path)."""
    return {"policy": "learned", "checkpoint": str(path.resolve())}


def write_final_match(
    run_dir: Path,
    match: Any,
    scenario_file: Path,
    current: dict[str, Any],
    name: str,
    trainer: str,
) -> Path:
    """Write ``final-match.yaml``: ``match`` with the run's final policies.

    Learned checkpoints are named relative to the run folder (a config may
    only name checkpoints inside its own folder); other specs are kept.

    Args:
        run_dir: The run folder.
        match: The :class:`~peacegame.match_config.MatchConfig` trained on.
        scenario_file: Its scenario file.
        current: Actor -> policy spec (:func:`learned_spec` for learned ones).
        name: The train config's name.
        trainer: Which trainer wrote it (for the file's comment).

    Returns:
        The file written.
    """
    policies = {}
    for actor, spec in current.items():
        if isinstance(spec, dict) and spec.get("policy") == "learned":
            relative = Path(spec["checkpoint"]).relative_to(run_dir.resolve())
            policies[actor] = {"policy": "learned", "checkpoint": str(relative)}
        else:
            policies[actor] = spec
    data = match.model_dump(mode="json", exclude_none=True)
    data.update(
        name=f"{name}-final",
        description=f"Final {trainer} policies of {name}",
        scenario=str(scenario_file.resolve()),
        policies=policies,
    )
    data.pop("output", None)
    path = run_dir / FINAL_MATCH
    path.write_text(
        f"# Written by peacegame train ({trainer}): every actor's final policy.\n"
        + yaml.safe_dump(data, sort_keys=False)
    )
    return path


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
        UserError: If the folder has results and neither flag is given, both
            are, or it cannot be written.
    """
    if resume and overwrite:
        raise UserError(logs.RESUME_CONFLICT)
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
            "marl.pt",
            "progress.jsonl",
            "psro.json",
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
            "config_given": config.model_dump(mode="json", exclude_unset=True),
            "overrides": list(_RUN_OVERRIDES),
            "resume_command": resume_command(run_dir),
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


LENGTH_FIELDS = ("total_timesteps", "iterations", "rounds", "generations")
"""The train config fields that set how long a run is (its planned count)."""

_RUN_OVERRIDES: list[str] = []


def record_overrides(overrides: list[str]) -> None:
    """Set the ``--set`` overrides that :func:`write_run_file` records next."""
    _RUN_OVERRIDES[:] = list(overrides)


def resume_command(run_dir: str | Path) -> str:
    """``peacegame train --resume --out RUN_DIR``: continues the recorded run."""
    return f"peacegame train --resume --out {shlex.quote(str(run_dir))}"


def keep_planned_count(
    run_dir: Path,
    field: str,
    requested: int,
    done: Callable[[], int],
    *,
    unit: str,
    file: Path,
) -> None:
    """On a resume, never lower the run's planned count silently (as matches).

    Args:
        run_dir: The run folder (its ``run.json`` holds the recorded count).
        field: The length field (``total_timesteps``, ``iterations``...).
        requested: Its value now.
        done: How many are trained already (called only if one is recorded).
        unit: What is counted, for the messages.
        file: What the error names (the checkpoints).

    Raises:
        UserError: If ``requested`` is below what is trained.
    """
    recorded = (read_run(run_dir) or {}).get("config", {})
    if field not in recorded:
        return
    _, note = logs.resolve_planned(
        int(recorded[field]),
        requested,
        done(),
        unit=unit,
        flag=f"--set {field}=",
        file=file,
        done_word="trained",
    )
    if note:
        print(f"note: {note}", file=sys.stderr)


def check_resumable(run_dir: Path, config: dict[str, Any]) -> None:
    """A resumed run must have the same config but for its length and output.

    Raises:
        UserError: Naming the fields that differ and the command that
            continues the recorded run.
    """
    old = read_run(run_dir)
    if old is None:
        return
    # Length, place and resources may change; what is learned may not.
    ignore = (
        *LENGTH_FIELDS,
        "output",
        "description",
        "num_env_runners",
        "envs_per_runner",
        "rollout_fragment_length",
        "sample_timeout_s",
        "vec_env",
        "torch_threads",
    )
    from peacegame.train.config import TRAINERS

    recorded = old.get("config", {})
    model = TRAINERS.get(str(recorded.get("trainer", "maskable_ppo")))
    if model is not None:  # fields added since the run count at their defaults
        recorded = logs.with_defaults(model, recorded)
    differences = logs.config_differences(recorded, config, ignore)
    if differences:
        raise UserError(
            "cannot resume: the train config differs from the recorded run in "
            f"{logs.describe_differences(differences)}; to continue the recorded "
            f"run as it was, use: {resume_command(run_dir)} (or start a new run "
            "with another --out)",
            file=run_dir / RUN_FILE,
        )


def resolve_resume(
    path: str | Path | None, overrides: list[str], *, out: str | None, resume: bool
) -> tuple[Any, Path | None, list[str]]:
    """The train config to run: the file's, or the recorded one on resume.

    With ``resume`` and a run folder that has a ``run.json``, the recorded run
    continues: without ``path`` its effective config is read from ``run.json``;
    with ``path`` the file is read with the recorded overrides first. Either
    way the length fields (:data:`LENGTH_FIELDS`) keep their recorded values
    unless ``overrides`` set them.

    Args:
        path: The train config file or shipped name; None to resume ``out``.
        overrides: ``key=value`` overrides given now (``--set``).
        out: ``--out``.
        resume: ``--resume``.

    Returns:
        The config, its file (None if there is none), and every override
        applied (recorded in ``run.json``).

    Raises:
        UserError: On a bad config, or nothing to resume.
    """
    from peacegame.match_config import apply_override
    from peacegame.train.config import load_train_config, parse_train_config

    new = list(overrides) + ([f"output={out}"] if out else [])
    if path is None:
        if not resume:
            raise UserError(
                "no train config given; name one (file or shipped name), or pass "
                "--resume --out RUN_FOLDER to continue a run"
            )
        if out is None:
            raise UserError(
                "--resume without a config needs --out RUN_FOLDER: the run folder "
                "to continue"
            )
        run_dir = Path(out)
    else:
        config, config_file = load_train_config(path, new)
        run_dir = config.run_dir()
    old = read_run(run_dir) if resume else None
    if old is None:
        if path is None:
            raise UserError(
                "nothing to resume: no run.json in the run folder; start the run "
                f"with: peacegame train CONFIG --out {shlex.quote(str(run_dir))}",
                file=run_dir,
            )
        return config, config_file, new
    applied = logs.merge_overrides(list(old.get("overrides") or []), new)
    recorded_path = old.get("config_path")
    if path is not None:
        config, config_file = load_train_config(path, applied)
    else:
        data = old.get("config_given", old.get("config"))
        for assignment in new:
            data = apply_override(data, assignment)
        config_file = Path(recorded_path) if recorded_path else None
        config = parse_train_config(data, run_dir / RUN_FILE)
    given = {logs.override_key(o) for o in new}
    keep = {
        k: v
        for k, v in (old.get("config") or {}).items()
        if k in LENGTH_FIELDS and k not in given and hasattr(config, k)
    }
    if keep:
        config = config.model_copy(update=keep)
    return config, config_file, applied


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
    "record_overrides",
    "resolve_resume",
    "resume_command",
    "latest_checkpoint",
    "library_versions",
    "list_checkpoints",
    "prepare_run_dir",
    "read_run",
    "truncate_curve",
    "write_json",
]
