"""A sensitivity run: a resumable folder of evaluated calibrations.

Layout of the run folder::

    manifest.json     what was asked: scenario (path, hash), uncertain numbers,
                      method, samples, seed, question, chunk size
    design.npy        the unit design SALib drew (float64[S, P])
    chunks/NNNNN.npz  the answers of rows [k * chunk, (k + 1) * chunk), written
                      atomically (a temporary file, then a rename) when done
    oat.npz           the nominal row and each number at its range ends
    summary.json      the analysis (see :mod:`.summary`), and the plots

The design is drawn once from the seed, and every chunk is a pure function of
its rows, so the same seed gives identical results with any number of workers,
with the Ray backend, and across an interrupted and resumed run. ``--resume``
checks that the manifest matches and evaluates the missing chunks only; an
existing run folder is never overwritten without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.analysis.sensitivity.sampling import (
    one_at_a_time,
    to_values,
    unit_design,
)
from peacegame.analysis.sensitivity.solve import BatchQuestion, answer_batch
from peacegame.errors import UserError

MANIFEST = "manifest.json"
SCHEMA = "peacegame-sensitivity/1"
CHUNK_BYTES = 192 * 1024**2
"""Working memory one chunk may take (per worker)."""


@dataclass(frozen=True)
class RunSpec:
    """What a sensitivity run evaluates (the resumable part of its manifest)."""

    scenario: str
    question: str | None
    method: str
    samples: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class Evaluator:
    """Evaluates rows of calibration values of one scenario and question."""

    def __init__(self, scenario: str, question: str | None, setup: Any = None) -> None:
        from peacegame.analysis.sensitivity.question import load_setup

        self.setup = setup if setup is not None else load_setup(scenario, question)

    def __call__(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Answers of ``values`` (``float64[S, P]``), one chunk at a time.

        For a question with a variant instead of a feature, the "with" counts
        are this scenario's minus the variant's (compiled with the same
        calibration), the "without" counts the variant's.
        """
        setup = self.setup
        batch = setup.calibrations.compile(values, relaxed=True)
        out = answer_batch(batch, setup.batch_question)
        if setup.variant is not None:
            other = setup.variant.compile(setup.variant_values(values))
            q = setup.batch_question
            alt = answer_batch(other, BatchQuestion(focus=q.focus, feature=None))
            out["accepts_with"] = out["focus_accepts"] - alt["focus_accepts"]
            out["accepts_without"] = alt["focus_accepts"]
            out["zone_with"] = out["zone"] - alt["zone"]
            out["zone_without"] = alt["zone"]
        return out


_WORKER: dict[str, Evaluator] = {}


def _worker_init(scenario: str, question: str | None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER["evaluator"] = Evaluator(scenario, question)


def _worker_chunk(job: tuple[int, np.ndarray, str]) -> int:
    index, values, folder = job
    _write_chunk(Path(folder), index, _WORKER["evaluator"](values))
    return index


def _chunk_path(run_dir: Path, index: int) -> Path:
    return run_dir / "chunks" / f"{index:05d}.npz"


def _write_chunk(run_dir: Path, index: int, answers: dict[str, np.ndarray]) -> None:
    path = _chunk_path(run_dir, index)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **answers)
    os.replace(tmp, path)


def chunk_rows(bytes_per_sample: int) -> int:
    """Rows per chunk so that one chunk fits :data:`CHUNK_BYTES`."""
    return int(min(1024, max(8, CHUNK_BYTES // max(1, bytes_per_sample))))


def prepare(run_dir: Path, manifest: dict[str, Any], resume: bool) -> dict[str, Any]:
    """Create the run folder, or check it for ``--resume``; return the manifest.

    Raises:
        UserError: When the folder exists without ``--resume``, or its
            manifest asks something else than this run.

    """
    path = run_dir / MANIFEST
    if resume:
        if not path.is_file():
            raise UserError(
                f"--resume: {run_dir} holds no sensitivity run ({MANIFEST} is "
                "missing); start one without --resume",
                file=run_dir,
            )
        recorded = json.loads(path.read_text())
        for key in ("spec", "scenario_hash", "parameters"):
            if recorded.get(key) != manifest.get(key):
                raise UserError(
                    f"--resume: the recorded run differs in {key!r} (recorded "
                    f"{json.dumps(recorded.get(key))[:120]}); resume with the same "
                    "arguments, or choose a new --out folder",
                    file=run_dir,
                )
        return recorded
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(
            f"the run folder {run_dir} already exists; continue it with --resume, "
            "or choose a new folder with --out",
            file=run_dir,
        )
    (run_dir / "chunks").mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def evaluate(
    run_dir: Path,
    spec: RunSpec,
    *,
    resume: bool = False,
    workers: int = 1,
    backend: str = "local",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Draw (or reload) the design, evaluate every chunk, return everything.

    Returns:
        ``{"manifest", "design" (unit), "values", "answers" (per output, all
        rows), "oat" (answers of the one-at-a-time rows), "oat_values"}``.

    """
    from peacegame.analysis.sensitivity.question import load_setup

    setup = load_setup(spec.scenario, spec.question)
    _WORKER.clear()
    _WORKER[f"{spec.scenario}|{spec.question}"] = Evaluator(
        spec.scenario, spec.question, setup
    )
    params = setup.calibrations.parameters
    chunk = chunk_rows(setup.calibrations.bytes_per_sample())
    manifest = {
        "schema": SCHEMA,
        "spec": spec.as_dict(),
        "scenario_path": str(setup.loaded.path),
        "scenario_hash": setup.loaded.scenario_hash,
        "parameters": [p.as_dict() for p in params],
        "question": setup.question_dict,
        "chunk": chunk,
    }
    manifest = prepare(run_dir, manifest, resume)
    chunk = int(manifest["chunk"])
    design_path = run_dir / "design.npy"
    if design_path.is_file():
        design = np.load(design_path)
    else:
        design = unit_design(spec.method, params, spec.samples, spec.seed)
        np.save(design_path, design)
    values = to_values(design, params)
    n_chunks = -(-len(values) // chunk)
    todo = [k for k in range(n_chunks) if not _chunk_path(run_dir, k).is_file()]
    jobs = ((k, values[k * chunk : (k + 1) * chunk], str(run_dir)) for k in todo)
    done = n_chunks - len(todo)
    if progress:
        progress(done, n_chunks)
    for _ in _run_jobs(jobs, spec, workers, backend, run_dir):
        done += 1
        if progress:
            progress(done, n_chunks)
    oat_path = run_dir / "oat.npz"
    oat_values = one_at_a_time(params)
    if not oat_path.is_file():
        _write_npz(oat_path, _local(spec)(oat_values))
    parts = [dict(np.load(_chunk_path(run_dir, k))) for k in range(n_chunks)]
    answers = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return {
        "manifest": manifest,
        "setup": setup,
        "design": design,
        "values": values,
        "answers": answers,
        "oat": dict(np.load(oat_path)),
        "oat_values": oat_values,
    }


def _write_npz(path: Path, answers: dict[str, np.ndarray]) -> None:
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **answers)
    os.replace(tmp, path)


def _local(spec: RunSpec) -> Evaluator:
    key = f"{spec.scenario}|{spec.question}"
    if key not in _WORKER:
        _WORKER.clear()
        _WORKER[key] = Evaluator(spec.scenario, spec.question)
    return _WORKER[key]


def _run_jobs(
    jobs: Iterator[tuple[int, np.ndarray, str]],
    spec: RunSpec,
    workers: int,
    backend: str,
    run_dir: Path,
) -> Iterator[int]:
    if backend == "ray":
        yield from _ray_jobs(jobs, spec, workers, run_dir)
        return
    if workers <= 1:
        evaluator = _local(spec)
        for index, values, folder in jobs:
            _write_chunk(Path(folder), index, evaluator(values))
            yield index
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_worker_init,
        initargs=(spec.scenario, spec.question),
    ) as pool:
        yield from pool.map(_worker_chunk, jobs)


def _ray_chunk(scenario: str, question: str | None, job: Any) -> int:
    """Ray task body: evaluate and write one chunk (a process-cached evaluator)."""
    key = f"{scenario}|{question}"
    if key not in _WORKER:
        _WORKER.clear()
        _WORKER[key] = Evaluator(scenario, question)
    index, values, folder = job
    _write_chunk(Path(folder), index, _WORKER[key](values))
    return index


def _ray_jobs(
    jobs: Iterator[tuple[int, np.ndarray, str]],
    spec: RunSpec,
    workers: int,
    run_dir: Path,
) -> Iterator[int]:
    """Evaluate chunks as Ray tasks (a local cluster unless ``RAY_ADDRESS``)."""
    try:
        import ray
    except ImportError:
        raise UserError(
            "--backend ray needs Ray: pip install 'peacegame[ray]'"
        ) from None
    started = False
    prior_tmp = os.environ.get("RAY_TMPDIR")
    if not ray.is_initialized():
        os.environ["OMP_NUM_THREADS"] = "1"
        env = {"env_vars": {"OMP_NUM_THREADS": "1"}}
        if os.environ.get("RAY_ADDRESS"):
            ray.init(runtime_env=env, log_to_driver=False)
        else:
            if prior_tmp is None:
                os.environ["RAY_TMPDIR"] = str(_ray_temp_dir(run_dir))
            ray.init(
                num_cpus=max(1, workers),
                include_dashboard=False,
                log_to_driver=False,
                runtime_env=env,
            )
        started = True
    try:
        task = ray.remote(num_cpus=1)(_ray_chunk)
        pending = [task.remote(spec.scenario, spec.question, job) for job in jobs]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                yield int(ray.get(ref))
    finally:
        if started:
            ray.shutdown()
        if prior_tmp is None:
            os.environ.pop("RAY_TMPDIR", None)


def _ray_temp_dir(run_dir: Path) -> Path:
    """``run_dir/ray`` when its path is short enough for Ray's sockets."""
    import tempfile

    inside = (run_dir / "ray").resolve()
    if len(str(inside)) <= 40:
        inside.mkdir(parents=True, exist_ok=True)
        return inside
    return Path(tempfile.mkdtemp(prefix="pgs-ray-"))
