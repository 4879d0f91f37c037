"""The negotiation rules: a small, copyable state machine over a compiled scenario.

This module is the single source of truth for the rules. The AEC env, the
parallel env and any batch engine drive a :class:`Protocol`; none of them
re-implements a rule. Nothing here imports PettingZoo or Gymnasium.

Rules (pinned; a vectorised engine must reproduce them bit for bit):

* Rounds are numbered from 0. A round is a **proposal step** followed by a
  **vote step**.
* **Proposal.** The round's proposer picks any outcome ``k`` (action ``k``,
  ``0 <= k < n_outcomes``).
* **Voters** are exactly the actors with ``required[:, k]`` True, other than the
  proposer (a proposal counts as its proposer's acceptance). They vote
  simultaneously, ACCEPT or REJECT. If there are no voters, the proposal is
  agreed at once.
* **Agreement** when every voter accepts. In round ``r`` actor ``i`` then
  receives ``discount_powers[r, i] * utility[i, k]`` in float64, where
  ``discount_powers[r, i] = discount[i] ** r`` is tabulated once per protocol
  (:func:`discount_powers`) so every engine multiplies the same numbers.
* **After a round without agreement**, in this order: if ``r + 1 == max_rounds``
  the episode ends in disagreement (``"deadline"``); else if
  ``breakdown_prob > 0`` one draw ``rng.random() < breakdown_prob`` ends it in
  disagreement (``"breakdown"``); else round ``r + 1`` starts with the next
  proposer: ``order[(r + 1) % n_actors]`` (rotating) or one draw equal to
  ``rng.choice(n_actors, p=recognition)`` (random, Baron-Ferejohn).
* **Disagreement** pays every actor its no-deal value ``no_deal[i]`` (as float64).
* **First proposer** at reset: ``order[0]``, or one random draw as above.
* **Illegal actions** are the env's business (raise, or end the episode with
  :meth:`Protocol.end_illegal`: the offenders get ``illegal_penalty``, everyone
  else 0).

Every random draw uses the ``numpy.random.Generator`` passed in, in exactly the
order above; a rotating protocol with ``breakdown_prob == 0`` draws nothing.

Actions are integers: ``0 .. n_outcomes - 1`` propose outcome ``k``;
``n_outcomes`` is ACCEPT, ``n_outcomes + 1`` REJECT and ``n_outcomes + 2`` WAIT
(legal only in the parallel env, for an actor with nothing to do).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from peacegame.scenario.compiled import CompiledScenario

PROPOSE = "propose"
"""Phase in which the round's proposer names an outcome."""
VOTE = "vote"
"""Phase in which the voters accept or reject the offer on the table."""
DONE = "done"
"""Phase after the episode has ended."""
PHASES: tuple[str, str, str] = (PROPOSE, VOTE, DONE)
"""The phases, in the order of the observation's phase one-hot."""

NO_VOTE = -1
"""Entry of ``votes`` for an actor that has not voted (or does not vote)."""
REJECTED = 0
"""Entry of ``votes`` for a rejection."""
ACCEPTED = 1
"""Entry of ``votes`` for an acceptance."""

ROLE_PROPOSER = 0
"""Role of the round's proposer (in both steps of the round)."""
ROLE_VOTER = 1
"""Role of an actor whose consent the offer on the table requires."""
ROLE_IDLE = 2
"""Role of every other actor."""

EndReason = Literal["agreement", "deadline", "breakdown", "illegal"]


class IllegalActionError(ValueError):
    """An action that the rules do not allow in the current state.

    Attributes:
        actor: Id of the actor that acted.
        action: The action it took.
        phase: The phase it acted in.
    """

    def __init__(self, message: str, actor: str, action: object, phase: str) -> None:
        super().__init__(message)
        self.actor = actor
        self.action = action
        self.phase = phase


class ProtocolConfig(BaseModel):
    """Every knob of the negotiation protocol, with its default.

    Attributes:
        max_rounds: Rounds before the deadline; the episode ends in disagreement
            after round ``max_rounds - 1`` if no proposal was agreed.
        proposer: ``"rotating"`` follows ``order``; ``"random"`` draws each
            round's proposer from the scenario's recognition probabilities.
        order: The rotating order as actor ids (a permutation of the scenario's
            actors); ``None`` means the scenario's actor order. With
            ``proposer="random"`` it is still validated but unused.
        breakdown_prob: Probability that talks break down (disagreement) after
            each round without agreement, ``0 <= p < 1``.
        information: ``"private"``: an actor observes only its own utilities;
            ``"public"``: its observation also holds the offer's utility to
            every actor.
        illegal_action: ``"raise"`` raises ``ValueError``; ``"penalize"`` ends
            the episode, the offender gets ``illegal_penalty``, others 0.
        illegal_penalty: Reward of an offender under ``"penalize"``.
        history_length: How many past offers (as utilities to the observer) the
            observation holds, most recent first.
    """

    model_config = ConfigDict(extra="forbid")

    max_rounds: int = Field(default=20, ge=1, description="rounds before deadline")
    proposer: Literal["rotating", "random"] = Field(
        default="rotating", description="how each round's proposer is chosen"
    )
    order: list[str] | None = Field(
        default=None, description="rotating order; default: the scenario's actors"
    )
    breakdown_prob: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="per-round breakdown probability"
    )
    information: Literal["private", "public"] = Field(
        default="private", description="whose utilities an actor observes"
    )
    illegal_action: Literal["raise", "penalize"] = Field(
        default="raise", description="what an illegal action does"
    )
    illegal_penalty: float = Field(
        default=-1.0, description="reward of an offender under 'penalize'"
    )
    history_length: int = Field(
        default=3, ge=0, description="past offers kept in the observation"
    )

    @field_validator("order")
    @classmethod
    def _order_has_no_duplicates(cls, order: list[str] | None) -> list[str] | None:
        if order is not None and len(set(order)) != len(order):
            raise ValueError(f"order lists an actor twice: {order}")
        return order


@dataclass(slots=True)
class ProtocolState:
    """Everything that changes during an episode. Small and cheap to copy.

    Attributes:
        round: Current round, from 0.
        phase: ``"propose"``, ``"vote"`` or ``"done"``.
        proposer: Index of the round's proposer.
        offer: Outcome on the table, ``-1`` before the round's proposal.
        votes: ``int8[n_actors]``, this round's votes: ``-1`` none, ``0``
            reject, ``1`` accept. Hidden from observations until the round ends.
        voters: ``bool[n_actors]``, who votes on the offer on the table.
        pending: Voters that have not voted yet.
        rejections: Rejections cast so far this round.
        last_votes: ``int8[n_actors]``, the votes of the last completed round.
        history: ``int64[history_length]``, the offers of completed rounds, most
            recent first, ``-1`` where there was none.
        outcome: The agreed outcome, ``-1`` without agreement.
        agreement: Whether the episode ended in agreement.
        end_reason: ``"agreement"``, ``"deadline"``, ``"breakdown"``,
            ``"illegal"``, or ``None`` while running.
        rewards: ``float64[n_actors]``, zero until the episode ends, then the
            payoffs.
    """

    round: int
    phase: str
    proposer: int
    offer: int
    votes: np.ndarray
    voters: np.ndarray
    pending: int
    rejections: int
    last_votes: np.ndarray
    history: np.ndarray
    outcome: int
    agreement: bool
    end_reason: str | None
    rewards: np.ndarray

    @property
    def done(self) -> bool:
        """Whether the episode has ended."""
        return self.phase == DONE

    def copy(self) -> ProtocolState:
        """Return an independent copy (arrays copied)."""
        return ProtocolState(
            round=self.round,
            phase=self.phase,
            proposer=self.proposer,
            offer=self.offer,
            votes=self.votes.copy(),
            voters=self.voters.copy(),
            pending=self.pending,
            rejections=self.rejections,
            last_votes=self.last_votes.copy(),
            history=self.history.copy(),
            outcome=self.outcome,
            agreement=self.agreement,
            end_reason=self.end_reason,
            rewards=self.rewards.copy(),
        )


def discount_powers(discount: np.ndarray, max_rounds: int) -> np.ndarray:
    """Tabulate ``discount[i] ** r`` for every round, the payoff multipliers.

    Computed once, element by element with the C library's ``pow`` on Python
    floats, so that every engine multiplies by the same float64 numbers rather
    than by whatever its (possibly SIMD) power routine returns.

    Args:
        discount: ``float64[n_actors]``, per-round discount factors.
        max_rounds: Number of rounds.

    Returns:
        ``float64[max_rounds, n_actors]`` with row ``r`` equal to
        ``discount ** r``.
    """
    factors = [float(d) for d in discount]
    return np.array(
        [[d**r for d in factors] for r in range(max_rounds)], dtype=np.float64
    ).reshape(max_rounds, len(factors))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class Protocol:
    """The rules of one negotiation, bound to a compiled scenario and a config.

    A ``Protocol`` is immutable after construction and holds the precomputed
    tables; a :class:`ProtocolState` holds what changes. The methods that
    change a state mutate it in place (use :meth:`ProtocolState.copy` to keep a
    snapshot).

    Attributes:
        scenario: The compiled scenario.
        config: The protocol configuration.
        n_actors: Number of actors.
        n_outcomes: Number of feasible outcomes.
        n_actions: ``n_outcomes + 3``.
        accept_action: The ACCEPT action, ``n_outcomes``.
        reject_action: The REJECT action, ``n_outcomes + 1``.
        wait_action: The WAIT action, ``n_outcomes + 2``.
        order: The rotating order as actor indices.
        discount_powers: ``float64[max_rounds, n_actors]``, see
            :func:`discount_powers`.
        propose_mask: ``int8[n_actions]``, legal actions of a proposer.
        vote_mask: ``int8[n_actions]``, legal actions of a voter.
        wait_mask: ``int8[n_actions]``, legal actions of an idle actor in the
            parallel env.
        empty_mask: ``int8[n_actions]``, all zero (nothing to do).
    """

    def __init__(
        self, scenario: CompiledScenario, config: ProtocolConfig | None = None
    ) -> None:
        """Bind the rules to a scenario.

        Args:
            scenario: The compiled scenario.
            config: The protocol configuration; defaults to ``ProtocolConfig()``.

        Raises:
            ValueError: If ``config.order`` is not a permutation of the
                scenario's actors.
        """
        config = config if config is not None else ProtocolConfig()
        self.scenario = scenario
        self.config = config
        self.actors: tuple[str, ...] = tuple(scenario.actors)
        self.n_actors = scenario.n_actors
        self.n_outcomes = scenario.n_outcomes
        self.n_actions = self.n_outcomes + 3
        self.accept_action = self.n_outcomes
        self.reject_action = self.n_outcomes + 1
        self.wait_action = self.n_outcomes + 2
        self.max_rounds = config.max_rounds
        self.history_length = config.history_length
        self.breakdown_prob = float(config.breakdown_prob)
        self.random_proposer = config.proposer == "random"
        self.illegal_penalty = float(config.illegal_penalty)
        self.order: tuple[int, ...] = self._resolve_order(config.order)

        self.discount_powers = _read_only(
            discount_powers(np.asarray(scenario.discount, np.float64), self.max_rounds)
        )
        self._utility_by_outcome = _read_only(
            np.ascontiguousarray(scenario.utility.T, dtype=np.float64)
        )
        self._no_deal = _read_only(np.asarray(scenario.no_deal, dtype=np.float64))
        self._required_by_outcome = _read_only(
            np.ascontiguousarray(scenario.required.T, dtype=np.bool_)
        )
        # Each outcome's consent set as a bit set (bit i: actor i), so the
        # voters of (offer, proposer) are found with one dict lookup.
        bit_type = np.int64 if self.n_actors < 63 else object
        required_bits = np.zeros(self.n_outcomes, dtype=bit_type)
        for actor, row in enumerate(scenario.required):
            required_bits += row.astype(bit_type) << actor
        self._required_bits: list[int] = required_bits.tolist()
        self._all_but: tuple[int, ...] = tuple(~(1 << i) for i in range(self.n_actors))
        self._voters_of_bits: dict[int, tuple[int, ...]] = {}
        # numpy's Generator.choice(n, p=p) draws one rng.random() and returns
        # searchsorted(cumsum(p) / cumsum(p)[-1], u, side="right"): same here.
        cumulative = np.cumsum(np.asarray(scenario.recognition, np.float64))
        cumulative /= cumulative[-1]
        self._recognition_cdf: list[float] = cumulative.tolist()

        n_actions = self.n_actions
        propose = np.zeros(n_actions, np.int8)
        propose[: self.n_outcomes] = 1
        vote = np.zeros(n_actions, np.int8)
        vote[self.accept_action] = vote[self.reject_action] = 1
        wait = np.zeros(n_actions, np.int8)
        wait[self.wait_action] = 1
        self.propose_mask = _read_only(propose)
        self.vote_mask = _read_only(vote)
        self.wait_mask = _read_only(wait)
        self.empty_mask = _read_only(np.zeros(n_actions, np.int8))

    def _resolve_order(self, order: list[str] | None) -> tuple[int, ...]:
        if order is None:
            return tuple(range(self.n_actors))
        if sorted(order) != sorted(self.actors):
            raise ValueError(
                f"order must be a permutation of the scenario's actors "
                f"{list(self.actors)}, got {order}"
            )
        return tuple(self.actors.index(actor) for actor in order)

    # ------------------------------------------------------------------ draws
    def draw_proposer(self, rng: np.random.Generator) -> int:
        """Draw a proposer from the recognition probabilities.

        Consumes exactly one ``rng.random()`` and returns the same index as
        ``rng.choice(n_actors, p=recognition)``.

        Args:
            rng: The random generator.

        Returns:
            The proposer's actor index.
        """
        return min(bisect_right(self._recognition_cdf, rng.random()), self.n_actors - 1)

    def _proposer_of_round(self, round_index: int, rng: np.random.Generator) -> int:
        if self.random_proposer:
            return self.draw_proposer(rng)
        return self.order[round_index % self.n_actors]

    # ------------------------------------------------------------ transitions
    def reset(self, rng: np.random.Generator) -> ProtocolState:
        """Start an episode: round 0, proposal step.

        Args:
            rng: The random generator (used only with ``proposer="random"``).

        Returns:
            A fresh state.
        """
        n = self.n_actors
        return ProtocolState(
            round=0,
            phase=PROPOSE,
            proposer=self._proposer_of_round(0, rng),
            offer=-1,
            votes=np.full(n, NO_VOTE, np.int8),
            voters=np.zeros(n, np.bool_),
            pending=0,
            rejections=0,
            last_votes=np.full(n, NO_VOTE, np.int8),
            history=np.full(self.history_length, -1, np.int64),
            outcome=-1,
            agreement=False,
            end_reason=None,
            rewards=np.zeros(n, np.float64),
        )

    def propose(
        self, state: ProtocolState, outcome: int, rng: np.random.Generator
    ) -> None:
        """Put the proposer's offer on the table (no legality check).

        Opens the vote step, or ends the episode in agreement when the offer
        needs nobody's consent but the proposer's.

        Args:
            state: The state, in the proposal step; mutated.
            outcome: The proposed outcome index.
            rng: The random generator.
        """
        proposer = state.proposer
        voters = state.voters
        voters[:] = self._required_by_outcome[outcome]
        voters[proposer] = False
        state.offer = outcome
        state.pending = len(self._voters(outcome, proposer))
        state.rejections = 0
        if state.pending == 0:
            self._resolve(state, rng)
        else:
            state.phase = VOTE

    def vote(
        self,
        state: ProtocolState,
        voter: int,
        accept: bool,
        rng: np.random.Generator,
    ) -> None:
        """Record one voter's vote (no legality check).

        The last pending vote resolves the round.

        Args:
            state: The state, in the vote step; mutated.
            voter: The voter's actor index.
            accept: True to accept, False to reject.
            rng: The random generator.
        """
        if accept:
            state.votes[voter] = ACCEPTED
        else:
            state.votes[voter] = REJECTED
            state.rejections += 1
        state.pending -= 1
        if state.pending == 0:
            self._resolve(state, rng)

    def _resolve(self, state: ProtocolState, rng: np.random.Generator) -> None:
        round_index = state.round
        offer = state.offer
        state.last_votes[:] = state.votes
        history = state.history
        if history.size:
            history[1:] = history[:-1]
            history[0] = offer
        if state.rejections == 0:
            state.phase = DONE
            state.outcome = offer
            state.agreement = True
            state.end_reason = "agreement"
            state.rewards = (
                self.discount_powers[round_index] * self._utility_by_outcome[offer]
            )
            return
        if round_index + 1 == self.max_rounds:
            self._disagree(state, "deadline")
            return
        if self.breakdown_prob > 0.0 and rng.random() < self.breakdown_prob:
            self._disagree(state, "breakdown")
            return
        state.round = round_index + 1
        state.proposer = self._proposer_of_round(round_index + 1, rng)
        state.phase = PROPOSE
        state.offer = -1
        state.votes.fill(NO_VOTE)
        state.voters.fill(False)
        state.pending = 0
        state.rejections = 0

    def _disagree(self, state: ProtocolState, reason: EndReason) -> None:
        state.phase = DONE
        state.outcome = -1
        state.agreement = False
        state.end_reason = reason
        state.rewards = self._no_deal.copy()

    def end_illegal(self, state: ProtocolState, offenders: Sequence[int]) -> None:
        """End the episode after illegal actions (the ``penalize`` mode).

        Args:
            state: The state; mutated.
            offenders: Indices of the actors that acted illegally.
        """
        rewards = np.zeros(self.n_actors, np.float64)
        rewards[list(offenders)] = self.illegal_penalty
        state.phase = DONE
        state.outcome = -1
        state.agreement = False
        state.end_reason = "illegal"
        state.rewards = rewards

    def apply(
        self,
        state: ProtocolState,
        actor: int,
        action: int,
        rng: np.random.Generator,
        *,
        allow_wait: bool = False,
    ) -> None:
        """Check and apply one actor's action.

        Args:
            state: The state; mutated.
            actor: The acting actor's index.
            action: The action.
            rng: The random generator.
            allow_wait: Whether WAIT is legal for an idle actor (parallel env).

        Raises:
            IllegalActionError: If the action is not legal.
        """
        if not self.is_legal(state, actor, action, allow_wait=allow_wait):
            raise self.illegal_action_error(state, actor, action, allow_wait)
        if action < self.n_outcomes:
            self.propose(state, action, rng)
        elif action == self.accept_action:
            self.vote(state, actor, True, rng)
        elif action == self.reject_action:
            self.vote(state, actor, False, rng)

    # ---------------------------------------------------------------- queries
    def _voters(self, outcome: int, proposer: int) -> tuple[int, ...]:
        bits = self._required_bits[outcome] & self._all_but[proposer]
        voters = self._voters_of_bits.get(bits)
        if voters is None:
            voters = tuple(i for i in range(self.n_actors) if bits >> i & 1)
            self._voters_of_bits[bits] = voters
        return voters

    def voter_order(self, state: ProtocolState) -> tuple[int, ...]:
        """Return the voters of the offer on the table, in actor order."""
        if state.offer < 0:
            return ()
        return self._voters(state.offer, state.proposer)

    def role(self, state: ProtocolState, actor: int) -> int:
        """Return ``ROLE_PROPOSER``, ``ROLE_VOTER`` or ``ROLE_IDLE`` this round."""
        if actor == state.proposer:
            return ROLE_PROPOSER
        if state.voters[actor]:
            return ROLE_VOTER
        return ROLE_IDLE

    def is_legal(
        self,
        state: ProtocolState,
        actor: int,
        action: int,
        *,
        allow_wait: bool = False,
    ) -> bool:
        """Whether ``actor`` may take ``action`` now.

        Args:
            state: The state.
            actor: The actor's index.
            action: The action.
            allow_wait: Whether WAIT is legal for an idle actor (parallel env).

        Returns:
            True if the action is legal.
        """
        phase = state.phase
        if phase == PROPOSE:
            if actor == state.proposer:
                return 0 <= action < self.n_outcomes
        elif phase == VOTE:
            if state.voters[actor] and state.votes[actor] == NO_VOTE:
                return action == self.accept_action or action == self.reject_action
        else:
            return False
        return allow_wait and action == self.wait_action

    def legal_mask(
        self, state: ProtocolState, actor: int, *, allow_wait: bool = False
    ) -> np.ndarray:
        """Return the (shared, read-only) mask of ``actor``'s legal actions.

        Args:
            state: The state.
            actor: The actor's index.
            allow_wait: Whether WAIT is legal for an idle actor (parallel env).

        Returns:
            ``int8[n_actions]``, 1 where the action is legal.
        """
        phase = state.phase
        if phase == PROPOSE:
            if actor == state.proposer:
                return self.propose_mask
        elif phase == VOTE:
            if state.voters[actor] and state.votes[actor] == NO_VOTE:
                return self.vote_mask
        else:
            return self.empty_mask
        return self.wait_mask if allow_wait else self.empty_mask

    def describe_action(self, action: object) -> str:
        """Return a readable name for an action, for messages and transcripts."""
        try:
            value = int(action)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return repr(action)
        if 0 <= value < self.n_outcomes:
            return f"propose #{value} ({self.scenario.describe(value)})"
        names = {
            self.accept_action: "ACCEPT",
            self.reject_action: "REJECT",
            self.wait_action: "WAIT",
        }
        return names.get(value, f"{value} (out of range 0..{self.n_actions - 1})")

    def expected_actions(
        self, state: ProtocolState, actor: int, *, allow_wait: bool = False
    ) -> str:
        """Describe what ``actor`` may do now, for error messages."""
        mask = self.legal_mask(state, actor, allow_wait=allow_wait)
        if mask is self.propose_mask:
            return f"a proposal 0..{self.n_outcomes - 1}"
        if mask is self.vote_mask:
            return f"ACCEPT ({self.accept_action}) or REJECT ({self.reject_action})"
        if mask is self.wait_mask:
            return f"WAIT ({self.wait_action})"
        if state.phase == DONE:
            return "nothing: the episode has ended"
        return "nothing: it is not this actor's move"

    def illegal_action_error(
        self,
        state: ProtocolState,
        actor: int,
        action: object,
        allow_wait: bool = False,
    ) -> IllegalActionError:
        """Build the error for an illegal action (naming actor, action, phase)."""
        name = self.actors[actor]
        expected = self.expected_actions(state, actor, allow_wait=allow_wait)
        return IllegalActionError(
            f"illegal action by {name!r}: {self.describe_action(action)} in the "
            f"{state.phase!r} phase of round {state.round}; expected {expected}",
            actor=name,
            action=action,
            phase=state.phase,
        )

    def payoffs(self, state: ProtocolState) -> np.ndarray:
        """Return the payoffs (``float64[n_actors]``) of an ended episode."""
        if state.phase != DONE:
            raise ValueError("the episode has not ended")
        return state.rewards.copy()
