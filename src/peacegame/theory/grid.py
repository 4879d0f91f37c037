"""The finite game on the grid, by backward induction, and a policy that plays it.

:func:`grid_equilibrium` solves the finite game the engine plays (the deadline,
the grid, the engine's payoff rule) with voters that accept when indifferent;
:func:`stationary_grid_proposals` lists the stationary equilibria of two-actor
alternating offers on the grid; :func:`interface_game` solves the same finite
game with each proposer restricted to what a learner's action interface can
propose (:func:`interface_proposals`) and voters that may ask for a margin.
The :class:`SubgamePerfect` policy plays the grid equilibrium in matches
(``peacegame.theory:SubgamePerfect``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from peacegame.engine import ProtocolConfig, Rules
from peacegame.engine.tables import discount_powers
from peacegame.errors import UserError
from peacegame.policies.base import PolicyView
from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.consent import carried_outcomes
from peacegame.solutions import TIE_TOLERANCE, best_outcome
from peacegame.theory.textbook import TextbookGame

TOLERANCE = TIE_TOLERANCE
"""Slack of the equilibrium's comparisons, times delta_i^r: the project's one
tie tolerance (:data:`peacegame.solutions.TIE_TOLERANCE`), applied to the
float64 utilities (``utility64``), so rounding never decides a tie."""


# --------------------------------------------------------------------------- #
# The finite game on the grid, by backward induction
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class GridEquilibrium:
    """The subgame-perfect equilibrium of the finite game the engine plays.

    Backward induction over rounds ``max_rounds - 1 .. 0`` under the engine's
    rules: agreement in round r pays delta_i^r u_i; after a failed round the
    deadline pays d, else breakdown pays d with probability b, else the next
    round starts. Voters accept when indifferent; a proposer proposes the
    outcome best for it, counting a rejected proposal as its continuation
    value, preferring agreement when indifferent, then the project's tie rule
    (:func:`peacegame.solutions.best_outcome`: the larger utility sum, then
    the lower index). "Indifferent" means within :data:`TOLERANCE` (times
    delta_i^r) on the float64 utilities.

    Attributes:
        max_rounds: The deadline.
        offers: ``int[max_rounds, n_actors]``, what actor i proposes in round
            r if it is the proposer.
        agrees: ``bool[max_rounds, n_actors]``, whether that proposal is
            accepted.
        thresholds: ``float[max_rounds, n_actors]``, voter j accepts in round r
            iff delta_j^r u_j >= thresholds[r, j] (its continuation value).
        value: Expected payoffs at the start of round 0.
        agreement_prob: Probability of agreement.
        first_round_prob: Probability of agreement in round 0.
        expected_round: Expected agreement round, given agreement.
        expected_share: Expected agreed share per actor, given agreement.
        first_proposer_share: Expected agreed share of round 0's proposer,
            given agreement.

    """

    max_rounds: int
    offers: np.ndarray
    agrees: np.ndarray
    thresholds: np.ndarray
    value: np.ndarray
    agreement_prob: float
    first_round_prob: float
    expected_round: float
    expected_share: np.ndarray
    first_proposer_share: float


def _proposer_probs(
    proposer: str, order: tuple[int, ...], recognition: np.ndarray, r: int
) -> np.ndarray:
    """Probability that each actor proposes in round r."""
    if proposer == "random":
        return recognition
    q = np.zeros(len(recognition))
    q[order[r % len(recognition)]] = 1.0
    return q


def _game_inputs(
    scenario: CompiledScenario,
    max_rounds: int,
    breakdown_prob: float,
    order: tuple[int, ...] | None,
) -> tuple[Any, ...]:
    """What a backward induction over ``scenario``'s grid reads.

    Returns:
        ``(n, order, utility, required, consent, no_deal, discount powers,
        breakdown probability, recognition)``.
    """
    n = scenario.n_actors
    return (
        n,
        tuple(range(n)) if order is None else tuple(order),
        scenario.utility64,
        np.asarray(scenario.required, bool),
        scenario.consent,
        scenario.no_deal64,
        discount_powers(np.asarray(scenario.discount, np.float64), max_rounds),
        float(breakdown_prob),
        np.asarray(scenario.recognition, np.float64),
    )


def grid_equilibrium(
    scenario: CompiledScenario,
    *,
    proposer: Literal["rotating", "random"],
    max_rounds: int,
    breakdown_prob: float = 0.0,
    order: tuple[int, ...] | None = None,
) -> GridEquilibrium:
    """Solve the engine's finite game on the grid by backward induction.

    Works for any compiled scenario (consent as compiled), not only textbook
    ones. See :class:`GridEquilibrium` for the rules and tie-breaks.

    Args:
        scenario: The compiled scenario.
        proposer: ``rotating`` or ``random``.
        max_rounds: The deadline.
        breakdown_prob: Per-round breakdown probability.
        order: The rotating order as actor indices (default: actor order).

    Returns:
        The equilibrium.

    """
    n, order, u, required, rules, d, powers, b, recognition = _game_inputs(
        scenario, max_rounds, breakdown_prob, order
    )
    offers = np.zeros((max_rounds, n), np.int64)
    agrees = np.zeros((max_rounds, n), bool)
    thresholds = np.zeros((max_rounds, n))
    payoff = np.zeros((max_rounds, n, n))  # [r, proposer, actor]
    value_next = d.copy()
    for r in range(max_rounds - 1, -1, -1):
        w = d.copy() if r == max_rounds - 1 else b * d + (1.0 - b) * value_next
        thresholds[r] = w
        gain = powers[r][:, None] * u  # [n, k]
        slack = TOLERANCE * powers[r]  # relative: payoffs shrink with r
        ok = (gain >= (w - slack)[:, None]) | ~required  # voter j accepts k
        for i in range(n):
            votes = ok.copy()
            votes[i] = True  # the proposer accepts its own proposal
            acceptable = carried_outcomes(rules.rules, rules.applies, votes)
            own = np.where(acceptable, gain[i], w[i])
            ties = own >= own.max() - slack[i]
            if (ties & acceptable).any():
                choice = best_outcome([], ties & acceptable, u)
                agrees[r, i] = True
                payoff[r, i] = gain[:, choice]
            else:
                # Propose what is best for i among the rejected outcomes.
                choice = best_outcome([u[i]], ~acceptable, u)
                payoff[r, i] = w
            offers[r, i] = choice
        value_next = _proposer_probs(proposer, order, recognition, r) @ payoff[r]
    value = value_next

    # Forward: the distribution of the agreement round and outcome.
    agree_prob = 0.0
    first_round = 0.0
    round_sum = 0.0
    share_sum = np.zeros(n)
    first_sum = 0.0
    q0 = _proposer_probs(proposer, order, recognition, 0)
    for first in np.flatnonzero(q0 > 0):
        reach = float(q0[first])
        for r in range(max_rounds):
            if r == 0:
                q = np.zeros(n)
                q[first] = 1.0
            else:
                q = _proposer_probs(proposer, order, recognition, r)
            for i in np.flatnonzero(q > 0):
                if agrees[r, i]:
                    mass = reach * q[i]
                    shares = u[:, offers[r, i]]
                    agree_prob += mass
                    first_round += mass if r == 0 else 0.0
                    round_sum += mass * r
                    share_sum += mass * shares
                    first_sum += mass * shares[first]
            reach *= float(q[~agrees[r]].sum()) * (1.0 - b)
            if reach <= 0.0:
                break
    if agree_prob > 0.0:
        expected_round = round_sum / agree_prob
        expected_share = share_sum / agree_prob
        first_share = first_sum / agree_prob
    else:
        expected_round, first_share = math.nan, math.nan
        expected_share = np.full(n, np.nan)
    return GridEquilibrium(
        max_rounds=max_rounds,
        offers=offers,
        agrees=agrees,
        thresholds=thresholds,
        value=value,
        agreement_prob=agree_prob,
        first_round_prob=first_round,
        expected_round=expected_round,
        expected_share=expected_share,
        first_proposer_share=first_share,
    )


def stationary_grid_proposals(game: TextbookGame) -> list[int] | None:
    """The first proposer's proposals in the stationary equilibria on the grid.

    For two actors with alternating offers (and a stationary game: d = 0 or
    no time discount), a pair of proposals (a by the first proposer, b by the
    second) is a stationary equilibrium with voters accepting when indifferent
    if each is its proposer's best outcome among those the other accepts:
    the second actor j accepts a iff u_j(a) >= rho_j u_j(b) + b_prob d_j, and
    symmetrically. On a divisible pie the pair is unique (Rubinstein); on a
    grid there can be many (van Damme, Selten & Winter 1990).

    Returns:
        Outcome indices of the first proposer's equilibrium proposals, or None
        for games this does not apply to.

    """
    s = game.scenario
    if (
        s.n_actors != 2
        or game.proposer != "rotating"
        or (np.any(game.no_deal != 0) and np.any(game.delta < 1.0))
    ):
        return None
    first, second = game.order[0], game.order[1]
    u = s.utility64
    rho, b, d = game.rho, game.breakdown_prob, s.no_deal64

    def best_reply(proposer: int, voter: int, other_offer: int) -> int:
        need = rho[voter] * u[voter, other_offer] + b * d[voter] - TOLERANCE
        reply = best_outcome([u[proposer]], u[voter] >= need, u)
        assert reply is not None, "the voter accepts its own best outcome"
        return reply

    found = []
    for a in range(s.n_outcomes):
        reply = best_reply(second, first, a)
        if best_reply(first, second, reply) == a:
            found.append(a)
    return found


@dataclass(frozen=True)
class StationaryProfile:
    """A stationary equilibrium of random-recognition bargaining on the grid.

    Every round is played alike: voter j accepts an outcome iff it gives j at
    least ``thresholds[j]`` (the lowest of j's utility levels at or above its
    continuation), and proposer i proposes ``offers[i]``, its best outcome
    among those carried, or delays (``agrees[i]`` False) when its continuation
    is worth more.

    Attributes:
        thresholds: ``float[n]``, the utility each voter needs.
        offers: ``int[n]``, each proposer's proposal (-1: none is carried).
        agrees: ``bool[n]``, whether each proposer's proposal passes.
        value: ``float[n]``, expected payoffs at the start of a round.
        expected_share: ``float[n]``, expected utilities of the agreements.
        first_proposer_share: The first proposer's expected utility in the
            agreement.
    """

    thresholds: np.ndarray
    offers: np.ndarray
    agrees: np.ndarray
    value: np.ndarray
    expected_share: np.ndarray
    first_proposer_share: float


def stationary_recognition_equilibria(
    game: TextbookGame, max_profiles: int = 10**6
) -> list[StationaryProfile] | None:
    """Every pure stationary equilibrium of random-recognition bargaining on the grid.

    The infinite-horizon game of :func:`grid_equilibrium` with a random
    proposer (Baron & Ferejohn 1989; voters accept when indifferent). On a
    divisible pie the stationary payoffs are unique (Eraslan 2002); on a grid
    a voter's threshold is rounded up to one of its utility levels, and when
    the pull toward the unique payoffs is smaller than a grid step, many
    threshold profiles are self-confirming. Under unanimity with a common
    discount delta, a voter whose continuation share is off by ``e`` gains
    only ``delta (1 - delta) e`` by correcting it (0.09 e at delta = 0.9), so
    on a 2.5% grid shares up to about 0.2 off the prediction are equilibria.

    Enumerates every profile of voter thresholds (one utility level per
    actor) and every set of delaying proposers; keeps those whose values
    reproduce the thresholds and the delays. The finite game's backward
    induction (:func:`grid_equilibrium`) selects one of them from the
    deadline.

    Args:
        game: The textbook game (``proposer: random``).
        max_profiles: Give up (return None) above this many threshold
            profiles (the product of the actors' numbers of utility levels).

    Returns:
        The equilibria (in the order of their threshold profiles), or None if
        the proposer is not random or the grid is too large.
    """
    s = game.scenario
    if game.proposer != "random":
        return None
    n, _, u, required, rules, d, _, b, recognition = _game_inputs(
        s, 1, game.breakdown_prob, None
    )
    delta = game.delta
    levels = [np.unique(np.round(u[j], 12)) for j in range(n)]
    sizes = [lv.size for lv in levels]
    if math.prod(sizes) > max_profiles:
        return None
    # Per proposer and profile of the others' thresholds: its best carried
    # outcome (-1: none).
    choice = np.full((n, *sizes), -1, np.int64)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for combo in itertools.product(*(range(sizes[j]) for j in others)):
            votes = ~required  # [n, k]: who need not be asked says yes
            for j, m in zip(others, combo, strict=True):
                votes[j] |= u[j] >= levels[j][m] - TOLERANCE
            votes[i] = True
            carried = carried_outcomes(rules.rules, rules.applies, votes)
            if not carried.any():
                continue
            best = u[i][carried].max()
            at: list[Any] = list(combo)
            at.insert(i, slice(None))  # every level of i's own threshold
            choice[(i, *at)] = best_outcome([], carried & (u[i] >= best - TOLERANCE), u)
    # Every threshold profile at once: flat index p over ``sizes``.
    grids = np.meshgrid(*(np.arange(z) for z in sizes), indexing="ij")
    level_index = np.stack([g.reshape(-1) for g in grids], axis=1)  # [P, n]
    t = np.stack([levels[j][level_index[:, j]] for j in range(n)], axis=1)
    below = np.stack(
        [
            np.where(level_index[:, j] > 0, levels[j][level_index[:, j] - 1], -np.inf)
            for j in range(n)
        ],
        axis=1,
    )
    offers = np.stack([choice[i].reshape(-1) for i in range(n)], axis=1)  # [P, n]
    gains = np.where(
        offers[:, None, :] >= 0, u[:, np.maximum(offers, 0)].transpose(1, 0, 2), np.nan
    )  # [P, j, i]
    own = np.where(offers >= 0, np.einsum("pii->pi", np.nan_to_num(gains)), -np.inf)
    found: list[tuple[int, StationaryProfile]] = []
    for delays in itertools.product([False, True], repeat=n):
        late = np.array(delays)
        p_late = float(recognition[late].sum())
        if p_late >= 1.0:
            continue  # no agreement ever: no shares to report
        agreed = np.nansum(gains[:, :, ~late] * recognition[~late], axis=2)  # [P, j]
        value = (agreed + p_late * b * d) / (1.0 - p_late * (1.0 - b) * delta)
        w = b * d + (1.0 - b) * delta * value
        ok = ~(~late & (offers < 0)).any(axis=1)
        ok &= np.where(late, own < w - TOLERANCE, own >= w - TOLERANCE).all(axis=1)
        ok &= ((t >= w - TOLERANCE) & (below < w - TOLERANCE)).all(axis=1)
        for q in np.flatnonzero(ok):
            shares = agreed[q] / (1.0 - p_late)
            first = sum(
                recognition[f] * (shares[f] if late[f] else own[q, f]) for f in range(n)
            )
            found.append(
                (
                    int(q),
                    StationaryProfile(
                        thresholds=t[q],
                        offers=offers[q],
                        agrees=~late,
                        value=value[q],
                        expected_share=shares,
                        first_proposer_share=float(first),
                    ),
                )
            )
    found.sort(key=lambda item: item[0])
    return [profile for _, profile in found]


def game_equilibrium(game: TextbookGame) -> GridEquilibrium:
    """:func:`grid_equilibrium` of a textbook game's scenario and protocol."""
    return grid_equilibrium(
        game.scenario,
        proposer=game.proposer,
        max_rounds=game.max_rounds,
        breakdown_prob=game.breakdown_prob,
        order=game.order,
    )


# --------------------------------------------------------------------------- #
# The game a learner's action interface lets it play
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class InterfaceGame:
    """The finite game solved over an action interface's proposals.

    Attributes:
        margin: What a voter asks above its continuation value.
        value: Expected payoffs at the start of round 0.
        first_proposer_value: Round 0's proposer's expected payoff (its
            agreed share when round 0 agrees; less when it delays).
        first_round_prob: Probability of agreement in round 0.
        choices: ``int[max_rounds, n_actors]``, the proposal choice (index
            into that proposer's sets) each proposer makes in each round.
    """

    margin: float
    value: np.ndarray
    first_proposer_value: float
    first_round_prob: float
    choices: np.ndarray


def interface_proposals(
    scenario: CompiledScenario, protocol: ProtocolConfig
) -> list[list[np.ndarray]]:
    """What each actor can propose under ``protocol``'s action interface.

    Returns:
        Per actor, one outcome set per proposal choice: a ``utility`` bin's
        tie set (one outcome unless ``utility_ties: random``, which draws one
        of them uniformly), or every outcome alone (``outcome`` and ``issues``
        can name any outcome).
    """
    rules = Rules(scenario, protocol)
    interface = rules.interface
    n = scenario.n_actors
    if interface.name != "utility":
        every = [np.array([k]) for k in range(scenario.n_outcomes)]
        return [every for _ in range(n)]
    return [
        [interface.tie_set(i, b) for b in range(interface.n_choices)] for i in range(n)
    ]


def interface_game(
    scenario: CompiledScenario,
    proposals: list[list[np.ndarray]],
    *,
    proposer: Literal["rotating", "random"],
    max_rounds: int,
    breakdown_prob: float = 0.0,
    order: tuple[int, ...] | None = None,
    margin: float = 0.0,
) -> InterfaceGame:
    """Backward induction of the engine's finite game over given proposals.

    The rules and payoffs of :func:`grid_equilibrium`, but proposer i chooses
    one of ``proposals[i]`` (a set proposes one of its outcomes uniformly at
    random), the one with its largest expected payoff (ties: the first
    choice), and voter j accepts outcome k in round r iff ``delta_j^r u_j(k)
    >= w_j + margin * delta_j^r`` (its continuation value ``w_j`` plus the
    margin, in round-r units, within :data:`TOLERANCE`). ``margin = 0`` and
    every outcome a choice of its own is the grid game's values. The
    learners' equilibria are read against it in docs/training.md ("Theory").

    Args:
        scenario: The compiled scenario.
        proposals: Per actor, its proposal choices as outcome sets
            (:func:`interface_proposals`).
        proposer: ``rotating`` or ``random``.
        max_rounds: The deadline.
        breakdown_prob: Per-round breakdown probability.
        order: The rotating order as actor indices (default: actor order).
        margin: What a voter asks above its continuation value.

    Returns:
        The solved game.
    """
    n, order, u, required, rules, d, powers, b, recognition = _game_inputs(
        scenario, max_rounds, breakdown_prob, order
    )
    choices = np.zeros((max_rounds, n), np.int64)
    value_next = d.copy()
    payoff = np.zeros((n, n))
    agree = np.zeros(n)
    for r in range(max_rounds - 1, -1, -1):
        w = d.copy() if r == max_rounds - 1 else b * d + (1.0 - b) * value_next
        gain = powers[r][:, None] * u
        need = w + margin * powers[r] - TOLERANCE * powers[r]
        ok = (gain >= need[:, None]) | ~required
        for i in range(n):
            votes = ok.copy()
            votes[i] = True
            accepted = carried_outcomes(rules.rules, rules.applies, votes)
            best = -np.inf
            for c, members in enumerate(proposals[i]):
                members = np.asarray(members)
                pays = np.where(accepted[members], gain[:, members], w[:, None])
                mean = pays.mean(axis=1)
                if mean[i] > best + TOLERANCE * powers[r][i]:
                    best = mean[i]
                    choices[r, i] = c
                    payoff[i] = mean
                    agree[i] = accepted[members].mean()
        value_next = _proposer_probs(proposer, order, recognition, r) @ payoff
    q0 = _proposer_probs(proposer, order, recognition, 0)
    return InterfaceGame(
        margin=float(margin),
        value=value_next,
        first_proposer_value=float(sum(q0[i] * payoff[i, i] for i in range(n))),
        first_round_prob=float(q0 @ agree),
        choices=choices,
    )


# --------------------------------------------------------------------------- #
# A policy that plays the grid equilibrium
# --------------------------------------------------------------------------- #


class SubgamePerfectParams(BaseModel):
    """Parameters of :class:`SubgamePerfect`: the protocol it best-responds to.

    The policy view does not carry these protocol knobs, so a match config
    repeats them here; they must equal the match's ``protocol`` settings.

    Attributes:
        proposer: ``rotating`` or ``random``.
        breakdown_prob: Per-round breakdown probability.
        order: The rotating order as actor ids (default: the scenario's).

    """

    model_config = ConfigDict(extra="forbid")

    proposer: Literal["rotating", "random"] = "rotating"
    breakdown_prob: float = Field(default=0.0, ge=0.0, lt=1.0)
    order: list[str] | None = None


class SubgamePerfect:
    """Plays the subgame-perfect equilibrium of the finite grid game.

    Use it in a match config as
    ``{policy: "peacegame.theory:SubgamePerfect", proposer: random}``; it
    needs ``protocol.information: public``. When every actor plays it, the
    engine must reproduce :func:`grid_equilibrium` exactly: a check that the
    engine plays the textbook game.
    """

    name = "subgame_perfect"
    requires_public = True

    def __init__(self, **params: Any) -> None:
        self.params = SubgamePerfectParams(**params)
        self.view: PolicyView | None = None
        self.equilibrium: GridEquilibrium | None = None

    def label(self) -> str:
        """A short label for logs."""
        p = self.params
        return f"subgame_perfect(proposer={p.proposer},b={p.breakdown_prob:g})"

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Solve the game once per view (kept across episodes)."""
        if view.public is None:
            raise UserError(
                "subgame_perfect needs protocol.information: public",
                field=f"policies.{agent}",
            )
        if view is not self.view:
            scenario = view.public
            order = None
            if self.params.order is not None:
                order = tuple(scenario.actor_index(a) for a in self.params.order)
            self.equilibrium = grid_equilibrium(
                scenario,
                proposer=self.params.proposer,
                max_rounds=view.max_rounds,
                breakdown_prob=self.params.breakdown_prob,
                order=order,
            )
            self.powers = discount_powers(
                np.asarray(scenario.discount, np.float64), view.max_rounds
            )
            self.view = view

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Propose the equilibrium offer; accept what beats continuing."""
        view, eq = self.view, self.equilibrium
        assert view is not None and eq is not None, "reset() first"
        mask = observation["action_mask"]
        r, me = int(info["round"]), view.index
        if mask[view.accept_action]:
            assert view.public is not None, "checked in reset()"
            utility = float(view.public.utility64[me, int(info["offer"])])
            gain = self.powers[r, me] * utility
            slack = TOLERANCE * self.powers[r, me]
            accept = gain >= eq.thresholds[r, me] - slack
            return view.accept_action if accept else view.reject_action
        if mask[0]:
            return int(eq.offers[r, me])
        return view.wait_action
