"""Start-up of the README's main command, first run and next runs (issue 13).

Clones this repository's HEAD into a temporary folder (so numba's on-disk cache
and Python's bytecode start empty, as after an install), then runs::

    python -m peacegame.cli run configs/matches/baseline.yaml --quiet --out DIR

from the clone, with the clone's ``src`` first on ``PYTHONPATH`` and this
interpreter (its environment must have the ``analysis`` extra installed), once
cold and then ``--next`` more times, each into a new run folder. Each run's
wall time (``time.perf_counter`` around the subprocess) and CPU time (user +
system, from ``resource.getrusage(RUSAGE_CHILDREN)``, which includes the plot
processes) are reported, with the machine's load before it (one-minute load
average and ``procs_running`` from ``/proc/stat``): ``peacegame run`` uses a
second process only while a CPU is free, so a busy machine measures the
one-process path.

Targets: first run <= 20 s (compilation included), next runs <= 2 s.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/startup.py [--next 5] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIRST_TARGET = 20.0
NEXT_TARGET = 2.0


def _procs_running() -> int | None:
    """Threads runnable now, from ``/proc/stat`` (None off Linux)."""
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("procs_running "):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(clone: Path, out: Path) -> dict[str, Any]:
    """Run the main command once from ``clone`` into ``out``; time it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's shell writes bytecode
    env["PYTHONPATH"] = str(clone / "src")
    env.setdefault("OMP_NUM_THREADS", "1")
    command = [
        sys.executable,
        "-m",
        "peacegame.cli",
        "run",
        "configs/matches/baseline.yaml",
        "--quiet",
        "--out",
        str(out),
    ]
    load = os.getloadavg()[0]
    running = _procs_running()
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the run failed ({done.returncode}): {done.stderr.strip()}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(_children_cpu() - cpu, 3),
        "load_1min_before": round(load, 2),
        "procs_running_before": running,
        "plots": len(list(out.glob("*.png"))),
    }


def measure(next_runs: int) -> dict[str, Any]:
    """Clone HEAD, time the cold run and ``next_runs`` warm ones."""
    with tempfile.TemporaryDirectory(prefix="peacegame-startup-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(
            ["git", "clone", "--quiet", str(ROOT), str(clone)],
            check=True,
        )
        commit = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        first = timed_run(clone, Path(tmp) / "run-0")
        rest = [
            timed_run(clone, Path(tmp) / f"run-{k}") for k in range(1, next_runs + 1)
        ]
    walls = [r["wall_s"] for r in rest]
    return {
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": len(os.sched_getaffinity(0)),
        "first": first,
        "next": rest,
        "next_wall_min_s": min(walls) if walls else None,
        "next_wall_median_s": statistics.median(walls) if walls else None,
        "first_target_s": FIRST_TARGET,
        "next_target_s": NEXT_TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print (and optionally write) the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--next", type=int, default=5, help="warm runs (5)")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    result = measure(args.next)
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    first, median = result["first"]["wall_s"], result["next_wall_median_s"]
    print(
        f"first run {first:.2f} s (target <= {FIRST_TARGET:g} s: "
        f"{'met' if first <= FIRST_TARGET else 'MISSED'}); next runs median "
        f"{median:.2f} s, min {result['next_wall_min_s']:.2f} s (target <= "
        f"{NEXT_TARGET:g} s: {'met' if median <= NEXT_TARGET else 'MISSED'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
