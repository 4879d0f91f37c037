"""Scale: all five actors training on a synthetic 10^5-outcome scenario.

Issue 14's "Scale" target: ``utility`` actions train on a synthetic
10^5-outcome scenario, where the flat ``outcome`` action cannot. This script
makes both attempts with the multi-agent trainer
(:class:`peacegame.train.marl.MultiAgentTrainer`, public API only) and reports
what happened, in one process, one after the other:

1. **Build**: the synthetic scenario of ``benchmarks/solve.py``
   (:func:`solve.synthetic_scenario`: 5 actors, 5 issues x 10 levels = 10^5
   outcomes, one unanimity rule), compiled with
   :func:`peacegame.scenario.compile_dict`; the time of :class:`Rules` for
   each interface (cold: the first call in the process; warm: a second one),
   and, for ``utility``, of the picks table it precomputes
   (:func:`peacegame.engine.actions.utility_picks`: every bin's proposal for
   every actor, one pass over all outcomes per actor).
2. **utility**: ``Discrete(K + 3)`` actions. Trains a fixed number of
   iterations and reports decisions/s, wall time, peak memory and the
   held-out evaluation (greedy play on seeds from base ``10**6``: agreement,
   share of agreements in the zone of agreement, whether every actor's mean
   reward is at or above its no-deal value, the Nash product ratio) at a few
   checkpoints.
3. **outcome**: the flat ``Discrete(n_outcomes + 3)`` action. First the
   memory the trainer would need is *computed* (:func:`memory_estimate`:
   policy networks with their gradients and Adam moments, the per-slot mask
   buffer, the masks every decision of a rollout keeps, the logits of a
   policy forward and of a PPO minibatch, the evaluation); above
   ``--max-gib`` the attempt is refused with that number, and retried with
   half the slots until it fits (and is at most ``--outcome-num-envs``, when
   given: the largest size that fits may still take many minutes per
   iteration). What runs trains within the same training time as the
   utility run (at least one iteration) and is evaluated before and after
   (on ``--outcome-eval-episodes``: a greedy step over 10^5 logits per slot
   is costly too). Every size tried gets its time per iteration projected
   from the measured one.
4. A JSON summary on stdout (and in ``--out`` if given).

Peak memory is sampled (resident set size, every 20 ms, by a thread) during
each phase, beside the process's ``ru_maxrss``.

    python benchmarks/scale_train.py            # the documented run (minutes)
    python benchmarks/scale_train.py --quick    # seconds: 10^3 outcomes, tiny sizes

Set ``OMP_NUM_THREADS=1`` (the script sets it if unset, before torch loads) and
run nothing else heavy at the same time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from peacegame.engine import ProtocolConfig, Rules  # noqa: E402
from peacegame.engine.actions import utility_picks  # noqa: E402
from peacegame.scenario import CompiledScenario, compile_dict  # noqa: E402
from peacegame.train.marl import MarlSettings, MultiAgentTrainer  # noqa: E402
from solve import synthetic_scenario  # noqa: E402

GIB = 2**30
MIB = 2**20

ROLLOUT_LOGIT_COPIES = 4
"""float32 ``[slots, n_actions]`` tensors alive at once in one actor's policy
step of a rollout: the logits, the masked logits and the normalised
log-probabilities of ``MaskedCategorical``, and the probabilities ``sample``
draws from."""

UPDATE_LOGIT_COPIES = 12
"""float32 ``[minibatch, n_actions]`` tensors alive at once in a PPO
minibatch of ``ClipPPOLoss`` (forward activations kept for the backward pass:
logits, masked logits, log-softmax, the entropy's probabilities and products,
and their gradients). Calibrated on measured peaks (10^4 outcomes at 256
slots: 1,106 MiB of growth; 10^5 outcomes at 32 slots: 1,945 MiB); the
summary reports the estimate beside the measured peak of every run."""


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Context manager: the largest resident set size while inside, sampled.

    Attributes:
        start: RSS on entry (bytes).
        peak: The largest sampled RSS (bytes).
    """

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _rss_bytes())

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    def report(self) -> dict[str, float]:
        """Start, peak and growth in MiB, and the process's ``ru_maxrss``."""
        return {
            "rss_start_mib": round(self.start / MIB, 1),
            "rss_peak_mib": round(self.peak / MIB, 1),
            "rss_growth_mib": round((self.peak - self.start) / MIB, 1),
            "ru_maxrss_mib": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
        }


def protocol(actions: str, max_rounds: int) -> ProtocolConfig:
    """The protocol of both attempts: public information, random proposer."""
    return ProtocolConfig(
        actions=actions,
        information="public",
        max_rounds=max_rounds,
        proposer="random",
        breakdown_prob=0.01,
    )


def build(n_issues: int, n_levels: int, seed: int) -> tuple[CompiledScenario, float]:
    """The synthetic scenario, compiled, and the compile time in seconds."""
    spec = synthetic_scenario(n_issues, n_levels, seed)
    t0 = time.perf_counter()
    scenario = compile_dict(spec)
    return scenario, time.perf_counter() - t0


def time_rules(scenario: CompiledScenario, config: ProtocolConfig) -> dict[str, Any]:
    """Seconds to build :class:`Rules` (cold, then warm) and its interface size."""
    t0 = time.perf_counter()
    rules = Rules(scenario, config)
    t1 = time.perf_counter()
    rules = Rules(scenario, config)
    t2 = time.perf_counter()
    out: dict[str, Any] = {
        "rules_seconds_cold": round(t1 - t0, 3),
        "rules_seconds_warm": round(t2 - t1, 3),
        "n_actions": rules.interface.n_actions,
        "observation_size": rules.interface_observation_size,
    }
    if config.actions == "utility":
        t3 = time.perf_counter()
        picks = utility_picks(
            rules.utility,
            rules.no_deal,
            rules.required,
            scenario.consent,
            config.utility_bins,
            rules.public,
        )
        out["picks_seconds"] = round(time.perf_counter() - t3, 3)
        out["picks_shape"] = list(picks.shape)
        out["distinct_picks"] = int(len({int(k) for k in picks.ravel()}))
    return out


def memory_estimate(
    n_actions: int,
    observation_size: int,
    n_actors: int,
    settings: MarlSettings,
    eval_episodes: int,
    decisions_per_slot_step: float = 2.5,
) -> dict[str, float]:
    """The trainer's expected memory (GiB), from the sizes alone.

    Args:
        n_actions: The interface's actions (``n_outcomes + 3`` for ``outcome``).
        observation_size: The interface's observation length.
        n_actors: Learners (one policy and one value network each).
        settings: Slots, rollout length, minibatch, hidden width.
        eval_episodes: Episodes of one evaluation (played as that many slots).
        decisions_per_slot_step: Decisions per slot and call (measured on the
            utility run when there is one; every actor moves about once a round
            of two calls with five actors and unanimity).

    Returns:
        Components and ``total`` (the largest phase plus what persists).
    """
    a, o, h, n = n_actions, observation_size, settings.hidden, n_actors
    policy_params = o * h + h + h * h + h + h * a + a
    value_params = o * h + h + h * h + h + h + 1
    # Parameters, gradients and Adam's two moments, float32.
    networks = n * (policy_params + value_params) * 4 * 4
    mask_buffer = settings.num_envs * n * a  # int8 [B, n, A]
    decisions = decisions_per_slot_step * settings.num_envs * settings.rollout_steps
    rollout_masks = decisions * a  # bool, one row per decision kept
    rollout_logits = decisions * a * 4  # if they were kept (they are not)
    step_logits = ROLLOUT_LOGIT_COPIES * settings.num_envs * a * 4
    minibatch = min(settings.minibatch, max(1.0, decisions / n))
    update = minibatch * a * (UPDATE_LOGIT_COPIES * 4 + 1)
    # collect: the records and the batches cut from them coexist at the end.
    collect_peak = 2 * rollout_masks + step_logits
    update_peak = rollout_masks + update
    evaluation = eval_episodes * n * a + ROLLOUT_LOGIT_COPIES * eval_episodes * a * 4
    total = networks + mask_buffer + max(collect_peak, update_peak, evaluation)
    gib = {
        "policy_parameters_per_actor": float(policy_params),
        "networks_gib": networks / GIB,
        "mask_buffer_gib": mask_buffer / GIB,
        "decisions_per_rollout": float(decisions),
        "rollout_masks_gib": rollout_masks / GIB,
        "rollout_logits_gib": rollout_logits / GIB,
        "policy_step_logits_gib": step_logits / GIB,
        "update_minibatch_gib": update / GIB,
        "evaluation_gib": evaluation / GIB,
        "total_gib": total / GIB,
    }
    return {k: round(v, 4) if k.endswith("gib") else v for k, v in gib.items()}


def _evaluate(trainer: MultiAgentTrainer, episodes: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    report = trainer.evaluate(episodes=episodes)
    return {
        "iteration": trainer.iteration,
        "decisions": trainer.decisions,
        "agreement": round(report["agreement"], 4),
        "in_zone": round(report["in_zone"], 4),
        "above_no_deal": report["above_no_deal"],
        "mean_reward": report["mean_reward"],
        "nash_product_ratio": round(report["nash_product_ratio"], 4),
        "distinct_outcomes": report["distinct_outcomes"],
        "seconds": round(time.perf_counter() - t0, 2),
    }


def train_attempt(
    scenario: CompiledScenario,
    config: ProtocolConfig,
    settings: MarlSettings,
    *,
    iterations: int | None,
    budget_seconds: float | None,
    checkpoints: list[int],
    eval_episodes: int,
    log: Any,
) -> dict[str, Any]:
    """Train for ``iterations``, or within ``budget_seconds`` of training time.

    Under a budget, iterations go on while the next one, at the mean pace so
    far, would end within it (at least one iteration). Training time is the
    time of :meth:`MultiAgentTrainer.train_iteration` calls only (evaluations
    are timed apart). Evaluates at the iterations in ``checkpoints`` (0:
    before training) and at the end.
    """
    result: dict[str, Any] = {"settings": asdict(settings)}
    with PeakRss() as rss:
        t0 = time.perf_counter()
        trainer = MultiAgentTrainer(scenario, config, settings)
        result["trainer_build_seconds"] = round(time.perf_counter() - t0, 2)
        result["policy_parameters_per_actor"] = sum(
            p.numel() for p in trainer.learners[0].policy_net.parameters()
        )
        evaluations = []
        if 0 in checkpoints:
            evaluations.append(_evaluate(trainer, eval_episodes))
            log(f"  eval {evaluations[-1]}")
        train_seconds = 0.0
        per_iteration = []
        while True:
            if iterations is not None and trainer.iteration >= iterations:
                break
            if budget_seconds is not None and per_iteration:
                pace = train_seconds / len(per_iteration)
                if train_seconds + pace > budget_seconds:
                    break  # the next iteration would end past the budget
            t = time.perf_counter()
            stats = trainer.train_iteration()
            seconds = time.perf_counter() - t
            train_seconds += seconds
            per_iteration.append(
                {
                    "iteration": stats.iteration,
                    "decisions": stats.decisions,
                    "seconds": round(seconds, 3),
                    "seconds_collect": round(stats.seconds_collect, 3),
                    "seconds_update": round(stats.seconds_update, 3),
                    "agreement": round(stats.agreement, 4),
                }
            )
            log(
                f"  iter {stats.iteration}: {stats.decisions} decisions in "
                f"{seconds:.2f} s, rollout agreement {stats.agreement:.2f}"
            )
            if stats.iteration in checkpoints:
                evaluations.append(_evaluate(trainer, eval_episodes))
                log(f"  eval {evaluations[-1]}")
        if not evaluations or evaluations[-1]["iteration"] != trainer.iteration:
            evaluations.append(_evaluate(trainer, eval_episodes))
            log(f"  eval {evaluations[-1]}")
    decisions = sum(row["decisions"] for row in per_iteration)
    result.update(
        {
            "iterations": trainer.iteration,
            "decisions": decisions,
            "train_seconds": round(train_seconds, 2),
            "decisions_per_second": round(decisions / max(train_seconds, 1e-9), 1),
            "decisions_per_second_after_first": (
                round(
                    (decisions - per_iteration[0]["decisions"])
                    / max(train_seconds - per_iteration[0]["seconds"], 1e-9),
                    1,
                )
                if len(per_iteration) > 1
                else None
            ),
            "seconds_per_iteration": round(train_seconds / len(per_iteration), 3),
            "decisions_per_slot_step": decisions
            / (len(per_iteration) * settings.num_envs * settings.rollout_steps),
            "per_iteration": per_iteration,
            "evaluations": evaluations,
            "memory": rss.report(),
        }
    )
    del trainer
    gc.collect()
    return result


def outcome_attempt(
    scenario: CompiledScenario,
    config: ProtocolConfig,
    settings: MarlSettings,
    *,
    max_gib: float,
    max_num_envs: int | None,
    budget_seconds: float,
    eval_episodes: int,
    decisions_per_slot_step: float,
    log: Any,
) -> dict[str, Any]:
    """The flat action: compute its memory, refuse above ``max_gib``, shrink B.

    Computes the expected memory at ``settings.num_envs`` slots, then at half
    as many, and so on; the first size that fits under ``max_gib`` (and is at
    most ``max_num_envs``, when given: a size that fits but whose iterations
    would not fit the time budget) trains for ``budget_seconds`` of training
    time, at least one iteration, with evaluations before and after. Every
    size tried gets its seconds per iteration projected from the measured one
    (the update dominates and is linear in the decisions per rollout).
    """
    sizes = Rules(scenario, config)
    n_actions = sizes.interface.n_actions
    obs = sizes.interface_observation_size
    del sizes
    tried: list[dict[str, Any]] = []
    current, chosen = settings, None
    while True:
        estimate = memory_estimate(
            n_actions,
            obs,
            scenario.n_actors,
            current,
            eval_episodes,
            decisions_per_slot_step,
        )
        fits = estimate["total_gib"] <= max_gib
        capped = max_num_envs is not None and current.num_envs > max_num_envs
        verdict = (
            "refused: memory"
            if not fits
            else ("skipped: above --outcome-num-envs" if capped else "run")
        )
        tried.append(
            {"num_envs": current.num_envs, "estimate": estimate, "verdict": verdict}
        )
        log(
            f"  outcome at {current.num_envs} slots: expected "
            f"{estimate['total_gib']:.2f} GiB (limit {max_gib}) -> {verdict}"
        )
        if verdict == "run":
            chosen = current
            break
        if current.num_envs <= 1:
            break
        current = replace(current, num_envs=current.num_envs // 2)
    result: dict[str, Any] = {
        "n_actions": n_actions,
        "max_gib": max_gib,
        "attempts": tried,
        "ran": chosen is not None,
    }
    if chosen is None:
        return result
    run = train_attempt(
        scenario,
        config,
        chosen,
        iterations=None,
        budget_seconds=budget_seconds,
        checkpoints=[0],
        eval_episodes=eval_episodes,
        log=log,
    )
    result["run"] = run
    per_slot = run["seconds_per_iteration"] / chosen.num_envs
    for row in tried:
        row["projected_seconds_per_iteration"] = round(per_slot * row["num_envs"], 1)
    result["estimate_of_run_gib"] = tried[-1]["estimate"]["total_gib"]
    result["measured_growth_gib"] = round(run["memory"]["rss_growth_mib"] / 1024, 3)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (``--quick`` shrinks every size)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--issues", type=int, default=None, help="default 5 (quick 3)")
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--scenario-seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=None, help="default 40")
    parser.add_argument("--num-envs", type=int, default=None, help="default 1024")
    parser.add_argument("--rollout-steps", type=int, default=None, help="default 16")
    parser.add_argument("--max-rounds", type=int, default=30)
    parser.add_argument(
        "--checkpoints",
        default=None,
        help="comma-separated iterations to evaluate at (default 0,10,20,40)",
    )
    parser.add_argument("--eval-episodes", type=int, default=None, help="default 1024")
    parser.add_argument(
        "--max-gib",
        type=float,
        default=8.0,
        help="refuse an outcome attempt whose computed memory is above this",
    )
    parser.add_argument(
        "--outcome-num-envs",
        type=int,
        default=None,
        help="largest slot count the outcome attempt may run at (default: the "
        "largest that fits under --max-gib)",
    )
    parser.add_argument(
        "--outcome-eval-episodes",
        type=int,
        default=None,
        help="held-out episodes of the outcome evaluations (default 256, quick 64)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip-outcome", action="store_true", help="only the utility attempt"
    )
    parser.add_argument("--out", default=None, help="also write the summary here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "issues": 3 if quick else 5,
        "iterations": 2 if quick else 40,
        "num_envs": 64 if quick else 1024,
        "rollout_steps": 4 if quick else 16,
        "eval_episodes": 64 if quick else 1024,
        "outcome_eval_episodes": 64 if quick else 256,
        "checkpoints": "0,2" if quick else "0,10,20,40",
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both attempts and print the JSON summary.

    Returns:
        The summary.
    """
    args = parse_args(argv)
    torch.set_num_threads(1)

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    summary: dict[str, Any] = {
        "command": "python benchmarks/scale_train.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    with PeakRss() as rss:
        scenario, compile_seconds = build(args.issues, args.levels, args.scenario_seed)
    summary["scenario"] = {
        "n_outcomes": scenario.n_outcomes,
        "n_actors": scenario.n_actors,
        "issues": args.issues,
        "levels": args.levels,
        "compile_seconds": round(compile_seconds, 3),
        "memory": rss.report(),
    }
    log(f"compiled {scenario.n_outcomes} outcomes in {compile_seconds:.2f} s")
    configs = {a: protocol(a, args.max_rounds) for a in ("utility", "outcome")}
    summary["rules"] = {a: time_rules(scenario, c) for a, c in configs.items()}
    log(f"rules {summary['rules']}")

    settings = MarlSettings(
        num_envs=args.num_envs, rollout_steps=args.rollout_steps, seed=args.seed
    )
    checkpoints = sorted(int(x) for x in args.checkpoints.split(",") if x.strip())
    log(f"utility: {args.iterations} iterations at {settings.num_envs} slots")
    utility = train_attempt(
        scenario,
        configs["utility"],
        settings,
        iterations=args.iterations,
        budget_seconds=None,
        checkpoints=checkpoints,
        eval_episodes=args.eval_episodes,
        log=log,
    )
    summary["utility"] = utility
    if not args.skip_outcome:
        log(f"outcome: budget {utility['train_seconds']} s of training")
        summary["outcome"] = outcome_attempt(
            scenario,
            configs["outcome"],
            settings,
            max_gib=args.max_gib,
            max_num_envs=args.outcome_num_envs,
            budget_seconds=utility["train_seconds"],
            eval_episodes=args.outcome_eval_episodes,
            decisions_per_slot_step=utility["decisions_per_slot_step"],
            log=log,
        )
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return summary


if __name__ == "__main__":
    main()
