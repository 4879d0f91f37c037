"""Every peacegame benchmark and its peers in one run, as ratios: the performance table.

Measures, on this machine and in one run:

* **env**: agent-steps/s of ``peacegame.env()`` (AEC with PettingZoo's
  wrappers), ``raw_env`` and ``parallel_env()`` under random legal play, against
  PettingZoo ``classic/tictactoe_v3`` and ``rps_v2`` and raw OpenSpiel
  ``bargaining`` (``benchmarks/env_throughput.py`` and ``benchmarks/peers.py``);
* **batch**: agent decisions/s of the batch engine (``peacegame.batch``) with
  4,096 matches in lockstep on one core (BLAS limited to one thread), with
  random legal play (as the peers) and with the time-dependent family;
* **matches**: complete matches/s on the default scenario with time-dependent
  strategies (Boulware, Linear, Conceder, Boulware, Linear) and a 100-round
  deadline, through the env path (``EpisodePlayer.play``, as ``peacegame run``)
  and the batch engine, against NegMAS ``SAOMechanism`` with 5 time-based
  negotiators on a 1,000-outcome problem and 100 steps;
* **solve**: compile + solve of the default scenario and of synthetic
  scenarios with 10^5 and 10^6 outcomes (``benchmarks/solve.py``). Our Pareto
  filter (``peacegame.solutions.pareto_mask``) and NegMAS's ``pareto_frontier``
  run on the same 5 x 10^4 utilities, and the frontiers are checked to be the
  same set of distinct utility vectors (NegMAS keeps one outcome of a tie);
* **sensitivity**: ``peacegame sensitivity`` on the default scenario, 10,000
  calibrations (Latin hypercube) with 2 worker processes, end to end
  (``benchmarks/sensitivity.py``); its peak memory includes the workers';
* **train**: sb3-contrib MaskablePPO learner steps/s, env path
  (``peacegame.train.sb3_adapter``, SB3 ``DummyVecEnv``) against the vector path
  (``peacegame.vector_env`` through ``sb3_vec_env``), only if SB3 is importable.

Each case runs in a fresh subprocess (BLAS and OpenMP limited to one thread),
so that its peak memory (``ru_maxrss``) is its own. The whole list of cases is
run ``--rounds`` times, interleaved, so that a change of machine load hits every
system alike, and every rate is the median over all repetitions. A peer that is
not installed is skipped. The ratios to the peers are the headline.

    python benchmarks/run_all.py            # full run, writes benchmarks/results.json
    python benchmarks/run_all.py --quick    # CI-sized smoke run (tiny sizes)
    python benchmarks/run_all.py --only matches --no-write
    python benchmarks/run_all.py --markdown benchmarks/results.json  # README table
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

RESULTS = HERE / "results.json"
"""Where a full run writes its results."""

TIME_DEPENDENT = ["boulware", "linear", "conceder", "boulware", "linear"]
"""The match benchmark's strategies, cycling like the NegMAS peer's negotiators."""

SINGLE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

Result = dict[str, Any]

PER_PASS = (
    "compile_s",
    "solve_s",
    "numpy_seconds",
    "matches_per_second",
    "mean_rounds",
    "agreement_rate",
)
"""Extras that vary between passes; :func:`aggregate` reports their medians."""


@dataclass(frozen=True)
class Case:
    """One measured system.

    Attributes:
        name: Unique id, ``group.system``.
        title: Row label in the table.
        run: ``run(quick, repeats) -> result``; a result has ``unit``,
            ``work`` (units per repetition) and ``times`` (seconds per
            repetition), plus extras.
        full_only: Skipped in ``--quick`` runs.
    """

    name: str
    title: str
    run: Callable[[bool, int], Result]
    full_only: bool = False

    @property
    def group(self) -> str:
        """The case's group (``env``, ``batch``, ``matches``, ``solve``...)."""
        return self.name.split(".", 1)[0]


# --------------------------------------------------------------------------- #
# Cases
# --------------------------------------------------------------------------- #


def _timed(run: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
    return times, value


def _env_case(kind: str) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        import env_throughput
        from peacegame.env import env as aec_env
        from peacegame.env import parallel_env, raw_env
        from peacegame.scenario import load_compiled

        scenario = load_compiled()
        sampler = env_throughput.block_sampler(scenario.n_outcomes)
        steps = 1_000 if quick else 100_000
        factory = {"aec": aec_env, "raw": raw_env, "parallel": parallel_env}[kind]
        measure = (
            env_throughput.parallel_steps_per_second
            if kind == "parallel"
            else env_throughput.aec_steps_per_second
        )
        times, work = [], 0
        for _ in range(repeats):
            out = measure(lambda: factory(scenario=scenario), sampler, steps, 1)
            times.append(out["seconds"])
            work = out["rate"] * out["seconds"]
        return {"unit": "agent-steps/s", "work": round(work), "times": times}

    return run


def _peer_pettingzoo(env_id: str) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        import peers

        return peers.pettingzoo_steps_per_second(
            env_id, 1_000 if quick else 100_000, repeats
        )

    return run


def _peer_openspiel(quick: bool, repeats: int) -> Result:
    import peers

    return peers.openspiel_bargaining_decisions_per_second(
        2_000 if quick else 200_000, repeats
    )


def _match_config(
    policies: list[Any],
    episodes: int,
    scenario_name: str | None = None,
    **protocol: Any,
) -> Any:
    from peacegame.match_config import MatchConfig
    from peacegame.scenario import load_compiled

    scenario = load_compiled(scenario_name)
    policies = [policies[i % len(policies)] for i in range(scenario.n_actors)]
    config = MatchConfig(
        name="bench",
        policies=dict(zip(scenario.actors, policies, strict=True)),
        episodes=episodes,
        seed=0,
        log_events="none",
        protocol=protocol,
    )
    return config, scenario


def _batch_case(
    policies: list[Any], scenario_name: str | None = None, **protocol: Any
) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        from peacegame.batch import BatchEngine

        size = 64 if quick else 4096
        batches = 1 if quick else 8  # per timed sample: about 0.2 s, not 25 ms
        config, scenario = _match_config(policies, size, scenario_name, **protocol)
        engine = BatchEngine(config, scenario, batch_size=size)
        engine.play(range(size))  # warm-up (caches, page faults)
        times, results = [], []
        for k in range(repeats):
            first = (k * batches + 1) * size
            episodes = range(first, first + batches * size)
            start = time.perf_counter()
            results.append(engine.play(episodes))
            times.append(time.perf_counter() - start)
        last = results[-1]
        return {
            "unit": "agent-decisions/s",
            "work": last.decisions,
            "times": times,
            "matches": batches * size,
            "matches_per_second": batches * size / statistics.median(times),
            "mean_rounds": float(last.round.mean() + 1),
            "agreement_rate": float((last.end == 1).mean()),
            "batch_size": size,
        }

    return run


def _matches_env(information: str) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        from peacegame.engine import OutcomeMetrics
        from peacegame.match import EpisodePlayer

        n = (3 if quick else 100) if information == "public" else (2 if quick else 20)
        config, scenario = _match_config(
            TIME_DEPENDENT, n, max_rounds=100, information=information
        )
        player = EpisodePlayer(config, scenario, OutcomeMetrics.of(scenario))
        player.play(0)  # warm-up
        times, records = _timed(lambda: [player.play(i) for i in range(n)], repeats)
        return {
            "unit": "matches/s",
            "work": n,
            "times": times,
            "mean_rounds": statistics.mean(r["rounds"] for r in records),
            "agreement_rate": statistics.mean(r["agreement"] for r in records),
        }

    return run


def distinct_results(records: list[dict[str, Any]]) -> int:
    """How many different results log records have (rounds, last proposer,
    outcome, rewards): a deterministic workload repeats one play, whose
    private picks the pick memo then serves."""
    return len(
        {
            (r["rounds"], r["proposer"], r["outcome"], *r["reward"].values())
            for r in records
        }
    )


def _matches_batch(
    information: str, records: bool, proposer: str = "rotating"
) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        from peacegame.batch import BatchEngine
        from peacegame.engine import OutcomeMetrics

        public = information == "public"
        size = 64 if quick else (4096 if public else 1024)
        batches = 4 if public and not quick else 1  # samples of 0.2 s or more
        config, scenario = _match_config(
            TIME_DEPENDENT,
            size,
            max_rounds=100,
            information=information,
            proposer=proposer,
        )
        engine = BatchEngine(config, scenario, OutcomeMetrics.of(scenario), size)
        engine.run(range(size))  # warm-up: per-outcome record parts are cached
        play = engine.run if records else engine.play
        times, out = [], None
        for k in range(repeats):
            first = (k * batches + 1) * size
            episodes = range(first, first + batches * size)
            start = time.perf_counter()
            out = play(episodes)
            times.append(time.perf_counter() - start)
        extra = {}
        if records:
            rounds = statistics.mean(r["rounds"] for r in out)
            agreed = statistics.mean(r["agreement"] for r in out)
            extra["distinct_matches"] = distinct_results(out)
        else:
            rounds = float(out.round.mean() + 1)
            agreed = float((out.end == 1).mean())
        return {
            "unit": "matches/s",
            "work": batches * size,
            "times": times,
            "mean_rounds": rounds,
            "agreement_rate": agreed,
            "batch_size": size,
            **extra,
        }

    return run


def _peer_negmas_sao(quick: bool, repeats: int) -> Result:
    import peers

    return peers.negmas_sao_matches_per_second(3 if quick else 50, repeats)


def _solve_case(case: str) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        import solve as solve_bench

        n = repeats if case in ("default", "4") else 1
        out = solve_bench.run_case(case, n)
        return {
            "unit": "s",
            "work": 1,
            "times": [out["total_s"]],
            "compile_s": out["compile_s"],
            "solve_s": out["total_s"] - out["compile_s"],
            "n_outcomes": out["n_outcomes"],
            "frontier": out["frontier"],
        }

    return run


def _sensitivity_case(quick: bool, repeats: int) -> Result:
    import sensitivity as sensitivity_bench

    out = sensitivity_bench.run_case(512 if quick else 10_000, workers=2)
    return {
        "unit": "s",
        "work": 1,
        "times": [out["seconds"]],
        "calibrations": out["calibrations"],
        "parameters": out["parameters"],
        "peak_mib_with_workers": out["peak_mib"],
    }


def _pareto_utilities() -> np.ndarray:
    import solve as solve_bench
    from peacegame.scenario import compile_dict

    return compile_dict(solve_bench.synthetic_scenario(4)).utility


def _pareto_ours(quick: bool, repeats: int) -> Result:
    from peacegame.solutions import pareto_mask

    utility = _pareto_utilities()
    pareto_mask(utility)  # warm-up
    times, mask = _timed(lambda: pareto_mask(utility), max(repeats, 3))
    return {
        "unit": "s",
        "work": 1,
        "times": times,
        "n_outcomes": int(utility.shape[1]),
        "frontier": int(mask.sum()),
    }


def _peer_negmas_pareto(quick: bool, repeats: int) -> Result:
    import peers
    from peacegame.solutions import pareto_mask

    utility = _pareto_utilities()
    out = peers.negmas_pareto_seconds(utility.astype(np.float64), max(repeats, 3))
    points = utility.T.astype(np.float64)
    ours = {tuple(p) for p in points[pareto_mask(utility)]}
    theirs = {tuple(points[i]) for i in out["frontier"]}
    out = {k: v for k, v in out.items() if "frontier" not in k}
    out.update(
        unit="s",
        work=1,
        same_frontier=ours == theirs,
        distinct_frontier_vectors=len(ours),
        negmas_frontier_size=len(theirs),
    )
    return out


def _train_case(
    path: str, n_envs: int, actions: str = "outcome"
) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        envs = min(n_envs, 4) if quick else n_envs
        venv = _train_venv(path, envs, actions)
        import torch
        from sb3_contrib import MaskablePPO

        torch.set_num_threads(1)
        # The shipped training config (configs/train/ukraine-vs-scripted.yaml),
        # with the rollout of n_steps * n_envs = 2,048 decisions kept fixed.
        n_steps = 8 if quick else 2048 // envs
        model = MaskablePPO(
            "MlpPolicy",
            venv,
            learning_rate=1e-3,
            n_steps=n_steps,
            batch_size=64 if quick else 1024,
            n_epochs=2,
            gamma=1.0,
            gae_lambda=0.95,
            clip_range=0.2,
            ent_coef=0.001,
            policy_kwargs={"net_arch": [64, 64]},
            seed=0,
            device="cpu",
        )
        rollout = n_steps * envs
        model.learn(rollout)  # warm-up: the first rollout and update
        times, _ = _timed(
            lambda: model.learn(2 * rollout, reset_num_timesteps=False), repeats
        )
        return {
            "unit": "learner-steps/s",
            "work": 2 * rollout,
            "times": times,
            "n_envs": envs,
            "n_steps": n_steps,
        }

    return run


def _train_venv(path: str, envs: int, actions: str = "outcome") -> Any:
    """The SB3 vec env of the shipped training setup (baseline match, Ukraine)."""
    for module in ("torch", "stable_baselines3", "sb3_contrib"):
        if importlib.util.find_spec(module) is None:
            raise ImportError(f"{module} is not installed (the train extra)")
    from stable_baselines3.common.vec_env import VecMonitor

    from peacegame.match_config import load_match_config
    from peacegame.scenario import load_compiled
    from peacegame.train.sb3_adapter import LearnerSpec, make_vec_env
    from peacegame.vector_env import sb3_vec_env, vector_env

    match, scenario_file = load_match_config("baseline")
    learner = "ukraine"
    if path == "env":
        spec = LearnerSpec(
            scenario=load_compiled(scenario_file),
            protocol=match.protocol.model_copy(update={"actions": actions}),
            learner=learner,
            opponents={a: p for a, p in match.policies.items() if a != learner},
        )
        return make_vec_env(spec, envs, "dummy", seed=0)
    return VecMonitor(
        sb3_vec_env(
            vector_env(
                envs,
                match="baseline",
                learner=learner,
                protocol=match.protocol.model_copy(update={"actions": actions}),
            )
        ),
        info_keywords=("agreement",),
    )


def _marl_case(actions: str, num_envs: int) -> Callable[[bool, int], Result]:
    """Every actor learning at once (``peacegame.train.marl``), end to end."""

    def run(quick: bool, repeats: int) -> Result:
        if importlib.util.find_spec("torchrl") is None:
            raise ImportError("torchrl is not installed (the train extra)")
        import torch

        from peacegame.engine import ProtocolConfig
        from peacegame.scenario import load_compiled
        from peacegame.train.marl import MarlSettings, MultiAgentTrainer

        torch.set_num_threads(1)
        envs = 64 if quick else num_envs
        trainer = MultiAgentTrainer(
            load_compiled(None),
            ProtocolConfig(actions=actions, information="public"),
            MarlSettings(num_envs=envs, rollout_steps=4 if quick else 16),
        )
        trainer.train_iteration()  # warm-up (compilation, first update)
        decisions = [0]

        def iterate() -> None:
            decisions[0] = trainer.train_iteration().decisions

        times, _ = _timed(iterate, repeats)
        return {
            "unit": "env-steps/s (decisions of all 5 learners)",
            "work": decisions[0],
            "times": times,
            "num_envs": envs,
        }

    return run


def _stepping_case(path: str, n_envs: int) -> Callable[[bool, int], Result]:
    def run(quick: bool, repeats: int) -> Result:
        venv = _train_venv(path, n_envs)
        from sb3_contrib.common.maskable.utils import get_action_masks

        n_outcomes = venv.action_space.n - 3
        rng = np.random.default_rng(0)
        steps = (200 if quick else 20_000) // n_envs * n_envs

        def play() -> None:
            for _ in range(steps // n_envs):
                proposing = get_action_masks(venv)[:, 0]
                actions = np.where(
                    proposing,
                    rng.integers(0, n_outcomes, n_envs),
                    n_outcomes + rng.integers(0, 2, n_envs),
                )
                venv.step(actions)

        venv.reset()
        play()  # warm-up
        times, _ = _timed(play, repeats)
        return {"unit": "learner-steps/s", "work": steps, "times": times}

    return run


CASES: list[Case] = [
    Case("env.aec", "peacegame.env() (AEC, wrapped)", _env_case("aec")),
    Case("env.raw", "peacegame raw_env (AEC)", _env_case("raw")),
    Case("env.parallel", "peacegame.parallel_env()", _env_case("parallel")),
    Case("env.tictactoe", "PettingZoo tictactoe_v3", _peer_pettingzoo("tictactoe_v3")),
    Case("env.rps", "PettingZoo rps_v2", _peer_pettingzoo("rps_v2")),
    Case("env.openspiel", "OpenSpiel bargaining (pyspiel)", _peer_openspiel),
    Case(
        "batch.random",
        "batch engine, random play",
        _batch_case(["random"] * 5),
    ),
    Case(
        "batch.time_dependent",
        "batch engine, time-dependent, public",
        _batch_case(TIME_DEPENDENT, max_rounds=100, information="public"),
    ),
    Case(
        "batch.quota",
        "batch engine, time-dependent, public, Security Council (9 of 15)",
        _batch_case(
            TIME_DEPENDENT, "security-council", max_rounds=100, information="public"
        ),
    ),
    Case("matches.env_public", "env path, public", _matches_env("public")),
    Case("matches.env_private", "env path, private", _matches_env("private")),
    Case(
        "matches.batch_public",
        "batch engine, public, log records",
        _matches_batch("public", records=True),
    ),
    Case(
        "matches.batch_public_arrays",
        "batch engine, public, outcome arrays",
        _matches_batch("public", records=False),
    ),
    Case(
        "matches.batch_private",
        "batch engine, private, log records",
        _matches_batch("private", records=True),
    ),
    Case(
        "matches.batch_private_random",
        "batch engine, private, random proposer, log records",
        _matches_batch("private", records=True, proposer="random"),
    ),
    Case("matches.negmas", "NegMAS SAOMechanism, 5 TB negotiators", _peer_negmas_sao),
    Case("solve.default", "compile + solve, default scenario", _solve_case("default")),
    Case("solve.1e4", "compile + solve, 10^4 outcomes", _solve_case("4")),
    Case("solve.1e5", "compile + solve, 10^5 outcomes", _solve_case("5"), True),
    Case("solve.1e6", "compile + solve, 10^6 outcomes", _solve_case("6"), True),
    Case("solve.pareto", "pareto_mask, 5 x 10^4", _pareto_ours),
    Case(
        "sensitivity.default",
        "sensitivity, 10^4 calibrations, 2 workers",
        _sensitivity_case,
    ),
    Case("solve.negmas", "NegMAS pareto_frontier, 5 x 10^4", _peer_negmas_pareto),
    Case("train.env", "MaskablePPO, env path, 16 envs", _train_case("env", 16)),
    Case("train.vector", "MaskablePPO, vector path, 16 envs", _train_case("vec", 16)),
    Case("train.vector64", "MaskablePPO, vector path, 64 envs", _train_case("vec", 64)),
    Case(
        "train.vector_utility64",
        "MaskablePPO, vector path, 64 envs, utility actions",
        _train_case("vec", 64, "utility"),
    ),
    Case(
        "train.marl_utility",
        "5 learners, kernel + TorchRL PPO, 1024 slots, utility actions",
        _marl_case("utility", 1024),
    ),
    Case(
        "train.steps_env",
        "env stepping only, env path, 16 envs",
        _stepping_case("env", 16),
    ),
    Case(
        "train.steps_vector",
        "env stepping only, vector path, 16 envs",
        _stepping_case("vec", 16),
    ),
    Case(
        "train.steps_vector256",
        "env stepping only, vector path, 256 envs",
        _stepping_case("vec", 256),
    ),
]
"""Every case, in table order."""

# (label, numerator case, denominator case or None for an absolute bound,
#  target, "ratio" (>= target) | "rate" (>= target) | "seconds" (<= target))
TARGETS: list[tuple[str, str, str | None, float, str]] = [
    (
        "MaskablePPO learner steps/s, utility actions",
        "train.vector_utility64",
        None,
        8e3,
        "rate",
    ),
    ("five learners, env steps/s", "train.marl_utility", None, 2e4, "rate"),
    ("batch decisions/s (one core)", "batch.random", None, 2e7, "rate"),
    ("batch / OpenSpiel bargaining", "batch.random", "env.openspiel", 20.0, "ratio"),
    ("env() / tictactoe", "env.aec", "env.tictactoe", 5.0, "ratio"),
    ("raw_env / OpenSpiel bargaining", "env.raw", "env.openspiel", 1.0, "ratio"),
    ("parallel_env / raw_env", "env.parallel", "env.raw", 1.0, "ratio"),
    (
        "matches: env path / NegMAS",
        "matches.env_public",
        "matches.negmas",
        50.0,
        "ratio",
    ),
    (
        "matches: batch / NegMAS",
        "matches.batch_public",
        "matches.negmas",
        2000.0,
        "ratio",
    ),
    # Issue 13: private information >= 20x the 2026-11-28 figures (531 and 51/s).
    ("private matches/s, batch", "matches.batch_private", None, 20 * 531, "rate"),
    ("private matches/s, env path", "matches.env_private", None, 20 * 51, "rate"),
    ("Pareto 10^4: ours / NegMAS", "solve.pareto", "solve.negmas", 10.0, "ratio"),
    ("solve 10^6 outcomes", "solve.1e6", None, 5.0, "seconds"),
    # Issue 17: 10,000 calibrations of the default scenario in 60 s on 2 cores.
    ("sensitivity 10^4 calibrations", "sensitivity.default", None, 60.0, "seconds"),
    ("training: vector / env path", "train.vector", "train.env", 2.0, "ratio"),
    (
        "env stepping: vector / env path",
        "train.steps_vector",
        "train.steps_env",
        2.0,
        "ratio",
    ),
]
"""The issue's targets, checked on the aggregated results."""


# --------------------------------------------------------------------------- #
# Running cases
# --------------------------------------------------------------------------- #


def run_case(name: str, quick: bool, repeats: int) -> Result:
    """Run one case in this process (ImportError means the peer is missing)."""
    case = next(c for c in CASES if c.name == name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = case.run(quick, repeats)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _in_subprocess(name: str, quick: bool, repeats: int) -> Result:
    command = [sys.executable, __file__, "--case", name, "--repeats", str(repeats)]
    if quick:
        command.append("--quick")
    env = {**os.environ, **SINGLE_THREAD}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit code {done.returncode}"}
    return json.loads(lines[-1])


def _in_process(name: str, quick: bool, repeats: int) -> Result:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without it BLAS keeps its default thread count
        threadpool_limits = None
    try:
        if threadpool_limits is not None:
            with threadpool_limits(1):
                return run_case(name, quick, repeats)
        return run_case(name, quick, repeats)
    except ImportError as exc:
        return {"skipped": str(exc)}


def _case_main(name: str, quick: bool, repeats: int) -> int:
    try:
        result = run_case(name, quick, repeats)
    except ImportError as exc:
        result = {"skipped": str(exc)}
    print(json.dumps(result, default=_json_default))
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def aggregate(samples: list[Result]) -> Result:
    """Pool the repetitions of one case: median time, max peak memory."""
    good = [s for s in samples if "times" in s]
    if not good:
        first = samples[0] if samples else {"error": "not run"}
        return {k: v for k, v in first.items() if k in ("skipped", "error")}
    times = [t for s in good for t in s["times"]]
    seconds = statistics.median(times)
    out = dict(good[-1])
    # Per-repetition extras: the median over passes, like the time.
    for key in PER_PASS:
        values = [s[key] for s in good if isinstance(s.get(key), int | float)]
        if values:
            out[key] = statistics.median(values)
    out.update(
        times=times,
        seconds=seconds,
        rate=out["work"] / seconds if seconds > 0 else float("inf"),
        repetitions=len(times),
        peak_mib=max(s.get("peak_mib") or 0.0 for s in good) or None,
    )
    return out


def check_targets(results: dict[str, Result]) -> list[Result]:
    """Evaluate :data:`TARGETS` on aggregated results."""
    rows = []
    for label, top, bottom, target, kind in TARGETS:
        row: Result = {"target": label, "goal": target, "kind": kind}
        a = results.get(top, {})
        b = results.get(bottom, {}) if bottom else {}
        if "rate" not in a or (bottom and "rate" not in b):
            row.update(value=None, met=None, note="not measured (skipped)")
        elif kind == "seconds":
            peak = a.get("peak_mib") or 0.0
            row.update(value=a["seconds"], met=a["seconds"] <= target and peak <= 2048)
            row["note"] = f"peak {peak:,.0f} MiB (target <= 2,048 MiB)"
        elif kind == "rate":
            row.update(value=a["rate"], met=a["rate"] >= target)
        else:
            # Peers with a seconds unit (solve) are compared by speed.
            value = (
                b["seconds"] / a["seconds"]
                if a["unit"] == "s"
                else a["rate"] / b["rate"]
            )
            row.update(value=value, met=value >= target)
            if top == "solve.pareto":
                same = b.get("same_frontier")
                row["met"] = bool(row["met"] and same)
                row["note"] = f"identical frontier: {same}"
        rows.append(row)
    return rows


def machine() -> Result:
    """The machine and software the run measured."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=HERE,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    import peacegame

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "peacegame": peacegame.__version__,
        "commit": commit or None,
    }


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.4f} s"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def table(results: dict[str, Result], targets: list[Result]) -> str:
    """The printed table: every case, then the targets."""
    rows = [("case", "system", "result", "unit", "peak MiB", "note")]
    for case in CASES:
        r = results.get(case.name)
        if r is None:
            continue
        if "rate" not in r:
            reason = r.get("skipped") or r.get("error") or ""
            rows.append((case.name, case.title, "-", "-", "-", reason[:70]))
            continue
        unit = r["unit"]
        value = r["seconds"] if unit == "s" else r["rate"]
        note = []
        if "batch_size" in r:
            note.append(f"B={r['batch_size']:,}")
        if "matches_per_second" in r:
            note.append(f"{r['matches_per_second']:,.0f} matches/s")
        if "mean_rounds" in r:
            note.append(f"{r['mean_rounds']:.1f} rounds")
        if "agreement_rate" in r:
            note.append(f"{r['agreement_rate']:.0%} agreed")
        if "distinct_matches" in r:
            note.append(f"{r['distinct_matches']:,} distinct")
        if "agreements" in r:
            note.append(f"{r['agreements']}/{r['work']} agreed")
        if "mean_steps" in r:
            note.append(f"{r['mean_steps']:.1f} steps")
        if "solve_s" in r:
            note.append(f"{r['n_outcomes']:,} outcomes, solve {r['solve_s']:.3f} s")
        if "same_frontier" in r:
            note.append(f"same frontier: {r['same_frontier']}")
        if "version" in r:
            note.append(str(r["version"]))
        peak = r.get("peak_mib")
        rows.append(
            (
                case.name,
                case.title,
                _format(value, unit),
                unit,
                f"{peak:,.0f}" if peak else "-",
                ", ".join(note),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in (2, 4) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["", "targets"]
    for t in targets:
        if t["value"] is None:
            shown, verdict = "-", "skipped"
        else:
            unit = {"ratio": "x", "rate": "/s", "seconds": " s"}[t["kind"]]
            shown = _format(t["value"], "") + unit
            verdict = "met" if t["met"] else "MISSED"
        goal = {"ratio": ">= {}x", "rate": ">= {:,.0f}/s", "seconds": "<= {} s"}
        lines.append(
            f"  {t['target']:<40} {shown:>14}  "
            f"target {goal[t['kind']].format(t['goal'])}"
            f": {verdict}" + (f"  ({t['note']})" if t.get("note") else "")
        )
    return "\n".join(lines)


def markdown(report: Result) -> str:
    """The results as the Markdown table of ``benchmarks/README.md``."""
    results = report["results"]
    lines = [
        "| case | system | result | peak MiB | notes |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    titles = {c.name: c.title for c in CASES}
    for name, r in results.items():
        if "rate" not in r:
            reason = (r.get("skipped") or r.get("error") or "").replace("|", "/")
            lines.append(f"| {name} | {titles.get(name, name)} | - | - | {reason} |")
            continue
        unit = r["unit"]
        value = (
            f"{r['seconds']:.3f} s"
            if unit == "s"
            else f"{_format(r['rate'], unit)} {unit}"
        )
        notes = []
        for key, text in (
            ("batch_size", "B={:,}"),
            ("matches_per_second", "{:,.0f} matches/s"),
            ("mean_rounds", "{:.1f} rounds"),
            ("agreement_rate", "{:.0%} agreed"),
            ("distinct_matches", "{:,} distinct results"),
            ("mean_steps", "{:.1f} steps"),
            ("solve_s", "solve only {:.3f} s"),
            ("same_frontier", "identical frontier: {}"),
            ("version", "v{}"),
        ):
            if key in r:
                notes.append(text.format(r[key]))
        peak = r.get("peak_mib")
        lines.append(
            f"| {name} | {titles.get(name, name)} | {value} | "
            f"{f'{peak:,.0f}' if peak else '-'} | {', '.join(notes)} |"
        )
    lines += [
        "",
        "| target | measured | goal | verdict |",
        "| --- | ---: | --- | --- |",
    ]
    for t in report["targets"]:
        if t["value"] is None:
            lines.append(f"| {t['target']} | - | {t['goal']:g} | skipped |")
            continue
        unit = {"ratio": "x", "rate": "/s", "seconds": " s"}[t["kind"]]
        goal = {"ratio": ">= {:g}x", "rate": ">= {:,.0f}/s", "seconds": "<= {:g} s"}
        verdict = "met" if t["met"] else "**missed**"
        note = f" ({t['note']})" if t.get("note") else ""
        lines.append(
            f"| {t['target']} | {_format(t['value'], '')}{unit} | "
            f"{goal[t['kind']].format(t['goal'])} | {verdict}{note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the selected cases, print the table, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized smoke run")
    parser.add_argument("--rounds", type=int, help="passes over the cases (3; quick 1)")
    parser.add_argument("--repeats", type=int, help="timed repetitions per pass")
    parser.add_argument("--only", help="comma-separated groups or case names")
    parser.add_argument("--skip", help="comma-separated groups or case names")
    parser.add_argument(
        "--in-process", action="store_true", help="no subprocesses (no peak memory)"
    )
    parser.add_argument("--output", type=Path, help="results file (default: ours)")
    parser.add_argument("--no-write", action="store_true", help="write no file")
    parser.add_argument(
        "--markdown", type=Path, help="print a results file as Markdown and exit"
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return 0
    repeats = args.repeats or (1 if args.quick else 2)
    if args.case:
        return _case_main(args.case, args.quick, repeats)
    rounds = args.rounds or (1 if args.quick else 3)

    def chosen(case: Case) -> bool:
        keys = {case.name, case.group}
        if args.only and not keys & set(args.only.split(",")):
            return False
        if args.skip and keys & set(args.skip.split(",")):
            return False
        return not (args.quick and case.full_only)

    cases = [c for c in CASES if chosen(c)]
    runner = _in_process if args.in_process else _in_subprocess
    samples: dict[str, list[Result]] = {c.name: [] for c in cases}
    started = time.perf_counter()
    for _ in range(rounds):
        for case in cases:
            if samples[case.name] and "skipped" in samples[case.name][-1]:
                continue
            samples[case.name].append(runner(case.name, args.quick, repeats))
    results = {name: aggregate(found) for name, found in samples.items()}
    targets = check_targets(results)
    mode = "quick" if args.quick else "full"
    header = (
        f"peacegame benchmarks ({mode} run, {rounds} pass(es) x {repeats} "
        f"repetition(s), medians; {time.perf_counter() - started:.0f} s)"
    )
    print(header)
    print(table(results, targets))
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python benchmarks/run_all.py"
        + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        "mode": mode,
        "rounds": rounds,
        "repeats": repeats,
        "single_thread": dict(SINGLE_THREAD),
        "machine": machine(),
        "results": results,
        "targets": targets,
    }
    if not args.no_write:
        output = args.output or RESULTS
        output.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
        print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
