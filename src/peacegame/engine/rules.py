"""The rules of the game, once, over the state of B episodes (compiled).

The state of B episodes is one ``int64[B, width]`` matrix (see the column
functions below) and one ``float64[B, n_actors]`` matrix of rewards. The
tables of a game travel as one tuple of four arrays, ``game``
(:attr:`peacegame.engine.tables.Rules.game`; every array more in it costs each
compiled call, about 5-9% of the batch engine's speed per array, measured
2026-12-01):

* ``ints`` (``int64``): the scalars (``I_*``), the rotating order, the issues'
  level-column bounds, then each outcome's levels as columns of the one-hot
  level space (:func:`level_column`) and the voting rules packed
  (:func:`rules_matrix`, :func:`peacegame.scenario.consent.pack_rules`);
* ``floats`` (``float64``): breakdown probability, illegal penalty, then the
  no-deal values, the recognition CDF and the discounts (n each), then the
  payoff scale ``discount ** round`` (:func:`payoff_scale`);
* ``required`` (``uint8[n_outcomes, 2 n + 1 + n_rules]``): who votes on each
  outcome (columns ``0 .. n``), its veto players (:func:`col_veto_players`),
  the size of its smallest carrying coalition (:func:`col_smallest`) and which
  rules apply to it (:func:`col_applies`);
* ``utility`` (``float64[n_actors, n_outcomes]``, the compiled float32
  utilities widened).

Rules (every adapter, env or runner, calls these functions; none restates
them):

* Rounds are numbered from 0. A round is a **proposal step** followed by a
  **vote step**.
* **Proposal.** The round's proposer picks any outcome ``k``.
* **Voters** are the actors that a consent rule applying to ``k`` counts,
  other than the proposer (a proposal counts as its proposer's acceptance).
  They vote simultaneously: no voter sees another's vote of the same round
  (the votes are public once the round is over). No voters: the proposal is
  agreed at once.
* **Agreement** when the proposer and the accepting voters carry ``k``: they
  meet every consent rule that applies to it (a quota, a weight threshold,
  vetoes, or by default all of the rule's actors; see
  :mod:`peacegame.scenario.consent`). In round ``r`` actor ``i`` then gets
  ``discount_i ** r * utility[i, k]`` (float64, the tabulated powers).
* **After a round without agreement**, in this order: round ``r + 1 ==
  max_rounds`` ends the episode (``deadline``); else, with ``breakdown_prob >
  0``, a draw ``u < breakdown_prob`` ends it (``breakdown``); else round ``r +
  1`` starts with the next proposer, ``order[(r + 1) % n]`` (rotating) or drawn
  from the recognition probabilities (random, Baron-Ferejohn).
* **Disagreement** pays every actor its no-deal value.
* **Illegal actions** (``penalize``): the offenders get ``illegal_penalty``,
  everyone else 0.

Every random number comes from :mod:`peacegame.engine.randomness`, keyed by
the episode's seed, the round and the purpose of the draw.

The functions called for every decision or round are ``inline="always"``: a
compiled call passes the ``game`` tuple's arrays with reference counting, which
tripled the cost of a decision (and every array more in the tuple costs about
5% of the batch engine's speed, measured 2026-12-01).

The loops that play decisions are compiled with :data:`NO_REFCOUNT`: numba
then emits no reference counting at all. With it, every view of a row, every
array taken from the ``game`` tuple and every argument of an inlined function
cost a call to ``NRT_incref``/``NRT_decref`` (about 50 per decision, counted
with gdb), an atomic operation each. Views without a reference count (null,
so no atomic operation) made batch play only 1.3-1.5x faster; without the
calls at all, random batch play went from 8M to 40M decisions/s (2026-12-01).
Such a loop may not allocate an array; a function it calls that must allocate
opts back in with :data:`ALLOCATES` (numba's callees inherit the caller's
setting otherwise). numba's own library compiles its allocation-free helpers
the same way (``_nrt=False``). The B = 1 entry points of the env path
(``turns.start_slot``, ``turns.aec_step``, ``turns.aec_step_in`` and
``play.policy_move``) are compiled the same way: side by side on a loaded
machine, raw_env 302k -> 334k agent-steps/s, env-path matches 749 -> 1,009/s
public and 533 -> 683/s private (2026-12-01).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from peacegame.engine.config import (
    AGREEMENT,
    BREAKDOWN,
    DEADLINE,
    ENDED,
    ILLEGAL,
    NO_VOTE,
    PROPOSING,
    RUNNING,
    VOTING,
)
from peacegame.engine.randomness import (
    DRAW_BREAKDOWN,
    DRAW_PROPOSER,
    DRAW_START,
    draw_below,
    draw_unit,
)
from peacegame.scenario.consent import carries

NO_REFCOUNT = {"_nrt": False}
"""numba options of a kernel loop that allocates nothing: no reference counting
(module docstring). Its arrays are its arguments' views, which its caller holds."""
ALLOCATES = {"_nrt": True}
"""numba options of a function that allocates arrays and may be called from a
:data:`NO_REFCOUNT` loop."""

# Scalar columns of the state matrix.
C_ROUND, C_PHASE, C_PROPOSER, C_OFFER, C_PENDING = 0, 1, 2, 3, 4
C_REJECTIONS, C_END, C_ROUNDS_DONE, C_KEY = 5, 6, 7, 8
C_ACTORS = 9
"""First per-actor column: voters (n), this round's votes (n), last votes (n),
then the record of completed rounds: offers (R), proposers (R), votes (R * n)."""

# Entries of the ``ints`` table.
I_ACTORS, I_OUTCOMES, I_ROUNDS, I_RANDOM_PROPOSER = 0, 1, 2, 3
I_HISTORY, I_PUBLIC, I_ISSUES, I_LEVELS, I_UNANIMOUS, I_ROTATION = 4, 5, 6, 7, 8, 9
# Entries of the ``floats`` table (then no-deal values, the recognition CDF and
# the discounts, n each).
F_BREAKDOWN, F_PENALTY, F_NO_DEAL = 0, 1, 2

MOVE_NONE, MOVE_PROPOSE, MOVE_VOTE = 0, 1, 2
"""What an actor may do now (:func:`move_kind`)."""
MASK_NONE, MASK_PROPOSE, MASK_VOTE, MASK_WAIT = 0, 1, 2, 3
"""Which legal set an actor has now (:func:`mask_row`; rows of ``Rules.masks``)."""
G_INTS, G_FLOATS, G_REQUIRED, G_UTILITY = range(4)
"""Positions in the ``game`` tuple (see the module docstring)."""


@njit(cache=True, inline="always")
def level_column_start(ints) -> int:
    """Where the outcomes' level columns start in ``ints`` (outcome-major)."""
    return I_ROTATION + ints[I_ACTORS] + ints[I_ISSUES] + 1


@njit(cache=True, inline="always")
def level_column(ints, outcome, issue) -> int:
    """The one-hot level column of ``outcome``'s level of ``issue``."""
    return ints[level_column_start(ints) + outcome * ints[I_ISSUES] + issue]


@njit(cache=True, inline="always")
def rules_matrix(ints):
    """The packed voting rules, ``int64[n_rules, 2 n + 1]`` (a view of ``ints``)."""
    n, n_issues = ints[I_ACTORS], ints[I_ISSUES]
    start = I_ROTATION + n + n_issues + 1 + ints[I_OUTCOMES] * n_issues
    width = 2 * n + 1
    return ints[start:].reshape((ints.shape[0] - start) // width, width)


@njit(cache=True, inline="always")
def payoff_scale(floats, n, round_index, actor) -> float:
    """``discount[actor] ** round_index``, tabulated in ``floats``."""
    return floats[F_NO_DEAL + 3 * n + round_index * n + actor]


@njit(cache=True, inline="always")
def col_veto_players(n: int) -> int:
    """First column of the veto players in the ``G_REQUIRED`` table."""
    return n


@njit(cache=True, inline="always")
def col_smallest(n: int) -> int:
    """Column of the smallest carrying coalition's size in ``G_REQUIRED``."""
    return 2 * n


@njit(cache=True, inline="always")
def col_applies(n: int) -> int:
    """First column of the rules' applicability in ``G_REQUIRED``."""
    return 2 * n + 1


@njit(cache=True)
def state_width(n_actors: int, max_rounds: int) -> int:
    """Columns of the state matrix for ``n_actors`` and ``max_rounds``."""
    return C_ACTORS + 3 * n_actors + max_rounds * (2 + n_actors)


@njit(cache=True, inline="always")
def col_voters(n: int) -> int:
    """First column of the voter flags."""
    return C_ACTORS


@njit(cache=True, inline="always")
def col_votes(n: int) -> int:
    """First column of this round's votes."""
    return C_ACTORS + n


@njit(cache=True, inline="always")
def col_last_votes(n: int) -> int:
    """First column of the last completed round's votes."""
    return C_ACTORS + 2 * n


@njit(cache=True, inline="always")
def col_record_offers(n: int) -> int:
    """First column of the completed rounds' offers."""
    return C_ACTORS + 3 * n


@njit(cache=True, inline="always")
def col_record_proposers(n: int, rounds: int) -> int:
    """First column of the completed rounds' proposers."""
    return C_ACTORS + 3 * n + rounds


@njit(cache=True, inline="always")
def col_record_votes(n: int, rounds: int) -> int:
    """First column of the completed rounds' votes (round-major)."""
    return C_ACTORS + 3 * n + 2 * rounds


@njit(cache=True, inline="always")
def proposer_of_round(game, key: int, round_index: int) -> int:
    """The proposer of ``round_index``: rotating order or a recognition draw."""
    ints, floats = game[G_INTS], game[G_FLOATS]
    n = ints[I_ACTORS]
    if ints[I_RANDOM_PROPOSER] == 0:
        return ints[I_ROTATION + round_index % n]
    u = draw_unit(key, round_index, DRAW_PROPOSER)
    cdf = F_NO_DEAL + n
    for i in range(n - 1):  # searchsorted(cdf, u, side="right")
        if u < floats[cdf + i]:
            return i
    return n - 1


@njit(cache=True)
def reset_slot(game, state, rewards, slot: int, key: int) -> None:
    """Start an episode keyed by ``key`` in ``slot``: round 0, proposal step."""
    row = state[slot]
    n = game[G_INTS][I_ACTORS]
    row[:] = -1
    row[C_ROUND] = 0
    row[C_PHASE] = PROPOSING
    row[C_PENDING] = 0
    row[C_REJECTIONS] = 0
    row[C_END] = RUNNING
    row[C_ROUNDS_DONE] = 0
    row[C_KEY] = key
    voters = col_voters(n)
    for i in range(n):
        row[voters + i] = 0
        rewards[slot, i] = 0.0
    row[C_PROPOSER] = proposer_of_round(game, key, 0)


@njit(cache=True)
def exploring_starts(
    game,
    state,
    rewards,
    slots,
    share: float,
    earliest,
    offer_share: float,
    uniform_proposer: bool = False,
) -> None:
    """Move freshly started ``slots`` to a drawn round, or a drawn vote.

    A training device (exploring starts, Sutton & Barto 2018, sec. 5.3): a
    learner whose episodes all start in round 0 never visits the subgames
    that the others' current play avoids, so nothing teaches it to act
    there. Two independent draws per slot:

    * with probability ``share`` the slot moves to a round drawn uniformly
      from ``earliest[s] .. max_rounds - 1`` (``earliest`` all zeros: from
      every round; :func:`backward_curriculum` moves it from the last round
      to 0 over training). A slot moved to round ``r`` is that round's
      subgame: its proposer, its discount ``delta^r``, the same deadline;
      nothing is recorded before it;
    * with probability ``offer_share`` the slot (moved or not) starts at its
      round's vote step, the round's proposer having proposed an outcome
      drawn uniformly from all outcomes (:func:`propose`; without voters the
      round resolves at once). The voters then meet offers that the
      proposers' current play never makes, so they learn which offers beat
      what follows; the proposer makes no decision in that round;
    * with ``uniform_proposer``, a slot moved by either draw gets a start
      round's proposer drawn uniformly among the actors instead of the
      protocol's (its recognition draw or the rotation), so every actor
      proposes, and meets votes on its proposals, as often as any other in
      the exploring starts; the later rounds' proposers follow the protocol.
      Under ``proposer: random`` with every recognition probability positive
      the start is still a subgame of the game (the next rounds' proposers
      do not depend on this one).

    The draws come from the slot's episode key
    (:data:`~peacegame.engine.randomness.DRAW_START`, counters 0 to 4), so
    the same episodes start in the same states whatever the batch size.
    Evaluations and matches never call it.
    """
    ints = game[G_INTS]
    rounds = ints[I_ROUNDS]
    for s in range(slots.shape[0]):
        slot = slots[s]
        row = state[slot]
        key = row[C_KEY]
        moved = draw_unit(key, 0, DRAW_START) < share
        if moved:
            lo = min(max(earliest[s], 0), rounds - 1)
            round_index = lo + draw_below(key, 1, DRAW_START, rounds - lo)
            row[C_ROUND] = round_index
            row[C_PROPOSER] = proposer_of_round(game, key, round_index)
        offered = offer_share > 0.0 and draw_unit(key, 2, DRAW_START) < offer_share
        if uniform_proposer and (moved or offered):
            row[C_PROPOSER] = draw_below(key, 4, DRAW_START, ints[I_ACTORS])
        if offered:
            outcome = draw_below(key, 3, DRAW_START, ints[I_OUTCOMES])
            if propose(game, state, rewards, slot, outcome):
                resolve(game, state, rewards, slot)


def backward_curriculum(
    episode_ids: np.ndarray, max_rounds: int, episodes: int
) -> np.ndarray:
    """The earliest exploring-start round of each training episode.

    Backward induction by sampling: episode ``e`` of a curriculum over
    ``episodes`` episodes may start no earlier than round
    ``floor((max_rounds - 1) * (1 - e / episodes))`` (the last round for the
    first episode, every round from episode ``episodes`` on), so the
    learners first meet the subgames next to the deadline, where little
    follows, and then ever longer ones. ``episodes == 0``: no curriculum
    (zeros). Keyed by the episode id, so batch size and resume do not change
    it.

    Returns:
        ``int64[len(episode_ids)]``, the ``earliest`` of :func:`exploring_starts`.
    """
    ids = np.asarray(episode_ids, np.int64)
    if episodes <= 0:
        return np.zeros(ids.shape, np.int64)
    left = np.clip(1.0 - ids / float(episodes), 0.0, 1.0)
    return np.floor((max_rounds - 1) * left).astype(np.int64)


@njit(cache=True)
def start_round_units(game, state, rewards, slots, out) -> None:
    """Ended ``slots``' rewards in units of the round each episode started in.

    An episode that started in round ``s`` (an exploring start; ``s`` is
    ``C_ROUND - C_ROUNDS_DONE + 1`` once it has ended) pays actor ``i``
    ``rewards[slot, i] / delta_i ** s``, agreement and disagreement alike,
    into ``out[k, i]`` for ``slots[k]``. A positive factor per actor and
    episode, so every subgame's preferences, and its equilibria, are
    unchanged; a late start's payoffs are then as large as a round-0
    episode's instead of ``delta^s`` times smaller, so a learner's
    advantages (normalised over a minibatch of every start) do not drown
    them. Episodes from round 0 are unchanged. With a no-deal value
    ``d_i != 0`` a late disagreement is worth ``d_i / delta_i ** s``: large
    next to round 0's rewards, but the same preferences.
    """
    n = game[G_INTS][I_ACTORS]
    floats = game[G_FLOATS]
    for k in range(slots.shape[0]):
        row = state[slots[k]]
        start = row[C_ROUND] - row[C_ROUNDS_DONE] + 1
        for i in range(n):
            scale = payoff_scale(floats, n, start, i) if start > 0 else 1.0
            # A zero discount leaves nothing to rescale (and no division by 0).
            out[k, i] = rewards[slots[k], i] / (scale if scale > 0.0 else 1.0)


@njit(cache=True, inline="always")
def propose(game, state, rewards, slot, outcome) -> bool:
    """Put ``outcome`` on the table; True if nobody else votes (round over).

    The caller then resolves the round (:func:`apply_action`): one call site of
    the inlined :func:`resolve` instead of two keeps the compilation short.
    """
    required = game[G_REQUIRED]
    row = state[slot]
    n = game[G_INTS][I_ACTORS]
    proposer = row[C_PROPOSER]
    voters = col_voters(n)
    votes = col_votes(n)
    pending = 0
    for i in range(n):
        needed = 1 if (required[outcome, i] != 0 and i != proposer) else 0
        row[voters + i] = needed
        row[votes + i] = NO_VOTE
        pending += needed
    row[C_OFFER] = outcome
    row[C_PENDING] = pending
    row[C_REJECTIONS] = 0
    if pending == 0:
        return True
    row[C_PHASE] = VOTING
    return False


@njit(cache=True, inline="always")
def vote(game, state, rewards, slot, voter, accept) -> bool:
    """Record one vote; True if it was the round's last (the round is over)."""
    row = state[slot]
    n = game[G_INTS][I_ACTORS]
    if accept:
        row[col_votes(n) + voter] = 1
    else:
        row[col_votes(n) + voter] = 0
        row[C_REJECTIONS] += 1
    row[C_PENDING] -= 1
    return row[C_PENDING] == 0


@njit(cache=True, inline="always")
def resolve(game, state, rewards, slot) -> None:
    """End the round: record it, then agreement, deadline, breakdown or next."""
    ints, floats = game[G_INTS], game[G_FLOATS]
    utility = game[G_UTILITY]
    row = state[slot]
    n = ints[I_ACTORS]
    rounds = ints[I_ROUNDS]
    round_index = row[C_ROUND]
    offer = row[C_OFFER]
    votes = col_votes(n)
    last = col_last_votes(n)
    done = row[C_ROUNDS_DONE]
    row[col_record_offers(n) + done] = offer
    row[col_record_proposers(n, rounds) + done] = row[C_PROPOSER]
    record_votes = col_record_votes(n, rounds) + done * n
    for i in range(n):
        row[last + i] = row[votes + i]
        row[record_votes + i] = row[votes + i]
    row[C_ROUNDS_DONE] = done + 1
    # Under unanimity "carried" is "nobody rejected": the same verdict, cheaper.
    if ints[I_UNANIMOUS] != 0:
        carried = row[C_REJECTIONS] == 0
    else:
        carried = proposal_carried(game, row, n, offer)
    if carried:
        row[C_PHASE] = ENDED
        row[C_END] = AGREEMENT
        for i in range(n):
            scale = payoff_scale(floats, n, round_index, i)
            rewards[slot, i] = scale * utility[i, offer]
        return
    if round_index + 1 == rounds:
        disagree(game, state, rewards, slot, DEADLINE)
        return
    breakdown = floats[F_BREAKDOWN]
    # No draw at all without a breakdown probability.
    if breakdown > 0.0 and (
        draw_unit(row[C_KEY], round_index, DRAW_BREAKDOWN) < breakdown
    ):
        disagree(game, state, rewards, slot, BREAKDOWN)
        return
    row[C_ROUND] = round_index + 1
    row[C_PROPOSER] = proposer_of_round(game, row[C_KEY], round_index + 1)
    row[C_PHASE] = PROPOSING
    row[C_OFFER] = -1
    row[C_PENDING] = 0
    row[C_REJECTIONS] = 0
    voters = col_voters(n)
    for i in range(n):
        row[voters + i] = 0
        row[votes + i] = NO_VOTE


@njit(cache=True, inline="always")
def proposal_carried(game, row, n, offer) -> bool:
    """Whether the proposer and the accepting voters carry ``offer``."""
    coalition = np.int64(1) << row[C_PROPOSER]
    votes = col_votes(n)
    for i in range(n):
        if row[votes + i] == 1:
            coalition |= np.int64(1) << i
    rules = rules_matrix(game[G_INTS])
    return carries(rules, game[G_REQUIRED], col_applies(n), offer, coalition)


@njit(cache=True, inline="always")
def disagree(game, state, rewards, slot, reason) -> None:
    """End the episode without agreement: everyone gets its no-deal value."""
    ints, floats = game[G_INTS], game[G_FLOATS]
    row = state[slot]
    row[C_PHASE] = ENDED
    row[C_END] = reason
    for i in range(ints[I_ACTORS]):
        rewards[slot, i] = floats[F_NO_DEAL + i]


@njit(cache=True)
def end_illegal(game, state, rewards, slot, offenders) -> None:
    """End the episode after illegal actions (``offenders``: uint8 flags)."""
    ints, floats = game[G_INTS], game[G_FLOATS]
    row = state[slot]
    row[C_PHASE] = ENDED
    row[C_END] = ILLEGAL
    for i in range(ints[I_ACTORS]):
        rewards[slot, i] = floats[F_PENALTY] if offenders[i] else 0.0


@njit(cache=True, inline="always")
def move_kind(game, state, slot, actor) -> int:
    """``MOVE_PROPOSE``, ``MOVE_VOTE`` or ``MOVE_NONE``: what ``actor`` may do."""
    row = state[slot]
    phase = row[C_PHASE]
    n = game[G_INTS][I_ACTORS]
    if phase == PROPOSING:
        return MOVE_PROPOSE if row[C_PROPOSER] == actor else MOVE_NONE
    voting = phase == VOTING and row[col_voters(n) + actor] != 0
    if voting and row[col_votes(n) + actor] == NO_VOTE:
        return MOVE_VOTE
    return MOVE_NONE


@njit(cache=True, inline="always")
def mask_row(game, state, slot, actor, allow_wait) -> int:
    """``actor``'s legal set now: ``MASK_PROPOSE``, ``_VOTE``, ``_WAIT``, ``_NONE``.

    WAIT is the legal set of an actor without a move only with ``allow_wait``
    (the parallel env) and only while the episode runs.
    """
    kind = move_kind(game, state, slot, actor)
    if kind == MOVE_PROPOSE:
        return MASK_PROPOSE
    if kind == MOVE_VOTE:
        return MASK_VOTE
    if allow_wait and state[slot, C_PHASE] != ENDED:
        return MASK_WAIT
    return MASK_NONE


@njit(cache=True, inline="always")
def is_legal(game, state, slot, actor, action, allow_wait) -> bool:
    """Whether ``actor`` may take ``action`` now (WAIT only if ``allow_wait``)."""
    n_outcomes = game[G_INTS][I_OUTCOMES]
    row = mask_row(game, state, slot, actor, allow_wait)
    if row == MASK_PROPOSE:
        return 0 <= action < n_outcomes
    if row == MASK_VOTE:
        return action == n_outcomes or action == n_outcomes + 1  # noqa: SIM109
    return row == MASK_WAIT and action == n_outcomes + 2


@njit(cache=True, inline="always")
def next_voter(game, state, slot) -> int:
    """The first voter (in actor order) that has not voted, or -1."""
    for i in range(game[G_INTS][I_ACTORS]):
        if move_kind(game, state, slot, i) == MOVE_VOTE:
            return i
    return -1


@njit(cache=True, inline="always")
def apply_action(game, state, rewards, slot, actor, action) -> bool:
    """Check and apply one actor's action; False (nothing changed) if illegal.

    WAIT is never applied here: it changes nothing.
    """
    if not is_legal(game, state, slot, actor, action, False):
        return False
    n_outcomes = game[G_INTS][I_OUTCOMES]
    if action < n_outcomes:
        over = propose(game, state, rewards, slot, action)
    else:
        over = vote(game, state, rewards, slot, actor, action == n_outcomes)
    if over:
        resolve(game, state, rewards, slot)
    return True


def agreed_outcomes(state: np.ndarray) -> np.ndarray:
    """The agreed outcome of each row of ``state``, -1 where there is none."""
    return np.where(state[:, C_END] == AGREEMENT, state[:, C_OFFER], -1)


def agreed_outcome(state: np.ndarray, slot: int) -> int:
    """:func:`agreed_outcomes` of one slot, as an int (no array operations)."""
    row = state[slot]
    return int(row[C_OFFER]) if row[C_END] == AGREEMENT else -1


def empty_state(rows: int, n_actors: int, max_rounds: int) -> np.ndarray:
    """A state matrix of ``rows`` ended, empty slots."""
    state = np.full((rows, state_width(n_actors, max_rounds)), -1, np.int64)
    state[:, C_PHASE] = ENDED
    state[:, C_END] = RUNNING
    return state
