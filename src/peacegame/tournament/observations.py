"""The scored (episode, role) observations of a tournament log, as arrays.

Read once by :func:`load_observations`; the rankings
(:mod:`peacegame.tournament.rankings`) and the empirical game
(:mod:`peacegame.tournament.game`) both work on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.logs import EPISODES, ReadResult, read_manifest


@dataclass
class Observations:
    """The scored (episode, role) observations of a tournament log.

    Attributes:
        scheme: The assignment scheme.
        roles: Role ids, in the tournament's order.
        competitors: Competitor names, in config order.
        scenarios: Scenario names, in config order.
        scenario: ``int[n]`` scenario index.
        role: ``int[n]`` role index.
        competitor: ``int[n]`` competitor index.
        draw: ``int[n]`` context (role_rotation) or sample (sampled), else -1.
        replicate: ``int[n]`` replicate of the assignment.
        opponents: ``int[n, n_roles]`` competitor per role, -1 at own role.
        reward: ``float[n]`` payoff of the scored role.
        agreement: ``bool[n]``.
        nash_distance: ``float[n]`` (NaN without agreement or Nash point).
        pareto_distance: ``float[n]`` (NaN without agreement).
        social_welfare: ``float[n]`` sum of payoffs of the episode.
        episodes: Complete lines read.
        planned: Episodes planned (manifest).
        warnings: Notes from reading the log.
    """

    scheme: str
    roles: list[str]
    competitors: list[str]
    scenarios: list[str]
    scenario: np.ndarray
    role: np.ndarray
    competitor: np.ndarray
    draw: np.ndarray
    replicate: np.ndarray
    opponents: np.ndarray
    reward: np.ndarray
    agreement: np.ndarray
    nash_distance: np.ndarray
    pareto_distance: np.ndarray
    social_welfare: np.ndarray
    episodes: int
    planned: int
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.role.size)

    @property
    def complete(self) -> bool:
        """Every planned episode was read."""
        return self.episodes >= self.planned

    def pair_keys(self) -> np.ndarray:
        """``int[n]`` ids of the pair keys (see the module docstring)."""
        if not len(self):
            return np.zeros(0, np.int64)
        table = np.column_stack(
            [self.scenario, self.role, self.draw, self.opponents, self.replicate]
        )
        _, inverse = np.unique(table, axis=0, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64)


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def load_observations(run_dir: str | Path) -> Observations:
    """Read a tournament run folder into :class:`Observations` (streaming).

    Raises:
        LogError: A missing or foreign folder, or a corrupt log.
    """
    from peacegame.analysis.frame import iter_records
    from peacegame.logs import LogError

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    if manifest.get("kind") != "tournament":
        raise LogError(
            f"holds a {manifest.get('kind')!r} run; expected a tournament",
            file=run_dir / "manifest.json",
        )
    roles = list(manifest["roles"])
    competitors = list(manifest["competitors"])
    scenarios = [s["name"] for s in manifest["scenarios"]]
    scheme = manifest["plan"]["scheme"]
    role_of = {r: i for i, r in enumerate(roles)}
    comp_of = {c: i for i, c in enumerate(competitors)}
    scen_of = {s: i for i, s in enumerate(scenarios)}
    ints: dict[str, list[int]] = {
        k: [] for k in ("scenario", "role", "competitor", "draw", "replicate")
    }
    opponents: list[list[int]] = []
    floats: dict[str, list[float]] = {
        k: [] for k in ("reward", "nash_distance", "pareto_distance", "social_welfare")
    }
    agreement: list[bool] = []
    status = ReadResult()
    episodes = 0
    path = run_dir / EPISODES
    lines = iter_records(path, status) if path.exists() else iter(())
    for number, rec in lines:
        try:
            info = rec["assignment"]
            profile = [comp_of[info["competitors"][r]] for r in roles]
            scored = [role_of[info["focal"]]] if scheme == "role_rotation" else None
            s = scen_of[rec["scenario"]]
            draw = -1 if info["context"] is None else int(info["context"])
            replicate = int(info["replicate"])
            reward = rec["reward"]
        except (KeyError, TypeError, ValueError) as exc:
            raise LogError(
                f"line {number} is not a tournament episode of this run ({exc!r})",
                file=path,
            ) from None
        episodes += 1
        for r in range(len(roles)) if scored is None else scored:
            ints["scenario"].append(s)
            ints["role"].append(r)
            ints["competitor"].append(profile[r])
            ints["draw"].append(draw)
            ints["replicate"].append(replicate)
            opponents.append(profile[:r] + [-1] + profile[r + 1 :])
            floats["reward"].append(float(reward[roles[r]]))
            floats["nash_distance"].append(_nan(rec.get("nash_distance")))
            floats["pareto_distance"].append(_nan(rec.get("pareto_distance")))
            floats["social_welfare"].append(float(rec["social_welfare"]))
            agreement.append(bool(rec["agreement"]))
    arrays = {k: np.asarray(v, np.int64) for k, v in ints.items()}
    return Observations(
        scheme=scheme,
        roles=roles,
        competitors=competitors,
        scenarios=scenarios,
        opponents=np.asarray(opponents, np.int64).reshape(-1, len(roles)),
        agreement=np.asarray(agreement, bool),
        **arrays,
        **{k: np.asarray(v, np.float64) for k, v in floats.items()},
        episodes=episodes,
        planned=int(manifest.get("episodes", 0)),
        warnings=list(status.warnings),
    )
