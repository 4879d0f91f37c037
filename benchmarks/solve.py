"""Benchmark: compile + solve the default scenario and synthetic large scenarios.

Each case runs in a fresh subprocess so its peak memory (ru_maxrss) is its own.

    python benchmarks/solve.py            # default, 10^5 and 10^6 outcomes
    python benchmarks/solve.py --quick    # default and 10^4 only (CI smoke)

Targets (issue 2): default scenario under 50 ms; 10^6 outcomes, 5 actors, under
5 s and under 2 GiB peak on one core.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np


def synthetic_scenario(
    n_issues: int, n_levels: int = 10, seed: int = 0
) -> dict[str, Any]:
    """A 5-actor scenario with ``n_levels ** n_issues`` outcomes and random tables."""
    rng = np.random.default_rng(seed)
    issues = [
        {"name": f"i{i}", "levels": [f"l{j}" for j in range(n_levels)]}
        for i in range(n_issues)
    ]
    actors = []
    for a in range(5):
        actors.append(
            {
                "id": f"a{a}",
                "no_deal": 0.3,
                "discount": 0.95,
                "recognition": 0.2,
                "terms": [
                    {
                        "weight": float(rng.random() + 0.1),
                        "issue": f"i{i}",
                        "values": [round(float(v), 4) for v in rng.random(n_levels)],
                    }
                    for i in range(n_issues)
                ],
            }
        )
    return {
        "name": f"synthetic-{n_levels**n_issues}",
        "issues": issues,
        "actors": actors,
        "consent": [{"actors": [f"a{a}" for a in range(5)]}],
    }


def run_case(case: str, repeats: int) -> dict[str, Any]:
    """Time compile + solve for one case in this process."""
    from peacegame.scenario import compile_dict, load_compiled
    from peacegame.solutions import solve

    times, compile_times = [], []
    result: dict[str, Any] = {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        if case == "default":
            scenario = load_compiled()
        else:
            scenario = compile_dict(synthetic_scenario(int(case)))
        t1 = time.perf_counter()
        solution = solve(scenario)
        t2 = time.perf_counter()
        compile_times.append(t1 - t0)
        times.append(t2 - t0)
        result = {
            "n_outcomes": scenario.n_outcomes,
            "frontier": int(solution.frontier.sum()),
            "zone": int(solution.zone.sum()),
        }
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "case": case,
        **result,
        "compile_s": statistics.median(compile_times),
        "total_s": statistics.median(times),
        "repeats": repeats,
        "peak_mib": peak_kib / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.repeats)))
        return 0
    cases = [("default", args.repeats), ("4", 3)]
    if not args.quick:
        cases += [("5", 3), ("6", 1)]
    rows = []
    for case, repeats in cases:
        out = subprocess.run(
            [sys.executable, __file__, "--case", case, "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout))
    print(
        f"{'case':<10}{'outcomes':>10}{'frontier':>10}{'compile s':>11}"
        f"{'total s':>10}{'peak MiB':>10}"
    )
    for r in rows:
        name = "default" if r["case"] == "default" else f"10^{r['case']}"
        print(
            f"{name:<10}{r['n_outcomes']:>10,}{r['frontier']:>10,}"
            f"{r['compile_s']:>11.3f}{r['total_s']:>10.3f}{r['peak_mib']:>10.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
