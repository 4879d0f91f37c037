"""A tiny training smoke run on the Rubinstein textbook config (SB3 MaskablePPO).

p1 learns against p2 playing the Nash mediator (proposes 50-50, accepts any
share of at least 0.5). Proposing 50-50 at once is p1's best reply (reward 0.5);
a random p1 gets about 0.25. The full learned-agent study is a documented run
(docs/theory.md), not a test.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")

from peacegame.match import EpisodePlayer  # noqa: E402
from peacegame.match_config import MatchConfig  # noqa: E402
from peacegame.protocol import ProtocolConfig  # noqa: E402
from peacegame.scenario import load_compiled  # noqa: E402
from peacegame.train.config import SB3PPOParams  # noqa: E402
from peacegame.train.sb3_adapter import LearnerSpec  # noqa: E402
from peacegame.train.sb3_train import learn  # noqa: E402

from conftest import ROOT  # noqa: E402

SCENARIO = ROOT / "configs" / "scenarios" / "textbook" / "rubinstein.yaml"
PROTOCOL = {"max_rounds": 10, "proposer": "rotating", "information": "public"}
OPPONENT = {"policy": "nash_mediator"}


def mean_reward(policy: dict, episodes: int = 100) -> float:
    config = MatchConfig(
        name="rubinstein-smoke",
        protocol=ProtocolConfig(**PROTOCOL),
        policies={"p1": policy, "p2": OPPONENT},
        seed=1_000_000_000,
        log_events="none",
    )
    player = EpisodePlayer(config, load_compiled(SCENARIO))
    return float(np.mean([player.play(i)["reward"]["p1"] for i in range(episodes)]))


def test_learner_improves_over_random_on_rubinstein(tmp_path) -> None:
    result = learn(
        spec=LearnerSpec(
            scenario=load_compiled(SCENARIO),
            protocol=ProtocolConfig(**PROTOCOL),
            learner="p1",
            opponents={"p2": OPPONENT},
        ),
        ppo=SB3PPOParams(
            learning_rate=3e-3,
            n_steps=128,
            batch_size=128,
            n_epochs=4,
            net_arch=[32, 32],
        ),
        total_timesteps=4096,
        n_envs=4,
        vec_env="dummy",
        seed=0,
        torch_threads=1,
        out_dir=tmp_path,
        tensorboard=False,
        progress=False,
    )
    learned = mean_reward({"policy": "learned", "checkpoint": str(result.model_path)})
    random = mean_reward({"policy": "random"})
    assert learned > random + 0.1
    assert learned == pytest.approx(0.5, abs=0.05)  # the best reply: 50-50 at once
