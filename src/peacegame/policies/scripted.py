"""Scripted negotiation strategies from the literature, as configurable policies.

Each class here names a strategy and validates its parameters; its moves are
the engine's (:mod:`peacegame.engine.strategies`, documented there), so a
scripted policy object in a PettingZoo env plays exactly as the batch engine
plays the same strategy. :meth:`ScriptedPolicy.strategy` returns the
:class:`~peacegame.engine.Strategy` the batch engine runs.

Sources:
    Faratin, Sierra & Jennings (1998), "Negotiation decision functions for
    autonomous agents", Robotics and Autonomous Systems 24(3-4): the
    time-dependent family; Boulware e < 1, Linear e = 1, Conceder e > 1.
    Axelrod (1984) and Baarslag, Hindriks & Jonker (2011), "The tit for tat
    strategy can be improved" (relative tit-for-tat in negotiation).
    Nash (1950), "The bargaining problem": the mediator's proposal.
    Baarslag et al. (2013), "Predicting the performance of opponent models":
    the frequency model used under private information.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from peacegame.engine.actor import ActorKernel
from peacegame.engine.strategies import Strategy
from peacegame.errors import ConfigError
from peacegame.policies.base import PolicyView


class Params(BaseModel):
    """Base of every strategy's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def _not_reset(slot: int, actor: int) -> int:
    """A scripted policy's move before its first ``reset``: an error."""
    raise RuntimeError("reset() before act()")


class ScriptedPolicy:
    """A scripted strategy: its parameters, and its moves from the engine."""

    name: ClassVar[str] = "scripted"
    Params: ClassVar[type[BaseModel]] = Params
    requires_public: ClassVar[bool] = False
    reads_observation: ClassVar[bool] = False
    """Its moves come from the engine's state (the view's record), so the
    match runner passes no observation (``policies.base``)."""
    uses_rng: ClassVar[bool] = False
    """Its random draws come from the engine's streams, so the runners pass no
    generator (``policies.base.reset_policy``)."""

    def __init__(self, **params: Any) -> None:
        self.params = self.Params(**params)
        self.view: PolicyView | None = None
        self.kernel: ActorKernel | None = None
        self._move: Callable[[int, int], int] = _not_reset
        """The kernel's move, bound to the view's state (set by :meth:`reset`)."""
        self._slot = 0
        self._actor = 0

    def label(self) -> str:
        """A short label for logs, such as ``boulware(e=0.2)``."""
        fields = self.params.model_dump(exclude_defaults=False)
        inner = ",".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in fields.items()
            if v is not None
        )
        return f"{self.name}({inner})" if inner else self.name

    def strategy(self) -> Strategy:
        """The engine strategy this policy plays."""
        raise NotImplementedError

    def reset(
        self, agent: str, view: PolicyView, rng: np.random.Generator | None
    ) -> None:
        """Prepare for a new episode; ``rng`` is not drawn from (may be None).

        The strategy's random draws come from the engine's counter-based
        streams, keyed by the episode seed.
        """
        if self.requires_public and view.public is None:
            raise ConfigError(
                f"{self.name} needs protocol.information: public",
                field=f"policies.{view.agent}",
            )
        if view is not self.view or self.kernel is None:
            self.view = view
            self.kernel = ActorKernel(
                self.strategy(),
                actor=view.index,
                level_counts=[issue.n_levels for issue in view.issues],
                levels=view.levels,
                required=view.required,
                rules=view.consent,
                utility=view.utility,
                order=view.order,
                no_deal=view.no_deal,
                max_rounds=view.max_rounds,
                public=view.public,
            )
        self.kernel.reset()
        record = view.record
        self._move = self.kernel.bound_move(record.state)
        self._slot = record.slot
        self._actor = self.kernel.actor

    def act(
        self, observation: dict[str, np.ndarray] | None, info: dict[str, Any]
    ) -> int:
        """Propose, vote or wait: the engine's move for this strategy.

        ``observation`` is not read (it may be None): the move comes from the
        view's record of the game.
        """
        return self._move(self._slot, self._actor)


class RandomParams(Params):
    """Parameters of :class:`RandomPolicy` (none)."""


class RandomPolicy(ScriptedPolicy):
    """Uniformly random proposals and fair-coin votes, from the episode seed."""

    name = "random"
    Params = RandomParams

    def strategy(self) -> Strategy:
        """The engine's ``random`` strategy."""
        return Strategy("random")


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

    def strategy(self) -> Strategy:
        """The engine's ``time_dependent`` strategy with this exponent."""
        return Strategy("time_dependent", e=float(self.params.e))  # type: ignore[attr-defined]


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

    def strategy(self) -> Strategy:
        """The engine's ``hardliner`` strategy."""
        p = self.params
        return Strategy(
            "hardliner",
            level=float(p.level),  # type: ignore[attr-defined]
            threshold=p.threshold,  # type: ignore[attr-defined]
        )


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

    def strategy(self) -> Strategy:
        """The engine's ``tit_for_tat`` strategy."""
        return Strategy("tit_for_tat", niceness=float(self.params.niceness))  # type: ignore[attr-defined]


class NashMediatorParams(Params):
    """Parameters of :class:`NashMediator` (none)."""


class NashMediator(ScriptedPolicy):
    """Proposes the weighted Nash bargaining point; accepts anything as good.

    Needs ``information: public`` (it computes the Nash point from everyone's
    utilities). Without a bargaining set it proposes its own best outcome and
    accepts offers at or above its no-deal value.
    """

    name = "nash_mediator"
    Params = NashMediatorParams
    requires_public = True

    def strategy(self) -> Strategy:
        """The engine's ``nash_mediator`` strategy."""
        return Strategy("nash_mediator")
