"""One scripted actor's kernel tables, for a policy object in the env path.

A scripted policy playing in a PettingZoo env moves with the same compiled
functions as the batch engine (:func:`peacegame.engine.play.policy_move`),
reading the env's state arrays through its view's public record. It is built
only from what the actor may know: the public structure of the game, its own
utilities and no-deal value, and everyone's utilities under public information.
"""

from __future__ import annotations

import numpy as np

from peacegame.engine.play import policy_move
from peacegame.engine.rules import F_NO_DEAL
from peacegame.engine.strategies import EXTERNAL, P_COUNTS, Strategy, plan_rows
from peacegame.engine.strategies import public_picks as _public_picks
from peacegame.engine.tables import game_ints, nash_of
from peacegame.scenario.compiled import CompiledScenario


class ActorKernel:
    """The tables and memory of one scripted actor.

    Args:
        strategy: The actor's strategy.
        actor: The actor's index.
        level_counts: Levels per issue (public).
        levels: ``[n_outcomes, n_issues]`` level indices (public).
        required: ``bool[n_actors, n_outcomes]`` (public).
        utility: The actor's ``float32[n_outcomes]`` utilities.
        order: The actor's outcomes, best first.
        no_deal: The actor's no-deal value.
        max_rounds: The deadline.
        public: The whole compiled scenario under public information, else None.
    """

    def __init__(
        self,
        strategy: Strategy,
        *,
        actor: int,
        level_counts: list[int],
        levels: np.ndarray,
        required: np.ndarray,
        utility: np.ndarray,
        order: np.ndarray,
        no_deal: float,
        max_rounds: int,
        public: CompiledScenario | None,
    ) -> None:
        n, n_outcomes = required.shape
        bounds = np.concatenate([[0], np.cumsum(level_counts)]).astype(np.int64)
        self.actor = actor
        self.ints = game_ints(
            n, n_outcomes, max_rounds, False, 0, public is not None, bounds, range(n)
        )
        self.floats = np.zeros(2 + 3 * n, np.float64)
        self.required = np.ascontiguousarray(required.T, dtype=np.uint8)
        self.level_columns = np.ascontiguousarray(levels.astype(np.int64) + bounds[:-1])
        own = np.asarray(utility, np.float64)
        if public is not None:
            self.utility = np.asarray(public.utility, np.float64)
            self.floats[F_NO_DEAL : F_NO_DEAL + n] = np.asarray(
                public.no_deal, np.float64
            )
        else:
            self.utility = np.zeros((n, n_outcomes), np.float64)
            self.utility[actor] = own
            self.floats[F_NO_DEAL + actor] = float(no_deal)
        self.order = np.zeros((n, n_outcomes), np.int64)
        self.order[actor] = order
        self.sorted_utility = np.zeros((n, n_outcomes), np.float64)
        self.sorted_utility[actor] = own[order]
        nash = None
        if strategy.kind == "nash_mediator" and public is not None:
            nash = nash_of(public)
        row_i, row_f = plan_rows(
            strategy,
            self.sorted_utility[actor],
            float(no_deal),
            max_rounds,
            nash,
            int(order[0]),
            own,
        )
        self.plan_i = np.zeros((n, P_COUNTS + max_rounds), np.int64)
        self.plan_i[:, 0] = EXTERNAL
        self.plan_i[actor] = row_i
        self.plan_f = np.zeros((n, 2, max_rounds), np.float64)
        self.plan_f[actor] = row_f
        self.public_pick = np.zeros((n, 1), np.int64)
        if public is not None:
            self.public_pick = np.zeros((n, n_outcomes + 1), np.int64)
            self.public_pick[actor] = _public_picks(
                self.order[actor],
                self.required,
                self.utility,
                self.floats[F_NO_DEAL : F_NO_DEAL + n],
                actor,
            )
        self.use_model = public is None and strategy.uses_model
        self.memory = np.full((n, 2), np.nan, np.float64)
        self.counts = np.zeros((n, int(bounds[-1]) if self.use_model else 1), np.int64)
        self.seen = np.zeros(1, np.int64)
        self.game = (
            self.ints,
            self.floats,
            self.required,
            self.utility,
            np.zeros((max_rounds, n), np.float64),  # payoffs: never read here
            self.level_columns,
        )
        self.plan = (
            self.plan_i,
            self.plan_f,
            self.order,
            self.sorted_utility,
            self.public_pick,
            self.use_model,
        )

    def reset(self) -> None:
        """Forget the last episode."""
        self.memory.fill(np.nan)
        self.counts.fill(0)
        self.seen[0] = 0

    def move(self, state: np.ndarray, slot: int) -> int:
        """The actor's action in ``slot`` of the engine state ``state``."""
        return int(
            policy_move(
                self.game,
                self.plan,
                self.memory,
                self.counts,
                self.seen,
                state,
                slot,
                self.actor,
            )
        )
