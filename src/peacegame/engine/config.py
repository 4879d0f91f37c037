"""The protocol's configuration and the codes every engine adapter shares.

Nothing here computes a rule: :mod:`peacegame.engine.rules` does. This module
holds the validated knobs (:class:`ProtocolConfig`), the phase, role, vote and
end codes stored in the engine's state arrays, and the error raised for an
illegal action.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PROPOSE = "propose"
"""Phase in which the round's proposer names an outcome."""
VOTE = "vote"
"""Phase in which the voters accept or reject the offer on the table."""
DONE = "done"
"""Phase after the episode has ended."""
PHASES: tuple[str, str, str] = (PROPOSE, VOTE, DONE)
"""The phases, indexed by their code (also the observation's phase one-hot)."""
PROPOSING, VOTING, ENDED = 0, 1, 2
"""Phase codes in the state arrays (indices into :data:`PHASES`)."""

NO_VOTE = -1
"""Entry of a votes array for an actor that has not voted (or does not vote)."""
REJECTED = 0
"""Entry of a votes array for a rejection."""
ACCEPTED = 1
"""Entry of a votes array for an acceptance."""

ROLE_PROPOSER, ROLE_VOTER, ROLE_IDLE = 0, 1, 2
"""An actor's role this round: the proposer, a voter, or neither."""

RUNNING, AGREEMENT, DEADLINE, BREAKDOWN, ILLEGAL = 0, 1, 2, 3, 4
"""End codes in the state arrays."""
END_REASONS: tuple[str | None, ...] = (
    None,
    "agreement",
    "deadline",
    "breakdown",
    "illegal",
)
"""End codes (indices) and their names, as logged in ``end``."""

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
        talk: ``"none"``: no statements; ``"public"``: a proposal or a vote may
            carry a short public message (:mod:`peacegame.engine.talk`), logged
            in the events; it never changes payoffs or legality, and
            observation vectors are the same either way.
        statement_max_chars: The longest statement; longer ones are cut.
        actions: The action interface of the envs' learners
            (:mod:`peacegame.engine.actions`): ``"outcome"`` (flat, one action
            per outcome), ``"utility"`` (a target-utility bin; size independent
            of the outcomes) or ``"issues"`` (one level per issue, sub-steps
            masked to stay feasible). Scripted policies are unaffected.
        utility_bins: ``K``, the target bins of the ``utility`` interface.
        utility_ties: How the ``utility`` interface breaks a tie between
            outcomes that rank equally at a target (:mod:`peacegame.engine.
            actions`): ``"first"`` (the default) proposes the lower index;
            ``"random"`` draws one of them uniformly in each round (the
            counter-based stream, purpose :data:`~peacegame.engine.randomness.
            DRAW_TIE`). Left out of config dumps at its default, so logs and
            manifests of configs that do not set it are unchanged.
        utility_snap: Compare the ``utility`` bins' targets with the outcomes'
            utilities at the utility table's float32 precision, so an outcome
            worth exactly a target (0.35, 0.65, 0.70 on a 5% grid) qualifies
            although its float32 utility rounds below the float64 target.
            Off by default (and left out of dumps when off) only because it
            changes which outcome some bins propose, and so the logs of
            matches with ``utility`` learners.
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
    talk: Literal["none", "public"] = Field(
        default="none", description="whether moves may carry public statements"
    )
    statement_max_chars: int = Field(
        default=280, ge=1, le=4000, description="longest statement (characters)"
    )

    actions: Literal["outcome", "utility", "issues"] = Field(
        default="outcome", description="action interface of the envs' learners"
    )
    utility_bins: int = Field(
        default=16, ge=1, le=4096, description="target bins of 'utility' actions"
    )
    utility_ties: Literal["first", "random"] = Field(
        default="first",
        description="tie-break between equally ranked 'utility' proposals",
        exclude_if=lambda value: value == "first",
    )
    utility_snap: bool = Field(
        default=False,
        description="compare 'utility' targets at the utilities' float32 precision",
        exclude_if=lambda value: not value,
    )

    @field_validator("order")
    @classmethod
    def _order_has_no_duplicates(cls, order: list[str] | None) -> list[str] | None:
        if order is not None and len(set(order)) != len(order):
            raise ValueError(f"order lists an actor twice: {order}")
        return order
