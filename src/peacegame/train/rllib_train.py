"""All actors at once: RLlib PPO (new API stack), one RL module per actor.

``peacegame train configs/train/all-actors-rllib.yaml`` reads an
:class:`~peacegame.train.config.RllibConfig` and, top to bottom:

1. starts Ray: a local instance whose temp folder lies inside the run folder
   (``RAY_TMPDIR``), or, when ``RAY_ADDRESS`` is set, attaches to that cluster
   with a plain ``ray.init()`` (start one with ``ray start --head``, add
   machines with ``ray start --address=HEAD:6379``);
2. builds ``PPOConfig`` on :class:`~peacegame.train.rllib_env.RllibNegotiationEnv`
   with one module per actor: RLlib's action-masking PPO module for each actor in
   ``trainable`` (``policies_to_train``), a non-trainable
   :class:`~peacegame.train.rllib_env.ScriptedRLModule` for each other actor,
   which plays its match policy;
3. calls ``Algorithm.train()`` ``iterations`` times, appending each actor's mean
   episode return to ``returns.csv`` (plotted as ``returns.png``), saving the
   algorithm every ``checkpoint_every`` iterations under ``rllib/`` and exporting
   each trainable module to ``modules/<actor>`` with its metadata
   ``modules/<actor>.json`` (``{policy: learned, checkpoint:
   runs/train/<name>/modules/<actor>}`` plays it in any match, without Ray);
4. ``--resume`` restores the last algorithm checkpoint and goes on.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peacegame.errors import UserError
from peacegame.match_config import check_policies_cover_actors
from peacegame.policies.learned import write_metadata
from peacegame.scenario import load_compiled
from peacegame.train.checkpoints import (
    actor_metadata,
    check_resumable,
    keep_planned_count,
    library_versions,
    now,
    prepare_run_dir,
    write_run_file,
)
from peacegame.train.config import RllibConfig, check_actors, load_match
from peacegame.train.deps import require_ray

RETURNS = "returns.csv"
"""Per-iteration mean episode return of every actor."""
RETURNS_PNG = "returns.png"
"""The per-actor return curves."""
RAY_VERSIONS = ("ray", "torch", "gymnasium", "numpy")


@dataclass
class RllibResult:
    """What :func:`train_rllib` did.

    Attributes:
        run_dir: The run folder.
        iterations: Iterations done (resumed ones included).
        seconds: Wall time of this call.
        env_steps: Env steps sampled in all.
        returns: Last iteration's mean episode return per actor.
        modules: Exported module folder per trainable actor.
    """

    run_dir: Path
    iterations: int
    seconds: float
    env_steps: int
    returns: dict[str, float] = field(default_factory=dict)
    modules: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str:
        """A short report."""
        lines = [
            f"{self.iterations} iterations, {self.env_steps} env steps in "
            f"{self.seconds:.1f} s; run folder: {self.run_dir}",
            f"{'actor':<10}{'mean return':>12}",
        ]
        for actor, value in self.returns.items():
            lines.append(f"{actor:<10}{value:>12.4f}")
        for actor, path in self.modules.items():
            lines.append(f"module {actor}: {path}")
        return "\n".join(lines)


def module_of(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    """RLlib's policy mapping: every actor has its own module, named after it."""
    return agent_id


def _short_link(target: Path) -> Path:
    """A short symlink to ``target`` (Ray's socket paths must stay < 108 bytes)."""
    import hashlib
    import tempfile

    digest = hashlib.sha1(str(target).encode()).hexdigest()[:10]
    link = Path(tempfile.gettempdir()) / f"pg-ray-{digest}"
    if link.is_symlink() and link.resolve() == target.resolve():
        return link
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)
    return link


_LINKS: list[Path] = []
"""Short temp-folder symlinks this process created (removed by `stop_ray`)."""


def stop_ray() -> None:
    """Shut Ray down and remove the temp-folder symlink `start_ray` made."""
    import ray

    ray.shutdown()
    while _LINKS:
        link = _LINKS.pop()
        if link.is_symlink():
            link.unlink()


def start_ray(run_dir: Path) -> bool:
    """Start local Ray with its temp folder in the run folder, or attach.

    With ``RAY_ADDRESS`` set, a plain ``ray.init()`` attaches to that cluster
    (no ``num_cpus``: the cluster decides). Otherwise a local Ray starts with
    ``RAY_TMPDIR`` and ``_temp_dir`` at ``<run>/ray`` (through a short symlink
    in the system temp folder when that path is too long for Ray's sockets).

    Returns:
        True if this call started Ray (the caller then calls `stop_ray`).
    """
    ray = require_ray()
    if ray.is_initialized():
        return False
    # No usage reports from a library that starts Ray on the user's behalf
    # (set RAY_USAGE_STATS_ENABLED=1 to opt in).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if os.environ.get("RAY_ADDRESS"):
        ray.init(log_to_driver=False)
        return True
    tmp = (run_dir / "ray").resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    if len(str(tmp)) > 40:
        tmp = _short_link(tmp)
        _LINKS.append(tmp)
    os.environ["RAY_TMPDIR"] = str(tmp)
    ray.init(
        _temp_dir=str(tmp),
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=True,
        logging_level="warning",
    )
    return True


def build_ppo_config(
    config: RllibConfig,
    *,
    scenario_file: Path,
    match: Any,
    match_file: Path,
    actors: list[str],
    trainable: list[str],
) -> Any:
    """The ``PPOConfig``: one masked PPO module per trainable actor.

    Args:
        config: The train config.
        scenario_file: The scenario YAML.
        match: The match config (protocol, scripted policies).
        match_file: The match config file.
        actors: All actors.
        trainable: The actors that learn.

    Returns:
        The PPOConfig (not built).
    """
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (
        ActionMaskingTorchRLModule,
    )

    from peacegame.train.rllib_env import RllibNegotiationEnv, ScriptedRLModule

    p = config.ppo
    env_config = {
        "scenario": str(Path(scenario_file).resolve()),
        "protocol": match.protocol.model_dump(mode="json"),
        "policies": match.policies,
        "trainable": trainable,
        "config_file": str(Path(match_file).resolve()),
    }
    specs = {}
    for actor in actors:
        if actor in trainable:
            specs[actor] = RLModuleSpec(
                module_class=ActionMaskingTorchRLModule,
                model_config={
                    "fcnet_hiddens": list(p.hidden),
                    "head_fcnet_hiddens": [],
                },
            )
        else:
            specs[actor] = RLModuleSpec(module_class=ScriptedRLModule)
    return (
        PPOConfig()
        .environment(
            RllibNegotiationEnv, env_config=env_config, disable_env_checking=True
        )
        .framework("torch")
        .env_runners(
            num_env_runners=config.num_env_runners,
            num_envs_per_env_runner=config.envs_per_runner,
            num_cpus_per_env_runner=1,
            rollout_fragment_length=config.rollout_fragment_length,
            sample_timeout_s=config.sample_timeout_s,
        )
        .learners(num_learners=0)
        # A failing env runner is an error to report, not to retry silently.
        .fault_tolerance(restart_failed_env_runners=False)
        .multi_agent(
            policies=set(actors),
            policy_mapping_fn=module_of,
            policies_to_train=list(trainable),
        )
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs))
        .training(
            lr=p.lr,
            gamma=p.gamma,
            lambda_=p.gae_lambda,
            clip_param=p.clip_param,
            entropy_coeff=p.entropy_coeff,
            vf_loss_coeff=p.vf_loss_coeff,
            vf_clip_param=p.vf_clip_param,
            train_batch_size_per_learner=p.train_batch_size,
            minibatch_size=p.minibatch_size,
            num_epochs=p.num_epochs,
        )
        .debugging(seed=config.seed)
    )


def _returns(result: dict[str, Any], actors: list[str]) -> dict[str, float]:
    runners = result.get("env_runners", {})
    by_agent = runners.get("agent_episode_returns_mean", {}) or {}
    return {a: float(by_agent.get(a, math.nan)) for a in actors}


def _last_checkpoint(folder: Path) -> Path | None:
    found = sorted(folder.glob("iter_*")) if folder.is_dir() else []
    return found[-1] if found else None


def export_modules(
    algo: Any,
    run_dir: Path,
    trainable: list[str],
    base_metadata: dict[str, dict[str, Any]],
    iteration: int,
    env_steps: int,
) -> dict[str, Path]:
    """Save each trainable module to ``modules/<actor>`` with its metadata."""
    out = {}
    for actor in trainable:
        folder = run_dir / "modules" / actor
        algo.get_module(actor).save_to_path(str(folder.resolve()))
        write_metadata(
            folder,
            {
                **base_metadata[actor],
                "iteration": iteration,
                "env_steps": env_steps,
            },
        )
        out[actor] = folder
    return out


def plot_returns(csv_path: Path, out: Path, actors: list[str]) -> Path | None:
    """Plot per-actor mean episode return per iteration (None without matplotlib)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    if not csv_path.is_file():
        return None
    with csv_path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    steps = [float(r["env_steps"]) for r in rows]
    for actor in actors:
        values = [float(r.get(actor) or "nan") for r in rows]
        ax.plot(steps, values, lw=1.6, label=actor)
    ax.set_xlabel("env steps (all actors' moves)")
    ax.set_ylabel("mean episode return")
    ax.set_title(f"RLlib PPO, per-actor returns: {csv_path.parent.name}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.savefig(out, dpi=110)
    return out


def train_rllib(
    config: RllibConfig,
    config_file: Path | None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    report: Any = None,
    manage_ray: bool = True,
) -> RllibResult:
    """Run an RLlib train config (see the module doc).

    Args:
        config: The train config.
        config_file: Its file (relative paths, errors).
        resume: Continue from the last algorithm checkpoint.
        overwrite: Replace the run folder's results.
        progress: Show a progress bar.
        report: Called with each iteration's row (sweeps).
        manage_ray: Start (and stop) Ray here if it is not running.

    Returns:
        The result.
    """
    match, match_file, scenario_file = load_match(config, config_file)
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(match, scenario.actors, match_file)
    actors = list(scenario.actors)
    trainable = list(config.trainable or actors)
    check_actors(trainable, scenario.actors, file=config_file, field="trainable")
    run_dir = config.run_dir()
    prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    config_data = config.model_dump(mode="json")
    if resume:
        check_resumable(run_dir, config_data)

        def trained() -> int:
            last = _last_checkpoint(run_dir / "rllib")
            return int(last.name.split("_")[1]) if last is not None else 0

        keep_planned_count(
            run_dir,
            "iterations",
            config.iterations,
            trained,
            unit="iterations",
            file=run_dir / "rllib",
        )
    write_run_file(
        run_dir,
        config=config,
        config_file=config_file,
        match=match,
        match_file=match_file,
        scenario=scenario,
        scenario_file=scenario_file,
        trainable=trainable,
        ray_address=os.environ.get("RAY_ADDRESS"),
        versions=library_versions(*RAY_VERSIONS),
    )
    started = start_ray(run_dir) if manage_ray else False
    algo = None
    try:
        ppo_config = build_ppo_config(
            config,
            scenario_file=scenario_file,
            match=match,
            match_file=match_file,
            actors=actors,
            trainable=trainable,
        )
        try:
            ppo_config.validate()
        except ValueError as exc:  # RLlib's own check of the settings' arithmetic
            reason = " ".join(str(exc).split("To suppress")[0].split())
            raise UserError(
                f"RLlib refuses these settings: {reason} (set the train config's "
                "fields: rollout_fragment_length, envs_per_runner, num_env_runners, "
                "ppo.train_batch_size)",
                file=config_file,
            ) from None
        algo = ppo_config.build_algo()
        checkpoints = run_dir / "rllib"
        last = _last_checkpoint(checkpoints) if resume else None
        if last is not None:
            algo.restore_from_path(str(last.resolve()))
        elif resume:
            print("no checkpoint to resume from: starting afresh", file=sys.stderr)
        returns_csv = run_dir / RETURNS
        if last is None:
            returns_csv.unlink(missing_ok=True)
        base_metadata = {
            actor: {
                **actor_metadata(
                    scenario,
                    match.protocol,
                    actor,
                    backend="rllib",
                    algorithm="PPO",
                ),
                "trainable": trainable,
                "opponents": {
                    a: s for a, s in match.policies.items() if a not in trainable
                },
                "seed": config.seed,
                "versions": library_versions(*RAY_VERSIONS),
                "created": now(),
                "train_config": config_data,
                "match_path": str(match_file),
            }
            for actor in trainable
        }
        result = _train_loop(
            algo,
            config,
            run_dir=run_dir,
            actors=actors,
            trainable=trainable,
            base_metadata=base_metadata,
            returns_csv=returns_csv,
            progress=progress,
            report=report,
        )
        plot_returns(returns_csv, run_dir / RETURNS_PNG, actors)
        return result
    finally:
        if algo is not None:
            algo.stop()
        if started:
            stop_ray()


def _train_loop(
    algo: Any,
    config: RllibConfig,
    *,
    run_dir: Path,
    actors: list[str],
    trainable: list[str],
    base_metadata: dict[str, dict[str, Any]],
    returns_csv: Path,
    progress: bool,
    report: Any,
) -> RllibResult:
    start = int(algo.iteration or 0)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=config.iterations,
            initial=start,
            unit="it",
            file=sys.stderr,
            dynamic_ncols=True,
        )
    new = not returns_csv.exists()
    t0 = time.perf_counter()
    returns: dict[str, float] = {}
    env_steps = 0
    modules: dict[str, Path] = {}
    with returns_csv.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(["iteration", "env_steps", "episodes", "seconds", *actors])
        try:
            for iteration in range(start + 1, config.iterations + 1):
                result = algo.train()
                returns = _returns(result, actors)
                env_steps = int(result.get("num_env_steps_sampled_lifetime", 0))
                episodes = int(
                    result.get("env_runners", {}).get("num_episodes_lifetime", 0)
                )
                seconds = time.perf_counter() - t0
                writer.writerow(
                    [iteration, env_steps, episodes, f"{seconds:.3f}"]
                    + [f"{returns[a]:.6g}" for a in actors]
                )
                f.flush()
                if report is not None:
                    learners = [returns[a] for a in trainable]
                    finite = [x for x in learners if not math.isnan(x)]
                    report(
                        {
                            "iteration": iteration,
                            "env_steps": env_steps,
                            "reward": sum(finite) / len(finite) if finite else 0.0,
                            **{f"return_{a}": returns[a] for a in actors},
                        }
                    )
                last = iteration == config.iterations
                if iteration % config.checkpoint_every == 0 or last:
                    path = run_dir / "rllib" / f"iter_{iteration:06d}"
                    algo.save_to_path(str(path.resolve()))
                    modules = export_modules(
                        algo, run_dir, trainable, base_metadata, iteration, env_steps
                    )
                if bar is not None:
                    shown = ", ".join(
                        f"{a[:3]} {returns[a]:.2f}" for a in trainable[:5]
                    )
                    bar.set_postfix_str(shown, refresh=False)
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    return RllibResult(
        run_dir=run_dir,
        iterations=int(algo.iteration or 0),
        seconds=time.perf_counter() - t0,
        env_steps=env_steps,
        returns=returns,
        modules=modules,
    )


__all__ = [
    "RllibResult",
    "build_ppo_config",
    "module_of",
    "plot_returns",
    "start_ray",
    "stop_ray",
    "train_rllib",
]
