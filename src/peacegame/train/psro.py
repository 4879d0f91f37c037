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
meta-Nash values, the best responses' values and NashConv), and
``gen<g>/<actor>/model.zip`` with its metadata (a learned-policy checkpoint:
an SB3 ``.zip`` unpickles, so load only runs you trust). Rerunning the same
command resumes: best responses whose ``model.zip`` exists are not retrained.

``python -m peacegame.train.psro --generations 4`` (see docs/training.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.errors import ConfigError
from peacegame.match import EpisodePlayer
from peacegame.match_config import MatchConfig, load_match_config
from peacegame.policies import make_policy
from peacegame.policies.base import PolicyView
from peacegame.scenario import CompiledScenario, load_compiled
from peacegame.tournament.game import _Payoffs, replicator
from peacegame.train.config import SB3PPOParams
from peacegame.train.sb3_adapter import LearnerSpec
from peacegame.train.sb3_train import learn

DEFAULT_MATCH = "configs/matches/textbook/rubinstein-boulware.yaml"


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


def meta_nash(
    tables: list[np.ndarray], sizes: list[int]
) -> tuple[list[np.ndarray], list[float]]:
    """The meta-game's mixture per actor (replicator dynamics) and its values.

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
    """Run PSRO (module doc) and return one report per generation.

    Raises:
        ConfigError: On a bad match config.
    """
    config, scenario_file = load_match_config(match_file, overrides)
    scenario = load_compiled(scenario_file)
    actors = list(scenario.actors)
    ppo = ppo or SB3PPOParams(
        learning_rate=1e-3, n_steps=256, batch_size=512, n_epochs=4, net_arch=[64, 64]
    )
    out.mkdir(parents=True, exist_ok=True)
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
            folder = out / f"gen{g}" / actor
            model = folder / "model.zip"
            if not model.exists():
                opponents = {
                    a: mixture_spec(populations[a], sigma[q])
                    for q, a in enumerate(actors)
                    if a != actor
                }
                learn(
                    spec=LearnerSpec(
                        scenario=scenario,
                        protocol=config.protocol,
                        learner=actor,
                        opponents=opponents,
                    ),
                    ppo=ppo,
                    total_timesteps=timesteps,
                    n_envs=n_envs,
                    vec_env="dummy",
                    seed=seed + 1000 * g + r,
                    torch_threads=1,
                    out_dir=folder,
                    tensorboard=False,
                    progress=False,
                    extra_metadata={"psro_generation": g},
                )
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
        report["seconds"] = round(time.perf_counter() - t0, 1)
        reports.append(report)
        log(
            f"generation {g}: population {sizes}, NashConv {report['nash_conv']:.4f}, "
            f"sigma {report['sigma']}"
        )
        (out / "psro.json").write_text(json.dumps(reports, indent=2) + "\n")
    (out / "psro.json").write_text(json.dumps(reports, indent=2) + "\n")
    return reports


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
    print(
        json.dumps(
            [{k: r.get(k) for k in ("generation", "nash_conv")} for r in reports]
        )
    )
    return 0


__all__ = ["MixturePolicy", "meta_nash", "mixture_spec", "run"]


if __name__ == "__main__":
    raise SystemExit(main())
