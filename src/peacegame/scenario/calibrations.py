"""Compile many calibrations of one scenario at once, as array operations.

A *calibration* gives every uncertain number of a loaded scenario (see
:mod:`peacegame.scenario.uncertainty`) one value. :class:`Calibrations`
compiles a batch of ``S`` of them, a ``float64[S, P]`` matrix whose columns
follow ``loaded.uncertain``, into :class:`CalibrationBatch` arrays with a
leading sample axis. There is no Python loop over outcomes or samples:

- an actor's utility is linear in its normalised weights and its term values,
  ``u[s, o] = sum_j w[s, j] / W[s] * v[s, j, o]``; a value table is gathered
  per sample (``table[s, level[o]]``), a curve is interpolated with per-sample
  points, soft penalties and hard floors are applied with the same formulas as
  :func:`~peacegame.scenario.compile.compile_scenario`;
- level attributes move features, so when one is uncertain the features, the
  feasibility rules, the red lines and the consent rules are evaluated per
  sample over the whole grid (``feasible[s, o]``).

Columns are grid points: ``outcomes`` holds their grid indices (the points
feasible in at least one sample of the batch). With every number at its
``value`` the arrays equal the compiled scenario's (``tests/test_sensitivity.py``
checks this, and that a batch equals compiling each calibration alone with
:meth:`Calibrations.compile_one`).

Sampled recognition probabilities are divided by their sum, so that they stay
a probability vector.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from peacegame.scenario.compile import _Grid, estimate_bytes
from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.loader import LoadedScenario, scenario_from_dict
from peacegame.scenario.model import ConstantTerm, CurveTerm, TableTerm
from peacegame.scenario.uncertainty import UncertainParameter


@dataclass(frozen=True)
class CalibrationBatch:
    """``S`` calibrations of a scenario as arrays.

    Arrays with a leading axis of length 1 are the same for every sample.

    Attributes:
        actors: The actor ids, in row order.
        outcomes: ``int64[M]``, the grid index of each column.
        feasible: ``bool[S or 1, M]``, which columns are feasible per sample.
        utility: ``float64[S, A, M]``.
        required: ``bool[S or 1, A, M]``, whose consent each column needs.
        no_deal: ``float64[S, A]``.
        discount: ``float64[S, A]``.
        recognition: ``float64[S, A]`` (each row sums to 1).
        features: Per feature name, ``float64[S or 1, M]``.
        relaxed: Per ``(actor, red_line)``, that actor's ``float64[S, M]``
            utility without that red line (only when asked for).

    """

    actors: tuple[str, ...]
    outcomes: np.ndarray
    feasible: np.ndarray
    utility: np.ndarray
    required: np.ndarray
    no_deal: np.ndarray
    discount: np.ndarray
    recognition: np.ndarray
    features: dict[str, np.ndarray]
    relaxed: dict[tuple[str, str], np.ndarray] | None = None

    @property
    def n_samples(self) -> int:
        """Number of calibrations in the batch."""
        return int(self.utility.shape[0])


def _interp(f: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``np.interp`` with per-sample points: ``xs, ys [S, K]``, ``f [S or 1, M]``."""
    if xs.shape[1] == 1:
        return np.broadcast_to(ys[:, :1], (xs.shape[0], f.shape[-1])).copy()
    f = np.broadcast_to(f, (xs.shape[0], f.shape[-1]))
    k = (xs[:, :, None] <= f[:, None, :]).sum(axis=1) - 1
    k = np.clip(k, 0, xs.shape[1] - 2)
    x0 = np.take_along_axis(xs, k, axis=1)
    x1 = np.take_along_axis(xs, k + 1, axis=1)
    y0 = np.take_along_axis(ys, k, axis=1)
    y1 = np.take_along_axis(ys, k + 1, axis=1)
    slope = (y1 - y0) / (x1 - x0)
    out = slope * (np.clip(f, x0, x1) - x0) + y0
    return np.where(f >= x1, y1, out)


class Calibrations:
    """Compiles batches of calibrations of one loaded scenario.

    Args:
        loaded: The scenario; its ``uncertain`` numbers are the columns of a
            calibration matrix.

    """

    def __init__(self, loaded: LoadedScenario) -> None:
        self.loaded = loaded
        self.parameters: tuple[UncertainParameter, ...] = loaded.uncertain
        spec = loaded.spec
        self.actors = loaded.actors
        self.actor_ids = [a.id for a in self.actors]
        self.issue_names = [i.name for i in spec.issues]
        self.level_names = {i.name: [lv.name for lv in i.levels] for i in spec.issues}
        sizes = [len(i.levels) for i in spec.issues]
        self.grid_size = math.prod(sizes)
        digits = np.unravel_index(np.arange(self.grid_size), sizes)
        self._levels = {
            name: d.astype(np.int64)
            for name, d in zip(self.issue_names, digits, strict=True)
        }
        self.nominal = np.array([p.number.value for p in self.parameters], float)
        self._by_target: dict[tuple[Any, ...], int] = {
            self._key(p.target): k for k, p in enumerate(self.parameters)
        }
        self.dynamic = any(p.target[0] == "attribute" for p in self.parameters)
        self._static: tuple[np.ndarray, _Grid, np.ndarray] | None = None
        if not self.dynamic:
            self._static = self._structure(np.zeros((1, 0)), per_sample=False)

    def _key(self, target: tuple[Any, ...]) -> tuple[Any, ...]:
        """A target with level names replaced by level indices."""
        if target[0] == "table" and isinstance(target[3], str):
            term = self.actors[target[1]].terms[target[2]]
            assert isinstance(term, TableTerm)
            level = self.level_names[term.issue].index(target[3])
            return (*target[:3], level)
        return tuple(target)

    def bytes_per_sample(self) -> int:
        """Rough working memory one calibration needs."""
        n = self.grid_size if self.dynamic else self._static[0].size  # type: ignore[index]
        per = estimate_bytes(
            n, len(self.issue_names), len(self.loaded.spec.features), len(self.actors)
        )
        return per + n * len(self.actors) * 8 * 6

    # ------------------------------------------------------------------ #

    def _column(self, values: np.ndarray, target: tuple[Any, ...]) -> np.ndarray | None:
        k = self._by_target.get(target)
        return None if k is None else values[:, k]

    def _structure(
        self, values: np.ndarray, per_sample: bool
    ) -> tuple[np.ndarray, _Grid, np.ndarray]:
        """Columns, grid (levels, features) and feasibility of a batch."""
        spec = self.loaded.spec
        vals: dict[str, np.ndarray] = {}
        for i, issue in enumerate(spec.issues):
            names = sorted(set().union(*(lv.attributes for lv in issue.levels)))
            for attr in names:
                table = np.array([lv.attributes[attr] for lv in issue.levels], float)
                cols = (
                    [
                        (j, self._column(values, ("attribute", i, j, attr)))
                        for j in range(len(issue.levels))
                    ]
                    if per_sample
                    else []
                )
                sampled = [(j, c) for j, c in cols if c is not None]
                if sampled:
                    table = np.tile(table, (values.shape[0], 1))
                    for j, c in sampled:
                        table[:, j] = c
                    vals[f"{issue.name}.{attr}"] = table[:, self._levels[issue.name]]
                else:
                    vals[f"{issue.name}.{attr}"] = table[self._levels[issue.name]]
        for feature in spec.features:
            parts = [
                vals[r] if isinstance(r, str) else np.float64(r) for r in feature.refs
            ]
            op = np.multiply if feature.product is not None else np.add
            out = functools.reduce(op, parts)
            shape = np.broadcast_shapes(
                *(np.shape(x) for x in parts), (self.grid_size,)
            )
            vals[feature.name] = np.broadcast_to(out, shape) + 0.0
        grid = _Grid(self.level_names, self._levels, vals)
        feasible = np.ones(self.grid_size, dtype=bool)
        for rule in spec.feasibility:
            if rule.forbid is not None:
                feasible = feasible & ~grid.condition(rule.forbid)
            else:
                feasible = feasible & grid.condition(rule.require)
        for issue_name, dropped in spec.drop_levels.items():
            chosen = [self.level_names[issue_name].index(n) for n in dropped]
            feasible = feasible & ~np.isin(self._levels[issue_name], chosen)
        feasible = np.atleast_2d(feasible)
        cols = np.flatnonzero(feasible.any(axis=0))
        sub = _Grid(
            self.level_names,
            {k: v[cols] for k, v in self._levels.items()},
            {k: np.atleast_2d(v)[:, cols] for k, v in vals.items()},
        )
        return cols, sub, feasible[:, cols]

    def compile(self, values: np.ndarray, relaxed: bool = False) -> CalibrationBatch:
        """Compile ``S`` calibrations.

        Args:
            values: ``float64[S, P]``, one column per uncertain number.
            relaxed: Also compute each actor's utility without each red line.

        """
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if values.shape[1] != len(self.parameters):
            raise ValueError(
                f"expected {len(self.parameters)} columns, got {values.shape[1]}"
            )
        n_s = values.shape[0]
        if self._static is not None:
            cols, grid, feasible = self._static
        else:
            cols, grid, feasible = self._structure(values, per_sample=True)
        m = cols.size
        n_a = len(self.actors)
        utility = np.empty((n_s, n_a, m))
        relaxed_out: dict[tuple[str, str], np.ndarray] | None = {} if relaxed else None
        for a, actor in enumerate(self.actors):
            w = np.tile(np.array([t.weight for t in actor.terms], float), (n_s, 1))
            for j in range(len(actor.terms)):
                c = self._column(values, ("weight", a, j))
                if c is not None:
                    w[:, j] = c
            w_sum = w.sum(axis=1)
            total = np.zeros((n_s, m))
            for j, term in enumerate(actor.terms):
                v = self._term_values(values, a, j, term, grid, m)
                total += (w[:, j] / w_sum)[:, None] * v
            reds = []
            for r, red in enumerate(actor.red_lines):
                crossed = np.atleast_2d(grid.condition(red.when))
                amount = self._scalar(
                    values,
                    ("penalty" if red.kind == "soft" else "floor", a, r),
                    red.penalty if red.kind == "soft" else red.floor,
                    n_s,
                )
                reds.append((red, crossed, amount))
            utility[:, a] = _apply_red_lines(total, reds)
            if relaxed_out is not None:
                for r, red in enumerate(actor.red_lines):
                    others = [x for k, x in enumerate(reds) if k != r]
                    relaxed_out[(actor.id, red.name)] = _apply_red_lines(total, others)
        required = np.zeros((n_s if self.dynamic else 1, n_a, m), bool)
        for rule in self.loaded.spec.consent:
            mask = (
                np.ones((1, m), bool)
                if rule.when is None
                else np.atleast_2d(grid.condition(rule.when))
            )
            for actor_id in rule.actors:
                a = self.actor_ids.index(actor_id)
                required[:, a] |= mask
        per_actor = {}
        for key in ("no_deal", "discount", "recognition"):
            arr = np.tile(
                np.array([getattr(x, key) for x in self.actors], float), (n_s, 1)
            )
            for a in range(n_a):
                c = self._column(values, (key, a))
                if c is not None:
                    arr[:, a] = c
            per_actor[key] = arr
        if any(p.target[0] == "recognition" for p in self.parameters):
            rec = per_actor["recognition"]
            per_actor["recognition"] = rec / rec.sum(axis=1, keepdims=True)
        features = {f.name: grid.values[f.name] for f in self.loaded.spec.features}
        return CalibrationBatch(
            actors=tuple(self.actor_ids),
            outcomes=cols.astype(np.int64),
            feasible=feasible,
            utility=utility,
            required=required,
            no_deal=per_actor["no_deal"],
            discount=per_actor["discount"],
            recognition=per_actor["recognition"],
            features=features,
            relaxed=relaxed_out,
        )

    def _scalar(
        self, values: np.ndarray, target: tuple[Any, ...], nominal: float, n_s: int
    ) -> np.ndarray:
        c = self._column(values, target)
        return np.full(n_s, float(nominal)) if c is None else c

    def _term_values(
        self, values: np.ndarray, a: int, j: int, term: Any, grid: _Grid, m: int
    ) -> np.ndarray:
        """``float64[S or 1, M]``: one term's value per sample and column."""
        n_s = values.shape[0]
        if isinstance(term, TableTerm):
            names = self.level_names[term.issue]
            if isinstance(term.values, dict):
                table = np.array([term.values[name] for name in names], float)
            else:
                table = np.array(term.values, float)
            levels = grid.levels[term.issue]
            sampled = [
                (k, c)
                for k in range(len(names))
                if (c := self._column(values, ("table", a, j, k))) is not None
            ]
            if not sampled:
                return table[levels][None, :]
            table = np.tile(table, (n_s, 1))
            for k, c in sampled:
                table[:, k] = c
            return table[:, levels]
        if isinstance(term, CurveTerm):
            f = grid.values[term.feature]
            xs = np.array([x for x, _ in term.curve], float)
            ys = np.array([y for _, y in term.curve], float)
            sampled = [
                (k, c, self._column(values, ("curve", a, j, k, c)))
                for k in range(len(xs))
                for c in (0, 1)
            ]
            sampled = [s for s in sampled if s[2] is not None]
            if not sampled:
                return np.interp(f, xs, ys)
            xs, ys = np.tile(xs, (n_s, 1)), np.tile(ys, (n_s, 1))
            for k, c, col in sampled:
                (xs if c == 0 else ys)[:, k] = col
            return _interp(f, xs, ys)
        if isinstance(term, ConstantTerm):
            return self._scalar(values, ("constant", a, j), term.constant, n_s)[
                :, None
            ] * np.ones((1, m))
        raise TypeError(f"not a term: {term!r}")

    # ------------------------------------------------------------------ #

    def substituted(self, row: np.ndarray) -> dict[str, Any]:
        """The scenario's resolved data with one calibration's values filled in."""
        data = copy.deepcopy(self.loaded.resolved)
        data.pop("overrides", None)
        for p, value in zip(self.parameters, np.asarray(row, float), strict=True):
            node = data
            for key in p.path[:-1]:
                node = node[key]
            node[p.path[-1]] = float(value)
        if any(p.target[0] == "recognition" for p in self.parameters):
            total = sum(float(x["recognition"]) for x in data["actors"])
            for x in data["actors"]:
                x["recognition"] = float(x["recognition"]) / total
        return data

    def compile_one(self, row: np.ndarray) -> CompiledScenario:
        """Compile one calibration the ordinary way (the reference for tests)."""
        from peacegame.scenario.compile import compile_scenario

        data = self.substituted(row)
        return compile_scenario(
            scenario_from_dict(data, source=f"{self.loaded.path} (calibration)")
        )


def _apply_red_lines(
    total: np.ndarray, reds: list[tuple[Any, np.ndarray, np.ndarray]]
) -> np.ndarray:
    """Soft penalties (clipped at 0), then hard floors, as the compiler does."""
    penalty = np.zeros_like(total)
    floor = np.full(total.shape, np.inf)
    for red, crossed, amount in reds:
        if red.kind == "soft":
            penalty = penalty + np.where(crossed, amount[:, None], 0.0)
        else:
            floor = np.where(crossed, np.minimum(floor, amount[:, None]), floor)
    out = np.maximum(total - penalty, 0.0)
    return np.where(np.isfinite(floor), floor, out)
