"""The episode record: the one place a log line is built from engine state.

Both the env path (:class:`peacegame.match.EpisodePlayer`, one slot of the
AEC env) and the batch runner build their ``episodes.jsonl`` lines with
:func:`episode_record`, from the same state arrays, so their lines are equal by
construction. The fields are documented in ``docs/log-schema.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from peacegame.engine.config import END_REASONS
from peacegame.engine.rules import (
    C_ACTORS,
    C_END,
    C_KEY,
    C_ROUND,
    C_ROUNDS_DONE,
    agreed_outcome,
    col_record_offers,
    col_record_proposers,
    col_record_votes,
    empty_state,
)
from peacegame.engine.tables import Rules
from peacegame.engine.talk import Statements
from peacegame.logs import SCHEMA_VERSION
from peacegame.scenario.compiled import CompiledScenario
from peacegame.solutions import Solution, solve


def _round6(x: float) -> float:
    return round(float(x), 6)


@dataclass(frozen=True)
class OutcomeMetrics:
    """Per-outcome quality metrics, computed once per scenario.

    Attributes:
        in_zone: ``bool[n_outcomes]``, inside the zone of agreement.
        pareto_distance: ``float64[n_outcomes]``, distance to the frontier.
        nash_distance: ``float64[n_outcomes]``, distance to the Nash point
            (NaN if the scenario has none).
        solution: The scenario's solution they were computed from, if known
            (the run's plots reuse it).
    """

    in_zone: np.ndarray
    pareto_distance: np.ndarray
    nash_distance: np.ndarray
    solution: Solution | None = field(default=None, repr=False, compare=False)
    _memo: dict[Any, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Parts of log lines already built (:func:`episode_record`)."""

    @classmethod
    def of(cls, scenario: CompiledScenario) -> OutcomeMetrics:
        """Compute the metrics of every outcome of ``scenario``."""
        solution = solve(scenario)
        every = np.arange(scenario.n_outcomes)
        return cls(
            in_zone=solution.zone,
            pareto_distance=solution.frontier_distance(scenario, every),
            nash_distance=solution.nash_distance(scenario, every),
            solution=solution,
        )

    def agreed_parts(
        self, scenario: CompiledScenario, actors: tuple[str, ...], outcome: int
    ) -> tuple[Any, ...]:
        """The parts of a line that depend only on its agreed outcome.

        Built once per (scenario, outcome) and kept: ``(scenario, decoded,
        utility, in_zone, pareto_distance, nash_distance)``; the dicts are the
        caller's to copy.
        """
        key = (id(scenario), outcome)
        parts = self._memo.get(key)
        if parts is None or parts[0] is not scenario:
            nash = self.nash_distance[outcome]
            parts = (
                scenario,  # held, so its id is not reused while the key lives
                scenario.decode(outcome),
                {
                    a: _round6(scenario.utility[i, outcome])
                    for i, a in enumerate(actors)
                },
                bool(self.in_zone[outcome]),
                _round6(self.pareto_distance[outcome]),
                None if np.isnan(nash) else _round6(nash),
            )
            self._remember(key, parts)
        return parts

    def reward_parts(
        self, actors: tuple[str, ...], rewards: np.ndarray
    ) -> tuple[dict[str, float], float]:
        """``(reward, social_welfare)`` of a line with these rewards, kept.

        Keyed by the rewards' bytes (``-0.0`` is not ``0.0`` in a line); the
        dict is the caller's to copy.
        """
        key = (actors, rewards.tobytes())
        parts = self._memo.get(key)
        if parts is None:
            values = rewards.tolist()
            parts = (
                {a: _round6(values[i]) for i, a in enumerate(actors)},
                _round6(sum(values)),
            )
            self._remember(key, parts)
        return parts

    def _remember(self, key: Any, parts: Any) -> None:
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = parts


MEMO_SIZE = 2**16
"""Parts :class:`OutcomeMetrics` keeps at most (then it starts afresh)."""


def episode_record(
    rules: Rules,
    state: np.ndarray,
    slot: int,
    rewards: np.ndarray,
    *,
    episode: int,
    seed: int,
    labels: dict[str, str],
    metrics: OutcomeMetrics,
    events: bool,
    statements: Statements | None = None,
) -> dict[str, Any]:
    """The log line of the ended episode in one state row.

    The parts that depend only on the agreed outcome or on the rewards are
    built once and copied (:meth:`OutcomeMetrics.agreed_parts`,
    :meth:`OutcomeMetrics.reward_parts`): the same values, so the same line.

    Args:
        rules: The game's tables.
        state: The engine's state matrix.
        slot: The slot of the ended episode.
        rewards: The slot's rewards (``float64[n_actors]``).
        episode: The episode id.
        seed: The episode seed.
        labels: Per actor, its policy label.
        metrics: The scenario's outcome metrics.
        events: Whether to include every round's events.
        statements: The episode's statements (``talk: public``); a round's
            event gets a ``statements`` object when it has any.

    Returns:
        The record (a JSON-ready dict, in the documented key order).
    """
    scenario = rules.scenario
    actors = rules.actors
    row = state[slot]
    head = row[:C_ACTORS].tolist()
    end = head[C_END]
    outcome = agreed_outcome(state, slot)  # -1: no agreement
    agreed = outcome >= 0
    done = head[C_ROUNDS_DONE]
    round_index = head[C_ROUND]
    proposer = None
    if done > 0:
        proposers = col_record_proposers(rules.n_actors, rules.max_rounds)
        proposer = actors[int(row[proposers + done - 1])]
    reward, welfare = metrics.reward_parts(actors, rewards)
    line: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "episode": int(episode),
        "seed": int(seed),
        "scenario": scenario.name,
        "scenario_hash": scenario.scenario_hash,
        "policies": dict(labels),
        "agreement": agreed,
        "end": END_REASONS[end],
        "rounds": round_index + 1,
        "round": round_index,
        "proposer": proposer,
        "outcome": None,
        "decoded": None,
        "utility": None,
        "reward": dict(reward),
        "social_welfare": welfare,
        "in_zone": None,
        "pareto_distance": None,
        "nash_distance": None,
    }
    if agreed:
        _, decoded, utility, in_zone, pareto, nash = metrics.agreed_parts(
            scenario, actors, outcome
        )
        line["outcome"] = outcome
        line["decoded"] = dict(decoded)
        line["utility"] = dict(utility)
        line["in_zone"] = in_zone
        line["pareto_distance"] = pareto
        line["nash_distance"] = nash
    if events:
        record = PublicRecord(rules.n_actors, rules.max_rounds, state, slot)
        line["events"] = record.events(actors)
        if statements is not None and len(statements):
            for event in line["events"]:
                said = statements.of_round(int(event["round"]))  # type: ignore[arg-type]
                if said:
                    event["statements"] = said
    return line


class PublicRecord:
    """The public record of one episode slot: offers, proposers, votes so far.

    A read-only view onto a slot of the engine's state (offers and votes are
    public once a round is over). Policies read it to model their opponents;
    built without a state, it holds one empty slot of its own.

    Args:
        n_actors: Number of actors.
        max_rounds: The deadline.
        state: The engine's state matrix, or None for an empty slot.
        slot: The slot.
    """

    def __init__(
        self,
        n_actors: int,
        max_rounds: int,
        state: np.ndarray | None = None,
        slot: int = 0,
    ) -> None:
        self.n_actors = n_actors
        self.max_rounds = max_rounds
        self.state = empty_state(1, n_actors, max_rounds) if state is None else state
        self.slot = slot
        row = self.state[slot]
        offers = col_record_offers(n_actors)
        proposers = col_record_proposers(n_actors, max_rounds)
        votes = col_record_votes(n_actors, max_rounds)
        self.offers = row[offers:proposers]
        """``int64[max_rounds]``, each completed round's offer (-1 after)."""
        self.proposers = row[proposers:votes]
        """``int64[max_rounds]``, each completed round's proposer index."""
        self.votes = row[votes : votes + max_rounds * n_actors].reshape(
            max_rounds, n_actors
        )
        """``int64[max_rounds, n_actors]``: -1 no vote, 0 reject, 1 accept."""

    @property
    def rounds_done(self) -> int:
        """Number of completed rounds."""
        return int(self.state[self.slot, C_ROUNDS_DONE])

    @property
    def seed(self) -> int:
        """The episode's seed (the key of its random draws)."""
        return int(self.state[self.slot, C_KEY])

    def events(self, actors: tuple[str, ...]) -> list[dict[str, object]]:
        """Return the rounds as JSON-ready dicts (the log's ``events``)."""
        names = {0: "reject", 1: "accept"}
        out: list[dict[str, object]] = []
        for r in range(self.rounds_done):
            out.append(
                {
                    "round": r,
                    "proposer": actors[int(self.proposers[r])],
                    "offer": int(self.offers[r]),
                    "votes": {
                        actors[i]: names[int(v)]
                        for i, v in enumerate(self.votes[r])
                        if v >= 0
                    },
                }
            )
        return out
