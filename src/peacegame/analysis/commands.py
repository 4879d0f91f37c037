"""The ``analyze``, ``report``, ``compare`` and ``sensitivity`` subcommands.

:func:`add_commands` adds them to the ``peacegame`` parser. Each handler takes
the parsed arguments and returns an exit code; user errors are raised as
:class:`~peacegame.errors.UserError` (the CLI prints ``error: ...`` and exits
2). Warnings go to stderr as ``warning: ...``; with ``--csv`` or ``--json``,
stdout holds the document only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peacegame.analysis import require_analysis
from peacegame.errors import UserError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from peacegame.analysis.frame import Run
    from peacegame.scenario.compiled import CompiledScenario
    from peacegame.solutions import Solution


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _labels(dirs: list[str]) -> list[str]:
    """Folder names, or the paths as given when two folders share a name."""
    names = [Path(d).resolve().name for d in dirs]
    if len(set(names)) == len(names):
        return names
    return [str(d).rstrip("/") for d in dirs]


def cmd_analyze(args: argparse.Namespace) -> int:
    """Print the summary of one or several run folders; write their plots."""
    require_analysis(plots=not args.no_plots)
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.plots import render_jobs, run_plots
    from peacegame.analysis.summary import (
        format_summary,
        mixed_scenarios,
        summarize,
        summary_frame,
        summary_json,
    )

    runs: list[Run] = []
    for run_dir, label in zip(args.runs, _labels(args.runs), strict=True):
        runs.append(load_run(run_dir, label=label))
    warnings = [w for run in runs for w in run.warnings]
    for w in warnings:
        _warn(w)
    summaries = [summarize(run) for run in runs]
    if mixed_scenarios(summaries):
        mixed = ", ".join(
            f"{s['run']}: {s['scenario']} ({s['scenario_hash'][:8]})" for s in summaries
        )
        _warn(f"the runs use different scenarios ({mixed}); compare with care")
    machine = args.csv or args.json
    if args.json:
        print(json.dumps(summary_json(summaries, warnings), indent=2))
    elif args.csv:
        print(summary_frame(summaries).to_csv(index=False), end="")
    else:
        print(format_summary(summaries))
    if not args.no_plots:
        out = sys.stderr if machine else sys.stdout
        if not machine:
            print(file=out)
        for run in runs:
            plots = run_plots(run, pairs=parse_pairs(args.pair, run), lazy=True)
            paths = plots.save(run.path, jobs=render_jobs())
            names = ", ".join(p.name for p in paths)
            print(f"plots written into {run.path}: {names}", file=out)
            for note in plots.notes:
                print(f"note: {run.label}: {note}", file=out)
    return 0


def parse_pairs(values: list[str] | None, run: Run) -> list[tuple[str, str]]:
    """``--pair X,Y`` flags as actor pairs of ``run``.

    Raises:
        UserError: For a malformed pair or an actor the run does not have.

    """
    from peacegame.errors import suggest

    pairs = []
    for value in values or []:
        parts = [p.strip() for p in value.replace(":", ",").split(",")]
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise UserError(
                f"--pair {value}: expected two different actors as X,Y, for "
                f"example --pair {','.join(run.actors[:2])}"
            )
        for actor in parts:
            if actor not in run.actors:
                raise UserError(
                    f"--pair {value}: unknown actor {actor!r}"
                    f"{suggest(actor, run.actors)}; the run's actors are "
                    f"{list(run.actors)}"
                )
        pairs.append((parts[0], parts[1]))
    return pairs


def write_run_plots(
    run_dir: str | Path,
    scenario: CompiledScenario | None = None,
    solution: Solution | None = None,
    pairs: Sequence[tuple[str, str]] = (),
) -> list[Path]:
    """Write a run folder's plots (for ``peacegame run``); return the PNG paths.

    Without the ``analysis`` extra this prints one note on stderr and returns
    an empty list, so a finished run never fails over its plots. Skipped plots
    are noted on stderr.

    Args:
        run_dir: The run folder.
        scenario: Its compiled scenario, if the caller has it (else it is looked
            up as :func:`~peacegame.analysis.frame.load_run` does).
        solution: The scenario's solution, if the caller has it.
        pairs: The actor pairs to project; give them with ``scenario`` (the
            scenario's ``questions.plot_pairs`` are not looked up then).

    Raises:
        UserError: If the run folder cannot be read or written.

    """
    try:
        require_analysis(plots=True)
    except UserError as exc:
        print(f"(plots skipped: {exc.one_line()})", file=sys.stderr)
        return []
    notes, paths = plot_run_folder(run_dir, scenario, solution, pairs)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return paths


def plot_run_folder(
    run_dir: str | Path,
    scenario: CompiledScenario | None = None,
    solution: Solution | None = None,
    pairs: Sequence[tuple[str, str]] = (),
) -> tuple[list[str], list[Path]]:
    """The work of :func:`write_run_plots`: return the notes and the PNG paths.

    The figures are built lazily (``run_plots(..., lazy=True)``), so where two
    processes render (:func:`~peacegame.analysis.plots.render_jobs`) they
    build the figures in parallel too.
    """
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.plots import render_jobs, run_plots

    run = load_run(run_dir, scenario=scenario)
    plots = run_plots(run, solution, pairs, lazy=True)
    return list(plots.notes), plots.save(run.path, jobs=render_jobs())


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML and Markdown report of a run folder."""
    require_analysis(plots=True)
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.report import write_report

    run = load_run(args.run_dir)
    for w in run.warnings:
        _warn(w)
    html_path, md_path, pngs = write_report(run, args.out)
    print(f"wrote {html_path}")
    print(f"wrote {md_path}")
    print(f"wrote {len(pngs)} plot{'' if len(pngs) == 1 else 's'} into {run.path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare two scenarios or match configs side by side."""
    from peacegame.analysis.compare import (
        compare_inputs,
        comparison_json,
        format_comparison,
    )

    if args.episodes is not None and args.episodes < 1:
        raise UserError(f"--episodes {args.episodes}: expected a positive number")
    doc = compare_inputs(
        args.a,
        args.b,
        episodes=args.episodes,
        question=args.question,
        focus=args.focus,
        feature=args.feature,
    )
    if args.json:
        print(json.dumps(comparison_json(doc), indent=2))
        for note in doc["notes"]:
            print(f"note: {note}", file=sys.stderr)
    else:
        print(format_comparison(doc))
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``analyze``, ``report`` and ``compare`` to the CLI's subparsers.

    Args:
        subparsers: The object returned by ``parser.add_subparsers()``.

    """
    p = subparsers.add_parser(
        "analyze",
        help="summary table (and plots) of run folders",
        description="Summarise run folders side by side and write their plots.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folder(s)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="CSV, one row per run")
    fmt.add_argument("--json", action="store_true", help="JSON document")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    p.add_argument(
        "--pair",
        action="append",
        metavar="X,Y",
        help="two actors to project against each other (repeatable; default: "
        "the scenario's questions.plot_pairs, else its first two actors)",
    )
    p.set_defaults(func=cmd_analyze)

    p = subparsers.add_parser(
        "report",
        help="self-contained HTML report (and Markdown) of a run folder",
        description="Write report.html (plots embedded) and report.md.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="run folder")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="HTML file to write (default RUN_DIR/report.html; the .md goes beside it)",
    )
    p.set_defaults(func=cmd_report)

    p = subparsers.add_parser(
        "compare",
        help="two scenarios or match configs side by side",
        description="Zone of agreement, binding red lines and solution points "
        "of two scenarios (files or shipped names), and the answer to the "
        "counterfactual question the scenario declares (questions: in the "
        "scenario file); with two match configs, also matches run with the "
        "same seeds.",
    )
    p.add_argument("a", metavar="A", help="scenario or match config")
    p.add_argument(
        "b",
        metavar="B",
        nargs="?",
        help="scenario or match config (default: the variant that A's question names)",
    )
    p.add_argument(
        "--question",
        metavar="NAME",
        help="the declared question to answer (default: the first of A's "
        "questions.counterfactuals)",
    )
    p.add_argument(
        "--focus", metavar="ACTOR", help="override the question's focus actor"
    )
    p.add_argument(
        "--feature",
        metavar="FEATURE",
        help="override the question's feature (outcomes where it is above 0)",
    )
    p.add_argument(
        "--episodes",
        type=int,
        metavar="N",
        help="episodes per match (match configs only)",
    )
    p.add_argument("--json", action="store_true", help="JSON document")
    p.set_defaults(func=cmd_compare)

    from peacegame.analysis.sensitivity.commands import add_sensitivity_command

    add_sensitivity_command(subparsers)
