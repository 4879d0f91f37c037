"""The negotiation rules over many match slots at once: a twin of ``Protocol``.

:class:`BatchGame` holds the state of ``size`` matches as arrays (round,
proposer, offer, voters, phase, end, rewards, and the public record of every
completed round) and applies ``peacegame.protocol``'s rules to any subset of
slots with array operations: a proposal, the votes, the resolution of a round
(agreement, deadline, breakdown draw, next proposer draw). Its random draws
come from per-slot PCG64 streams seeded exactly as the env seeds its generator
(``gymnasium.utils.seeding.np_random(seed)``), consumed in the order the
protocol documents, so each slot replays the env's episode with the same seed.

Actors are played by vectorised twins of the scripted strategies
(:mod:`peacegame.batch.strategies`); an actor without a twin (``None``) is
driven from outside (the learner of :mod:`peacegame.vector_env`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from peacegame.batch.arith import probe_estimate_kind
from peacegame.batch.model import FrequencyModel
from peacegame.batch.rng import PCG64Streams, episode_seeds, generate_uint64
from peacegame.batch.strategies import (
    SUPPORTED,
    USES_MODEL,
    RandomTwin,
    Twin,
    make_twin,
)
from peacegame.policies import make_view
from peacegame.policies.scripted import ScriptedPolicy
from peacegame.protocol import Protocol, ProtocolConfig
from peacegame.record import PublicRecord
from peacegame.scenario.compiled import CompiledScenario

PROPOSING = 0
"""Phase code: the round's proposer is to move."""
VOTING = 1
"""Phase code: the voters are to move."""
ENDED = 2
"""Phase code: the episode has ended."""

RUNNING = 0
"""End code of a running episode."""
END_REASONS: tuple[str | None, ...] = (
    None,
    "agreement",
    "deadline",
    "breakdown",
    "illegal",
)
"""End codes (indices) and the env's ``end_reason`` names."""
AGREEMENT, DEADLINE, BREAKDOWN, ILLEGAL = 1, 2, 3, 4

SEED_BLOCK = 1024
"""Episode seeds are derived for blocks of at least this many ids at once."""


class UnsupportedError(ValueError):
    """A match that the batch engine cannot reproduce exactly."""


def bind_policy(
    policy: ScriptedPolicy, protocol: Protocol, actor: str
) -> ScriptedPolicy:
    """Reset a real policy on ``actor``'s view, as the env path does.

    Args:
        policy: A fresh scripted policy.
        protocol: The rules (its scenario and config).
        actor: The actor id.

    Returns:
        The policy, bound (its tables are then read by the twin).

    Raises:
        ConfigError: As the policy's own ``reset`` (for example the Nash
            mediator under private information).
    """
    record = PublicRecord(protocol.n_actors, protocol.max_rounds)
    view = make_view(protocol, actor, record)
    policy.reset(actor, view, np.random.default_rng(0))
    return policy


class BatchGame:
    """``size`` match slots under one scenario, protocol and set of policies.

    Args:
        scenario: The compiled scenario.
        protocol: The protocol configuration.
        policies: Per actor (scenario order), a fresh scripted policy with a
            twin, or None for an actor driven from outside.
        size: Number of slots.
        base_seed: Episode ``i`` is seeded with
            ``peacegame.match.episode_seed(base_seed, i)``.

    Raises:
        UnsupportedError: If a policy has no twin, or the private frequency
            model's arithmetic could not be reproduced.
        ConfigError: If a policy rejects the configuration.
    """

    def __init__(
        self,
        scenario: CompiledScenario,
        protocol: ProtocolConfig,
        policies: Sequence[ScriptedPolicy | None],
        size: int,
        base_seed: int = 0,
    ) -> None:
        if len(policies) != scenario.n_actors:
            raise ValueError("one policy (or None) per actor is required")
        self.scenario = scenario
        self.rules = rules = Protocol(scenario, protocol)
        self.config = protocol
        self.size = size
        self._base_seed = int(base_seed)
        self.n_actors = n = scenario.n_actors
        self.n_outcomes = scenario.n_outcomes
        self.max_rounds = protocol.max_rounds
        self.breakdown_prob = float(protocol.breakdown_prob)
        self.random_proposer = protocol.proposer == "random"
        self.rotation = np.array(rules.order, np.int64)
        cumulative = np.cumsum(np.asarray(scenario.recognition, np.float64))
        cumulative /= cumulative[-1]
        self.recognition_cdf = cumulative
        self.discount_powers = rules.discount_powers
        self.utility64 = np.asarray(scenario.utility, np.float64)
        self.utility_by_outcome = np.ascontiguousarray(self.utility64.T)
        self.no_deal = np.asarray(scenario.no_deal, np.float64)
        self.required_by_outcome = np.ascontiguousarray(scenario.required.T)
        self.order = np.asarray(scenario.order, np.int64)

        self.episode = np.zeros(size, np.int64)
        self.seed = np.zeros(size, np.uint64)
        self.round = np.zeros(size, np.int64)
        self.proposer = np.zeros(size, np.int64)
        self.phase = np.full(size, ENDED, np.int8)
        self.end = np.zeros(size, np.int8)
        self.offer = np.full(size, -1, np.int64)
        self.voters = np.zeros((size, n), np.bool_)
        self.votes = np.full((size, n), -1, np.int8)
        self.last_votes = np.full((size, n), -1, np.int8)
        self.rewards = np.zeros((size, n), np.float64)
        self.rounds_done = np.zeros(size, np.int64)
        self.history_offer = np.full((size, self.max_rounds), -1, np.int64)
        self.history_proposer = np.full((size, self.max_rounds), -1, np.int64)
        self.history_votes = np.full((size, self.max_rounds, n), -1, np.int8)
        self.streams: PCG64Streams | None = None
        if self.random_proposer or self.breakdown_prob > 0.0:
            self.streams = PCG64Streams(np.zeros((size, 4), np.uint64))

        for actor, policy in zip(scenario.actors, policies, strict=True):
            if policy is not None and type(policy) not in SUPPORTED:
                raise UnsupportedError(
                    f"the policy of {actor!r} ({type(policy).__name__}) has no "
                    "vectorised twin"
                )
        self.external = [p is None for p in policies]
        bound = [
            None if p is None else bind_policy(p, rules, actor)
            for p, actor in zip(policies, scenario.actors, strict=True)
        ]
        self.random_streams: PCG64Streams | None = None
        self.model: FrequencyModel | None = None
        private = protocol.information == "private"
        modelled = [p for p in bound if p is not None and type(p) in USES_MODEL]
        if private and modelled:
            kind = probe_estimate_kind(modelled[0])
            if kind is None:
                raise UnsupportedError(
                    "the private frequency model's arithmetic on this machine "
                    "matches none of the batch engine's twins"
                )
            self.model = FrequencyModel(scenario, size, kind)
        self.twins: list[Twin | None] = []
        for actor, policy in enumerate(bound):
            if policy is None:
                self.twins.append(None)
                continue
            self.twins.append(make_twin(self, actor, policy))
        self.twin_list = [t for t in self.twins if t is not None]
        # Random actors draw together from random_streams (see RandomTwin).
        self.is_random = np.array([isinstance(t, RandomTwin) for t in self.twins])
        self.random_actors = np.flatnonzero(self.is_random)
        self._seed_cache: tuple[int, np.ndarray, dict[int, np.ndarray]] | None = None
        self.observers = [
            t for t in self.twin_list if type(t).observe is not Twin.observe
        ]

    @property
    def base_seed(self) -> int:
        """The base seed of the episode seeds (setting it clears the cache)."""
        return self._base_seed

    @base_seed.setter
    def base_seed(self, value: int) -> None:
        self._base_seed = int(value)
        self._seed_cache = None

    # ------------------------------------------------------------ episodes
    def reset(
        self,
        slots: np.ndarray,
        episodes: np.ndarray,
        seeds: np.ndarray | None = None,
    ) -> None:
        """Start episodes ``episodes`` in ``slots`` (round 0, proposal step).

        Args:
            slots: Distinct slot indices.
            episodes: Episode ids.
            seeds: Explicit episode seeds (as a tournament derives them); by
                default ``episode_seed(base_seed, episode)``.
        """
        slots = np.asarray(slots, np.int64)
        episodes = np.asarray(episodes, np.int64)
        if seeds is None:
            seeds, words = self._seeding(episodes)
        else:
            seeds = np.asarray(seeds, np.uint64)
            words = self._seed_words(seeds)
        self.episode[slots] = episodes
        self.seed[slots] = seeds
        self.round[slots] = 0
        self.phase[slots] = PROPOSING
        self.end[slots] = RUNNING
        self.offer[slots] = -1
        self.voters[slots] = False
        self.votes[slots] = -1
        self.last_votes[slots] = -1
        self.rewards[slots] = 0.0
        done = self.rounds_done[slots].max(initial=0)
        if done:
            self.history_offer[slots, :done] = -1
            self.history_proposer[slots, :done] = -1
            self.history_votes[slots, :done] = -1
        self.rounds_done[slots] = 0
        if self.streams is not None:
            self.streams.seed(slots, words[-1])
        if self.random_proposer:
            self.proposer[slots] = self._draw_proposer(slots)
        else:
            self.proposer[slots] = self.rotation[0]
        if self.model is not None:
            self.model.reset(slots)
        for twin in self.twin_list:
            twin.reset(slots, seeds, words.get(twin.actor))

    def _seeding(
        self, episodes: np.ndarray
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Episode seeds and generator seed words (cached in blocks of ids).

        Returns:
            The seeds and, per random actor (key: actor index) and for the
            env's generator (key: -1), ``uint64[n, 4]`` PCG64 seed words.
        """
        cache = self._seed_cache
        if cache is not None:
            first, seeds, words = cache
            offset = episodes - first
            if offset.size and offset.min() >= 0 and offset.max() < seeds.size:
                return seeds[offset], {k: w[offset] for k, w in words.items()}
        if episodes.size == 0:
            return np.zeros(0, np.uint64), {}
        first = int(episodes.min())
        count = max(int(episodes.max()) - first + 1, SEED_BLOCK)
        if count > 4 * max(episodes.size, SEED_BLOCK):  # scattered ids
            first, block = 0, episodes
        else:
            block = np.arange(first, first + count, dtype=np.int64)
        seeds = episode_seeds(self._base_seed, block)
        words = self._seed_words(seeds)
        if block is episodes:
            self._seed_cache = None
            return seeds, words
        self._seed_cache = (first, seeds, words)
        return self._seeding(episodes)

    def _seed_words(self, seeds: np.ndarray) -> dict[int, np.ndarray]:
        """PCG64 seed words of the env's generator (key -1) and random twins."""
        words: dict[int, np.ndarray] = {}
        if self.streams is not None:
            words[-1] = generate_uint64([seeds], 4)
        for twin in self.twin_list:
            if twin.needs_seed_words:
                actor = np.full(seeds.size, twin.actor, np.uint64)
                words[twin.actor] = generate_uint64([seeds, actor], 4)
        return words

    def _draw_proposer(self, slots: np.ndarray) -> np.ndarray:
        assert self.streams is not None
        u = self.streams.random(slots)
        drawn = np.searchsorted(self.recognition_cdf, u, side="right")
        return np.minimum(drawn, self.n_actors - 1)

    # --------------------------------------------------------------- moves
    def scripted_proposals(self, slots: np.ndarray) -> np.ndarray:
        """Offers of the scripted proposers in ``slots`` (all must be scripted)."""
        proposer = self.proposer[slots]
        offers = np.empty(len(slots), np.int64)
        present = np.bincount(proposer, minlength=self.n_actors)
        if self.random_actors.size:
            chance = self.is_random[proposer]
            if chance.any():
                assert self.random_streams is not None
                rows = proposer[chance] * self.size + slots[chance]
                offers[chance] = self.random_streams.integers(rows, self.n_outcomes)
                present[self.random_actors] = 0
        for actor in np.flatnonzero(present).tolist():
            twin = self.twins[actor]
            if twin is None:
                raise ValueError(f"actor {actor} is external: it cannot be scripted")
            mine = proposer == actor
            offers[mine] = twin.propose(slots[mine])
        return offers

    def propose(self, slots: np.ndarray, offers: np.ndarray) -> np.ndarray:
        """Put offers on the table; resolve those that need nobody's consent.

        Args:
            slots: Slots in the proposal step.
            offers: Their proposed outcomes.

        Returns:
            The slots now in the vote step.
        """
        self.offer[slots] = offers
        voters = self.required_by_outcome[offers]
        voters[np.arange(len(slots)), self.proposer[slots]] = False
        self.voters[slots] = voters
        self.votes[slots] = -1
        pending = voters.any(axis=1)
        self.phase[slots[pending]] = VOTING
        alone = slots[~pending]
        if alone.size:
            self.resolve(alone, np.full((alone.size, self.n_actors), -1, np.int8))
        return slots[pending]

    def scripted_votes(self, slots: np.ndarray) -> np.ndarray:
        """Votes of every scripted voter in ``slots``.

        Returns:
            ``int8[len(slots), n_actors]``: 1 accept, 0 reject, -1 for
            non-voters and for external voters.
        """
        voters = self.voters[slots]
        votes = np.full(voters.shape, -1, np.int8)
        present = voters.sum(axis=0)
        if self.random_actors.size:
            picked, which = np.nonzero(voters[:, self.random_actors])
            if picked.size:
                assert self.random_streams is not None
                actors = self.random_actors[which]
                rows = actors * self.size + slots[picked]
                votes[picked, actors] = self.random_streams.integers(rows, 2) == 0
            present[self.random_actors] = 0
        for actor in np.flatnonzero(present).tolist():
            twin = self.twins[actor]
            if twin is None:
                continue
            mine = voters[:, actor]
            votes[mine, actor] = twin.accept(slots[mine])
        return votes

    def resolve(self, slots: np.ndarray, votes: np.ndarray) -> None:
        """End the round of ``slots`` with ``votes`` (every voter's).

        Agreement, or else the deadline, or else one breakdown draw, or else
        the next round (its proposer drawn if random), as in ``Protocol``.

        Args:
            slots: Slots whose round ends.
            votes: ``int8[len(slots), n_actors]``, 1 accept, 0 reject, -1 no
                vote.
        """
        rounds = self.round[slots]
        offers = self.offer[slots]
        proposers = self.proposer[slots]
        done = self.rounds_done[slots]
        self.history_offer[slots, done] = offers
        self.history_proposer[slots, done] = proposers
        self.history_votes[slots, done] = votes
        self.rounds_done[slots] = done + 1
        self.last_votes[slots] = votes
        self.votes[slots] = votes

        agreed = ~(votes == 0).any(axis=1)
        if agreed.any():
            won = slots[agreed]
            self.phase[won] = ENDED
            self.end[won] = AGREEMENT
            self.rewards[won] = (
                self.discount_powers[rounds[agreed]]
                * self.utility_by_outcome[offers[agreed]]
            )
        rest = ~agreed
        late = rest & (rounds + 1 == self.max_rounds)
        if late.any():
            self._disagree(slots[late], DEADLINE)
        going = rest & ~late
        if not going.any():
            return
        if self.breakdown_prob > 0.0:
            assert self.streams is not None
            drawn = np.flatnonzero(going)
            broken = self.streams.random(slots[drawn]) < self.breakdown_prob
            if broken.any():
                self._disagree(slots[drawn[broken]], BREAKDOWN)
                going[drawn[broken]] = False
        nxt = slots[going]
        if not nxt.size:
            return
        next_round = rounds[going] + 1
        self.round[nxt] = next_round
        if self.random_proposer:
            self.proposer[nxt] = self._draw_proposer(nxt)
        else:
            self.proposer[nxt] = self.rotation[next_round % self.n_actors]
        self.phase[nxt] = PROPOSING
        self.offer[nxt] = -1
        self.voters[nxt] = False
        self.votes[nxt] = -1
        if self.model is not None:
            self.model.update(nxt, proposers[going], offers[going], votes[going])
        for twin in self.observers:
            twin.observe(nxt, proposers[going], offers[going])

    def _disagree(self, slots: np.ndarray, reason: int) -> None:
        self.phase[slots] = ENDED
        self.end[slots] = reason
        self.rewards[slots] = self.no_deal

    def end_illegal(
        self, slots: np.ndarray, offenders: np.ndarray, penalty: float
    ) -> None:
        """End episodes after an illegal action (``penalize`` mode).

        Args:
            slots: The slots.
            offenders: The offending actor in each slot.
            penalty: The offender's reward (everyone else gets 0).
        """
        self.phase[slots] = ENDED
        self.end[slots] = ILLEGAL
        self.rewards[slots] = 0.0
        self.rewards[slots, offenders] = penalty

    def play_scripted(self, slots: np.ndarray) -> int:
        """Play the given (all scripted) slots to the end, in lockstep.

        Returns:
            Number of agent decisions taken (proposals plus votes).
        """
        live = np.asarray(slots, np.int64)
        decisions = 0
        while live.size:
            offers = self.scripted_proposals(live)
            voting = self.propose(live, offers)
            decisions += live.size
            if voting.size:
                votes = self.scripted_votes(voting)
                decisions += int(self.voters[voting].sum())
                self.resolve(voting, votes)
            live = live[self.phase[live] != ENDED]
        return decisions
