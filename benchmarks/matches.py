"""Complete matches per second: the env path and the batch engine against NegMAS.

The workload is the default scenario (5 actors, 3,840 outcomes) with
time-dependent strategies (Boulware, Linear, Conceder, Boulware, Linear: the
cycle of the NegMAS peer's negotiators), a 100-round deadline, a rotating
proposer and no breakdown, under public and under private information. It is
played by:

* the env path: ``peacegame.match.EpisodePlayer.play`` (the PettingZoo AEC env
  and the scripted policies, one episode at a time, as ``peacegame run
  --engine env`` does), building each episode's log record;
* the batch engine: ``peacegame.batch`` with 4,096 matches in lockstep (1,024
  under private information), building the same records, or only the outcome
  arrays.

The peer is NegMAS ``SAOMechanism`` with 5 time-based negotiators (Boulware,
Linear, Conceder) on a 1,000-outcome problem with 100 steps
(``benchmarks/peers.py``). Targets (issue 8): the env path at least 50x NegMAS
and the batch engine at least 1,000x.

This script runs the ``matches`` cases of ``benchmarks/run_all.py`` (each in
its own subprocess, medians over several passes) and writes nothing:

    python benchmarks/matches.py            # about a minute
    python benchmarks/matches.py --quick    # tiny sizes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_all  # noqa: E402  (benchmarks/run_all.py)


def main(argv: list[str] | None = None) -> int:
    """Measure the match cases and print their table and targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--rounds", type=int, help="passes over the cases")
    parser.add_argument("--repeats", type=int, help="repetitions per pass")
    parser.add_argument("--in-process", action="store_true", help="no subprocesses")
    args = parser.parse_args(argv)
    forwarded = ["--only", "matches", "--no-write"]
    if args.quick:
        forwarded.append("--quick")
    if args.in_process:
        forwarded.append("--in-process")
    if args.rounds:
        forwarded += ["--rounds", str(args.rounds)]
    if args.repeats:
        forwarded += ["--repeats", str(args.repeats)]
    return run_all.main(forwarded)


if __name__ == "__main__":
    sys.exit(main())
