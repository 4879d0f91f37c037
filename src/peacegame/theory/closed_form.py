"""Closed-form predictions on a divisible pie.

Rubinstein's alternating offers (:func:`rubinstein_share`), the stationary
Baron-Ferejohn split under unanimity (:func:`baron_ferejohn`) and under
majority rule (:func:`baron_ferejohn_majority`) and the weighted
Nash bargaining solution (:func:`nash_split`), with the full references
(:data:`SOURCES`). The formulas and their assumptions are described in
:mod:`peacegame.theory`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    v_i = d_i + p_i (1 - sum d) (see :mod:`peacegame.theory`).

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


def baron_ferejohn_majority(n: int, delta: float) -> StationarySplit:
    """Stationary equilibrium of closed-rule Baron-Ferejohn majority bargaining.

    n (odd) members, equal recognition 1/n, a common discount delta, no-deal
    values 0: every member's continuation value is delta/n, so a proposer buys
    the (n - 1)/2 cheapest votes it needs at delta/n each and keeps
    1 - delta (n - 1)/(2n); the others get 0. Ex ante every member expects 1/n
    (Baron & Ferejohn 1989, closed rule).

    Args:
        n: The number of members (odd, at least 3).
        delta: The common discount factor, in (0, 1).

    Returns:
        The expected shares (1/n), the offers to coalition partners
        (``continuation``, delta/n each) and the proposers' keeps.

    Raises:
        ValueError: For an even n, n < 3, or delta outside (0, 1).
    """
    if n < 3 or n % 2 == 0:
        raise ValueError(f"majority-rule Baron-Ferejohn needs an odd n >= 3, got {n}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {delta}")
    shares = np.full(n, 1.0 / n)
    continuation = np.full(n, delta / n)
    keep = np.full(n, 1.0 - delta * (n - 1) / (2 * n))
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
