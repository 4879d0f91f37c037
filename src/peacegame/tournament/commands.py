"""The ``tournament`` subcommand.

``peacegame tournament [CONFIG] [--workers N] [--backend local|ray]
[--engine auto|env|batch] [--resume] [--overwrite] [--quiet] [--out DIR]
[--set KEY=VALUE] [--no-report]``

Every check runs before the first match (one-line ``error: ...``, exit 2). The
run prints the overall ranking and one ranking per role, writes ``summary.json``
and, with the analysis extra, the report (``report.html``, ``report.md``, the
PNG files). An interrupted run exits 130 and prints the command that resumes it,
``peacegame tournament --resume --out DIR``: the recorded config, overrides
included, is read from the run folder.

:func:`add_tournament_commands` adds the subcommand to the ``peacegame``
parser; ``python -m peacegame.tournament.commands`` runs it alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from peacegame.errors import UserError


def _table_lines(
    ranked: list[dict[str, Any]],
    comparisons: list[dict[str, Any]],
    value: str,
    width: int,
) -> list[str]:
    """A ranking as text lines.

    Columns: rank, competitor, ``value`` (``score`` or ``reward``) with its 95%
    interval, the difference to the next one down and its Holm-adjusted p.
    """
    by_higher = {row["higher"]: row for row in comparisons}
    lines = [
        f"{'rank':<5}{'competitor':<{width + 2}}{value:>8}  {'95% CI':<18}"
        f"{'diff to next':>13}{'p (Holm)':>10}",
    ]
    for row in ranked:
        ci = "-"
        if row[f"{value}_lo"] is not None:
            ci = f"[{row[f'{value}_lo']:.3f}, {row[f'{value}_hi']:.3f}]"
        comp = by_higher.get(row["competitor"])
        diff = p = ""
        if comp is not None and not comp.get("roles", True):
            diff = "no common role"
        elif comp is not None:
            mark = "" if comp.get("same_roles", True) else "†"
            diff = f"{mark}{comp['mean_difference']:+.4f}"
            p = f"{comp['p_holm']:.4f}" + (" *" if comp["significant"] else "  ")
        lines.append(
            f"{row['rank']:<5}{row['competitor']:<{width + 2}}{row[value]:>8.3f}  "
            f"{ci:<18}{diff:>13}{p:>12}"
        )
    return lines


def ranking_text(summary: dict[str, Any]) -> str:
    """The overall ranking and the per-role rankings as plain-text tables."""
    from peacegame.tournament.rankings import role_verdict

    rankings = summary.get("rankings")
    if not rankings:
        return "no episodes logged"
    test = {"wilcoxon": "Wilcoxon", "t": "paired t", "welch": "Welch t"}.get(
        rankings["test"], rankings["test"]
    )
    width = max(10, *(len(row["competitor"]) for row in rankings["overall"]))
    lines = _table_lines(rankings["overall"], rankings["comparisons"], "score", width)
    lines.append(
        f"score: mean reward over the roles played; {test} test with the next one "
        f"down, Holm-adjusted; * significant at alpha {rankings['alpha']}"
    )
    if any(not c["same_roles"] for c in rankings["comparisons"]):
        lines.append("† compared on the roles both play only")
    if rankings.get("role_rankings"):
        lines += [
            "",
            f"by role: reward = mean reward in the role; {test} test with the next "
            f"one down in the role, Holm-adjusted over all {rankings['role_family']} "
            "per-role comparisons together",
        ]
    for block in rankings.get("role_rankings", []):
        lines += [
            f"role {block['role']}: {role_verdict(block)}",
            *_table_lines(block["ranking"], block["comparisons"], "reward", width),
        ]
    if (summary.get("empirical_game") or {}).get("scenarios"):
        lines.append("")
    for scen in (summary.get("empirical_game") or {}).get("scenarios", []):
        if "stable" not in scen:
            continue
        stable = [
            ", ".join(f"{r}={c}" for r, c in item["profile"].items())
            for item in scen["stable"]
        ]
        lines.append(
            f"{scen['scenario']}: {scen['stable_count']} stable profile(s) of "
            f"{scen['profiles_checked']} checked"
            + (f", e.g. {stable[0]}" if stable else "")
        )
    return "\n".join(lines)


def cmd_tournament(args: argparse.Namespace) -> int:
    """Run a tournament config; print the ranking; write the report."""
    from peacegame.logs import RESUME_CONFLICT
    from peacegame.tournament.runner import prepare_resumable, run_tournament

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    if args.resume and args.overwrite:
        raise UserError(RESUME_CONFLICT)
    tournament, run_dir, overrides = prepare_resumable(
        args.config, list(args.set or []), run_dir=args.out, resume=args.resume
    )
    result = run_tournament(
        tournament,
        run_dir=run_dir,
        workers=args.workers,
        backend=args.backend,
        engine=args.engine,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.quiet,
        overrides=overrides,
    )
    print(ranking_text(result.summary))
    rate = result.played / result.seconds if result.seconds > 0 else 0.0
    print(
        f"\n{result.played:,} matches played in {result.seconds:.2f} s "
        f"({rate:.0f} matches/s); {result.episodes:,} of {result.planned:,} "
        f"logged; run folder: {result.run_dir}"
    )
    if result.interrupted:
        print(
            f"interrupted after {result.episodes:,} of {result.planned:,} planned "
            f"episodes; resume with: {result.resume_command}",
            file=sys.stderr,
        )
        return 130
    if result.already_complete:
        print(
            f"the tournament is already complete: {result.episodes:,} of "
            f"{result.planned:,} planned episodes logged, nothing to play"
        )
    if not args.no_report:
        _write_report(result.run_dir, result.summary)
    return 0


def _write_report(run_dir: Any, summary: dict[str, Any]) -> None:
    """Write the report if the analysis extra is installed."""
    from peacegame.analysis import require_analysis

    try:
        require_analysis(plots=True)
    except UserError as exc:
        print(f"(report skipped: {exc.one_line()})", file=sys.stderr)
        return
    from peacegame.tournament.report import write_tournament_report

    html_path, md_path, pngs = write_tournament_report(run_dir, summary)
    print(f"wrote {html_path}, {md_path} and {len(pngs)} plots")


def add_tournament_commands(subparsers: Any) -> None:
    """Add ``tournament`` to the CLI's subparsers.

    Args:
        subparsers: The object returned by ``parser.add_subparsers()``.
    """
    p = subparsers.add_parser(
        "tournament",
        help="run a tournament: every competitor in every role, ranked",
        description="Run a tournament config into a resumable run folder, rank "
        "the competitors with paired tests and write the report.",
    )
    p.add_argument(
        "config",
        metavar="CONFIG",
        nargs="?",
        help="tournament config file or name (optional with --resume --out DIR)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local: processes (default 1); ray: tasks in flight (default: CPUs)",
    )
    p.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local processes, or Ray tasks (RAY_ADDRESS: an existing cluster)",
    )
    p.add_argument(
        "--engine",
        choices=("auto", "env", "batch"),
        default=None,
        help="override the config's engine: batch (vectorised, scripted policies "
        "only), env, or auto (batch where every policy has a vectorised form); "
        "identical logs",
    )
    p.add_argument("--out", metavar="DIR", help="run folder (default: the config's)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run folder as recorded (its config and overrides)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a run folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field, e.g. episodes=20 (repeatable)",
    )
    p.add_argument("--no-report", action="store_true", help="skip the report")
    p.set_defaults(func=cmd_tournament)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tournament`` alone (as ``peacegame tournament`` does); exit code."""
    parser = argparse.ArgumentParser(prog="peacegame")
    add_tournament_commands(parser.add_subparsers(dest="command", required=True))
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(["tournament", *argv])
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
