"""RLlib multi-agent PPO and Tune sweeps on a local Ray (select with ``-m ray``).

One local Ray instance serves the module (started like the trainer starts it,
with its temp folder inside a run folder); the scenario is the three-actor test
scenario: x and y learn, z plays a scripted boulware through its module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from peacegame.errors import UserError

pytest.importorskip("ray.rllib")
pytest.importorskip("sb3_contrib")

from peacegame.match import EpisodePlayer  # noqa: E402
from peacegame.match_config import load_match_config  # noqa: E402
from peacegame.policies import make_policy  # noqa: E402
from peacegame.scenario import load_compiled  # noqa: E402
from peacegame.train.config import load_train_config  # noqa: E402

from conftest import ROOT  # noqa: E402

pytestmark = pytest.mark.ray

THREE = ROOT / "tests" / "data" / "three_actors.yaml"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rl")
    shutil.copy(THREE, folder / "three.yaml")
    (folder / "match.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "three",
                "scenario": "three.yaml",
                "protocol": {"max_rounds": 6, "proposer": "random"},
                "policies": {
                    "x": {"policy": "linear"},
                    "y": {"policy": "conceder"},
                    "z": {"policy": "boulware"},
                },
                "seed": 1,
            }
        )
    )
    (folder / "rllib.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "three-rllib",
                "trainer": "rllib",
                "match": "match.yaml",
                "trainable": ["x", "y"],
                "iterations": 2,
                "num_env_runners": 1,
                "checkpoint_every": 1,
                "output": str(folder / "run"),
                "ppo": {
                    "train_batch_size": 200,
                    "minibatch_size": 100,
                    "num_epochs": 1,
                    "hidden": [16],
                },
            }
        )
    )
    return folder


@pytest.fixture(scope="module")
def local_ray(files):
    from peacegame.train.rllib_train import start_ray, stop_ray

    started = start_ray(files / "ray-session")
    yield
    if started:
        stop_ray()


def test_env_is_turn_based_and_scripted_moves_pass_through(files):
    from peacegame.train.rllib_env import SCRIPTED_KEY, RllibNegotiationEnv

    match, scenario_file = load_match_config(files / "match.yaml")
    env = RllibNegotiationEnv(
        {
            "scenario": str(scenario_file),
            "protocol": match.protocol.model_dump(),
            "policies": match.policies,
            "trainable": ["x", "y"],
        }
    )
    assert set(env.observation_spaces["z"].spaces) == {SCRIPTED_KEY}
    assert set(env.observation_spaces["x"].spaces) == {"observations", "action_mask"}
    obs, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    moved = set()
    for _ in range(100):
        ((agent, o),) = obs.items()
        if SCRIPTED_KEY in o:
            action = int(o[SCRIPTED_KEY][0])
        else:
            assert o["action_mask"].dtype == np.float32
            action = int(rng.choice(np.flatnonzero(o["action_mask"])))
        moved.add(agent)
        obs, rewards, terminated, truncated, _ = env.step({agent: action})
        if terminated["__all__"] or truncated["__all__"]:
            assert set(rewards) == set(obs) == moved
            break
        assert set(rewards) <= set(obs) and len(obs) == 1
    else:
        pytest.fail("no episode end in 100 steps")
    for seed in range(50):  # find a state where z (scripted) is to move
        obs, _ = env.reset(seed=seed)
        while "z" not in obs and len(obs) == 1:
            ((agent, o),) = obs.items()
            obs, *_ = env.step({agent: int(np.flatnonzero(o["action_mask"])[-1])})
        if list(obs) == ["z"]:
            break
    with pytest.raises(RuntimeError, match="scripted module of z returned"):
        env.step({"z": int(obs["z"][SCRIPTED_KEY][0]) + 1})


def test_rllib_trains_two_modules_next_to_a_scripted_one(files, local_ray):
    from peacegame.train.rllib_train import train_rllib

    config, file = load_train_config(files / "rllib.yaml")
    result = train_rllib(config, file, progress=False)
    run = files / "run"
    assert result.iterations == 2 and result.env_steps >= 400
    rows = (run / "returns.csv").read_text().splitlines()
    assert rows[0] == "iteration,env_steps,episodes,seconds,x,y,z"
    assert len(rows) == 3
    assert set(result.modules) == {"x", "y"}
    assert (run / "rllib" / "iter_000002").is_dir()
    assert (run / "returns.png").is_file()
    meta = json.loads((run / "modules" / "x.json").read_text())
    assert meta["backend"] == "rllib" and meta["actor"] == "x"
    assert meta["trainable"] == ["x", "y"] and meta["iteration"] == 2
    assert meta["opponents"] == {"z": {"policy": "boulware"}}

    # The exported module plays in a match, through the learned policy kind.
    match, scenario_file = load_match_config(files / "match.yaml")
    learned = {"policy": "learned", "checkpoint": str(run / "modules" / "x")}
    config = match.model_copy(
        update={"policies": {**match.policies, "x": learned}, "log_events": "none"}
    )
    player = EpisodePlayer(config, load_compiled(scenario_file))
    records = [player.play(i) for i in range(10)]
    assert all(r["policies"]["x"] == "learned(x)" for r in records)
    with pytest.raises(Exception, match="trained for actor 'x', not 'y'"):
        policy = make_policy(learned)
        env = player.env
        from peacegame.policies import make_view

        policy.reset("y", make_view(env.rules, "y", env.record), None)

    # --resume continues from the last algorithm checkpoint.
    more, file = load_train_config(
        files / "rllib.yaml", ["iterations=3", "num_env_runners=0"]
    )
    result = train_rllib(more, file, resume=True, progress=False)
    assert result.iterations == 3
    assert len((run / "returns.csv").read_text().splitlines()) == 4

    # A resume never lowers the planned count below what is trained.
    fewer, file = load_train_config(files / "rllib.yaml", ["iterations=1"])
    with pytest.raises(UserError, match="3 iterations are already trained"):
        train_rllib(fewer, file, resume=True, progress=False)
    assert json.loads((run / "run.json").read_text())["config"]["iterations"] == 3


def test_tune_sweep_over_a_maskable_ppo_config(files, local_ray, tmp_path):
    from peacegame.train.sweep import run_sweep

    train = {
        "name": "sweep-me",
        "match": str(files / "match.yaml"),
        "learner": "x",
        "total_timesteps": 256,
        "n_envs": 1,
        "checkpoint_every": 100000,
        "output": str(tmp_path / "run"),
        "ppo": {"n_steps": 128, "batch_size": 64, "n_epochs": 1, "net_arch": [8]},
    }
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train))
    (tmp_path / "sweep.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "param_space": {"ppo.ent_coef": {"grid": [0.0, 0.05]}},
                "max_concurrent_trials": 2,
            }
        )
    )
    config, file = load_train_config(tmp_path / "train.yaml")
    result = run_sweep(config, file, tmp_path / "sweep.yaml", progress=False)
    assert len(result.trials) == 2
    assert sorted(t["params"]["ppo.ent_coef"] for t in result.trials) == [0.0, 0.05]
    assert all(t["reward"] is not None for t in result.trials)
    assert (tmp_path / "run" / "sweeps" / "tiny" / "summary.json").is_file()
    assert result.best["ppo.ent_coef"] in (0.0, 0.05)
