"""Assignment schemes: who plays which role, in which scenario, on which seeds.

A tournament is a list of **assignments**, each played ``E`` times (the
episodes per assignment, or *replicates*). An assignment is a scenario, a
**profile** (one competitor per role) and, for ``role_rotation``, the focal role
and the opponent context. Episode ``i`` of the run is replicate ``i % E`` of
assignment ``i // E``, so the plan is fixed by the config alone and a run can
be resumed from any episode.

Schemes (``R`` roles, ``E_r`` the competitors allowed in role ``r``, ``S``
scenarios; all draws come from generators seeded by the base seed):

``role_rotation``
    For each role ``r``, opponent contexts ``o_1..o_M``: with ``opponents: M``
    the same ``M`` full profiles are drawn once for the whole tournament (each
    role's competitor uniformly from ``E_r``, independently) and ``o_m`` is
    profile ``m`` without role ``r``; with ``opponents: all``, every
    combination of the other roles. Every competitor ``c`` in ``E_r`` then plays
    role ``r`` against every ``o_m``, in every scenario. Replicate ``e`` of
    ``(s, r, m)`` has the same seed whatever ``c`` is, so competitors in a role
    are compared on identical opponents and seeds (paired).
    Episodes: ``S * sum_r |E_r| * M * E``.

``cartesian``
    Every profile in ``E_1 x ... x E_R``, in every scenario. Replicate ``e`` of
    scenario ``s`` has the same seed for every profile (common random numbers),
    so the comparison of two competitors in a role, the other roles fixed, is
    paired. Episodes: ``S * prod_r |E_r| * E``; refused above ``max_matches``.

``sampled``
    ``N = samples`` profiles drawn once (uniformly, as above), each played in
    every scenario; each (scenario, sample, replicate) has its own seed, so
    samples are independent. Episodes: ``S * N * E``.

Seeds: the episode seed is ``SeedSequence([base_seed, *key])`` reduced to 63
bits as for matches, with ``key = (s, r, m, e)`` for ``role_rotation``,
``(s, e)`` for ``cartesian`` and ``(s, n, e)`` for ``sampled``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from peacegame.errors import ConfigError
from peacegame.tournament.config import TournamentConfig

CONTEXT_STREAM = 0xC0_47E7
"""Mixed into the base seed for drawing role_rotation opponent contexts."""
SAMPLE_STREAM = 0x5A_3B1E
"""Mixed into the base seed for drawing sampled assignments."""


def tournament_seed(base_seed: int, key: tuple[int, ...]) -> int:
    """The seed of the episode with seed key ``key`` (a 63-bit integer)."""
    state = np.random.SeedSequence([base_seed, *key]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


class Assignment(NamedTuple):
    """One assignment of competitors to roles.

    Attributes:
        scenario: Scenario index.
        profile: Competitor index per role (in the tournament's role order).
        focal: ``role_rotation``: the focal role's index; else None.
        context: ``role_rotation``: the opponent context; ``sampled``: the
            sample; ``cartesian``: None.
    """

    scenario: int
    profile: tuple[int, ...]
    focal: int | None
    context: int | None


@dataclass(frozen=True)
class Plan:
    """Every assignment of a tournament, in episode order.

    Attributes:
        scheme: The assignment scheme.
        assignments: The assignments, in episode order.
        episodes_per_assignment: Replicates per assignment (``E``).
        base_seed: The tournament's base seed.
        contexts: ``role_rotation``: opponent contexts per role (the largest
            over roles with ``opponents: all``); else None.
    """

    scheme: str
    assignments: tuple[Assignment, ...]
    episodes_per_assignment: int
    base_seed: int
    contexts: int | None = None

    @property
    def n_episodes(self) -> int:
        """Episodes in the whole tournament."""
        return len(self.assignments) * self.episodes_per_assignment

    def locate(self, episode: int) -> tuple[Assignment, int]:
        """The assignment and replicate of episode ``episode``."""
        index, replicate = divmod(episode, self.episodes_per_assignment)
        return self.assignments[index], replicate

    def seed_key(self, assignment: Assignment, replicate: int) -> tuple[int, ...]:
        """The seed key of a replicate (see the module docstring)."""
        s = assignment.scenario
        if self.scheme == "role_rotation":
            assert assignment.focal is not None and assignment.context is not None
            return (s, assignment.focal, assignment.context, replicate)
        if self.scheme == "sampled":
            assert assignment.context is not None
            return (s, assignment.context, replicate)
        return (s, replicate)

    def seed(self, episode: int) -> int:
        """The seed of episode ``episode``."""
        assignment, replicate = self.locate(episode)
        return tournament_seed(self.base_seed, self.seed_key(assignment, replicate))


def _draw_profiles(
    eligible: list[list[int]], n: int, base_seed: int, stream: int
) -> list[tuple[int, ...]]:
    """``n`` profiles, each role's competitor drawn uniformly from its pool."""
    rng = np.random.default_rng([base_seed, stream])
    picks = [rng.integers(len(pool), size=n) for pool in eligible]
    return [
        tuple(pool[int(p[m])] for pool, p in zip(eligible, picks, strict=True))
        for m in range(n)
    ]


def _fmt(n: int) -> str:
    return f"{n:,}"


def count_assignments(config: TournamentConfig, eligible: list[list[int]]) -> int:
    """Assignments the config would play, computed without enumerating them."""
    n_scenarios = len(config.scenarios)
    scheme = config.assignment.scheme
    sizes = [len(pool) for pool in eligible]
    if scheme == "cartesian":
        return n_scenarios * math.prod(sizes)
    if scheme == "sampled":
        assert config.assignment.samples is not None
        return n_scenarios * config.assignment.samples
    opponents = config.assignment.opponents
    per_role = [
        size * (math.prod(sizes[:r] + sizes[r + 1 :]) if opponents == "all" else 1)
        for r, size in enumerate(sizes)
    ]
    m = 1 if opponents == "all" else int(opponents)
    return n_scenarios * sum(per_role) * m


def check_size(
    config: TournamentConfig, eligible: list[list[int]], file: str | None
) -> None:
    """Refuse ``cartesian`` and ``opponents: all`` above ``max_matches``.

    Raises:
        ConfigError: Saying how many matches it would be and what to use instead.
    """
    scheme = config.assignment.scheme
    exhaustive = scheme == "cartesian" or (
        scheme == "role_rotation" and config.assignment.opponents == "all"
    )
    if not exhaustive:
        return
    limit = config.assignment.max_matches
    n_scenarios = len(config.scenarios)
    episodes = config.episodes
    assignments = count_assignments(config, eligible) // n_scenarios
    matches = assignments * n_scenarios * episodes
    if matches <= limit:
        return
    samples = max(1, min(1000, limit // (n_scenarios * episodes)))
    suggestion = (
        f"use scheme: sampled with samples: {_fmt(samples)} "
        f"({_fmt(samples * n_scenarios * episodes)} matches)"
    )
    if scheme == "cartesian":
        sizes = " x ".join(str(len(pool)) for pool in eligible)
        what = f"cartesian would play {_fmt(assignments)} assignments ({sizes})"
    else:
        what = f"role_rotation with opponents: all would play {_fmt(assignments)} "
        what += "assignments"
        suggestion = "use opponents: N (random opponent assignments), or " + suggestion
    raise ConfigError(
        f"{what} x {n_scenarios} scenario(s) x {episodes} episodes = "
        f"{_fmt(matches)} matches, above max_matches {_fmt(limit)}; {suggestion}, "
        "or raise assignment.max_matches",
        file=file,
        field="assignment",
    )


def build_plan(
    config: TournamentConfig, eligible: list[list[int]], file: str | None = None
) -> Plan:
    """Enumerate the assignments of a tournament.

    Args:
        config: The validated config.
        eligible: Per role (tournament role order), the indices of the
            competitors allowed to play it, ascending; none may be empty.
        file: The config file (errors).

    Raises:
        ConfigError: If ``cartesian`` or ``opponents: all`` is too large.
    """
    check_size(config, eligible, file)
    scheme = config.assignment.scheme
    n_scenarios = len(config.scenarios)
    n_roles = len(eligible)
    out: list[Assignment] = []
    contexts: int | None = None
    if scheme == "cartesian":
        profiles = list(itertools.product(*eligible))
        for s in range(n_scenarios):
            out += [Assignment(s, p, None, None) for p in profiles]
    elif scheme == "sampled":
        assert config.assignment.samples is not None
        drawn = _draw_profiles(
            eligible, config.assignment.samples, config.seed, SAMPLE_STREAM
        )
        for s in range(n_scenarios):
            out += [Assignment(s, p, None, n) for n, p in enumerate(drawn)]
    else:
        opponents = config.assignment.opponents
        per_role: list[list[tuple[int, ...]]] = []
        if opponents == "all":
            for r in range(n_roles):
                pools = [[-1] if q == r else eligible[q] for q in range(n_roles)]
                per_role.append(list(itertools.product(*pools)))
        else:
            drawn = _draw_profiles(
                eligible, int(opponents), config.seed, CONTEXT_STREAM
            )
            per_role = [
                [p[:r] + (-1,) + p[r + 1 :] for p in drawn] for r in range(n_roles)
            ]
        contexts = max(len(c) for c in per_role)
        for s in range(n_scenarios):
            for r in range(n_roles):
                for m, others in enumerate(per_role[r]):
                    for c in eligible[r]:
                        profile = others[:r] + (c,) + others[r + 1 :]
                        out.append(Assignment(s, profile, r, m))
    return Plan(
        scheme=scheme,
        assignments=tuple(out),
        episodes_per_assignment=config.episodes,
        base_seed=config.seed,
        contexts=contexts,
    )
