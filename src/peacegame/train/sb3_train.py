"""Train one actor with sb3-contrib MaskablePPO against the match's other policies.

``peacegame train configs/train/ukraine-vs-scripted.yaml`` reads a
:class:`~peacegame.train.config.MaskablePPOConfig`, builds SB3 vec envs of
:class:`~peacegame.train.sb3_adapter.LearnerEnv` and trains, top to bottom:

1. the run folder is prepared and ``run.json`` written (config snapshot,
   scenario hash, versions);
2. the model is created, or, with ``--resume``, loaded from the checkpoint with
   the most timesteps (the learning curve is cut back to it);
3. ``model.learn`` runs with three callbacks: checkpoints every
   ``checkpoint_every`` timesteps (SB3's ``CheckpointCallback`` naming, plus a
   metadata ``.json`` beside each), the CSV learning curve (one row per
   rollout, also logged to TensorBoard), and a tqdm progress bar;
4. the final model is saved as ``model.zip`` with ``model.json``. Ctrl-C saves a
   checkpoint first, so ``--resume`` continues from where it stopped.

:func:`learn` is the reusable core (self-play calls it once per turn).
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peacegame.match_config import MatchConfig, check_policies_cover_actors
from peacegame.policies.learned import write_metadata
from peacegame.scenario import load_compiled
from peacegame.train.checkpoints import (
    CHECKPOINTS,
    CURVE,
    FINAL_MODEL,
    actor_metadata,
    check_resumable,
    keep_planned_count,
    library_versions,
    list_checkpoints,
    now,
    prepare_run_dir,
    truncate_curve,
    write_run_file,
)
from peacegame.train.config import (
    MaskablePPOConfig,
    SB3PPOParams,
    check_actors,
    load_match,
)
from peacegame.train.deps import require_sb3
from peacegame.train.sb3_adapter import LearnerSpec, make_vec_env

CURVE_FIELDS = (
    "timesteps",
    "episodes",
    "reward_mean",
    "reward_std",
    "agreement_rate",
    "length_mean",
    "seconds",
    "steps_per_second",
)
"""Columns of ``learning_curve.csv``."""

SB3_VERSIONS = ("torch", "stable-baselines3", "sb3-contrib", "gymnasium", "numpy")

Reporter = Callable[[dict[str, float]], None]


@dataclass
class SB3Result:
    """What one :func:`learn` call did.

    Attributes:
        model_path: The final model (``.zip``, metadata ``.json`` beside it).
        timesteps: The model's total timesteps.
        seconds: Wall time of this call.
        steps: Timesteps trained by this call.
        interrupted: True if stopped by Ctrl-C (a checkpoint was saved).
        last_reward: Mean learner reward of the last rollout's episodes.
    """

    model_path: Path
    timesteps: int
    seconds: float
    steps: int
    interrupted: bool = False
    last_reward: float | None = None


def _callbacks(
    *,
    checkpoint_dir: Path | None,
    checkpoint_every: int,
    prefix: str,
    metadata: dict[str, Any],
    curve: Path | None,
    total: int,
    progress: bool,
    report: Reporter | None,
) -> list[Any]:
    """Build the SB3 callbacks (defined here: SB3 is imported lazily)."""
    import numpy as np
    from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback

    class MetadataCheckpoint(CheckpointCallback):
        """``CheckpointCallback`` on absolute timesteps, with metadata beside."""

        def __init__(self, every: int, folder: Path) -> None:
            super().__init__(save_freq=1, save_path=str(folder), name_prefix=prefix)
            self.every = every

        def _on_training_start(self) -> None:
            self.next_at = (self.num_timesteps // self.every + 1) * self.every

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_at:
                self.save()
                self.next_at = (self.num_timesteps // self.every + 1) * self.every
            return True

        def save(self) -> Path:
            path = Path(self._checkpoint_path(extension="zip"))
            self.model.save(path)
            write_metadata(path, {**metadata, "timesteps": self.num_timesteps})
            return path

    class LearningCurve(BaseCallback):
        """One CSV row per rollout: the episodes that ended in it."""

        def __init__(self, path: Path | None) -> None:
            super().__init__()
            self.path = path
            self.rewards: list[float] = []
            self.lengths: list[float] = []
            self.agreements: list[float] = []
            self.episodes = 0
            self.last_reward: float | None = None

        def _on_training_start(self) -> None:
            self.t0 = time.perf_counter()
            self.start_steps = self.num_timesteps
            self.file = None
            if self.path is not None:
                new = not self.path.exists() or self.path.stat().st_size == 0
                self.file = self.path.open("a", newline="")
                self.writer = csv.writer(self.file)
                if new:
                    self.writer.writerow(CURVE_FIELDS)

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                episode = info.get("episode")
                if episode is not None:
                    self.rewards.append(float(episode["r"]))
                    self.lengths.append(float(episode["l"]))
                    self.agreements.append(float(bool(info.get("agreement"))))
            return True

        def _on_rollout_end(self) -> None:
            if not self.rewards:
                return
            self.episodes += len(self.rewards)
            seconds = time.perf_counter() - self.t0
            rate = (self.num_timesteps - self.start_steps) / max(seconds, 1e-9)
            row = {
                "timesteps": self.num_timesteps,
                "episodes": self.episodes,
                "reward_mean": float(np.mean(self.rewards)),
                "reward_std": float(np.std(self.rewards)),
                "agreement_rate": float(np.mean(self.agreements)),
                "length_mean": float(np.mean(self.lengths)),
                "seconds": seconds,
                "steps_per_second": rate,
            }
            self.last_reward = row["reward_mean"]
            self.logger.record("rollout/reward_mean", row["reward_mean"])
            self.logger.record("rollout/agreement_rate", row["agreement_rate"])
            if self.file is not None:
                self.writer.writerow(
                    [
                        f"{row[k]:.6g}" if isinstance(row[k], float) else row[k]
                        for k in CURVE_FIELDS
                    ]
                )
                self.file.flush()
            if report is not None:
                report(row)
            self.rewards, self.lengths, self.agreements = [], [], []

        def _on_training_end(self) -> None:
            if self.file is not None:
                self.file.close()

    class ProgressBar(BaseCallback):
        """A tqdm bar over timesteps, with the recent mean reward."""

        def _on_training_start(self) -> None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=self.num_timesteps,
                unit="step",
                dynamic_ncols=True,
                file=sys.stderr,
                mininterval=0.5,
            )

        def _on_step(self) -> bool:
            self.bar.update(self.training_env.num_envs)
            if self.bar.n > self.bar.total:  # SB3 rounds up to whole rollouts
                self.bar.total = self.bar.n
            return True

        def _on_rollout_end(self) -> None:
            buffer = self.model.ep_info_buffer
            if buffer:
                mean = float(np.mean([e["r"] for e in buffer]))
                self.bar.set_postfix_str(f"reward {mean:.3f}", refresh=False)

        def _on_training_end(self) -> None:
            self.bar.close()

    callbacks: list[Any] = [LearningCurve(curve)]
    if checkpoint_dir is not None:
        callbacks.append(MetadataCheckpoint(checkpoint_every, checkpoint_dir))
    if progress:
        callbacks.append(ProgressBar())
    return callbacks


def learn(
    *,
    spec: LearnerSpec,
    ppo: SB3PPOParams,
    total_timesteps: int,
    n_envs: int,
    vec_env: str,
    seed: int,
    torch_threads: int,
    out_dir: Path,
    model_name: str = FINAL_MODEL.removesuffix(".zip"),
    curve_name: str = CURVE,
    checkpoint_every: int | None = None,
    resume_from: Path | None = None,
    warm_start: Path | None = None,
    extra_metadata: dict[str, Any] | None = None,
    tensorboard: bool = True,
    tb_name: str = "MaskablePPO",
    progress: bool = True,
    report: Reporter | None = None,
) -> SB3Result:
    """Train MaskablePPO for ``spec.learner`` and save the model with metadata.

    Args:
        spec: The learner, its opponents, the scenario and the protocol.
        ppo: Hyper-parameters.
        total_timesteps: Train until the model has this many timesteps.
        n_envs: Parallel envs.
        vec_env: ``dummy`` or ``subproc``.
        seed: Seed of the model and the envs.
        torch_threads: ``torch.set_num_threads``.
        out_dir: Folder of the model, ``checkpoints/``, ``tb/`` and the curve.
        model_name: Final model file stem (``model`` -> ``model.zip``).
        curve_name: File name of the learning curve in ``out_dir``.
        checkpoint_every: Checkpoint period in timesteps (None: none).
        resume_from: Continue this checkpoint's run (timesteps carry on).
        warm_start: Start from this model's weights (timesteps start at 0).
        extra_metadata: Merged into every checkpoint's metadata.
        tensorboard: Write TensorBoard event files under ``out_dir/tb``.
        tb_name: TensorBoard run name (SB3 appends ``_1``, ``_2``...).
        progress: Show a progress bar.
        report: Called with each learning-curve row (sweeps).

    Returns:
        The result; the model is at ``out_dir/<model_name>.zip``.
    """
    sb3_contrib = require_sb3()
    import torch

    torch.set_num_threads(torch_threads)
    maskable_ppo = sb3_contrib.MaskablePPO
    scenario = spec.scenario
    metadata = {
        **actor_metadata(
            scenario,
            spec.protocol,
            spec.learner,
            backend="sb3",
            algorithm="MaskablePPO",
        ),
        "opponents": spec.opponents,
        "seed": seed,
        "versions": library_versions(*SB3_VERSIONS),
        "created": now(),
        **(extra_metadata or {}),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    venv = make_vec_env(spec, n_envs, vec_env, seed)
    tb_dir = str(out_dir / "tb") if tensorboard else None
    params = ppo.model_dump()
    net_arch = params.pop("net_arch")
    resuming = resume_from is not None
    if resuming or warm_start is not None:
        model = maskable_ppo.load(
            resume_from or warm_start,
            env=venv,
            device="cpu",
            tensorboard_log=tb_dir,
        )
        if not resuming:
            model.set_random_seed(seed)
    else:
        model = maskable_ppo(
            "MlpPolicy",
            venv,
            policy_kwargs={"net_arch": net_arch},
            tensorboard_log=tb_dir,
            seed=seed,
            device="cpu",
            verbose=0,
            **params,
        )
    curve = out_dir / curve_name
    if resuming:
        truncate_curve(curve, model.num_timesteps)
    start = model.num_timesteps if resuming else 0
    remaining = max(total_timesteps - start, 0)
    callbacks = _callbacks(
        checkpoint_dir=out_dir / CHECKPOINTS if checkpoint_every else None,
        checkpoint_every=checkpoint_every or 1,
        prefix="ppo",
        metadata=metadata,
        curve=curve,
        total=total_timesteps,
        progress=progress,
        report=report,
    )
    t0 = time.perf_counter()
    interrupted = False
    try:
        if remaining:
            model.learn(
                remaining,
                callback=callbacks,
                tb_log_name=tb_name,
                reset_num_timesteps=not resuming,
            )
    except KeyboardInterrupt:
        interrupted = True
        if checkpoint_every:
            saved = callbacks[1].save()
            print(f"\ninterrupted: saved {saved}", file=sys.stderr)
    finally:
        venv.close()
    seconds = time.perf_counter() - t0
    model_path = out_dir / f"{model_name}.zip"
    if not interrupted:
        model.save(model_path)
        write_metadata(model_path, {**metadata, "timesteps": model.num_timesteps})
    return SB3Result(
        model_path=model_path,
        timesteps=int(model.num_timesteps),
        seconds=seconds,
        steps=int(model.num_timesteps) - start,
        interrupted=interrupted,
        last_reward=callbacks[0].last_reward,
    )


def learner_spec(
    match: MatchConfig,
    match_file: Path,
    scenario_file: Path,
    learner: str,
    *,
    train_file: Path | None,
    opponents: dict[str, Any] | None = None,
) -> LearnerSpec:
    """The learner env spec of a match (opponents from the match by default).

    Raises:
        ConfigError: If the learner is not an actor or a policy is missing.
    """
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(match, scenario.actors, match_file)
    check_actors([learner], scenario.actors, file=train_file, field="learner")
    specs = dict(match.policies)
    specs.update(opponents or {})
    return LearnerSpec(
        scenario=scenario,
        protocol=match.protocol,
        learner=learner,
        opponents={a: s for a, s in specs.items() if a != learner},
        config_file=str(match_file),
    )


def train_maskable_ppo(
    config: MaskablePPOConfig,
    config_file: Path | None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    report: Reporter | None = None,
) -> tuple[SB3Result, Path]:
    """Run a MaskablePPO train config into its run folder (module doc).

    Returns:
        The result and the run folder.

    Raises:
        UserError: On a bad config, folder, or a non-resumable run.
    """
    match, match_file, scenario_file = load_match(config, config_file)
    spec = learner_spec(
        match, match_file, scenario_file, config.learner, train_file=config_file
    )
    run_dir = config.run_dir()
    prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    config_data = config.model_dump(mode="json")
    resume_from = None
    if resume:
        check_resumable(run_dir, config_data)
        found = list_checkpoints(run_dir / CHECKPOINTS)
        resume_from = found[-1][1] if found else None
        if resume_from is None:
            print("no checkpoint to resume from: starting afresh", file=sys.stderr)
        keep_planned_count(  # module doc
            run_dir,
            "total_timesteps",
            config.total_timesteps,
            lambda: found[-1][0] if found else 0,
            unit="timesteps",
            file=run_dir / CHECKPOINTS,
        )
    if resume_from is None:
        truncate_curve(run_dir / CURVE, 0)
    write_run_file(
        run_dir,
        config=config,
        config_file=config_file,
        match=match,
        match_file=match_file,
        scenario=spec.scenario,
        scenario_file=scenario_file,
        learner=config.learner,
        versions=library_versions(*SB3_VERSIONS),
    )
    result = learn(
        spec=spec,
        ppo=config.ppo,
        total_timesteps=config.total_timesteps,
        n_envs=config.n_envs,
        vec_env=config.vec_env,
        seed=config.seed,
        torch_threads=config.torch_threads,
        out_dir=run_dir,
        checkpoint_every=config.checkpoint_every,
        resume_from=resume_from,
        extra_metadata={"train_config": config_data, "match_path": str(match_file)},
        progress=progress,
        report=report,
    )
    return result, run_dir


__all__ = ["CURVE_FIELDS", "SB3Result", "learn", "learner_spec", "train_maskable_ppo"]
