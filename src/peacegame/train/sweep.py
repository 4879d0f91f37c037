"""Ray Tune sweeps: ``peacegame train CONFIG --sweep configs/train/sweep.yaml``.

The sweep config (:class:`~peacegame.train.config.SweepConfig`) maps dotted
fields of the train config (``ppo.learning_rate``, ``ppo.ent_coef``,
``n_envs``...) to search spaces (``choice``, ``grid``, ``uniform``,
``loguniform``, ``randint``). Each Tune trial runs the train config with one
sample of those fields in its own trial folder and reports ``reward`` (the
learners' mean episode reward) as it goes; Tune ranks the trials by it.

MaskablePPO and RLlib train configs can be swept (self-play cannot). Tune's
results go to ``<train run folder>/sweeps/<sweep name>``; Ray starts locally
with its temp folder in the run folder, or attaches to ``RAY_ADDRESS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peacegame.errors import UserError
from peacegame.train.config import (
    SearchSpace,
    SweepConfig,
    TrainConfig,
    load_sweep_config,
    parse_train_config,
    with_overrides,
)


@dataclass
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes:
        folder: Tune's experiment folder.
        trials: Per trial: its parameters, its last reward and its folder.
        best: The best trial's parameters.
        best_reward: The best trial's last reward.
        metric: The metric.
    """

    folder: Path
    trials: list[dict[str, Any]]
    best: dict[str, Any]
    best_reward: float | None
    metric: str

    def summary(self) -> str:
        """A table of the trials, best first."""
        keys = sorted(self.best)
        lines = [
            " | ".join([*keys, self.metric]),
        ]
        ordered = sorted(
            self.trials,
            key=lambda t: -(t[self.metric] if t[self.metric] is not None else -1e9),
        )
        for trial in ordered:
            values = [f"{trial['params'].get(k)!s:>10}" for k in keys]
            reward = trial[self.metric]
            shown = "-" if reward is None else f"{reward:.4f}"
            lines.append(" | ".join([*values, shown]))
        lines.append(f"best: {self.best} ({self.metric} {self.best_reward})")
        lines.append(f"results: {self.folder}")
        return "\n".join(lines)


def search_space(space: SearchSpace) -> Any:
    """One :class:`SearchSpace` as a Tune search space."""
    from ray import tune

    if space.choice is not None:
        return tune.choice(space.choice)
    if space.grid is not None:
        return tune.grid_search(space.grid)
    if space.uniform is not None:
        return tune.uniform(*space.uniform)
    if space.loguniform is not None:
        return tune.loguniform(*space.loguniform)
    assert space.randint is not None
    return tune.randint(*space.randint)


def _example(space: SearchSpace) -> Any:
    """A value from the space, to validate the field before launching."""
    for values in (space.choice, space.grid):
        if values is not None:
            return values[0]
    bounds = space.uniform or space.loguniform or space.randint
    assert bounds is not None
    return bounds[0]


def _trial(
    params: dict[str, Any], base: dict[str, Any], config_file: str | None
) -> None:
    """One Tune trial: train with ``params`` in the trial folder, reporting."""
    from ray import tune

    config = parse_train_config(base, config_file or "<sweep>")
    trial_dir = Path(tune.get_context().get_trial_dir())
    config = with_overrides(config, {**params, "output": str(trial_dir / "run")})
    file = Path(config_file) if config_file else None

    def report(row: dict[str, Any]) -> None:
        tune.report({k: v for k, v in row.items() if isinstance(v, int | float)})

    if config.trainer == "maskable_ppo":
        from peacegame.train.sb3_train import train_maskable_ppo

        def report_sb3(row: dict[str, Any]) -> None:
            report({**row, "reward": row["reward_mean"]})

        train_maskable_ppo(
            config, file, overwrite=True, progress=False, report=report_sb3
        )
    else:
        from peacegame.train.rllib_train import train_rllib

        train_rllib(
            config,
            file,
            overwrite=True,
            progress=False,
            report=report,
            manage_ray=False,
        )


def run_sweep(
    config: TrainConfig,
    config_file: Path | None,
    sweep_path: str | Path,
    *,
    progress: bool = True,
) -> SweepResult:
    """Run a Tune sweep over ``config`` (see the module doc).

    Raises:
        UserError: For a self-play config, or fields the config lacks.
    """
    sweep, sweep_file = load_sweep_config(sweep_path)
    if config.trainer == "self_play":
        raise UserError(
            "sweeps run maskable_ppo or rllib train configs, not self_play",
            file=config_file,
            field="trainer",
        )
    for key, space in sweep.param_space.items():
        try:
            with_overrides(config, {key: _example(space)})
        except UserError as exc:
            raise UserError(
                exc.message, file=sweep_file, field=f"param_space.{key}"
            ) from None
    from peacegame.train.checkpoints import prepare_run_dir
    from peacegame.train.rllib_train import start_ray, stop_ray

    run_dir = config.run_dir()
    prepare_run_dir(run_dir, resume=True, overwrite=False)
    started = start_ray(run_dir)
    try:
        return _fit(config, config_file, sweep, run_dir, progress)
    finally:
        if started:
            stop_ray()


def _fit(
    config: TrainConfig,
    config_file: Path | None,
    sweep: SweepConfig,
    run_dir: Path,
    progress: bool,
) -> SweepResult:
    from ray import tune

    bundles = [{"CPU": sweep.cpus_per_trial}]
    if config.trainer == "rllib":
        bundles += [{"CPU": 1.0}] * config.num_env_runners
    trainable = tune.with_resources(
        tune.with_parameters(
            _trial,
            base=config.model_dump(mode="json"),
            config_file=str(config_file) if config_file else None,
        ),
        tune.PlacementGroupFactory(bundles),
    )
    storage = (run_dir / "sweeps").resolve()
    tuner = tune.Tuner(
        trainable,
        param_space={k: search_space(v) for k, v in sweep.param_space.items()},
        tune_config=tune.TuneConfig(
            metric=sweep.metric,
            mode=sweep.mode,
            num_samples=sweep.num_samples,
            max_concurrent_trials=sweep.max_concurrent_trials,
        ),
        run_config=tune.RunConfig(
            name=sweep.name,
            storage_path=str(storage),
            verbose=1 if progress else 0,
        ),
    )
    grid = tuner.fit()
    trials = []
    for result in grid:
        metrics = result.metrics or {}
        trials.append(
            {
                "params": dict(result.config or {}),
                sweep.metric: metrics.get(sweep.metric),
                "folder": str(result.path),
                "error": str(result.error) if result.error else None,
            }
        )
    errors = [t for t in trials if t["error"]]
    if errors and len(errors) == len(trials):
        raise UserError(f"every trial failed; first error: {errors[0]['error']}")
    best = grid.get_best_result()
    folder = storage / sweep.name
    summary = {
        "sweep": sweep.model_dump(mode="json"),
        "trials": trials,
        "best": dict(best.config or {}),
        "best_reward": (best.metrics or {}).get(sweep.metric),
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return SweepResult(
        folder=folder,
        trials=trials,
        best=summary["best"],
        best_reward=summary["best_reward"],
        metric=sweep.metric,
    )


__all__ = ["SweepResult", "run_sweep", "search_space"]
