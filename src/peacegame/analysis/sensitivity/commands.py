"""The ``sensitivity`` subcommand and its library entry point."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from peacegame.errors import UserError

DEFAULT_SAMPLES = 4096


def default_out(scenario: str, method: str, samples: int, seed: int) -> Path:
    """``runs/sensitivity/<scenario>-<method>-<samples>-seed<seed>``."""
    stem = Path(scenario).stem
    return Path("runs") / "sensitivity" / f"{stem}-{method}-{samples}-seed{seed}"


def run_sensitivity(
    scenario: str,
    *,
    question: str | None = None,
    method: str = "sobol",
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    workers: int = 1,
    backend: str = "local",
    plots: bool = True,
    progress: bool = False,
    play: int | None = None,
    match: str | None = None,
    episodes: int | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """Run (or resume) a sensitivity analysis; write its folder.

    Args:
        scenario: Scenario file or shipped name.
        question: Name of the declared question (default: the first).
        method: ``sobol``, ``lhs`` or ``morris``.
        samples: About how many calibrations to draw.
        seed: Seed of the design.
        out: The run folder (default :func:`default_out`).
        resume: Continue an existing run folder.
        workers: Local processes.
        backend: ``local`` or ``ray`` (the played-out part runs locally).
        plots: Write the PNG plots.
        progress: Show a progress bar on stderr.
        play: Also play the match on this many sampled calibrations, with and
            without the question's counterfactual (see :mod:`.play`); on
            ``resume`` without it, a recorded played-out run is continued.
        match: The match config to play (default: the scenario's shipped
            scripted match config, see :func:`.play.default_match`).
        episodes: Episodes per calibration and side (default: the config's).

    Returns:
        The summary (see :func:`.summary.summarise`) and the plot paths.

    Raises:
        UserError: For bad arguments, an existing folder without ``resume``, or
            a scenario or question that does not validate.

    """
    from peacegame.analysis.sensitivity.run import RunSpec, evaluate
    from peacegame.analysis.sensitivity.sampling import METHODS
    from peacegame.analysis.sensitivity.summary import summarise

    if method not in METHODS:
        raise UserError(f"--method {method}: expected one of {list(METHODS)}")
    if samples < 2:
        raise UserError(f"--samples {samples}: expected at least 2 calibrations")
    if workers < 1:
        raise UserError(f"--workers {workers}: expected at least 1 process")
    if seed < 0:
        raise UserError(f"--seed {seed}: expected 0 or more")
    spec = RunSpec(scenario, question, method, samples, seed)
    run_dir = (
        Path(out) if out is not None else default_out(scenario, method, samples, seed)
    )
    player, play_spec = _play_setup(
        scenario, question, seed, run_dir, resume, play, match, episodes
    )
    bar = _progress_bar() if progress else None
    result = evaluate(
        run_dir, spec, resume=resume, workers=workers, backend=backend, progress=bar
    )
    doc = summarise(result)
    doc["run_dir"] = str(run_dir)
    played = None
    if player is not None and play_spec is not None:
        from peacegame.analysis.sensitivity.play import play_out, summarise_play

        played = play_out(run_dir, player, play_spec, resume=resume, workers=workers)
        doc["play"] = summarise_play(played)
        doc["text"] += "\n\n" + doc["play"]["text"]
    (run_dir / "summary.json").write_text(json.dumps(doc, indent=2) + "\n")
    (run_dir / "summary.txt").write_text(doc["text"] + "\n")
    paths: list[Path] = []
    if plots:
        from peacegame.analysis.sensitivity.plots import write_plots

        paths = write_plots(doc, result["answers"], run_dir)
        if played is not None:
            from peacegame.analysis.sensitivity.play import write_play_plot

            paths.append(write_play_plot(doc["play"], played, run_dir))
    return doc, paths


def _play_setup(
    scenario: str,
    question: str | None,
    seed: int,
    run_dir: Path,
    resume: bool,
    play: int | None,
    match: str | None,
    episodes: int | None,
) -> tuple[Any, Any]:
    """The player and spec of the played-out part (``(None, None)``: none).

    Everything is checked here, before the run folder is written.

    Raises:
        UserError: For bad ``--play``/``--match``/``--episodes`` values, or a
            match config the batch engine cannot play.

    """
    from peacegame.analysis.sensitivity.play import (
        Player,
        PlaySpec,
        default_match,
        recorded_spec,
    )

    if play is None:
        if match is not None or episodes is not None:
            flag = "--match" if match is not None else "--episodes"
            raise UserError(f"{flag} needs --play K (the calibrations to play)")
        recorded = recorded_spec(run_dir) if resume else None
        if recorded is None:
            return None, None
        player = Player(scenario, question, recorded.match, recorded.episodes)
        return player, recorded
    if play < 1:
        raise UserError(f"--play {play}: expected at least 1 calibration")
    if episodes is not None and episodes < 1:
        raise UserError(f"--episodes {episodes}: expected at least 1")
    from peacegame.analysis.sensitivity.question import load_setup
    from peacegame.match_config import load_match_config
    from peacegame.resources import resolve_config

    if match is None:
        match_path = default_match(load_setup(scenario, question))
    else:
        match_path = resolve_config(match, "matches")
    cfg, _ = load_match_config(match_path)
    n_ep = int(episodes if episodes is not None else cfg.episodes)
    play_spec = PlaySpec(int(play), str(Path(match_path).resolve()), n_ep, seed)
    recorded = recorded_spec(run_dir) if resume else None
    if recorded is not None and recorded != play_spec:
        raise UserError(
            "--resume: the recorded played-out run differs (recorded "
            f"{json.dumps(recorded.as_dict())[:160]}); resume with the same "
            "--play/--match/--episodes, or choose a new --out folder",
            file=run_dir,
        )
    return Player(scenario, question, play_spec.match, n_ep), play_spec


def _progress_bar() -> Any:
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(
                total=total, unit="chunk", file=sys.stderr, leave=False, initial=done
            )
        else:
            state["bar"].update(done - state["bar"].n)
        if done >= total:
            state["bar"].close()

    return update


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Print how sure the scenario's answer is; write the run folder."""
    doc, paths = run_sensitivity(
        args.scenario,
        question=args.question,
        method=args.method,
        samples=args.samples,
        seed=args.seed,
        out=args.out,
        resume=args.resume,
        workers=args.workers,
        backend=args.backend,
        plots=not args.no_plots,
        progress=not args.quiet and not args.json,
        play=args.play,
        match=args.match,
        episodes=args.episodes,
    )
    if args.json:
        out = {k: v for k, v in doc.items() if k != "text"}
        if "play" in out:
            out["play"] = {k: v for k, v in out["play"].items() if k != "text"}
        print(json.dumps(out, indent=2))
        return 0
    print(doc["text"])
    print(f"\nrun folder: {doc['run_dir']}")
    for path in paths:
        print(f"wrote {path}")
    return 0


def add_sensitivity_command(subparsers: Any) -> None:
    """Add ``sensitivity`` to the CLI's subparsers."""
    p = subparsers.add_parser(
        "sensitivity",
        help="how sure is the answer: global sensitivity over uncertain numbers",
        description="Draw calibrations of the numbers the scenario gives a range "
        "(SALib: Saltelli/Sobol', Latin hypercube or Morris), answer the "
        "scenario's declared question, and find the zone of agreement, the Nash "
        "point and the binding red lines for each; print the probability that "
        "the answer holds, the effect sizes and the sensitivity indices, and "
        "write a resumable run folder with summary.json and plots.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or shipped name")
    p.add_argument(
        "--question", metavar="NAME", help="declared question (default: the first)"
    )
    p.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"about N calibrations (default {DEFAULT_SAMPLES}; Sobol' "
        "rounds to a power of two times P + 2)",
    )
    p.add_argument("--method", choices=["sobol", "lhs", "morris"], default="sobol")
    p.add_argument("--seed", type=int, default=0, help="seed of the design")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="run folder (default runs/sensitivity/SCENARIO-METHOD-N-seedS)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run folder (evaluate the missing chunks)",
    )
    p.add_argument("--workers", type=int, default=1, help="local processes")
    p.add_argument(
        "--backend",
        choices=["local", "ray"],
        default="local",
        help="ray: chunks as Ray tasks (RAY_ADDRESS to attach)",
    )
    p.add_argument(
        "--play",
        type=int,
        metavar="K",
        help="also play the match on K sampled calibrations with the batch "
        "engine, with and without the question's counterfactual (its variant, "
        "else no outcome with its feature); report the agreement rates",
    )
    p.add_argument(
        "--match",
        metavar="CONFIG",
        help="match config to play with --play (default: the scenario's shipped "
        "scripted match config, e.g. baseline)",
    )
    p.add_argument(
        "--episodes",
        type=int,
        metavar="N",
        help="episodes per calibration and side with --play (default: the config's)",
    )
    p.add_argument("--json", action="store_true", help="JSON document on stdout")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sensitivity)
