"""End-to-end MaskablePPO training throughput and the env's share of it.

Trains Ukraine against the baseline match's scripted opponents on the default
scenario (5 actors, 3,840 outcomes, 3,843 actions) with the hyper-parameters of
``configs/train/ukraine-vs-scripted.yaml``, in one process (SB3 DummyVecEnv),
and reports:

* **steps/s**: learner timesteps (SB3's env steps: one learner decision each,
  the opponents' moves in between included) per second of ``model.learn``;
* **env share**: the time spent inside the learner env (``reset``, ``step``,
  ``action_masks``: the AEC env plus the scripted opponents' moves) over the
  training time, split into the opponents' policies and the rest;
* the same with ``random`` opponents (cheap policies: the env's own cost);
* a peer measured in the same run: MaskablePPO on a game-free toy env with the
  same spaces and hyper-parameters (:class:`ToyMaskedEnv`), the library's own
  ceiling; the ratio shows what the game costs on top.

Set ``OMP_NUM_THREADS=1`` (the script sets it if unset, before torch loads).
Run ``python benchmarks/train_throughput.py [--steps N] [--quick]``. The run
folders go to a temporary directory and are deleted.

Targets (issue 6): >= 1,000 steps/s end-to-end; env share < 15%.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

from peacegame.match_config import load_match_config  # noqa: E402
from peacegame.policies import scripted  # noqa: E402
from peacegame.resources import data_root  # noqa: E402
from peacegame.train.config import load_train_config  # noqa: E402
from peacegame.train.sb3_adapter import LearnerEnv  # noqa: E402
from peacegame.train.sb3_train import learn, learner_spec  # noqa: E402

TIMERS: dict[str, float] = defaultdict(float)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn`` to add its wall time to ``TIMERS[name]``."""
    clock = time.perf_counter

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMERS[name] += clock() - t0

    return wrapper


def instrument() -> None:
    """Time the learner env's API and the opponents' ``act`` (class patches)."""
    for method in ("reset", "step", "action_masks"):
        setattr(LearnerEnv, method, timed("env", getattr(LearnerEnv, method)))
    for cls in (scripted.ScriptedPolicy, scripted.RandomPolicy):
        cls.act = timed("opponents", cls.act)


def run(steps: int, opponents: str | None, out: Path) -> dict[str, float]:
    """Train for ``steps`` and return steps/s and time shares."""
    config, file = load_train_config(
        data_root() / "configs" / "train" / "ukraine-vs-scripted.yaml"
    )
    match_file = data_root() / "configs" / "matches" / "baseline.yaml"
    match, scenario_file = load_match_config(match_file)
    if opponents is not None:
        match = match.model_copy(
            update={
                "policies": {
                    a: ({"policy": opponents} if a != config.learner else s)
                    for a, s in match.policies.items()
                }
            }
        )
    spec = learner_spec(
        match, match_file, scenario_file, config.learner, train_file=file
    )
    obs_size = int(LearnerEnv(spec).observation_space.shape[0])
    TIMERS.clear()
    result = learn(
        spec=spec,
        ppo=config.ppo,
        total_timesteps=steps,
        n_envs=config.n_envs,
        vec_env="dummy",
        seed=0,
        torch_threads=1,
        out_dir=out,
        checkpoint_every=None,
        tensorboard=False,
        progress=False,
    )
    seconds = result.seconds
    return {
        "obs_size": obs_size,
        "steps": result.steps,
        "seconds": seconds,
        "steps_per_second": result.steps / seconds,
        "env_share": TIMERS["env"] / seconds,
        "opponent_share": TIMERS["opponents"] / seconds,
    }


class ToyMaskedEnv(gym.Env):
    """A game-free env with peacegame's spaces: the peer measured in this run.

    Observation ``Box(obs_size)``, ``Discrete(3843)`` actions, the legal set
    alternating between the 3,840 proposals and ACCEPT/REJECT, 26 decisions per
    episode (the learner's mean episode length here), reward at the end. It
    costs next to nothing, so its MaskablePPO rate is the learning library's
    own ceiling for these spaces.
    """

    def __init__(self, obs_size: int, n_actions: int = 3843) -> None:
        self.observation_space = gym.spaces.Box(-1, 1, (obs_size,))
        self.action_space = gym.spaces.Discrete(n_actions)
        self.propose = np.zeros(n_actions, bool)
        self.propose[: n_actions - 3] = True
        self.vote = np.zeros(n_actions, bool)
        self.vote[n_actions - 3 : n_actions - 1] = True
        self.t = 0
        self.obs = np.zeros(obs_size, np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        self.t = 0
        return self.obs.copy(), {}

    def step(self, action: int) -> Any:
        self.t += 1
        self.obs[0] = self.t / 26
        done = self.t >= 26
        reward = float(action % 2) if done else 0.0
        return self.obs.copy(), reward, done, False, {}

    def action_masks(self) -> np.ndarray:
        return self.propose if self.t % 3 == 0 else self.vote


def peer(steps: int, obs_size: int) -> dict[str, float]:
    """MaskablePPO on :class:`ToyMaskedEnv`, same hyper-parameters."""
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    config, _ = load_train_config(
        data_root() / "configs" / "train" / "ukraine-vs-scripted.yaml"
    )
    params = config.ppo.model_dump()
    net_arch = params.pop("net_arch")
    venv = DummyVecEnv(
        [lambda: ToyMaskedEnv(obs_size, 3843) for _ in range(config.n_envs)]
    )
    model = MaskablePPO(
        "MlpPolicy",
        venv,
        policy_kwargs={"net_arch": net_arch},
        seed=0,
        device="cpu",
        **params,
    )
    t0 = time.perf_counter()
    model.learn(steps)
    seconds = time.perf_counter() - t0
    return {"steps_per_second": model.num_timesteps / seconds}


def main() -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40_960)
    parser.add_argument("--quick", action="store_true", help="8,192 steps")
    args = parser.parse_args()
    steps = 8192 if args.quick else args.steps
    import torch

    torch.set_num_threads(1)
    instrument()
    tmp = Path(tempfile.mkdtemp(prefix="pg-train-bench-"))
    try:
        rows = {
            "baseline opponents": run(steps, None, tmp / "a"),
            "random opponents": run(steps, "random", tmp / "b"),
        }
        toy = peer(steps, int(rows["baseline opponents"]["obs_size"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"MaskablePPO, Ukraine, default scenario, {steps} steps, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}\n"
    )
    print(f"{'opponents':<20}{'steps/s':>9}{'env share':>11}{'of which opp.':>15}")
    for name, row in rows.items():
        print(
            f"{name:<20}{row['steps_per_second']:>9.0f}{row['env_share']:>11.1%}"
            f"{row['opponent_share']:>15.1%}"
        )
    base = rows["baseline opponents"]["steps_per_second"]
    print(
        f"\npeer: MaskablePPO on a game-free toy env, same spaces: "
        f"{toy['steps_per_second']:.0f} steps/s; peacegame/peer = "
        f"{base / toy['steps_per_second']:.2f}"
    )
    print("targets: >= 1,000 steps/s; env share < 15%")


if __name__ == "__main__":
    main()
