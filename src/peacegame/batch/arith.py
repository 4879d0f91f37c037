"""Exact float64 twins of the scripted policies' frequency-model arithmetic.

Under private information a scripted proposer estimates actor j's utility of
outcome o as ``design @ tables`` (``ScriptedPolicy.estimated_utility``): the sum
over issues k of ``(1 / n_issues) * t[j, k, level_k(o)]``, computed by BLAS.
Which floats BLAS returns depends on its kernel. On this machine (OpenBLAS,
Haswell/SkylakeX kernels) each element is a fused multiply-add chain in issue
order, ``fma(w, t_5, fma(w, t_4, ... fma(w, t_0, 0)))``, and a plain
multiply-then-add chain differs in the last bit for about a quarter of the
elements. numpy has no ``fma`` ufunc, so :func:`fma_chain` emulates it exactly
with error-free transformations and round-to-odd (Boldo & Melquiond, "Emulation
of FMA and correctly rounded sums: proved algorithms using rounding to odd",
IEEE Trans. Computers 57(4), 2008).

Which chain the policies' BLAS call computes is not assumed: the batch engine
probes the real policy code once per scenario (:func:`probe_estimate_kind`) and
falls back to the env path when neither twin reproduces it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's split of a float64

EstimateKind = Literal["fma", "muladd", "mean"]
"""How the frequency-model estimate is summed: an FMA chain or a multiply-add
chain over the design matrix, or numpy's ``mean`` over gathered levels."""


def two_product(a: float, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Error-free product: ``hi + lo == a * b`` exactly, ``hi = fl(a * b)``.

    Dekker's algorithm (no FMA needed); valid without overflow or underflow,
    which holds for the [0, 1] values used here.

    Args:
        a: A scalar factor.
        b: Array factor.

    Returns:
        ``(hi, lo)``.
    """
    b = np.asarray(b, dtype=np.float64)
    c = _SPLITTER * a
    a_hi = c - (c - a)
    a_lo = a - a_hi
    d = _SPLITTER * b
    b_hi = d - (d - b)
    b_lo = b - b_hi
    hi = a * b
    lo = ((a_hi * b_hi - hi) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return hi, lo


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _add_round_to_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` rounded to odd (the enclosing float with an odd last bit)."""
    s, err = _two_sum(a, b)
    even = (s.view(np.int64) & 1) == 0
    fix = even & (err != 0)
    if fix.any():
        s = s.copy()
        s[fix] = np.nextafter(s[fix], np.where(err[fix] > 0, np.inf, -np.inf))
    return s


def fma_add(acc: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """``round(acc + (hi + lo))`` with one rounding: ``fma(w, t, acc)``.

    Args:
        acc: The accumulator.
        hi: ``fl(w * t)`` (from :func:`two_product`).
        lo: The product's rounding error.

    Returns:
        The correctly rounded sum.
    """
    th, tl = _two_sum(acc, hi)
    return th + _add_round_to_odd(tl, lo)


def fma_chain(his: list[np.ndarray], los: list[np.ndarray]) -> np.ndarray:
    """``fma(w, t_n, ... fma(w, t_1, fma(w, t_0, 0)))`` from the exact products.

    Args:
        his: Per term, ``fl(w * t_k)``.
        los: Per term, the product's rounding error.

    Returns:
        The chain's value, elementwise.
    """
    acc = his[0] + 0.0
    for hi, lo in zip(his[1:], los[1:], strict=True):
        acc = fma_add(acc, hi, lo)
    return acc


def muladd_chain(his: list[np.ndarray]) -> np.ndarray:
    """``fl(w t_0) + fl(w t_1) + ...`` left to right (no FMA)."""
    acc = his[0] + 0.0
    for hi in his[1:]:
        acc = acc + hi
    return acc


def probe_estimate_kind(policy: object, seed: int = 0) -> EstimateKind | None:
    """Find which twin reproduces a private-information policy's estimates.

    Fills the policy's frequency-model counts with random evidence a few
    times, calls its own ``estimated_utility`` and compares every element with
    the twins.

    Args:
        policy: A ``ScriptedPolicy`` already reset on a private view.
        seed: Seed of the random evidence.

    Returns:
        ``"fma"``, ``"muladd"`` or ``"mean"``, or None if none matches.
    """
    view = policy.view  # type: ignore[attr-defined]
    counts = policy.counts  # type: ignore[attr-defined]
    saved = counts.copy()
    n_issues = view.levels.shape[1]
    levels = np.asarray(view.levels, dtype=np.int64)
    widths = [issue.n_levels for issue in view.issues]
    rng = np.random.default_rng(seed)
    design = getattr(policy, "design", None)
    kinds: list[EstimateKind] = ["mean"] if design is None else ["fma", "muladd"]
    candidates = np.arange(view.n_outcomes)
    try:
        for trial in range(4):
            counts.fill(0.0)
            for k, width in enumerate(widths):
                top = 2 + 7 * trial
                counts[:, k, :width] = rng.integers(0, top, (counts.shape[0], width))
            counts *= 0.5
            wanted = policy.estimated_utility(
                None if design is not None else candidates
            )  # type: ignore[attr-defined]
            peak = counts.max(axis=2, keepdims=True)
            tables = np.where(peak > 0, counts / np.where(peak > 0, peak, 1), 0.5)
            terms = [tables[:, k, levels[:, k]] for k in range(n_issues)]
            still = []
            for kind in kinds:
                if kind == "mean":
                    got = np.stack(terms, axis=2).mean(axis=2)
                else:
                    pairs = [two_product(1.0 / n_issues, t) for t in terms]
                    his = [p[0] for p in pairs]
                    if kind == "fma":
                        got = fma_chain(his, [p[1] for p in pairs])
                    else:
                        got = muladd_chain(his)
                if np.array_equal(got, wanted):
                    still.append(kind)
            kinds = still
            if not kinds:
                return None
    finally:
        counts[...] = saved
        policy.private_score = None  # type: ignore[attr-defined]
    return kinds[0]
