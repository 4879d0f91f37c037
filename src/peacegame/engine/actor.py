"""One scripted actor's kernel tables, for a policy object in the env path.

A scripted policy playing in a PettingZoo env moves with the same compiled
functions as the batch engine (:func:`peacegame.engine.play.policy_move`),
reading the env's state arrays through its view's public record. It is built
only from what the actor may know: the public structure of the game, its own
utilities and no-deal value, and everyone's utilities under public information.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from peacegame.engine.entry import bind
from peacegame.engine.play import policy_move
from peacegame.engine.rules import F_NO_DEAL
from peacegame.engine.strategies import Strategy
from peacegame.engine.tables import (
    build_plan,
    consent_table,
    game_ints,
    game_tuple,
    level_layout,
    nash_of,
)
from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.consent import ConsentTables


class ActorKernel:
    """The tables and memory of one scripted actor.

    Args:
        strategy: The actor's strategy.
        actor: The actor's index.
        level_counts: Levels per issue (public).
        levels: ``[n_outcomes, n_issues]`` level indices (public).
        required: ``bool[n_actors, n_outcomes]``, who votes (public).
        rules: The voting rules (public).
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
        rules: ConsentTables,
        utility: np.ndarray,
        order: np.ndarray,
        no_deal: float,
        max_rounds: int,
        public: CompiledScenario | None,
    ) -> None:
        n, n_outcomes = required.shape
        bounds, level_columns = level_layout(level_counts, levels)
        self.actor = actor
        floats = np.zeros(2 + 3 * n, np.float64)
        consent = consent_table(required)
        if public is not None:
            utility_all = np.asarray(public.utility, np.float64)
            no_deal_all = np.asarray(public.no_deal, np.float64)
        else:  # only this actor's own numbers
            utility_all = np.zeros((n, n_outcomes), np.float64)
            utility_all[actor] = np.asarray(utility, np.float64)
            no_deal_all = np.zeros(n, np.float64)
            no_deal_all[actor] = float(no_deal)
        floats[F_NO_DEAL : F_NO_DEAL + n] = no_deal_all
        orders = np.zeros((n, n_outcomes), np.int64)
        orders[actor] = order
        strategies: list[Strategy | None] = [None] * n
        strategies[actor] = strategy
        nash = None
        if strategy.kind == "nash_mediator" and public is not None:
            nash = nash_of(public)
        plan = build_plan(
            strategies,
            order=orders,
            utility=utility_all,
            no_deal=no_deal_all,
            required=consent,
            rules=rules,
            max_rounds=max_rounds,
            public=public is not None,
            nash=nash,
            level_columns=level_columns,
            n_levels=int(bounds[-1]),
        )
        ints = game_ints(
            n,
            n_outcomes,
            max_rounds,
            False,
            0,
            public is not None,
            bounds,
            range(n),
            rules.unanimous,
        )
        payoffs = np.zeros((max_rounds, n), np.float64)  # never read by a move
        self.game = game_tuple(
            ints, floats, consent, utility_all, payoffs, level_columns, rules
        )
        self.strategy_plan = plan
        self.plan = plan.tables
        self.memory = np.full((n, 2), np.nan, np.float64)
        self.counts = np.zeros((n, int(bounds[-1]) if plan.use_model else 1), np.int64)
        self.seen = np.zeros(1, np.int64)
        self._state: np.ndarray | None = None
        """The state array :attr:`_move` is bound to."""
        self._move: Callable[[int, int], int] | None = None

    def reset(self) -> None:
        """Forget the last episode."""
        self.memory.fill(np.nan)
        self.counts.fill(0)
        self.seen[0] = 0

    def bound_move(self, state: np.ndarray) -> Callable[[int, int], int]:
        """``policy_move`` bound to this actor's tables and ``state`` (engine.entry).

        The result takes ``(slot, actor)``; it is built once per state array.
        """
        if state is not self._state or self._move is None:
            self._move = bind(
                policy_move,
                (self.game, self.plan, self.memory, self.counts, self.seen, state),
                (0, 0),
            )
            self._state = state
        return self._move
