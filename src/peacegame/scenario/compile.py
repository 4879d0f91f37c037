"""Compile a validated scenario into arrays (:class:`CompiledScenario`).

The issue grid is enumerated once in mixed-radix order (first issue most
significant), features and conditions are evaluated as whole-array numpy
expressions, and infeasible outcomes are dropped. There is no Python loop over
outcomes. Before allocating anything the compiler estimates the memory the grid
needs and refuses, with the numbers, a grid that is too large.

Utility of actor i at outcome o::

    u = sum_j w_j * v_j(o) / sum_j w_j          (each v_j in [0, 1])
    u = max(u - sum(soft penalties crossed), 0) (soft red lines)
    u = min(floors of hard red lines crossed)   (hard red lines, if any crossed)

Utilities are computed in float64 and stored as float32 (``utility``, for the
step loop) and as float64 (``utility64``, for the solution concepts).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.errors import ConfigError
from peacegame.resources import resolve_config
from peacegame.scenario.compiled import CompiledScenario, IssueInfo
from peacegame.scenario.consent import compile_consent
from peacegame.scenario.loader import LoadedScenario, load_scenario, scenario_from_dict
from peacegame.scenario.model import (
    AllCondition,
    AnyCondition,
    ConstantTerm,
    CurveTerm,
    FeatureCondition,
    IssueCondition,
    NotCondition,
    TableTerm,
)

MEMORY_BUDGET_BYTES = 4 * 1024**3
"""Refuse grids whose estimated working memory exceeds this."""


class _Grid:
    """Level indices and feature values over a set of outcomes."""

    def __init__(
        self,
        level_names: dict[str, list[str]],
        levels: dict[str, np.ndarray],
        values: dict[str, np.ndarray],
    ) -> None:
        self.level_names = level_names
        self.levels = levels
        self.values = values

    def subset(self, keep: np.ndarray) -> _Grid:
        return _Grid(
            self.level_names,
            {k: v[keep] for k, v in self.levels.items()},
            {k: v[keep] for k, v in self.values.items()},
        )

    def condition(self, cond: Any) -> np.ndarray:
        """Evaluate a condition to a boolean array."""
        if isinstance(cond, IssueCondition):
            names = self.level_names[cond.issue]
            chosen = [names.index(n) for n in (cond.in_ or cond.not_in or [])]
            hit = np.isin(self.levels[cond.issue], chosen)
            return hit if cond.in_ is not None else ~hit
        if isinstance(cond, FeatureCondition):
            x = self.values[cond.feature]
            if cond.above is not None:
                return x > cond.above
            if cond.below is not None:
                return x < cond.below
            if cond.at_least is not None:
                return x >= cond.at_least
            return x <= cond.at_most
        # functools.reduce rather than ufunc.reduce: the operands may have
        # different (broadcastable) shapes in a batch of calibrations.
        if isinstance(cond, AllCondition):
            return functools.reduce(np.logical_and, map(self.condition, cond.all))
        if isinstance(cond, AnyCondition):
            return functools.reduce(np.logical_or, map(self.condition, cond.any))
        if isinstance(cond, NotCondition):
            return ~self.condition(cond.not_)
        raise TypeError(f"not a condition: {cond!r}")


def estimate_bytes(
    grid_size: int, n_issues: int, n_features: int, n_actors: int
) -> int:
    """Rough peak working memory of compiling a grid of ``grid_size`` points."""
    per_outcome = (
        n_issues * (2 + 8)  # level digits (+ unravel temporaries)
        + 8 * 2  # grid index, feasibility mask and temporaries
        + n_features * 8 * 2  # feature values, full grid and feasible subset
        + n_actors * (8 + 4 + 1 + 8 + 8)  # float64 work, float32, required, order
    )
    return grid_size * per_outcome


def compile_scenario(loaded: LoadedScenario) -> CompiledScenario:
    """Compile a loaded scenario to arrays.

    Raises:
        ConfigError: If the grid is too large to enumerate or no outcome is
            feasible.

    """
    spec, src = loaded.spec, loaded.path
    sizes = [len(issue.levels) for issue in spec.issues]
    grid_size = math.prod(sizes)
    need = estimate_bytes(grid_size, len(sizes), len(spec.features), len(loaded.actors))
    if grid_size > spec.max_outcomes or need > MEMORY_BUDGET_BYTES:
        dims = " x ".join(str(s) for s in sizes)
        raise ConfigError(
            f"the issue grid has {grid_size:,} outcomes ({dims}), needing about "
            f"{need / 1024**3:.1f} GiB; expected at most max_outcomes="
            f"{spec.max_outcomes:,} and {MEMORY_BUDGET_BYTES / 1024**3:.0f} GiB",
            file=src,
            field="issues",
        )
    digit_dtype = np.int16 if max(sizes) < 2**15 else np.int32
    flat = np.arange(grid_size, dtype=np.int64)
    digits = np.unravel_index(flat, sizes) if grid_size else ()
    level_names = {i.name: [lv.name for lv in i.levels] for i in spec.issues}
    levels = {
        issue.name: d.astype(digit_dtype)
        for issue, d in zip(spec.issues, digits, strict=True)
    }
    values: dict[str, np.ndarray] = {}
    attributes: dict[str, dict[str, np.ndarray]] = {}
    for issue in spec.issues:
        attributes[issue.name] = {}
        names = sorted(set().union(*(lv.attributes for lv in issue.levels)))
        for attr in names:
            table = np.array([lv.attributes[attr] for lv in issue.levels], float)
            attributes[issue.name][attr] = table
            values[f"{issue.name}.{attr}"] = table[levels[issue.name]]
    for feature in spec.features:
        parts = [
            values[r] if isinstance(r, str) else np.full(grid_size, float(r))
            for r in feature.refs
        ]
        op = np.prod if feature.product is not None else np.sum
        values[feature.name] = op(np.vstack(parts), axis=0)
    grid = _Grid(level_names, levels, values)

    feasible = np.ones(grid_size, dtype=bool)
    for rule in spec.feasibility:
        if rule.forbid is not None:
            feasible &= ~grid.condition(rule.forbid)
        else:
            feasible &= grid.condition(rule.require)
    for issue_name, dropped in spec.drop_levels.items():
        chosen = [level_names[issue_name].index(n) for n in dropped]
        feasible &= ~np.isin(levels[issue_name], chosen)
    keep = np.flatnonzero(feasible)
    if keep.size == 0:
        raise ConfigError(
            f"no outcome is feasible: the feasibility rules and drop_levels remove "
            f"all {grid_size:,} grid points; expected at least one",
            file=src,
            field="feasibility",
        )
    grid = grid.subset(keep)
    n = keep.size

    actors = loaded.actors
    utility64 = np.empty((len(actors), n), dtype=np.float64)
    red_lines: dict[tuple[str, str], np.ndarray] = {}
    for a, actor in enumerate(actors):
        total = np.zeros(n)
        weight_sum = sum(t.weight for t in actor.terms)
        for term in actor.terms:
            total += (term.weight / weight_sum) * _term_values(term, grid, n)
        penalty = np.zeros(n)
        floor = np.full(n, np.inf)
        for red in actor.red_lines:
            crossed = grid.condition(red.when)
            red_lines[(actor.id, red.name)] = crossed
            if red.kind == "soft":
                penalty += np.where(crossed, red.penalty, 0.0)
            else:
                floor = np.where(crossed, np.minimum(floor, red.floor), floor)
        total = np.maximum(total - penalty, 0.0)
        total = np.where(np.isfinite(floor), floor, total)
        utility64[a] = total
    utility = utility64.astype(np.float32)

    ids = [a.id for a in actors]
    try:
        consent = compile_consent(
            list(spec.consent),
            ids,
            [
                np.ones(n, bool) if rule.when is None else grid.condition(rule.when)
                for rule in spec.consent
            ],
        )
    except ValueError as exc:
        raise ConfigError(str(exc), file=src, field="consent") from None
    required = consent.voters()

    order = np.argsort(-utility, axis=1, kind="stable").astype(np.int64)
    issue_infos = tuple(
        IssueInfo(i.name, tuple(level_names[i.name]), attributes[i.name])
        for i in spec.issues
    )
    level_matrix = np.column_stack([grid.levels[i.name] for i in spec.issues])
    features = {f.name: grid.values[f.name] for f in spec.features}
    no_deal64 = np.array([a.no_deal for a in actors], dtype=np.float64)
    frozen = (level_matrix, keep, utility, utility64, no_deal64, required, order)
    for arr in (*frozen, *features.values()):
        arr.setflags(write=False)
    return CompiledScenario(
        name=spec.name,
        scenario_hash=loaded.scenario_hash,
        issues=issue_infos,
        actors=tuple(ids),
        actor_names=tuple(a.name or a.id for a in actors),
        levels=level_matrix,
        grid_index=keep.astype(np.int64),
        features=features,
        utility=utility,
        required=required,
        consent=consent,
        no_deal=no_deal64.astype(np.float32),
        discount=np.array([a.discount for a in actors], dtype=np.float64),
        recognition=np.array([a.recognition for a in actors], dtype=np.float64),
        order=order,
        red_lines=red_lines,
        grid_size=grid_size,
        utility64=utility64,
        no_deal64=no_deal64,
    )


def _term_values(term: Any, grid: _Grid, n: int) -> np.ndarray:
    if isinstance(term, TableTerm):
        names = grid.level_names[term.issue]
        if isinstance(term.values, dict):
            table = np.array([term.values[name] for name in names], float)
        else:
            table = np.array(term.values, float)
        return table[grid.levels[term.issue]]
    if isinstance(term, CurveTerm):
        xs = np.array([x for x, _ in term.curve], float)
        ys = np.array([y for _, y in term.curve], float)
        return np.interp(grid.values[term.feature], xs, ys)
    if isinstance(term, ConstantTerm):
        return np.full(n, term.constant)
    raise TypeError(f"not a term: {term!r}")


def load_compiled(path: str | Path | None = None) -> CompiledScenario:
    """Load and compile a scenario file (None: the default Ukraine scenario).

    ``path`` may also be the name of a shipped scenario, such as ``hardline``.
    """
    return compile_scenario(load_scenario(resolve_config(path, "scenarios")))


def compile_dict(
    data: dict[str, Any], base_dir: str | Path | None = None, source: str = "<dict>"
) -> CompiledScenario:
    """Validate and compile a scenario given as plain data."""
    return compile_scenario(scenario_from_dict(data, source=source, base_dir=base_dir))
