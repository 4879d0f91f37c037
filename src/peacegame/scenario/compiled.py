"""The compiled form of a scenario: plain numpy arrays, built once.

Everything downstream (protocol, env, policies, solutions, analysis) reads these
arrays and never recomputes a utility. Outcomes are the *feasible* points of the
issue grid, numbered ``0 .. n_outcomes - 1`` in grid (mixed-radix) order, with the
first issue as the most significant digit.

Utility convention: every utility term's value lies in [0, 1] and an actor's
weights are divided by their sum, so an actor's utility is a convex combination
of term values and lies in [0, 1] without any min-max rescaling (rescaling would
move the no-deal value's meaning). A soft red line subtracts its penalty and
clips at 0; a hard red line sets the utility to its floor (0 by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from peacegame.scenario.consent import ConsentTables


@dataclass(frozen=True)
class IssueInfo:
    """One issue of a compiled scenario.

    Attributes:
        name: The issue's name, for example ``"troops"``.
        levels: The level names in their declared order.
        attributes: Per attribute name, one number per level (NaN where a level
            does not define it).

    """

    name: str
    levels: tuple[str, ...]
    attributes: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_levels(self) -> int:
        """Number of levels of this issue."""
        return len(self.levels)


@dataclass(frozen=True, eq=False)
class CompiledScenario:
    """A scenario as arrays, ready for the protocol, the env and the solvers.

    Attributes:
        name: Scenario name.
        scenario_hash: SHA-256 of the resolved scenario (config identity for logs
            and checkpoints).
        issues: The issues, in grid order.
        actors: Actor ids, in the scenario's order (also the rotating order).
        actor_names: Human-readable actor names.
        levels: ``int16[n_outcomes, n_issues]``, the level index of each issue.
        grid_index: ``int64[n_outcomes]``, each outcome's index in the full grid.
        features: Per feature name, ``float64[n_outcomes]``.
        utility: ``float32[n_actors, n_outcomes]`` in [0, 1].
        required: ``bool[n_actors, n_outcomes]``, the actors who vote on each
            outcome (some consent rule that applies to it counts them).
        consent: The voting rules as exact tables: which coalitions of voters
            carry an outcome (:mod:`peacegame.scenario.consent`).
        no_deal: ``float32[n_actors]``, the disagreement values d_i.
        discount: ``float64[n_actors]``, per-round discount factors delta_i.
        recognition: ``float64[n_actors]``, recognition probabilities (sum 1).
        order: ``int64[n_actors, n_outcomes]``, outcome indices sorted by that
            actor's utility, best first (ties broken by lower outcome index).
        red_lines: Per ``(actor, red_line_name)``, ``bool[n_outcomes]`` marking
            the outcomes that cross it.
        grid_size: Number of grid points before feasibility rules.
        utility64: ``float64[n_actors, n_outcomes]``, the utilities as computed,
            before rounding to float32; the solution concepts use these so
            that float32 rounding never decides a tie.
        no_deal64: ``float64[n_actors]``, the no-deal values as declared.

    """

    name: str
    scenario_hash: str
    issues: tuple[IssueInfo, ...]
    actors: tuple[str, ...]
    actor_names: tuple[str, ...]
    levels: np.ndarray
    grid_index: np.ndarray
    features: dict[str, np.ndarray]
    utility: np.ndarray
    required: np.ndarray
    consent: ConsentTables
    no_deal: np.ndarray
    discount: np.ndarray
    recognition: np.ndarray
    order: np.ndarray
    red_lines: dict[tuple[str, str], np.ndarray]
    grid_size: int
    utility64: np.ndarray
    no_deal64: np.ndarray

    @property
    def n_outcomes(self) -> int:
        """Number of feasible outcomes."""
        return int(self.levels.shape[0])

    @property
    def n_actors(self) -> int:
        """Number of actors."""
        return len(self.actors)

    @property
    def n_issues(self) -> int:
        """Number of issues."""
        return len(self.issues)

    def actor_index(self, actor: str) -> int:
        """Return the row of ``actor`` in the actor-indexed arrays.

        Raises:
            KeyError: If the scenario has no such actor.

        """
        try:
            return self.actors.index(actor)
        except ValueError:
            raise KeyError(
                f"unknown actor {actor!r}; expected one of {list(self.actors)}"
            ) from None

    def decode(self, outcome: int) -> dict[str, str]:
        """Return ``{issue: level}`` for an outcome index."""
        index = int(outcome)
        if not 0 <= index < self.n_outcomes:
            raise IndexError(f"outcome {outcome} out of range [0, {self.n_outcomes})")
        row = self.levels[index].tolist()
        return {
            issue.name: issue.levels[level]
            for issue, level in zip(self.issues, row, strict=True)
        }

    def encode(self, outcome: dict[str, str]) -> int:
        """Return the outcome index of a ``{issue: level}`` dict.

        Raises:
            KeyError: On a missing or unknown issue or level.
            ValueError: If the combination is not feasible.

        """
        names = [issue.name for issue in self.issues]
        unknown = set(outcome) - set(names)
        if unknown:
            raise KeyError(f"unknown issue(s) {sorted(unknown)}; expected {names}")
        flat = 0
        for issue in self.issues:
            if issue.name not in outcome:
                raise KeyError(f"missing issue {issue.name!r}")
            try:
                level = issue.levels.index(outcome[issue.name])
            except ValueError:
                raise KeyError(
                    f"unknown level {outcome[issue.name]!r} for issue "
                    f"{issue.name!r}; expected one of {list(issue.levels)}"
                ) from None
            flat = flat * issue.n_levels + level
        position = int(np.searchsorted(self.grid_index, flat))
        if position >= self.n_outcomes or self.grid_index[position] != flat:
            raise ValueError(f"outcome {outcome} is not feasible in {self.name}")
        return position

    def describe(self, outcome: int) -> str:
        """Return a short readable form, for example ``troops=25k, zone=rear``."""
        return ", ".join(f"{k}={v}" for k, v in self.decode(outcome).items())
