"""Analysis plots and the report: labels through matplotlib objects, PNG files,
every report section, and (when a browser is installed) a headless render."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from brute_force import evaluate  # noqa: E402
from peacegame.analysis.frame import load_run  # noqa: E402
from peacegame.analysis.plots import (  # noqa: E402
    concession_table,
    figure_png,
    plot_composition,
    plot_concession,
    plot_projection,
    plot_rounds,
    plot_utilities,
    projection_pair,
    run_plots,
)
from peacegame.analysis.report import SECTIONS, write_report  # noqa: E402
from peacegame.solutions import solve  # noqa: E402

RUN = Path(__file__).parent / "data" / "analysis" / "run_small"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAMES = ["Russia", "China", "Ukraine", "United States", "European coalition"]


@pytest.fixture(scope="module")
def run():
    return load_run(RUN)


@pytest.fixture(scope="module")
def solution(run):
    return solve(run.scenario)


def assert_png(fig) -> None:
    data = figure_png(fig)
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_plot_utilities(run):
    sc = run.scenario
    fig = plot_utilities(
        run.episodes, run.actors, actor_names=NAMES, no_deal=list(sc.no_deal)
    )
    left, right = fig.axes
    assert fig.get_suptitle() == "Utility per actor"
    assert left.get_title() == "Agreements only (n=4)"
    assert right.get_title() == "All episodes (n=6)"
    assert left.get_ylabel() == "utility of the agreed outcome"
    assert right.get_ylabel().startswith("payoff")
    assert [t.get_text() for t in left.get_xticklabels()] == NAMES
    assert "no-deal value d" in legend_texts(left)
    assert_png(fig)


def test_plot_composition(run):
    fig = plot_composition(run.episodes, run.issues)
    assert fig.get_suptitle() == "Composition of agreed forces (4 agreements)"
    assert [ax.get_ylabel() for ax in fig.axes] == list(run.issues)
    assert fig.axes[-1].get_xlabel() == "share of agreements"
    troops = legend_texts(fig.axes[0])
    assert troops == ["0 (25%)", "10k (0%)", "25k (50%)", "60k (0%)", "100k (25%)"]
    # The stacked segments of each bar add up to the whole.
    widths = [p.get_width() for p in fig.axes[1].patches]
    assert sum(widths) == pytest.approx(1.0)
    assert_png(fig)


def test_concession_table_and_plot(run):
    table = concession_table(run.events, run.episodes, run.scenario)
    russia_own = table[(table["actor"] == "russia") & (table["offers"] == "own")]
    # Russia proposed in round 0 of all six episodes: its best outcome five
    # times and the Nash point once (make_fixture.py). Both indices are derived
    # by brute force over the YAML; Russia's best outcome is unique.
    brute = evaluate("ukraine-2025")
    top = max(o.utility["russia"] for o in brute.outcomes)
    (best,) = [o.index for o in brute.outcomes if o.utility["russia"] == top]
    nash = brute.nash_point.index
    sc = run.scenario
    r = sc.actor_index("russia")
    expected = (5 * sc.utility[r, best] + sc.utility[r, nash]) / 6
    row = russia_own[russia_own["round"] == 0].iloc[0]
    assert row["n"] == 6 and row["utility"] == pytest.approx(float(expected))
    # Offers to russia in round 1 were all made by china (episodes 0, 2, 3, 4
    # and 5; episode 1 ended in round 0).
    others = table[(table["actor"] == "russia") & (table["offers"] == "others'")]
    assert others[others["round"] == 1].iloc[0]["n"] == 5
    assert set(table["strategy"][table["actor"] == "ukraine"]) == {
        "conceder(e=2)",
        "random",
    }
    fig = plot_concession(run.events, run.episodes, sc)
    assert len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes] == NAMES
    assert fig.axes[0].get_xlabel() == "round (from 0)"
    assert fig.axes[0].get_ylabel() == "utility to Russia"
    assert "boulware(e=0.2): own offers" in legend_texts(fig.axes[0])
    assert "random: others' offers" in legend_texts(fig.axes[2])
    assert fig.get_suptitle().startswith("Concession curves")
    assert_png(fig)


def test_plot_projection(run, solution):
    # The run's scenario (ukraine-2025) declares its plot pair as data.
    assert run.loaded.spec.questions.plot_pairs == [("russia", "ukraine")]
    pair = projection_pair(run.scenario, run.loaded.spec.questions.plot_pairs)
    assert pair == ("russia", "ukraine")
    fig = plot_projection(run.scenario, solution, run.episodes, pair)
    (ax,) = fig.axes
    assert ax.get_title() == "Russia vs Ukraine: outcomes in utility space"
    assert (ax.get_xlabel(), ax.get_ylabel()) == (
        "utility to Russia",
        "utility to Ukraine",
    )
    labels = legend_texts(ax)
    for expected in (
        "feasible outcomes (3,840)",
        "zone of agreement (578)",
        "Nash point",
        "agreements reached (4; area ~ count)",
    ):
        assert expected in labels
    assert any(t.startswith("Pareto frontier") for t in labels)
    # The agreements sit at their outcomes' utilities (3 distinct outcomes).
    agreements = [c for c in ax.collections if c.get_label().startswith("agreements")]
    offsets = agreements[0].get_offsets()
    assert len(offsets) == 3
    sc = run.scenario
    np.testing.assert_allclose(
        offsets[0], [sc.utility[0, 0], sc.utility[2, 0]], atol=1e-6
    )
    fig2 = plot_projection(sc, solution, None, ("us", "eu"))
    assert fig2.axes[0].get_xlabel() == "utility to United States"
    assert_png(fig)


def test_plot_rounds(run):
    fig = plot_rounds(run.episodes, max_rounds=5)
    (ax,) = fig.axes
    assert ax.get_title() == (
        "Rounds played until agreement (4 agreements of 6 episodes)"
    )
    assert ax.get_xlabel() == (
        "rounds played until agreement (count: agreement round + 1)"
    )
    assert ax.get_ylabel() == "episodes"
    assert [p.get_height() for p in ax.patches] == [1, 1, 1, 1, 0]
    assert "deadline (5 rounds: round 0 to 4)" in legend_texts(ax)
    assert_png(fig)


def test_plots_without_agreements(run):
    none = run.episodes[~run.episodes["agreement"]]
    for fig in (
        plot_utilities(none, run.actors),
        plot_composition(none, run.issues),
        plot_rounds(none),
    ):
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert "no agreements" in texts
        assert_png(fig)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="rendering in two processes forks")
def test_render_in_two_processes_gives_the_same_bytes(run, monkeypatch):
    from peacegame.analysis import plots as plots_module

    serial = run_plots(run)
    serial.render(jobs=1)
    forked = run_plots(run)
    forked.render(jobs=2)
    assert forked._png.keys() == serial._png.keys() == forked.figures.keys()
    for name, data in serial._png.items():
        assert forked._png[name] == data, name

    # A child that claims a figure and dies delivers nothing: this process
    # renders the figure all the same.
    def dying_child(plots, names, next_index, conn):
        next(plots_module._claim(names, next_index))
        os._exit(1)

    monkeypatch.setattr(plots_module, "_render_share", dying_child)
    orphaned = run_plots(run)
    orphaned.render(jobs=2)
    for name, data in serial._png.items():
        assert orphaned._png[name] == data, name


@pytest.mark.skipif(not hasattr(os, "fork"), reason="rendering in two processes forks")
def test_an_error_while_rendering_ends_the_child_at_once(run, monkeypatch):
    # The child's PNG bytes fill the pipe; a parent that stops listening (an
    # error, Ctrl-C) must not wait for a child blocked on sending them.
    import multiprocessing
    import signal

    from peacegame.analysis import plots as plots_module

    parent = os.getpid()
    render = plots_module.figure_png

    def fails_here(fig):
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return render(fig)

    def hangs(signum, frame):
        raise AssertionError("render waited for a child blocked on its pipe")

    monkeypatch.setattr(plots_module, "figure_png", fails_here)
    lazy = run_plots(run, lazy=True)
    previous = signal.signal(signal.SIGALRM, hangs)
    signal.alarm(60)
    try:
        with pytest.raises(KeyboardInterrupt):
            lazy.render(jobs=2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert multiprocessing.active_children() == []


def test_lazy_plots_are_the_same_files(run, tmp_path):
    eager, lazy = run_plots(run), run_plots(run, lazy=True)
    assert lazy.figures == {}  # nothing built yet
    assert lazy.names() == eager.names() == list(eager.figures)
    assert lazy.notes == eager.notes
    (tmp_path / "e").mkdir()
    (tmp_path / "l").mkdir()
    assert [p.name for p in eager.save(tmp_path / "e")] == eager.names()
    assert [p.name for p in lazy.save(tmp_path / "l", jobs=2)] == eager.names()
    for name in eager.names():
        assert (tmp_path / "e" / name).read_bytes() == (
            tmp_path / "l" / name
        ).read_bytes(), name


def test_render_jobs_one_while_a_thread_runs(monkeypatch):
    import threading

    from peacegame.analysis import plots as plots_module
    from peacegame.analysis.plots import render_jobs

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert render_jobs() == 1
    finally:
        stop.set()
        thread.join()
    if sys.platform != "linux" or threading.active_count() != 1:
        return  # never forks here
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert render_jobs() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 0.5, 0.5))
    monkeypatch.setattr(plots_module, "_running_now", lambda: 3)
    assert render_jobs() == 1  # no CPU left free
    # The minute's load counts runs that have ended: what runs now decides.
    monkeypatch.setattr(plots_module, "_running_now", lambda: 2)
    assert render_jobs() == 1  # another process runs now
    monkeypatch.setattr(plots_module, "_running_now", lambda: 1)
    assert render_jobs() == 2
    monkeypatch.setattr(plots_module, "_running_now", lambda: None)
    assert render_jobs() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert render_jobs() == 1  # one CPU


def test_run_plots_files_and_skips(tmp_path, run):
    plots = run_plots(run)
    assert list(plots.figures) == [
        "utility_by_actor.png",
        "agreed_composition.png",
        "concession_curves.png",
        "projection_russia_ukraine.png",
        "rounds_to_agreement.png",
    ]
    paths = plots.save(tmp_path)
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in paths)
    # Without events: concession curves are skipped with a note.
    no_events = load_run(RUN)
    no_events.events = None
    skipped = run_plots(no_events)
    assert "concession_curves.png" not in skipped.figures
    assert any("no events" in n for n in skipped.notes)


def test_plot_pairs_come_from_the_scenario_or_the_caller(run):
    import dataclasses

    sc = run.scenario
    # Without declared pairs: the first two actors, whatever they are called.
    assert projection_pair(sc) == (sc.actors[0], sc.actors[1])
    assert projection_pair(sc, [("nobody", "eu")]) == (sc.actors[0], sc.actors[1])
    spec = run.loaded.spec
    questions = spec.questions.model_copy(
        update={"plot_pairs": [("us", "eu"), ("china", "ukraine")]}
    )
    loaded = dataclasses.replace(
        run.loaded, spec=spec.model_copy(update={"questions": questions})
    )
    declared = dataclasses.replace(run, loaded=loaded)
    names = [n for n in run_plots(declared).figures if n.startswith("projection")]
    assert names == ["projection_us_eu.png", "projection_china_ukraine.png"]
    names = [
        n
        for n in run_plots(declared, pairs=[("eu", "russia")]).figures
        if n.startswith("projection")
    ]
    assert names == ["projection_eu_russia.png"]


# ------------------------------------------------------------------ report


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report") / "run_small"
    shutil.copytree(RUN, folder)
    run = load_run(folder)
    html_path, md_path, pngs = write_report(run)
    return folder, html_path, md_path, pngs


def test_report_has_every_section(written):
    folder, html_path, md_path, pngs = written
    assert html_path == folder / "report.html" and md_path == folder / "report.md"
    html = html_path.read_text()
    md = md_path.read_text()
    for section in SECTIONS:
        assert f'<h2 id="{section.lower()}">{section}</h2>' in html
        assert f"\n## {section}\n" in md
    # Config, scenario, summary and plots carry their content.
    for text in (
        "boulware(e=0.2)",
        "zone of agreement: 578",
        "agreement rate [95% CI]",
    ):
        assert text in html and text in md
    assert "0.667 [0.300, 0.903]" in html and "0.667 [0.300, 0.903]" in md
    assert "nonaligned_china" in html  # top outcomes, decoded
    # Every plot is embedded as a PNG and referenced from the Markdown.
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(pngs) == 5
    assert all(base64.b64decode(i).startswith(PNG_MAGIC) for i in images)
    for png in pngs:
        assert f"]({png.name})" in md and png.is_file()
    # Self-contained: nothing is fetched from the network.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_report_out_elsewhere_and_skipped_plots(tmp_path, written):
    folder = written[0]
    run = load_run(folder)
    run.events = None  # a log without events: concession curves are skipped
    html_path, md_path, pngs = write_report(run, tmp_path / "out" / "r.html")
    assert md_path == tmp_path / "out" / "r.md" and len(pngs) == 4
    rel = Path(os.path.relpath(folder, md_path.parent)).as_posix()
    md = md_path.read_text()
    assert f"]({rel}/utility_by_actor.png)" in md
    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == 4
    assert "concession curves skipped" in html and "concession curves skipped" in md


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium installed")
def test_report_renders_in_headless_chromium(written, tmp_path):
    html_path = written[1]
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                _browser(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1200,3000",
                f"--screenshot={shot}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 50_000
