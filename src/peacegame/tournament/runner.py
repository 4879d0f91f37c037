"""Run a tournament into a crash-safe, resumable run folder.

The folder has the match format (``docs/log-schema.md``): ``manifest.json``
(``kind: tournament``), ``episodes.jsonl`` with one line per finished episode in
episode order and ``summary.json`` (the rankings and the empirical game,
:mod:`peacegame.tournament.rankings`).

Crash safety: each line is written and flushed when its episode is complete,
so a killed process leaves at most one partial last line, which ``--resume``
drops. The file is fsynced at most every
:data:`~peacegame.logs.FSYNC_INTERVAL` seconds and at the end (group commit,
:class:`~peacegame.logs.EpisodeWriter`) rather than after every line: an fsync
costs about as much as a whole episode here. An OS crash or power cut can
therefore lose the last fraction of a second of episodes, which ``--resume``
plays again.

Engines: with ``engine: auto`` (default) or ``batch`` the episodes are played
in chunks, and each chunk's assignments whose policies all have a vectorised
form run on the batch engine (:meth:`TournamentPlayer.play_many`); its lines
are byte-identical to the env's, so the engine may change on ``--resume``.

Backends, all giving byte-identical ``episodes.jsonl``:

* serial (``workers <= 1``): episodes in this process;
* ``local`` with ``workers > 1``: a process pool (forked from a fork server
  that has imported peacegame once, :func:`worker_context`); contiguous chunks
  of episodes are submitted with a bounded window and written in submission
  order;
* ``ray``: Ray tasks over the same chunks (:mod:`peacegame.tournament.ray_backend`).

SIGINT and SIGTERM stop the run after the episode being written; the folder
stays resumable.
"""

from __future__ import annotations

import collections
import dataclasses
import multiprocessing
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Literal

from peacegame import __version__
from peacegame.errors import UserError
from peacegame.logs import (
    EPISODES,
    MANIFEST,
    RESUME_CONFLICT,
    SCHEMA_VERSION,
    SUMMARY,
    EpisodeWriter,
    LogError,
    config_differences,
    describe_differences,
    dumps_record,
    merge_overrides,
    read_episodes,
    read_manifest,
    write_json,
)
from peacegame.match import StopRequests, prepare_folder, resume_command
from peacegame.match_config import apply_override
from peacegame.tournament.chunks import CHUNK, chunks, play_chunk
from peacegame.tournament.config import default_output
from peacegame.tournament.player import TournamentPlayer
from peacegame.tournament.setup import Tournament

Backend = Literal["local", "ray"]
BATCH_CHUNK = 512
"""Episodes per chunk at most when the batch engine plays (serial or not)."""
OWN_FILES = ("report.html", "report.md")
"""Files of a tournament folder that ``--overwrite`` also removes."""


@dataclass
class TournamentResult:
    """What :func:`run_tournament` did.

    Attributes:
        run_dir: The run folder.
        episodes: Episodes in the log now (resumed ones included).
        planned: Episodes in the whole tournament.
        played: Episodes played by this call.
        seconds: Wall time of this call's episodes.
        interrupted: True if stopped early by SIGINT/SIGTERM.
        summary: The ``summary.json`` document.
        already_complete: True if a resumed run had every planned episode
            logged already (nothing was played).
    """

    run_dir: Path
    episodes: int
    planned: int
    played: int
    seconds: float
    interrupted: bool
    summary: dict[str, Any]
    already_complete: bool = False

    @property
    def complete(self) -> bool:
        """Every planned episode is in the log."""
        return self.episodes >= self.planned

    @property
    def resume_command(self) -> str:
        """The command that continues exactly this run (no other flag needed)."""
        return resume_command("tournament", self.run_dir)


def manifest_for(
    tournament: Tournament,
    overrides: list[str] | None = None,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    """The run folder's ``manifest.json`` content.

    ``scenario`` describes the first scenario, as in a match manifest, so the
    analysis commands can read the folder; ``scenarios`` lists them all.

    Args:
        tournament: The tournament (its effective config: ``--resume`` reads it).
        overrides: The ``key=value`` overrides applied to the config file.
        run_dir: The run folder (for ``resume_command``).
    """
    config = tournament.config
    scenarios = [
        {
            "name": s.name,
            "hash": s.scenario_hash,
            "path": file,
            "file": str(Path(file).resolve()),
            "actors": list(s.actors),
            "n_outcomes": s.n_outcomes,
        }
        for s, file in zip(tournament.scenarios, tournament.scenario_files, strict=True)
    ]
    plan = tournament.plan
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "tournament",
        "peacegame_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config_path": tournament.config_path,
        "config": config.model_dump(mode="json"),
        "config_given": config.model_dump(mode="json", exclude_unset=True),
        "scenario": scenarios[0],
        "scenarios": scenarios,
        "roles": list(tournament.roles),
        "competitors": {
            c.name: {"spec": c.spec, "label": c.label, "roles": list(c.roles)}
            for c in tournament.competitors
        },
        "plan": {
            "scheme": plan.scheme,
            "assignments": len(plan.assignments),
            "episodes_per_assignment": plan.episodes_per_assignment,
            "contexts": plan.contexts,
        },
        "base_seed": config.seed,
        "episodes": plan.n_episodes,
        "overrides": list(overrides or []),
        **(
            {"resume_command": resume_command("tournament", run_dir)}
            if run_dir is not None
            else {}
        ),
    }


def _check_resumable(run_dir: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A resume must continue the recorded tournament, plan included.

    Raises:
        UserError: Naming what differs and the command that continues the
            recorded run.
    """
    where = run_dir / MANIFEST
    hint = resume_command("tournament", run_dir)
    kind = old.get("kind")
    if kind != "tournament":
        raise UserError(
            f"cannot resume: the folder holds a {kind!r} run, not a tournament; "
            f"continue it with: {resume_command(str(kind), run_dir)} (or pick "
            "another --out)",
            file=where,
        )
    # Both engines write identical lines, so switching engine keeps a run valid.
    # Episodes per assignment are part of the plan (episode order), so they may
    # not change: neither may anything else.
    ignore = ("output", "description", "engine")
    differences = config_differences(old["config"], new["config"], ignore)
    advice = (
        f"to continue the recorded run as it was, use: {hint} (or start a new "
        "run with another --out)"
    )
    if differences:
        raise UserError(
            "cannot resume: the config differs from the recorded run in "
            f"{describe_differences(differences)}; a tournament's plan is fixed "
            f"when it starts; {advice}",
            file=where,
        )
    old_hashes = [s.get("hash") for s in old.get("scenarios", [])]
    if old_hashes != [s["hash"] for s in new["scenarios"]]:
        raise UserError(
            "cannot resume: a scenario changed since the run started (scenario "
            "hash differs); restore it to continue the recorded run, or start a "
            "new run with another --out",
            file=where,
        )
    if old.get("competitors") != new["competitors"]:
        raise UserError(
            "cannot resume: the competitors differ from the recorded run's (a "
            f"policy resolves differently now); {advice}",
            file=where,
        )


def prepare_resumable(
    path: str | Path | None,
    overrides: list[str] | None = None,
    *,
    run_dir: str | Path | None = None,
    resume: bool = False,
) -> tuple[Tournament, Path, list[str]]:
    """The tournament to run: the config file's, or the recorded one on resume.

    With ``resume`` and a run folder that has a manifest, the recorded run
    continues: without ``path`` its effective config is read from the
    manifest; with ``path`` the file is read with the recorded overrides first,
    so no flag of the first command needs repeating. ``overrides`` apply on top.

    Args:
        path: The tournament config file or shipped name; None to resume the
            run in ``run_dir``.
        overrides: ``key=value`` overrides given now.
        run_dir: ``--out`` (default: the config's output).
        resume: ``--resume``.

    Returns:
        The tournament, its run folder, and every override applied (recorded
        in the manifest).

    Raises:
        UserError: On a bad config, or nothing to resume.
    """
    from peacegame.tournament.config import TournamentConfig
    from peacegame.tournament.setup import prepare_tournament, tournament_from_config
    from peacegame.yamlio import validate

    new = list(overrides or [])
    tournament: Tournament | None = None
    if path is None:
        if not resume:
            raise UserError(
                "no tournament config given; name one (file or shipped name), or "
                "pass --resume --out RUN_FOLDER to continue a run"
            )
        if run_dir is None:
            raise UserError(
                "--resume without a config needs --out RUN_FOLDER: the run "
                "folder to continue"
            )
    else:
        tournament = prepare_tournament(path, new)
        run_dir = run_dir or default_output(tournament.config)
    run_dir = Path(run_dir)
    where = run_dir / MANIFEST
    if not (resume and where.exists()):
        if tournament is None:
            raise UserError(
                "nothing to resume: no manifest.json in the run folder; start the "
                "run with: peacegame tournament CONFIG --out "
                + shlex.quote(str(run_dir)),
                file=run_dir,
            )
        return tournament, run_dir, new
    old = read_manifest(run_dir)
    applied = merge_overrides(list(old.get("overrides") or []), new)
    if path is not None:
        return prepare_tournament(path, applied), run_dir, applied
    # ``config_given`` is the effective config without unset defaults: it
    # validates again (a scheme's unused fields must stay unset).
    data = old.get("config_given", old.get("config"))
    if old.get("kind") != "tournament" or not isinstance(data, dict):
        kind = old.get("kind")
        raise UserError(
            f"cannot resume: the folder holds a {kind!r} run, not a tournament; "
            f"continue it with: {resume_command(str(kind), run_dir)}",
            file=where,
        )
    for assignment in new:
        data = apply_override(data, assignment)
    config = validate(TournamentConfig, data, file=where)
    files = []
    for scen in old.get("scenarios", []):
        found = [c for c in (scen.get("file"), scen.get("path")) if c]
        existing = [c for c in found if Path(c).is_file()]
        if not existing:
            raise UserError(
                f"cannot resume: the run's scenario file {scen.get('path')!r} is "
                "gone; restore it, or resume with the config file: peacegame "
                f"tournament CONFIG --resume --out {shlex.quote(str(run_dir))}",
                file=where,
            )
        files.append(Path(existing[0]))
    recorded = tournament_from_config(config, files, old.get("config_path"))
    return recorded, run_dir, applied


def run_tournament(
    tournament: Tournament,
    *,
    run_dir: str | Path | None = None,
    workers: int | None = None,
    backend: Backend = "local",
    engine: Literal["auto", "env", "batch"] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    fsync: bool = True,
    analyse: bool = True,
    overrides: list[str] | None = None,
) -> TournamentResult:
    """Play a tournament into a run folder (see the module docstring).

    Args:
        tournament: The checked tournament (:func:`prepare_tournament`).
        run_dir: The run folder (default: the config's ``output`` or
            ``runs/tournaments/<name>``).
        workers: ``local``: processes (None or 1: serial); ``ray``: tasks in
            flight (None: the cluster's CPUs).
        backend: ``local`` or ``ray``.
        engine: Overrides the config's ``engine`` (``auto``, ``env`` or
            ``batch``); None keeps it.
        resume: Continue an existing run folder.
        overwrite: Replace an existing run folder.
        progress: Show a progress bar on stderr.
        fsync: fsync the log every :data:`~peacegame.logs.FSYNC_INTERVAL`
            seconds and at the end (turn off only in tests and benchmarks).
        analyse: Write ``summary.json`` (rankings and empirical game).
        overrides: The ``key=value`` overrides of the config file, recorded in
            the manifest (:func:`prepare_resumable`).

    Raises:
        UserError: A policy that cannot play a role, a bad folder, a folder
            that cannot be resumed, a backend that is not installed, or
            ``engine: batch`` with a policy without a vectorised form.
    """
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if resume and overwrite:
        raise UserError(RESUME_CONFLICT)
    if engine is not None and engine != tournament.config.engine:
        config = tournament.config.model_copy(update={"engine": engine})
        tournament = dataclasses.replace(tournament, config=config)
    if backend == "local" and workers is not None and workers > 1:
        start_fork_server()  # its imports overlap the checks below
    player = TournamentPlayer(tournament)
    player.check()  # every policy on every view: errors before any match
    if backend == "ray":
        from peacegame.tournament.ray_backend import require_ray

        require_ray()
    run_dir = Path(run_dir or default_output(tournament.config))
    prepare_folder(run_dir, resume, overwrite)
    if overwrite:
        for name in OWN_FILES:
            (run_dir / name).unlink(missing_ok=True)
    manifest = manifest_for(tournament, overrides, run_dir)
    episodes_file = run_dir / EPISODES
    done, truncate_to = 0, None
    resuming = resume and (run_dir / MANIFEST).exists()
    if resuming:
        old = read_manifest(run_dir)
        _check_resumable(run_dir, old, manifest)
        manifest["created"] = old.get("created")
        for scen, recorded in zip(
            manifest["scenarios"], old.get("scenarios", []), strict=False
        ):
            scen["file"] = recorded.get("file", scen["file"])
        manifest["scenario"] = manifest["scenarios"][0]
    if resume and episodes_file.exists():
        done, truncate_to = _resume_point(episodes_file)
    write_json(run_dir / MANIFEST, manifest)

    planned = tournament.n_episodes
    already_complete = resuming and done >= planned
    todo = range(min(done, planned), planned)
    bar = _progress(progress and bool(todo), planned, todo.start)
    stop = StopRequests()
    played, agreed = 0, 0
    t0 = time.perf_counter()
    try:
        with (
            stop,
            EpisodeWriter(episodes_file, truncate_to, fsync=fsync) as out,
        ):
            lines = _lines(tournament, player, todo, workers, backend, run_dir)
            try:
                for line in lines:
                    out.write_line(line)
                    played += 1
                    if bar is not None:
                        agreed += '"agreement":true' in line
                        bar.update(1)
                        bar.set_postfix_str(
                            f"agreement {agreed / played:.0%}", refresh=False
                        )
                    if stop.requested:
                        break
            finally:
                close = getattr(lines, "close", None)
                if close is not None:
                    close()
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        stop.requested = True
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    logged = todo.start + played
    interrupted = stop.requested and logged < planned
    summary: dict[str, Any] = {}
    if analyse:
        from peacegame.tournament.rankings import analyse_run

        summary = analyse_run(run_dir)
        write_json(run_dir / SUMMARY, summary)
    return TournamentResult(
        run_dir,
        logged,
        planned,
        played,
        seconds,
        interrupted,
        summary,
        already_complete,
    )


def _resume_point(episodes_file: Path) -> tuple[int, int]:
    """How many episodes the log holds, and its length up to the last good line.

    Raises:
        LogError: If the ids are not ``0..n-1`` in order.
    """
    found = read_episodes(episodes_file)
    for w in found.warnings:
        print(f"warning: {w}", file=sys.stderr)
    ids = [r["episode"] for r in found.records]
    if ids != list(range(len(ids))):
        raise LogError(
            "episode ids are not 0..n-1 in order; the log was not written by this "
            "runner",
            file=episodes_file,
        )
    return len(ids), found.good_bytes


# --------------------------------------------------------------------------- #
# Backends: each yields serialised lines in episode order.
# --------------------------------------------------------------------------- #


def _lines(
    tournament: Tournament,
    player: TournamentPlayer,
    todo: range,
    workers: int | None,
    backend: Backend,
    run_dir: Path,
) -> Iterator[str]:
    if not todo:
        return iter(())
    if backend == "ray":
        from peacegame.tournament.ray_backend import ray_lines

        return ray_lines(tournament, todo, workers, run_dir, chunk_cap(player))
    if workers is None or workers <= 1 or len(todo) < 2:
        if player.uses_batch():
            return _serial_chunks(player, todo)
        return (dumps_record(player.play(i)) for i in todo)
    return _pool_lines(tournament, todo, workers, chunk_cap(player))


def chunk_cap(player: TournamentPlayer) -> int:
    """The largest chunk of work: :data:`BATCH_CHUNK` if the batch engine plays."""
    return BATCH_CHUNK if player.uses_batch() else CHUNK


def _serial_chunks(player: TournamentPlayer, todo: range) -> Iterator[str]:
    for chunk in chunks(todo, 1, BATCH_CHUNK):
        yield from play_chunk(player, chunk)


WORKER_MODULES = ["peacegame.tournament.player"]
"""Imported once by the fork server; forked workers start with them loaded."""


def worker_context() -> BaseContext:
    """The start method of local workers: ``forkserver`` where available.

    A fork server is a fresh single-threaded process that imports
    :data:`WORKER_MODULES` once and forks each worker from itself, so workers
    start in milliseconds instead of each importing peacegame (about 0.4 s of
    CPU each, which on two cores is most of the overhead of ``--workers 2``).
    It is as safe as ``spawn``: nothing is inherited from the parent but the
    arguments. Elsewhere, ``spawn``.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_MODULES)
    return context


def start_fork_server() -> None:
    """Start the fork server now (it imports in the background)."""
    context = worker_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


_WORKER_PLAYER: TournamentPlayer | None = None


def _worker_init(tournament: Tournament) -> None:
    global _WORKER_PLAYER
    # Ctrl-C reaches the whole process group: the parent decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One thread per worker for learned policies (torch reads it on import).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER_PLAYER = TournamentPlayer(tournament)


def _worker_chunk(episodes: range) -> list[str]:
    assert _WORKER_PLAYER is not None
    return play_chunk(_WORKER_PLAYER, episodes)


def _pool_lines(
    tournament: Tournament, todo: range, workers: int, cap: int = CHUNK
) -> Iterator[str]:
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=worker_context(),
        initializer=_worker_init,
        initargs=(tournament,),
    )
    pending: collections.deque[Future[list[str]]] = collections.deque()
    work = iter(chunks(todo, workers, cap))
    try:
        for chunk in work:
            pending.append(pool.submit(_worker_chunk, chunk))
            if len(pending) >= 2 * workers:
                break
        while pending:
            lines = pending.popleft().result()
            for chunk in work:  # keep the window full
                pending.append(pool.submit(_worker_chunk, chunk))
                break
            yield from lines
    finally:
        # Do not wait: idle workers exit on their own, and chunks still in
        # flight (stopped early) are at most CHUNK episodes.
        pool.shutdown(wait=False, cancel_futures=True)


def _progress(enabled: bool, total: int, done: int) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=done,
        unit="ep",
        dynamic_ncols=True,
        file=sys.stderr,
        mininterval=0.2,
    )
