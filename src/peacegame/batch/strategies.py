"""Vectorised twins of the scripted strategies (``peacegame.policies.scripted``).

A twin plays one actor in every match slot of a :class:`~peacegame.batch.game.
BatchGame` at once. It is built from the real policy object, bound to the same
view, so that everything that depends only on the round is *taken from the
policy's own code* (aspirations via ``policy.aspiration(r)``, the Nash
mediator's proposals via ``policy.propose(r)``); what depends on the match's
history (tit-for-tat's concessions, the private frequency model, the random
policy's generator) is carried per slot in arrays with the same float64
operations as the policy.

Twins exist for ``random``, ``time_dependent`` / ``boulware`` / ``linear`` /
``conceder``, ``hardliner``, ``tit_for_tat`` and ``nash_mediator`` (exact
classes only: a subclass may change any rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from peacegame.batch.rng import PCG64Streams
from peacegame.policies.scripted import (
    Boulware,
    Conceder,
    Hardliner,
    Linear,
    NashMediator,
    RandomPolicy,
    ScriptedPolicy,
    TimeDependent,
    TitForTat,
)

if TYPE_CHECKING:
    from peacegame.batch.game import BatchGame

ROUND_ONLY: tuple[type[ScriptedPolicy], ...] = (
    TimeDependent,
    Boulware,
    Linear,
    Conceder,
    Hardliner,
)
"""Strategies whose aspiration depends on the round only."""

SUPPORTED: tuple[type[ScriptedPolicy], ...] = (
    *ROUND_ONLY,
    TitForTat,
    NashMediator,
    RandomPolicy,
)
"""Policy classes with a vectorised twin."""

USES_MODEL: tuple[type[ScriptedPolicy], ...] = (*ROUND_ONLY, TitForTat)
"""Strategies whose proposals read the private frequency model."""


def prefix_best_positions(score: np.ndarray) -> np.ndarray:
    """For every prefix length c, the position ``most_acceptable`` picks.

    ``most_acceptable`` reverses the first c outcomes of the actor's best-first
    order and takes ``np.argmax`` of their scores: the *last* position of the
    prefix's maximum. With ``r`` the running maximum, that is the last position
    ``p < c`` with ``score[p] == r[p]``.

    Args:
        score: Scores in the actor's best-first order.

    Returns:
        ``int64[len(score) + 1]``; entry c (>= 1) is the chosen position among
        the first c; entry 0 repeats entry 1 (``max(count, 1)``).
    """
    running = np.maximum.accumulate(score)
    marks = np.where(score == running, np.arange(score.size), -1)
    last = np.maximum.accumulate(marks)
    return np.concatenate([last[:1], last]).astype(np.int64)


class Twin:
    """One actor's strategy over every slot (base class).

    Args:
        game: The batch game.
        actor: The actor's index.
        policy: The real policy, reset on the actor's view.
    """

    def __init__(self, game: BatchGame, actor: int, policy: ScriptedPolicy) -> None:
        self.game = game
        self.actor = actor
        self.policy = policy

    needs_seed_words = False
    """Whether :meth:`reset` needs the PCG64 seed words of ``[seed, actor]``."""

    def reset(
        self, slots: np.ndarray, seeds: np.ndarray, words: np.ndarray | None
    ) -> None:
        """Start new episodes in some slots.

        Args:
            slots: The slots.
            seeds: Their episode seeds.
            words: ``SeedSequence([seed, actor]).generate_state(4, uint64)``
                per slot, if :attr:`needs_seed_words`.
        """

    def propose(self, slots: np.ndarray) -> np.ndarray:
        """Offers in the given slots, where this actor proposes."""
        raise NotImplementedError

    def accept(self, slots: np.ndarray) -> np.ndarray:
        """Votes (True: accept) on the offers in the given slots."""
        raise NotImplementedError

    def observe(
        self, slots: np.ndarray, proposers: np.ndarray, offers: np.ndarray
    ) -> None:
        """Fold one completed round of the public record (continuing slots)."""


class ThresholdTwin(Twin):
    """Shared rule: offer the most acceptable outcome at or above the aspiration."""

    def __init__(self, game: BatchGame, actor: int, policy: ScriptedPolicy) -> None:
        super().__init__(game, actor, policy)
        self.utility = game.utility64[actor]
        self.negative_sorted = -np.asarray(policy.sorted_utility, np.float64)
        self.order = game.order[actor]
        self.public_positions: np.ndarray | None = None
        if policy.public_score is not None:
            score = np.asarray(policy.public_score, np.float64)[self.order]
            self.public_positions = prefix_best_positions(score)

    def count(self, threshold: np.ndarray | float) -> np.ndarray:
        """Candidates at or above a threshold (at least one), as the policy counts."""
        found = np.searchsorted(self.negative_sorted, -np.asarray(threshold), "right")
        return np.maximum(found, 1)

    def most_acceptable(self, slots: np.ndarray, count: np.ndarray) -> np.ndarray:
        """The policy's ``most_acceptable`` given each slot's candidate count."""
        if self.public_positions is not None:
            return self.order[self.public_positions[count]]
        model = self.game.model
        assert model is not None
        return model.most_acceptable(self.actor, slots, count)


class RoundTwin(ThresholdTwin):
    """Time-dependent family and hardliner: the aspiration is a table by round."""

    def __init__(self, game: BatchGame, actor: int, policy: ScriptedPolicy) -> None:
        super().__init__(game, actor, policy)
        rounds = range(game.max_rounds)
        self.aspiration = np.array([policy.aspiration(r) for r in rounds], np.float64)
        self.counts = self.count(self.aspiration)

    def propose(self, slots: np.ndarray) -> np.ndarray:
        """Offer at the round's aspiration."""
        return self.most_acceptable(slots, self.counts[self.game.round[slots]])

    def accept(self, slots: np.ndarray) -> np.ndarray:
        """Accept offers worth at least the round's aspiration."""
        game = self.game
        return self.utility[game.offer[slots]] >= self.aspiration[game.round[slots]]


class NashTwin(RoundTwin):
    """Nash mediator: a fixed proposal, a fixed acceptance threshold."""

    def __init__(self, game: BatchGame, actor: int, policy: ScriptedPolicy) -> None:
        super().__init__(game, actor, policy)
        rounds = range(game.max_rounds)
        self.proposals = np.array([policy.propose(r) for r in rounds], np.int64)

    def propose(self, slots: np.ndarray) -> np.ndarray:
        """The Nash point (or the own best outcome without one)."""
        return self.proposals[self.game.round[slots]]


class TitForTatTwin(ThresholdTwin):
    """Relative tit-for-tat: per-slot first and best offers received."""

    def __init__(self, game: BatchGame, actor: int, policy: ScriptedPolicy) -> None:
        super().__init__(game, actor, policy)
        self.first = np.full(game.size, np.nan)
        self.best = np.zeros(game.size)
        self.niceness = float(policy.params.niceness)  # type: ignore[attr-defined]
        self.no_deal = float(policy.view.no_deal)  # type: ignore[union-attr]
        self.u_max = float(policy.u_max)

    def reset(
        self, slots: np.ndarray, seeds: np.ndarray, words: np.ndarray | None
    ) -> None:
        """Forget the offers received."""
        self.first[slots] = np.nan
        self.best[slots] = 0.0

    def observe(
        self, slots: np.ndarray, proposers: np.ndarray, offers: np.ndarray
    ) -> None:
        """Track the best offer the others made, in own utility."""
        mine = proposers != self.actor
        if not mine.any():
            return
        slots, offers = slots[mine], offers[mine]
        value = self.utility[offers]
        first = self.first[slots]
        fresh = np.isnan(first)
        self.first[slots] = np.where(fresh, value, first)
        self.best[slots] = np.where(fresh, value, np.maximum(self.best[slots], value))

    def aspiration(self, slots: np.ndarray) -> np.ndarray:
        """``max(d, u_max - received - niceness * t)``, per slot."""
        first = self.first[slots]
        received = np.where(
            np.isnan(first), 0.0, np.maximum(self.best[slots] - first, 0.0)
        )
        nice = self.niceness * self.game.round[slots].astype(np.float64)
        return np.maximum(self.no_deal, self.u_max - received - nice)

    def propose(self, slots: np.ndarray) -> np.ndarray:
        """Offer at the current aspiration."""
        return self.most_acceptable(slots, self.count(self.aspiration(slots)))

    def accept(self, slots: np.ndarray) -> np.ndarray:
        """Accept offers worth at least the current aspiration."""
        return self.utility[self.game.offer[slots]] >= self.aspiration(slots)


class RandomTwin(Twin):
    """Uniform legal actions from ``default_rng([seed, actor])`` per slot.

    Every random actor's generators live in the game's one
    ``random_streams`` (row ``actor * size + slot``), so that the game draws
    the votes (and proposals) of all random actors in one call.
    """

    needs_seed_words = True

    def __init__(self, game: BatchGame, actor: int, policy: ScriptedPolicy) -> None:
        super().__init__(game, actor, policy)
        if game.random_streams is None:
            rows = game.n_actors * game.size
            game.random_streams = PCG64Streams(np.zeros((rows, 4), np.uint64))
        self.streams = game.random_streams
        self.offset = actor * game.size

    def reset(
        self, slots: np.ndarray, seeds: np.ndarray, words: np.ndarray | None
    ) -> None:
        """Seed each slot's generator as ``default_rng([seed, actor])``."""
        assert words is not None
        self.streams.seed(self.offset + slots, words)

    def propose(self, slots: np.ndarray) -> np.ndarray:
        """``rng.integers(n_outcomes)``."""
        return self.streams.integers(self.offset + slots, self.game.n_outcomes)

    def accept(self, slots: np.ndarray) -> np.ndarray:
        """``ACCEPT + rng.integers(2)``: accept on 0."""
        return self.streams.integers(self.offset + slots, 2) == 0


def make_twin(game: BatchGame, actor: int, policy: ScriptedPolicy) -> Twin:
    """The twin of a (reset) scripted policy.

    Raises:
        TypeError: If the policy's class has no twin.
    """
    kind = type(policy)
    if kind is RandomPolicy:
        return RandomTwin(game, actor, policy)
    if kind is NashMediator:
        return NashTwin(game, actor, policy)
    if kind is TitForTat:
        return TitForTatTwin(game, actor, policy)
    if kind in ROUND_ONLY:
        return RoundTwin(game, actor, policy)
    raise TypeError(f"no vectorised twin for {kind.__name__}")
