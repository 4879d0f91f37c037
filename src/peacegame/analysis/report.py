"""The run report: one self-contained HTML file and a Markdown twin.

``report.html`` embeds every plot as a base64 PNG and its CSS inline, so it
opens offline, from an e-mail attachment or a CI artefact. ``report.md``
references the PNG files written into the run folder. Results come first and
the configuration dump last. Sections, in order:

1. **Summary**: how many episodes, the summary table and the most frequent
   agreed outcomes;
2. **Plots**: every plot of :func:`peacegame.analysis.plots.run_plots`, with a
   caption;
3. **Scenario**: issues, actors, consent rules, and the solution table (zone of
   agreement, Nash and other points);
4. **Robustness**: how sure the scenario's answer is over the ranges of its
   uncertain numbers (``peacegame sensitivity``): the summary of
   ``RUN_DIR/sensitivity/summary.json`` when that run exists, else a quick
   Latin-hypercube estimate of :data:`QUICK_CALIBRATIONS` calibrations;
5. **Notes**: warnings from reading the log and plots that were skipped;
6. **Appendix**: the configuration: the run's key facts and the config
   snapshot from ``manifest.json`` (as YAML).

Tables are laid out by :func:`peacegame.describe.html_table` and
:func:`peacegame.describe.markdown_table`.
"""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from peacegame.analysis.plots import PlotSet, run_plots
from peacegame.analysis.summary import (
    INTERVALS,
    summarize,
    summary_rows,
    top_outcome_rows,
)
from peacegame.describe import html_table, markdown_table

if TYPE_CHECKING:
    from peacegame.analysis.frame import Run

SECTIONS = ("Summary", "Plots", "Scenario", "Robustness", "Notes", "Appendix")
"""The report's section titles, in order."""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
nav a { margin-right: 1em; } .muted { color: #666; }
"""


@dataclass
class Report:
    """A rendered report.

    Attributes:
        html: The self-contained HTML document.
        markdown: The Markdown document (plots referenced as PNG files).
        plots: The plots (figures, captions and, once saved, their paths).

    """

    html: str
    markdown: str
    plots: PlotSet


def _facts(run: Run) -> list[tuple[str, str]]:
    m = run.manifest
    scen = m.get("scenario") or {}
    return [
        ("run folder", str(run.path)),
        ("kind", str(m.get("kind", "?"))),
        ("config file", str(m.get("config_path", "?"))),
        ("created", str(m.get("created", "?"))),
        ("written by peacegame", str(m.get("peacegame_version", "?"))),
        ("scenario", f"{run.scenario_name} (hash {run.scenario_hash[:12]})"),
        ("outcomes", f"{scen.get('n_outcomes', '?')}"),
        ("base seed", str(m.get("base_seed", "?"))),
        (
            "episodes",
            f"{len(run.episodes):,} logged of {m.get('episodes', '?')} planned",
        ),
    ]


def _episodes_line(run: Run) -> str:
    """One sentence of what the summary covers."""
    planned = run.manifest.get("episodes", "?")
    planned = f"{planned:,}" if isinstance(planned, int) else str(planned)
    return (
        f"{len(run.episodes):,} episodes logged of {planned} planned, "
        f"scenario {run.scenario_name}; the configuration is in the appendix."
    )


def _scenario_text(run: Run) -> str | None:
    from peacegame.describe import scenario_summary, solution_table
    from peacegame.solutions import solve

    if run.scenario is None:
        return None
    parts = []
    if run.loaded is not None:
        parts.append(scenario_summary(run.loaded, run.scenario))
    parts.append(solution_table(run.scenario, solve(run.scenario)))
    return "\n\n".join(parts)


QUICK_CALIBRATIONS = 256
"""Calibrations of the report's quick robustness estimate."""


def _robustness_text(run: Run) -> str:
    """The Robustness section (see the module docstring)."""
    import json
    import tempfile

    from peacegame.errors import UserError

    done = Path(run.path) / "sensitivity" / "summary.json"
    if done.is_file():
        doc = json.loads(done.read_text())
        return f"From {done}:\n\n{doc['text']}"
    if run.loaded is None:
        return "The run's scenario was not found; see the notes."
    if not run.loaded.uncertain:
        return (
            "The scenario declares no uncertain numbers (no 'range' on any "
            "number), so there is nothing to vary."
        )
    from peacegame.analysis.sensitivity import run_sensitivity

    try:
        with tempfile.TemporaryDirectory() as tmp:
            doc, _ = run_sensitivity(
                str(run.loaded.path),
                method="lhs",
                samples=QUICK_CALIBRATIONS,
                out=Path(tmp) / "run",
                plots=False,
            )
    except UserError as exc:
        return f"No robustness estimate: {exc.one_line()}"
    out = Path(run.path) / "sensitivity"
    command = f"peacegame sensitivity {run.loaded.path} --out {out}"
    return (
        f"A quick estimate ({QUICK_CALIBRATIONS} calibrations, Latin hypercube, "
        f"seed 0); for Sobol' indices and more calibrations run: {command}\n\n"
        f"{doc['text']}"
    )


def build_report(run: Run, png_folder: str | Path | None = None) -> Report:
    """Render a run's report as HTML and Markdown.

    Args:
        run: The loaded run.
        png_folder: Where the Markdown expects the PNG files, relative to the
            Markdown file (default: the same folder).

    """
    summary = summarize(run)
    headers, rows = summary_rows([summary])
    top_headers, top_rows = top_outcome_rows(summary["top_outcomes"])
    plots = run_plots(run)
    scenario_text = _scenario_text(run)
    robustness = _robustness_text(run)
    config = yaml.safe_dump(
        run.manifest.get("config") or {}, sort_keys=False, allow_unicode=True
    ).rstrip()
    notes = [*run.warnings, *plots.notes]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    from peacegame import __version__

    title = f"peacegame report: {run.label}"
    byline = f"Generated {now} by peacegame {__version__}."
    facts = _facts(run)

    episodes = _episodes_line(run)
    figures_html: list[str] = []
    figures_md: list[str] = []
    prefix = "" if png_folder is None else Path(png_folder).as_posix().rstrip("/") + "/"
    for name, (_, caption) in plots.figures.items():
        data = base64.b64encode(plots.png(name)).decode("ascii")
        figures_html.append(
            f'<figure id="{html.escape(name)}"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        alt = name.removesuffix(".png").replace("_", " ")
        figures_md += [f"![{alt}]({prefix}{name})", "", f"*{caption}*", ""]

    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">{html.escape(byline)}</p>',
        "<nav>"
        + "".join(f'<a href="#{s.lower()}">{s}</a>' for s in SECTIONS)
        + "</nav>",
        '<h2 id="summary">Summary</h2>',
        f"<p>{html.escape(episodes)}</p>",
        f'<p class="muted">{html.escape(INTERVALS)}.</p>',
        html_table(headers, rows),
        "<h3>Most frequent agreed outcomes</h3>",
        html_table(top_headers, top_rows) if top_rows else "<p>No agreements.</p>",
        '<h2 id="plots">Plots</h2>',
        *figures_html,
        '<h2 id="scenario">Scenario</h2>',
        (
            f"<pre>{html.escape(scenario_text)}</pre>"
            if scenario_text
            else "<p>The run's scenario was not found; see the notes.</p>"
        ),
        '<h2 id="robustness">Robustness</h2>',
        f"<pre>{html.escape(robustness)}</pre>",
        '<h2 id="notes">Notes</h2>',
        (
            "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
            if notes
            else "<p>None.</p>"
        ),
        '<h2 id="appendix">Appendix</h2>',
        "<h3>Configuration</h3>",
        html_table(["", ""], [list(f) for f in facts]),
        f"<pre>{html.escape(config)}</pre>",
    ]
    md: list[str] = [
        f"# {title}",
        "",
        byline,
        "",
        "## Summary",
        "",
        episodes,
        "",
        f"{INTERVALS}.",
        "",
        markdown_table(headers, rows),
        "",
        "### Most frequent agreed outcomes",
        "",
        markdown_table(top_headers, top_rows) if top_rows else "No agreements.",
        "",
        "## Plots",
        "",
        *figures_md,
        "## Scenario",
        "",
        f"```\n{scenario_text}\n```"
        if scenario_text
        else "The run's scenario was not found; see the notes.",
        "",
        "## Robustness",
        "",
        f"```\n{robustness}\n```",
        "",
        "## Notes",
        "",
        *([f"- {n}" for n in notes] if notes else ["None."]),
        "",
        "## Appendix",
        "",
        "### Configuration",
        "",
        markdown_table(["", ""], [list(f) for f in facts]),
        "",
        "```yaml",
        config,
        "```",
    ]
    h.append("</body></html>")
    return Report(html="\n".join(h) + "\n", markdown="\n".join(md) + "\n", plots=plots)


def write_report(
    run: Run, out: str | Path | None = None
) -> tuple[Path, Path, list[Path]]:
    """Write ``report.html``, ``report.md`` and the plots' PNG files.

    Args:
        run: The loaded run.
        out: The HTML file (default ``RUN_DIR/report.html``); the Markdown file
            gets the same name with ``.md``. The PNG files always go into the
            run folder.

    Returns:
        ``(html_path, markdown_path, png_paths)``.

    Raises:
        LogError: If a file cannot be written.

    """
    from peacegame.logs import LogError

    html_path = Path(out) if out is not None else run.path / "report.html"
    if html_path.is_dir():
        raise LogError(
            "expected a file name for the report, found a folder", file=html_path
        )
    md_path = html_path.with_suffix(".md")
    rel = os.path.relpath(run.path.resolve(), md_path.resolve().parent)
    report = build_report(run, png_folder=None if rel == "." else rel)
    pngs = report.plots.save(run.path)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(report.html, encoding="utf-8")
        md_path.write_text(report.markdown, encoding="utf-8")
    except OSError as exc:
        raise LogError(f"cannot write: {exc.strerror}", file=html_path) from None
    return html_path, md_path, pngs
