"""The textbook game and its closed-form predictions.

:class:`TextbookGame` is a textbook scenario and the protocol it is played
with; :func:`check_textbook` checks that it has the form its model's closed
form assumes; :func:`predict` gives the predictions (:class:`Prediction`, a
list of :class:`Quantity`), and :func:`nearest_outcome` places a predicted
split on the grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from peacegame.errors import UserError
from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.consent import minimal_winning_coalitions
from peacegame.theory.closed_form import (
    baron_ferejohn,
    baron_ferejohn_majority,
    nash_split,
    rubinstein_share,
)

TITLES: dict[str, str] = {
    "rubinstein": "Rubinstein alternating offers",
    "baron_ferejohn": "Baron-Ferejohn bargaining under unanimity",
    "baron_ferejohn_majority": "Baron-Ferejohn bargaining under majority rule",
    "nash_bargaining": "Nash bargaining solution",
}
"""A readable name of each textbook model."""


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
        raise _refuse(f, "not every actor votes on every outcome; expected all to")
    if game.model == "baron_ferejohn_majority":
        _check_majority(game)
        return
    if not s.consent.unanimous:
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


def _check_majority(game: TextbookGame) -> None:
    """The closed-rule majority model: n odd, symmetric, a plain discount."""
    s, f = game.scenario, game.file
    n = s.n_actors
    where = game.protocol_file or f
    if n < 3 or n % 2 == 0:
        raise _refuse(f, f"majority rule needs an odd number of actors, got {n}")
    need = n // 2 + 1
    found = minimal_winning_coalitions(s.consent, s.required, 0)
    if len(found) != math.comb(n, need) or any(len(c) != need for c in found):
        raise _refuse(
            f,
            "consent is not a simple majority; expected every coalition of "
            f"{need} of the {n} actors to carry a proposal (quota: majority)",
            "consent",
        )
    if not np.all(s.consent.applies == s.consent.applies[0]):
        raise _refuse(f, "the consent rules vary across outcomes", "consent")
    if not np.allclose(game.recognition, 1.0 / n):
        raise _refuse(f, f"the closed form needs equal recognition 1/{n}")
    if not np.all(game.delta == game.delta[0]) or not 0 < game.delta[0] < 1:
        raise _refuse(f, "the closed form needs one common discount in (0, 1)")
    if np.any(game.no_deal != 0) or game.breakdown_prob != 0.0:
        raise _refuse(
            where, "the closed form needs no-deal values 0 and breakdown_prob 0"
        )
    if game.proposer != "random":
        field = "protocol.proposer" if game.protocol_file else None
        raise _refuse(where, "baron_ferejohn_majority needs proposer: random", field)


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
        source: A key of :data:`~peacegame.theory.closed_form.SOURCES`.

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
    if game.model == "baron_ferejohn_majority":
        return _predict_majority(game)
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


def _predict_majority(game: TextbookGame) -> Prediction:
    ids = game.scenario.actors
    n = len(ids)
    delta = float(game.delta[0])
    split = baron_ferejohn_majority(n, delta)
    partners = (n - 1) // 2
    quantities = [
        Quantity(
            "first_proposer_share",
            "proposer keeps",
            "1 - δ(n - 1)/(2n)",
            float(split.keep[0]),
            "baron_ferejohn",
        ),
        Quantity(
            "offer",
            f"offered to each of (n - 1)/2 = {partners} others",
            "δ/n",
            float(split.continuation[0]),
            "baron_ferejohn",
        ),
        Quantity(
            "offer_rest",
            f"offered to the other {n - 1 - partners}",
            "0",
            0.0,
            "baron_ferejohn",
        ),
    ]
    quantities += [
        Quantity(f"share.{a}", f"expected share of {a}", "v_i = 1/n", v, "eraslan")
        for a, v in zip(ids, split.shares, strict=True)
    ]
    quantities.append(
        Quantity("agreement_round", "agreement round", "immediate", 0.0, "eraslan")
    )
    splits = {"expected shares v": split.shares}
    for i, a in enumerate(ids):
        proposal = np.zeros(n)
        proposal[i] = split.keep[i]
        for step in range(1, partners + 1):  # one minimal winning coalition
            proposal[(i + step) % n] = split.continuation[0]
        splits[f"{a} proposes"] = proposal
    return Prediction(
        shares=split.shares,
        first_proposer_share=float(split.keep[0]),
        agreement_round=0.0,
        quantities=quantities,
        splits=splits,
        notes=[
            "stationary subgame-perfect equilibrium of the closed-rule game on a "
            "divisible pie (Baron & Ferejohn 1989): the proposer buys a minimal "
            "winning coalition, (n - 1)/2 votes at their continuation value δ/n; "
            "which members it buys is not determined (the split shown buys the "
            "next ones in actor order)",
        ],
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
