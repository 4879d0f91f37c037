"""A game's tables: a compiled scenario and a protocol as the kernel's arrays.

:class:`Rules` is built once per (scenario, protocol). It holds the arrays the
compiled rules read (see :mod:`peacegame.engine.rules`), the observation
layout, the shared action masks and the readable names of actions for
messages. :meth:`Rules.plan` turns the scripted strategies of a match into the
tables :mod:`peacegame.engine.strategies` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from peacegame.engine.actions import ActionInterface, build_interface
from peacegame.engine.config import (
    DONE,
    PHASES,
    IllegalActionError,
    ProtocolConfig,
)
from peacegame.engine.observe import observation_bounds, observation_fields
from peacegame.engine.rules import (
    C_PHASE,
    C_ROUND,
    MASK_PROPOSE,
    MASK_VOTE,
    MASK_WAIT,
)
from peacegame.engine.rules import mask_row as _mask_row
from peacegame.engine.strategies import (
    Strategy,
    model_tree,
    pick_memo,
    plan_rows,
    public_picks,
)
from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.consent import ConsentTables
from peacegame.solutions import nash_point


def discount_powers(discount: np.ndarray, max_rounds: int) -> np.ndarray:
    """Tabulate ``discount[i] ** r`` for every round, the payoff multipliers.

    Computed once on Python floats (repeated multiplication is exact to the
    last bit only by luck; ``**`` with an integer exponent is the C library's
    correctly rounded ``pow`` on every platform we know of), so every engine
    multiplies by the same float64 numbers.

    Returns:
        ``float64[max_rounds, n_actors]`` with row ``r`` equal to
        ``discount ** r``.
    """
    factors = [float(d) for d in discount]
    return np.array(
        [[d**r for d in factors] for r in range(max_rounds)], dtype=np.float64
    ).reshape(max_rounds, len(factors))


def game_ints(
    n_actors: int,
    n_outcomes: int,
    max_rounds: int,
    random_proposer: bool,
    history_length: int,
    public: bool,
    level_bounds: np.ndarray,
    rotation: Sequence[int],
    unanimous: bool,
) -> np.ndarray:
    """The ``ints`` table (``rules.I_*``, the rotation, the level bounds)."""
    return np.array(
        [
            n_actors,
            n_outcomes,
            max_rounds,
            int(random_proposer),
            history_length,
            int(public),
            len(level_bounds) - 1,
            int(level_bounds[-1]),
            int(unanimous),
            *rotation,
            *np.asarray(level_bounds).tolist(),
        ],
        np.int64,
    )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@lru_cache(maxsize=16)
def nash_of(scenario: CompiledScenario) -> int | None:
    """The scenario's weighted Nash point (cached per scenario)."""
    return nash_point(scenario)


def level_layout(
    level_counts: Sequence[int], levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The one-hot level space: issue bounds and each outcome's level columns.

    Returns:
        ``int64[n_issues + 1]`` column bounds of the issues, and
        ``int64[n_outcomes, n_issues]`` each outcome's level of each issue as a
        column.
    """
    bounds = np.concatenate([[0], np.cumsum(level_counts)]).astype(np.int64)
    columns = np.ascontiguousarray(levels.astype(np.int64) + bounds[:-1])
    return bounds, columns


def consent_table(required: np.ndarray) -> np.ndarray:
    """``uint8[n_outcomes, n_actors]`` from the scenario's ``bool[n_actors, ...]``."""
    return np.ascontiguousarray(required.T, dtype=np.uint8)


def outcome_table(voters: np.ndarray, consent: ConsentTables) -> np.ndarray:
    """The kernel's per-outcome table: voters, veto players, smallest, rules.

    Args:
        voters: ``uint8[n_outcomes, n_actors]``, who votes on each outcome.
        consent: The voting rules.

    Returns:
        ``uint8[n_outcomes, 2 n_actors + 1 + n_rules]`` (see ``rules.G_REQUIRED``).
    """
    return np.ascontiguousarray(
        np.concatenate(
            [
                np.asarray(voters, np.uint8),
                consent.veto_players,
                consent.smallest[:, None],
                consent.applies,
            ],
            axis=1,
        ).astype(np.uint8)
    )


def game_tuple(
    ints: np.ndarray,
    floats: np.ndarray,
    voters: np.ndarray,
    utility: np.ndarray,
    payoff_scale: np.ndarray,
    level_columns: np.ndarray,
    consent: ConsentTables,
) -> tuple[np.ndarray, ...]:
    """The kernel's ``game`` tuple, in the ``rules.G_*`` positions.

    ``ints`` gets the outcomes' level columns and the packed voting rules
    appended, ``floats`` the payoff scale (see :mod:`peacegame.engine.rules`).
    """
    packed_ints = np.concatenate(
        [ints, np.ravel(level_columns), np.ravel(consent.rules)]
    ).astype(np.int64)
    packed_floats = np.concatenate([floats, np.ravel(payoff_scale)]).astype(np.float64)
    table = outcome_table(voters, consent)
    for array in (packed_ints, packed_floats, table):
        array.flags.writeable = False
    return (packed_ints, packed_floats, table, utility)


def build_plan(
    strategies: Sequence[Strategy | None],
    *,
    order: np.ndarray,
    utility: np.ndarray,
    no_deal: np.ndarray,
    required: np.ndarray,
    rules: ConsentTables,
    max_rounds: int,
    public: bool,
    nash: int | None,
    level_columns: np.ndarray,
    n_levels: int,
) -> Plan:
    """The kernel's tables for one scripted strategy (or None) per actor.

    Args:
        strategies: Per actor, a strategy or None (driven from outside).
        order: ``int64[n_actors, n_outcomes]``, each actor's outcomes best first
            (only the scripted actors' rows are read).
        utility: ``float64[n_actors, n_outcomes]`` (under private information
            only the scripted actors' rows are read).
        no_deal: ``float64[n_actors]``.
        required: ``uint8[n_outcomes, n_actors]``, who votes.
        rules: The voting rules.
        max_rounds: The deadline.
        public: Whether information is public.
        nash: The weighted Nash point, for ``nash_mediator``.
        level_columns: ``int64[n_outcomes, n_issues]``, each outcome's level
            columns (for the opponent model's tree).
        n_levels: The number of level columns (the opponent model's counts).

    Raises:
        ValueError: On an unknown strategy kind.
    """
    n = len(strategies)
    sorted_utility = np.take_along_axis(utility, order, axis=1)
    rows = [
        plan_rows(
            strategy,
            sorted_utility[i],
            float(no_deal[i]),
            max_rounds,
            nash,
            int(order[i, 0]),
            utility[i],
        )
        for i, strategy in enumerate(strategies)
    ]
    if public:
        pick = np.zeros((n, order.shape[1] + 1), np.int64)
        for i, strategy in enumerate(strategies):
            if strategy is not None:
                pick[i] = public_picks(order[i], required, rules, utility, no_deal, i)
    else:
        pick = np.zeros((n, 1), np.int64)
    use_model = not public and any(s is not None and s.uses_model for s in strategies)
    tree = (
        model_tree(level_columns, required, rules.smallest, order)
        if use_model
        else None
    )
    memo = pick_memo(n, n_levels) if use_model else None
    return Plan(
        plan_i=np.stack([r[0] for r in rows]),
        plan_f=np.stack([r[1] for r in rows]),
        order=order,
        sorted_utility=np.ascontiguousarray(sorted_utility),
        public_pick=pick,
        use_model=use_model,
        model_tree=tree,
        pick_memo=memo,
        external=tuple(s is None for s in strategies),
    )


@dataclass(frozen=True)
class Plan:
    """The scripted strategies of a match as the kernel's tables.

    Attributes:
        plan_i: ``int64[n_actors, 2 + max_rounds]``: kind, fixed offer, and the
            number of own outcomes at or above the aspiration per round.
        plan_f: ``float64[n_actors, 2, max_rounds]``: aspiration, niceness * r.
        order: ``int64[n_actors, n_outcomes]``, each actor's outcomes best first.
        sorted_utility: ``float64[n_actors, n_outcomes]``, in that order.
        public_pick: ``int64[n_actors, n_outcomes + 1]`` under public
            information (see ``public_picks``), else ``int64[n_actors, 1]``.
        use_model: Whether the frequency opponent model is needed.
        model_tree: The outcomes as a tree for the model's search
            (``strategies.model_tree``, ``int64[n_nodes, 6 + n_actors]``) if it
            is needed, else None (compiled callers then leave out the search:
            ``strategies.model_pick``).
        external: Per actor, whether it is driven from outside.
    """

    plan_i: np.ndarray
    plan_f: np.ndarray
    order: np.ndarray
    sorted_utility: np.ndarray
    public_pick: np.ndarray
    use_model: bool
    model_tree: np.ndarray | None
    pick_memo: tuple[np.ndarray, np.ndarray] | None
    external: tuple[bool, ...]

    @property
    def tables(self) -> tuple[object, ...]:
        """The kernel's ``plan`` tuple (``strategies.PL_*`` positions)."""
        return (
            self.plan_i,
            self.plan_f,
            self.order,
            self.sorted_utility,
            self.public_pick,
            self.use_model,
            self.model_tree,
            self.pick_memo,
        )


class Rules:
    """The tables of one game: a compiled scenario under a protocol config.

    Attributes:
        scenario: The compiled scenario.
        config: The protocol configuration.
        actors: Actor ids.
        n_actors: Number of actors.
        n_outcomes: Number of feasible outcomes.
        n_actions: ``n_outcomes + 3``.
        accept_action: The ACCEPT action, ``n_outcomes``.
        reject_action: The REJECT action, ``n_outcomes + 1``.
        wait_action: The WAIT action, ``n_outcomes + 2``.
        order: The rotating order as actor indices.
        ints: ``int64`` scalars and per-actor integers (``rules.I_*``), then the
            rotating order and the issues' level-column bounds.
        floats: ``float64``: breakdown probability, illegal penalty, then the
            no-deal values, the recognition CDF and the discounts.
        required: ``uint8[n_outcomes, n_actors]``, whose consent each needs.
        utility: ``float64[n_actors, n_outcomes]``, the float32 utilities.
        payoff_scale: ``float64[max_rounds, n_actors]``, ``discount ** r``.
        level_columns: ``int64[n_outcomes, n_issues]``, each outcome's level
            of each issue as a column of the one-hot level space.
        fields: Observation field name -> slice.
        observation_size: Length of the observation vector.
        low: Lower bounds of the observation vector.
        high: Upper bounds of the observation vector.
        masks: ``int8[4, n_actions]``: no move, propose, vote, wait.
        game: The kernel's ``game`` tuple (``rules.G_*`` positions).
        interface: The action interface of ``config.actions``
            (:mod:`peacegame.engine.actions`); the attributes above are the
            concrete (``outcome``) actions the rules take.
        interface_fields: Observation fields under the interface: ``fields``
            plus the interface's own (``issues``: the draft).
        interface_observation_size: Length of that observation vector.
        interface_low: Its lower bounds.
        interface_high: Its upper bounds.
    """

    def __init__(
        self, scenario: CompiledScenario, config: ProtocolConfig | None = None
    ) -> None:
        """Build the tables.

        Raises:
            ValueError: If ``config.order`` is not a permutation of the
                scenario's actors.
        """
        config = config if config is not None else ProtocolConfig()
        self.scenario = scenario
        self.config = config
        self.actors: tuple[str, ...] = tuple(scenario.actors)
        n = self.n_actors = scenario.n_actors
        self.n_outcomes = scenario.n_outcomes
        self.n_actions = self.n_outcomes + 3
        self.accept_action = self.n_outcomes
        self.reject_action = self.n_outcomes + 1
        self.wait_action = self.n_outcomes + 2
        self.max_rounds = config.max_rounds
        self.history_length = config.history_length
        self.public = config.information == "public"
        self.order: tuple[int, ...] = self._resolve_order(config.order)

        bounds, level_columns = level_layout(
            [issue.n_levels for issue in scenario.issues], scenario.levels
        )
        self.n_levels = int(bounds[-1])
        self.ints = _read_only(
            game_ints(
                n,
                self.n_outcomes,
                self.max_rounds,
                config.proposer == "random",
                self.history_length,
                self.public,
                bounds,
                self.order,
                scenario.consent.unanimous,
            )
        )
        recognition = np.cumsum(np.asarray(scenario.recognition, np.float64))
        recognition /= recognition[-1]
        self.no_deal = np.asarray(scenario.no_deal, np.float64)
        self.floats = _read_only(
            np.concatenate(
                [
                    [float(config.breakdown_prob), float(config.illegal_penalty)],
                    self.no_deal,
                    recognition,
                    np.asarray(scenario.discount, np.float64),
                ]
            )
        )
        self.required = _read_only(consent_table(scenario.required))
        self.utility = _read_only(np.asarray(scenario.utility, np.float64))
        self.payoff_scale = _read_only(
            discount_powers(np.asarray(scenario.discount), self.max_rounds)
        )
        self.level_columns = _read_only(level_columns)
        self.game = game_tuple(
            self.ints,
            self.floats,
            self.required,
            self.utility,
            self.payoff_scale,
            self.level_columns,
            scenario.consent,
        )
        self.fields = observation_fields(
            n, self.n_levels, self.public, self.history_length
        )
        self.low, self.high = observation_bounds(self.fields, scenario.no_deal)
        self.observation_size = int(self.low.size)
        masks = np.zeros((4, self.n_actions), np.int8)
        masks[MASK_PROPOSE, : self.n_outcomes] = 1
        masks[MASK_VOTE, self.accept_action : self.wait_action] = 1
        masks[MASK_WAIT, self.wait_action] = 1
        self.masks = _read_only(masks)
        self.mask_rows: tuple[np.ndarray, ...] = tuple(
            _read_only(masks[i]) for i in range(4)
        )
        """The rows of ``masks`` as fixed array objects (the same on every call)."""
        self.empty_mask, self.propose_mask, self.vote_mask, self.wait_mask = (
            self.mask_rows
        )
        self.interface: ActionInterface = build_interface(
            config.actions,
            utility=self.utility,
            no_deal=self.no_deal,
            required=self.required,
            consent=scenario.consent,
            levels=scenario.levels,
            level_counts=[issue.n_levels for issue in scenario.issues],
            bins=config.utility_bins,
            public=self.public,
            ties=config.utility_ties,
            snap=config.utility_snap,
        )
        fields = dict(self.fields)
        at = self.observation_size
        for name, size in self.interface.extra_fields:
            fields[name] = slice(at, at + size)
            at += size
        self.interface_fields = fields
        self.interface_observation_size = at
        extra = at - self.observation_size
        self.interface_low = np.concatenate([self.low, np.zeros(extra, np.float32)])
        self.interface_high = np.concatenate([self.high, np.ones(extra, np.float32)])

    def _resolve_order(self, order: list[str] | None) -> tuple[int, ...]:
        if order is None:
            return tuple(range(self.n_actors))
        if sorted(order) != sorted(self.actors):
            raise ValueError(
                f"order must be a permutation of the scenario's actors "
                f"{list(self.actors)}, got {order}"
            )
        return tuple(self.actors.index(actor) for actor in order)

    # ----------------------------------------------------------- strategies
    def plan(self, strategies: Sequence[Strategy | None]) -> Plan:
        """The kernel's tables for one scripted strategy (or None) per actor.

        Raises:
            ValueError: On an unknown strategy kind.
        """
        if len(strategies) != self.n_actors:
            raise ValueError("one strategy (or None) per actor is required")
        nash = None
        if any(s is not None and s.kind == "nash_mediator" for s in strategies):
            nash = nash_of(self.scenario)
        return build_plan(
            strategies,
            order=np.ascontiguousarray(self.scenario.order, dtype=np.int64),
            utility=self.utility,
            no_deal=self.no_deal,
            required=self.required,
            rules=self.scenario.consent,
            max_rounds=self.max_rounds,
            public=self.public,
            nash=nash,
            level_columns=self.level_columns,
            n_levels=self.n_levels,
        )

    # -------------------------------------------------------------- messages
    def mask_row(self, state: np.ndarray, slot: int, actor: int, wait: bool) -> int:
        """Which row of :attr:`masks` is ``actor``'s legal set now."""
        return int(_mask_row(self.game, state, slot, actor, wait))

    def describe_action(self, action: object) -> str:
        """Return a readable name for an action, for messages and transcripts."""
        try:
            value = int(action)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return repr(action)
        if value != action:  # 4.5 is not action 4
            return repr(action)
        if 0 <= value < self.n_outcomes:
            return f"propose #{value} ({self.scenario.describe(value)})"
        names = {
            self.accept_action: "ACCEPT",
            self.reject_action: "REJECT",
            self.wait_action: "WAIT",
        }
        return names.get(value, f"{value} (out of range 0..{self.n_actions - 1})")

    def illegal_action_error(
        self,
        state: np.ndarray,
        slot: int,
        actor: int,
        action: object,
        allow_wait: bool = False,
    ) -> IllegalActionError:
        """Build the error for an illegal action (naming actor, action, phase)."""
        row = self.mask_row(state, slot, actor, allow_wait)
        phase = PHASES[int(state[slot, C_PHASE])]
        if row == MASK_PROPOSE:
            expected = f"a proposal 0..{self.n_outcomes - 1}"
        elif row == MASK_VOTE:
            expected = f"ACCEPT ({self.accept_action}) or REJECT ({self.reject_action})"
        elif row == MASK_WAIT:
            expected = f"WAIT ({self.wait_action})"
        elif phase == DONE:
            expected = "nothing: the episode has ended"
        else:
            expected = "nothing: it is not this actor's move"
        name = self.actors[actor]
        return IllegalActionError(
            f"illegal action by {name!r}: {self.describe_action(action)} in the "
            f"{phase!r} phase of round {int(state[slot, C_ROUND])}; expected "
            f"{expected}",
            actor=name,
            action=action,
            phase=phase,
        )
