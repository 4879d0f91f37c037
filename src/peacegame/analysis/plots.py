"""Plots of a run, as matplotlib Figures and PNG files in the run folder.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` built
without pyplot (no global state, no GUI backend, nothing to close), with a
title, axis labels, actor names and a legend, laid out with
``layout="constrained"`` so text does not overlap. :func:`write_plots` saves
them as PNG files:

==============================  ==============================================
file                            content
==============================  ==============================================
``utility_by_actor.png``        box plots of each actor's utility, agreements
                                only, and of its payoff over all episodes
``agreed_composition.png``      share of each level per issue among agreements
                                (one stacked bar per issue)
``concession_curves.png``       utility to each actor of the offers on the
                                table, by round, averaged per strategy (needs
                                the log's ``events``)
``projection_<x>_<y>.png``      two actors' utilities: all feasible outcomes,
                                the zone of agreement, the Pareto frontier,
                                the Nash point and the agreements reached; one
                                per pair of the scenario's
                                ``questions.plot_pairs`` (default: its first
                                two actors; ``analyze --pair X,Y`` overrides)
``rounds_to_agreement.png``     histogram of the rounds played until agreement
                                (a count: the agreement round + 1)
==============================  ==============================================

Round numbers start at 0, as in the log (axes say "round (from 0)"); a count
of rounds is labelled as a count (``docs/log-schema.md``, Round numbering).

:func:`run_plots` gathers a run's figures in a :class:`PlotSet`; with
``lazy=True`` each figure is built only when it is rendered, so that
:meth:`PlotSet.render`, which renders in two processes where a CPU is free
(:func:`render_jobs`), spreads the building over both as well (``peacegame
run`` and ``analyze`` do this). A figure is built and rendered by the same
code wherever it runs, so its PNG bytes do not depend on the process.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from peacegame.analysis.frame import Run
    from peacegame.scenario.compiled import CompiledScenario
    from peacegame.solutions import Solution

DPI = 110
"""Resolution of the PNG files."""
ROUND_AXIS = "round (from 0)"
"""The label of an axis of round numbers."""
ROUNDS_PLAYED_AXIS = "rounds played until agreement (count: agreement round + 1)"
"""The label of an axis of counts of rounds played."""
MAX_BACKGROUND_POINTS = 200_000
"""Feasible outcomes drawn in a projection at most (a random sample beyond)."""
RENDER_FIRST = ("concession_curves.png", "agreed_composition.png")
"""The slowest figures to render: :meth:`PlotSet.render` claims them first, so
that two processes finish at about the same time."""


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(n: int) -> list[tuple[float, ...]]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _names(actors: Sequence[str], actor_names: Sequence[str] | None) -> list[str]:
    return list(actor_names) if actor_names is not None else list(actors)


def _empty(ax: Axes, text: str) -> None:
    """Write a centred note on an axes that has nothing to show."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_utilities(
    episodes: pd.DataFrame,
    actors: Sequence[str],
    *,
    actor_names: Sequence[str] | None = None,
    no_deal: Sequence[float] | None = None,
) -> Figure:
    """Box plots of utility per actor: agreements only, and all episodes.

    Args:
        episodes: An episode table.
        actors: Actor ids (columns ``utility_<a>`` and ``reward_<a>``).
        actor_names: Display names, in the order of ``actors``.
        no_deal: Each actor's no-deal value d, drawn as a marker if given.

    Returns:
        A figure with two axes: left ``utility_<a>`` over agreements, right
        ``reward_<a>`` (the payoff, ``d`` on disagreement) over all episodes.

    """
    names = _names(actors, actor_names)
    agree = episodes["agreement"].to_numpy(bool)
    fig = _figure(max(8.0, 1.6 * len(actors) * 2), 4.8)
    axes = fig.subplots(1, 2, sharey=True)
    panels = [
        (
            axes[0],
            "utility_",
            agree,
            f"Agreements only (n={int(agree.sum()):,})",
            "utility of the agreed outcome",
        ),
        (
            axes[1],
            "reward_",
            np.ones(len(episodes), bool),
            f"All episodes (n={len(episodes):,})",
            "payoff (discounted utility, or d on no deal)",
        ),
    ]
    colors = _colors(len(actors))
    for ax, prefix, rows, title, ylabel in panels:
        data = [episodes[prefix + a].to_numpy(np.float64)[rows] for a in actors]
        data = [x[~np.isnan(x)] for x in data]
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("actor")
        if not any(x.size for x in data):
            _empty(ax, "no agreements")
            continue
        positions = np.arange(1, len(actors) + 1)
        keep = [i for i, x in enumerate(data) if x.size]
        box = ax.boxplot(
            [data[i] for i in keep],
            positions=positions[keep],
            widths=0.6,
            patch_artist=True,
            medianprops={"color": "black"},
        )
        for patch, i in zip(box["boxes"], keep, strict=True):
            patch.set_facecolor(colors[i])
            patch.set_alpha(0.6)
        ax.set_xticks(positions, names)
        if no_deal is not None:
            ax.scatter(
                positions,
                no_deal,
                marker="_",
                s=600,
                color="crimson",
                linewidths=2,
                zorder=3,
                label="no-deal value d",
            )
            ax.legend(loc="lower right", fontsize="small")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Utility per actor")
    return fig


def plot_composition(episodes: pd.DataFrame, issues: Sequence[str]) -> Figure:
    """Composition of the agreed forces: share of each level, per issue.

    Args:
        episodes: An episode table with ``level_<issue>`` columns.
        issues: The issues to show, one stacked horizontal bar each.

    Returns:
        A figure with one axes per issue; each legend lists the levels with
        their share of agreements.

    """
    import matplotlib

    agree = episodes["agreement"].to_numpy(bool)
    n_agree = int(agree.sum())
    fig = _figure(10.0, 1.0 + 1.05 * max(1, len(issues)))
    fig.suptitle(f"Composition of agreed forces ({n_agree:,} agreements)")
    if n_agree == 0 or not issues:
        ax = fig.subplots()
        ax.set_xlabel("share of agreements")
        _empty(ax, "no agreements")
        return fig
    axes = np.atleast_1d(fig.subplots(len(issues), 1, sharex=True))
    cmap = matplotlib.colormaps["viridis"]
    for ax, issue in zip(axes, issues, strict=True):
        column = episodes[f"level_{issue}"]
        levels = list(column.cat.categories) if hasattr(column, "cat") else []
        counts = column[agree].value_counts()
        left = 0.0
        for j, level in enumerate(levels):
            share = float(counts.get(level, 0)) / n_agree
            color = cmap(j / max(1, len(levels) - 1) * 0.9)
            ax.barh(
                [0],
                [share],
                left=left,
                color=color,
                edgecolor="white",
                label=f"{level} ({100 * share:.0f}%)",
            )
            left += share
        ax.set_ylabel(issue, rotation=0, ha="right", va="center")
        ax.set_yticks([])
        ax.set_xlim(0, 1)
        ax.legend(
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
            fontsize="small",
            ncol=2 if len(levels) > 3 else 1,
            frameon=False,
        )
    axes[-1].set_xlabel("share of agreements")
    axes[-1].xaxis.set_major_formatter(
        matplotlib.ticker.PercentFormatter(xmax=1.0, decimals=0)
    )
    return fig


def concession_table(
    events: pd.DataFrame,
    episodes: pd.DataFrame,
    scenario: CompiledScenario,
    actors: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean utility to each actor of the offers on the table, by round.

    Args:
        events: The event table (``episode``, ``round``, ``proposer``,
            ``offer``).
        episodes: The episode table (for each actor's ``policy_<a>``).
        scenario: The run's compiled scenario (utilities of the offers).
        actors: The actors to include (default: all of the scenario's).

    Returns:
        Long table with columns ``actor``, ``strategy`` (that actor's policy
        label), ``offers`` (``own`` or ``others'``), ``round``, ``utility``
        (mean) and ``n`` (offers averaged).

    """
    import pandas as pd

    actors = list(actors) if actors is not None else list(scenario.actors)
    offers = events["offer"].to_numpy(np.int64)
    proposer = events["proposer"].astype(str).to_numpy()
    rounds = events["round"].to_numpy(np.int64)
    episode_pos = pd.Index(episodes["episode"]).get_indexer(events["episode"])
    parts = []
    for a in actors:
        i = scenario.actor_index(a)
        policy = episodes[f"policy_{a}"].astype(str).to_numpy()
        part = pd.DataFrame(
            {
                "actor": a,
                "strategy": policy[episode_pos] if len(policy) else "?",
                "offers": np.where(proposer == a, "own", "others'"),
                "round": rounds,
                "utility": scenario.utility[i, offers].astype(np.float64),
            }
        )
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    grouped = long.groupby(["actor", "strategy", "offers", "round"], sort=True)
    out = grouped["utility"].agg(["mean", "size"]).reset_index()
    return out.rename(columns={"mean": "utility", "size": "n"})


def plot_concession(
    events: pd.DataFrame,
    episodes: pd.DataFrame,
    scenario: CompiledScenario,
    actors: Sequence[str] | None = None,
) -> Figure:
    """Concession curves: per actor, the utility of offers on the table by round.

    Solid lines are the actor's own offers, dashed lines the offers others
    made to it; one pair per strategy the actor played. The dotted line is the
    actor's no-deal value.

    Args:
        events: The event table.
        episodes: The episode table.
        scenario: The run's compiled scenario.
        actors: The actors to draw (default: all).

    """
    actors = list(actors) if actors is not None else list(scenario.actors)
    curves = concession_table(events, episodes, scenario, actors)
    ncols = min(3, len(actors))
    nrows = -(-len(actors) // ncols)
    fig = _figure(4.6 * ncols, 3.6 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[len(actors) :]:
        ax.remove()
    for ax, a in zip(axes, actors, strict=False):
        i = scenario.actor_index(a)
        name = scenario.actor_names[i]
        mine = curves[curves["actor"] == a]
        strategies = list(dict.fromkeys(mine["strategy"]))
        colors = _colors(len(strategies))
        for color, strategy in zip(colors, strategies, strict=True):
            for kind, style in (("own", "-"), ("others'", "--")):
                line = mine[(mine["strategy"] == strategy) & (mine["offers"] == kind)]
                if line.empty:
                    continue
                ax.plot(
                    line["round"],
                    line["utility"],
                    style,
                    color=color,
                    marker="o" if kind == "own" else None,
                    markersize=3,
                    label=f"{strategy}: {kind} offers",
                )
        ax.axhline(
            float(scenario.no_deal[i]),
            color="grey",
            linestyle=":",
            label="no-deal value d",
        )
        ax.set_title(name)
        ax.set_xlabel(ROUND_AXIS)
        ax.set_ylabel(f"utility to {name}")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(
        "Concession curves: utility of the offers on the table, by round "
        "(from 0; mean over episodes)"
    )
    return fig


def projection_pair(
    scenario: CompiledScenario, declared: Sequence[Sequence[str]] = ()
) -> tuple[str, str]:
    """The default pair of actors to project.

    Args:
        scenario: The compiled scenario.
        declared: The scenario's ``questions.plot_pairs``; the first pair whose
            actors the scenario has wins.

    Returns:
        That pair, else the scenario's first two actors.

    """
    return projection_pairs(scenario, declared)[0]


def projection_pairs(
    scenario: CompiledScenario, declared: Sequence[Sequence[str]] = ()
) -> list[tuple[str, str]]:
    """Every declared pair the scenario can draw, else its first two actors.

    Raises:
        ValueError: If the scenario has fewer than two actors.

    """
    pairs = [
        (str(x), str(y))
        for x, y in declared
        if x in scenario.actors and y in scenario.actors and x != y
    ]
    if pairs:
        return pairs
    if scenario.n_actors < 2:
        raise ValueError("a projection needs at least two actors")
    return [(scenario.actors[0], scenario.actors[1])]


def plot_projection(
    scenario: CompiledScenario,
    solution: Solution,
    episodes: pd.DataFrame | None = None,
    pair: tuple[str, str] | None = None,
) -> Figure:
    """Two actors' utilities of every feasible outcome, and where agreements fell.

    Args:
        scenario: The compiled scenario.
        solution: Its solution (zone, frontier, Nash point).
        episodes: An episode table; its agreements are drawn with a marker
            whose area grows with the count.
        pair: ``(x_actor, y_actor)``; default: the first two actors.

    """
    x_actor, y_actor = pair if pair is not None else projection_pair(scenario)
    xi, yi = scenario.actor_index(x_actor), scenario.actor_index(y_actor)
    x_name, y_name = scenario.actor_names[xi], scenario.actor_names[yi]
    ux = scenario.utility[xi].astype(np.float64)
    uy = scenario.utility[yi].astype(np.float64)
    fig = _figure(8.6, 6.0)
    ax = fig.subplots()
    shown = np.arange(scenario.n_outcomes)
    label = f"feasible outcomes ({scenario.n_outcomes:,})"
    if shown.size > MAX_BACKGROUND_POINTS:
        rng = np.random.default_rng(0)
        shown = np.sort(rng.choice(shown, MAX_BACKGROUND_POINTS, replace=False))
        label = f"feasible outcomes (sample of {shown.size:,})"
    ax.scatter(ux[shown], uy[shown], s=6, color="0.8", label=label, rasterized=True)
    zone = np.flatnonzero(solution.zone)
    ax.scatter(
        ux[zone],
        uy[zone],
        s=10,
        color="tab:blue",
        alpha=0.6,
        label=f"zone of agreement ({zone.size:,})",
        rasterized=True,
    )
    front = np.flatnonzero(solution.frontier)
    ax.scatter(
        ux[front],
        uy[front],
        s=14,
        facecolors="none",
        edgecolors="tab:orange",
        linewidths=0.8,
        label=f"Pareto frontier, all actors ({front.size:,})",
    )
    if episodes is not None:
        agree = episodes["agreement"].to_numpy(bool)
        outcomes = episodes["outcome"].to_numpy(dtype=np.int64, na_value=-1)[agree]
        outcomes = outcomes[outcomes >= 0]
        if outcomes.size:
            values, counts = np.unique(outcomes, return_counts=True)
            size = 30 + 400 * np.sqrt(counts / counts.max())
            ax.scatter(
                ux[values],
                uy[values],
                s=size,
                color="tab:green",
                alpha=0.55,
                edgecolors="darkgreen",
                label=f"agreements reached ({outcomes.size:,}; area ~ count)",
            )
    nash = solution.points.get("nash")
    if nash is not None:
        ax.scatter(
            [ux[nash]],
            [uy[nash]],
            marker="*",
            s=320,
            color="crimson",
            edgecolors="black",
            zorder=5,
            label="Nash point",
        )
    ax.axvline(float(scenario.no_deal[xi]), color="grey", linestyle=":", lw=1)
    ax.axhline(
        float(scenario.no_deal[yi]),
        color="grey",
        linestyle=":",
        lw=1,
        label="no-deal values d",
    )
    ax.set_xlabel(f"utility to {x_name}")
    ax.set_ylabel(f"utility to {y_name}")
    ax.set_title(f"{x_name} vs {y_name}: outcomes in utility space")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return fig


def plot_rounds(episodes: pd.DataFrame, max_rounds: int | None = None) -> Figure:
    """Histogram of rounds played until agreement.

    The log's ``rounds`` is a count (the agreement round + 1): an agreement in
    round 0 is one round played.

    Args:
        episodes: An episode table.
        max_rounds: The protocol's deadline, drawn as a line if given.

    """
    from matplotlib.ticker import MaxNLocator

    agree = episodes["agreement"].to_numpy(bool)
    rounds = episodes["rounds"].to_numpy(np.int64)[agree]
    fig = _figure(7.5, 4.5)
    ax = fig.subplots()
    ax.set_title(
        f"Rounds played until agreement ({rounds.size:,} agreements of "
        f"{len(episodes):,} episodes)"
    )
    ax.set_xlabel(ROUNDS_PLAYED_AXIS)
    ax.set_ylabel("episodes")
    if rounds.size == 0:
        _empty(ax, "no agreements")
        return fig
    top = int(max(rounds.max(), max_rounds or 0))
    ax.hist(
        rounds,
        bins=np.arange(0.5, top + 1.5),
        color="tab:blue",
        edgecolor="white",
        label="agreements",
    )
    ax.axvline(
        float(rounds.mean()),
        color="black",
        linestyle="--",
        label=f"mean {rounds.mean():.2f}",
    )
    ax.axvline(
        float(np.median(rounds)),
        color="black",
        linestyle=":",
        label=f"median {np.median(rounds):g}",
    )
    if max_rounds:
        ax.axvline(
            max_rounds + 0.5,
            color="crimson",
            label=f"deadline ({max_rounds} rounds: round 0 to {max_rounds - 1})",
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")
    return fig


def figure_png(fig: Figure) -> bytes:
    """Render a figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def can_fork() -> bool:
    """Whether this process may fork a helper safely and has a second CPU.

    Linux, no other thread running (a fork copies one thread only), not a
    daemonic multiprocessing worker (which may not start children), and at
    least two CPUs in this process's affinity mask.
    """
    import multiprocessing
    import threading

    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    if multiprocessing.current_process().daemon:
        return False  # a daemonic process may not start children
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    return len(os.sched_getaffinity(0)) >= 2


def render_jobs() -> int:
    """Processes that render a run's PNG files: 2 where it pays, else 1.

    Two when this process can fork safely (:func:`can_fork`) and one of its
    CPUs is free (:func:`cpu_free`): a second process costs about
    0.1 s of CPU more in all (each warms its own font and text caches), so on
    a busy machine it is slower. The figures are the same bytes either way
    (:meth:`PlotSet.render`).
    """
    return 2 if can_fork() and cpu_free() else 1


def cpu_free() -> bool:
    """Whether one of this process's CPUs is free, by the load or right now.

    Free if the last minute's load average leaves one CPU free, or if what is
    runnable at this instant (``procs_running`` of ``/proc/stat``, this process
    included) leaves one free for a second process. The minute's average also
    counts the command's own previous runs (``peacegame run`` twice in a row
    on an idle two-CPU machine keeps it above 1), which no longer compete for
    a CPU; a process that runs now does (another's training on the second
    CPU made the forked path about 20% slower, measured).
    """
    cpus = len(os.sched_getaffinity(0))
    if os.getloadavg()[0] <= cpus - 1:
        return True
    running = _running_now()  # this process included
    return running is not None and running <= cpus - 1


def _running_now() -> int | None:
    """Threads runnable at this instant, from ``/proc/stat`` (None if unknown)."""
    try:
        with open("/proc/stat", "rb") as stat:
            for line in stat:
                if line.startswith(b"procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _claim(names: Sequence[str], next_index: Any) -> Iterator[str]:
    """Yield the names not yet claimed, one at a time, from a shared counter."""
    while True:
        with next_index.get_lock():
            i = next_index.value
            next_index.value = i + 1
        if i >= len(names):
            return
        yield names[i]


def _render_share(
    plots: PlotSet, names: Sequence[str], next_index: Any, conn: Connection
) -> None:
    """A forked child's part of :meth:`PlotSet.render`: claim, render, send.

    Ctrl-C is the parent's to handle (this daemon child ends with it), and a
    parent that stopped listening is not an error here.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    done: dict[str, bytes] = {}
    try:
        for name in _claim(names, next_index):
            done[name] = figure_png(plots.figure(name))
    finally:
        with contextlib.suppress(OSError):
            conn.send(done)
        conn.close()


@dataclass
class PlotSet:
    """The plots of one run.

    Attributes:
        figures: Per file name (``utility_by_actor.png``...), its figure and a
            caption, in report order.
        notes: Plots that were skipped, and why.
        paths: The PNG files written (empty until :meth:`save`).

    """

    figures: dict[str, tuple[Figure, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    _png: dict[str, bytes] = field(default_factory=dict, repr=False)
    _pending: dict[str, tuple[Callable[[], Figure], str]] = field(
        default_factory=dict, repr=False
    )
    _order: list[str] = field(default_factory=list, repr=False)
    _lazy: bool = field(default=False, repr=False)

    def add(self, name: str, build: Callable[[], Figure], caption: str) -> None:
        """Add a figure: built now, or on first use if the set is lazy.

        A lazy set (``run_plots(..., lazy=True)``) builds each figure where it
        is rendered, so :meth:`render` spreads the building over its
        processes too; :attr:`figures` then holds the figures built in this
        process only.
        """
        self._order.append(name)
        if self._lazy:
            self._pending[name] = (build, caption)
        else:
            self.figures[name] = (build(), caption)

    def names(self) -> list[str]:
        """Every figure's file name, in report order (built yet or not)."""
        return list(self._order) if self._order else list(self.figures)

    def figure(self, name: str) -> Figure:
        """One figure, built now if it was pending."""
        if name not in self.figures:
            build, caption = self._pending.pop(name)
            self.figures[name] = (build(), caption)
        return self.figures[name][0]

    def png(self, name: str) -> bytes:
        """The PNG bytes of one figure (rendered once, then cached)."""
        if name not in self._png:
            self._png[name] = figure_png(self.figure(name))
        return self._png[name]

    def render(self, jobs: int = 1) -> None:
        """Render every figure not rendered yet, in up to two processes.

        With ``jobs >= 2`` a forked child renders some of the figures while
        this process renders the others (each takes the next figure in turn).
        Each figure is rendered by :func:`figure_png` alone, so its bytes do
        not depend on the process; a figure the child did not deliver (it
        failed) is rendered here.

        Args:
            jobs: Processes (see :func:`render_jobs`); 1 renders here only.
        """
        names = [name for name in self.names() if name not in self._png]
        names.sort(key=lambda name: name not in RENDER_FIRST)  # stable
        if jobs >= 2 and len(names) >= 2:
            import multiprocessing

            ctx = multiprocessing.get_context("fork")
            next_index = ctx.Value("i", 0)
            reader, writer = ctx.Pipe(duplex=False)
            child = ctx.Process(
                target=_render_share,
                args=(self, names, next_index, writer),
                daemon=True,
            )
            child.start()
            writer.close()
            try:
                for name in _claim(names, next_index):
                    self.png(name)
                # EOFError: the child died; its figures are rendered below.
                with contextlib.suppress(EOFError):
                    self._png.update(reader.recv())
            except BaseException:  # Ctrl-C, SIGTERM: do not wait for the child
                child.terminate()
                raise
            finally:
                reader.close()
                child.join()
        for name in names:
            self.png(name)

    def save(self, folder: str | Path, jobs: int = 1) -> list[Path]:
        """Write every figure as PNG into ``folder``; return the paths.

        Args:
            folder: The folder.
            jobs: Processes that render the figures (:meth:`render`).
        """
        folder = Path(folder)
        from peacegame.logs import LogError

        self.render(jobs)
        for name in self.names():
            path = folder / name
            try:
                path.write_bytes(self.png(name))
            except OSError as exc:
                raise LogError(f"cannot write: {exc.strerror}", file=path) from None
            self.paths.append(path)
        return self.paths


def run_plots(
    run: Run,
    solution: Solution | None = None,
    pairs: Sequence[tuple[str, str]] = (),
    *,
    lazy: bool = False,
) -> PlotSet:
    """Build every plot of a run (without writing files).

    Plots that need the scenario (concession curves, projections) are skipped
    with a note when the run's scenario could not be found; concession curves
    also need the log's ``events``.

    Args:
        run: The loaded run.
        solution: The scenario's solution, if already computed.
        pairs: Actor pairs to project (default: the scenario's
            ``questions.plot_pairs``, else its first two actors; see
            :func:`projection_pairs`).
        lazy: Build each figure only when it is rendered (see
            :meth:`PlotSet.add`).

    """
    out = PlotSet(_lazy=lazy)
    sc = run.scenario
    names = [run.actor_name(a) for a in run.actors]
    no_deal = None
    if sc is not None:
        no_deal = [float(sc.no_deal[sc.actor_index(a)]) for a in run.actors]
    out.add(
        "utility_by_actor.png",
        lambda: plot_utilities(
            run.episodes, run.actors, actor_names=names, no_deal=no_deal
        ),
        "Utility per actor. Left: utility of the agreed outcome, agreements only. "
        "Right: the payoff over all episodes (discounted utility on agreement, "
        "the no-deal value d otherwise).",
    )
    out.add(
        "agreed_composition.png",
        lambda: plot_composition(run.episodes, run.issues),
        "Composition of the agreed forces: the share of agreements at each level "
        "of each issue.",
    )
    if sc is None:
        out.notes.append(
            "concession curves and projections skipped: the run's scenario was "
            "not found (see the warnings)"
        )
    elif run.events is None or run.events.empty:
        out.notes.append(
            "concession curves skipped: the log has no events (set "
            "log_events: rounds in the match config)"
        )
    else:
        events = run.events
        out.add(
            "concession_curves.png",
            lambda: plot_concession(events, run.episodes, sc, run.actors),
            "Concession curves: the utility to each actor of the offers on the "
            "table, by round (from 0), averaged over episodes per strategy. "
            "Solid: the actor's own offers; dashed: offers made to it; dotted: "
            "its no-deal value.",
        )
    if sc is not None:
        if solution is None:
            from peacegame.solutions import solve

            solution = solve(sc)
        declared = run.loaded.spec.questions.plot_pairs if run.loaded else []
        for x, y in pairs or projection_pairs(sc, declared):
            out.add(
                f"projection_{x}_{y}.png",
                partial(plot_projection, sc, solution, run.episodes, (x, y)),
                f"{run.actor_name(x)} against {run.actor_name(y)}: every feasible "
                "outcome in utility space, the zone of agreement, the Pareto "
                "frontier of all actors, the Nash point and the agreements reached.",
            )
    out.add(
        "rounds_to_agreement.png",
        lambda: plot_rounds(run.episodes, run.max_rounds),
        "Rounds played until agreement: a count, the agreement round (from 0) + 1.",
    )
    return out
