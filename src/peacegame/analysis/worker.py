"""A plot process forked before a match, so that its imports overlap the match.

``peacegame run`` spends about as much CPU importing pandas and matplotlib
(about 0.6 s) as it spends importing the engine and playing the baseline
match. A :class:`PlotWorker` is forked when the command starts, before the
engine plays; it imports the plotting side on the second CPU while the parent
plays. After the match the parent hands it the run folder, the compiled
scenario and its solution (:class:`PlotJob`), and the worker writes the plots
exactly as :func:`~peacegame.analysis.commands.write_run_plots` would (the
same call, :func:`~peacegame.analysis.commands.plot_run_folder`, rendering in
two processes itself) and reports back the notes and the files.

The parent prints what the worker reports; whenever the worker cannot deliver
(the ``analysis`` extra is missing, it failed, or it died), the parent draws
the plots itself, so the command behaves as without a worker. Ctrl-C is the
parent's to handle (the worker ignores it); :meth:`PlotWorker.close` always
ends the worker, at once unless it is answering.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from peacegame.scenario.compiled import CompiledScenario
    from peacegame.solutions import Solution


@dataclass
class PlotJob:
    """What the worker needs to plot one run folder.

    Attributes:
        run_dir: The run folder (its log is complete).
        scenario: The run's compiled scenario.
        solution: Its solution, if the parent has it.
        pairs: The actor pairs to project.
    """

    run_dir: Path
    scenario: CompiledScenario
    solution: Solution | None
    pairs: list[tuple[str, str]]


def _exit_on_term(signum: int, frame: Any) -> None:
    """SIGTERM in the worker: unwind (a render child is ended on the way)."""
    raise SystemExit(1)


def _serve(conn: Connection) -> None:
    """The worker: import the plotting side, wait for a job, write its plots.

    Replies ``("ok", notes, paths)`` or ``("error", message)``; closes the
    connection without a reply if the plotting libraries cannot be imported.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        from peacegame.analysis import require_analysis

        require_analysis(plots=True)
        import matplotlib.figure  # noqa: F401
        import pandas  # noqa: F401

        # What unpickling the job needs, imported while the parent plays.
        import peacegame.scenario.compiled  # noqa: F401
        import peacegame.solutions  # noqa: F401
        from peacegame.analysis.commands import plot_run_folder
    except Exception:  # the parent draws the plots instead
        conn.close()
        return
    try:
        job: PlotJob | None = conn.recv()
    except EOFError:
        return
    if job is None:
        return
    try:
        notes, paths = plot_run_folder(
            job.run_dir, job.scenario, job.solution, job.pairs
        )
        reply: tuple[Any, ...] = ("ok", notes, paths)
    except Exception as exc:
        reply = ("error", f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError):
        conn.send(reply)
    conn.close()


class PlotWorker:
    """A forked process that imports the plotting libraries ahead of need.

    Args:
        process: The worker process.
        conn: This end of its connection.
    """

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self._process: BaseProcess | None = process
        self._conn = conn
        self._replied = False

    @classmethod
    def start(cls) -> PlotWorker | None:
        """Fork the worker; None where a second process does not pay.

        The test is that of :func:`~peacegame.analysis.plots.render_jobs`: it
        may fork (:func:`~peacegame.analysis.plots.can_fork`) and a CPU is
        free (:func:`~peacegame.analysis.plots.cpu_free`).
        """
        from peacegame.analysis.plots import render_jobs

        if render_jobs() < 2:
            return None
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        mine, theirs = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(theirs,), daemon=False)
        process.start()
        theirs.close()
        return cls(process, mine)

    def plot(
        self,
        run_dir: Path,
        scenario: CompiledScenario,
        solution: Solution | None,
        pairs: Sequence[tuple[str, str]],
    ) -> tuple[list[str], list[Path]] | None:
        """Have the worker write a run folder's plots; wait for it, then end it.

        Returns:
            ``(notes, paths)``, what :func:`~peacegame.analysis.commands.
            plot_run_folder` returned in the worker, or None if the worker did
            not deliver (the caller then draws the plots itself).
        """
        reply: Any = None
        try:
            self._conn.send(PlotJob(Path(run_dir), scenario, solution, list(pairs)))
            reply = self._conn.recv()
            self._replied = True
        except (OSError, EOFError):
            return None
        finally:
            self.close()
        if reply[0] != "ok":
            return None
        return list(reply[1]), list(reply[2])

    def close(self) -> None:
        """End the worker (idempotent): wait for it if it replied, else stop it.

        A worker that has not replied is still importing, waiting or drawing;
        it is terminated (its render child with it) rather than waited for,
        so an error or Ctrl-C in the parent ends the command at once.
        """
        process, self._process = self._process, None
        if process is None:
            return
        self._conn.close()
        process.join(timeout=5.0 if self._replied else 0.0)
        if process.exitcode is None:
            process.terminate()
            process.join()
