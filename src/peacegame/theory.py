"""Textbook bargaining theory: closed-form predictions and the ``theory`` command.

A scenario declares the textbook model it is with an optional ``theory`` block
(:class:`~peacegame.scenario.model.TheoryDeclaration`). Every parameter comes
from the scenario itself: the discounts delta_i, the recognition probabilities
p_i and the no-deal values d_i from the actors, and the shares of the pie from
their utilities. The protocol the game is played with (who proposes, the
breakdown risk b, the deadline) comes from a match config when the command is
given one, else from the model and the ``theory`` block.

What is implemented (rho_i = delta_i (1 - b) is the factor by which waiting one
round shrinks actor i's agreement payoff):

* **Rubinstein (1982)**, two actors, alternating (rotating) proposers, no-deal
  values 0: the first proposer gets x* = (1 - delta2)/(1 - delta1 delta2),
  agreed at once. With a breakdown risk b and d != 0 (allowed only without a
  time discount, see below) the same recursion gives
  x* = (1 - rho2 + rho2 b d1 - b d2)/(1 - rho1 rho2) (Binmore, Rubinstein &
  Wolinsky 1986).
* **Baron & Ferejohn (1989) under unanimity**, random recognition p: the
  stationary subgame-perfect equilibrium (unique in payoffs, Eraslan 2002).
  Every proposer offers each other actor j its continuation value
  c_j = rho_j v_j + b d_j and keeps the rest; agreement is immediate, and the
  expected shares solve v_i = p_i (1 - sum_j c_j) + c_i. In closed form:

  - d = 0: v_i = (p_i/(1 - rho_i)) / sum_j (p_j/(1 - rho_j)); with a common
    delta, v_i = p_i and the proposer keeps 1 - delta (1 - v_i);
  - no time discount (delta_i = 1) and a breakdown risk b, so that
    rho = 1 - b plays the role of delta: v_i = d_i + p_i (1 - sum d), the
    asymmetric Nash bargaining solution with weights p (Britz, Herings &
    Predtetchinski 2010 show the limit; with a divisible pie it holds for
    every b), and the proposer keeps 1 - rho (1 - v_i) - (1 - rho)(sum d - d_i).
    The same formulas hold when d_i is a per-round status-quo payoff
    (Banks & Duggan 2000).

  The engine pays d_i undiscounted at breakdown or the deadline, so a scenario
  with both a time discount (delta_i < 1) and d != 0 is not stationary: the
  closed form does not apply, and the command refuses it.
* **Nash (1950)**: the (weighted) Nash bargaining solution, which on a pie is
  x_i = d_i + w_i (1 - sum d), with w the recognition probabilities (the
  weights :func:`peacegame.solutions.nash_point` uses).

On the grid the command also gives the nearest grid outcome of each predicted
split, and the subgame-perfect equilibrium of the *finite* game the engine
plays (the deadline, the grid, the engine's payoff rule) by backward induction,
with voters that accept when indifferent (:func:`grid_equilibrium`). The
:class:`SubgamePerfect` policy plays that equilibrium in matches.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from peacegame.errors import UserError
from peacegame.policies.base import PolicyView
from peacegame.protocol import discount_powers
from peacegame.scenario.compiled import CompiledScenario

SOURCES: dict[str, str] = {
    "rubinstein": (
        "Rubinstein, A. (1982). Perfect equilibrium in a bargaining model. "
        "Econometrica 50(1), 97-109."
    ),
    "brw": (
        "Binmore, K., Rubinstein, A. & Wolinsky, A. (1986). The Nash bargaining "
        "solution in economic modelling. RAND Journal of Economics 17(2), 176-188."
    ),
    "baron_ferejohn": (
        "Baron, D. P. & Ferejohn, J. A. (1989). Bargaining in legislatures. "
        "American Political Science Review 83(4), 1181-1206."
    ),
    "eraslan": (
        "Eraslan, H. (2002). Uniqueness of stationary equilibrium payoffs in the "
        "Baron-Ferejohn model. Journal of Economic Theory 103(1), 11-30."
    ),
    "banks_duggan": (
        "Banks, J. S. & Duggan, J. (2000). A bargaining model of collective "
        "choice. American Political Science Review 94(1), 73-88."
    ),
    "bhp": (
        "Britz, V., Herings, P. J.-J. & Predtetchinski, A. (2010). "
        "Non-cooperative support for the asymmetric Nash bargaining solution. "
        "Journal of Economic Theory 145(5), 1951-1967."
    ),
    "nash": "Nash, J. F. (1950). The bargaining problem. Econometrica 18(2), 155-162.",
}
"""Full references, by key."""

TITLES: dict[str, str] = {
    "rubinstein": "Rubinstein alternating offers",
    "baron_ferejohn": "Baron-Ferejohn bargaining under unanimity",
    "nash_bargaining": "Nash bargaining solution",
}
"""A readable name of each textbook model."""

DEFAULT_MAX_ROUNDS = 100
"""Deadline of the finite grid game when no match config gives one."""

HELD_OUT_SEED_OFFSET = 1_000_000_000
"""``--play`` uses base seed ``config.seed + HELD_OUT_SEED_OFFSET`` by default (the
offset ``peacegame evaluate`` uses: seeds a training run does not see)."""

TOLERANCE = 1e-6
"""Slack of the equilibrium's comparisons, times delta_i^r: utilities are stored
as float32 (0.45 is 0.44999998...), so differences below this are ties."""


# --------------------------------------------------------------------------- #
# Closed forms
# --------------------------------------------------------------------------- #


def rubinstein_share(
    delta1: float,
    delta2: float,
    d1: float = 0.0,
    d2: float = 0.0,
    breakdown: float = 0.0,
) -> float:
    """The first proposer's share of a pie in Rubinstein's alternating offers.

    With ``d1 = d2 = breakdown = 0`` this is x* = (1 - delta2)/(1 - delta1
    delta2) (Rubinstein 1982). In general, with rho_i = delta_i (1 - b), it is
    (1 - rho2 + rho2 b d1 - b d2)/(1 - rho1 rho2), exact when d = 0 or when
    there is no time discount (delta_i = 1).

    Args:
        delta1: The first proposer's discount factor.
        delta2: The responder's discount factor.
        d1: The first proposer's no-deal value.
        d2: The responder's no-deal value.
        breakdown: The per-round breakdown probability b.

    Returns:
        The first proposer's share x*; the responder gets 1 - x*.

    Raises:
        ValueError: If delay costs nothing (rho1 rho2 = 1).

    """
    rho1, rho2 = delta1 * (1.0 - breakdown), delta2 * (1.0 - breakdown)
    if rho1 * rho2 >= 1.0:
        raise ValueError("delay costs nothing (rho1 * rho2 = 1): no unique split")
    b = breakdown
    return (1.0 - rho2 + rho2 * b * d1 - b * d2) / (1.0 - rho1 * rho2)


@dataclass(frozen=True)
class StationarySplit:
    """The stationary equilibrium of Baron-Ferejohn bargaining under unanimity.

    Attributes:
        shares: ``v[i]``, actor i's expected share (its expected payoff).
        continuation: ``c[j] = rho_j v_j + b d_j``, what a proposer offers j.
        keep: ``keep[i] = 1 - sum_j c_j + c_i``, what i keeps when it proposes.

    """

    shares: np.ndarray
    continuation: np.ndarray
    keep: np.ndarray

    def proposal(self, proposer: int) -> np.ndarray:
        """The split actor ``proposer`` offers: it keeps, the others get c_j."""
        split = self.continuation.copy()
        split[proposer] = self.keep[proposer]
        return split


def baron_ferejohn(
    recognition: np.ndarray,
    discount: np.ndarray,
    no_deal: np.ndarray | None = None,
    breakdown: float = 0.0,
) -> StationarySplit:
    """Stationary equilibrium of Baron-Ferejohn unanimity bargaining on a pie.

    Solves v_i = p_i (1 - sum_j c_j) + c_i with c_j = rho_j v_j + b d_j and
    rho_j = delta_j (1 - b). Special cases: d = 0 and a common delta give
    v = p and keep_i = 1 - delta (1 - v_i); delta = 1 gives
    v_i = d_i + p_i (1 - sum d) (see the module docstring).

    Args:
        recognition: Recognition probabilities p (sum 1).
        discount: Discount factors delta.
        no_deal: No-deal values d (default 0).
        breakdown: Per-round breakdown probability b.

    Returns:
        The expected shares, the continuation values and the proposers' keeps.

    Raises:
        ValueError: If delay costs nothing for someone, or sum d >= 1.

    """
    p = np.asarray(recognition, np.float64)
    delta = np.asarray(discount, np.float64)
    d = np.zeros_like(p) if no_deal is None else np.asarray(no_deal, np.float64)
    b = float(breakdown)
    rho = delta * (1.0 - b)
    if np.any(rho >= 1.0):
        raise ValueError("delay costs nothing (rho_i = 1): no unique split")
    if d.sum() >= 1.0:
        raise ValueError("the no-deal values sum to 1 or more: nothing to split")
    a = p / (1.0 - rho)
    e = b * d / (1.0 - rho)
    big_a = float((rho * a).sum())
    big_e = float((rho * e).sum())
    rest = (1.0 - big_e - b * d.sum()) / (1.0 + big_a)  # 1 - sum_j c_j
    shares = a * rest + e
    continuation = rho * shares + b * d
    keep = rest + continuation
    return StationarySplit(shares, continuation, keep)


def nash_split(no_deal: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted Nash bargaining solution of a pie: d_i + w_i (1 - sum d).

    Maximises prod_i (x_i - d_i)^{w_i} over sum_i x_i = 1 (weights normalised
    to sum 1).

    Args:
        no_deal: The disagreement point d.
        weights: The Nash weights w (for example recognition probabilities).

    Returns:
        The split x.

    """
    d = np.asarray(no_deal, np.float64)
    w = np.asarray(weights, np.float64)
    return d + w / w.sum() * (1.0 - d.sum())


# --------------------------------------------------------------------------- #
# A textbook game: the scenario and the protocol it is played with
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class TextbookGame:
    """A textbook scenario and the protocol it is played with.

    Attributes:
        model: ``rubinstein``, ``baron_ferejohn`` or ``nash_bargaining``.
        scenario: The compiled scenario.
        file: The scenario file.
        proposer: ``rotating`` or ``random``.
        order: The rotating order, as actor indices.
        breakdown_prob: Per-round breakdown probability b.
        max_rounds: The deadline of the finite game.
        protocol_from: Where the protocol came from, for the printout.
        protocol_file: The match config that gave the protocol, if any.

    """

    model: str
    scenario: CompiledScenario
    file: str
    proposer: Literal["rotating", "random"]
    order: tuple[int, ...]
    breakdown_prob: float
    max_rounds: int
    protocol_from: str
    protocol_file: str | None = None

    @property
    def delta(self) -> np.ndarray:
        """Discount factors."""
        return np.asarray(self.scenario.discount, np.float64)

    @property
    def recognition(self) -> np.ndarray:
        """Recognition probabilities."""
        return np.asarray(self.scenario.recognition, np.float64)

    @property
    def no_deal(self) -> np.ndarray:
        """No-deal values, as float64 of the float32 the engine holds."""
        return np.asarray(self.scenario.no_deal, np.float64)

    @property
    def rho(self) -> np.ndarray:
        """Per-round shrink factor of agreement payoffs: delta (1 - b)."""
        return self.delta * (1.0 - self.breakdown_prob)


def _refuse(file: str, message: str, field: str | None = None) -> UserError:
    return UserError(f"not a textbook model: {message}", file=file, field=field)


def check_textbook(game: TextbookGame) -> None:
    """Check that a game has the form its model's closed form assumes.

    Raises:
        UserError: Naming the first assumption that fails.

    """
    s, f = game.scenario, game.file
    sums = s.utility.astype(np.float64).sum(axis=0)
    bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
    if bad.size:
        k = int(bad[0])
        raise _refuse(
            f,
            f"the utilities sum to {sums[k]:.6g} at outcome #{k} "
            f"({s.describe(k)}); a textbook pie needs them to sum to 1 everywhere",
        )
    if not s.required.all():
        raise _refuse(f, "consent is not unanimous; expected every actor to consent")
    d = game.no_deal
    if d.sum() >= 1.0:
        raise _refuse(f, f"the no-deal values sum to {d.sum():.6g}; expected < 1")
    if game.model == "nash_bargaining":
        return
    where = game.protocol_file or f
    field = "protocol.proposer" if game.protocol_file else None
    if game.model == "rubinstein":
        if s.n_actors != 2:
            raise _refuse(f, f"rubinstein needs 2 actors, got {s.n_actors}")
        if game.proposer != "rotating":
            raise _refuse(where, "rubinstein needs proposer: rotating", field)
    elif game.proposer != "random":
        raise _refuse(where, "baron_ferejohn needs proposer: random", field)
    if np.any(d != 0) and np.any(game.delta < 1.0):
        raise _refuse(
            f,
            "non-zero no-deal values with a time discount: the engine pays d "
            "undiscounted, so the game is not stationary; use discount 1 with "
            "a breakdown_prob, or no-deal values 0",
        )
    if np.any(game.rho >= 1.0):
        raise _refuse(
            f,
            "delay costs nothing (discount 1 and breakdown_prob 0), so the "
            "equilibrium split is not unique; lower a discount or set "
            "theory.breakdown_prob",
        )


# --------------------------------------------------------------------------- #
# Predictions
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Quantity:
    """One predicted number, with its formula and source.

    Attributes:
        key: A stable key, such as ``first_proposer_share`` or ``share.p1``.
        label: A readable label.
        formula: The formula, in plain text.
        value: The value.
        source: A key of :data:`SOURCES`.

    """

    key: str
    label: str
    formula: str
    value: float
    source: str


@dataclass(frozen=True)
class Prediction:
    """The closed-form predictions of a textbook game.

    Attributes:
        shares: Each actor's expected agreed share (its expected payoff, as
            agreement is immediate).
        first_proposer_share: The expected share of round 0's proposer.
        agreement_round: The predicted agreement round (0: at once).
        quantities: Every predicted number, for the printout.
        splits: Named splits (one share per actor) to place on the grid.
        notes: Remarks on what the prediction assumes.

    """

    shares: np.ndarray
    first_proposer_share: float
    agreement_round: float
    quantities: list[Quantity]
    splits: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)


def predict(game: TextbookGame) -> Prediction:
    """The closed-form predictions of a checked textbook game."""
    if game.model == "rubinstein":
        return _predict_rubinstein(game)
    if game.model == "baron_ferejohn":
        return _predict_baron_ferejohn(game)
    return _predict_nash(game)


def _is_plain(game: TextbookGame) -> bool:
    """No breakdown and no no-deal values: the textbook formulas verbatim."""
    return game.breakdown_prob == 0.0 and not np.any(game.no_deal != 0)


def _predict_rubinstein(game: TextbookGame) -> Prediction:
    ids = game.scenario.actors
    first, second = game.order[0], game.order[1]
    delta, d, b = game.delta, game.no_deal, game.breakdown_prob
    x = rubinstein_share(delta[first], delta[second], d[first], d[second], b)
    shares = np.zeros(2)
    shares[first], shares[second] = x, 1.0 - x
    if _is_plain(game):
        formula, source = "x* = (1 - δ2)/(1 - δ1·δ2)", "rubinstein"
    else:
        formula = "x* = (1 - ρ2 + ρ2·b·d1 - b·d2)/(1 - ρ1·ρ2), ρi = δi(1 - b)"
        source = "brw"
    quantities = [
        Quantity(
            "first_proposer_share",
            f"first proposer's share ({ids[first]})",
            formula,
            x,
            source,
        ),
        Quantity(
            f"share.{ids[second]}",
            f"responder's share ({ids[second]})",
            "1 - x*",
            1.0 - x,
            source,
        ),
        Quantity("agreement_round", "agreement round", "immediate", 0.0, source),
    ]
    return Prediction(
        shares=shares,
        first_proposer_share=x,
        agreement_round=0.0,
        quantities=quantities,
        splits={f"{ids[first]} proposes first": shares},
        notes=[
            "subgame-perfect equilibrium of the infinite-horizon game on a "
            "divisible pie: unique, stationary, agreed at once",
        ],
    )


def _bf_formulas(game: TextbookGame) -> tuple[str, str, str, str]:
    """Formulas of the stationary split (shares, keep, offer) and their source."""
    if np.any(game.no_deal != 0):  # then delta = 1 (checked): rho = 1 - b
        return (
            "v_i = d_i + p_i(1 - Σd)",
            "1 - ρ(1 - v_i) - (1 - ρ)(Σd - d_i), ρ = 1 - b",
            "ρ·v_j + (1 - ρ)·d_j",
            "bhp",
        )
    if np.all(game.delta == game.delta[0]) and game.breakdown_prob == 0.0:
        return "v_i = p_i", "1 - δ(1 - v_i)", "δ·v_j", "eraslan"
    return (
        "v_i ∝ p_i/(1 - ρ_i), ρ_i = δ_i(1 - b)",
        "1 - Σ_{j≠i} ρ_j·v_j",
        "ρ_j·v_j",
        "eraslan",
    )


def _predict_baron_ferejohn(game: TextbookGame) -> Prediction:
    ids = game.scenario.actors
    p, d, b = game.recognition, game.no_deal, game.breakdown_prob
    split = baron_ferejohn(p, game.delta, d, b)
    v_formula, keep_formula, offer_formula, v_source = _bf_formulas(game)
    quantities = [
        Quantity(f"share.{a}", f"expected share of {a}", v_formula, v, v_source)
        for a, v in zip(ids, split.shares, strict=True)
    ]
    quantities += [
        Quantity(f"keep.{a}", f"{a} keeps when it proposes", keep_formula, k, v_source)
        for a, k in zip(ids, split.keep, strict=True)
    ]
    quantities += [
        Quantity(f"offer.{a}", f"{a} is offered", offer_formula, c, v_source)
        for a, c in zip(ids, split.continuation, strict=True)
    ]
    first_share = float((p * split.keep).sum())
    quantities += [
        Quantity(
            "first_proposer_share",
            "first proposer's share (expected)",
            "Σ_i p_i·keep_i",
            first_share,
            "baron_ferejohn",
        ),
        Quantity("agreement_round", "agreement round", "immediate", 0.0, "eraslan"),
    ]
    splits = {"expected shares v": split.shares}
    for i, a in enumerate(ids):
        splits[f"{a} proposes"] = split.proposal(i)
    notes = [
        "stationary subgame-perfect equilibrium of the infinite-horizon game "
        "on a divisible pie, voters accepting when indifferent; payoffs are "
        "unique (Eraslan 2002), agreement is immediate",
    ]
    if np.any(d != 0):
        notes.append(
            "with d != 0: equal to the asymmetric Nash bargaining solution "
            "with weights p (Britz, Herings & Predtetchinski 2010)"
        )
    return Prediction(
        shares=split.shares,
        first_proposer_share=first_share,
        agreement_round=0.0,
        quantities=quantities,
        splits=splits,
        notes=notes,
    )


def _predict_nash(game: TextbookGame) -> Prediction:
    ids = game.scenario.actors
    w = game.recognition / game.recognition.sum()
    x = nash_split(game.no_deal, w)
    symmetric = bool(np.allclose(w, w[0]))
    formula = "x_i = d_i + (1 - Σd)/n" if symmetric else "x_i = d_i + w_i(1 - Σd)"
    quantities = [
        Quantity(f"share.{a}", f"Nash share of {a}", formula, v, "nash")
        for a, v in zip(ids, x, strict=True)
    ]
    splits = {"Nash solution": x}
    notes = [
        "axiomatic: maximises Π_i (x_i - d_i)^w_i on the pie, weights w = the "
        "recognition probabilities",
    ]
    first_share = math.nan
    stationary = not (np.any(game.no_deal != 0) and np.any(game.delta < 1.0))
    if stationary and np.all(game.rho < 1.0) and game.proposer == "random":
        split = baron_ferejohn(w, game.delta, game.no_deal, game.breakdown_prob)
        first_share = float((w * split.keep).sum())
        v_formula, keep_formula, _, source = _bf_formulas(game)
        quantities += [
            Quantity(
                f"bf_share.{a}",
                f"random proposers: expected share of {a}",
                v_formula,
                v,
                source,
            )
            for a, v in zip(ids, split.shares, strict=True)
        ]
        quantities += [
            Quantity(
                f"keep.{a}",
                f"random proposers: {a} keeps when it proposes",
                keep_formula,
                k,
                source,
            )
            for a, k in zip(ids, split.keep, strict=True)
        ]
        quantities.append(
            Quantity(
                "first_proposer_share",
                "random proposers: first proposer's share (expected)",
                "Σ_i p_i·keep_i",
                first_share,
                source,
            )
        )
        for i, a in enumerate(ids):
            splits[f"random proposers, {a} proposes"] = split.proposal(i)
        if np.allclose(split.shares, x):
            notes.append(
                "played with random proposers p = w, the stationary "
                "equilibrium's expected shares equal the Nash split (Britz, "
                "Herings & Predtetchinski 2010)"
            )
    elif (
        stationary
        and np.all(game.rho < 1.0)
        and game.scenario.n_actors == 2
        and game.proposer == "rotating"
    ):
        first, second = game.order[0], game.order[1]
        delta, d, b = game.delta, game.no_deal, game.breakdown_prob
        first_share = rubinstein_share(
            delta[first], delta[second], d[first], d[second], b
        )
        strategic = np.zeros(2)
        strategic[first], strategic[second] = first_share, 1.0 - first_share
        quantities.append(
            Quantity(
                "first_proposer_share",
                f"alternating offers: first proposer's share ({ids[first]})",
                "x* = (1 - ρ2 + ρ2·b·d1 - b·d2)/(1 - ρ1·ρ2), ρi = δi(1 - b)",
                first_share,
                "brw",
            )
        )
        splits[f"alternating offers, {ids[first]} first"] = strategic
        notes.append(
            "the alternating-offers game with breakdown risk b tends to the "
            "Nash solution as b -> 0 (Binmore, Rubinstein & Wolinsky 1986)"
        )
    return Prediction(
        shares=x,
        first_proposer_share=first_share,
        agreement_round=0.0,
        quantities=quantities,
        splits=splits,
        notes=notes,
    )


def nearest_outcome(scenario: CompiledScenario, split: np.ndarray) -> int:
    """The outcome whose utility vector is closest (Euclidean) to ``split``.

    Ties go to the lower outcome index.
    """
    u = scenario.utility.astype(np.float64)
    dist = ((u - np.asarray(split, np.float64)[:, None]) ** 2).sum(axis=0)
    return int(np.argmin(dist))


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
    value, preferring agreement when indifferent, then the lower index.

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
    n = scenario.n_actors
    order = tuple(range(n)) if order is None else tuple(order)
    u = scenario.utility.astype(np.float64)
    required = np.asarray(scenario.required, bool)
    d = np.asarray(scenario.no_deal, np.float64)
    powers = discount_powers(np.asarray(scenario.discount, np.float64), max_rounds)
    b = float(breakdown_prob)
    recognition = np.asarray(scenario.recognition, np.float64)
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
            others = np.delete(np.arange(n), i)
            acceptable = ok[others].all(axis=0)
            own = np.where(acceptable, gain[i], w[i])
            best = own.max()
            ties = own >= best - slack[i]
            if (ties & acceptable).any():
                choice = int(np.flatnonzero(ties & acceptable)[0])
                agrees[r, i] = True
                payoff[r, i] = gain[:, choice]
            else:
                # Propose what is best for i among the rejected outcomes.
                rejected = np.flatnonzero(~acceptable)
                choice = int(rejected[np.argmax(u[i, rejected])])
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
    u = s.utility.astype(np.float64)
    rho, b, d = game.rho, game.breakdown_prob, game.no_deal

    def best_reply(proposer: int, voter: int, other_offer: int) -> int:
        need = rho[voter] * u[voter, other_offer] + b * d[voter] - TOLERANCE
        accepted = np.flatnonzero(u[voter] >= need)
        return int(accepted[np.argmax(u[proposer, accepted])])

    found = []
    for a in range(s.n_outcomes):
        reply = best_reply(second, first, a)
        if best_reply(first, second, reply) == a:
            found.append(a)
    return found


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
            gain = self.powers[r, me] * float(view.utility[int(info["offer"])])
            slack = TOLERANCE * self.powers[r, me]
            accept = gain >= eq.thresholds[r, me] - slack
            return view.accept_action if accept else view.reject_action
        if mask[0]:
            return int(eq.offers[r, me])
        return view.wait_action


# --------------------------------------------------------------------------- #
# Loading a textbook game from a scenario or a match config
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class LoadedGame:
    """A textbook game and, when it came from one, its match config.

    Attributes:
        game: The checked textbook game.
        match: The match config, or None for a scenario file.
        match_file: The match config's path, or None.
        notes: Remarks from loading (for example a protocol that differs from
            the scenario's ``theory`` block).

    """

    game: TextbookGame
    match: Any
    match_file: Path | None
    notes: list[str]


def load_game(
    config: str | Path,
    *,
    max_rounds: int | None = None,
    overrides: list[str] | None = None,
) -> LoadedGame:
    """Load a textbook scenario, or a match config that plays one, and check it.

    Args:
        config: A scenario file or a match config file (a shipped scenario name
            also works).
        max_rounds: Deadline of the finite grid game; default: the match
            config's ``protocol.max_rounds``, else :data:`DEFAULT_MAX_ROUNDS`.
        overrides: ``--set KEY=VALUE`` overrides of a match config.

    Raises:
        UserError: One line, if the file is neither kind, or the scenario is
            not a textbook model.

    """
    from peacegame.config_kinds import detect_kind
    from peacegame.match_config import check_policies_cover_actors, load_match_config
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario
    from peacegame.yamlio import read_yaml

    path = Path(config)
    if not path.is_file():
        path = resolve_config(str(config), "scenarios")
    kind = detect_kind(read_yaml(path), path)
    match = None
    match_file = None
    if kind == "match":
        # Registers the ``learned`` policy kind (no torch import until used).
        with contextlib.suppress(ImportError):
            importlib.import_module("peacegame.policies.learned")
        match, scenario_file = load_match_config(path, overrides)
        match_file = path
        loaded = load_scenario(scenario_file)
    elif kind == "scenario":
        if overrides:
            raise UserError("--set needs a match config", file=path)
        loaded = load_scenario(path)
    else:
        raise UserError(
            f"expected a textbook scenario or a match config, got an {kind} file",
            file=path,
        )
    declared = loaded.spec.theory
    if declared is None:
        raise UserError(
            "not a textbook model: the scenario declares no 'theory' block; "
            "expected theory: {model: rubinstein | baron_ferejohn | "
            "nash_bargaining} (see docs/theory.md)",
            file=loaded.path,
        )
    scenario = compile_scenario(loaded)
    notes: list[str] = []
    if match is not None:
        check_policies_cover_actors(match, scenario.actors, path)
        protocol = match.protocol
        proposer = protocol.proposer
        breakdown = float(protocol.breakdown_prob)
        names = protocol.order or list(scenario.actors)
        order = tuple(scenario.actor_index(a) for a in names)
        rounds = protocol.max_rounds
        source = f"match config {path}"
        if breakdown != declared.breakdown_prob:
            notes.append(
                f"the match's protocol.breakdown_prob {breakdown:g} differs from "
                f"the scenario's theory.breakdown_prob {declared.breakdown_prob:g}; "
                "the predictions use the match's"
            )
    else:
        proposer = "rotating" if declared.model == "rubinstein" else "random"
        breakdown = float(declared.breakdown_prob)
        order = tuple(range(scenario.n_actors))
        rounds = DEFAULT_MAX_ROUNDS
        source = "the model and the scenario's theory block"
    if max_rounds is not None:
        if max_rounds < 1:
            raise UserError(f"--max-rounds must be at least 1, got {max_rounds}")
        rounds = max_rounds
    game = TextbookGame(
        model=declared.model,
        scenario=scenario,
        file=os.path.normpath(loaded.path),
        proposer=proposer,
        order=order,
        breakdown_prob=breakdown,
        max_rounds=rounds,
        protocol_from=source,
        protocol_file=None if match_file is None else str(match_file),
    )
    check_textbook(game)
    return LoadedGame(game, match, match_file, notes)


# --------------------------------------------------------------------------- #
# Playing a match on held-out seeds
# --------------------------------------------------------------------------- #


def _interval(values: list[float]) -> dict[str, Any]:
    from peacegame.analysis.stats import mean_interval

    mean, lo, hi, n = mean_interval(np.asarray(values, np.float64))
    return {"mean": _num(mean), "low": _num(lo), "high": _num(hi), "n": n}


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def play(loaded: LoadedGame, episodes: int, seed: int | None = None) -> dict[str, Any]:
    """Play a match config's policies in memory and measure what theory predicts.

    Args:
        loaded: A game loaded from a match config.
        episodes: Number of episodes.
        seed: Base seed; default the config's seed + :data:`HELD_OUT_SEED_OFFSET`
            (held out from seeds a training run used).

    Returns:
        The agreement rate and the rate of agreement in round 0 (Wilson 95%
        CIs), and over agreed episodes the mean
        agreement round, the first proposer's share and each actor's share,
        plus each actor's mean reward over all episodes (Student t 95% CIs).

    Raises:
        UserError: Without a match config, or with ``episodes < 1``.

    """
    from peacegame.analysis.stats import wilson_interval
    from peacegame.match import EpisodePlayer

    if loaded.match is None:
        raise UserError("--play needs a match config (it names the policies)")
    if episodes < 1:
        raise UserError(f"--play needs at least 1 episode, got {episodes}")
    config = loaded.match
    if seed is None:
        seed = config.seed + HELD_OUT_SEED_OFFSET
    config = config.model_copy(
        update={"episodes": episodes, "seed": seed, "log_events": "rounds"}
    )
    game = loaded.game
    player = EpisodePlayer(config, game.scenario, config_file=str(loaded.match_file))
    actors = game.scenario.actors
    records = [player.play(i) for i in range(episodes)]
    agreed = [r for r in records if r["agreement"]]
    lo, hi = wilson_interval(len(agreed), len(records))
    at_once = sum(1 for r in agreed if r["round"] == 0)
    lo0, hi0 = wilson_interval(at_once, len(records))
    return {
        "episodes": episodes,
        "seed": seed,
        "policies": dict(player.labels),
        "agreement_rate": {
            "mean": round(len(agreed) / len(records), 6),
            "low": _num(lo),
            "high": _num(hi),
            "n": len(records),
        },
        "first_round_agreement": {
            "mean": round(at_once / len(records), 6),
            "low": _num(lo0),
            "high": _num(hi0),
            "n": len(records),
        },
        "agreement_round": _interval([r["round"] for r in agreed]),
        "first_proposer_share": _interval(
            [r["utility"][r["events"][0]["proposer"]] for r in agreed]
        ),
        "share": {a: _interval([r["utility"][a] for r in agreed]) for a in actors},
        "reward": {a: _interval([r["reward"][a] for r in records]) for a in actors},
    }


# --------------------------------------------------------------------------- #
# Rendering
# --------------------------------------------------------------------------- #


def _split_dict(scenario: CompiledScenario, values: np.ndarray) -> dict[str, float]:
    return {a: round(float(v), 6) for a, v in zip(scenario.actors, values, strict=True)}


def _outcome_json(scenario: CompiledScenario, k: int) -> dict[str, Any]:
    return {
        "outcome": int(k),
        "decoded": scenario.decode(k),
        "utility": _split_dict(scenario, scenario.utility[:, k]),
    }


def theory_json(
    loaded: LoadedGame, measured: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the command prints, as JSON-ready data."""
    from peacegame.solutions import nash_point

    game = loaded.game
    s = game.scenario
    prediction = predict(game)
    eq = game_equilibrium(game)
    grid = []
    for name, split in prediction.splits.items():
        item = {"split": name, "target": _split_dict(s, split)}
        item.update(_outcome_json(s, nearest_outcome(s, split)))
        grid.append(item)
    used = {q.source for q in prediction.quantities}
    out: dict[str, Any] = {
        "model": game.model,
        "title": TITLES[game.model],
        "scenario": s.name,
        "file": game.file,
        "actors": list(s.actors),
        "parameters": {
            "discount": _split_dict(s, game.delta),
            "recognition": _split_dict(s, game.recognition),
            "no_deal": _split_dict(s, game.no_deal),
            "proposer": game.proposer,
            "order": [s.actors[i] for i in game.order],
            "breakdown_prob": game.breakdown_prob,
            "max_rounds": game.max_rounds,
            "protocol_from": game.protocol_from,
        },
        "closed_form": {
            "quantities": [
                {
                    "key": q.key,
                    "label": q.label,
                    "formula": q.formula,
                    "value": round(float(q.value), 6),
                    "source": q.source,
                }
                for q in prediction.quantities
            ],
            "shares": _split_dict(s, prediction.shares),
            "first_proposer_share": _num(prediction.first_proposer_share),
            "agreement_round": prediction.agreement_round,
            "notes": [*prediction.notes, *loaded.notes],
        },
        "grid": grid,
        "finite_game": {
            "max_rounds": eq.max_rounds,
            "agreement_prob": round(eq.agreement_prob, 6),
            "first_round_prob": round(eq.first_round_prob, 6),
            "expected_round": _num(eq.expected_round),
            "expected_share": _split_dict(s, eq.expected_share),
            "first_proposer_share": _num(eq.first_proposer_share),
            "value": _split_dict(s, eq.value),
            "round0_offers": {
                a: {
                    **_outcome_json(s, int(eq.offers[0, i])),
                    "agreed": bool(eq.agrees[0, i]),
                }
                for i, a in enumerate(s.actors)
                if game.proposer == "random" or i == game.order[0]
            },
        },
        "sources": {key: SOURCES[key] for key in sorted(used)},
    }
    stationary = stationary_grid_proposals(game)
    if stationary is not None:
        first = game.order[0]
        out["grid_stationary"] = {
            "proposer": s.actors[first],
            "outcomes": stationary,
            "first_proposer_shares": [
                round(float(s.utility[first, k]), 6) for k in stationary
            ],
        }
    if game.model == "nash_bargaining":
        k = nash_point(s)
        out["grid_nash_point"] = None if k is None else _outcome_json(s, k)
    if measured is not None:
        out["measured"] = measured
    return out


def _ci(item: dict[str, Any]) -> str:
    if item["mean"] is None:
        return "-"
    if item["low"] is None:
        return f"{item['mean']:.3f}"
    return f"{item['mean']:.3f} [{item['low']:.3f}, {item['high']:.3f}]"


def theory_text(doc: dict[str, Any]) -> str:
    """The human-readable printout of :func:`theory_json`'s document."""
    from peacegame.describe import table

    par = doc["parameters"]
    actors = doc["actors"]
    lines = [
        f"{doc['scenario']}: {doc['title']}  ({doc['file']})",
        "  actors:   "
        + "   ".join(
            f"{a}: δ={par['discount'][a]:g} p={par['recognition'][a]:g} "
            f"d={par['no_deal'][a]:g}"
            for a in actors
        ),
        f"  protocol: {par['proposer']} proposers (order {', '.join(par['order'])})"
        if par["proposer"] == "rotating"
        else "  protocol: random proposers (recognition p)",
    ]
    lines[-1] += (
        f", breakdown_prob {par['breakdown_prob']:g}; from {par['protocol_from']}"
    )
    closed = doc["closed_form"]
    lines += ["", "Closed form (infinite horizon, divisible pie)"]
    rows = [
        [q["label"], q["formula"], f"{q['value']:.4f}", q["source"]]
        for q in closed["quantities"]
    ]
    lines.append(table(["quantity", "formula", "value", "source"], rows))
    lines += [f"  note: {n}" for n in closed["notes"]]
    lines += ["", "Nearest grid outcomes"]
    rows = [
        [
            g["split"],
            " ".join(f"{v:.4f}" for v in g["target"].values()),
            f"#{g['outcome']} "
            + ", ".join(f"{k}={v}" for k, v in g["decoded"].items()),
            " ".join(f"{v:.3f}" for v in g["utility"].values()),
        ]
        for g in doc["grid"]
    ]
    if doc.get("grid_nash_point"):
        g = doc["grid_nash_point"]
        rows.append(
            [
                "grid Nash point (solve)",
                "",
                f"#{g['outcome']} "
                + ", ".join(f"{k}={v}" for k, v in g["decoded"].items()),
                " ".join(f"{v:.3f}" for v in g["utility"].values()),
            ]
        )
    lines.append(table(["split", "predicted", "grid outcome", "its shares"], rows))
    fin = doc["finite_game"]
    lines += [
        "",
        f"Finite game on the grid (backward induction, max_rounds {fin['max_rounds']}, "
        "voters accept when indifferent)",
    ]
    rows = [
        [
            f"{a} proposes in round 0",
            f"#{o['outcome']} "
            + ", ".join(f"{k}={v}" for k, v in o["decoded"].items()),
            "accepted" if o["agreed"] else "rejected (delay)",
        ]
        for a, o in fin["round0_offers"].items()
    ]
    lines.append(table(["", "offer", ""], rows))
    lines.append(
        f"  agreement probability {fin['agreement_prob']:.4f}, expected round "
        f"{_fmt_num(fin['expected_round'])}, first proposer's share "
        f"{_fmt_num(fin['first_proposer_share'])}"
    )
    lines.append(
        "  expected agreed shares: "
        + ", ".join(f"{a} {_fmt_num(v)}" for a, v in fin["expected_share"].items())
    )
    if "grid_stationary" in doc:
        st = doc["grid_stationary"]
        shares = ", ".join(f"{v:.2f}" for v in st["first_proposer_shares"])
        lines.append(
            f"  stationary equilibria on the grid: {st['proposer']} proposes a "
            f"share in {{{shares}}}"
        )
    if "measured" in doc:
        lines += ["", *_measured_lines(doc)]
    lines += ["", "Sources"]
    lines += [f"  [{k}] {v}" for k, v in doc["sources"].items()]
    return "\n".join(lines)


def _fmt_num(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def _measured_lines(doc: dict[str, Any]) -> list[str]:
    from peacegame.describe import table

    m = doc["measured"]
    closed, fin = doc["closed_form"], doc["finite_game"]
    policies = ", ".join(f"{a}={p}" for a, p in m["policies"].items())
    lines = [
        f"Measured: {m['episodes']} episodes, base seed {m['seed']}; {policies}",
    ]
    rows = [
        [
            "agreement rate",
            "1",
            _fmt_num(fin["agreement_prob"]),
            _ci(m["agreement_rate"]),
        ],
        [
            "agreed in round 0",
            "1",
            _fmt_num(fin["first_round_prob"]),
            _ci(m["first_round_agreement"]),
        ],
        [
            "agreement round",
            _fmt_num(closed["agreement_round"]),
            _fmt_num(fin["expected_round"]),
            _ci(m["agreement_round"]),
        ],
        [
            "first proposer's share",
            _fmt_num(closed["first_proposer_share"]),
            _fmt_num(fin["first_proposer_share"]),
            _ci(m["first_proposer_share"]),
        ],
    ]
    for a in doc["actors"]:
        rows.append(
            [
                f"share of {a}",
                _fmt_num(closed["shares"][a]),
                _fmt_num(fin["expected_share"][a]),
                _ci(m["share"][a]),
            ]
        )
    for a in doc["actors"]:
        rows.append(
            [
                f"reward of {a}",
                _fmt_num(closed["shares"][a]),
                _fmt_num(fin["value"][a]),
                _ci(m["reward"][a]),
            ]
        )
    lines.append(
        table(["quantity", "closed form", "grid game", "measured [95% CI]"], rows)
    )
    lines.append(
        "  shares and rounds are over agreed episodes; rewards over all episodes"
    )
    return lines


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def cmd_theory(args: argparse.Namespace) -> int:
    """Print a textbook config's predictions (and, with --play, measurements)."""
    loaded = load_game(
        args.config, max_rounds=args.max_rounds, overrides=list(args.set or [])
    )
    measured = None
    if args.play is not None:
        measured = play(loaded, args.play, args.seed)
    elif args.seed is not None:
        raise UserError("--seed needs --play")
    doc = theory_json(loaded, measured)
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(theory_text(doc))
    return 0


def add_theory_commands(subparsers: Any) -> None:
    """Add the ``theory`` subcommand to the ``peacegame`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.

    """
    p = subparsers.add_parser(
        "theory",
        help="closed-form predictions of a textbook scenario (docs/theory.md)",
        description=(
            "Print the closed-form predictions of a textbook bargaining "
            "scenario (Rubinstein, Baron-Ferejohn, Nash) with formulas and "
            "sources, the nearest grid outcomes and the equilibrium of the "
            "finite grid game; with --play, also play a match config and "
            "compare."
        ),
    )
    p.add_argument(
        "config", metavar="CONFIG", help="textbook scenario or match config file"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--max-rounds",
        type=int,
        help="deadline of the finite grid game (default: the match config's, "
        f"else {DEFAULT_MAX_ROUNDS})",
    )
    p.add_argument(
        "--play",
        type=int,
        metavar="EPISODES",
        help="play the match config's policies for this many episodes and "
        "compare with the predictions",
    )
    p.add_argument(
        "--seed",
        type=int,
        help="base seed of --play (default: the config's seed + "
        f"{HELD_OUT_SEED_OFFSET:,}, held out)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a match config field, e.g. policies.p1=linear (repeatable)",
    )
    p.set_defaults(func=cmd_theory)
