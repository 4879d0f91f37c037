"""Write the small synthetic run folder ``run_small/`` used by the analysis tests.

The records follow docs/log-schema.md and are consistent with the default
scenario: utilities, rewards (``delta**round * U``), the zone flag and the
distances come from the compiled scenario. Six episodes, rotating proposers,
``max_rounds`` 5, events logged:

==  =========  =====  ==========================================
ep  end        round  agreed outcome
==  =========  =====  ==========================================
0   agreement  2      the Nash point
1   agreement  0      the Nash point
2   deadline   4      -
3   agreement  1      the utilitarian point
4   breakdown  1      -
5   agreement  3      an outcome outside the zone (ukraine random)
==  =========  =====  ==========================================

Run ``python tests/data/analysis/make_fixture.py`` to rewrite it; the tests'
hand-computed numbers must then be checked again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from peacegame.scenario import load_compiled
from peacegame.solutions import solve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = HERE / "run_small"
BASE_SEED = 7
POLICIES = {
    "russia": "boulware(e=0.2)",
    "china": "linear",
    "ukraine": "conceder(e=2)",
    "us": "hardliner(threshold=0.6)",
    "eu": "tit_for_tat",
}
PLAN = [
    ("agreement", 2, "nash"),
    ("agreement", 0, "nash"),
    ("deadline", 4, None),
    ("agreement", 1, "utilitarian"),
    ("breakdown", 1, None),
    ("agreement", 3, "outside"),
]


def seed_of(episode: int) -> int:
    state = np.random.SeedSequence([BASE_SEED, episode]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def main() -> None:
    sc = load_compiled(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
    sol = solve(sc)
    actors = list(sc.actors)
    u, d = sc.utility, sc.no_deal
    outside = int(np.flatnonzero(~sol.zone)[0])
    targets = {
        "nash": sol.points["nash"],
        "utilitarian": sol.points["utilitarian"],
        "outside": outside,
    }
    OUT.mkdir(exist_ok=True)
    manifest = {
        "schema_version": 1,
        "kind": "match",
        "peacegame_version": "0.1.0",
        "created": "2026-11-28T13:40:00+00:00",
        "config_path": "tests/data/analysis/run_small.yaml",
        "config": {
            "scenario": "ukraine-2025",
            "protocol": {"max_rounds": 5, "proposer": "rotating"},
            "policies": {a: {"policy": p} for a, p in POLICIES.items()},
            "episodes": len(PLAN),
            "base_seed": BASE_SEED,
            "log_events": "rounds",
        },
        "scenario": {
            "name": sc.name,
            "hash": sc.scenario_hash,
            "path": "configs/scenarios/ukraine-2025.yaml",
            "actors": actors,
            "n_outcomes": sc.n_outcomes,
        },
        "base_seed": BASE_SEED,
        "episodes": len(PLAN),
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    lines = []
    for ep, (end, last, target) in enumerate(PLAN):
        policies = dict(POLICIES)
        if target == "outside":
            policies["ukraine"] = "random"
        events = []
        for r in range(last + 1):
            p = r % len(actors)
            agreed_now = target is not None and r == last
            offer = targets[target] if agreed_now else int(sc.order[p, 0])
            voters = [i for i in range(len(actors)) if sc.required[i, offer] and i != p]
            votes = {}
            for i in voters:
                ok = agreed_now or bool(u[i, offer] >= d[i])
                votes[actors[i]] = "accept" if ok else "reject"
            assert agreed_now or "reject" in votes.values(), (ep, r)
            events.append(
                {"round": r, "proposer": actors[p], "offer": offer, "votes": votes}
            )
        k = targets[target] if target else None
        agreement = k is not None
        if agreement:
            reward = [float(sc.discount[i] ** last * u[i, k]) for i in range(len(d))]
        else:
            reward = [float(x) for x in d]
        rec = {
            "schema_version": 1,
            "episode": ep,
            "seed": seed_of(ep),
            "scenario": sc.name,
            "scenario_hash": sc.scenario_hash,
            "policies": policies,
            "agreement": agreement,
            "end": end,
            "rounds": last + 1,
            "round": last,
            "proposer": actors[last % len(actors)],
            "outcome": k,
            "decoded": sc.decode(k) if agreement else None,
            "utility": (
                {a: round(float(u[i, k]), 6) for i, a in enumerate(actors)}
                if agreement
                else None
            ),
            "reward": {a: round(r, 6) for a, r in zip(actors, reward, strict=True)},
            "social_welfare": round(sum(reward), 6),
            "in_zone": bool(sol.zone[k]) if agreement else None,
            "pareto_distance": (
                round(float(sol.frontier_distance(sc, np.array([k]))[0]), 6)
                if agreement
                else None
            ),
            "nash_distance": (
                round(float(sol.nash_distance(sc, np.array([k]))[0]), 6)
                if agreement
                else None
            ),
            "events": events,
        }
        lines.append(json.dumps(rec, separators=(",", ":")))
    (OUT / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(lines)} episodes)")


if __name__ == "__main__":
    main()
