"""Throughput of the peer systems that peacegame is compared against.

Every function here measures one peer on the current machine and returns a plain
dict, so our own benchmarks can import this module, run a peer in the same
process and report a ratio measured in the same run::

    {
        "name": "pettingzoo.tictactoe_v3",
        "unit": "agent-steps/s",
        "rate": 21000.0,        # work per second, from the median repetition
        "seconds": 0.24,        # median wall time of one repetition
        "repetitions": 5,
        "version": "1.27.0",
        ...                     # peer-specific extras
    }

Each peer is imported inside its own function, so a missing optional package
raises a plain ``ImportError`` (with the pip spec to install) that the caller
can catch and skip. Nothing here writes files. Set-up (building environments,
games, utility functions) is done outside the timed region; only the loop being
compared is timed, with ``time.perf_counter``.

Run ``python benchmarks/peers.py [--quick]`` to print a table of every peer.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

PeerResult = dict[str, Any]

PETTINGZOO_ENVS: tuple[str, ...] = ("tictactoe_v3", "rps_v2")
"""PettingZoo classic environments supported by `pettingzoo_steps_per_second`."""

PIP_SPECS: dict[str, str] = {
    "pettingzoo": "pettingzoo==1.27.0 pygame-ce==2.5.8",
    "pyspiel": "open-spiel==2.0.2",
    "negmas": "negmas==0.16.0",
}
"""Pip specs that were verified to install and run on Python 3.11."""


def _require(module: str) -> None:
    """Raises a helpful ImportError if ``module`` cannot be imported.

    Args:
        module: Top-level module name, one of the keys of `PIP_SPECS`.

    Raises:
        ImportError: If the module is missing; the message names the pip spec.
    """
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"peer '{module}' is not installed ({exc}); "
            f"install it with: pip install {PIP_SPECS[module]}"
        ) from exc


def _dist_version(dist: str) -> str:
    """Returns the installed version of a distribution, or ``"unknown"``.

    Args:
        dist: Distribution name as known to pip (e.g. ``"open-spiel"``).

    Returns:
        The version string.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def _check_repeats(repeats: int) -> None:
    """Validates a repetition count.

    Args:
        repeats: Number of timed repetitions.

    Raises:
        ValueError: If ``repeats`` is smaller than one.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")


def _time_repeats(
    setup: Callable[[], Any], run: Callable[[Any], None], repeats: int
) -> list[float]:
    """Times ``run(setup())`` ``repeats`` times; only ``run`` is timed.

    Args:
        setup: Builds fresh, untimed state for one repetition.
        run: The timed work; receives the value returned by ``setup``.
        repeats: Number of repetitions.

    Returns:
        Wall-clock seconds of each repetition, in order.
    """
    _check_repeats(repeats)
    times = []
    for _ in range(repeats):
        state = setup()
        start = time.perf_counter()
        run(state)
        times.append(time.perf_counter() - start)
    return times


def _result(
    name: str,
    unit: str,
    work: float,
    times: Sequence[float],
    version: str,
    **extra: Any,
) -> PeerResult:
    """Builds the common result dict from per-repetition timings.

    Args:
        name: Peer and workload name.
        unit: Unit of ``rate``.
        work: Units of work done in one repetition.
        times: Seconds of each repetition.
        version: Version of the peer package.
        **extra: Peer-specific fields added to the dict.

    Returns:
        The result dict; ``seconds`` is the median and ``rate`` is
        ``work / seconds``.
    """
    seconds = statistics.median(times)
    return {
        "name": name,
        "unit": unit,
        "rate": work / seconds if seconds > 0 else float("inf"),
        "seconds": seconds,
        "repetitions": len(times),
        "version": version,
        "work": work,
        "times": list(times),
        **extra,
    }


def pettingzoo_steps_per_second(
    env_id: str = "tictactoe_v3", steps: int = 100_000, repeats: int = 5, seed: int = 0
) -> PeerResult:
    """Measures PettingZoo AEC agent-steps per second with random legal actions.

    The environment comes from ``pettingzoo.classic.<env_id>.env()`` with its
    default wrappers. Every ``env.step`` call counts as one agent-step, including
    the ``None`` steps PettingZoo requires for agents that are done; the
    observation is read with ``env.last()`` before every step, as in the
    standard AEC loop. Tic-tac-toe actions are drawn uniformly from the
    ``action_mask``; rock-paper-scissors actions uniformly from the action space.
    The environment is reset when all agents are done.

    Args:
        env_id: ``"tictactoe_v3"`` or ``"rps_v2"``.
        steps: ``env.step`` calls per repetition.
        repeats: Timed repetitions; the median is reported.
        seed: Seed of the action generator and of the first reset.

    Returns:
        Result dict with unit ``"agent-steps/s"`` plus ``episodes`` (finished
        episodes in the last repetition).

    Raises:
        ImportError: If PettingZoo or pygame-ce (needed by classic envs) is
            missing.
        ValueError: If ``env_id`` is not supported.
    """
    if env_id not in PETTINGZOO_ENVS:
        raise ValueError(f"env_id must be one of {PETTINGZOO_ENVS}, got {env_id!r}")
    _require("pettingzoo")
    import importlib

    try:
        with warnings.catch_warnings():
            # pettingzoo 1.27 flags the versioned-module import as "old API".
            warnings.simplefilter("ignore", DeprecationWarning)
            module = importlib.import_module(f"pettingzoo.classic.{env_id}")
    except ImportError as exc:  # classic envs import pygame at module level
        raise ImportError(
            f"pettingzoo.classic.{env_id} failed to import ({exc}); "
            f"install it with: pip install {PIP_SPECS['pettingzoo']}"
        ) from exc

    episodes = [0]

    def setup() -> tuple[Any, np.random.Generator]:
        env = module.env()
        env.reset(seed=seed)
        return env, np.random.default_rng(seed)

    def run(state: tuple[Any, np.random.Generator]) -> None:
        env, rng = state
        finished = 0
        for _ in range(steps):
            agent = env.agent_selection
            obs, _reward, terminated, truncated, _info = env.last()
            if terminated or truncated:
                action = None
            elif isinstance(obs, dict) and "action_mask" in obs:
                legal = np.flatnonzero(obs["action_mask"])
                action = int(legal[rng.integers(legal.size)])
            else:
                action = int(rng.integers(env.action_space(agent).n))
            env.step(action)
            if not env.agents:
                env.reset()
                finished += 1
        episodes[0] = finished
        env.close()

    times = _time_repeats(setup, run, repeats)
    return _result(
        f"pettingzoo.{env_id}",
        "agent-steps/s",
        steps,
        times,
        _dist_version("pettingzoo"),
        episodes=episodes[0],
    )


def openspiel_bargaining_decisions_per_second(
    steps: int = 200_000, repeats: int = 5, seed: int = 0
) -> PeerResult:
    """Measures raw OpenSpiel bargaining decisions per second.

    Uses ``pyspiel.load_game("bargaining")`` with default parameters (1,000
    instances, 10 turns) and plays random legal actions drawn with a numpy
    Generator. A decision is one ``apply_action`` on a player node; the single
    chance node that opens each episode (instance selection) is sampled from its
    ``chance_outcomes()`` probabilities (read once, untimed, as it is the same
    in every episode) and applied but not counted. A new initial state is
    created at every terminal state.

    Args:
        steps: Player decisions per repetition.
        repeats: Timed repetitions; the median is reported.
        seed: Seed of the numpy Generator.

    Returns:
        Result dict with unit ``"decisions/s"`` plus ``episodes`` (terminal
        states reached in the last repetition).

    Raises:
        ImportError: If OpenSpiel (``pyspiel``) is missing.
    """
    _require("pyspiel")
    import pyspiel

    game = pyspiel.load_game("bargaining")
    opening = game.new_initial_state()
    # Every episode opens with the same chance node (instance selection, 1,000
    # equiprobable outcomes); its distribution is read once, untimed, so the
    # timed loop measures decisions rather than rebuilding a 1,000-entry list.
    opening_actions: list[int] = []
    opening_cumulative = np.zeros(0)
    if opening.is_chance_node():
        opening_actions = [a for a, _ in opening.chance_outcomes()]
        opening_cumulative = np.cumsum([p for _, p in opening.chance_outcomes()])
    episodes = [0]

    def setup() -> np.random.Generator:
        return np.random.default_rng(seed)

    def run(rng: np.random.Generator) -> None:
        state = game.new_initial_state()
        done = 0
        finished = 0
        while done < steps:
            if state.is_terminal():
                state = game.new_initial_state()
                finished += 1
            elif state.is_chance_node():
                if state.move_number() == 0 and opening_actions:
                    actions, cumulative = opening_actions, opening_cumulative
                else:
                    outcomes = state.chance_outcomes()
                    actions = [a for a, _ in outcomes]
                    cumulative = np.cumsum([p for _, p in outcomes])
                pick = int(cumulative.searchsorted(rng.random() * cumulative[-1]))
                state.apply_action(actions[min(pick, len(actions) - 1)])
            else:
                legal = state.legal_actions()
                state.apply_action(legal[rng.integers(len(legal))])
                done += 1
        episodes[0] = finished

    times = _time_repeats(setup, run, repeats)
    return _result(
        "openspiel.bargaining",
        "decisions/s",
        steps,
        times,
        _dist_version("open-spiel"),
        episodes=episodes[0],
    )


def negmas_sao_matches_per_second(
    n_matches: int = 50,
    repeats: int = 5,
    n_outcomes: int = 1000,
    n_negotiators: int = 5,
    n_steps: int = 100,
    seed: int = 0,
) -> PeerResult:
    """Measures completed NegMAS SAO negotiations per second.

    Each match is a fresh ``SAOMechanism(outcome_space=..., n_steps=n_steps)``
    with ``n_negotiators`` time-based negotiators cycling through
    ``BoulwareTBNegotiator``, ``LinearTBNegotiator`` and
    ``ConcederTBNegotiator``, run to the end with ``mechanism.run()`` (agreement
    or deadline). The problem is linear-additive: ``n_outcomes`` must be
    ``k ** 3`` (3 issues of ``k`` values each; 1,000 means 3 x 10). Each
    negotiator gets a ``LinearAdditiveUtilityFunction`` with random weights and
    random per-value utilities drawn from a seeded numpy Generator, reserved
    value 0. Utility functions are built untimed; creating the mechanism,
    adding the negotiators and running are timed.

    Args:
        n_matches: Negotiations per repetition.
        repeats: Timed repetitions; the median is reported.
        n_outcomes: Size of the outcome space, a perfect cube.
        n_negotiators: Negotiators per match.
        n_steps: Deadline of each negotiation, in SAO steps (rounds).
        seed: Seed of the problem generator (identical in every repetition).

    Returns:
        Result dict with unit ``"matches/s"`` plus ``agreements`` and
        ``mean_steps`` of the last repetition.

    Raises:
        ImportError: If NegMAS is missing.
        ValueError: If ``n_outcomes`` is not a perfect cube.
    """
    values = round(n_outcomes ** (1 / 3))
    if values**3 != n_outcomes:
        raise ValueError(f"n_outcomes must be a perfect cube, got {n_outcomes}")
    _require("negmas")
    from negmas import SAOMechanism, make_issue
    from negmas.outcomes import make_os
    from negmas.preferences import LinearAdditiveUtilityFunction
    from negmas.sao import (
        BoulwareTBNegotiator,
        ConcederTBNegotiator,
        LinearTBNegotiator,
    )

    kinds = (BoulwareTBNegotiator, LinearTBNegotiator, ConcederTBNegotiator)
    issues = [make_issue(values, f"issue{i}") for i in range(3)]
    outcome_space = make_os(issues)
    summary: dict[str, float] = {}

    def random_ufun(rng: np.random.Generator) -> Any:
        weights = rng.random(len(issues))
        weights /= weights.sum()
        tables = [
            {
                value: float(u)
                for value, u in zip(issue.all, rng.random(values), strict=True)
            }
            for issue in issues
        ]
        return LinearAdditiveUtilityFunction(
            values=tables,
            weights=[float(w) for w in weights],
            outcome_space=outcome_space,
            reserved_value=0.0,
        )

    def setup() -> list[list[Any]]:
        rng = np.random.default_rng(seed)
        return [
            [random_ufun(rng) for _ in range(n_negotiators)] for _ in range(n_matches)
        ]

    def run(problems: list[list[Any]]) -> None:
        agreements = 0
        total_steps = 0
        for ufuns in problems:
            mechanism = SAOMechanism(outcome_space=outcome_space, n_steps=n_steps)
            for i, ufun in enumerate(ufuns):
                kind = kinds[i % len(kinds)]
                mechanism.add(kind(name=f"n{i}"), preferences=ufun)
            final = mechanism.run()
            agreements += final.agreement is not None
            total_steps += final.step
        summary["agreements"] = agreements
        summary["mean_steps"] = total_steps / max(n_matches, 1)

    times = _time_repeats(setup, run, repeats)
    return _result(
        "negmas.sao",
        "matches/s",
        n_matches,
        times,
        _dist_version("negmas"),
        n_outcomes=n_outcomes,
        n_negotiators=n_negotiators,
        n_steps=n_steps,
        **summary,
    )


def negmas_pareto_seconds(utilities: np.ndarray, repeats: int = 5) -> PeerResult:
    """Times NegMAS's Pareto frontier on given utility vectors.

    Builds one NegMAS issue with ``n_outcomes`` integer values (outcome ``(k,)``
    is outcome index ``k``) and one ``MappingUtilityFunction`` per actor mapping
    ``(k,)`` to ``utilities[actor, k]`` with reserved value ``-inf`` (so every
    outcome is rational); the utilities NegMAS sees are checked to equal the
    array exactly. The timed call is the end-to-end
    ``negmas.preferences.ops.pareto_frontier(ufuns, issues=..., sort_by_welfare=
    False)``, which evaluates every ufun on every outcome and then runs
    ``pareto_frontier_numpy``; the core ``pareto_frontier_numpy(points)`` on the
    raw ``[n_outcomes, n_actors]`` array is timed too (``numpy_seconds``).

    Tie semantics (read from the NegMAS 0.16.0 source and checked): the
    frontier holds strictly non-dominated outcomes only, weakly dominated ones
    are excluded, and of several outcomes with the same utility vector exactly
    one is returned (which one depends on the welfare presort). So it is not
    the "all tied outcomes" frontier; ``duplicates_dropped`` counts the
    outcomes that share a frontier member's vector but were left out.

    Args:
        utilities: Array of shape ``[n_actors, n_outcomes]``.
        repeats: Timed repetitions; the median is reported.

    Returns:
        Result dict with unit ``"frontiers/s"``, ``seconds`` per end-to-end
        call, plus ``frontier`` (frozenset of outcome indices),
        ``numpy_seconds``, ``numpy_frontier``, ``duplicates_dropped``,
        ``n_actors`` and ``n_outcomes``.

    Raises:
        ImportError: If NegMAS is missing.
        ValueError: If ``utilities`` is not a finite 2-D array or NegMAS
            evaluates a utility differently from the array.
    """
    array = np.asarray(utilities, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] < 1 or not np.all(np.isfinite(array)):
        raise ValueError("utilities must be a finite [n_actors, n_outcomes] array")
    _check_repeats(repeats)
    _require("negmas")
    from negmas import make_issue
    from negmas.outcomes import make_os
    from negmas.preferences import MappingUtilityFunction
    from negmas.preferences.ops import pareto_frontier, pareto_frontier_numpy

    n_actors, n_outcomes = array.shape
    issue = make_issue(n_outcomes, "outcome")
    outcome_space = make_os([issue])
    outcomes = [(k,) for k in range(n_outcomes)]
    ufuns = [
        MappingUtilityFunction(
            dict(zip(outcomes, row.tolist(), strict=True)),
            outcome_space=outcome_space,
            reserved_value=float("-inf"),
        )
        for row in array
    ]
    seen = np.array([[float(u(o)) for o in outcomes] for u in ufuns])
    if not np.array_equal(seen, array):
        raise ValueError("NegMAS ufuns do not reproduce the given utilities")

    frontiers: list[frozenset[int]] = []

    def run_ops(_: None) -> None:
        _, indices = pareto_frontier(ufuns, issues=[issue], sort_by_welfare=False)
        frontiers.append(frozenset(int(i) for i in indices))

    points = np.ascontiguousarray(array.T)
    numpy_frontiers: list[frozenset[int]] = []

    def run_numpy(_: None) -> None:
        indices = pareto_frontier_numpy(points, sort_by_welfare=False)
        numpy_frontiers.append(frozenset(int(i) for i in indices))

    run_ops(None)  # untimed warm-up: the first call is ~2x slower
    run_numpy(None)
    times = _time_repeats(lambda: None, run_ops, repeats)
    numpy_times = _time_repeats(lambda: None, run_numpy, repeats)
    frontier = frontiers[-1]
    if any(f != frontier for f in frontiers + numpy_frontiers):
        raise RuntimeError("NegMAS returned different frontiers across calls")

    on_frontier = {tuple(points[i]) for i in frontier}
    sharing = sum(tuple(p) in on_frontier for p in points)
    return _result(
        "negmas.pareto_frontier",
        "frontiers/s",
        1,
        times,
        _dist_version("negmas"),
        frontier=frontier,
        numpy_seconds=statistics.median(numpy_times),
        numpy_frontier=numpy_frontiers[-1],
        duplicates_dropped=sharing - len(frontier),
        n_actors=n_actors,
        n_outcomes=n_outcomes,
    )


def _format_rows(rows: list[tuple[str, str, str, str, str, str]]) -> str:
    """Formats rows as a fixed-width text table.

    Args:
        rows: Header row first, then one row per peer.

    Returns:
        The table as one string.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i in (0, 2, 5) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measures every peer and prints a table; writes nothing else.

    Args:
        argv: Command-line arguments (defaults to ``sys.argv[1:]``).

    Returns:
        Process exit code: 0, even when some peers are not installed.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small workloads (a few seconds)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    repeats = 3 if quick else 5
    n_actors, n_outcomes = 5, 10_000

    def pareto() -> PeerResult:
        rng = np.random.default_rng(0)
        return negmas_pareto_seconds(rng.random((n_actors, n_outcomes)), repeats)

    jobs: list[tuple[str, Callable[[], PeerResult]]] = [
        (
            f"pettingzoo.{env}",
            lambda env=env: pettingzoo_steps_per_second(
                env, 5_000 if quick else 100_000, repeats
            ),
        )
        for env in PETTINGZOO_ENVS
    ]
    jobs += [
        (
            "openspiel.bargaining",
            lambda: openspiel_bargaining_decisions_per_second(
                20_000 if quick else 200_000, repeats
            ),
        ),
        (
            "negmas.sao",
            lambda: negmas_sao_matches_per_second(5 if quick else 50, repeats),
        ),
        ("negmas.pareto_frontier", pareto),
    ]

    rows = [("peer", "rate", "unit", "seconds", "reps", "version / note")]
    for label, job in jobs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = job()
        except ImportError as exc:
            rows.append((label, "-", "-", "-", "-", f"unavailable: {exc}"))
            continue
        note = res["version"]
        if label == "negmas.sao":
            note += (
                f"; {res['n_negotiators']} negotiators, {res['n_outcomes']} outcomes,"
                f" {res['agreements']}/{res['work']} agreed,"
                f" mean {res['mean_steps']:.1f} steps"
            )
        elif label == "negmas.pareto_frontier":
            note += (
                f"; ops.pareto_frontier, {res['n_actors']}x{res['n_outcomes']},"
                f" frontier {len(res['frontier'])}"
            )
        rows.append(
            (
                label,
                f"{res['rate']:,.1f}",
                res["unit"],
                f"{res['seconds']:.4f}",
                str(res["repetitions"]),
                note,
            )
        )
        if label == "negmas.pareto_frontier":
            rows.append(
                (
                    "negmas.pareto_frontier_numpy",
                    f"{1 / res['numpy_seconds']:,.1f}",
                    "frontiers/s",
                    f"{res['numpy_seconds']:.4f}",
                    str(res["repetitions"]),
                    f"{res['version']}; raw array, same frontier",
                )
            )
    print(f"peers ({'quick' if quick else 'full'} mode)")
    print(_format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
