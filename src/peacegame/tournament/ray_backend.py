"""The Ray backend: Ray tasks over chunks of episodes.

* **Cluster.** Under ``RAY_ADDRESS`` plain ``ray.init()`` attaches to that
  cluster (its nodes need peacegame installed, and the scenario and checkpoint
  files at the same paths); otherwise ``ray.init()`` starts a local cluster,
  with ``num_cpus`` set to ``--workers`` when given. A cluster this module
  started is shut down at the end of the run.
* **Temp folder.** ``RAY_TMPDIR`` (unless set by the user) is ``ray/`` inside
  the run folder. Ray's sockets must fit the 107-byte ``AF_UNIX`` limit, so
  when the run folder's path is too long the temp folder is a short one under
  the system temp folder and ``ray`` in the run folder is a symlink to it.
* **Threads.** ``OMP_NUM_THREADS=1`` in the driver and every worker.
* **Work.** The tournament is put in the object store once. Each task plays a
  contiguous chunk of episodes with a per-process cached player (Ray reuses
  worker processes) and returns the serialised lines. At most ``2 x workers``
  tasks are in flight; results are consumed in submission order, so the
  lines, and the file, are identical to the local backends'.
"""

from __future__ import annotations

import collections
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from peacegame.errors import UserError
from peacegame.tournament.setup import Tournament

INSTALL_HINT = "pip install 'peacegame[ray]'"
SOCKET_BUDGET = 40
"""Longest RAY_TMPDIR that leaves room for Ray's session and socket names."""

_CACHE: dict[str, Any] = {}


def require_ray() -> None:
    """Check that Ray is installed.

    Raises:
        UserError: Naming the install command.
    """
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UserError(f"--backend ray needs Ray: {INSTALL_HINT}") from None


def ray_temp_dir(run_dir: Path) -> Path:
    """The Ray temp folder of a run: ``run_dir/ray``, or a short stand-in.

    Returns:
        A folder whose path is at most :data:`SOCKET_BUDGET` characters; when
        ``run_dir/ray`` is longer, a new folder under the system temp folder,
        linked from ``run_dir/ray``.
    """
    inside = (run_dir / "ray").resolve()
    if len(str(inside)) <= SOCKET_BUDGET:
        inside.mkdir(parents=True, exist_ok=True)
        return inside
    short = Path(tempfile.mkdtemp(prefix="pgt-ray-"))
    link = run_dir / "ray"
    if link.is_symlink() or link.is_file():
        link.unlink()
    if not link.exists():
        link.symlink_to(short, target_is_directory=True)
    return short


def _init(workers: int | None, run_dir: Path) -> bool:
    """Start or attach to Ray; return True if this call started it."""
    import ray

    if ray.is_initialized():
        return False
    os.environ["OMP_NUM_THREADS"] = "1"
    env = {"OMP_NUM_THREADS": "1"}
    if os.environ.get("RAY_ADDRESS"):
        ray.init(runtime_env={"env_vars": env}, log_to_driver=False)
        return True
    if not os.environ.get("RAY_TMPDIR"):
        os.environ["RAY_TMPDIR"] = str(ray_temp_dir(run_dir))
    ray.init(
        num_cpus=workers,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": env},
    )
    return True


def _play_chunk(key: str, tournament: Tournament, start: int, stop: int) -> list[str]:
    """Ray task body: play ``start..stop-1`` with this process's cached player."""
    from peacegame.tournament.chunks import play_chunk
    from peacegame.tournament.player import TournamentPlayer

    player = _CACHE.get(key)
    if player is None:
        _CACHE.clear()
        player = _CACHE[key] = TournamentPlayer(tournament)
    return play_chunk(player, range(start, stop))


def ray_lines(
    tournament: Tournament,
    todo: range,
    workers: int | None,
    run_dir: Path,
    cap: int | None = None,
) -> Iterator[str]:
    """Yield the lines of ``todo`` in episode order, played by Ray tasks.

    Args:
        tournament: The tournament.
        todo: The episodes to play.
        workers: Tasks in flight (None: the cluster's CPUs).
        run_dir: The run folder (for the Ray temp folder).
        cap: Episodes per task at most (default: the runner's ``CHUNK``).
    """
    import ray

    from peacegame.tournament.chunks import CHUNK, chunks

    started = _init(workers, run_dir)
    pending: collections.deque[Any] = collections.deque()
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        width = workers or max(1, cpus)
        task = ray.remote(num_cpus=1)(_play_chunk)
        ref = ray.put(tournament)
        key = f"{os.getpid()}-{id(tournament)}-{time.time_ns()}"
        work = iter(chunks(todo, width, cap or CHUNK))
        for chunk in work:
            pending.append(task.remote(key, ref, chunk.start, chunk.stop))
            if len(pending) >= 2 * width:
                break
        while pending:
            lines = ray.get(pending.popleft())
            for chunk in work:  # keep the window full
                pending.append(task.remote(key, ref, chunk.start, chunk.stop))
                break
            yield from lines
    finally:
        for left in pending:  # stopped early: drop the work in flight
            ray.cancel(left)
        if started:
            ray.shutdown()
