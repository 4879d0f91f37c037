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
  the same bits. The pick is found by branch and bound over a tree of the
  outcomes by their levels (:func:`model_tree`, :func:`private_pick`), which
  skips only subtrees that cannot hold the pick: the same outcome as scoring
  every candidate, at a fraction of the cost (issue 13).

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
from numba import njit, types
from numba.extending import overload

from peacegame.engine.randomness import action_purpose, draw_below, draw_unit
from peacegame.engine.rules import (
    ALLOCATES,
    C_KEY,
    C_OFFER,
    C_ROUND,
    C_ROUNDS_DONE,
    F_NO_DEAL,
    G_FLOATS,
    G_INTS,
    G_REQUIRED,
    G_UTILITY,
    I_ACTORS,
    I_ISSUES,
    I_OUTCOMES,
    I_ROTATION,
    I_ROUNDS,
    I_UNANIMOUS,
    MOVE_PROPOSE,
    MOVE_VOTE,
    col_applies,
    col_record_offers,
    col_record_proposers,
    level_column,
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
PL_MODEL_TREE, PL_PICK_MEMO = 6, 7
"""Positions in the ``plan`` tuple (:attr:`peacegame.engine.tables.Plan.tables`)."""
T_FIRST, T_CHILDREN, T_COLUMN, T_VOTERS, T_ANY_VOTER, T_SMALLEST, T_POSITION = range(7)
"""Columns of the opponent model's outcome tree (:func:`model_tree`): first
child, number of children, level column, the bit masks of the actors who vote
on every outcome below and on some, the smallest carrying coalition's size
below, then per actor the smallest position in its best-first order."""
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


def model_tree(
    level_columns: np.ndarray,
    required: np.ndarray,
    smallest: np.ndarray,
    order: np.ndarray,
) -> np.ndarray:
    """The outcomes as a tree over their levels, issue by issue, for the model.

    Node 0 is the root; a node at depth m stands for the outcomes that share
    their levels of the first m issues, and its children, stored together,
    each fix the level of issue m. A leaf (depth ``n_issues``) is one outcome.

    Args:
        level_columns: ``int64[n_outcomes, n_issues]``, each outcome's level of
            each issue as a column of the one-hot level space.
        required: ``uint8[n_outcomes, n_actors]``, who votes on each outcome.
        smallest: ``int[n_outcomes]``, the size of each outcome's smallest
            carrying coalition.
        order: ``int64[n_actors, n_outcomes]``, each actor's outcomes best first.

    Returns:
        ``int64[n_nodes, 6 + n_actors]`` (columns ``T_*``): first child and
        number of children (0 for a leaf), the level column fixed last (-1 at
        the root), the bit masks of the actors who vote on every outcome below
        and on some outcome below, the smallest of the outcomes' smallest
        carrying coalitions, and per actor the smallest position in its order
        of an outcome below (a leaf's own position).
    """
    n_outcomes, n_issues = level_columns.shape
    n_actors = order.shape[0]
    lex = np.lexsort(level_columns.T[::-1])
    levels = level_columns[lex]
    if n_outcomes > 1 and not np.any(levels[1:] != levels[:-1], axis=1).all():
        raise ValueError("two outcomes have the same levels")
    position = np.zeros((n_actors, n_outcomes), np.int64)
    for a in range(n_actors):
        position[a, order[a]] = np.arange(n_outcomes)
    position = position[:, lex]
    masks = (
        (np.asarray(required)[lex, :n_actors] != 0).astype(np.int64)
        << np.arange(n_actors, dtype=np.int64)
    ).sum(axis=1)
    sizes = np.asarray(smallest, np.int64)[lex]
    # starts[m]: first outcome (in lex order) of each node at depth m
    starts = [np.zeros(1, np.int64)]
    new = np.zeros(n_outcomes, bool)
    new[0] = True
    for m in range(n_issues):
        new[1:] |= levels[1:, m] != levels[:-1, m]
        starts.append(np.flatnonzero(new))
    offsets = np.cumsum([0] + [s.size for s in starts])
    tree = np.zeros((offsets[-1], T_POSITION + n_actors), np.int64)
    for m, first in enumerate(starts):
        rows = tree[offsets[m] : offsets[m + 1]]
        rows[:, T_COLUMN] = -1 if m == 0 else levels[first, m - 1]
        rows[:, T_VOTERS] = np.bitwise_and.reduceat(masks, first)
        rows[:, T_ANY_VOTER] = np.bitwise_or.reduceat(masks, first)
        rows[:, T_SMALLEST] = np.minimum.reduceat(sizes, first)
        rows[:, T_POSITION:] = np.minimum.reduceat(position, first, axis=1).T
        if m < n_issues:
            below = starts[m + 1]
            rows[:, T_FIRST] = offsets[m + 1] + np.searchsorted(below, first)
            ends = np.append(first[1:], n_outcomes)
            rows[:, T_CHILDREN] = np.searchsorted(below, ends) - np.searchsorted(
                below, first
            )
    return tree


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


@njit(cache=True, inline="always")
def model_estimates(ints, counts, table, room, proposer) -> None:
    """The frequency model's estimate of each level column, and each room.

    ``table[c, j]`` is actor j's count of level column c divided by the
    largest count of its issue (1/2 everywhere before any evidence);
    ``room[m, j]`` the most that issues m.. can add to j's estimate: per issue
    1 (the level with the largest count) or 1/2. The proposer's own column is
    0 (a proposer's score reads only the others' estimates).
    """
    n = ints[I_ACTORS]
    bounds = I_ROTATION + n
    n_issues = ints[I_ISSUES]
    for j in range(n):
        room[n_issues, j] = 0.0
    for k in range(n_issues - 1, -1, -1):
        start, stop = ints[bounds + k], ints[bounds + k + 1]
        for j in range(n):
            if j == proposer:
                for c in range(start, stop):
                    table[c, j] = 0.0
                room[k, j] = 0.0
                continue
            peak = 0
            for c in range(start, stop):
                peak = max(peak, counts[j, c])
            if peak > 0:
                for c in range(start, stop):
                    table[c, j] = counts[j, c] / peak
                room[k, j] = room[k + 1, j] + 1.0
            else:
                for c in range(start, stop):
                    table[c, j] = 0.5
                room[k, j] = room[k + 1, j] + 0.5


MODEL_SLACK = 1e-9
"""How far below the best score so far a subtree's bound must be to skip it.
The bound adds the remaining issues' largest values to the exact partial sum
in one rounding step instead of one per issue (and the shared bound divides by
the number of voters); the difference is a few units in the last place of a
sum of at most ``n_issues`` terms, far below this."""


@njit(cache=True, inline="always")
def outcome_score(game, table, sums, outcome, me) -> float:
    """The model's score of ``outcome`` for the proposer ``me`` (a bit mask).

    Each voter's estimate summed in issue order (the bits the search's leaves
    compute), then :func:`private_pick`'s score of its cheapest winning
    coalition. ``sums`` (``float64[n]``) receives the estimates.
    """
    ints, required = game[G_INTS], game[G_REQUIRED]
    n, n_issues = ints[I_ACTORS], ints[I_ISSUES]
    voters = np.int64(0)
    for j in range(n):
        value = 0.0
        for k in range(n_issues):
            value += table[level_column(ints, outcome, k), j]
        sums[j] = value
        if required[outcome, j] != 0:
            voters |= np.int64(1) << j
    voters &= ~me
    if ints[I_UNANIMOUS] != 0:
        least = np.inf
        for j in range(n):
            if (voters >> j) & 1:
                least = min(least, sums[j])
        return least
    return coalition_value(
        rules_matrix(ints), required, col_applies(n), outcome, me, voters, sums
    )


@njit(cache=True, inline="always")
def leaf_position(ints, tree, outcome, column) -> int:
    """``outcome``'s entry ``column`` of its leaf in :func:`model_tree`.

    The walk from the root follows the outcome's level of each issue (a
    tree column ``T_POSITION + actor``: its position in that actor's order).
    """
    node = 0
    for k in range(ints[I_ISSUES]):
        level = level_column(ints, outcome, k)
        first = tree[node, T_FIRST]
        for child in range(first, first + tree[node, T_CHILDREN]):
            if tree[child, T_COLUMN] == level:
                node = child
                break
    return tree[node, column]


@njit(cache=True, **ALLOCATES)
def private_pick(game, tree, order, counts, actor, count, guess) -> int:
    """Among the first ``count`` of ``order`` the pick under the frequency model.

    An outcome's score is that of its cheapest winning coalition under the
    model's estimates (as :func:`public_picks` does with surpluses): under
    "all of" rules the smallest estimate over its other voters; the pick is
    the largest score, ties to the last position. A depth-first search over
    the plan's tree (:func:`model_tree`) carries each actor's estimate summed
    over the issues fixed so far, in issue order, so at a leaf it is the
    estimate to the last bit. ``guess`` (an outcome, or -1), if it is in the
    prefix, is scored first as the best so far (the caller passes the actor's
    last proposal). A subtree is skipped if it holds no outcome of the
    prefix, or if its bound is below the best score found: each voter's sum
    so far plus each remaining issue's largest value, then the smallest over
    the voters of every outcome below ("all of" rules; also the mean over the
    voters of every outcome, plus the remaining issues' largest mean, which
    is at least their smallest), or else the k-th largest over the voters of
    some outcome below, k one less than the smallest carrying coalition (a
    winning coalition has at least k other members, and its least willing
    one is at most the k-th most willing voter). The children are visited
    best bound first. Only subtrees that cannot hold a better (score,
    position) are skipped, so the pick is that of a full scan, whatever the
    guess.
    """
    ints, required = game[G_INTS], game[G_REQUIRED]
    n = ints[I_ACTORS]
    n_issues = ints[I_ISSUES]
    unanimous = ints[I_UNANIMOUS] != 0
    rules = rules_matrix(ints)
    bounds = I_ROTATION + n
    n_levels = ints[bounds + n_issues]
    width = 1
    for k in range(n_issues):
        width = max(width, ints[bounds + k + 1] - ints[bounds + k])
    # Three allocations, cut into the working arrays (each costs ~40 ns).
    rows = n_levels + 2 * (n_issues + 1) + 1
    sums = np.empty((rows + n_issues * width, n), np.float64)
    table = sums[:n_levels]  # [level column, actor]
    room = sums[n_levels : n_levels + n_issues + 1]  # the most issues m.. add
    path = sums[n_levels + n_issues + 1 : rows - 1]  # the path's partial sums
    largest = sums[rows - 1]  # the voters' bounds, largest first
    kid_sum = sums[rows:]  # per depth and child: its sums ("k of" rules)
    depth_bounds = np.empty((n_issues + 1, width + 1), np.float64)
    shared_room = depth_bounds[:, 0]  # the most issues m.. add to the mean
    kid_bound = depth_bounds[:n_issues, 1:]  # per depth: the children's bounds
    slots_of = np.empty((2 * n_issues + 2, max(width, n_issues)), np.int64)
    kids = slots_of[:n_issues]  # per depth: the expanded children
    rank = slots_of[n_issues : 2 * n_issues]  # their slots, best bound first
    filled = slots_of[2 * n_issues]
    taken = slots_of[2 * n_issues + 1]
    model_estimates(ints, counts, table, room, actor)
    me = np.int64(1) << actor
    # The voters of every outcome (the root's); their mean bounds their least.
    shared = tree[0, T_VOTERS] & ~me if unanimous else np.int64(0)
    n_shared = 0
    for j in range(n):
        n_shared += (shared >> j) & 1
    shared_room[n_issues] = 0.0
    for k in range(n_issues - 1, -1, -1):
        top = 0.0
        for c in range(ints[bounds + k], ints[bounds + k + 1]):
            total = 0.0
            for j in range(n):
                if (shared >> j) & 1:
                    total += table[c, j]
            top = max(top, total)
        shared_room[k] = shared_room[k + 1] + top
    scale = 1.0 / max(n_shared, 1)
    for j in range(n):
        path[0, j] = 0.0
    column = T_POSITION + actor
    best_score = -np.inf
    best_position = count - 1
    if guess >= 0:
        position = leaf_position(ints, tree, guess, column)
        if position < count:
            best_score = outcome_score(game, table, largest, guess, me)
            best_position = position
    depth, node, expand = 0, 0, True
    while True:
        if expand:  # bound the children that hold an outcome of the prefix
            below = depth + 1
            leaf = below == n_issues
            slots = 0
            first = tree[node, T_FIRST]
            for child in range(first, first + tree[node, T_CHILDREN]):
                if tree[child, column] >= count:
                    continue
                level = tree[child, T_COLUMN]
                bound = np.inf
                if unanimous:
                    voters = tree[child, T_VOTERS] & ~me
                    total = 0.0
                    for j in range(n):
                        if (voters >> j) & 1:
                            value = path[depth, j] + table[level, j]
                            bound = min(bound, value + room[below, j])
                            if (shared >> j) & 1:
                                total += value
                    if n_shared > 1 and not leaf:
                        bound = min(bound, (total + shared_room[below]) * scale)
                else:
                    sums_row = depth * width + slots
                    for j in range(n):
                        kid_sum[sums_row, j] = path[depth, j] + table[level, j]
                    if leaf:
                        bound = coalition_value(
                            rules,
                            required,
                            col_applies(n),
                            order[tree[child, column]],
                            me,
                            tree[child, T_VOTERS] & ~me,
                            kid_sum[sums_row],
                        )
                    elif tree[child, T_SMALLEST] > 1:
                        need = tree[child, T_SMALLEST] - 1
                        voters = tree[child, T_ANY_VOTER] & ~me
                        held = 0
                        for j in range(n):
                            if (voters >> j) & 1:
                                value = kid_sum[sums_row, j] + room[below, j]
                                q = held
                                while q > 0 and largest[q - 1] < value:
                                    largest[q] = largest[q - 1]
                                    q -= 1
                                largest[q] = value
                                held += 1
                        bound = largest[need - 1] if held >= need else -np.inf
                if leaf:  # the bound is its score
                    position = tree[child, column]
                    if bound > best_score or (
                        bound == best_score and position > best_position
                    ):
                        best_score = bound
                        best_position = position
                    continue
                kids[depth, slots] = child
                kid_bound[depth, slots] = bound
                q = slots
                while q > 0 and kid_bound[depth, rank[depth, q - 1]] < bound:
                    rank[depth, q] = rank[depth, q - 1]
                    q -= 1
                rank[depth, q] = slots
                slots += 1
            filled[depth] = slots
            taken[depth] = 0
            expand = False
        if taken[depth] == filled[depth]:
            if depth == 0:
                return order[best_position]
            depth -= 1
            continue
        slot = rank[depth, taken[depth]]
        taken[depth] += 1
        if kid_bound[depth, slot] + MODEL_SLACK < best_score:
            taken[depth] = filled[depth]  # the others' bounds are no higher
            continue
        node = kids[depth, slot]
        level = tree[node, T_COLUMN]
        for j in range(n):  # the child's sums (as its bound added them)
            path[depth + 1, j] = path[depth, j] + table[level, j]
        depth += 1
        expand = True


MEMO_HASH, MEMO_PICK, MEMO_ACTOR, MEMO_COUNT, MEMO_GUESS, MEMO_COUNTS = range(6)
"""Columns of the pick memo's entries (:func:`pick_memo`): the key's hash, the
pick (-1 for an empty entry), the key's actor, prefix length and guess, then
the counts of every other actor, row by row."""
PICK_MEMO_BYTES = 2 << 20
"""The most a pick memo's entries take (at least 64, at most 4,096 entries)."""
MEMO_SIGHTINGS = 1 << 14
"""How many hashes of keys searched once the memo keeps (128 KiB)."""


def pick_memo(n_actors: int, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """An empty memo of :func:`private_pick`'s results (:func:`remembered_pick`).

    Returns:
        ``(sightings, entries)``: ``int64[MEMO_SIGHTINGS]`` hashes of keys
        searched once (-1: none), and ``int64[capacity, MEMO_COUNTS +
        (n_actors - 1) * n_levels]`` entries (columns ``MEMO_*``), a power of
        two of them that fits in :data:`PICK_MEMO_BYTES`.
    """
    width = MEMO_COUNTS + (n_actors - 1) * n_levels
    capacity = 64
    while capacity < 4096 and 2 * capacity * width * 8 <= PICK_MEMO_BYTES:
        capacity *= 2
    entries = np.zeros((capacity, width), np.int64)
    entries[:, MEMO_PICK] = -1
    return np.full(MEMO_SIGHTINGS, -1, np.int64), entries


_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _memo_hash(counts, actor, count, guess) -> np.uint64:
    """A hash of :func:`private_pick`'s inputs that vary (the others' counts)."""
    h0 = (np.uint64(actor) * _HASH_MUL) ^ np.uint64(count)
    h1 = np.uint64(guess + 1) * _HASH_MUL
    h2 = np.uint64(0)
    h3 = np.uint64(0)
    levels = counts.shape[1]
    for j in range(counts.shape[0]):
        if j == actor:
            continue
        c = 0
        while c + 4 <= levels:  # four independent chains
            h0 = (h0 ^ np.uint64(counts[j, c])) * _HASH_MUL
            h1 = (h1 ^ np.uint64(counts[j, c + 1])) * _HASH_MUL
            h2 = (h2 ^ np.uint64(counts[j, c + 2])) * _HASH_MUL
            h3 = (h3 ^ np.uint64(counts[j, c + 3])) * _HASH_MUL
            c += 4
        while c < levels:
            h0 = (h0 ^ np.uint64(counts[j, c])) * _HASH_MUL
            c += 1
    h = h0 ^ (h1 >> np.uint64(7)) ^ (h2 >> np.uint64(13)) ^ (h3 >> np.uint64(19))
    return h ^ (h >> np.uint64(29))


@njit(cache=True)
def remembered_pick(game, tree, memo, order, counts, actor, count, guess) -> int:
    """:func:`private_pick`, from ``memo`` when it holds the same inputs.

    The pick reads only the other actors' counts (the proposer's own column
    of the estimates is 0), the prefix length and the guess, so an entry
    keyed by exactly those, compared in full, holds the search's own result:
    the memo changes no pick, only how often the search runs (the episodes
    of deterministic strategies repeat their picks until a draw tells them
    apart). A key gets an entry the second time it is searched; the first
    time only its hash is noted among the sightings, so picks that never
    repeat cost a hash (about 28 ns) and one write to a 128 KiB table
    (matches with random proposers, whose picks rarely repeat: about 3%
    slower than the search alone; benchmarks/README.md, "The pick memo").
    An entry or a sighting is overwritten by the next key hashed to its row.
    """
    sightings, entries = memo
    n, levels = counts.shape
    h = _memo_hash(counts, actor, count, guess)
    key = np.int64(h >> np.uint64(1))
    seen = np.intp((h >> np.uint64(32)) & np.uint64(sightings.shape[0] - 1))
    if sightings[seen] != key:  # a first sighting: no entry to look up
        sightings[seen] = key
        return private_pick(game, tree, order, counts, actor, count, guess)
    at = np.intp(h & np.uint64(entries.shape[0] - 1))
    if (
        entries[at, MEMO_PICK] >= 0
        and entries[at, MEMO_HASH] == key
        and entries[at, MEMO_ACTOR] == actor
        and entries[at, MEMO_COUNT] == count
        and entries[at, MEMO_GUESS] == guess
    ):
        same = True
        start = MEMO_COUNTS
        for j in range(n):
            if j == actor:
                continue
            for c in range(levels):
                same &= entries[at, start + c] == counts[j, c]
            if not same:
                break
            start += levels
        if same:
            return entries[at, MEMO_PICK]
    pick = private_pick(game, tree, order, counts, actor, count, guess)
    entries[at, MEMO_HASH] = key
    entries[at, MEMO_PICK] = pick
    entries[at, MEMO_ACTOR] = actor
    entries[at, MEMO_COUNT] = count
    entries[at, MEMO_GUESS] = guess
    start = MEMO_COUNTS
    for j in range(n):
        if j != actor:
            for c in range(levels):
                entries[at, start + c] = counts[j, c]
            start += levels
    return pick


def model_pick(game, tree, memo, order, counts, actor, count, guess) -> int:
    """:func:`remembered_pick`, or nothing when the plan has no model (``tree`` None).

    Chosen when the caller is compiled, by the type of the plan's tree
    (:attr:`peacegame.engine.tables.Plan.tables` holds None there when no
    strategy reads the opponent model): a public match never compiles the
    search, about 3.7 s of a first run's 17 s of compilation (measured
    2026-12-02). Unreachable without a model, so the stand-in returns the
    best outcome.
    """
    raise NotImplementedError("model_pick runs only in compiled code")


@overload(model_pick, jit_options={"cache": True})
def _model_pick(game, tree, memo, order, counts, actor, count, guess):
    if isinstance(tree, types.NoneType):
        return lambda game, tree, memo, order, counts, actor, count, guess: order[0]
    return lambda game, tree, memo, order, counts, actor, count, guess: remembered_pick(
        game, tree, memo, order, counts, actor, count, guess
    )


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
def last_proposal(ints, row, actor) -> int:
    """``actor``'s proposal in the latest completed round it proposed, or -1."""
    n, rounds = ints[I_ACTORS], ints[I_ROUNDS]
    offers, proposers = col_record_offers(n), col_record_proposers(n, rounds)
    for r in range(row[C_ROUNDS_DONE] - 1, -1, -1):
        if row[proposers + r] == actor:
            return row[offers + r]
    return -1


@njit(cache=True, inline="always")
def choose_proposal(game, plan, memory, counts, row, round_index, actor) -> int:
    """The proposal of scripted ``actor`` in ``round_index``; ``row`` is its state."""
    ints, floats = game[G_INTS], game[G_FLOATS]
    plan_i = plan[PL_I]
    kind = plan_i[actor, P_KIND]
    if kind == RANDOM:
        key = row[C_KEY]
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
    guess = last_proposal(ints, row, actor)
    return model_pick(
        game,
        plan[PL_MODEL_TREE],
        plan[PL_PICK_MEMO],
        order,
        counts,
        actor,
        count,
        guess,
    )


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
        return choose_proposal(
            game, plan, memory, counts, state[slot], round_index, actor
        )
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
