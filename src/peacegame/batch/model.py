"""The private-information proposal rule, vectorised over matches.

Under private information a scripted proposer offers, among its own outcomes at
or above its aspiration (a prefix of its best-first order), the one whose
smallest *estimated* acceptability over the other required actors is largest,
ties going to the lowest own utility (the last position of the prefix). The
estimates come from a frequency model of the public record
(``ScriptedPolicy.estimated_utility``), so they differ per match.

Every scripted policy folds the same public record with the same rule, so one
count table per match serves every private-information proposer. The
proposal is computed in two passes, per proposing actor and per chunk of
matches:

1. an approximate pass: the estimate of every candidate for every match as one
   BLAS product ``design[candidates] @ tables`` (any summation order: the
   error is below 1e-14 for these [0, 1] sums of at most a few dozen terms);
2. an exact pass, only on the candidates whose approximate score lies within
   :data:`TOLERANCE` of their match's best: the score recomputed with the very
   float operations of the policy (:mod:`peacegame.batch.arith`), so that the
   winner, and every tie, is what the policy picks.
"""

from __future__ import annotations

import numpy as np

from peacegame.batch.arith import EstimateKind, fma_chain, muladd_chain, two_product
from peacegame.scenario.compiled import CompiledScenario

TOLERANCE = 1e-12
"""Bound on the approximate pass's error (the true bound is about 1e-15)."""

DESIGN_CACHE_LIMIT = 4_000_000
"""Largest design matrix (outcomes x levels) cached per actor."""

CHUNK_ELEMENTS = 1 << 20
"""Candidates x matches per chunk of the approximate pass (memory bound)."""


class FrequencyModel:
    """Per-match evidence counts and the private proposal rule.

    Args:
        scenario: The compiled scenario.
        size: Number of match slots.
        kind: How the policies sum the estimate (see
            :func:`peacegame.batch.arith.probe_estimate_kind`).
    """

    def __init__(self, scenario: CompiledScenario, size: int, kind: EstimateKind):
        self.kind = kind
        self.n_actors = scenario.n_actors
        widths = np.array([issue.n_levels for issue in scenario.issues], np.int64)
        self.widths = widths
        self.n_issues = len(widths)
        offsets = np.concatenate([[0], np.cumsum(widths)])
        self.starts = offsets[:-1]
        self.total = int(offsets[-1])
        self.weight = 1.0 / self.n_issues
        # Column of each outcome's level of each issue in the flat layout.
        self.columns = np.asarray(scenario.levels, np.int64) + self.starts[None, :]
        self.counts = np.zeros((size, self.n_actors, self.total), np.float64)
        self._sorted_design: dict[int, np.ndarray] = {}
        self._order = np.asarray(scenario.order, np.int64)
        self._required = np.asarray(scenario.required, np.bool_)

    def reset(self, slots: np.ndarray) -> None:
        """Forget the evidence of some slots (a new episode)."""
        self.counts[slots] = 0.0

    def update(
        self,
        slots: np.ndarray,
        proposers: np.ndarray,
        offers: np.ndarray,
        votes: np.ndarray,
    ) -> None:
        """Fold one completed round: proposer +1, accepters +1/2 at the offer."""
        columns = self.columns[offers]  # [S, n_issues]
        rows = slots[:, None]
        self.counts[rows, proposers[:, None], columns] += 1.0
        for j in range(self.n_actors):
            accepted = votes[:, j] == 1
            if accepted.any():
                self.counts[rows[accepted], j, columns[accepted]] += 0.5

    def tables(self, slots: np.ndarray) -> np.ndarray:
        """``counts / peak`` per issue, 0.5 where an issue has no evidence.

        Returns:
            ``float64[len(slots), n_actors, total_levels]``.
        """
        counts = self.counts[slots]
        peak = np.maximum.reduceat(counts, self.starts, axis=2)
        peak = np.repeat(peak, self.widths, axis=2)
        positive = peak > 0
        return np.where(positive, counts / np.where(positive, peak, 1), 0.5)

    def _design(self, actor: int, top: int) -> np.ndarray:
        """The transposed design matrix over ``actor``'s ``top`` best outcomes.

        Column ``q`` is the outcome at position ``top - 1 - q`` of the actor's
        best-first order (worst first), so that ``np.argmax`` (first maximum)
        picks the last position, as the policy's reversed candidate list does.
        The full matrix is cached per actor unless it would be large.
        """
        n_outcomes = self._order.shape[1]
        if n_outcomes * self.total > DESIGN_CACHE_LIMIT:
            return self._design_columns(self._order[actor][:top][::-1])
        design = self._sorted_design.get(actor)
        if design is None:
            design = self._design_columns(self._order[actor][::-1])
            self._sorted_design[actor] = design
        return design[:, n_outcomes - top :]

    def _design_columns(self, outcomes: np.ndarray) -> np.ndarray:
        columns = self.columns[outcomes]
        design = np.zeros((self.total, columns.shape[0]), np.float64)
        design[columns, np.arange(columns.shape[0])[:, None]] = self.weight
        return design

    def _exact(self, terms: np.ndarray) -> np.ndarray:
        """The policies' own sum of ``terms`` (``[N, n_issues]``), bit for bit."""
        if self.kind == "mean":
            return terms.mean(axis=1)
        hi, lo = two_product(self.weight, terms)
        his = list(hi.T)
        if self.kind == "muladd":
            return muladd_chain(his)
        out = muladd_chain(his)  # exact wherever every product is exact
        inexact = np.flatnonzero((lo != 0).any(axis=1))
        if inexact.size:
            out[inexact] = fma_chain(
                [h[inexact] for h in his], [x[inexact] for x in lo.T]
            )
        return out

    def most_acceptable(
        self, actor: int, slots: np.ndarray, count: np.ndarray
    ) -> np.ndarray:
        """Private-information proposals of ``actor`` in the given slots.

        Args:
            actor: The proposing actor.
            slots: Slots where it proposes.
            count: ``int64[len(slots)]``, its number of candidates (>= 1) per
                slot: the outcomes at or above its aspiration.

        Returns:
            ``int64[len(slots)]`` proposed outcomes.
        """
        order = self._order[actor]
        top = int(count.max())
        # Candidates worst first: column q is position top - 1 - q.
        candidates = order[:top][::-1]
        need = self._required[:, candidates].copy()
        need[actor] = False
        others = [j for j in range(self.n_actors) if need[j].any()]
        if not others:
            return order[count - 1]
        design = self._design(actor, top)
        penalty = {
            j: None if need[j].all() else np.where(need[j], 0.0, np.inf) for j in others
        }
        positions = np.empty(len(slots), np.int64)
        per_chunk = max(1, CHUNK_ELEMENTS // top)
        for start in range(0, len(slots), per_chunk):
            part = slice(start, start + per_chunk)
            positions[part] = self._best_positions(
                design, candidates, need, others, penalty, slots[part], count[part]
            )
        return order[positions]

    def _best_positions(
        self,
        design: np.ndarray,
        candidates: np.ndarray,
        need: np.ndarray,
        others: list[int],
        penalty: dict[int, np.ndarray | None],
        slots: np.ndarray,
        count: np.ndarray,
    ) -> np.ndarray:
        top = len(candidates)
        tables = self.tables(slots)  # [S, n, L]
        score: np.ndarray | None = None
        for j in others:
            estimate = tables[:, j, :] @ design  # [S, top], approximate
            if penalty[j] is not None:
                estimate += penalty[j]
            if score is None:
                score = estimate
            else:
                np.minimum(score, estimate, out=score)
        assert score is not None
        # Column q holds position top - 1 - q; positions >= count are invalid.
        invalid = np.arange(top)[None, :] < (top - count)[:, None]
        score[invalid] = -np.inf
        best = score.max(axis=1)
        near = score >= (best - 2 * TOLERANCE)[:, None]
        contested = np.isfinite(best) & (near.sum(axis=1) > 1)
        if contested.any():
            rows = np.flatnonzero(contested)
            sub = near[rows]
            near_s, near_q = np.nonzero(sub)
            near_s = rows[near_s]
            exact = np.full(near_s.shape[0], np.inf)
            columns = self.columns[candidates[near_q]]  # [N, n_issues]
            for j in others:
                terms = tables[near_s[:, None], j, columns]
                value = self._exact(terms)
                if penalty[j] is not None:
                    value += penalty[j][near_q]
                np.minimum(exact, value, out=exact)
            score[rows] = -np.inf
            score[near_s, near_q] = exact
        return top - 1 - np.argmax(score, axis=1)
