"""Scripted negotiation strategies from the literature, on pre-sorted arrays.

Every strategy but ``random`` follows one pattern:

* an **aspiration** a(t) in its own utility, as a function of the round t;
* as **proposer**, among its outcomes with utility >= a(t) (a prefix of its
  best-first ``order``), it offers the one *most likely to be accepted* by the
  actors whose consent that outcome requires: the outcome that maximises the
  smallest estimated acceptability among those actors, ties going to the
  outcome closest to its aspiration (its lowest own utility at or above a(t));
* as **voter**, it accepts an offer whose utility is >= a(t).

Acceptability of outcome o to actor j:

* ``public`` information: ``U_j(o) - d_j``, j's surplus over its no-deal value;
* ``private`` information: a frequency opponent model (as in HardHeaded, ANAC
  2011; Baarslag et al. 2013, "Predicting the performance of opponent
  models"): the levels j proposed count 1, the levels of offers j accepted
  count 1/2; the estimate is the mean over issues of each level's count
  divided by the issue's largest count (0.5 everywhere before any evidence).

All per-step work is numpy over the candidate outcomes; there is no Python
loop over outcomes.

Sources:
    Faratin, Sierra & Jennings (1998), "Negotiation decision functions for
    autonomous agents", Robotics and Autonomous Systems 24(3-4): the
    time-dependent family; Boulware e < 1, Linear e = 1, Conceder e > 1.
    Axelrod (1984) and Baarslag, Hindriks & Jonker (2011), "The tit for tat
    strategy can be improved" (relative tit-for-tat in negotiation).
    Nash (1950), "The bargaining problem": the mediator's proposal.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from peacegame.errors import ConfigError
from peacegame.policies.base import PolicyView
from peacegame.scenario.compiled import CompiledScenario
from peacegame.solutions import nash_point


class Params(BaseModel):
    """Base of every strategy's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ScriptedPolicy:
    """Shared plumbing: reading the mask, proposing, voting, opponent models."""

    name: ClassVar[str] = "scripted"
    Params: ClassVar[type[BaseModel]] = Params

    def __init__(self, **params: Any) -> None:
        self.params = self.Params(**params)
        self.view: PolicyView | None = None
        self.rng: np.random.Generator | None = None

    # ------------------------------------------------------------- interface
    def label(self) -> str:
        """A short label for logs, such as ``boulware(e=0.2)``."""
        fields = self.params.model_dump(exclude_defaults=False)
        inner = ",".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in fields.items()
            if v is not None
        )
        return f"{self.name}({inner})" if inner else self.name

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Prepare for a new episode."""
        self.rng = rng
        if view is not self.view:
            self._bind(view)
        self.seen_rounds = 0
        self.counts.fill(0.0)
        self.private_score = None
        self.on_reset()

    def _bind(self, view: PolicyView) -> None:
        """Precompute what depends only on the view (kept across episodes)."""
        self.view = view
        self.accept_action = view.accept_action
        self.reject_action = view.reject_action
        self.wait_action = view.wait_action
        self.sorted_utility = view.utility[view.order].astype(np.float64)
        self.u_max = float(self.sorted_utility[0])
        n_issues = view.levels.shape[1]
        width = max(issue.n_levels for issue in view.issues)
        # counts[j, i, level]: evidence of what actor j likes (private model).
        self.counts = np.zeros((len(view.actors), n_issues, width))
        self.issue_index = np.arange(n_issues)
        others = view.required.copy()
        others[view.index] = False
        self.others_required = others
        # One-hot design matrix (outcome x issue level), so that the frequency
        # model's estimate of every outcome is one matrix product; skipped for
        # very large scenarios, which gather over the candidates instead.
        offsets = np.concatenate([[0], np.cumsum([i.n_levels for i in view.issues])])
        self.level_offsets = offsets[:-1]
        self.design: np.ndarray | None = None
        if view.n_outcomes * offsets[-1] <= 4_000_000:
            design = np.zeros((view.n_outcomes, int(offsets[-1])), np.float64)
            rows = np.repeat(np.arange(view.n_outcomes), n_issues)
            design[rows, (view.levels + self.level_offsets).ravel()] = 1.0 / n_issues
            self.design = design
        self.private_score: np.ndarray | None = None
        self.public_score: np.ndarray | None = None
        if view.public is not None:
            # Under public information the acceptability of every outcome is
            # fixed: the smallest surplus over d among the other required actors.
            surplus = (
                view.public.utility.astype(np.float64)
                - view.public.no_deal.astype(np.float64)[:, None]
            )
            self.public_score = np.where(others, surplus, np.inf).min(axis=0)

    def on_reset(self) -> None:
        """Hook for subclasses: per-episode setup after :meth:`reset`."""

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Propose, vote or wait, according to the legal-action mask."""
        view = self.view
        assert view is not None, "reset() must be called before act()"
        mask = observation["action_mask"]
        if view.record.rounds_done != self.seen_rounds:
            self.update_from_record()
        round_index = int(info["round"])
        if mask[self.accept_action]:
            offer = int(info["offer"])
            accept = self.accepts(offer, round_index)
            return self.accept_action if accept else self.reject_action
        if mask[0]:
            return self.propose(round_index)
        return self.wait_action

    # --------------------------------------------------------------- policy
    def aspiration(self, round_index: int) -> float:
        """The utility this strategy asks for in ``round_index``."""
        raise NotImplementedError

    def accepts(self, offer: int, round_index: int) -> bool:
        """Whether to accept ``offer`` in ``round_index``."""
        assert self.view is not None
        return float(self.view.utility[offer]) >= self.aspiration(round_index)

    def propose(self, round_index: int) -> int:
        """The most acceptable outcome at or above the current aspiration."""
        return self.most_acceptable(self.aspiration(round_index))

    def most_acceptable(self, threshold: float) -> int:
        """Among own outcomes >= threshold, the one others most likely accept."""
        view = self.view
        assert view is not None
        count = int(np.searchsorted(-self.sorted_utility, -threshold, side="right"))
        # Lowest own utility first, so that ties in acceptability go to the
        # outcome closest to the aspiration (Faratin's offer at the target).
        candidates = view.order[: max(count, 1)][::-1]
        if candidates.size == 1:
            return int(candidates[0])
        score = self.acceptability(candidates)
        return int(candidates[int(np.argmax(score))])

    def acceptability(self, candidates: np.ndarray) -> np.ndarray:
        """Smallest estimated acceptability over each candidate's other voters."""
        if self.public_score is not None:
            return self.public_score[candidates]
        if self.design is not None:
            if self.private_score is None:  # refreshed after new evidence
                estimate = self.estimated_utility(None)
                self.private_score = np.where(
                    self.others_required, estimate, np.inf
                ).min(axis=0)
            return self.private_score[candidates]
        estimate = self.estimated_utility(candidates)
        need = self.others_required[:, candidates]
        return np.where(need, estimate, np.inf).min(axis=0)

    def estimated_utility(self, candidates: np.ndarray | None) -> np.ndarray:
        """Frequency-model estimate of every actor's utility of some outcomes.

        Args:
            candidates: Outcome indices, or None for every outcome.

        Returns:
            ``[n_actors, len(candidates)]`` estimates in [0, 1].
        """
        view = self.view
        assert view is not None
        peak = self.counts.max(axis=2, keepdims=True)
        tables = np.where(peak > 0, self.counts / np.where(peak > 0, peak, 1), 0.5)
        if self.design is not None:
            flat = np.concatenate(
                [tables[:, i, : issue.n_levels] for i, issue in enumerate(view.issues)],
                axis=1,
            )  # [n_actors, total_levels]
            everything = (self.design @ flat.T).T
            return everything if candidates is None else everything[:, candidates]
        if candidates is None:
            candidates = np.arange(view.n_outcomes)
        levels = view.levels[candidates]  # [k, n_issues]
        gathered = tables[:, self.issue_index[None, :], levels]  # [n_actors, k, n_i]
        return gathered.mean(axis=2)

    def update_from_record(self) -> None:
        """Fold rounds completed since the last call into the opponent model."""
        view = self.view
        assert view is not None
        record = view.record
        done = record.rounds_done
        if done == self.seen_rounds:
            return
        model = self.public_score is None  # the frequency model is for private
        for r in range(self.seen_rounds, done):
            offer = int(record.offers[r])
            if offer < 0:
                continue
            proposer = int(record.proposers[r])
            if model:
                levels = view.levels[offer]
                self.counts[proposer, self.issue_index, levels] += 1.0
                for j in np.flatnonzero(record.votes[r] == 1):
                    self.counts[j, self.issue_index, levels] += 0.5
            self.observe_round(r, proposer, offer)
        self.seen_rounds = done
        self.private_score = None

    def observe_round(self, round_index: int, proposer: int, offer: int) -> None:
        """Hook for subclasses: one completed round of the public record."""


class RandomParams(Params):
    """Parameters of :class:`RandomPolicy` (none)."""


class RandomPolicy(ScriptedPolicy):
    """Uniformly random legal actions, from the policy's own seeded generator."""

    name = "random"
    Params = RandomParams

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Pick a legal action uniformly at random."""
        assert self.rng is not None and self.view is not None
        mask = observation["action_mask"]
        if mask[self.accept_action]:
            return self.accept_action + int(self.rng.integers(2))
        if mask[0]:
            return int(self.rng.integers(self.accept_action))
        return self.wait_action


class TimeDependentParams(Params):
    """Parameters of the time-dependent family.

    Attributes:
        e: Concession exponent: e < 1 Boulware (concedes late), e = 1 linear,
            e > 1 Conceder (concedes early).
    """

    e: float = Field(default=1.0, gt=0, description="concession exponent")


class TimeDependent(ScriptedPolicy):
    """Faratin et al. (1998): a(t) = u_max - (u_max - d) * (t / T) ** (1 / e).

    t is the round (0-based) and T = max_rounds - 1, so the aspiration falls
    from the best own outcome in round 0 to the no-deal value in the last round.
    """

    name = "time_dependent"
    Params = TimeDependentParams

    def aspiration(self, round_index: int) -> float:
        """Faratin's time-dependent aspiration."""
        assert self.view is not None
        horizon = max(self.view.max_rounds - 1, 1)
        t = min(round_index / horizon, 1.0)
        e = float(self.params.e)  # type: ignore[attr-defined]
        d = self.view.no_deal
        return self.u_max - (self.u_max - d) * t ** (1.0 / e)


class BoulwareParams(TimeDependentParams):
    """Parameters of :class:`Boulware` (e defaults to 0.2)."""

    e: float = Field(default=0.2, gt=0, description="concession exponent")


class Boulware(TimeDependent):
    """Time-dependent with e = 0.2 by default: holds out, concedes late."""

    name = "boulware"
    Params = BoulwareParams


class Linear(TimeDependent):
    """Time-dependent with e = 1: concedes at a constant rate."""

    name = "linear"


class ConcederParams(TimeDependentParams):
    """Parameters of :class:`Conceder` (e defaults to 2)."""

    e: float = Field(default=2.0, gt=0, description="concession exponent")


class Conceder(TimeDependent):
    """Time-dependent with e = 2 by default: concedes early."""

    name = "conceder"
    Params = ConcederParams


class HardlinerParams(Params):
    """Parameters of :class:`Hardliner`.

    Attributes:
        level: The threshold as a fraction of the way from the no-deal value
            (0) to the best own outcome (1).
        threshold: An absolute utility threshold; overrides ``level``.
    """

    level: float = Field(default=0.8, ge=0, le=1)
    threshold: float | None = Field(default=None, ge=0, le=1)


class Hardliner(ScriptedPolicy):
    """Never concedes below a fixed threshold: a constant aspiration."""

    name = "hardliner"
    Params = HardlinerParams

    def aspiration(self, round_index: int) -> float:
        """The fixed threshold."""
        assert self.view is not None
        p = self.params
        if p.threshold is not None:  # type: ignore[attr-defined]
            return float(p.threshold)  # type: ignore[attr-defined]
        d = self.view.no_deal
        return d + float(p.level) * (self.u_max - d)  # type: ignore[attr-defined]


class TitForTatParams(Params):
    """Parameters of :class:`TitForTat`.

    Attributes:
        niceness: Extra concession per round, in own utility (0: pure
            reciprocity).
    """

    niceness: float = Field(default=0.0, ge=0, le=1)


class TitForTat(ScriptedPolicy):
    """Relative tit-for-tat: concede, in own utility, what the others conceded.

    The concession received is how much the best offer the others have made so
    far improves on the first offer they made, both measured in this actor's
    utility. a(t) = max(d, u_max - received - niceness * t).
    """

    name = "tit_for_tat"
    Params = TitForTatParams

    def on_reset(self) -> None:
        """Forget the last episode's offers."""
        self.first_received: float | None = None
        self.best_received = 0.0

    def observe_round(self, round_index: int, proposer: int, offer: int) -> None:
        """Track the offers the others made, in own utility."""
        assert self.view is not None
        if proposer == self.view.index:
            return
        value = float(self.view.utility[offer])
        if self.first_received is None:
            self.first_received = value
            self.best_received = value
        else:
            self.best_received = max(self.best_received, value)

    def aspiration(self, round_index: int) -> float:
        """Mirror the concessions received."""
        assert self.view is not None
        received = 0.0
        if self.first_received is not None:
            received = max(self.best_received - self.first_received, 0.0)
        nice = float(self.params.niceness) * round_index  # type: ignore[attr-defined]
        return max(self.view.no_deal, self.u_max - received - nice)


class NashMediatorParams(Params):
    """Parameters of :class:`NashMediator` (none)."""


@lru_cache(maxsize=16)
def _cached_nash(scenario: CompiledScenario) -> int | None:
    return nash_point(scenario)


class NashMediator(ScriptedPolicy):
    """Proposes the weighted Nash bargaining point; accepts anything as good.

    Needs ``information: public`` (it computes the Nash point from everyone's
    utilities). Without a bargaining set it proposes its own best outcome and
    accepts offers at or above its no-deal value.
    """

    name = "nash_mediator"
    Params = NashMediatorParams
    requires_public = True

    def on_reset(self) -> None:
        """Compute (once per scenario) the Nash point."""
        assert self.view is not None
        if self.view.public is None:
            raise ConfigError(
                "nash_mediator needs protocol.information: public",
                field=f"policies.{self.view.agent}",
            )
        self.nash = _cached_nash(self.view.public)

    def aspiration(self, round_index: int) -> float:
        """Own utility of the Nash point (or the no-deal value without one)."""
        assert self.view is not None
        if self.nash is None:
            return self.view.no_deal
        return float(self.view.utility[self.nash])

    def propose(self, round_index: int) -> int:
        """The Nash point (or the own best outcome without one)."""
        assert self.view is not None
        return int(self.nash) if self.nash is not None else int(self.view.order[0])
