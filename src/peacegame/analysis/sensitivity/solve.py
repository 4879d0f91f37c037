"""Solution concepts over a batch of calibrations, vectorised over samples.

The batched counterparts of :mod:`peacegame.solutions` (the zone of
agreement, the bargaining set, the weighted Nash point with the project's tie
rule) and of the question :mod:`peacegame.analysis.compare` answers, for a
:class:`~peacegame.scenario.calibrations.CalibrationBatch`: one array
operation per concept, no loop over samples or outcomes. This is the one
batched copy; ``tests/test_sensitivity.py`` checks it against
:mod:`peacegame.solutions` on random calibrations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from peacegame.scenario.calibrations import CalibrationBatch
from peacegame.solutions import TIE_TOLERANCE

OUTPUTS = (
    "zone",
    "bargaining",
    "focus_accepts",
    "accepts_with",
    "accepts_without",
    "zone_with",
    "zone_without",
    "nash",
)
"""Per-sample outputs of :func:`answer_batch` (besides ``binds``)."""


@dataclass(frozen=True)
class BatchQuestion:
    """The question asked of every calibration, as indices.

    Attributes:
        focus: Row of the focus actor (None: no focus actor).
        feature: The feature whose outcomes above 0 are the ones "with" it
            (None: no feature; the "with" counts are then 0).
        red_lines: ``(actor, red_line)`` keys whose binding is measured.

    """

    focus: int | None
    feature: str | None
    red_lines: tuple[tuple[str, str], ...] = ()


def _accepts(batch: CalibrationBatch) -> np.ndarray:
    """``bool[S, A, M]``: u >= d up to the tie tolerance."""
    gain = batch.utility - batch.no_deal[:, :, None]
    return gain >= -TIE_TOLERANCE


def zone_batch(
    batch: CalibrationBatch, accepts: np.ndarray | None = None
) -> np.ndarray:
    """``bool[S, M]``: feasible, and every required actor gets at least its d."""
    acc = _accepts(batch) if accepts is None else accepts
    return batch.feasible & np.all(acc | ~batch.required, axis=1)


def best_batch(
    keys: list[np.ndarray], candidates: np.ndarray, utility: np.ndarray
) -> np.ndarray:
    """Per sample, the best candidate by the tie rule of ``solutions.best_outcome``.

    Args:
        keys: ``float[S, M]`` criteria, most important first (larger is better).
        candidates: ``bool[S, M]``.
        utility: ``float64[S, A, M]``, for the utility sums.

    Returns:
        ``int64[S]`` column indices, -1 where a sample has no candidate.

    """
    alive = candidates.copy()
    for key in [*keys, utility.sum(axis=1)]:
        values = np.where(alive, key, -np.inf)
        best = values.max(axis=1, keepdims=True)
        alive &= values >= best - TIE_TOLERANCE
    index = np.argmax(alive, axis=1).astype(np.int64)
    return np.where(candidates.any(axis=1), index, -1)


def nash_batch(batch: CalibrationBatch, bargaining: np.ndarray) -> np.ndarray:
    """``int64[S]``: the weighted Nash point's column per sample (-1: none)."""
    w = batch.recognition
    gain = batch.utility - batch.no_deal[:, :, None]
    positive = gain > TIE_TOLERANCE
    logs = np.log(np.where(positive, gain, 1.0))
    objective = (w[:, :, None] * logs).sum(axis=1)
    zeros = (~positive & (w > 0)[:, :, None]).sum(axis=1)
    return best_batch([-zeros.astype(float), objective], bargaining, batch.utility)


def answer_batch(
    batch: CalibrationBatch, question: BatchQuestion
) -> dict[str, np.ndarray]:
    """Every per-sample answer of a batch.

    Returns:
        ``int64[S]`` arrays named by :data:`OUTPUTS` (``nash`` is a grid
        index, -1 without a point) and ``binds``, ``int64[S, R]``: how many
        outcomes join the zone when each red line of ``question.red_lines``
        is dropped (see :mod:`peacegame.analysis.compare`).

    """
    acc = _accepts(batch)
    ok = acc | ~batch.required
    zone = batch.feasible & np.all(ok, axis=1)
    bargaining = zone & np.all(acc, axis=1)
    n_s = batch.n_samples
    zeros = np.zeros(n_s, np.int64)
    out = {
        "zone": zone.sum(axis=1),
        "bargaining": bargaining.sum(axis=1),
        "focus_accepts": zeros,
        "accepts_with": zeros,
        "accepts_without": zeros,
        "zone_with": zeros,
        "zone_without": zone.sum(axis=1),
    }
    marked = None
    if question.feature is not None:
        marked = batch.features[question.feature] > 0
        out["zone_with"] = (zone & marked).sum(axis=1)
        out["zone_without"] = (zone & ~marked).sum(axis=1)
    if question.focus is not None:
        focus = acc[:, question.focus] & batch.feasible
        out["focus_accepts"] = focus.sum(axis=1)
        if marked is not None:
            out["accepts_with"] = (focus & marked).sum(axis=1)
            out["accepts_without"] = (focus & ~marked).sum(axis=1)
        else:
            out["accepts_without"] = out["focus_accepts"]
    column = nash_batch(batch, bargaining)
    out["nash"] = np.where(column >= 0, batch.outcomes[np.maximum(column, 0)], -1)
    binds = np.zeros((n_s, len(question.red_lines)), np.int64)
    if question.red_lines and batch.relaxed is not None:
        n_ok = ok.sum(axis=1)
        ids = {actor: i for i, actor in enumerate(batch.actors)}
        for r, key in enumerate(question.red_lines):
            a = ids[key[0]]
            gain = batch.relaxed[key] - batch.no_deal[:, a, None]
            ok_a = (gain >= -TIE_TOLERANCE) | ~batch.required[:, a]
            relaxed_zone = batch.feasible & (n_ok - ok[:, a] + ok_a == ok.shape[1])
            binds[:, r] = relaxed_zone.sum(axis=1) - out["zone"]
    out["binds"] = binds
    return {k: np.asarray(v, np.int64) for k, v in out.items()}
