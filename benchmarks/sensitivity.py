"""Benchmark: ``peacegame sensitivity`` on the default scenario.

Times 10,000 calibrations of the default scenario (Latin hypercube; every
calibration answers the China question, the zone of agreement, the Nash point
and the binding red lines) end to end: the design, the batched compilation,
the answers, the summary with its intervals, into a fresh run folder, with
``--workers`` processes. Peak memory is the largest resident set of this
process and its worker processes. Plots are not drawn.

    python benchmarks/sensitivity.py --samples 10000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def run_case(
    samples: int = 10_000, workers: int = 2, method: str = "lhs"
) -> dict[str, Any]:
    """One timed run; returns seconds, calibrations and peak memory (MiB)."""
    from peacegame.analysis.sensitivity import run_sensitivity

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        doc, _ = run_sensitivity(
            "ukraine-2025",
            method=method,
            samples=samples,
            out=Path(tmp) / "run",
            workers=workers,
            plots=False,
        )
        seconds = time.perf_counter() - start
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "seconds": seconds,
        "calibrations": doc["calibrations"],
        "parameters": len(doc["parameters"]),
        "calibrations_per_second": doc["calibrations"] / seconds,
        "peak_mib": peak / 1024,
        "holds": doc["holds"]["p"],
    }


def main() -> None:
    """Command line: print the measurement as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--method", default="lhs")
    args = parser.parse_args()
    print(json.dumps(run_case(args.samples, args.workers, args.method), indent=2))


if __name__ == "__main__":
    main()
