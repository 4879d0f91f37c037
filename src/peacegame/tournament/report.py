"""The tournament's report: the analysis report plus tournament sections.

:func:`write_tournament_report` builds the ordinary run report
(:func:`peacegame.analysis.report.build_report`: summary, plots, scenario,
notes, appendix) on the episodes of the tournament's first scenario, and
inserts three sections after its summary and plots, before its scenario:

1. **Tournament**: scheme, competitors, scenarios, sizes, the tests used; with
   several scenarios, their summaries side by side
   (:func:`peacegame.analysis.summary.summary_rows`);
2. **Rankings**: the overall ranking with the neighbour comparisons, the
   competitor x role table, the heat map ``tournament_heatmap.png``, each
   role's ranking with its neighbour comparisons and the score per scenario;
3. **Empirical game**: per scenario, the stable profiles and the end points of
   the replicator dynamics.

Needs the ``analysis`` extra (pandas, matplotlib).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peacegame.analysis.report import build_report
from peacegame.describe import html_table, markdown_table
from peacegame.logs import SUMMARY, LogError
from peacegame.tournament.rankings import role_verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from peacegame.analysis.frame import Run

HEATMAP = "tournament_heatmap.png"
"""The heat map's file name in the run folder."""
SECTIONS = ("Tournament", "Rankings", "Empirical game")
"""The sections this module adds, in order."""


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _ci(mean: Any, lo: Any, hi: Any) -> str:
    if lo is None or hi is None:
        return _num(mean)
    return f"{_num(mean)} [{_num(lo)}, {_num(hi)}]"


def _p(value: Any) -> str:
    if value is None:
        return "-"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def plot_heatmap(summary: dict[str, Any]) -> Figure:
    """Mean reward per competitor (rows, ranked) and role (columns).

    Cells are coloured by the difference from the role's mean over
    competitors (roles pay on different scales) and labelled with the mean
    reward; a blank cell is a role the competitor does not play.
    """
    import numpy as np
    from matplotlib.figure import Figure

    rankings = summary["rankings"]
    roles = summary["roles"]
    names = [row["competitor"] for row in rankings["overall"]]
    values = np.full((len(names), len(roles)), np.nan)
    for row in rankings["by_role"]:
        if row["competitor"] in names and row["reward"] is not None:
            values[names.index(row["competitor"]), roles.index(row["role"])] = row[
                "reward"
            ]
    with np.errstate(invalid="ignore"):
        centred = values - np.nanmean(values, axis=0, keepdims=True)
    limit = float(np.nanmax(np.abs(centred))) if np.isfinite(centred).any() else 1.0
    limit = limit or 1.0
    fig = Figure(
        figsize=(max(5.0, 1.3 * len(roles) + 3), max(3.0, 0.5 * len(names) + 1.6)),
        layout="constrained",
    )
    ax = fig.subplots()
    image = ax.imshow(
        np.ma.masked_invalid(centred), cmap="RdBu", vmin=-limit, vmax=limit
    )
    ax.set_xticks(range(len(roles)), roles)
    ax.set_yticks(range(len(names)), [f"{i + 1}. {n}" for i, n in enumerate(names)])
    ax.set_xlabel("role")
    ax.set_ylabel("competitor (overall rank)")
    for i in range(len(names)):
        for j in range(len(roles)):
            if np.isnan(values[i, j]):
                continue
            dark = abs(centred[i, j]) > 0.6 * limit
            ax.text(
                j,
                i,
                f"{values[i, j]:.3f}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "black",
            )
    fig.colorbar(image, ax=ax, label="mean reward minus the role's mean")
    ax.set_title("Mean reward by competitor and role")
    return fig


def _facts(summary: dict[str, Any], manifest: dict[str, Any]) -> list[list[str]]:
    plan = manifest.get("plan", {})
    rankings = summary.get("rankings") or {}
    competitors = manifest.get("competitors", {})
    test = rankings.get("test", "?")
    tests = {
        "wilcoxon": "Wilcoxon signed-rank (paired)",
        "t": "paired t",
        "welch": "Welch t (unpaired: sampled assignments)",
    }
    rows = [
        ["scheme", str(plan.get("scheme"))],
        ["roles", ", ".join(summary["roles"])],
        ["scenarios", ", ".join(summary["scenarios"])],
        [
            "assignments",
            f"{plan.get('assignments', 0):,} x "
            f"{plan.get('episodes_per_assignment')} episodes = "
            f"{summary['planned']:,} matches ({summary['episodes']:,} logged)",
        ],
        ["scored", str(rankings.get("scored", "-"))],
        [
            "neighbour test",
            f"{tests.get(test, test)}, Holm-adjusted, alpha "
            f"{rankings.get('alpha', '-')}",
        ],
    ]
    for name, info in competitors.items():
        roles = info.get("roles", [])
        which = "all roles" if roles == summary["roles"] else ", ".join(roles)
        rows.append([f"competitor {name}", f"{info.get('label')} ({which})"])
    return rows


def _diff(comp: dict[str, Any]) -> str:
    text = _num(comp["mean_difference"], 4)
    if not comp.get("same_roles", True):
        text += f" (on {', '.join(comp['roles'])})"
    return text


def _overall_rows(rankings: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "rank",
        "competitor",
        "score [95% CI]",
        "roles",
        "n",
        "diff to next",
        "pairs",
        "p",
        "p (Holm)",
        "significant",
    ]
    comparisons = {row["higher"]: row for row in rankings["comparisons"]}
    rows = []
    for row in rankings["overall"]:
        comp = comparisons.get(row["competitor"])
        rows.append(
            [
                str(row["rank"]),
                row["competitor"],
                _ci(row["score"], row["score_lo"], row["score_hi"]),
                str(row["roles"]),
                f"{row['n']:,}",
                "-" if comp is None else _diff(comp),
                "-" if comp is None else f"{comp['pairs']:,}",
                "-" if comp is None else _p(comp["p_value"]),
                "-" if comp is None else _p(comp["p_holm"]),
                "-" if comp is None else ("yes" if comp["significant"] else "no"),
            ]
        )
    return headers, rows


def _role_rows(rankings: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "role",
        "rank",
        "competitor",
        "n",
        "reward [95% CI]",
        "agreement [95% CI]",
        "Nash dist.",
        "Pareto dist.",
        "welfare",
        "welfare contribution",
    ]
    rows = [
        [
            row["role"],
            str(row["rank_in_role"]),
            row["competitor"],
            f"{row['n']:,}",
            _ci(row["reward"], row["reward_lo"], row["reward_hi"]),
            _ci(row["agreement_rate"], row["agreement_lo"], row["agreement_hi"]),
            _num(row["nash_distance"]),
            _num(row["pareto_distance"]),
            _num(row["social_welfare"]),
            _num(row["welfare_contribution"]),
        ]
        for row in rankings["by_role"]
    ]
    return headers, rows


def _role_ranking_tables(
    rankings: dict[str, Any],
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) of each role's ranking with its comparisons."""
    headers = [
        "rank",
        "competitor",
        "n",
        "reward [95% CI]",
        "diff to next",
        "pairs",
        "p",
        "p (Holm)",
        "significant",
    ]
    out = []
    for block in rankings.get("role_rankings", []):
        comparisons = {row["higher"]: row for row in block["comparisons"]}
        rows = []
        for row in block["ranking"]:
            comp = comparisons.get(row["competitor"])
            rows.append(
                [
                    str(row["rank"]),
                    row["competitor"],
                    f"{row['n']:,}",
                    _ci(row["reward"], row["reward_lo"], row["reward_hi"]),
                    "-" if comp is None else _num(comp["mean_difference"], 4),
                    "-" if comp is None else f"{comp['pairs']:,}",
                    "-" if comp is None else _p(comp["p_value"]),
                    "-" if comp is None else _p(comp["p_holm"]),
                    "-" if comp is None else ("yes" if comp["significant"] else "no"),
                ]
            )
        out.append((f"{block['role']}: {role_verdict(block)}", headers, rows))
    return out


def _scenario_rows(
    rankings: dict[str, Any],
) -> tuple[list[str], list[list[str]]]:
    scenarios = list(rankings["by_scenario"])
    headers = ["competitor", *scenarios]
    rows = [
        [
            row["competitor"],
            *[
                _num(rankings["by_scenario"][s].get(row["competitor"]))
                for s in scenarios
            ],
        ]
        for row in rankings["overall"]
    ]
    return headers, rows


def _mix_text(mix: dict[str, dict[str, float]], top: int = 2) -> list[str]:
    """Per role, the ``top`` largest shares (and how many others)."""
    out = []
    for shares in mix.values():
        ranked = sorted(shares.items(), key=lambda kv: -kv[1])
        text = ", ".join(f"{name} {share:.2f}" for name, share in ranked[:top])
        if len(ranked) > top:
            text += f" (+{len(ranked) - top})"
        out.append(text)
    return out


def _game_tables(
    game: dict[str, Any], roles: list[str]
) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, headers, rows, note) per table of the empirical game."""
    out = []
    for scen in game.get("scenarios", []):
        name = scen["scenario"]
        if "skipped" in scen:
            continue
        stable = scen["stable"] or scen["least_regret"]
        label = "stable" if scen["stable"] else "least-regret (none stable)"
        rows = [
            [
                *[item["profile"][r] for r in roles],
                _num(item["regret"], 4),
                *[_num(item["payoffs"][r]) for r in roles],
            ]
            for item in stable
        ]
        note = (
            f"{scen['profiles_checked']:,} profiles had every one-role deviation "
            f"played; {scen['stable_count']:,} are stable (regret <= "
            f"{game['epsilon']})."
        )
        out.append(
            (
                f"{name}: {label} profiles",
                [*roles, "regret", *[f"payoff {r}" for r in roles]],
                rows,
                note,
            )
        )
        rows = [
            [
                *_mix_text(end["mix"]),
                *[_num(end["payoffs"][r]) for r in roles],
                _num(end["regret"], 4),
                f"{end['starts']}/{scen['starts']}",
                "yes" if end["converged"] else f"no ({end['steps']} steps)",
            ]
            for end in scen["replicator"]
        ]
        out.append(
            (
                f"{name}: replicator dynamics end points",
                [
                    *[f"mix {r}" for r in roles],
                    *[f"payoff {r}" for r in roles],
                    "regret",
                    "starts",
                    "converged",
                ],
                rows,
                "End points of the replicator dynamics, one per payoff vector: "
                "each role's largest shares (+ how many other competitors keep "
                "a share), the expected payoffs, the regret (an equilibrium if "
                f"at most {game['epsilon']}) and how many starting mixes "
                "(uniform, then random) reached it.",
            )
        )
    return out


def _sections(
    summary: dict[str, Any],
    manifest: dict[str, Any],
    heatmap_png: bytes,
    scenario_table: tuple[list[str], list[list[str]]] | None,
    png_prefix: str,
) -> tuple[str, str]:
    """The HTML and Markdown of the tournament sections."""
    facts = _facts(summary, manifest)
    h = ['<h2 id="tournament">Tournament</h2>', html_table(["", ""], facts)]
    md = ["## Tournament", "", markdown_table(["", ""], facts), ""]
    if scenario_table is not None:
        h += ["<h3>Scenarios</h3>", html_table(*scenario_table)]
        md += ["### Scenarios", "", markdown_table(*scenario_table), ""]
    rankings = summary.get("rankings")
    h.append('<h2 id="rankings">Rankings</h2>')
    md += ["## Rankings", ""]
    if not rankings:
        h.append("<p>No episodes yet.</p>")
        md += ["No episodes yet.", ""]
    else:
        explain = (
            "Score: mean over the roles a competitor plays of its mean reward in "
            "the role. Each competitor is compared with the next one down on "
            "their reward differences over identical opponents and seeds (two "
            "competitors that play different roles: on the roles both play); "
            "p-values are Holm-adjusted over the comparisons."
        )
        caption = (
            "Mean reward per competitor and role; colour: difference from the "
            "role's mean over competitors."
        )
        per_role = (
            "Within each role, its competitors ranked by mean reward in the role, "
            "each compared with the next one down on the role's observations "
            "(paired on identical opponents and seeds, except under sampled); "
            "the p-values are Holm-adjusted over the "
            f"{rankings.get('role_family', 0)} comparisons of all roles together."
        )
        role_tables = _role_ranking_tables(rankings)
        data = base64.b64encode(heatmap_png).decode("ascii")
        h += [
            f'<p class="muted">{html.escape(explain)}</p>',
            html_table(*_overall_rows(rankings)),
            f'<figure id="heatmap"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>",
            "<h3>By role</h3>",
            html_table(*_role_rows(rankings)),
            "<h3>Ranking per role</h3>",
            f'<p class="muted">{html.escape(per_role)}</p>',
            *[
                f"<h4>{html.escape(title)}</h4>\n{html_table(headers, rows)}"
                for title, headers, rows in role_tables
            ],
            "<h3>Score by scenario</h3>",
            html_table(*_scenario_rows(rankings)),
        ]
        md += [
            explain,
            "",
            markdown_table(*_overall_rows(rankings)),
            "",
            f"![heat map]({png_prefix}{HEATMAP})",
            "",
            f"*{caption}*",
            "",
            "### By role",
            "",
            markdown_table(*_role_rows(rankings)),
            "",
            "### Ranking per role",
            "",
            per_role,
            "",
            *[
                f"#### {title}\n\n{markdown_table(headers, rows)}\n"
                for title, headers, rows in role_tables
            ],
            "### Score by scenario",
            "",
            markdown_table(*_scenario_rows(rankings)),
            "",
        ]
    game = summary.get("empirical_game") or {}
    h.append('<h2 id="empirical-game">Empirical game</h2>')
    md += ["## Empirical game", ""]
    if "skipped" in game or not game:
        text = game.get("skipped", "Not computed.")
        h.append(f"<p>{html.escape(text)}</p>")
        md += [text, ""]
    else:
        for title, headers, rows, note in _game_tables(game, summary["roles"]):
            h += [
                f"<h3>{html.escape(title)}</h3>",
                f'<p class="muted">{html.escape(note)}</p>',
                html_table(headers, rows),
            ]
            md += [f"### {title}", "", note, "", markdown_table(headers, rows), ""]
    return "\n".join(h), "\n".join(md)


def scenario_runs(run_dir: str | Path) -> list[Run]:
    """The tournament's episodes as one :class:`Run` per scenario.

    Each run's scenario is looked up from the manifest (path, then shipped
    name) and used when its hash matches the log.
    """
    from peacegame.analysis.frame import load_run
    from peacegame.errors import UserError
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario

    full = load_run(run_dir, find_scenario=False)
    runs = []
    infos = full.manifest.get("scenarios") or [full.manifest.get("scenario") or {}]
    names = full.episodes["scenario"].astype(str)
    for info in infos:
        mask = (names == info.get("name")).to_numpy()
        if not mask.any():
            continue
        episodes = full.episodes.loc[mask].reset_index(drop=True)
        events = full.events
        if events is not None:
            keep = events["episode"].isin(episodes["episode"]).to_numpy()
            events = events.loc[keep].reset_index(drop=True)
        warnings = list(full.warnings)
        compiled = loaded = None
        for candidate in dict.fromkeys(
            str(c) for c in (info.get("path"), info.get("name")) if c
        ):
            try:
                found = load_scenario(resolve_config(candidate, "scenarios"))
            except UserError:
                continue
            if found.scenario_hash == info.get("hash"):
                loaded, compiled = found, compile_scenario(found)
                break
        if compiled is None:
            warnings.append(
                f"scenario {info.get('name')!r} not found with the logged hash; "
                "plots that need it are skipped"
            )
        run = dataclasses.replace(
            full,
            label=str(info.get("name")),
            episodes=episodes,
            events=events,
            scenario=compiled,
            loaded=loaded,
            warnings=warnings,
        )
        if compiled is not None:
            for issue in compiled.issues:
                column = f"level_{issue.name}"
                if column in run.episodes:
                    cat = run.episodes[column].cat
                    extra = [c for c in cat.categories if c not in issue.levels]
                    run.episodes[column] = cat.set_categories([*issue.levels, *extra])
        runs.append(run)
    return runs


def write_tournament_report(
    run_dir: str | Path,
    summary: dict[str, Any] | None = None,
    out: str | Path | None = None,
) -> tuple[Path, Path, list[Path]]:
    """Write ``report.html``, ``report.md`` and the PNG files of a tournament.

    Args:
        run_dir: The tournament's run folder.
        summary: Its ``summary.json`` document (read from the folder if None).
        out: The HTML file (default ``RUN_DIR/report.html``); the Markdown file
            gets the same name with ``.md``. The PNG files always go into the
            run folder.

    Returns:
        ``(html_path, markdown_path, png_paths)``.

    Raises:
        LogError: If the folder cannot be read or written.
    """
    from peacegame.analysis.plots import figure_png
    from peacegame.analysis.summary import summarize, summary_rows

    run_dir = Path(run_dir)
    if summary is None:
        try:
            summary = json.loads((run_dir / SUMMARY).read_text())
        except (OSError, ValueError):
            from peacegame.tournament.rankings import analyse_run

            summary = analyse_run(run_dir)
    runs = scenario_runs(run_dir)
    if not runs:
        raise LogError("holds no complete episode; nothing to report", file=run_dir)
    primary = dataclasses.replace(runs[0], label=run_dir.resolve().name)
    if len(runs) > 1:
        primary.warnings.append(
            f"the Summary, Plots, Scenario and Appendix sections cover the "
            f"first scenario ({runs[0].label}); see Tournament for the others"
        )
    html_path = Path(out) if out is not None else run_dir / "report.html"
    if html_path.is_dir():
        raise LogError(
            "expected a file name for the report, found a folder", file=html_path
        )
    md_path = html_path.with_suffix(".md")
    rel = os.path.relpath(run_dir.resolve(), md_path.resolve().parent)
    prefix = "" if rel == "." else Path(rel).as_posix() + "/"
    report = build_report(primary, png_folder=None if rel == "." else rel)
    scenario_table = None
    if len(runs) > 1:
        scenario_table = summary_rows([summarize(run) for run in runs])
    heatmap = figure_png(plot_heatmap(summary)) if summary.get("rankings") else b""
    html_part, md_part = _sections(
        summary, primary.manifest, heatmap, scenario_table, prefix
    )
    nav = "".join(f'<a href="#{s.lower().replace(" ", "-")}">{s}</a>' for s in SECTIONS)
    page = report.html.replace('<a href="#scenario">', nav + '<a href="#scenario">', 1)
    page = page.replace('<h2 id="scenario">', html_part + '\n<h2 id="scenario">', 1)
    markdown = report.markdown.replace("## Scenario\n", md_part + "\n## Scenario\n", 1)
    pngs = report.plots.save(run_dir)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        if heatmap:
            (run_dir / HEATMAP).write_bytes(heatmap)
            pngs.append(run_dir / HEATMAP)
        html_path.write_text(page, encoding="utf-8")
        md_path.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        raise LogError(f"cannot write: {exc.strerror}", file=run_dir) from None
    return html_path, md_path, pngs
