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
) -> tuple[dict[str, Any], list[Path]]:
    """Run (or resume) a sensitivity analysis; write its folder.

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
    bar = _progress_bar() if progress else None
    result = evaluate(
        run_dir, spec, resume=resume, workers=workers, backend=backend, progress=bar
    )
    doc = summarise(result)
    doc["run_dir"] = str(run_dir)
    (run_dir / "summary.json").write_text(json.dumps(doc, indent=2) + "\n")
    (run_dir / "summary.txt").write_text(doc["text"] + "\n")
    paths: list[Path] = []
    if plots:
        from peacegame.analysis.sensitivity.plots import write_plots

        paths = write_plots(doc, result["answers"], run_dir)
    return doc, paths


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
    )
    if args.json:
        print(json.dumps({k: v for k, v in doc.items() if k != "text"}, indent=2))
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
    p.add_argument("--json", action="store_true", help="JSON document on stdout")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sensitivity)
