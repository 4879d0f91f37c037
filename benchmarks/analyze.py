"""Benchmark: ``analyze`` (load + summary) on 10^5 synthetic episodes, no events.

Writes a synthetic run folder of the default scenario (random outcomes, each
line consistent with docs/log-schema.md), then times, in this process:

- ``load_run`` (streaming JSON lines into the documented DataFrame) and
  ``summarize`` (the summary table with every interval);
- as peers on the same file: ``pandas.read_json(lines=True)`` (pandas' own JSON
  lines reader, which yields nested dict columns, not our table) and
  ``peacegame.logs.read_episodes`` (the list of record dicts);
- optionally (``--plots``) the five plots rendered to PNG.

Peak memory is measured twice: Python allocations with ``tracemalloc`` (a
separate, slower pass) and the peak resident set size (``VmHWM``, Linux) of a
fresh process that imports everything and runs analyze once.

    python benchmarks/analyze.py                 # 10^5 episodes
    python benchmarks/analyze.py --episodes 20000 --plots
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from peacegame.scenario import load_compiled
from peacegame.solutions import solve


def write_synthetic_run(folder: Path, episodes: int, seed: int = 0) -> Path:
    """Write ``manifest.json`` and ``episodes.jsonl`` of random episodes."""
    sc = load_compiled()
    sol = solve(sc)
    every = np.arange(sc.n_outcomes)
    pareto = sol.frontier_distance(sc, every)
    nash = sol.nash_distance(sc, every)
    zone_outcomes = np.flatnonzero(sol.zone)
    rng = np.random.default_rng(seed)
    actors = list(sc.actors)
    policies = {
        a: p
        for a, p in zip(
            actors,
            ["boulware(e=0.3)", "tit_for_tat", "linear", "conceder", "boulware(e=0.5)"],
            strict=True,
        )
    }
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "schema_version": 1,
        "kind": "match",
        "peacegame_version": "0.1.0",
        "created": "2026-11-28T00:00:00+00:00",
        "config_path": None,
        "config": {"protocol": {"max_rounds": 30}, "log_events": "none"},
        "scenario": {
            "name": sc.name,
            "hash": sc.scenario_hash,
            "path": "ukraine-2025",
            "actors": actors,
            "n_outcomes": sc.n_outcomes,
        },
        "base_seed": seed,
        "episodes": episodes,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    agreed = rng.random(episodes) < 0.7
    outcomes = np.where(
        rng.random(episodes) < 0.8,
        rng.choice(zone_outcomes, episodes),
        rng.integers(0, sc.n_outcomes, episodes),
    )
    rounds = rng.integers(0, 30, episodes)
    ends = np.where(
        agreed, "agreement", np.where(rounds == 29, "deadline", "breakdown")
    )
    u = sc.utility.astype(np.float64)
    with open(folder / "episodes.jsonl", "w") as fh:
        for i in range(episodes):
            k, r = int(outcomes[i]), int(rounds[i])
            if agreed[i]:
                reward = [sc.discount[j] ** r * u[j, k] for j in range(len(actors))]
            else:
                reward = [float(d) for d in sc.no_deal]
            record = {
                "schema_version": 1,
                "episode": i,
                "seed": int(rng.integers(0, 2**63 - 1)),
                "scenario": sc.name,
                "scenario_hash": sc.scenario_hash,
                "policies": policies,
                "agreement": bool(agreed[i]),
                "end": str(ends[i]),
                "rounds": r + 1,
                "round": r,
                "proposer": actors[r % len(actors)],
                "outcome": k if agreed[i] else None,
                "decoded": sc.decode(k) if agreed[i] else None,
                "utility": (
                    {a: round(u[j, k], 6) for j, a in enumerate(actors)}
                    if agreed[i]
                    else None
                ),
                "reward": {a: round(x, 6) for a, x in zip(actors, reward, strict=True)},
                "social_welfare": round(sum(reward), 6),
                "in_zone": bool(sol.zone[k]) if agreed[i] else None,
                "pareto_distance": round(float(pareto[k]), 6) if agreed[i] else None,
                "nash_distance": round(float(nash[k]), 6) if agreed[i] else None,
            }
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
    return folder


def _analyze(folder: Path) -> dict:
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.summary import summarize

    return summarize(load_run(folder))


def _child_rss(folder: Path) -> tuple[float, float]:
    """Peak RSS (MiB) of a fresh process: after imports, and after one analyze."""
    # VmHWM (not ru_maxrss, which Linux carries over from the parent across
    # fork + exec) is this process's own peak resident set size.
    code = (
        "import sys\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "import pandas, peacegame.analysis.frame, peacegame.analysis.summary\n"
        "from peacegame.scenario import load_compiled\n"
        "load_compiled()\n"
        "r0 = hwm()\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from analyze import _analyze\n"
        "from pathlib import Path\n"
        "_analyze(Path(sys.argv[1]))\n"
        "print(r0, hwm())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def _timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plots", action="store_true", help="also time the plots")
    args = parser.parse_args()

    import pandas as pd

    from peacegame.analysis.frame import load_run
    from peacegame.logs import read_episodes

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        t0 = time.perf_counter()
        write_synthetic_run(folder, args.episodes)
        gen = time.perf_counter() - t0
        size = (folder / "episodes.jsonl").stat().st_size
        print(
            f"synthetic log: {args.episodes:,} episodes, {size / 1e6:.1f} MB "
            f"(written in {gen:.1f} s)"
        )
        rss0, rss1 = _child_rss(folder)
        _analyze(folder)  # warm-up: imports, scenario compile
        ours = _timed(lambda: _analyze(folder), args.repeats)
        load_only = _timed(lambda: load_run(folder), args.repeats)
        tracemalloc.start()
        summary = _analyze(folder)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        frame_bytes = load_run(folder).episodes.memory_usage(deep=True).sum()
        peer_pandas = _timed(
            lambda: pd.read_json(folder / "episodes.jsonl", lines=True),
            args.repeats,
        )
        peer_reader = _timed(lambda: read_episodes(folder), args.repeats)
        rate = args.episodes / ours
        print(f"analyze (load + summary): {ours:.2f} s  ({rate:,.0f} episodes/s)")
        print(f"  of which load_run:       {load_only:.2f} s")
        print(
            f"peak Python memory (tracemalloc): {peak / 2**20:.0f} MiB; "
            f"DataFrame {frame_bytes / 2**20:.0f} MiB"
        )
        print(
            f"peak RSS of a fresh process running analyze once: {rss1:.0f} MiB "
            f"(after imports, before reading: {rss0:.0f} MiB)"
        )
        print(
            f"peers on the same file: pandas.read_json(lines=True) "
            f"{peer_pandas:.2f} s ({peer_pandas / ours:.2f}x ours), "
            f"logs.read_episodes {peer_reader:.2f} s ({peer_reader / ours:.2f}x ours)"
        )
        print(
            f"check: agreement rate {summary['agreement_rate']:.3f}, "
            f"{len(summary['top_outcomes'])} top outcomes"
        )
        if args.plots:
            from peacegame.analysis.plots import run_plots

            run = load_run(folder)
            t0 = time.perf_counter()
            plots = run_plots(run)
            for name in plots.figures:
                plots.png(name)
            print(f"plots ({len(plots.figures)} PNG): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
