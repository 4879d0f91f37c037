"""Private-information batch matches under four protocols (the pick memo).

The benchmark's workload (``matches.batch_private``: time-dependent strategies,
rotating proposer, no breakdown) repeats one play in every episode, which the
opponent model's pick memo (``peacegame.engine.strategies.remembered_pick``)
serves from memory. This script times ``BatchEngine.run`` (1,024 matches, log
records, best of 6 after a warm-up) with a rotating or a random proposer and
with or without breakdown, and counts the distinct results, so the memo's gain
can be read against workloads whose episodes differ:

    OMP_NUM_THREADS=1 python benchmarks/private_workloads.py
    PYTHONPATH=OTHER_TREE/src python benchmarks/private_workloads.py  # compare
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_all  # noqa: E402  (benchmarks/run_all.py)

WORKLOADS = [("rotating", 0.0), ("rotating", 0.05), ("random", 0.0), ("random", 0.05)]
SIZE = 1024


def measure(proposer: str, breakdown: float) -> tuple[float, float, int]:
    """Matches/s (best of 6), mean rounds and distinct results of one workload."""
    from peacegame.batch import BatchEngine
    from peacegame.engine import OutcomeMetrics

    config, scenario = run_all._match_config(
        run_all.TIME_DEPENDENT,
        SIZE,
        max_rounds=100,
        information="private",
        proposer=proposer,
        breakdown_prob=breakdown,
    )
    engine = BatchEngine(config, scenario, OutcomeMetrics.of(scenario), SIZE)
    engine.run(range(SIZE))  # warm-up: compiled code and per-outcome caches
    times, out = [], []
    for k in range(6):
        start = time.perf_counter()
        out = engine.run(range((k + 1) * SIZE, (k + 2) * SIZE))
        times.append(time.perf_counter() - start)
    rounds = sum(r["rounds"] for r in out) / len(out)
    return SIZE / min(times), rounds, run_all.distinct_results(out)


def main() -> int:
    """Print one line per workload."""
    for proposer, breakdown in WORKLOADS:
        rate, rounds, distinct = measure(proposer, breakdown)
        print(
            f"proposer {proposer:8s} breakdown {breakdown:.2f}: {rate:9,.0f} "
            f"matches/s, {rounds:5.1f} rounds, {distinct:4d} distinct results"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
