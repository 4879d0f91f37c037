"""The ``peacegame`` command: parses arguments and delegates.

User errors (:class:`~peacegame.errors.UserError`) print one line on stderr and
exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peacegame.errors import UserError

if TYPE_CHECKING:
    from peacegame.analysis.worker import PlotWorker
    from peacegame.match import RunResult

EXIT_USER_ERROR = 2


def _cmd_validate(args: argparse.Namespace) -> int:
    from peacegame.config_kinds import validate_file

    for file in args.files:
        print(f"ok: {file} ({validate_file(Path(file))})")
    return 0


def _cmd_scenario_show(args: argparse.Namespace) -> int:
    from peacegame.describe import scenario_summary
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario

    loaded = load_scenario(resolve_config(args.scenario, "scenarios"))
    print(scenario_summary(loaded, compile_scenario(loaded)))
    return 0


def _cmd_solve(args: argparse.Namespace) -> int:
    from peacegame.describe import solution_json, solution_table
    from peacegame.scenario import load_compiled
    from peacegame.solutions import solve

    scenario = load_compiled(args.scenario)
    solution = solve(scenario)
    if args.json:
        print(json.dumps(solution_json(scenario, solution), indent=2))
    else:
        print(solution_table(scenario, solution))
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from peacegame.config_kinds import json_schemas

    schemas = json_schemas()
    if args.kind and args.kind not in schemas:
        raise UserError(
            f"unknown config kind {args.kind!r}; expected one of {sorted(schemas)}"
        )
    chosen = {args.kind: schemas[args.kind]} if args.kind else schemas
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError("expected a folder, found a file", file=out)
        out.mkdir(parents=True, exist_ok=True)
        for kind, schema in chosen.items():
            path = out / f"{kind}.schema.json"
            path.write_text(json.dumps(schema, indent=2) + "\n")
            print(f"wrote {path}")
    else:
        doc = chosen[args.kind] if args.kind else chosen
        print(json.dumps(doc, indent=2))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from peacegame.logs import RESUME_CONFLICT

    if args.workers < 1:
        raise UserError(
            f"--workers {args.workers}: expected at least 1 local process; "
            "give --workers N with N >= 1"
        )
    if args.episodes is not None and args.episodes < 1:
        raise UserError(
            f"--episodes {args.episodes}: expected a positive number of episodes; "
            "give --episodes N with N >= 1"
        )
    if args.seed is not None and args.seed < 0:
        raise UserError(
            f"--seed {args.seed}: expected a base seed of 0 or more; give --seed N "
            "with N >= 0"
        )
    if args.resume and args.overwrite:
        raise UserError(RESUME_CONFLICT)
    overrides = list(args.set or [])
    if args.episodes is not None:
        overrides.append(f"episodes={args.episodes}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.engine is not None:
        overrides.append(f"engine={args.engine}")
    worker = None
    if not args.no_plots:
        from peacegame.analysis.worker import PlotWorker

        worker = PlotWorker.start()
    try:
        return _run_and_report(args, overrides, worker)
    finally:
        if worker is not None:
            worker.close()


def _run_and_report(
    args: argparse.Namespace, overrides: list[str], worker: PlotWorker | None
) -> int:
    """Play the match of ``peacegame run``, print its summary, write its plots."""
    from peacegame.logs import read_manifest
    from peacegame.match import run_config_file, summary_text

    result = run_config_file(
        args.config,
        overrides,
        run_dir=args.out,
        workers=args.workers,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    records = result.records
    actors = read_manifest(result.run_dir)["scenario"]["actors"]
    summary = json.loads((result.run_dir / "summary.json").read_text())
    print(summary_text(summary, actors))
    rate = result.played / result.seconds if result.seconds > 0 else 0.0
    print(
        f"\n{result.played} episodes played in {result.seconds:.2f} s "
        f"({rate:.0f} episodes/s); run folder: {result.run_dir}"
    )
    if result.interrupted:
        print(
            f"interrupted after {len(records)} of {result.planned} planned "
            f"episodes; resume with: {result.resume_command}",
            file=sys.stderr,
        )
        return 130
    if result.already_complete:
        print(
            f"the run is already complete: {len(records)} of {result.planned} "
            "planned episodes logged, nothing to play (to extend it: "
            f"{result.resume_command} --episodes N)"
        )
        return 0
    if not args.no_plots:
        _write_plots(result, worker)
    return 0


def _cmd_play(args: argparse.Namespace) -> int:
    from peacegame.play import play_config_file

    echo = args.echo or not sys.stdin.isatty()
    play_config_file(
        args.config,
        args.actor,
        iter(sys.stdin),
        sys.stdout,
        overrides=list(args.set or []),
        episode=args.episode,
        echo=echo,
    )
    return 0


def _write_plots(result: RunResult, worker: PlotWorker | None = None) -> None:
    """Write the analysis plots if the analysis extra is installed.

    They are drawn from the run's compiled scenario and solution (nothing is
    compiled twice), by the :class:`~peacegame.analysis.worker.PlotWorker`
    started before the match if there is one and it delivers, else here.
    """
    pairs: list[tuple[str, str]] = []
    if result.scenario is not None:
        from peacegame.analysis.plots import projection_pairs

        pairs = projection_pairs(result.scenario, result.plot_pairs)
    if worker is not None and result.scenario is not None:
        done = worker.plot(result.run_dir, result.scenario, result.solution, pairs)
        if done is not None:
            notes, paths = done
            for note in notes:
                print(f"note: {note}", file=sys.stderr)
            for path in paths:
                print(f"wrote {path}")
            return
    try:
        from peacegame.analysis.commands import write_run_plots
    except ImportError:
        print("(plots skipped: pip install 'peacegame[analysis]')", file=sys.stderr)
        return
    for path in write_run_plots(
        result.run_dir, result.scenario, result.solution, pairs
    ):
        print(f"wrote {path}")


class _PlayParser(argparse.ArgumentParser):
    """The ``play`` parser: its help lists the actors of the default match."""

    def format_help(self) -> str:
        """Return the help text, with the commands and the actors one can play."""
        from peacegame.play import HELP  # imported here: it loads the env

        base = super().format_help()
        return f"{base.rstrip()}\n\ncommands:\n{HELP}\n\n{_play_actors()}\n"


def _play_actors() -> str:
    """The actors of the default match config, for ``play --help``."""
    from peacegame.match_config import load_match_config
    from peacegame.resources import DEFAULT_MATCH
    from peacegame.scenario import load_scenario

    try:
        config, scenario_file = load_match_config(DEFAULT_MATCH)
        loaded = load_scenario(scenario_file)
    except UserError as exc:  # pragma: no cover - a broken installation
        return f"actors: (cannot read the default match: {exc.one_line()})"
    names = ", ".join(f"{a.id} ({a.name})" if a.name else a.id for a in loaded.actors)
    return (
        f"actors of the default match '{config.name}' (scenario "
        f"{loaded.spec.name}): {names}.\nOther match configs may have other "
        "actors: see 'peacegame scenario show SCENARIO'."
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``peacegame`` command."""
    from peacegame import __version__

    parser = argparse.ArgumentParser(
        prog="peacegame",
        description="A multi-agent negotiation game over a peacekeeping force.",
    )
    parser.add_argument(
        "--version", action="version", version=f"peacegame {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "validate",
        help="validate config files (any kind)",
        description="Validate config files of any kind (scenario, actor, match, "
        "tournament, training run, sweep), recognised from their keys. Prints "
        "one 'ok' line per valid file; the first error is one line naming the "
        "file, the field and what was expected (exit code 2).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="config files")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "scenario",
        help="inspect a scenario",
        description="Inspect a scenario (a file or a shipped name).",
    )
    scen = p.add_subparsers(dest="scenario_command", required=True)
    show = scen.add_parser(
        "show",
        help="issues, actors, outcome count, consent rules",
        description="Print a scenario's issues, actors, feasible outcome count "
        "and consent rules.",
    )
    show.add_argument("scenario", metavar="SCENARIO", help="file or shipped name")
    show.set_defaults(func=_cmd_scenario_show)

    p = sub.add_parser(
        "solve",
        help="zone of agreement, frontier, solution points",
        description="Solve a scenario exactly: its zone of agreement, bargaining "
        "set, Pareto frontier and the Nash, Kalai-Smorodinsky, utilitarian and "
        "egalitarian points. Takes a scenario, not a match config.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="file or shipped name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser(
        "run",
        help="run a configured match into a run folder",
        description="Run a match config (configs/matches/*.yaml or a shipped "
        "name) into a run folder: episodes.jsonl, manifest.json, summary.json "
        "and the plots.",
    )
    p.add_argument(
        "config",
        metavar="CONFIG",
        nargs="?",
        help="match config file or name (optional with --resume --out DIR)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field, e.g. protocol.max_rounds=30 (repeatable)",
    )
    p.add_argument("--episodes", type=int, help="override the number of episodes")
    p.add_argument("--seed", type=int, help="override the base seed")
    p.add_argument("--out", help="run folder (default: the config's output)")
    p.add_argument("--workers", type=int, default=1, help="local processes")
    p.add_argument(
        "--engine",
        choices=["auto", "batch", "env"],
        help="batch: vectorised engine; env: the PettingZoo env (default: auto)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run folder as recorded (its config, overrides and "
        "planned episodes); --episodes N extends it",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a run folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=_cmd_run)

    from peacegame.analysis.commands import add_commands
    from peacegame.theory import add_theory_commands
    from peacegame.tournament.commands import add_tournament_commands
    from peacegame.train.commands import add_train_commands

    add_commands(sub)
    add_tournament_commands(sub)
    add_train_commands(sub)
    add_theory_commands(sub)

    p = sub.add_parser(
        "play",
        help="negotiate in the terminal as one actor",
        description="Negotiate in the terminal as one actor of a match config; "
        "every other actor plays its configured policy. Input is read line by "
        "line, so a session can be scripted through stdin.",
    )
    p.__class__ = _PlayParser
    p.add_argument("config", metavar="CONFIG", help="match config file or name")
    p.add_argument(
        "--as",
        dest="actor",
        required=True,
        metavar="ACTOR",
        help="the actor you play (see 'actors' below)",
    )
    p.add_argument("--episode", type=int, default=0, help="episode (seed) to play")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field, e.g. protocol.max_rounds=10 (repeatable)",
    )
    p.add_argument("--echo", action="store_true", help="echo input lines")
    p.set_defaults(func=_cmd_play)

    p = sub.add_parser(
        "schema",
        help="JSON Schema of each config kind",
        description="Print (or write) the JSON Schema of each config kind, for "
        "editors that validate and autocomplete YAML.",
    )
    p.add_argument("kind", nargs="?", help="one kind (default: all)")
    p.add_argument("--out", help="write KIND.schema.json files into this folder")
    p.set_defaults(func=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UserError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> Any:
    """Console-script entry point.

    Before the interpreter exits, every object alive is moved out of the
    garbage collector's sight (:func:`gc.freeze`): the collections at exit
    would otherwise walk every object of the imported libraries (numba,
    pandas, matplotlib), about 0.3 s of CPU after ``peacegame run``, to free
    memory the process is about to give back anyway. Objects are still freed
    by reference counting, ``atexit`` handlers run and the standard streams
    are flushed as usual.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
