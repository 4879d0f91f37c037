"""Run configured all-scripted matches on the engine and build their log lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from peacegame.engine import (
    Episodes,
    OutcomeMetrics,
    Rules,
    episode_record,
    episode_seeds,
)
from peacegame.engine.rules import C_END, C_KEY, C_ROUND, agreed_outcomes
from peacegame.match_config import MatchConfig
from peacegame.policies import make_policy, policy_label
from peacegame.policies.registry import REGISTRY, normalise_spec
from peacegame.scenario.compiled import CompiledScenario

DEFAULT_BATCH_SIZE = 4096
"""Episode slots per compiled call (memory grows linearly with it)."""

STATE_BUDGET = 256 * 2**20
"""Bytes of state a batch may hold; long deadlines get fewer slots."""


class UnsupportedError(ValueError):
    """A match whose policies are not all built-in scripted strategies."""


def supported_spec(spec: Any) -> bool:
    """Whether a policy spec names a built-in scripted strategy."""
    try:
        name = normalise_spec(spec, file=None, field="policy")["policy"]
    except Exception:  # noqa: BLE001 (a bad spec is the env path's error to raise)
        return False
    return name in REGISTRY


def supports(config: MatchConfig, scenario: CompiledScenario | None = None) -> bool:
    """Whether every policy of the config is a built-in scripted strategy.

    Args:
        config: The match config.
        scenario: The compiled scenario (its actors must match the config's).

    Returns:
        True if :func:`run_episodes` can play the match.
    """
    if not all(supported_spec(spec) for spec in config.policies.values()):
        return False
    return scenario is None or set(config.policies) == set(scenario.actors)


@dataclass
class BatchResult:
    """Outcomes of a run of episodes, as arrays (episode order).

    Attributes:
        episode: ``int64[n]`` episode ids.
        seed: ``int64[n]`` episode seeds.
        end: ``int64[n]`` end codes (index into ``peacegame.engine.END_REASONS``).
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
    """Plays the episodes of one all-scripted match config on the engine.

    Args:
        config: The validated match config.
        scenario: The compiled scenario.
        metrics: Precomputed outcome metrics (computed when records are first
            built, if None).
        batch_size: Episode slots per compiled call.
        config_file: The config's file, named in policy errors.

    Raises:
        UnsupportedError: If a policy is not a built-in scripted strategy.
        ConfigError: On a bad policy spec or a policy that rejects the protocol.
    """

    def __init__(
        self,
        config: MatchConfig,
        scenario: CompiledScenario,
        metrics: OutcomeMetrics | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        config_file: str | None = None,
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.metrics = metrics
        self.actors = scenario.actors
        for actor in self.actors:
            if not supported_spec(config.policies.get(actor)):
                raise UnsupportedError(
                    f"policy of {actor!r} is not a built-in scripted strategy: "
                    f"{config.policies.get(actor)!r}"
                )
        self.policies = [
            make_policy(config.policies[a], file=config_file, field=f"policies.{a}")
            for a in self.actors
        ]
        self.labels = {
            a: policy_label(p) for a, p in zip(self.actors, self.policies, strict=True)
        }
        self.rules = Rules(scenario, config.protocol)
        public = config.protocol.information == "public"
        for actor, policy in zip(self.actors, self.policies, strict=True):
            if policy.requires_public and not public:
                from peacegame.errors import ConfigError

                raise ConfigError(
                    f"{policy_label(policy)} needs protocol.information: public",
                    file=config_file,
                    field=f"policies.{actor}",
                )
        per_slot = (
            8 * (self.rules.n_levels + 4) * scenario.n_actors
            + 8 * (12 + 3 * scenario.n_actors)
            + 8 * config.protocol.max_rounds * (2 + scenario.n_actors)
        )
        self.batch_size = max(1, min(int(batch_size), STATE_BUDGET // per_slot))
        self.episodes = Episodes(
            self.rules, [p.strategy() for p in self.policies], self.batch_size
        )

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
        if self.metrics is None:
            self.metrics = OutcomeMetrics.of(self.scenario)
        records: list[dict[str, Any]] = []
        self._play(episodes, seeds, records)
        return records

    def _play(
        self,
        episodes: Sequence[int],
        seeds: Sequence[int] | None,
        records: list[dict[str, Any]] | None,
    ) -> BatchResult:
        ids = np.asarray(list(episodes) if isinstance(episodes, range) else episodes)
        ids = ids.astype(np.int64).reshape(-1)
        n = ids.size
        if seeds is None:
            keys = episode_seeds(self.config.seed, ids)
        else:
            keys = np.asarray([int(s) for s in seeds], np.int64).reshape(-1)
            if keys.size != n:
                raise ValueError(f"{n} episodes but {keys.size} seeds")
        n_actors = self.scenario.n_actors
        result = BatchResult(
            episode=ids,
            seed=keys.copy(),
            end=np.zeros(n, np.int64),
            round=np.zeros(n, np.int64),
            outcome=np.full(n, -1, np.int64),
            rewards=np.zeros((n, n_actors)),
            decisions=0,
        )
        slots = self.episodes
        for start in range(0, n, self.batch_size):
            chunk = keys[start : start + self.batch_size]
            size = chunk.size
            result.decisions += slots.play(chunk)
            state = slots.state[:size]
            part = slice(start, start + size)
            result.end[part] = state[:, C_END]
            result.round[part] = state[:, C_ROUND]
            result.outcome[part] = agreed_outcomes(state)
            result.rewards[part] = slots.rewards[:size]
            if records is not None:
                assert self.metrics is not None
                events = self.config.log_events == "rounds"
                chunk_ids = ids[part].tolist()
                chunk_seeds = state[:, C_KEY].tolist()
                rewards = slots.rewards
                records.extend(
                    episode_record(
                        self.rules,
                        slots.state,
                        slot,
                        rewards[slot],
                        episode=chunk_ids[slot],
                        seed=chunk_seeds[slot],
                        labels=self.labels,
                        metrics=self.metrics,
                        events=events,
                    )
                    for slot in range(size)
                )
        return result


def run_episodes(
    config: MatchConfig,
    scenario: CompiledScenario,
    episodes: Sequence[int],
    metrics: OutcomeMetrics | None = None,
    *,
    seeds: Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[dict[str, Any]]:
    """The log records of ``episodes``, equal to ``EpisodePlayer.play(i)``'s.

    Args:
        config: The validated match config (all built-in scripted policies).
        scenario: The compiled scenario.
        episodes: Episode ids (a range or any sequence).
        metrics: Precomputed outcome metrics (computed if None).
        seeds: Explicit episode seeds, one per episode (tournaments); default
            ``episode_seed(config.seed, episode)``, as ``EpisodePlayer.play``.
        batch_size: Episode slots per compiled call.

    Returns:
        One record per episode, in the order of ``episodes``.
    """
    return BatchEngine(config, scenario, metrics, batch_size).run(episodes, seeds)
