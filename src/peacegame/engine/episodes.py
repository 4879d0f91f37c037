"""B episode slots of one game: the arrays the kernel works on, and its calls.

:class:`Episodes` owns the state of ``size`` slots (rules state, rewards, the
scripted strategies' memory and the opponent model's counts) and calls the
compiled functions of :mod:`peacegame.engine.rules`,
:mod:`peacegame.engine.play` and :mod:`peacegame.engine.observe` on it. The
PettingZoo envs use one slot with every actor external; the batch runner,
tournaments and the vector env use thousands.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from peacegame.engine.config import ENDED
from peacegame.engine.observe import encode
from peacegame.engine.play import play_episodes, scripted_turns, start_episodes
from peacegame.engine.rules import C_PHASE, apply_action, empty_state, end_illegal
from peacegame.engine.strategies import Strategy
from peacegame.engine.tables import Plan, Rules


class Episodes:
    """``size`` episode slots under one set of rules and strategies.

    Args:
        rules: The game's tables.
        strategies: Per actor, a scripted :class:`Strategy` or None for an
            actor driven from outside.
        size: Number of slots.

    Attributes:
        state: ``int64[size, width]``, the rules' state (``rules.C_*``).
        rewards: ``float64[size, n_actors]``, zero until an episode ends.
        memory: ``float64[size, n_actors, 2]``, tit-for-tat's memory.
        counts: ``int64[size, n_actors, n_levels]``, the opponent model.
        seen: ``int64[size]``, rounds folded into memory and counts.
    """

    def __init__(
        self, rules: Rules, strategies: Sequence[Strategy | None], size: int
    ) -> None:
        self.rules = rules
        self.plan: Plan = rules.plan(strategies)
        self.size = size
        n = rules.n_actors
        self.state = empty_state(size, n, rules.max_rounds)
        self.rewards = np.zeros((size, n), np.float64)
        self.memory = np.full((size, n, 2), np.nan, np.float64)
        levels = rules.n_levels if self.plan.use_model else 1
        self.counts = np.zeros((size, n, levels), np.int64)
        self.seen = np.zeros(size, np.int64)

    def rows(
        self, start: int, stop: int, strategies: Sequence[Strategy | None]
    ) -> Episodes:
        """Slots ``start .. stop - 1`` of these arrays under other strategies.

        The returned slots' ``state``, ``rewards``, ``memory`` and ``seen`` are
        views of this object's rows, so one big array holds several groups of
        slots, each with its own scripted actors (the multi-agent trainer's
        opponent assignments). ``counts`` is a view too when both plans need
        the same width (the opponent model's, or none), else its own array.
        """
        part = Episodes.__new__(Episodes)
        part.rules = self.rules
        part.plan = self.rules.plan(strategies)
        part.size = stop - start
        part.state = self.state[start:stop]
        part.rewards = self.rewards[start:stop]
        part.memory = self.memory[start:stop]
        levels = self.rules.n_levels if part.plan.use_model else 1
        if self.counts.shape[2] == levels:
            part.counts = self.counts[start:stop]
        else:
            part.counts = np.zeros((part.size, self.rules.n_actors, levels), np.int64)
        part.seen = self.seen[start:stop]
        return part

    @property
    def external(self) -> tuple[bool, ...]:
        """Per actor, whether its moves come from outside."""
        return self.plan.external

    def arrays(self) -> tuple[object, ...]:
        """The leading arguments of the kernel's slot-playing functions.

        Returns:
            ``game, plan, state, rewards, memory, counts, seen``.
        """
        return (
            self.rules.game,
            self.plan.tables,
            self.state,
            self.rewards,
            self.memory,
            self.counts,
            self.seen,
        )

    def start(self, slots: np.ndarray, keys: np.ndarray) -> None:
        """Start the episodes keyed ``keys`` (their seeds) in ``slots``."""
        start_episodes(
            self.rules.game,
            self.state,
            self.rewards,
            self.memory,
            self.counts,
            self.seen,
            np.asarray(slots, np.int64),
            np.asarray(keys, np.int64),
        )

    def play(self, keys: np.ndarray) -> int:
        """Play one all-scripted episode per key in slots ``0 .. len(keys) - 1``.

        Returns:
            The number of decisions taken.
        """
        keys = np.asarray(keys, np.int64)
        if keys.size > self.size:
            raise ValueError(f"{keys.size} episodes do not fit in {self.size} slots")
        if any(self.plan.external):
            raise ValueError("play() needs every actor scripted")
        return int(play_episodes(*self.arrays(), keys))

    def advance(self, slot: int) -> int:
        """Play ``slot``'s scripted moves until it ends or an external must move.

        Returns:
            The number of decisions taken.
        """
        return int(scripted_turns(*self.arrays(), slot))

    def apply(self, slot: int, actor: int, action: int) -> bool:
        """Apply one (external) actor's action; False if it is illegal."""
        game = self.rules.game
        return bool(apply_action(game, self.state, self.rewards, slot, actor, action))

    def end_illegal(self, slot: int, offenders: Sequence[int]) -> None:
        """End ``slot`` after illegal actions: offenders get the penalty."""
        flags = np.zeros(self.rules.n_actors, np.uint8)
        flags[list(offenders)] = 1
        end_illegal(self.rules.game, self.state, self.rewards, slot, flags)

    def encode(self, slot: int, out: np.ndarray) -> None:
        """Write every actor's observation of ``slot`` into ``out``."""
        encode(self.rules.game, self.state, slot, out)

    def ended(self, slot: int) -> bool:
        """Whether the episode in ``slot`` has ended."""
        return bool(self.state[slot, C_PHASE] == ENDED)
