"""Action interfaces: what a learner's action means, translated to the rules' moves.

The rules (:mod:`peacegame.engine.rules`) take *concrete* actions: propose
outcome ``k`` (``0 .. n_outcomes - 1``), ACCEPT (``n_outcomes``), REJECT
(``n_outcomes + 1``), WAIT (``n_outcomes + 2``). An action interface puts a
smaller or factored action space in front of them; every env, adapter and
trainer translates through the compiled functions here, so the meaning of an
action has this one home. Each interface has ``n_choices`` proposal choices and
then ACCEPT = ``n_choices``, REJECT = ``n_choices + 1``, WAIT = ``n_choices +
2``: ``Discrete(n_choices + 3)``.

* ``outcome`` (the default): ``n_choices = n_outcomes``, the concrete actions
  themselves. Proposal mask: every outcome.
* ``utility``: ``n_choices = K`` (``utility_bins``), a target utility level.
  Bin ``b`` of actor ``i`` targets ``t_b = lo_i + (hi_i - lo_i) * b / (K - 1)``
  (``t_0 = lo_i`` for ``K = 1``), where ``hi_i`` is the largest of its
  utilities over the outcomes and ``lo_i`` its no-deal value ``d_i`` clipped
  into [smallest utility, ``hi_i``] (no bin asks for less than walking
  away). The kernel proposes :func:`utility_picks`: among the outcomes
  with ``U_i(o) >= t_b`` (never empty: the best outcome qualifies), under
  public information the one the others are most likely to accept. The
  voters it needs are the cheapest winning coalition
  (:func:`peacegame.scenario.consent.cheapest_coalition` over the others'
  surpluses ``s_j = U_j(o) - d_j``); first come the outcomes where each of
  them gets at least its no-deal value (``s_j >= 0``), ordered by the
  product of their surpluses (:func:`~peacegame.scenario.consent.
  coalition_scores`: if each needed voter accepted independently with a
  probability proportional to its surplus, the chance that all of them
  accept); then the others, by their least willing needed voter's surplus
  (:func:`~peacegame.scenario.consent.coalition_value`); products within
  :data:`~peacegame.solutions.TIE_TOLERANCE` tie; ties to the higher
  own utility, then the lower index. An outcome the proposer carries alone
  ranks first. Under private information, where the others' utilities are
  not the proposer's to know, the one closest to the target from above (the
  smallest ``U_i(o) >= t_b``, ties to the lower index). Proposal mask: every
  bin. The size does not grow with the number of outcomes.

  With ``utility_ties: random`` the last tie-break is a draw instead: the
  outcomes that tie with the pick on everything but the index (same
  willingness, score and own utility) are the bin's *tie set*, and each round
  the proposal is one of them drawn uniformly (:data:`~peacegame.engine.
  randomness.DRAW_TIE`, keyed by the episode and the round). In a
  symmetric game this lets a proposer's target buy any of the equally cheap
  coalitions rather than always the same one (measured in docs/training.md,
  "Theory": with the lower index, under majority rule two of the five actors
  are in every coalition and the learners' play is the equilibrium of that
  lopsided game).

  The utilities are the scenario's float32 table, so a grid outcome worth
  exactly a target in the scenario's numbers (0.35, 0.65 or 0.70 on a 5%
  grid) may round below the float64 target and miss its bin, which then
  proposes the next grid point up. With ``utility_snap: true`` the targets
  are rounded to float32 before the comparison, and every bin whose target
  is a grid value proposes it.

  Why the product and not the least surplus alone: the least surplus ignores
  every voter but one, so two outcomes that leave the binding voter equally
  well off rank the same however much worse one leaves everybody else; the
  product is the Nash product of the needed voters' gains, and a learner's
  proposal at its target is then the efficient one for the coalition
  (measured in docs/training.md, "Quality").
* ``issues``: ``n_choices = max_levels`` (the most levels of any issue). A
  proposal takes one **sub-step per issue**, in issue order: at sub-step ``j``
  the proposer picks a level of issue ``j``, and the mask allows exactly the
  levels that, with the levels chosen so far, extend to at least one feasible
  outcome. After the last issue the outcome with those levels is proposed. No
  sequence of masked actions can name an infeasible outcome. The sub-steps
  live in a per-slot *draft* (``int64[B, 3]``: depth, and the range
  ``[lo, hi)`` of outcomes, in grid order, that match the levels so far); the
  observation grows by ``draft_issue`` (one-hot: the issue being chosen) and
  ``draft_levels`` (one-hot over all levels: the levels chosen so far).

Votes and WAIT are the same in every interface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from peacegame.engine.config import PROPOSING
from peacegame.engine.randomness import DRAW_START, DRAW_TIE, draw_below, draw_unit
from peacegame.engine.rules import (
    C_KEY,
    C_PHASE,
    C_PROPOSER,
    C_ROUND,
    G_INTS,
    I_OUTCOMES,
    MASK_PROPOSE,
    MASK_VOTE,
    MASK_WAIT,
    mask_row,
)
from peacegame.scenario.consent import coalition_scores
from peacegame.solutions import TIE_TOLERANCE

ACTION_INTERFACES = ("outcome", "utility", "issues")
"""The interface names (the ``actions`` protocol field), indexed by code."""
KIND_OUTCOME, KIND_UTILITY, KIND_ISSUES = 0, 1, 2

SUBSTEP = -4
"""Return code of :func:`translate`: an issue level was drafted, nothing applied."""
ILLEGAL = -2
"""Return code of :func:`translate`: the action is illegal (nothing changed)."""

A_KIND, A_CHOICES, A_ISSUES, A_OUTCOMES = 0, 1, 2, 3
"""Entries of the interface's ``ints`` table."""
X_INTS, X_PICKS, X_LEVELS, X_TIE_SPAN, X_TIES = 0, 1, 2, 3, 4
"""Positions in the interface tuple: ints, ``picks[n_actors, K]``, levels,
``tie_span[n_actors, K, 2]`` (start and count of each bin's tie set in
``ties``) and ``ties`` (the tie sets, concatenated)."""
D_DEPTH, D_LO, D_HI = 0, 1, 2
"""Columns of a draft row."""


# ------------------------------------------------------------------- tables
def utility_targets(utility: np.ndarray, no_deal: np.ndarray, bins: int) -> np.ndarray:
    """``float64[n_actors, bins]``: each bin's target utility (module doc)."""
    hi = utility.max(axis=1, keepdims=True)
    lo = np.clip(
        np.asarray(no_deal, np.float64)[:, None],
        utility.min(axis=1, keepdims=True),
        hi,
    )
    if bins == 1:
        return np.repeat(lo, 1, axis=1)
    steps = np.arange(bins, dtype=np.float64) / (bins - 1)
    targets = lo + (hi - lo) * steps[None, :]
    targets[:, -1] = hi[:, 0]  # exactly the best outcome's utility
    return targets


def utility_picks(
    utility: np.ndarray,
    no_deal: np.ndarray,
    required: np.ndarray,
    consent: object,
    bins: int,
    public: bool,
) -> np.ndarray:
    """``int64[n_actors, bins]``: the outcome each target bin proposes.

    The first outcome of each bin's tie set (:func:`utility_tie_sets`), the
    proposal under ``utility_ties: first``. Arguments as there.
    """
    return utility_tie_sets(utility, no_deal, required, consent, bins, public)[0]


def utility_tie_sets(
    utility: np.ndarray,
    no_deal: np.ndarray,
    required: np.ndarray,
    consent: object,
    bins: int,
    public: bool,
    ties: bool = False,
    snap: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each target bin's proposal and, if asked, its tie set (module doc).

    Args:
        utility: ``float64[n_actors, n_outcomes]``.
        no_deal: ``float64[n_actors]``.
        required: ``uint8[n_outcomes, n_actors]``, who votes on each outcome.
        consent: The scenario's :class:`~peacegame.scenario.consent.
            ConsentTables`.
        bins: ``K``.
        public: Whether information is public (see the module doc).
        ties: Whether to collect the tie sets; without, each bin's set is its
            pick alone.
        snap: Whether to compare at float32 precision (``utility_snap``).

    Returns:
        ``picks`` (``int64[n_actors, bins]``, the first of each set, the
        lower index), ``span`` (``int64[n_actors, bins, 2]``: start and count
        of each set in ``members``) and ``members`` (the sets, concatenated,
        each in ascending index order).
    """
    n, n_outcomes = utility.shape
    targets = utility_targets(utility, no_deal, bins)
    if snap:
        targets = targets.astype(np.float32).astype(np.float64)
    picks = np.zeros((n, bins), np.int64)
    span = np.zeros((n, bins, 2), np.int64)
    members: list[np.ndarray] = []
    at = 0
    surplus = np.ascontiguousarray(utility - np.asarray(no_deal)[:, None])
    for i in range(n):
        own = utility[i]
        if public:
            args = (
                consent.rules,  # type: ignore[attr-defined]
                consent.applies,  # type: ignore[attr-defined]
                np.ascontiguousarray(required, np.uint8),
                surplus,
                i,
            )
            least, product = coalition_scores(*args)
            willing = least >= 0.0  # every needed voter at or above no deal
            # Products equal up to rounding are a tie (the project's tolerance).
            product = np.round(product / TIE_TOLERANCE)
            score = np.where(willing, product, least)
            # Best first: willing, score, own utility, lower index.
            order = np.lexsort((np.arange(n_outcomes), -own, -score, ~willing))
            keys = np.stack([willing[order], score[order], own[order]])
        else:
            # Closest from above: own utility ascending, then lower index.
            order = np.lexsort((np.arange(n_outcomes), own))
            keys = own[order][None, :]
        ranked_own = own[order]
        # Run ends: position p starts a new run when its key differs from p - 1's.
        new_run = np.ones(n_outcomes, bool)
        new_run[1:] = np.any(keys[:, 1:] != keys[:, :-1], axis=0)
        run_end = np.append(np.flatnonzero(new_run)[1:], n_outcomes)
        run_of = np.cumsum(new_run) - 1
        for b in range(bins):
            first = int(np.flatnonzero(ranked_own >= targets[i, b])[0])
            picks[i, b] = order[first]
            # The run from ``first`` on: all at or above the target (same own).
            stop = int(run_end[run_of[first]]) if ties else first + 1
            tied = np.sort(order[first:stop])
            span[i, b] = (at, tied.size)
            members.append(tied)
            at += tied.size
    return picks, span, np.concatenate(members).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ActionInterface:
    """One action interface of a game, as the kernel's tables.

    Attributes:
        name: ``outcome``, ``utility`` or ``issues``.
        kind: Its code (``KIND_*``).
        n_choices: Proposal choices (outcomes, bins or the most levels).
        n_actions: ``n_choices + 3``.
        accept_action: ``n_choices``.
        reject_action: ``n_choices + 1``.
        wait_action: ``n_choices + 2``.
        extra_fields: Observation fields the interface adds (name -> size).
        tables: The compiled functions' ``iface`` tuple (``X_*`` positions).
        targets: ``utility``: ``float64[n_actors, K]`` the bins' targets.
    """

    name: str
    kind: int
    n_choices: int
    extra_fields: tuple[tuple[str, int], ...]
    tables: tuple[np.ndarray, ...]
    targets: np.ndarray | None = None

    @property
    def n_actions(self) -> int:
        """``n_choices + 3``."""
        return self.n_choices + 3

    @property
    def accept_action(self) -> int:
        """ACCEPT."""
        return self.n_choices

    @property
    def reject_action(self) -> int:
        """REJECT."""
        return self.n_choices + 1

    @property
    def wait_action(self) -> int:
        """WAIT."""
        return self.n_choices + 2

    @property
    def extra_size(self) -> int:
        """Length the interface adds to the observation vector."""
        return sum(size for _, size in self.extra_fields)

    @property
    def picks(self) -> np.ndarray:
        """``utility``: ``int64[n_actors, K]``, each bin's first proposal."""
        return self.tables[X_PICKS]

    def tie_set(self, actor: int, choice: int) -> np.ndarray:
        """``utility``: the outcomes bin ``choice`` of ``actor`` may propose."""
        start, count = self.tables[X_TIE_SPAN][actor, choice]
        return self.tables[X_TIES][start : start + count]

    def new_drafts(self, size: int) -> np.ndarray:
        """``int64[size, 3]`` fresh drafts (no level chosen)."""
        drafts = np.zeros((size, 3), np.int64)
        drafts[:, D_HI] = self.tables[X_INTS][A_OUTCOMES]
        return drafts


def build_interface(
    name: str,
    *,
    utility: np.ndarray,
    no_deal: np.ndarray,
    required: np.ndarray,
    consent: object,
    levels: np.ndarray,
    level_counts: list[int],
    bins: int,
    public: bool,
    ties: str = "first",
    snap: bool = False,
) -> ActionInterface:
    """Build the ``name`` interface of a game (see the module doc).

    Args:
        name: ``outcome``, ``utility`` or ``issues``.
        utility: ``float64[n_actors, n_outcomes]``.
        no_deal: ``float64[n_actors]``.
        required: ``uint8[n_outcomes, n_actors]``.
        consent: The scenario's consent tables.
        levels: ``[n_outcomes, n_issues]`` level indices, in grid order.
        level_counts: Levels per issue.
        bins: ``utility``: ``K``.
        public: Whether information is public.
        ties: ``utility``: ``"first"`` or ``"random"`` (the protocol's
            ``utility_ties``).
        snap: ``utility``: the protocol's ``utility_snap``.

    Raises:
        ValueError: On an unknown name or tie rule, or ``bins < 1``.
    """
    if ties not in ("first", "random"):
        raise ValueError(f"unknown utility_ties {ties!r}; expected first or random")
    if name not in ACTION_INTERFACES:
        raise ValueError(
            f"unknown action interface {name!r}; expected one of "
            f"{list(ACTION_INTERFACES)}"
        )
    n, n_outcomes = utility.shape
    kind = ACTION_INTERFACES.index(name)
    n_issues = len(level_counts)
    grid = np.ascontiguousarray(levels, dtype=np.int64)
    if n_outcomes > 1 and np.any(np.diff(grid_keys(grid, level_counts)) <= 0):
        raise ValueError("outcomes must be numbered in grid order")
    picks = np.zeros((n, 1), np.int64)
    span = np.zeros((n, 1, 2), np.int64)
    members = np.zeros(1, np.int64)
    targets = None
    fields: tuple[tuple[str, int], ...] = ()
    if kind == KIND_OUTCOME:
        choices = n_outcomes
    elif kind == KIND_UTILITY:
        if bins < 1:
            raise ValueError(f"utility_bins must be >= 1, got {bins}")
        choices = bins
        picks, span, members = utility_tie_sets(
            utility, no_deal, required, consent, bins, public, ties == "random", snap
        )
        targets = utility_targets(utility, no_deal, bins)
    else:
        choices = int(max(level_counts))
        fields = (("draft_issue", n_issues), ("draft_levels", int(sum(level_counts))))
    ints = np.array([kind, choices, n_issues, n_outcomes, *level_counts], np.int64)
    for array in (ints, picks, grid, span, members):
        array.setflags(write=False)
    return ActionInterface(
        name=name,
        kind=kind,
        n_choices=int(choices),
        extra_fields=fields,
        tables=(ints, picks, grid, span, members),
        targets=targets,
    )


def grid_keys(levels: np.ndarray, level_counts: list[int]) -> np.ndarray:
    """Each outcome's mixed-radix grid number (issue 0 most significant)."""
    keys = np.zeros(levels.shape[0], np.int64)
    for j, count in enumerate(level_counts):
        keys = keys * int(count) + levels[:, j]
    return keys


# ---------------------------------------------------------------- compiled
@njit(cache=True, inline="always")
def _level_range(grid, lo, hi, column, level):
    """The sub-range of ``[lo, hi)`` whose ``column`` equals ``level`` (sorted)."""
    a, b = lo, hi
    while a < b:  # first position with grid[., column] >= level
        mid = (a + b) // 2
        if grid[mid, column] < level:
            a = mid + 1
        else:
            b = mid
    start = a
    b = hi
    while a < b:  # first position with grid[., column] > level
        mid = (a + b) // 2
        if grid[mid, column] <= level:
            a = mid + 1
        else:
            b = mid
    return start, a


@njit(cache=True)
def reset_draft(iface, drafts, slot) -> None:
    """Clear ``slot``'s draft (no level chosen)."""
    drafts[slot, D_DEPTH] = 0
    drafts[slot, D_LO] = 0
    drafts[slot, D_HI] = iface[X_INTS][A_OUTCOMES]


@njit(cache=True)
def fill_mask(game, iface, state, drafts, slot, actor, allow_wait, out) -> None:
    """Write ``actor``'s legal actions in the interface into ``out`` (int8)."""
    ints = iface[X_INTS]
    choices = ints[A_CHOICES]
    out[:] = 0
    row = mask_row(game, state, slot, actor, allow_wait)
    if row == MASK_VOTE:
        out[choices] = 1
        out[choices + 1] = 1
    elif row == MASK_WAIT:
        out[choices + 2] = 1
    elif row == MASK_PROPOSE:
        if ints[A_KIND] != KIND_ISSUES:
            out[:choices] = 1
            return
        grid = iface[X_LEVELS]
        depth = drafts[slot, D_DEPTH]
        lo, hi = drafts[slot, D_LO], drafts[slot, D_HI]
        # grid[lo:hi, depth] is sorted: mark each level present in the range.
        k = lo
        while k < hi:
            level = grid[k, depth]
            out[level] = 1
            k = _level_range(grid, k, hi, depth, level)[1]


@njit(cache=True)
def translate(game, iface, state, drafts, slot, actor, action, allow_wait) -> int:
    """The concrete action of ``actor``'s interface ``action`` in ``slot``.

    Returns:
        A concrete action (``0 .. n_outcomes + 2``), ``SUBSTEP`` (an issue
        level was drafted; apply nothing) or ``ILLEGAL``. Nothing is applied
        to the rules' state here; the draft changes on a legal sub-step and is
        cleared when the last issue names the outcome.
    """
    ints = iface[X_INTS]
    choices = ints[A_CHOICES]
    n_outcomes = game[G_INTS][I_OUTCOMES]
    row = mask_row(game, state, slot, actor, allow_wait)
    if row == MASK_VOTE:
        if action == choices or action == choices + 1:  # noqa: SIM109
            return n_outcomes + (action - choices)
        return ILLEGAL
    if row == MASK_WAIT:
        return n_outcomes + 2 if action == choices + 2 else ILLEGAL
    if row != MASK_PROPOSE or action < 0 or action >= choices:
        return ILLEGAL
    kind = ints[A_KIND]
    if kind == KIND_OUTCOME:
        return action
    if kind == KIND_UTILITY:
        start = iface[X_TIE_SPAN][actor, action, 0]
        count = iface[X_TIE_SPAN][actor, action, 1]
        if count == 1:
            return iface[X_PICKS][actor, action]
        j = draw_below(state[slot, C_KEY], state[slot, C_ROUND], DRAW_TIE, count)
        return iface[X_TIES][start + j]
    grid = iface[X_LEVELS]
    depth = drafts[slot, D_DEPTH]
    lo, hi = _level_range(grid, drafts[slot, D_LO], drafts[slot, D_HI], depth, action)
    if lo == hi:
        return ILLEGAL
    if depth + 1 == ints[A_ISSUES]:
        reset_draft(iface, drafts, slot)
        return lo  # grid position == outcome index (grid order)
    drafts[slot, D_DEPTH] = depth + 1
    drafts[slot, D_LO] = lo
    drafts[slot, D_HI] = hi
    return SUBSTEP


@njit(cache=True)
def exploring_drafts(game, iface, state, drafts, slots, share, proposes) -> None:
    """Start a share of fresh ``issues`` proposals part-way through their draft.

    The proposer-side twin of the vote starts (``exploring_offers`` in
    :func:`peacegame.engine.rules.exploring_starts`). An ``issues`` proposal
    is one sub-step per issue, and a voter rejects it whatever its details
    unless every voter's part is right at once, so a proposer that only ever
    drafts its habitual first levels never learns what to choose next after
    another first level, and then nothing rewards trying one (measured in
    docs/training.md, "Theory"). With probability ``share`` a slot whose
    round starts with a proposal by an actor flagged in ``proposes`` (the
    interface's players: the learners and their past selves, not scripted
    strategies) starts that proposal at a depth drawn uniformly from ``1 ..
    n_issues - 1``, with the levels chosen so far those of an outcome drawn
    uniformly from all outcomes (so every draft extends to a feasible
    outcome, and the masks keep it so). The proposer then chooses the
    remaining levels; the observation shows the draft as if it had chosen
    the first ones. A training device only: evaluations and matches never
    call it.

    The draws come from the slot's episode key
    (:data:`~peacegame.engine.randomness.DRAW_START`, counters 5 to 7), so
    the same episodes start in the same drafts whatever the batch size. No
    effect unless the interface is ``issues`` with at least two issues.
    """
    ints = iface[X_INTS]
    n_issues = ints[A_ISSUES]
    if ints[A_KIND] != KIND_ISSUES or n_issues < 2 or share <= 0.0:
        return
    grid = iface[X_LEVELS]
    n_outcomes = game[G_INTS][I_OUTCOMES]
    for s in range(slots.shape[0]):
        slot = slots[s]
        row = state[slot]
        if row[C_PHASE] != PROPOSING or not proposes[s, row[C_PROPOSER]]:
            continue
        key = row[C_KEY]
        if draw_unit(key, 5, DRAW_START) >= share:
            continue
        outcome = draw_below(key, 6, DRAW_START, n_outcomes)
        depth = 1 + draw_below(key, 7, DRAW_START, n_issues - 1)
        lo, hi = 0, n_outcomes
        for column in range(depth):
            lo, hi = _level_range(grid, lo, hi, column, grid[outcome, column])
        drafts[slot, D_DEPTH] = depth
        drafts[slot, D_LO] = lo
        drafts[slot, D_HI] = hi


@njit(cache=True, inline="always")
def draft_size(iface) -> int:
    """Length of the draft fields (0 unless ``issues``)."""
    ints = iface[X_INTS]
    if ints[A_KIND] != KIND_ISSUES:
        return 0
    total = ints[A_ISSUES]
    for j in range(ints[A_ISSUES]):
        total += ints[4 + j]
    return total


@njit(cache=True)
def encode_draft(iface, state, drafts, slot, out, start) -> None:
    """Write the draft fields of ``slot`` into every row of ``out`` at ``start``.

    Only the proposer's row shows its draft (the others see zeros).
    """
    ints = iface[X_INTS]
    n_issues = ints[A_ISSUES]
    n_levels = 0
    for j in range(n_issues):
        n_levels += ints[4 + j]
    for i in range(out.shape[0]):
        out[i, start : start + n_issues + n_levels] = 0.0
    if state[slot, C_PHASE] != PROPOSING:
        return
    o = out[state[slot, C_PROPOSER]]
    depth = drafts[slot, D_DEPTH]
    o[start + depth] = 1.0
    if depth == 0:
        return
    grid = iface[X_LEVELS]
    first = drafts[slot, D_LO]
    at = start + n_issues
    for j in range(depth):
        o[at + grid[first, j]] = 1.0
        at += ints[4 + j]


class SlotTranslator:
    """An interface in front of one slot of an outcome-action game (adapters).

    The SB3 and RLlib adapters drive the PettingZoo env with concrete actions
    (their scripted opponents act in them) and put the learners' interface
    in front through this object: one draft for the slot, the interface's
    masks, and observations extended by the interface's fields.

    Args:
        game: The rules' ``game`` tuple.
        interface: The interface.
        state: The state matrix.
        slot: The slot.
        base_size: Length of the rules' own observation vector.
    """

    def __init__(
        self,
        game: tuple[np.ndarray, ...],
        interface: ActionInterface,
        state: np.ndarray,
        slot: int,
        base_size: int,
    ) -> None:
        self.game = game
        self.interface = interface
        self.state = state
        self.slot = slot
        self.base_size = base_size
        self.drafts = interface.new_drafts(state.shape[0])
        self._mask = np.zeros(interface.n_actions, np.int8)

    def reset(self) -> None:
        """Clear the draft (call at every episode start)."""
        reset_draft(self.interface.tables, self.drafts, self.slot)

    def translate(self, actor: int, action: int) -> int:
        """The concrete action, ``SUBSTEP`` or ``ILLEGAL`` (see :func:`translate`)."""
        return int(
            translate(
                self.game,
                self.interface.tables,
                self.state,
                self.drafts,
                self.slot,
                actor,
                int(action),
                False,
            )
        )

    def mask(self, actor: int) -> np.ndarray:
        """``int8[n_actions]``: ``actor``'s legal interface actions now (a copy)."""
        fill_mask(
            self.game,
            self.interface.tables,
            self.state,
            self.drafts,
            self.slot,
            actor,
            False,
            self._mask,
        )
        return self._mask.copy()

    def observation(self, rows: np.ndarray, actor: int) -> np.ndarray:
        """``actor``'s observation: its row of ``rows`` plus the draft fields."""
        extra = self.interface.extra_size
        if extra == 0:
            return rows[actor].copy()
        out = np.zeros((rows.shape[0], self.base_size + extra), np.float32)
        out[:, : self.base_size] = rows[:, : self.base_size]
        encode_draft(
            self.interface.tables,
            self.state,
            self.drafts,
            self.slot,
            out,
            self.base_size,
        )
        return out[actor]


__all__ = [
    "ACTION_INTERFACES",
    "SlotTranslator",
    "ILLEGAL",
    "SUBSTEP",
    "ActionInterface",
    "build_interface",
    "draft_size",
    "encode_draft",
    "fill_mask",
    "reset_draft",
    "translate",
    "utility_picks",
    "utility_targets",
    "utility_tie_sets",
]
