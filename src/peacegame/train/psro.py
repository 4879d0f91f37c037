"""Policy-Space Response Oracles (PSRO; Lanctot et al., 2017) with NashConv.

Reads top to bottom. One **population** of policies per actor, started from
the match's own policies. Each **generation**:

1. **Meta-game.** Every profile of population members (one per actor) is
   played for ``episodes`` episodes through the match path
   (:class:`peacegame.match.EpisodePlayer`, the same seeds for every profile);
   an actor's payoff at a profile is its mean reward. Profiles already played
   in an earlier generation are not replayed.
2. **Meta-Nash.** The empirical game is solved with the tournament's
   replicator dynamics (:func:`peacegame.tournament.game.replicator`, exact on
   a full table of profiles), from the uniform mix; ``sigma[r]`` is actor
   ``r``'s mixture over its population.
3. **Best responses.** For every actor ``r``, SB3 MaskablePPO (the ``train``
   path, :func:`peacegame.train.sb3_train.learn`) trains a new policy against
   the others playing :class:`MixturePolicy` of their members weighted by
   ``sigma`` (one member drawn per episode).
4. **NashConv.** Each best response is played against every member of the
   others' populations; its value against ``sigma_-r`` is the sigma-weighted
   mean. ``NashConv = sum_r max(0, max(u_r(BR_r), max_c u_r(c)) - u_r(sigma))``,
   over ``r``, with ``c`` the population's own members: how much the actors
   gain by deviating from the meta-Nash. The PPO best response is approximate,
   so this is an estimate from below.
5. The best responses join the populations.

Run folder: ``psro.json`` (per generation: population sizes, ``sigma``,
meta-Nash values, the best responses' values, NashConv and seconds; replaced
atomically after every generation), and ``gen<g>/<actor>/model.zip`` with its
metadata (a learned-policy checkpoint: an SB3 ``.zip`` unpickles, so load only
runs you trust). A best response trains in ``gen<g>/<actor>.partial`` and is
renamed when whole, so a run killed at any moment resumes: whole responses are
kept, the one in training is retrained from scratch with its seed, and the
profiles are replayed (same seeds: the same payoffs).

``peacegame train configs/train/psro-rubinstein.yaml`` (``trainer: psro``,
:class:`peacegame.train.config.PsroConfig`: ``run.json``, ``--resume``,
``--overwrite``), or ``python -m peacegame.train.psro --generations 4`` (the
same loop, :func:`psro_loop`; rerunning resumes). See docs/training.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peacegame import logs
from peacegame.errors import ConfigError, UserError
from peacegame.match import EpisodePlayer
from peacegame.match_config import (
    MatchConfig,
    check_policies_cover_actors,
    load_match_config,
)
from peacegame.policies import make_policy
from peacegame.policies.base import PolicyView
from peacegame.scenario import CompiledScenario, load_compiled
from peacegame.tournament.game import expected, meta_nash
from peacegame.train.checkpoints import (
    FINAL_MODEL,
    check_resumable,
    keep_planned_count,
    library_versions,
    prepare_run_dir,
    write_run_file,
)
from peacegame.train.config import PsroConfig, SB3PPOParams, load_match
from peacegame.train.sb3_adapter import LearnerSpec
from peacegame.train.sb3_train import SB3_VERSIONS, learn

DEFAULT_MATCH = "configs/matches/textbook/rubinstein-boulware.yaml"
MODULE_PPO = {
    "learning_rate": 1e-3,
    "n_steps": 256,
    "batch_size": 512,
    "n_epochs": 4,
    "net_arch": [64, 64],
}
"""The module command's best-response hyper-parameters (the shipped config's)."""


class MixturePolicy:
    """Plays one of ``members`` per episode, drawn with ``weights``.

    Args:
        members: Policy specs (any kind ``make_policy`` builds).
        weights: Their probabilities (normalised here; zero-weight members are
            not built).
    """

    def __init__(self, members: list[Any], weights: list[float]) -> None:
        if len(members) != len(weights) or not members:
            raise ValueError("members and weights must be non-empty, equally long")
        w = np.asarray(weights, np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {weights}")
        keep = np.flatnonzero(w > 0)
        self.members = [make_policy(members[k]) for k in keep]
        self.weights = w[keep] / w[keep].sum()
        self.current: Any = None

    def label(self) -> str:
        """``mixture(n)``."""
        return f"mixture({len(self.members)})"

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Draw this episode's member and reset it."""
        k = int(rng.choice(len(self.members), p=self.weights))
        self.current = self.members[k]
        self.current.reset(agent, view, rng)

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """The drawn member's action."""
        return int(self.current.act(observation, info))


def mixture_spec(members: list[Any], weights: np.ndarray) -> dict[str, Any]:
    """A policy spec of :class:`MixturePolicy` (picklable, for any env)."""
    return {
        "policy": f"{__name__}:MixturePolicy",
        "members": list(members),
        "weights": [float(w) for w in weights],
    }


def profile_payoffs(
    config: MatchConfig,
    scenario: CompiledScenario,
    profile: dict[str, Any],
    episodes: int,
) -> np.ndarray:
    """Mean reward per actor (scenario order) of one profile of policy specs.

    Checkpoints in the specs are taken as given (absolute, or relative to the
    working directory).
    """
    match = config.model_copy(update={"policies": profile})
    player = EpisodePlayer(match, scenario)
    total = np.zeros(len(scenario.actors))
    for episode in range(episodes):
        reward = player.play(episode)["reward"]
        total += [reward[a] for a in scenario.actors]
    return total / episodes


@dataclass
class PsroResult:
    """What a PSRO run produced.

    Attributes:
        reports: One per generation (as in ``psro.json``).
        interrupted: Stopped by Ctrl-C during a best response (the finished
            ones are kept; a rerun resumes).
        out: The run folder.
    """

    reports: list[dict[str, Any]]
    interrupted: bool
    out: Path

    def summary(self) -> str:
        """A table: generation, population, NashConv, seconds."""
        rows = ["generation  population  NashConv  seconds"]
        for r in self.reports:
            conv = r.get("nash_conv")
            rows.append(
                f"{r['generation']:>10}  {', '.join(map(str, r['population'])):>10}"
                f"  {'last' if conv is None else f'{conv:.4f}':>8}"
                f"  {r.get('seconds', ''):>7}"
            )
        rows.append(f"wrote {self.out / PSRO_FILE}")
        return "\n".join(rows)


PSRO_FILE = "psro.json"
"""The run folder's per-generation reports."""


def response_folder(out: Path, generation: int, actor: str) -> Path:
    """``gen<g>/<actor>``: a best response's model, metadata and curve."""
    return out / f"gen{generation}" / actor


def trained_generations(out: Path) -> int:
    """How many generations of ``psro.json`` have their best responses."""
    path = out / PSRO_FILE
    if not path.is_file():
        return 0
    return sum("nash_conv" in r for r in json.loads(path.read_text()))


def psro_loop(
    config: MatchConfig,
    scenario: CompiledScenario,
    out: Path,
    *,
    generations: int,
    timesteps: int,
    episodes: int,
    seed: int,
    ppo: SB3PPOParams,
    n_envs: int,
    vec_env: str = "dummy",
    torch_threads: int = 1,
    progress: bool = False,
    log: Any = print,
) -> PsroResult:
    """Run PSRO (module doc) into ``out``, resuming what is there.

    A best response trains in ``gen<g>/<actor>.partial`` and is renamed to
    ``gen<g>/<actor>`` once its model and metadata are written, so a folder
    without the suffix is always whole and a kill mid-training only loses that
    response (retrained from scratch with the same seed: the same model).
    ``psro.json`` is replaced atomically after every generation; a generation
    it already records keeps its recorded ``seconds``.

    Returns:
        The reports and whether Ctrl-C stopped the run.
    """
    actors = list(scenario.actors)
    out.mkdir(parents=True, exist_ok=True)
    recorded = {}
    if (out / PSRO_FILE).is_file():
        recorded = {
            r["generation"]: r for r in json.loads((out / PSRO_FILE).read_text())
        }
    populations = {a: [config.policies[a]] for a in actors}
    played: dict[tuple[int, ...], np.ndarray] = {}
    reports: list[dict[str, Any]] = []

    def play_missing() -> list[np.ndarray]:
        sizes = [len(populations[a]) for a in actors]
        for index in itertools.product(*(range(s) for s in sizes)):
            if index not in played:
                profile = {
                    a: populations[a][k] for a, k in zip(actors, index, strict=True)
                }
                played[index] = profile_payoffs(config, scenario, profile, episodes)
        tables = [np.zeros(sizes) for _ in actors]
        for index, values in played.items():
            if all(k < s for k, s in zip(index, sizes, strict=True)):
                for r in range(len(actors)):
                    tables[r][index] = values[r]
        return tables

    def save() -> None:
        logs.write_json(out / PSRO_FILE, reports)

    for g in range(generations + 1):
        t0 = time.perf_counter()
        tables = play_missing()
        sizes = [len(populations[a]) for a in actors]
        sigma, values = meta_nash(tables, sizes)
        report: dict[str, Any] = {
            "generation": g,
            "population": sizes,
            "sigma": {
                a: s.round(4).tolist() for a, s in zip(actors, sigma, strict=True)
            },
            "meta_nash_value": dict(
                zip(actors, np.round(values, 4).tolist(), strict=True)
            ),
        }
        if g == generations:  # the last meta-game: solved, not extended
            reports.append(report)
            break
        responses = {}
        for r, actor in enumerate(actors):
            folder = response_folder(out, g, actor)
            model = folder / FINAL_MODEL
            if not model.exists():
                partial = folder.with_name(folder.name + ".partial")
                shutil.rmtree(partial, ignore_errors=True)
                opponents = {
                    a: mixture_spec(populations[a], sigma[q])
                    for q, a in enumerate(actors)
                    if a != actor
                }
                result = learn(
                    spec=LearnerSpec(
                        scenario=scenario,
                        protocol=config.protocol,
                        learner=actor,
                        opponents=opponents,
                    ),
                    ppo=ppo,
                    total_timesteps=timesteps,
                    n_envs=n_envs,
                    vec_env=vec_env,
                    seed=seed + 1000 * g + r,
                    torch_threads=torch_threads,
                    out_dir=partial,
                    tensorboard=False,
                    progress=progress,
                    extra_metadata={"psro_generation": g},
                )
                if result.interrupted:
                    shutil.rmtree(partial, ignore_errors=True)
                    save()
                    return PsroResult(reports, True, out)
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(partial, folder)
            responses[actor] = {"policy": "learned", "checkpoint": str(model.resolve())}
        for actor in actors:
            populations[actor].append(responses[actor])
        tables = play_missing()  # the responses against every member
        gains, br_values = {}, {}
        for r, actor in enumerate(actors):
            new = tables[r].shape[r] - 1
            others = [s if q != r else None for q, s in enumerate(sigma)]

            def against(
                member: int,
                r: int = r,
                others: list = others,
                tables: list[np.ndarray] = tables,
            ) -> float:
                table = np.take(tables[r], member, axis=r)
                rest = [s for s in others if s is not None]
                # Axes of the other actors, in order; the old members only.
                table = table[tuple(slice(0, s.size) for s in rest)]
                return expected(table, rest)

            br_values[actor] = round(against(new), 4)
            best = max(against(c) for c in range(new + 1))
            gains[actor] = max(0.0, best - values[r])
        report["best_response_value"] = br_values
        report["nash_conv"] = round(float(sum(gains.values())), 4)
        old = recorded.get(g, {})
        report["seconds"] = old.get("seconds", round(time.perf_counter() - t0, 1))
        reports.append(report)
        log(
            f"generation {g}: population {sizes}, NashConv {report['nash_conv']:.4f}, "
            f"sigma {report['sigma']}"
        )
        save()
    save()
    return PsroResult(reports, False, out)


def run(
    match_file: Path,
    out: Path,
    *,
    generations: int,
    timesteps: int,
    episodes: int,
    seed: int = 0,
    overrides: list[str] | None = None,
    ppo: SB3PPOParams | None = None,
    n_envs: int = 8,
    log: Any = print,
) -> list[dict[str, Any]]:
    """PSRO on a match config file (:func:`psro_loop`); one report per generation.

    Raises:
        ConfigError: On a bad match config.
        KeyboardInterrupt: If Ctrl-C stopped a best response.
    """
    config, scenario_file = load_match_config(match_file, overrides)
    result = psro_loop(
        config,
        load_compiled(scenario_file),
        out,
        generations=generations,
        timesteps=timesteps,
        episodes=episodes,
        seed=seed,
        ppo=ppo or SB3PPOParams(**MODULE_PPO),
        n_envs=n_envs,
        log=log,
    )
    if result.interrupted:
        raise KeyboardInterrupt
    return result.reports


def train_from_config(
    config: PsroConfig,
    config_file: Path | None,
    *,
    resume: bool,
    overwrite: bool,
    progress: bool = False,
) -> PsroResult:
    """``peacegame train`` with ``trainer: psro`` (:class:`~.config.PsroConfig`).

    The run folder gets ``run.json``, ``psro.json`` and ``gen<g>/<actor>/``
    (module doc). ``--resume`` keeps the trained best responses and never
    lowers the planned generations below those trained.

    Raises:
        UserError: On a run folder that has a run (without ``--resume`` or
            ``--overwrite``), a config that differs from the recorded run, or
            a resume that would lower the planned count.
    """
    match, match_file, scenario_file = load_match(config, config_file)
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(match, scenario.actors, match_file)
    run_dir = config.run_dir()
    prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    generated = sorted(run_dir.glob("gen[0-9]*"))
    if overwrite:
        (run_dir / PSRO_FILE).unlink(missing_ok=True)
        for folder in generated:
            shutil.rmtree(folder)
    elif not resume and ((run_dir / PSRO_FILE).exists() or generated):
        raise UserError(
            f"the run folder already has PSRO results ({PSRO_FILE}, gen*/); pass "
            "--resume to continue it or --overwrite to start again",
            file=run_dir,
        )
    if resume:
        check_resumable(run_dir, config.model_dump(mode="json"))
        keep_planned_count(
            run_dir,
            "generations",
            config.generations,
            lambda: trained_generations(run_dir),
            unit="generations",
            file=run_dir / PSRO_FILE,
        )
    write_run_file(
        run_dir,
        config=config,
        config_file=config_file,
        match=match,
        match_file=match_file,
        scenario=scenario,
        scenario_file=scenario_file,
        versions=library_versions(*SB3_VERSIONS),
    )
    return psro_loop(
        match,
        scenario,
        run_dir,
        generations=config.generations,
        timesteps=config.timesteps_per_response,
        episodes=config.episodes_per_profile,
        seed=config.seed,
        ppo=config.ppo,
        n_envs=config.n_envs,
        vec_env=config.vec_env,
        torch_threads=config.torch_threads,
        progress=progress,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m peacegame.train.psro``: PSRO on a match config.

    Returns:
        The exit code (2 on a bad config).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--match", default=DEFAULT_MATCH, help="match config YAML")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--timesteps", type=int, default=20000)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/train/psro")
    args = parser.parse_args(argv)
    try:
        reports = run(
            Path(args.match),
            Path(args.out),
            generations=args.generations,
            timesteps=args.timesteps,
            episodes=args.episodes,
            seed=args.seed,
            overrides=args.overrides,
        )
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    print(
        json.dumps(
            [{k: r.get(k) for k in ("generation", "nash_conv")} for r in reports]
        )
    )
    return 0


__all__ = [
    "PsroResult",
    "MixturePolicy",
    "meta_nash",
    "mixture_spec",
    "psro_loop",
    "run",
    "train_from_config",
]


if __name__ == "__main__":
    raise SystemExit(main())
