"""``peacegame run``'s plot worker: the same files, and never a process left behind."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

import pytest

from peacegame.cli import main

from conftest import BASELINE

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the plot worker forks (Linux only)"
)

EPISODES = "30"


def _run(out: Path, *extra: str) -> int:
    return main(
        ["run", str(BASELINE), "--episodes", EPISODES, "--quiet"]
        + [
            "--out",
            str(out),
            *extra,
        ]
    )


def _pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def _wrote(out: str, folder: Path) -> list[str]:
    return [
        line.removeprefix(f"wrote {folder}{os.sep}")
        for line in out.splitlines()
        if line.startswith("wrote ")
    ]


@pytest.fixture(scope="module")
def drawn_here(tmp_path_factory) -> dict[str, bytes]:
    """The baseline's plots drawn without a worker, in this process only."""
    from peacegame.analysis import plots
    from peacegame.analysis.worker import PlotWorker

    out = tmp_path_factory.mktemp("here") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PlotWorker, "start", classmethod(lambda cls: None))
        mp.setattr(plots, "render_jobs", lambda: 1)
        assert _run(out) == 0
    return _pngs(out)


@pytest.fixture
def forking(monkeypatch):
    """Let the worker (and the render child) fork whatever the machine's load."""
    from peacegame.analysis import plots

    monkeypatch.setattr(plots, "can_fork", lambda: True)
    monkeypatch.setattr(plots, "render_jobs", lambda: 2)


@pytest.fixture
def delivered(monkeypatch, forking):
    """Record what each :meth:`PlotWorker.plot` returned."""
    from peacegame.analysis.worker import PlotWorker

    got: list[object] = []
    plot = PlotWorker.plot

    def recording(self, *args, **kwargs):
        got.append(plot(self, *args, **kwargs))
        return got[-1]

    monkeypatch.setattr(PlotWorker, "plot", recording)
    return got


def test_the_worker_writes_the_files_drawn_here(
    tmp_path, capsys, drawn_here, delivered
):
    out = tmp_path / "run"
    assert _run(out) == 0
    stdout = capsys.readouterr().out
    assert len(delivered) == 1 and delivered[0] is not None  # the worker drew them
    assert _pngs(out) == drawn_here
    assert len(drawn_here) == 5
    # Printed by the parent, in report order.
    assert _wrote(stdout, out) == [
        "utility_by_actor.png",
        "agreed_composition.png",
        "concession_curves.png",
        "projection_russia_ukraine.png",
        "rounds_to_agreement.png",
    ]
    assert multiprocessing.active_children() == []


def _dies(conn):
    os._exit(3)


def _fails(conn):
    conn.recv()
    conn.send(("error", "RuntimeError: drawing failed"))


@pytest.mark.parametrize("serve", [_dies, _fails], ids=["dies", "fails"])
def test_a_worker_that_does_not_deliver_leaves_the_plots_here(
    tmp_path, capsys, monkeypatch, drawn_here, delivered, serve
):
    from peacegame.analysis import worker

    monkeypatch.setattr(worker, "_serve", serve)
    out = tmp_path / "run"
    assert _run(out) == 0
    assert delivered == [None]
    assert _pngs(out) == drawn_here
    assert len(_wrote(capsys.readouterr().out, out)) == 5
    assert multiprocessing.active_children() == []


def test_no_worker_without_plots(tmp_path, monkeypatch, forking):
    from peacegame.analysis.worker import PlotWorker

    def fail(cls):
        raise AssertionError("a worker was started")

    monkeypatch.setattr(PlotWorker, "start", classmethod(fail))
    assert _run(tmp_path / "run", "--no-plots") == 0
    assert not list((tmp_path / "run").glob("*.png"))


def test_a_complete_run_or_an_error_ends_the_worker(tmp_path, capsys, delivered):
    out = tmp_path / "run"
    assert _run(out, "--no-plots") == 0
    capsys.readouterr()
    assert _run(out, "--resume") == 0
    assert "the run is already complete" in capsys.readouterr().out
    assert delivered == []  # asked for nothing
    assert not list(out.glob("*.png"))
    assert multiprocessing.active_children() == []

    assert _run(tmp_path / "bad", "--set", "max_rounds=oops") == 2
    assert "max_rounds" in capsys.readouterr().err
    assert multiprocessing.active_children() == []


def test_without_the_analysis_extra_the_plots_are_skipped(
    tmp_path, capsys, monkeypatch, delivered
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # the worker inherits it
    out = tmp_path / "run"
    assert _run(out) == 0
    assert delivered == [None]
    assert "plots skipped" in capsys.readouterr().err
    assert not list(out.glob("*.png"))
    assert multiprocessing.active_children() == []


def _waits(conn):
    time.sleep(60)


def test_close_ends_a_busy_worker_at_once(monkeypatch, forking):
    from peacegame.analysis import worker

    monkeypatch.setattr(worker, "_serve", _waits)
    started = worker.PlotWorker.start()
    assert started is not None
    t0 = time.perf_counter()
    started.close()
    assert time.perf_counter() - t0 < 5
    assert multiprocessing.active_children() == []
    started.close()  # idempotent
