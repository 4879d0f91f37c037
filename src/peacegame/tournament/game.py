"""The empirical game of a tournament: which strategy profiles are stable.

The tournament's payoffs define, per scenario, a **meta-game**: each role is a
player whose strategies are the competitors allowed in it, and the payoff of
role ``r`` at a profile is its mean reward over the episodes played at that
profile. Only the profiles the scheme played are known: every profile under
``cartesian``; under ``role_rotation`` each context's profile and all its
one-role deviations; under ``sampled`` the drawn profiles.

A **unit** is the mean reward of role ``r`` played by competitor ``c`` against
opponents ``o`` (the other roles' competitors) in one context or sample, over
its replicates. Two results:

**Pure profiles.** A *block* is a (role ``r``, opponents ``o``, context) whose
units cover every competitor allowed in ``r``: in it, the regret of ``c`` is
the best unit's payoff minus ``c``'s (paired: the same opponents and seeds). A
profile ``p`` is *checked* when every role has a block with opponents ``p``
minus that role; its regret is the largest, over roles, of the role's regret
(averaged over such blocks). ``p`` is **stable** (an empirical pure Nash
equilibrium) when its regret is at most ``epsilon``: no role gains more than
``epsilon`` by switching competitor.

**Replicator dynamics.** One population per role, ``x_r`` a distribution over
its competitors. The fitness of ``c`` in role ``r`` is its expected payoff when
the other roles' competitors are drawn from ``x``, estimated from the units by
self-normalised importance weighting (the opponents were drawn uniformly):
``f_r(c) = sum_u w_u v_u / sum_u w_u`` over ``c``'s units in role ``r``, with
``w_u = prod_{r' != r} x_{r'}(o_{u,r'})``. This is exact under ``cartesian`` and
``role_rotation`` with ``opponents: all``. The discrete-time (exponential)
replicator ``x_r(c) <- x_r(c) exp(eta (f_r(c) - f_r(x)))``, normalised, starts
from the uniform mix and from ``starts - 1`` random interior mixes (seeded by
the base seed) and runs until no share moves by more than ``tol`` or for
``max_iter`` steps. Distinct end points are reported with the number of starts
that reached each (their basins) and their regret
``max_r max_c f_r(c) - f_r(x)``: an end point with regret at most ``epsilon``
is an (approximate, mixed) equilibrium. End points with the same payoffs (to
2 decimals) are reported once, with the first one's mix: where payoffs are
flat (say, once a veto player blocks every deal) shares drift without
consequence. Dynamics that cycle do not converge; the report says so. With
``opponents: M`` the estimate rests on ``M`` opponent profiles per role: read
it as indicative, and use ``opponents: all`` or ``cartesian`` for the exact
meta-game.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import numpy as np

from peacegame.tournament.observations import Observations

ETA = 5.0
"""Step size of the replicator dynamics (payoffs are utilities, about 0..1)."""
MAX_ITER = 2000
"""Steps of the replicator dynamics at most."""
TOL = 1e-9
"""Convergence: the largest change of a share in one step."""
STARTS = 8
"""Starting mixes: the uniform one and ``STARTS - 1`` random ones."""
SHOW = 10
"""Profiles listed at most."""
MIN_SHARE = 0.005
"""Shares below this are left out of the printed mixes."""


def _units(obs: Observations, s: int) -> dict[str, np.ndarray]:
    """Mean reward per (role, competitor, context, opponents) in scenario ``s``."""
    mask = obs.scenario == s
    table = np.column_stack(
        [obs.role[mask], obs.competitor[mask], obs.draw[mask], obs.opponents[mask]]
    )
    if not table.size:
        return {}
    keys, inverse = np.unique(table, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    sums = np.bincount(inverse, obs.reward[mask], minlength=len(keys))
    counts = np.bincount(inverse, minlength=len(keys))
    return {
        "role": keys[:, 0],
        "competitor": keys[:, 1],
        "draw": keys[:, 2],
        "opponents": keys[:, 3:],
        "value": sums / counts,
    }


class _Payoffs:
    """The units of one scenario arranged to evaluate fitness for many mixes.

    Mixes are arrays ``x[start, role, competitor]`` with a padding column of
    ones at index ``n_comp`` (a unit's own role points there).
    """

    def __init__(self, units: dict[str, np.ndarray], n_roles: int, n_comp: int) -> None:
        self.n_roles, self.n_comp = n_roles, n_comp
        width = n_comp + 1
        self.roles = []
        for r in range(n_roles):
            in_role = units["role"] == r
            opp = units["opponents"][in_role]
            opp = np.where(opp < 0, n_comp, opp)
            comp = units["competitor"][in_role]
            value = units["value"][in_role]
            onehot = np.zeros((comp.size, n_comp))
            onehot[np.arange(comp.size), comp] = 1.0
            counts = onehot.sum(axis=0)
            plain = (value @ onehot) / np.maximum(counts, 1)
            flat = opp + width * np.arange(n_roles)[None, :]
            self.roles.append((flat, value, onehot, plain))

    def fitness(self, x: np.ndarray, r: int) -> np.ndarray:
        """``f_r(c)`` for each mix and competitor: ``[starts, n_comp]``."""
        flat, value, onehot, plain = self.roles[r]
        weights = x.reshape(x.shape[0], -1)[:, flat].prod(axis=2)
        num = (weights * value) @ onehot
        den = weights @ onehot
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, plain)


def replicator(
    payoffs: _Payoffs,
    eligible: list[np.ndarray],
    starts: list[list[np.ndarray]],
    *,
    eta: float = ETA,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the replicator dynamics from several starting mixes at once.

    Args:
        payoffs: The scenario's units (:class:`_Payoffs`).
        eligible: Per role, the competitors present in it.
        starts: Per start, per role, the shares of its eligible competitors.
        eta: Step size.
        max_iter: Steps at most.
        tol: Convergence threshold on the largest share change.

    Returns:
        ``(x, steps, converged)``: ``x[start, role, competitor]`` the final
        shares (with the padding column), and per start the steps taken and
        whether it converged.
    """
    n = len(starts)
    x = np.zeros((n, payoffs.n_roles, payoffs.n_comp + 1))
    x[:, :, payoffs.n_comp] = 1.0
    for i, start in enumerate(starts):
        for r, pool in enumerate(eligible):
            x[i, r, pool] = start[r]
    steps = np.full(n, max_iter)
    active = np.ones(n, bool)
    for step in range(1, max_iter + 1):
        new = x.copy()
        for r, pool in enumerate(eligible):
            f = payoffs.fitness(x[active], r)[:, pool]
            share = x[active, r][:, pool]
            mean = (share * f).sum(axis=1, keepdims=True)
            grown = share * np.exp(eta * (f - mean))
            rows = np.flatnonzero(active)
            new[np.ix_(rows, [r], pool)] = (grown / grown.sum(axis=1, keepdims=True))[
                :, None, :
            ]
        change = np.abs(new - x).max(axis=(1, 2))
        x = new
        done = active & (change < tol)
        steps[done] = step
        active &= ~done
        if not active.any():
            break
    return x, steps, ~active


def _regret(
    payoffs: _Payoffs, x: np.ndarray, eligible: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per mix: the regret and each role's expected payoff ``[starts, roles]``."""
    regret = np.zeros(x.shape[0])
    value = np.zeros((x.shape[0], len(eligible)))
    for r, pool in enumerate(eligible):
        f = payoffs.fitness(x, r)[:, pool]
        value[:, r] = (x[:, r][:, pool] * f).sum(axis=1)
        regret = np.maximum(regret, f.max(axis=1) - value[:, r])
    return regret, value


def _pure_profiles(
    units: dict[str, np.ndarray], eligible: list[np.ndarray], n_roles: int
) -> dict[tuple[int, ...], tuple[float, list[float]]]:
    """Regret and payoffs of every checked pure profile (see the docstring)."""
    blocks: dict[tuple[int, tuple[int, ...], int], dict[int, float]] = defaultdict(dict)
    for r, c, d, o, v in zip(
        units["role"].tolist(),
        units["competitor"].tolist(),
        units["draw"].tolist(),
        [tuple(row) for row in units["opponents"].tolist()],
        units["value"].tolist(),
        strict=True,
    ):
        blocks[(r, o, d)][c] = v
    complete: dict[tuple[int, tuple[int, ...]], list[dict[int, float]]] = defaultdict(
        list
    )
    for (r, o, _), values in blocks.items():
        if set(eligible[r].tolist()) <= set(values):
            complete[(r, o)].append(values)
    candidates = set()
    for r, o in complete:
        for c in eligible[r].tolist():
            candidates.add(o[:r] + (c,) + o[r + 1 :])
    out = {}
    for p in candidates:
        regrets, payoffs = [], []
        for r in range(n_roles):
            found = complete.get((r, p[:r] + (-1,) + p[r + 1 :]))
            if not found:
                break
            regrets.append(np.mean([max(b.values()) - b[p[r]] for b in found]))
            payoffs.append(float(np.mean([b[p[r]] for b in found])))
        else:
            out[p] = (float(max(regrets)), payoffs)
    return out


def _mix(x: np.ndarray, r: int, pool: np.ndarray, names: list[str]) -> dict[str, float]:
    return {names[c]: float(x[r, c]) for c in pool.tolist() if x[r, c] >= MIN_SHARE}


def scenario_game(
    obs: Observations, s: int, epsilon: float, seed: int, starts: int = STARTS
) -> dict[str, Any]:
    """The empirical game of scenario ``s`` (see the module docstring)."""
    units = _units(obs, s)
    roles, names = obs.roles, obs.competitors
    n_roles, n_comp = len(roles), len(names)
    if not units:
        return {"scenario": obs.scenarios[s], "skipped": "no episodes"}
    eligible = [
        np.unique(units["competitor"][units["role"] == r]) for r in range(n_roles)
    ]
    pure = _pure_profiles(units, eligible, n_roles)
    ordered = sorted(pure.items(), key=lambda kv: (kv[1][0], -sum(kv[1][1]), kv[0]))
    stable = [(p, v) for p, v in ordered if v[0] <= epsilon + 1e-12]

    def profile_row(p: tuple[int, ...], value: tuple[float, list[float]]) -> dict:
        regret, payoffs = value
        return {
            "profile": {roles[r]: names[c] for r, c in enumerate(p)},
            "regret": regret,
            "payoffs": dict(zip(roles, payoffs, strict=True)),
        }

    rng = np.random.default_rng([seed, 0x6A3E])
    starts_list = [[np.full(len(pool), 1.0 / len(pool)) for pool in eligible]]
    for _ in range(starts - 1):
        starts_list.append([rng.dirichlet(np.ones(len(pool))) for pool in eligible])
    table = _Payoffs(units, n_roles, n_comp)
    x, steps, converged = replicator(table, eligible, starts_list)
    regrets, values = _regret(table, x, eligible)
    ends: dict[tuple, dict[str, Any]] = {}
    for i in range(len(starts_list)):
        regret, payoffs = float(regrets[i]), [float(v) for v in values[i]]
        equilibrium = regret <= epsilon + 1e-12
        # End points with the same payoffs are one outcome of the dynamics
        # (shares can drift freely where payoffs are flat, e.g. once a veto
        # player blocks every deal).
        key = tuple(round(v, 2) for v in payoffs)
        if key in ends:
            end = ends[key]
            end["starts"] += 1
            end["regret"] = max(end["regret"], regret)
            end["equilibrium"] = end["equilibrium"] and equilibrium
            end["converged"] = end["converged"] and bool(converged[i])
            end["steps"] = max(end["steps"], int(steps[i]))
            continue
        ends[key] = {
            "mix": {
                roles[r]: _mix(x[i], r, pool, names) for r, pool in enumerate(eligible)
            },
            "payoffs": dict(zip(roles, payoffs, strict=True)),
            "regret": regret,
            "equilibrium": equilibrium,
            "starts": 1,
            "steps": int(steps[i]),
            "converged": bool(converged[i]),
        }
    rest = sorted(ends.values(), key=lambda e: (-e["starts"], e["regret"]))
    return {
        "scenario": obs.scenarios[s],
        "profiles_checked": len(pure),
        "stable_count": len(stable),
        "stable": [profile_row(p, v) for p, v in stable[:SHOW]],
        "least_regret": [] if stable else [profile_row(p, v) for p, v in ordered[:5]],
        "replicator": rest,
        "starts": len(starts_list),
    }


def empirical_game(obs: Observations, epsilon: float = 0.01, seed: int = 0) -> dict:
    """The empirical game of every scenario of a tournament.

    Args:
        obs: The observations of a complete tournament.
        epsilon: Payoff tolerance of stability (see the module docstring).
        seed: Seeds the random starting mixes.
    """
    return {
        "epsilon": epsilon,
        "eta": ETA,
        "max_iter": MAX_ITER,
        "scenarios": [
            scenario_game(obs, s, epsilon, seed) for s in range(len(obs.scenarios))
        ],
    }


__all__ = ["empirical_game", "replicator", "scenario_game"]


def meta_nash(
    tables: list[np.ndarray], sizes: list[int]
) -> tuple[list[np.ndarray], list[float]]:
    """The meta-game's mixture per actor (replicator dynamics) and its values.

    For a full table of profiles (PSRO's meta-game, ``peacegame.train.psro``,
    and the multi-agent trainer's past selves), from the uniform mix.

    Args:
        tables: Per actor, its payoff ``float[size_0, size_1, ...]`` at every
            profile.
        sizes: Population sizes.

    Returns:
        ``sigma`` (per actor, a distribution over its members) and each
        actor's expected payoff under ``sigma``.
    """
    n = len(sizes)
    n_comp = max(sizes)
    role, comp, opponents, value = [], [], [], []
    for index in itertools.product(*(range(s) for s in sizes)):
        for r in range(n):
            role.append(r)
            comp.append(index[r])
            opponents.append([-1 if q == r else index[q] for q in range(n)])
            value.append(tables[r][index])
    units = {
        "role": np.array(role),
        "competitor": np.array(comp),
        "opponents": np.array(opponents, np.int64),
        "value": np.array(value, np.float64),
    }
    payoffs = _Payoffs(units, n, n_comp)
    eligible = [np.arange(s) for s in sizes]
    x, _, _ = replicator(payoffs, eligible, [[np.full(s, 1.0 / s) for s in sizes]])
    sigma = [x[0, r, : sizes[r]] / x[0, r, : sizes[r]].sum() for r in range(n)]
    return sigma, [expected(tables[r], sigma) for r in range(n)]


def expected(table: np.ndarray, sigma: list[np.ndarray]) -> float:
    """The expectation of ``table`` when every axis is drawn from ``sigma``."""
    out = table
    for s in reversed(sigma):
        out = out @ s
    return float(out)
