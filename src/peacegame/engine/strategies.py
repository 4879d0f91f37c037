"""The scripted strategies' moves, once, for the engine and every policy object.

Every strategy but ``random`` follows one pattern (Faratin, Sierra & Jennings
1998; Baarslag et al. 2013):

* an **aspiration** a(t) in its own utility, a function of the round t (and,
  for tit-for-tat, of the offers received);
* as **proposer**, among its outcomes with utility >= a(t) (a prefix of its
  best-first order; at least its best outcome) it offers the one *most likely
  to be accepted*: the one whose **cheapest winning coalition** is most
  willing. Of the coalitions of the proposer and other voters that carry the
  outcome under the consent rules, that is the one whose least willing member
  is most willing (found by adding voters in decreasing acceptability until the
  rules are met); under "all of" rules it is all the voters, so the score is
  their smallest acceptability. Ties go to the outcome closest to its
  aspiration (the lowest own utility);
* as **voter**, it accepts an offer whose utility is >= a(t).

Acceptability of outcome o to actor j:

* ``public`` information: ``U_j(o) - d_j``, fixed per scenario, so the pick for
  every prefix length is tabulated once (``public_pick``);
* ``private`` information: a frequency opponent model (HardHeaded, ANAC 2011):
  the levels j proposed count 2, the levels of offers j accepted count 1 (the
  integer counts are exact); j's estimate of o is the mean over issues of each
  level's count divided by the issue's largest count (1/2 everywhere before
  any evidence). The quotients are IEEE float64 divisions summed in issue
  order in compiled code: no BLAS, no fused multiply-add, so every CPU computes
  the same bits.

``random`` proposes uniformly among all outcomes and accepts with probability
1/2, from the episode's counter-based stream (one draw per move).

Aspirations (tabulated per round, computed in decimal arithmetic so no
platform ``pow`` decides a move):

* ``time_dependent`` (Boulware e < 1, Linear e = 1, Conceder e > 1):
  a(t) = u_max - (u_max - d) * (t / T) ** (1 / e), T = max_rounds - 1;
* ``hardliner``: a fixed ``threshold``, or ``d + level * (u_max - d)``;
* ``tit_for_tat``: a(t) = max(d, u_max - received - niceness * t), where
  ``received`` is how much the best offer from the others improves on their
  first offer, in own utility;
* ``nash_mediator``: proposes the weighted Nash point and accepts anything at
  least as good (without a bargaining set: its best outcome, and d). Under
  quota, weight and veto rules it still proposes the Nash point of the
  bargaining set (every actor at or above its no-deal value): a mediator seeks
  a deal every actor prefers to no deal, which every winning coalition then
  carries; building the cheapest winning coalition is what the proposers
  above do.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

import numpy as np
from numba import njit

from peacegame.engine.randomness import action_purpose, draw_below, draw_unit
from peacegame.engine.rules import (
    C_KEY,
    C_OFFER,
    C_ROUND,
    F_NO_DEAL,
    G_FLOATS,
    G_INTS,
    G_REQUIRED,
    G_UTILITY,
    I_ACTORS,
    I_ISSUES,
    I_OUTCOMES,
    I_ROTATION,
    I_UNANIMOUS,
    MOVE_PROPOSE,
    MOVE_VOTE,
    col_applies,
    level_column,
    level_column_start,
    move_kind,
    rules_matrix,
)
from peacegame.scenario.consent import ConsentTables, coalition_value, coalition_values

EXTERNAL, RANDOM, ASPIRATION, TIT_FOR_TAT, FIXED = -1, 0, 1, 2, 3
"""Strategy kinds: driven from outside, random, a tabulated aspiration,
tit-for-tat, a fixed proposal with a tabulated aspiration."""
P_KIND, P_FIXED_OFFER, P_COUNTS = 0, 1, 2
"""Columns of ``plan_i``: kind, fixed offer, then per round the number of own
outcomes at or above the aspiration."""
PL_I, PL_F, PL_ORDER, PL_SORTED_UTILITY, PL_PUBLIC_PICK, PL_USE_MODEL = range(6)
"""Positions in the ``plan`` tuple (:attr:`peacegame.engine.tables.Plan.tables`)."""
ASPIRATION_ROW, NICENESS_ROW = 0, 1
"""Rows of ``plan_f[actor]``: the aspiration per round, niceness * round."""
NO_MEMORY = np.nan
"""Tit-for-tat memory before any offer was received."""

KINDS = ("random", "time_dependent", "hardliner", "tit_for_tat", "nash_mediator")
"""Strategy names a :class:`Strategy` may carry."""


@dataclass(frozen=True)
class Strategy:
    """A scripted strategy and its parameters (what a policy config names).

    Attributes:
        kind: One of :data:`KINDS`.
        e: Concession exponent (``time_dependent``).
        level: Threshold as a fraction from d (0) to u_max (1) (``hardliner``).
        threshold: Absolute threshold, overriding ``level`` (``hardliner``).
        niceness: Extra concession per round (``tit_for_tat``).
    """

    kind: str
    e: float = 1.0
    level: float = 0.8
    threshold: float | None = None
    niceness: float = 0.0

    @property
    def uses_model(self) -> bool:
        """Whether its proposals read the opponent model (private information)."""
        return self.kind in ("time_dependent", "hardliner", "tit_for_tat")


def time_dependent_aspiration(
    u_max: float, no_deal: float, e: float, max_rounds: int
) -> np.ndarray:
    """Faratin's a(t) for every round, in 50-digit decimal arithmetic."""
    horizon = max(max_rounds - 1, 1)
    out = np.empty(max_rounds, np.float64)
    with localcontext() as ctx:
        ctx.prec = 50
        top, d = Decimal(u_max), Decimal(no_deal)
        exponent = 1 / Decimal(e)
        for r in range(max_rounds):
            t = min(Decimal(r) / Decimal(horizon), Decimal(1))
            power = Decimal(0) if t == 0 else t**exponent
            out[r] = float(top - (top - d) * power)
    return out


def plan_rows(
    strategy: Strategy | None,
    sorted_utility: np.ndarray,
    no_deal: float,
    max_rounds: int,
    nash: int | None,
    best: int,
    utility_row: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One actor's rows of ``plan_i`` and ``plan_f``.

    Args:
        strategy: The strategy, or None for an actor driven from outside.
        sorted_utility: The actor's utilities, best first (float64).
        no_deal: The actor's no-deal value.
        max_rounds: The deadline.
        nash: The weighted Nash point (``nash_mediator`` only).
        best: The actor's best outcome.
        utility_row: The actor's utility of every outcome (float64).

    Returns:
        ``int64[2 + max_rounds]`` and ``float64[2, max_rounds]``.
    """
    plan_i = np.zeros(P_COUNTS + max_rounds, np.int64)
    plan_f = np.zeros((2, max_rounds), np.float64)
    u_max = float(sorted_utility[0])
    d = float(no_deal)
    if strategy is None:
        plan_i[P_KIND] = EXTERNAL
        return plan_i, plan_f
    kind = strategy.kind
    if kind == "random":
        plan_i[P_KIND] = RANDOM
        return plan_i, plan_f
    if kind == "time_dependent":
        plan_i[P_KIND] = ASPIRATION
        aspiration = time_dependent_aspiration(u_max, d, strategy.e, max_rounds)
    elif kind == "hardliner":
        plan_i[P_KIND] = ASPIRATION
        if strategy.threshold is not None:
            value = float(strategy.threshold)
        else:
            value = d + float(strategy.level) * (u_max - d)
        aspiration = np.full(max_rounds, value)
    elif kind == "tit_for_tat":
        plan_i[P_KIND] = TIT_FOR_TAT
        aspiration = np.full(max_rounds, u_max)
        plan_f[NICENESS_ROW] = [float(strategy.niceness) * r for r in range(max_rounds)]
    elif kind == "nash_mediator":
        plan_i[P_KIND] = FIXED
        plan_i[P_FIXED_OFFER] = best if nash is None else nash
        value = d if nash is None else float(utility_row[nash])
        aspiration = np.full(max_rounds, value)
    else:
        raise ValueError(f"unknown strategy kind {kind!r}; expected one of {KINDS}")
    plan_f[ASPIRATION_ROW] = aspiration
    counts = np.searchsorted(-sorted_utility, -aspiration, side="right")
    plan_i[P_COUNTS:] = np.maximum(counts, 1)
    return plan_i, plan_f


def public_picks(
    order: np.ndarray,
    required: np.ndarray,
    rules: ConsentTables,
    utility: np.ndarray,
    no_deal: np.ndarray,
    actor: int,
) -> np.ndarray:
    """For every prefix length c of ``order``, ``actor``'s public-information pick.

    Args:
        order: The actor's outcomes, best first.
        required: ``uint8[n_outcomes, n_actors]``, who votes.
        rules: The voting rules.
        utility: ``float64[n_actors, n_outcomes]``.
        no_deal: ``float64[n_actors]``.
        actor: The actor's index.

    The acceptability of o is that of its cheapest winning coalition: over the
    coalitions of the actor and other voters that carry o, the largest
    smallest surplus ``U_j(o) - d_j`` among the other voters (+inf if the actor
    alone carries it; under "all of" rules, the smallest surplus of all the
    voters). Among the first c outcomes the pick is the last position of the
    largest acceptability.

    Returns:
        ``int64[n_outcomes + 1]``: entry c (>= 1) is the picked outcome; entry 0
        repeats entry 1.
    """
    surplus = np.ascontiguousarray(utility - np.asarray(no_deal, np.float64)[:, None])
    score = coalition_values(
        rules.rules,
        rules.applies,
        np.ascontiguousarray(required, np.uint8),
        surplus,
        actor,
    )[order]
    running = np.maximum.accumulate(score)
    marks = np.where(score == running, np.arange(score.size), -1)
    last = np.maximum.accumulate(marks)
    positions = np.concatenate([last[:1], last]).astype(np.int64)
    return order[positions]


# --------------------------------------------------------------------- moves
@njit(cache=True, inline="always")
def count_at_or_above(sorted_utility, threshold) -> int:
    """How many of the best-first utilities are >= threshold (at least 1)."""
    lo, hi = 0, sorted_utility.shape[0]
    while lo < hi:  # first position whose utility is below the threshold
        mid = (lo + hi) // 2
        if sorted_utility[mid] >= threshold:
            lo = mid + 1
        else:
            hi = mid
    return max(lo, 1)


@njit(cache=True)
def model_tables(ints, counts):
    """Per actor and level column: count / the issue's largest count (or 1/2)."""
    n = ints[I_ACTORS]
    bounds = I_ROTATION + n
    n_issues = ints[I_ISSUES]
    table = np.empty(counts.shape, np.float64)
    for j in range(n):
        for k in range(n_issues):
            start, stop = ints[bounds + k], ints[bounds + k + 1]
            peak = 0
            for c in range(start, stop):
                peak = max(peak, counts[j, c])
            for c in range(start, stop):
                table[j, c] = counts[j, c] / peak if peak > 0 else 0.5
    return table


@njit(cache=True)
def private_pick(game, order, counts, actor, count) -> int:
    """Among the first ``count`` of ``order`` the pick under the frequency model.

    An outcome's score is that of its cheapest winning coalition under the
    model's estimates (as :func:`public_picks` does with surpluses): under
    "all of" rules the smallest estimate over its other voters (that loop is
    written out on its own: it is the hot one, and it may stop early).
    """
    ints, required = game[G_INTS], game[G_REQUIRED]
    table = model_tables(ints, counts)
    n = ints[I_ACTORS]
    n_issues = ints[I_ISSUES]
    columns = level_column_start(ints)
    n_outcomes = ints[I_OUTCOMES]
    levels = ints[columns : columns + n_outcomes * n_issues].reshape(
        (n_outcomes, n_issues)
    )
    best_score = -np.inf
    best = order[count - 1]
    if ints[I_UNANIMOUS] != 0:
        for p in range(count - 1, -1, -1):  # lowest own utility first: ties stay
            o = order[p]
            score = np.inf
            for j in range(n):
                if j == actor or required[o, j] == 0:
                    continue
                estimate = 0.0
                for k in range(n_issues):
                    estimate += table[j, levels[o, k]]
                if estimate < score:
                    score = estimate
                    if score <= best_score:
                        break
            if score > best_score:
                best_score = score
                best = o
        return best
    rules = rules_matrix(ints)
    estimates = np.zeros(n, np.float64)
    base = np.int64(1) << actor
    for p in range(count - 1, -1, -1):
        o = order[p]
        at = columns + o * n_issues
        voters = np.int64(0)
        for j in range(n):
            if j == actor or required[o, j] == 0:
                continue
            estimate = 0.0
            for k in range(n_issues):
                estimate += table[j, ints[at + k]]
            estimates[j] = estimate
            voters |= np.int64(1) << j
        score = coalition_value(
            rules, required, col_applies(n), o, base, voters, estimates
        )
        if score > best_score:
            best_score = score
            best = o
    return best


@njit(cache=True, inline="always")
def aspiration_now(plan, memory, no_deal, actor, round_index) -> float:
    """The actor's aspiration this round (tabulated, or tit-for-tat's)."""
    plan_i, plan_f, sorted_utility = plan[PL_I], plan[PL_F], plan[PL_SORTED_UTILITY]
    if plan_i[actor, P_KIND] != TIT_FOR_TAT:
        return plan_f[actor, ASPIRATION_ROW, round_index]
    received = 0.0  # a(t) = max(d, u_max - received - niceness * t)
    if not np.isnan(memory[0]):
        received = max(memory[1] - memory[0], 0.0)
    value = (
        sorted_utility[actor, 0] - received - plan_f[actor, NICENESS_ROW, round_index]
    )
    return max(no_deal, value)


@njit(cache=True, inline="always")
def choose_proposal(game, plan, memory, counts, key, round_index, actor) -> int:
    """The proposal of scripted ``actor`` in ``round_index``."""
    ints, floats = game[G_INTS], game[G_FLOATS]
    plan_i = plan[PL_I]
    kind = plan_i[actor, P_KIND]
    if kind == RANDOM:
        return draw_below(key, round_index, action_purpose(actor), ints[I_OUTCOMES])
    if kind == FIXED:
        return plan_i[actor, P_FIXED_OFFER]
    order = plan[PL_ORDER][actor]
    if kind == TIT_FOR_TAT:
        threshold = aspiration_now(
            plan, memory, floats[F_NO_DEAL + actor], actor, round_index
        )
        count = count_at_or_above(plan[PL_SORTED_UTILITY][actor], threshold)
    else:
        count = plan_i[actor, P_COUNTS + round_index]
    if count == 1:
        return order[0]
    public_pick = plan[PL_PUBLIC_PICK][actor]
    if public_pick.shape[0] > 1:
        return public_pick[count]
    return private_pick(game, order, counts, actor, count)


@njit(cache=True, inline="always")
def choose_vote(game, plan, memory, key, round_index, actor, offer) -> bool:
    """Whether scripted ``actor`` accepts ``offer`` in ``round_index``."""
    if plan[PL_I][actor, P_KIND] == RANDOM:
        return draw_unit(key, round_index, action_purpose(actor)) < 0.5
    no_deal = game[G_FLOATS][F_NO_DEAL + actor]
    threshold = aspiration_now(plan, memory, no_deal, actor, round_index)
    return game[G_UTILITY][actor, offer] >= threshold


@njit(cache=True, inline="always")
def scripted_move(game, plan, memory, counts, state, slot, actor) -> int:
    """Scripted ``actor``'s action in ``slot``: a proposal, a vote, or WAIT.

    ``memory`` is the actor's tit-for-tat memory (``float64[2]``) and
    ``counts`` the opponent model's counts (``[n_actors, n_levels]``).
    """
    n_outcomes = game[G_INTS][I_OUTCOMES]
    kind = move_kind(game, state, slot, actor)
    key = state[slot, C_KEY]
    round_index = state[slot, C_ROUND]
    if kind == MOVE_PROPOSE:
        return choose_proposal(game, plan, memory, counts, key, round_index, actor)
    if kind == MOVE_VOTE:
        offer = state[slot, C_OFFER]
        accept = choose_vote(game, plan, memory, key, round_index, actor, offer)
        return n_outcomes if accept else n_outcomes + 1
    return n_outcomes + 2


@njit(cache=True, inline="always")
def remember_offer(plan, utility, memory, actor, proposer, offer) -> None:
    """Tit-for-tat: track the offers the others made, in own utility."""
    if plan[PL_I][actor, P_KIND] != TIT_FOR_TAT or proposer == actor:
        return
    value = utility[actor, offer]
    if np.isnan(memory[0]):
        memory[0] = value
        memory[1] = value
    else:
        memory[1] = max(memory[1], value)


@njit(cache=True, inline="always")
def count_round(ints, counts, proposer, offer, votes) -> None:
    """Fold one completed round into the frequency model's integer counts."""
    n_issues = ints[I_ISSUES]
    for k in range(n_issues):
        counts[proposer, level_column(ints, offer, k)] += 2
    for j in range(votes.shape[0]):
        if votes[j] == 1:
            for k in range(n_issues):
                counts[j, level_column(ints, offer, k)] += 1
