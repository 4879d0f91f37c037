"""The ``train`` and ``evaluate`` subcommands (wired into ``peacegame``'s CLI).

Each command function takes the parsed arguments and returns an exit code.
torch, SB3 and Ray are imported only inside them; a missing extra is a one-line
:class:`~peacegame.errors.UserError` naming the ``pip install`` to run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from peacegame.errors import UserError


def _cmd_train(args: argparse.Namespace) -> int:
    from peacegame.logs import RESUME_CONFLICT
    from peacegame.train.checkpoints import (
        record_overrides,
        resolve_resume,
        resume_command,
    )

    if args.resume and args.overwrite:
        raise UserError(RESUME_CONFLICT)
    if args.sweep and args.resume:
        raise UserError("--resume does not apply to --sweep")
    config, config_file, overrides = resolve_resume(
        args.config, list(args.set or []), out=args.out, resume=args.resume
    )
    record_overrides([o for o in overrides if not o.startswith("output=")])
    progress = not args.quiet
    if args.sweep:
        from peacegame.train.sweep import run_sweep

        result = run_sweep(config, config_file, args.sweep, progress=progress)
        print(result.summary())
        return 0
    if config.trainer == "maskable_ppo":
        return _train_maskable_ppo(config, config_file, args, progress)
    if config.trainer == "self_play":
        from peacegame.train.self_play import train_self_play

        result = train_self_play(
            config,
            config_file,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=progress,
        )
        print(result.summary())
        if result.interrupted:
            print(
                f"interrupted; continue with: {resume_command(config.run_dir())}",
                file=sys.stderr,
            )
            return 130
        return 0
    if config.trainer == "marl":
        import json

        from peacegame.train.marl import train_from_config

        trainer, report = train_from_config(
            config, config_file, resume=args.resume, overwrite=args.overwrite
        )
        print(json.dumps(report, indent=2))
        print(
            f"trained {len(trainer.learners)} actors for {trainer.iteration} "
            f"iterations; checkpoint: {config.run_dir() / 'marl.pt'}"
        )
        return 0
    if config.trainer == "psro":
        from peacegame.train.psro import train_from_config as train_psro

        result = train_psro(
            config, config_file, resume=args.resume, overwrite=args.overwrite
        )
        print(result.summary())
        if result.interrupted:
            print(
                f"interrupted; continue with: {resume_command(config.run_dir())}",
                file=sys.stderr,
            )
            return 130
        return 0
    from peacegame.train.rllib_train import train_rllib

    result = train_rllib(
        config,
        config_file,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=progress,
    )
    print(result.summary())
    return 0


def _train_maskable_ppo(
    config: Any, config_file: Path, args: argparse.Namespace, progress: bool
) -> int:
    from peacegame.train.checkpoints import resume_command
    from peacegame.train.config import match_path
    from peacegame.train.evaluate import plot_run_curve
    from peacegame.train.sb3_train import train_maskable_ppo

    result, run_dir = train_maskable_ppo(
        config,
        config_file,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=progress,
    )
    rate = result.steps / result.seconds if result.seconds > 0 else 0.0
    png = plot_run_curve(run_dir)
    if result.interrupted:
        print(
            f"interrupted at {result.timesteps} of {config.total_timesteps} "
            f"timesteps; continue with: {resume_command(run_dir)}",
            file=sys.stderr,
        )
        return 130
    print(
        f"trained {config.learner} for {result.steps} timesteps in "
        f"{result.seconds:.1f} s ({rate:.0f} steps/s); model: {result.model_path}"
    )
    if result.last_reward is not None:
        print(f"mean reward of the last rollout: {result.last_reward:.4f}")
    if png is not None:
        print(f"wrote {png}")
    print(
        f"evaluate with: peacegame evaluate {result.model_path} --against "
        f"{match_path(config, config_file)}"
    )
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from peacegame.train.evaluate import (
        SCRIPTED_STRATEGIES,
        evaluate,
        plot_run_curve,
        run_folder_of,
        write_evaluation,
    )

    if args.episodes < 2:
        raise UserError(f"--episodes must be at least 2, got {args.episodes}")
    strategies = SCRIPTED_STRATEGIES
    if args.strategies:
        strategies = tuple(s.strip() for s in args.strategies.split(",") if s.strip())
    evaluation = evaluate(
        args.checkpoint,
        args.against,
        episodes=args.episodes,
        seed=args.seed,
        strategies=strategies,
        sample=args.sample,
        progress=not args.quiet,
    )
    print(evaluation.table())
    run_dir = run_folder_of(Path(evaluation.checkpoint).resolve())
    if run_dir is not None:
        print(f"wrote {write_evaluation(evaluation, run_dir)}")
        png = plot_run_curve(run_dir)
        if png is not None:
            print(f"wrote {png}")
    return 0


def add_train_commands(subparsers: Any) -> None:
    """Add ``train`` and ``evaluate`` to the CLI's subparsers.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers`` returned.
    """
    p = subparsers.add_parser(
        "train",
        help="train learned policies (MaskablePPO, self-play, RLlib, marl, PSRO)",
        description=(
            "Train from a train config (configs/train/*.yaml). The 'trainer' key "
            "picks MaskablePPO for one actor, iterated best response, RLlib PPO "
            "or the kernel + TorchRL trainer (marl) for all actors, or PSRO. "
            "With --sweep, run a Ray Tune sweep over it."
        ),
    )
    p.add_argument(
        "config",
        metavar="CONFIG",
        nargs="?",
        help="train config file or name (optional with --resume --out DIR)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run folder as recorded, from its last checkpoint",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace the run folder's results"
    )
    p.add_argument(
        "--sweep", metavar="SWEEP.yaml", help="Ray Tune sweep over this config"
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field, e.g. total_timesteps=50000 (repeatable)",
    )
    p.add_argument("--out", help="run folder (default: the config's output)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = subparsers.add_parser(
        "evaluate",
        help="score a checkpoint against scripted strategies on held-out seeds",
    )
    p.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="SB3 .zip or RLlib module folder"
    )
    p.add_argument(
        "--against", required=True, metavar="MATCH.yaml", help="match config"
    )
    p.add_argument("--episodes", type=int, default=1000, help="episodes per policy")
    p.add_argument(
        "--seed", type=int, help="held-out base seed (default: match seed + 1e9)"
    )
    p.add_argument(
        "--strategies",
        help="comma-separated scripted strategies to compare (default: all six)",
    )
    p.add_argument(
        "--sample", action="store_true", help="sample the learned policy's actions"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_evaluate)


__all__ = ["add_train_commands"]
