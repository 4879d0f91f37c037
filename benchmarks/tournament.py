"""Tournament throughput in matches/s: serial, local processes and Ray.

Measures, in one run, ``run_tournament`` on the shipped
``configs/tournaments/scripted.yaml`` (six scripted strategies, role rotation,
two scenarios, public information, random recognition; 4,800 matches; with
``--quick`` one scenario and 2 episodes per assignment, 480 matches):

* ``serial``: one process;
* ``workers=2``: two local worker processes (``--workers 2``);
* ``ray``: Ray tasks, two in flight, on a local 2-CPU cluster started
  beforehand (``ray.init()`` is reported on its own); skipped when Ray is not
  installed.

Each rate is the matches played divided by the wall time of
``run_tournament``'s episode loop, which includes starting the worker
processes (or submitting the Ray tasks) and writing the log as users run it
(lines flushed, fsync every 0.25 s). The serial and ``workers=2`` cases run
``--rounds`` times, interleaved, so that a change of machine load hits both
alike; then the Ray cluster is started and the Ray case runs ``--rounds``
times (an idle Ray cluster still uses some CPU, so it is not left running
during the local cases). Each rate is the median. Every log is checked to be
byte-identical to the serial one.

The speed-ups are only meaningful on otherwise idle cores: the load average
is printed. On a shared machine, run it with a real-time priority so other
jobs do not take the cores (``chrt -r 1 python benchmarks/tournament.py``;
the kernel still leaves them 5% of the CPU time). Target (issue 7):
``workers=2`` at least 1.7x serial.

    python benchmarks/tournament.py            # ~1 minute
    python benchmarks/tournament.py --quick    # ~20 s
    python benchmarks/tournament.py --no-ray --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

from peacegame.tournament import prepare_tournament, run_tournament  # noqa: E402
from peacegame.tournament.setup import Tournament  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "tournaments" / "scripted.yaml"


def measure(
    tournament: Tournament, folder: Path, workers: int, backend: str
) -> tuple[float, bytes]:
    """Run the tournament once; return (matches/s, the log bytes)."""
    result = run_tournament(
        tournament,
        run_dir=folder,
        workers=workers,
        backend=backend,  # type: ignore[arg-type]
        overwrite=True,
        progress=False,
        analyse=False,
    )
    assert result.complete
    return result.played / result.seconds, (folder / "episodes.jsonl").read_bytes()


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="480 matches")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions")
    parser.add_argument("--no-ray", action="store_true", help="skip Ray")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    overrides = ["scenarios=[ukraine-2025]", "episodes=2"] if args.quick else []
    tournament = prepare_tournament(CONFIG, overrides)
    rates: dict[str, list[float]] = {"serial": [], "workers=2": []}
    load_before = os.getloadavg()
    ray_init = None
    with tempfile.TemporaryDirectory(prefix="bench-tournament-") as tmp:
        folder = Path(tmp) / "run"
        reference: bytes | None = None

        def run(name: str, workers: int, backend: str) -> None:
            nonlocal reference
            rate, data = measure(tournament, folder, workers, backend)
            reference = data if reference is None else reference
            if data != reference:
                raise SystemExit(f"{name}: episodes.jsonl differs from serial")
            rates.setdefault(name, []).append(rate)

        for _ in range(args.rounds):
            run("serial", 1, "local")
            run("workers=2", 2, "local")
        if not args.no_ray:
            try:
                import ray
            except ImportError:
                print("(ray not installed: skipped)", file=sys.stderr)
            else:
                t0 = time.perf_counter()
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
                ray_init = time.perf_counter() - t0
                try:
                    for _ in range(args.rounds):
                        run("ray", 2, "ray")
                finally:
                    ray.shutdown()
    load_after = os.getloadavg()
    median = {name: statistics.median(values) for name, values in rates.items()}
    out = {
        "config": str(CONFIG.relative_to(ROOT)),
        "matches": tournament.n_episodes,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "matches_per_second": {k: round(v, 1) for k, v in median.items()},
        "all_rates": {k: [round(v, 1) for v in vs] for k, vs in rates.items()},
        "speedup_over_serial": {
            k: round(v / median["serial"], 2) for k, v in median.items()
        },
        "ray_init_seconds": None if ray_init is None else round(ray_init, 2),
        "identical_logs": True,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return out
    print(
        f"{out['matches']:,} matches ({out['config']}), median of {args.rounds}; "
        f"load average before {out['load_average_before']}, after "
        f"{out['load_average_after']} on {out['cpus']} CPUs"
    )
    print(f"{'case':<12}{'matches/s':>12}{'vs serial':>11}   all rounds")
    for name, rate in median.items():
        speedup = out["speedup_over_serial"][name]
        rounds = ", ".join(f"{r:.0f}" for r in rates[name])
        print(f"{name:<12}{rate:>12.1f}{speedup:>10.2f}x   {rounds}")
    if ray_init is not None:
        print(f"ray.init(): {ray_init:.1f} s (not in the ray rate)")
    print("episodes.jsonl identical in every case")
    return out


if __name__ == "__main__":
    main()
