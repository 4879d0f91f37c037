"""Run configured matches on the batch engine and build the env path's log lines.

:func:`run_episodes` returns, for every episode id, the record that
``peacegame.match.EpisodePlayer.play(i)`` returns (equal dicts, same key
order), at a fraction of the cost: the episodes advance in lockstep in chunks
of ``batch_size`` match slots (:class:`~peacegame.batch.game.BatchGame`), and
only the final record of each match is built in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from peacegame.batch.game import AGREEMENT, END_REASONS, BatchGame, UnsupportedError
from peacegame.batch.strategies import SUPPORTED
from peacegame.logs import SCHEMA_VERSION
from peacegame.match_config import MatchConfig
from peacegame.policies import make_policy, policy_label
from peacegame.policies.registry import REGISTRY, normalise_spec
from peacegame.scenario.compiled import CompiledScenario

DEFAULT_BATCH_SIZE = 4096
"""Match slots advanced in lockstep (memory grows linearly with it)."""

HISTORY_BUDGET = 256 * 2**20
"""Bytes of per-slot round history a batch may hold; long deadlines get fewer
slots (each slot keeps every round's offer, proposer and votes)."""


def supported_spec(spec: Any) -> bool:
    """Whether a policy spec names a strategy with a twin (without building it)."""
    try:
        name = normalise_spec(spec, file=None, field="policy")["policy"]
    except Exception:  # noqa: BLE001 (a bad spec is the env path's error to raise)
        return False
    cls = REGISTRY.get(name)
    return cls is not None and cls in SUPPORTED


def supports(config: MatchConfig, scenario: CompiledScenario | None = None) -> bool:
    """Whether the batch engine reproduces this match config exactly.

    True when every policy is a built-in scripted strategy with a vectorised
    twin (random, the time-dependent family, hardliner, tit_for_tat,
    nash_mediator). With ``scenario`` given, the engine is also built once,
    which checks that this machine's private-information arithmetic is
    reproduced (see :mod:`peacegame.batch.arith`).

    Args:
        config: The match config.
        scenario: The compiled scenario, or None to check the policies only.

    Returns:
        True if :func:`run_episodes` can replace the env path.
    """
    if not all(supported_spec(spec) for spec in config.policies.values()):
        return False
    if scenario is None:
        return True
    if set(config.policies) != set(scenario.actors):
        return False
    try:
        BatchEngine(config, scenario, batch_size=1)
    except UnsupportedError:
        return False
    except Exception:  # noqa: BLE001 (config errors: the env path raises them)
        return True
    return True


@dataclass
class BatchResult:
    """Outcomes of a run of episodes, as arrays (episode order).

    Attributes:
        episode: ``int64[n]`` episode ids.
        seed: ``uint64[n]`` episode seeds.
        end: ``int8[n]`` end codes (index into
            :data:`peacegame.batch.game.END_REASONS`).
        round: ``int64[n]`` the last round played.
        outcome: ``int64[n]`` the agreed outcome, -1 without agreement.
        rewards: ``float64[n, n_actors]`` payoffs.
        decisions: Agent decisions taken (proposals plus votes).
    """

    episode: np.ndarray
    seed: np.ndarray
    end: np.ndarray
    round: np.ndarray
    outcome: np.ndarray
    rewards: np.ndarray
    decisions: int


class BatchEngine:
    """Plays the episodes of one match config on the batch engine.

    Args:
        config: The validated match config.
        scenario: The compiled scenario.
        metrics: Precomputed ``OutcomeMetrics`` (computed when records are
            first built, if None).
        batch_size: Match slots advanced in lockstep.
        config_file: The config's file, named in policy errors (as
            ``EpisodePlayer``'s ``config_file``).

    Raises:
        UnsupportedError: If a policy has no twin (see :func:`supports`).
        ConfigError: On a bad policy spec or a policy that rejects the
            protocol, as the env path raises it.
    """

    def __init__(
        self,
        config: MatchConfig,
        scenario: CompiledScenario,
        metrics: Any | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        config_file: str | None = None,
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.metrics = metrics
        per_slot = config.protocol.max_rounds * (16 + scenario.n_actors)
        self.batch_size = max(1, min(int(batch_size), HISTORY_BUDGET // per_slot))
        self.actors = scenario.actors
        for actor in self.actors:
            if not supported_spec(config.policies.get(actor)):
                raise UnsupportedError(
                    f"policy of {actor!r} has no vectorised twin: "
                    f"{config.policies.get(actor)!r}"
                )
        self.policies = [
            make_policy(config.policies[a], file=config_file, field=f"policies.{a}")
            for a in self.actors
        ]
        self.labels = {
            a: policy_label(p) for a, p in zip(self.actors, self.policies, strict=True)
        }
        self.game = BatchGame(
            scenario,
            config.protocol,
            self.policies,
            self.batch_size,
            base_seed=config.seed,
        )
        self._records: RecordBuilder | None = None

    def play(
        self, episodes: Sequence[int], seeds: Sequence[int] | None = None
    ) -> BatchResult:
        """Play episodes and return their outcomes as arrays (no records).

        Args:
            episodes: Episode ids.
            seeds: Explicit episode seeds, one per episode (default:
                ``episode_seed(config.seed, episode)``, as the match runner).
        """
        return self._play(episodes, seeds, None)

    def run(
        self, episodes: Sequence[int], seeds: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """Play episodes and return their log records (the env path's).

        Args:
            episodes: Episode ids.
            seeds: Explicit episode seeds, one per episode (default:
                ``episode_seed(config.seed, episode)``, as the match runner).
        """
        if self._records is None:
            metrics = self.metrics
            if metrics is None:
                from peacegame.match import OutcomeMetrics

                metrics = self.metrics = OutcomeMetrics.of(self.scenario)
            self._records = RecordBuilder(
                self.config, self.scenario, metrics, self.labels
            )
        records: list[dict[str, Any]] = []
        self._play(episodes, seeds, records)
        return records

    def _play(
        self,
        episodes: Sequence[int],
        seeds: Sequence[int] | None,
        records: list[dict[str, Any]] | None,
    ) -> BatchResult:
        if isinstance(episodes, range):
            ids = np.arange(episodes.start, episodes.stop, episodes.step, np.int64)
        else:
            ids = np.asarray(episodes, np.int64).reshape(-1)
        n = ids.size
        given = None if seeds is None else np.asarray(seeds, np.uint64).reshape(-1)
        if given is not None and given.size != n:
            raise ValueError(f"{n} episodes but {given.size} seeds")
        game = self.game
        result = BatchResult(
            episode=ids,
            seed=np.zeros(n, np.uint64),
            end=np.zeros(n, np.int8),
            round=np.zeros(n, np.int64),
            outcome=np.full(n, -1, np.int64),
            rewards=np.zeros((n, self.scenario.n_actors)),
            decisions=0,
        )
        for start in range(0, n, self.batch_size):
            chunk = ids[start : start + self.batch_size]
            slots = np.arange(chunk.size)
            chosen = None if given is None else given[start : start + chunk.size]
            game.reset(slots, chunk, chosen)
            result.decisions += game.play_scripted(slots)
            part = slice(start, start + chunk.size)
            result.seed[part] = game.seed[slots]
            result.end[part] = game.end[slots]
            result.round[part] = game.round[slots]
            agreed = game.end[slots] == AGREEMENT
            result.outcome[part] = np.where(agreed, game.offer[slots], -1)
            result.rewards[part] = game.rewards[slots]
            if records is not None:
                assert self._records is not None
                records.extend(self._records.build(game, slots))
        return result


def _round6(x: float) -> float:
    return round(x, 6)


class RecordBuilder:
    """Builds ``EpisodePlayer.record``'s log lines from a finished batch.

    Per-outcome parts (decoded outcome, rounded utilities, quality metrics) are
    computed once per outcome and copied into each record.
    """

    def __init__(
        self,
        config: MatchConfig,
        scenario: CompiledScenario,
        metrics: Any,
        labels: dict[str, str],
    ) -> None:
        self.scenario = scenario
        self.metrics = metrics
        self.labels = labels
        self.actors = scenario.actors
        self.events = config.log_events == "rounds"
        self._per_outcome: dict[int, tuple[Any, ...]] = {}

    def _outcome(self, k: int) -> tuple[Any, ...]:
        cached = self._per_outcome.get(k)
        if cached is None:
            scenario, metrics = self.scenario, self.metrics
            utility = {
                a: _round6(float(scenario.utility[i, k]))
                for i, a in enumerate(self.actors)
            }
            nash = metrics.nash_distance[k]
            cached = (
                scenario.decode(k),
                utility,
                bool(metrics.in_zone[k]),
                _round6(float(metrics.pareto_distance[k])),
                None if np.isnan(nash) else _round6(float(nash)),
            )
            self._per_outcome[k] = cached
        return cached

    def build(self, game: BatchGame, slots: np.ndarray) -> list[dict[str, Any]]:
        """The records of the finished episodes in ``slots``, in slot order."""
        actors = self.actors
        scenario = self.scenario
        name, digest = scenario.name, scenario.scenario_hash
        labels = self.labels
        done = game.rounds_done[slots]
        last_proposer = game.history_proposer[slots, np.maximum(done - 1, 0)]
        rewards = game.rewards[slots]
        welfare = rewards.sum(axis=1).tolist()
        columns = zip(
            game.episode[slots].tolist(),
            game.seed[slots].tolist(),
            game.end[slots].tolist(),
            game.round[slots].tolist(),
            game.offer[slots].tolist(),
            last_proposer.tolist(),
            done.tolist(),
            rewards.tolist(),
            welfare,
            strict=True,
        )
        out = []
        for index, (
            episode,
            seed,
            end,
            rnd,
            offer,
            proposer,
            n_done,
            row,
            sw,
        ) in enumerate(columns):
            agreed = end == AGREEMENT
            line: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "episode": episode,
                "seed": seed,
                "scenario": name,
                "scenario_hash": digest,
                "policies": dict(labels),
                "agreement": agreed,
                "end": END_REASONS[end],
                "rounds": rnd + 1,
                "round": rnd,
                "proposer": actors[proposer] if n_done > 0 else None,
            }
            if agreed:
                decoded, utility, in_zone, pareto, nash = self._outcome(offer)
                line["outcome"] = offer
                line["decoded"] = dict(decoded)
                line["utility"] = dict(utility)
            else:
                line["outcome"] = line["decoded"] = line["utility"] = None
            line["reward"] = {a: _round6(r) for a, r in zip(actors, row, strict=True)}
            line["social_welfare"] = _round6(sw)
            if agreed:
                line["in_zone"] = in_zone
                line["pareto_distance"] = pareto
                line["nash_distance"] = nash
            else:
                line["in_zone"] = line["pareto_distance"] = None
                line["nash_distance"] = None
            if self.events:
                line["events"] = self._events(game, slots[index], n_done)
            out.append(line)
        return out

    def _events(self, game: BatchGame, slot: int, n_done: int) -> list[dict[str, Any]]:
        actors = self.actors
        names = (None, "reject", "accept")
        proposers = game.history_proposer[slot, :n_done].tolist()
        offers = game.history_offer[slot, :n_done].tolist()
        votes = game.history_votes[slot, :n_done].tolist()
        return [
            {
                "round": r,
                "proposer": actors[proposers[r]],
                "offer": offers[r],
                "votes": {
                    actors[i]: names[v + 1] for i, v in enumerate(votes[r]) if v >= 0
                },
            }
            for r in range(n_done)
        ]


def run_episodes(
    config: MatchConfig,
    scenario: CompiledScenario,
    episodes: Sequence[int],
    metrics: Any | None = None,
    *,
    seeds: Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[dict[str, Any]]:
    """The log records of ``episodes``, equal to ``EpisodePlayer.play(i)``'s.

    Args:
        config: The validated match config (every policy must have a twin:
            :func:`supports`).
        scenario: The compiled scenario.
        episodes: Episode ids (a range or any sequence).
        metrics: Precomputed ``peacegame.match.OutcomeMetrics`` (computed if
            None).
        seeds: Explicit episode seeds, one per episode, for callers that
            derive seeds otherwise (tournaments); default
            ``episode_seed(config.seed, episode)``, as ``EpisodePlayer.play``.
        batch_size: Match slots advanced in lockstep.

    Returns:
        One record per episode, in the order of ``episodes``.

    Raises:
        UnsupportedError: If the config is not supported.
        ConfigError: As the env path raises it for a bad config.
    """
    return BatchEngine(config, scenario, metrics, batch_size).run(episodes, seeds)
