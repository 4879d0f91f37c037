"""Voting rules, compiled: who votes on an outcome and which coalitions carry it.

A scenario's consent rules (:class:`peacegame.scenario.model.ConsentRule`)
compile to :class:`ConsentTables`, exact integer tables:

* ``weights[r, i]``: actor i's weight in rule r (0 outside it; 1 for an
  "all of" or quota rule), scaled to integers so sums are exact;
* ``threshold[r]``: the weight the accepting actors must reach;
* ``veto[r, i]``: 1 where actor i's acceptance is necessary for rule r;
* ``applies[k, r]``: 1 where rule r applies to outcome k (its ``when``).

A coalition is a bit mask over actors (actor i is bit ``1 << i``). It
**carries** outcome k when every rule that applies to k is met: the weights of
its members in the rule sum to at least the threshold and it holds every veto
of the rule. An outcome no rule applies to is carried by anyone. Carrying is
monotone: adding members never breaks it.

These functions are the one home of that rule. The engine's vote count
(:mod:`peacegame.engine.rules`), the scripted strategies' acceptance estimates,
the zone of agreement (:mod:`peacegame.solutions`) and the backward induction
of :mod:`peacegame.theory.grid` all call them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from numba import njit

MAX_ACTORS = 62
"""Coalitions are int64 bit masks, so a scenario has at most this many actors."""


@dataclass(frozen=True, eq=False)
class ConsentTables:
    """The compiled voting rules (see the module docstring).

    Attributes:
        weights: ``int64[n_rules, n_actors]``.
        threshold: ``int64[n_rules]``.
        veto: ``uint8[n_rules, n_actors]``.
        applies: ``uint8[n_outcomes, n_rules]``.
        members: ``bool[n_rules, n_actors]``, each rule's actors.
        names: Each rule's name (``rule<i>`` when it has none).
        unanimous: Whether every rule needs every one of its actors, so that an
            outcome is carried exactly when all the actors that vote on it
            accept (the form of every scenario before quota rules).
        veto_players: ``uint8[n_outcomes, n_actors]``, see
            :func:`consent_summary`.
        smallest: ``uint8[n_outcomes]``, the smallest carrying coalition's size.
        rules: ``int64[n_rules, 2 n_actors + 1]``, weights, veto and threshold
            packed for the compiled functions (:func:`pack_rules`; derived).
    """

    weights: np.ndarray
    threshold: np.ndarray
    veto: np.ndarray
    applies: np.ndarray
    members: np.ndarray
    names: tuple[str, ...]
    unanimous: bool
    veto_players: np.ndarray
    smallest: np.ndarray
    rules: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "rules", pack_rules(self.weights, self.threshold, self.veto)
        )
        for array in (
            self.rules,
            self.smallest,
            self.weights,
            self.threshold,
            self.veto,
            self.applies,
            self.members,
            self.veto_players,
        ):
            array.setflags(write=False)

    @property
    def n_rules(self) -> int:
        """Number of rules."""
        return int(self.threshold.shape[0])

    def voters(self) -> np.ndarray:
        """``bool[n_actors, n_outcomes]``: the actors some applying rule counts."""
        return voters_of(self.applies, self.members)


def voters_of(applies: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``bool[n_actors, n_outcomes]``: the actors some applying rule counts."""
    counted = applies.astype(np.int64) @ members.astype(np.int64)
    return np.ascontiguousarray((counted > 0).T)


def rule_integers(rule: Any, n_members: int) -> tuple[list[int], int]:
    """A rule's member weights and threshold as exact integers.

    Args:
        rule: A :class:`~peacegame.scenario.model.ConsentRule`.
        n_members: The number of its actors.

    Returns:
        The weights in the order of ``rule.members`` and the threshold.

    Raises:
        ValueError: If the scaled weights do not fit in 62 bits.
    """
    if rule.weights is not None:
        exact = [Fraction(str(rule.weights[a])) for a in rule.members]
        target = Fraction(str(rule.threshold))
        scale = math.lcm(*(f.denominator for f in [*exact, target]))
        weights = [int(f * scale) for f in exact]
        threshold = int(target * scale)
        if sum(weights) >= 2**62:
            raise ValueError(
                "the weights need more than 62 bits as exact integers; "
                "expected fewer decimal places"
            )
        return weights, threshold
    if rule.quota is None:
        count = n_members
    elif rule.quota == "majority":
        count = n_members // 2 + 1
    elif isinstance(rule.quota, int):
        count = rule.quota
    else:
        count = math.ceil(Fraction(str(rule.quota)) * n_members)
    return [1] * n_members, count


def compile_consent(
    rules: list[Any], actor_ids: list[str], applies: list[np.ndarray]
) -> ConsentTables:
    """Compile consent rules to :class:`ConsentTables`.

    Args:
        rules: The scenario's consent rules.
        actor_ids: The actor ids, in scenario order.
        applies: Per rule, ``bool[n_outcomes]`` where it applies.

    Returns:
        The tables.

    Raises:
        ValueError: With more than :data:`MAX_ACTORS` actors.
    """
    n = len(actor_ids)
    if n > MAX_ACTORS:
        raise ValueError(f"{n} actors; the voting rules support at most {MAX_ACTORS}")
    n_rules = len(rules)
    weights = np.zeros((n_rules, n), np.int64)
    threshold = np.zeros(n_rules, np.int64)
    veto = np.zeros((n_rules, n), np.uint8)
    members = np.zeros((n_rules, n), bool)
    unanimous = True
    for r, rule in enumerate(rules):
        member_ids = rule.members
        rule_weights, threshold[r] = rule_integers(rule, len(member_ids))
        for actor_id, w in zip(member_ids, rule_weights, strict=True):
            weights[r, actor_ids.index(actor_id)] = w
            members[r, actor_ids.index(actor_id)] = True
        for actor_id in rule.veto:
            veto[r, actor_ids.index(actor_id)] = 1
        total = sum(rule_weights)
        unanimous &= all(  # every actor of the rule is necessary
            actor_id in rule.veto or total - w < threshold[r]
            for actor_id, w in zip(member_ids, rule_weights, strict=True)
        )
    n_outcomes = applies[0].shape[0] if applies else 0
    table = np.zeros((n_outcomes, n_rules), np.uint8)
    for r, mask in enumerate(applies):
        table[:, r] = mask
    names = tuple(rule.name or f"rule{r}" for r, rule in enumerate(rules))
    return _tables(weights, threshold, veto, table, members, names, bool(unanimous))


def _tables(
    weights: np.ndarray,
    threshold: np.ndarray,
    veto: np.ndarray,
    applies: np.ndarray,
    members: np.ndarray,
    names: tuple[str, ...],
    unanimous: bool,
) -> ConsentTables:
    """:class:`ConsentTables` with the per-outcome summary computed."""
    applies = np.ascontiguousarray(applies, np.uint8)
    veto_players, smallest = consent_summary(
        weights, threshold, veto, applies, voters_of(applies, members)
    )
    return ConsentTables(
        weights=weights,
        threshold=threshold,
        veto=veto,
        applies=applies,
        members=members,
        names=names,
        unanimous=unanimous,
        veto_players=veto_players,
        smallest=smallest,
    )


# ------------------------------------------------------------ compiled checks
# The compiled functions read the rules packed in one array (``rules``, see
# :func:`pack_rules`) and where each applies from columns ``column ..
# column + n_rules`` of an outcome table (``ConsentTables.applies`` with column
# 0, or the engine's wider per-outcome table): the engine passes its tables as
# one tuple, and every array more in it costs each compiled call.


def pack_rules(weights: np.ndarray, threshold: np.ndarray, veto: np.ndarray):
    """``int64[n_rules, 2 n + 1]``: each rule's weights, veto flags, threshold."""
    return np.ascontiguousarray(
        np.concatenate(
            [weights, veto.astype(np.int64), threshold[:, None]], axis=1
        ).astype(np.int64)
    )


@njit(cache=True, inline="always")
def carries(rules, table, column, outcome, coalition) -> bool:
    """Whether the ``coalition`` bit mask carries ``outcome`` under every rule."""
    n_rules = rules.shape[0]
    n = (rules.shape[1] - 1) // 2
    for r in range(n_rules):
        if table[outcome, column + r] == 0:
            continue
        total = 0
        for i in range(n):
            if (coalition >> i) & 1:
                total += rules[r, i]
            elif rules[r, n + i] != 0:
                return False
        if total < rules[r, 2 * n]:
            return False
    return True


@njit(cache=True)
def cheapest_coalition(rules, table, column, outcome, base, voters, values):
    """The most willing winning coalition: a bit mask, or -1 if none carries.

    Over the coalitions that contain ``base`` (a bit mask, the proposer),
    draw their other members from ``voters`` (a bit mask) so that they carry
    ``outcome`` with the largest smallest ``values[j]`` among the other
    members. Carrying is monotone, so adding the voters in decreasing value
    (ties: lower index first) until the coalition carries the outcome finds
    it; ``base`` alone when it carries the outcome.
    """
    coalition = base
    if carries(rules, table, column, outcome, coalition):
        return coalition
    remaining = voters & ~base
    while remaining != 0:
        pick = -1
        best = -np.inf
        j = 0
        bits = remaining
        while bits != 0:
            if bits & 1 and (pick < 0 or values[j] > best):
                pick = j
                best = values[j]
            bits >>= 1
            j += 1
        coalition |= np.int64(1) << pick
        remaining &= ~(np.int64(1) << pick)
        if carries(rules, table, column, outcome, coalition):
            return coalition
    return np.int64(-1)


@njit(cache=True)
def coalition_value(rules, table, column, outcome, base, voters, values):
    """The most willing winning coalition's least willing voter.

    The smallest ``values[j]`` among the members of
    :func:`cheapest_coalition` other than ``base``: +inf if ``base`` alone
    carries ``outcome``, -inf if no coalition does.
    """
    coalition = cheapest_coalition(rules, table, column, outcome, base, voters, values)
    if coalition < 0:
        return -np.inf
    least = np.inf
    others = coalition & ~base
    j = 0
    while others != 0:
        if others & 1 and values[j] < least:
            least = values[j]
        others >>= 1
        j += 1
    return least


@njit(cache=True)
def carried_outcomes(rules, applies, accept):
    """``bool[n_outcomes]``: the actors flagged in ``accept[n, k]`` carry ``k``."""
    n, n_outcomes = accept.shape
    out = np.empty(n_outcomes, np.bool_)
    for k in range(n_outcomes):
        coalition = np.int64(0)
        for i in range(n):
            if accept[i, k]:
                coalition |= np.int64(1) << i
        out[k] = carries(rules, applies, 0, k, coalition)
    return out


@njit(cache=True)
def coalition_scores(rules, applies, voters, values, proposer):
    """Per outcome, the needed voters' least value and their product of gains.

    The needed voters are the members of :func:`cheapest_coalition` other
    than ``proposer``. ``least`` is :func:`coalition_value`: their smallest
    ``values[j]``. ``product`` is the product of their ``max(values[j], 0)``:
    with ``values`` the voters' surpluses over their no-deal values, it orders
    the outcomes by the chance that the coalition accepts when each member
    accepts independently with a probability proportional to its surplus
    (the ``utility`` action interface's proposal rule). Both are +inf where
    the proposer alone carries the outcome and -inf where no coalition does.

    Args:
        rules: ``int64[n_rules, 2 n + 1]`` (:func:`pack_rules`).
        applies: ``uint8[n_outcomes, n_rules]``.
        voters: ``uint8[n_outcomes, n_actors]``, who votes on each outcome.
        values: ``float64[n_actors, n_outcomes]``, each voter's willingness.
        proposer: The proposer's index.

    Returns:
        ``(least, product)``, each ``float64[n_outcomes]``.
    """
    n_outcomes, n = voters.shape
    least = np.empty(n_outcomes, np.float64)
    product = np.empty(n_outcomes, np.float64)
    column = np.empty(n, np.float64)
    base = np.int64(1) << proposer
    for k in range(n_outcomes):
        mask = np.int64(0)
        for i in range(n):
            column[i] = values[i, k]
            if voters[k, i] != 0:
                mask |= np.int64(1) << i
        coalition = cheapest_coalition(rules, applies, 0, k, base, mask, column)
        if coalition < 0:
            least[k] = product[k] = -np.inf
            continue
        others = coalition & ~base
        if others == 0:
            least[k] = product[k] = np.inf
            continue
        smallest, gains = np.inf, 1.0
        for j in range(n):
            if (others >> j) & 1:
                smallest = min(smallest, column[j])
                gains *= max(column[j], 0.0)
        least[k], product[k] = smallest, gains
    return least, product


@njit(cache=True)
def coalition_values(rules, applies, voters, values, proposer):
    """:func:`coalition_value` of every outcome for ``proposer``.

    The ``least`` of :func:`coalition_scores` (same arguments).

    Returns:
        ``float64[n_outcomes]``.
    """
    return coalition_scores(rules, applies, voters, values, proposer)[0]


@njit(cache=True)
def _pattern_summary(rules, applies_row, voters):
    """Veto players and the smallest carrying coalition's size, for one row."""
    n = (rules.shape[1] - 1) // 2
    one = np.zeros((1, applies_row.shape[0]), np.uint8)
    # An element loop, not ``one[0] = applies_row``: numba's array-to-slice
    # assignment brings its shape-error message formatting, 2.3 s of the first
    # run's compilation (measured 2026-12-01).
    for c in range(applies_row.shape[0]):
        one[0, c] = applies_row[c]
    members = []
    for i in range(n):
        if (voters >> i) & 1:
            members.append(i)
    m = len(members)
    vetoes = np.zeros(n, np.uint8)
    for i in members:
        if not carries(rules, one, 0, 0, voters & ~(np.int64(1) << i)):
            vetoes[i] = 1
    smallest = m
    for subset in range(1 << m):
        size = 0
        coalition = np.int64(0)
        for b in range(m):
            if (subset >> b) & 1:
                size += 1
                coalition |= np.int64(1) << members[b]
        if size < smallest and carries(rules, one, 0, 0, coalition):
            smallest = size
    return vetoes, smallest


def consent_summary(
    weights: np.ndarray,
    threshold: np.ndarray,
    veto: np.ndarray,
    applies: np.ndarray,
    voters: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per outcome, the veto players and the smallest carrying coalition's size.

    An actor is a **veto player** of outcome k when no coalition without it
    carries k (under unanimity, every voter). The observation's **quota** of k
    is the smallest carrying coalition's size over the number of actors that
    vote on k (0 when nobody votes). Outcomes with the same applying rules share the
    answer, so each distinct pattern is solved once, by enumerating its
    coalitions (2 ** voters of them).

    Args:
        weights: ``int64[n_rules, n_actors]``.
        threshold: ``int64[n_rules]``.
        veto: ``uint8[n_rules, n_actors]``.
        applies: ``uint8[n_outcomes, n_rules]``.
        voters: ``bool[n_actors, n_outcomes]``.

    Returns:
        ``uint8[n_outcomes, n_actors]`` veto flags and ``uint8[n_outcomes]``
        sizes of the smallest carrying coalitions.
    """
    n, n_outcomes = voters.shape
    vetoes = np.zeros((n_outcomes, n), np.uint8)
    smallest_size = np.zeros(n_outcomes, np.uint8)
    if n_outcomes == 0:
        return vetoes, smallest_size
    rules = pack_rules(weights, threshold, veto)
    patterns, inverse = np.unique(applies, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    for p in range(patterns.shape[0]):
        rows = np.flatnonzero(inverse == p)
        voter_mask = 0
        for i in np.flatnonzero(voters[:, rows[0]]):
            voter_mask |= 1 << int(i)
        flags, smallest = _pattern_summary(
            rules,
            np.ascontiguousarray(patterns[p]),
            np.int64(voter_mask),
        )
        vetoes[rows] = flags
        smallest_size[rows] = smallest
    return vetoes, smallest_size


def minimal_winning_coalitions(
    tables: ConsentTables, voters: np.ndarray, outcome: int
) -> list[list[int]]:
    """The minimal coalitions (actor indices) that carry ``outcome``.

    A coalition of the actors who vote on ``outcome`` is minimal winning when
    it carries the outcome and no coalition with one member fewer does
    (carrying is monotone, so no smaller subset does either). Enumerates the
    2 ** voters coalitions: refuses more than 20 voters.

    Args:
        tables: The compiled rules.
        voters: ``bool[n_actors, n_outcomes]``.
        outcome: The outcome index.

    Returns:
        The coalitions, smallest first, then in lexicographic order.

    Raises:
        ValueError: With more than 20 voters.
    """
    members = [int(i) for i in np.flatnonzero(voters[:, outcome])]
    if len(members) > 20:
        raise ValueError(
            f"outcome {outcome} has {len(members)} voters; minimal winning "
            "coalitions are enumerated for at most 20"
        )
    row = np.ascontiguousarray(tables.applies[outcome : outcome + 1])

    def wins(mask: int) -> bool:
        return bool(carries(tables.rules, row, 0, 0, np.int64(mask)))

    found: list[list[int]] = []
    for subset in range(1 << len(members)):
        mask = 0
        for b, i in enumerate(members):
            if (subset >> b) & 1:
                mask |= 1 << i
        if not wins(mask):
            continue
        if all(not wins(mask & ~(1 << i)) for i in members if (mask >> i) & 1):
            found.append([i for i in members if (mask >> i) & 1])
    return sorted(found, key=lambda c: (len(c), c))


def unanimity(required: np.ndarray) -> ConsentTables:
    """The "all of" rules that make exactly ``required`` vote, every vote needed.

    One rule per actor: actor i must accept wherever ``required[i]`` is set.
    This is how every scenario behaved before quota rules.

    Args:
        required: ``bool[n_actors, n_outcomes]``.

    Returns:
        The tables.
    """
    required = np.asarray(required, bool)
    n, n_outcomes = required.shape
    weights = np.eye(n, dtype=np.int64)
    threshold = np.ones(n, np.int64)
    veto = np.zeros((n, n), np.uint8)
    applies = np.ascontiguousarray(required.T.astype(np.uint8))
    members = np.eye(n, dtype=bool)
    names = tuple(f"rule{i}" for i in range(n))
    return _tables(weights, threshold, veto, applies, members, names, True)
