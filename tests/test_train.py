"""Training with SB3 MaskablePPO: adapter, smoke run, checkpoints, CLI, self-play.

The scenario is a tiny divide-the-dollar: actors ``a`` (the learner) and ``b``
split 1.0 in tenths, both must consent, no-deal 0. ``b`` is a hardliner that
accepts a split only if it keeps at least 0.4, and proposes the split best for
itself (a gets 0). With ``a`` proposing first, its best move is known: offer
a = 0.6 at once (reward 0.6); a random ``a`` gets about 0.2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("sb3_contrib")

from peacegame.engine.tables import Rules  # noqa: E402
from peacegame.errors import ConfigError, UserError  # noqa: E402
from peacegame.match import EpisodePlayer, run_config_file  # noqa: E402
from peacegame.match_config import MatchConfig  # noqa: E402
from peacegame.policies import make_policy, make_view  # noqa: E402
from peacegame.policies.learned import LearnedPolicy  # noqa: E402
from peacegame.protocol import ProtocolConfig  # noqa: E402
from peacegame.scenario import compile_dict  # noqa: E402
from peacegame.train.commands import add_train_commands  # noqa: E402
from peacegame.train.config import SB3PPOParams, load_train_config  # noqa: E402
from peacegame.train.sb3_adapter import LearnerEnv, LearnerSpec  # noqa: E402
from peacegame.train.sb3_train import learn  # noqa: E402

OPPONENT = {"policy": "hardliner", "threshold": 0.4}
PROTOCOL = {"max_rounds": 2, "proposer": "rotating"}
FAST_PPO = SB3PPOParams(
    learning_rate=3e-3, n_steps=128, batch_size=128, n_epochs=4, net_arch=[32, 32]
)


def dollar(d_a: float = 0.0, step: int = 10) -> dict:
    return {
        "name": "dollar",
        "issues": [
            {
                "name": "split",
                "levels": [{"name": f"s{i}", "x": i / step} for i in range(step + 1)],
            }
        ],
        "actors": [
            {
                "id": "a",
                "no_deal": d_a,
                "discount": 1,
                "recognition": 0.5,
                "terms": [
                    {"weight": 1, "feature": "split.x", "curve": [[0, 0], [1, 1]]}
                ],
            },
            {
                "id": "b",
                "no_deal": 0.0,
                "discount": 1,
                "recognition": 0.5,
                "terms": [
                    {"weight": 1, "feature": "split.x", "curve": [[0, 1], [1, 0]]}
                ],
            },
        ],
        "consent": [{"actors": ["a", "b"]}],
    }


def spec(protocol: dict | None = None) -> LearnerSpec:
    return LearnerSpec(
        scenario=compile_dict(dollar()),
        protocol=ProtocolConfig(**(protocol or PROTOCOL)),
        learner="a",
        opponents={"b": OPPONENT},
    )


def match_config(policy_a, seed: int = 123, protocol: dict | None = None):
    return MatchConfig(
        name="dollar",
        scenario="dollar.yaml",
        protocol=ProtocolConfig(**(protocol or PROTOCOL)),
        policies={"a": policy_a, "b": OPPONENT},
        seed=seed,
        log_events="none",
    )


def mean_reward(policy_a, episodes: int = 200, protocol: dict | None = None):
    config = match_config(policy_a, protocol=protocol)
    player = EpisodePlayer(config, compile_dict(dollar()))
    return float(np.mean([player.play(i)["reward"]["a"] for i in range(episodes)]))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A MaskablePPO model of ``a``, trained for 4,096 steps (a few seconds)."""
    out = tmp_path_factory.mktemp("dollar-run")
    result = learn(
        spec=spec(),
        ppo=FAST_PPO,
        total_timesteps=4096,
        n_envs=4,
        vec_env="dummy",
        seed=0,
        torch_threads=1,
        out_dir=out,
        checkpoint_every=2048,
        progress=False,
    )
    assert result.timesteps >= 4096
    return result.model_path


# --------------------------------------------------------------------- adapter
def test_learner_env_plays_the_opponent_and_pays_at_the_end():
    env = LearnerEnv(spec())
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and info == {}
    mask = env.action_masks()
    assert mask.dtype == bool and mask[:11].all() and not mask[11:].any()
    # a proposes first: the hardliner accepts a <= 0.6.
    for k, reward in ((6, 0.6), (3, 0.3)):
        env.reset(seed=k)
        obs, r, terminated, truncated, info = env.step(k)
        assert terminated and not truncated and r == pytest.approx(reward)
        assert info["agreement"]
    env.reset(seed=1)
    obs, r, terminated, _, _ = env.step(9)  # rejected: b proposes, a votes
    assert not terminated and r == 0.0
    mask = env.action_masks()
    assert mask[11] and mask[12] and not mask[:11].any()
    obs, r, terminated, _, info = env.step(12)  # reject b's offer: deadline
    assert terminated and r == 0.0 and info["end_reason"] == "deadline"


def test_learner_env_is_reproducible_from_its_seed():
    def episode(seed):
        env = LearnerEnv(
            LearnerSpec(
                scenario=compile_dict(dollar()),
                protocol=ProtocolConfig(max_rounds=6, proposer="random"),
                learner="a",
                opponents={"b": {"policy": "random"}},
            )
        )
        out = []
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        for _ in range(50):
            action = int(rng.choice(np.flatnonzero(env.action_masks())))
            obs, r, done, _, _ = env.step(action)
            out.append((obs.tobytes(), r))
            if done:
                obs, _ = env.reset()
        return out

    assert episode(7) == episode(7)
    assert episode(7) != episode(8)


# ------------------------------------------------------------------ smoke run
def test_maskable_ppo_learns_the_known_best_offer(trained):
    learned = mean_reward({"policy": "learned", "checkpoint": str(trained)})
    random = mean_reward({"policy": "random"})
    assert learned == pytest.approx(0.6, abs=0.02)  # the optimum
    assert learned > random + 0.2
    curve = (trained.parent / "learning_curve.csv").read_text().splitlines()
    assert curve[0].startswith("timesteps,episodes,reward_mean")
    first, last = (float(row.split(",")[2]) for row in (curve[1], curve[-1]))
    assert last > first
    assert list((trained.parent / "tb").iterdir())  # TensorBoard event files


def test_masked_actions_are_never_taken(trained):
    # Longer games, a random proposer and sampled actions reach every phase.
    protocol = {"max_rounds": 6, "proposer": "random"}
    policy = make_policy(
        {"policy": "learned", "checkpoint": str(trained), "sample": True}
    )
    opponent = make_policy({"policy": "random"})
    from peacegame.env import NegotiationEnv

    env = NegotiationEnv(scenario=compile_dict(dollar()), protocol=protocol)
    views = {a: make_view(env.protocol, a, env.record) for a in ("a", "b")}
    moves = 0
    for seed in range(150):
        env.reset(seed=seed)
        policy.reset("a", views["a"], np.random.default_rng(seed))
        opponent.reset("b", views["b"], np.random.default_rng(seed + 1))
        while not (env.terminations["a"] or env.truncations["a"]):
            agent = env.agent_selection
            observation = env.observe(agent)
            mover = policy if agent == "a" else opponent
            action = mover.act(observation, env.infos[agent])
            assert observation["action_mask"][action] == 1, (agent, action)
            moves += agent == "a"
            env.step(action)
    assert moves > 150


def test_checkpoint_round_trip_gives_the_same_actions(trained):
    from sb3_contrib import MaskablePPO

    model = MaskablePPO.load(trained, device="cpu")
    policy = LearnedPolicy(trained)
    env = LearnerEnv(spec({"max_rounds": 4, "proposer": "random"}))
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    checked = 0
    for _ in range(200):
        mask = env.action_masks()
        expected, _ = model.predict(obs, action_masks=mask, deterministic=True)
        got = policy.act({"observation": obs, "action_mask": mask.astype(np.int8)}, {})
        assert got == int(expected)
        checked += 1
        action = int(rng.choice(np.flatnonzero(mask)))  # explore other states
        obs, _, done, _, _ = env.step(action)
        if done:
            obs, _ = env.reset()
    assert checked == 200
    meta = json.loads(trained.with_suffix(".json").read_text())
    assert meta["actor"] == "a" and meta["obs_size"] == obs.shape[0]
    assert meta["scenario"]["hash"] == compile_dict(dollar()).scenario_hash
    assert meta["n_actions"] == 14 and meta["protocol"]["max_rounds"] == 2


# ------------------------------------------------------------- bad checkpoints
def test_incompatible_checkpoints_are_one_line_errors(trained, tmp_path):
    view_env = __import__("peacegame.env", fromlist=["NegotiationEnv"])
    policy = LearnedPolicy(trained)
    env = view_env.NegotiationEnv(scenario=compile_dict(dollar()), **PROTOCOL)
    with pytest.raises(ConfigError, match="trained for actor 'a', not 'b'"):
        policy.reset("b", make_view(env.protocol, "b", env.record), None)
    other = view_env.NegotiationEnv(scenario=compile_dict(dollar(d_a=0.3)))
    with pytest.raises(ConfigError, match="trained on scenario 'dollar'"):
        policy.reset("a", make_view(other.protocol, "a", other.record), None)
    longer = view_env.NegotiationEnv(
        scenario=compile_dict(dollar()), history_length=5, max_rounds=2
    )
    policy.reset("a", make_view(longer.protocol, "a", longer.record), None)
    longer.reset(seed=0)
    trained_size = json.loads(trained.with_suffix(".json").read_text())["obs_size"]
    assert longer.observe("a")["observation"].shape[0] == trained_size + 2
    with pytest.raises(
        ConfigError, match=f"observations of size {trained_size}, this match gives "
    ):
        policy.act(longer.observe("a"), longer.infos["a"])
    with pytest.raises(ConfigError, match="no checkpoint at"):
        make_policy({"policy": "learned", "checkpoint": str(tmp_path / "x.zip")})
    bare = tmp_path / "bare.zip"
    bare.write_bytes(trained.read_bytes())
    with pytest.raises(ConfigError, match="no metadata"):
        make_policy({"policy": "learned", "checkpoint": str(bare)})
    with pytest.raises(ConfigError, match="unknown field 'sampel'"):
        make_policy({"policy": "learned", "checkpoint": str(trained), "sampel": 1})
    for error in (ConfigError,):
        assert issubclass(error, UserError)


def test_learned_policy_plays_in_a_match_config(trained, tmp_path):
    scenario = tmp_path / "dollar.yaml"
    scenario.write_text(yaml.safe_dump(dollar()))
    (tmp_path / "model.zip").write_bytes(trained.read_bytes())
    (tmp_path / "model.json").write_bytes(trained.with_suffix(".json").read_bytes())
    config = tmp_path / "learned-match.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "learned-match",
                "scenario": "dollar.yaml",
                "protocol": PROTOCOL,
                "policies": {
                    "a": {"policy": "learned", "checkpoint": "model.zip"},
                    "b": OPPONENT,
                },
                "episodes": 20,
            }
        )
    )
    result = run_config_file(
        config, run_dir=tmp_path / "run", progress=False, fsync=False
    )
    assert len(result.records) == 20
    assert all(r["policies"]["a"] == "learned(model)" for r in result.records)
    assert np.mean([r["reward"]["a"] for r in result.records]) == pytest.approx(
        0.6, abs=0.05
    )


# ---------------------------------------------------------------- the commands
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="peacegame")
    add_train_commands(p.add_subparsers(dest="command", required=True))
    return p


def cli(*argv: str) -> int:
    args = parser().parse_args(list(argv))
    return args.func(args)


@pytest.fixture()
def train_files(tmp_path) -> Path:
    (tmp_path / "dollar.yaml").write_text(yaml.safe_dump(dollar()))
    (tmp_path / "match.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "dollar-match",
                "scenario": "dollar.yaml",
                "protocol": PROTOCOL,
                "policies": {"a": {"policy": "linear"}, "b": OPPONENT},
                "seed": 5,
            }
        )
    )
    config = tmp_path / "train.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "dollar-train",
                "match": "match.yaml",
                "learner": "a",
                "total_timesteps": 1024,
                "n_envs": 2,
                "checkpoint_every": 512,
                "output": str(tmp_path / "run"),
                "ppo": FAST_PPO.model_dump(),
            }
        )
    )
    return config


def test_train_command_checkpoints_and_resumes(train_files, capsys):
    run = train_files.parent / "run"
    assert cli("train", str(train_files), "--quiet") == 0
    assert "trained a for 1024 timesteps" in capsys.readouterr().out
    names = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert names == [
        "ppo_1024_steps.json",
        "ppo_1024_steps.zip",
        "ppo_512_steps.json",
        "ppo_512_steps.zip",
    ]
    assert (run / "model.zip").is_file() and (run / "learning_curve.png").is_file()
    with pytest.raises(UserError, match="pass --resume"):
        cli("train", str(train_files), "--quiet")
    assert (
        cli(
            "train",
            str(train_files),
            "--resume",
            "--quiet",
            "--set",
            "total_timesteps=2048",
        )
        == 0
    )
    meta = json.loads((run / "model.json").read_text())
    assert meta["timesteps"] == 2048
    steps = [
        int(row.split(",")[0])
        for row in (run / "learning_curve.csv").read_text().splitlines()[1:]
    ]
    assert steps == sorted(steps) and steps[-1] == 2048 and len(set(steps)) == 8
    with pytest.raises(UserError, match="differs from the recorded run in seed"):
        cli("train", str(train_files), "--resume", "--quiet", "--set", "seed=9")


def test_train_resume_alone_finishes_the_recorded_length(train_files, capsys):
    """``train --resume --out DIR`` continues the recorded run (issue 16, item 1).

    The run is planned with an override; the hint needs no flag, never lowers
    the planned timesteps, and a lower explicit count than trained is refused.
    """
    run = train_files.parent / "run"
    data = yaml.safe_load(train_files.read_text())
    train_files.write_text(yaml.safe_dump(dict(data, total_timesteps=512)))
    args = ("--quiet", "--set", "total_timesteps=1024")
    assert cli("train", str(train_files), *args) == 0
    assert json.loads((run / "run.json").read_text())["overrides"] == [
        "total_timesteps=1024"
    ]
    # As if interrupted after the first checkpoint.
    for name in ("ppo_1024_steps.zip", "ppo_1024_steps.json"):
        (run / "checkpoints" / name).unlink()
    (run / "model.zip").unlink()
    (run / "model.json").unlink()
    with pytest.raises(UserError, match="512 timesteps are already trained"):
        cli("train", "--resume", "--out", str(run), "--set", "total_timesteps=256")
    with pytest.raises(UserError, match="exclude each other"):
        cli("train", "--resume", "--overwrite", "--out", str(run))
    assert cli("train", "--resume", "--out", str(run), "--quiet") == 0
    assert json.loads((run / "model.json").read_text())["timesteps"] == 1024
    assert json.loads((run / "run.json").read_text())["config"]["total_timesteps"] == (
        1024
    )
    # The config file with its own (smaller) length: still the recorded 1024.
    (run / "checkpoints" / "ppo_1024_steps.zip").unlink()
    assert cli("train", str(train_files), "--resume", "--quiet") == 0
    assert json.loads((run / "model.json").read_text())["timesteps"] == 1024


def test_evaluate_command_prints_ci_next_to_scripted(train_files, capsys):
    cli("train", str(train_files), "--quiet", "--set", "total_timesteps=4096")
    run = train_files.parent / "run"
    capsys.readouterr()
    code = cli(
        "evaluate",
        str(run / "model.zip"),
        "--against",
        str(train_files.parent / "match.yaml"),
        "--episodes",
        "40",
        "--quiet",
    )
    assert code == 0
    out = capsys.readouterr().out
    for name in (
        "learned",
        "random",
        "boulware",
        "linear",
        "conceder",
        "hardliner",
        "tit_for_tat",
    ):
        assert f"| {name} |" in out
    assert "held-out base seed 1000000005" in out
    data = json.loads((run / "evaluation.json").read_text())
    assert data["actor"] == "a" and len(data["scores"]) == 7
    learned = data["scores"][0]
    assert learned["low"] <= learned["mean"] <= learned["high"]


def test_train_config_errors_are_one_line(train_files):
    with pytest.raises(ConfigError, match="learner: unknown actor 'c'"):
        cli("train", str(train_files), "--set", "learner=c")
    with pytest.raises(ConfigError, match="unknown field 'n_env'"):
        load_train_config(train_files, ["n_env=2"])
    with pytest.raises(ConfigError, match="unknown trainer 'ppo'"):
        load_train_config(train_files, ["trainer=ppo"])
    with pytest.raises(ConfigError, match="no match config 'nope.yaml'"):
        cli("train", str(train_files), "--set", "match=nope.yaml")


def test_exploring_proposer_errors_are_one_line():
    off = ["exploring_starts=0", "exploring_offers=0", "exploring_proposer=uniform"]
    with pytest.raises(ConfigError, match="set exploring_starts or exploring_offers"):
        load_train_config("baron-ferejohn-fine-marl", off)
    with pytest.raises(ConfigError, match="'protocol' or 'uniform' \\(got 'first'\\)"):
        load_train_config("baron-ferejohn-fine-marl", ["exploring_proposer=first"])
    config, _ = load_train_config("baron-ferejohn-fine-marl")
    assert config.exploring_proposer == "protocol"  # off unless asked for


def test_exploring_drafts_need_issues_actions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="exploring_drafts starts issues proposals"):
        cli(
            "train",
            "baron-ferejohn-fine-nash-marl",
            "--set",
            "exploring_drafts=0.5",
        )
    assert not (tmp_path / "runs").exists()  # refused before any run folder
    with pytest.raises(ConfigError, match="exploring_drafts"):
        load_train_config("baron-ferejohn-finest-marl", ["exploring_drafts=1.5"])
    config, _ = load_train_config("baron-ferejohn-finest-marl")
    assert config.exploring_drafts == 0.0  # off unless asked for


def test_accepting_voters_is_a_count_of_iterations():
    with pytest.raises(ConfigError, match="accepting_voters"):
        load_train_config("baron-ferejohn-fine-nash-marl", ["accepting_voters=-1"])
    config, _ = load_train_config("baron-ferejohn-fine-nash-marl")
    assert config.accepting_voters == 0  # off unless asked for
    config, _ = load_train_config(
        "baron-ferejohn-fine-nash-marl", ["accepting_voters=20"]
    )
    assert config.accepting_voters == 20


def test_missing_train_extra_names_the_install(monkeypatch):
    import sys

    from peacegame.train.deps import require_ray, require_sb3

    monkeypatch.setitem(sys.modules, "sb3_contrib", None)
    with pytest.raises(UserError, match=r"pip install 'peacegame\[train\]'"):
        require_sb3()
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r"pip install 'peacegame\[ray\]'"):
        require_ray()


def test_shipped_train_configs_validate():
    from peacegame.resources import data_root
    from peacegame.train.config import describe_file, load_sweep_config

    for name in ("ukraine-vs-scripted", "self-play", "all-actors-rllib"):
        config, file = load_train_config(name)
        assert config.name == name
        assert describe_file(file).startswith(f"train {name!r}")
    sweep, file = load_sweep_config("sweep")
    assert "ppo.learning_rate" in sweep.param_space
    assert describe_file(file).startswith("sweep")
    assert (data_root() / "configs" / "train" / "sweep.yaml").is_file()


# ------------------------------------------------------------------ self-play
def test_self_play_trains_each_actor_against_frozen_snapshots(train_files, capsys):
    config = yaml.safe_load(train_files.read_text())
    config.pop("learner")
    config.pop("total_timesteps")
    config.pop("checkpoint_every")
    config.update(
        trainer="self_play",
        actors=["b", "a"],
        rounds=1,
        timesteps_per_turn=256,
        eval_episodes=10,
        output=str(train_files.parent / "sp"),
    )
    path = train_files.parent / "self-play.yaml"
    path.write_text(yaml.safe_dump(config))
    assert cli("train", str(path), "--quiet") == 0
    sp = train_files.parent / "sp"
    b = json.loads((sp / "snapshots" / "round0_b.json").read_text())
    a = json.loads((sp / "snapshots" / "round0_a.json").read_text())
    assert b["actor"] == "b" and b["round"] == 0 and b["turn"] == 0
    assert b["opponents"] == {"a": {"policy": "linear"}}
    # a trained against b's frozen snapshot.
    assert a["opponents"]["b"]["policy"] == "learned"
    assert a["opponents"]["b"]["checkpoint"].endswith("round0_b.zip")
    assert set(a["evaluation"]) >= {"reward_before", "reward_after"}
    final = yaml.safe_load((sp / "final-match.yaml").read_text())
    assert final["policies"]["a"]["checkpoint"] == "snapshots/round0_a.zip"
    result = run_config_file(
        sp / "final-match.yaml",
        ["episodes=5"],
        run_dir=sp / "final-run",
        progress=False,
        fsync=False,
    )
    assert len(result.records) == 5
    out = capsys.readouterr().out
    assert "before" in out and "final-match.yaml" in out


def test_self_play_resume_never_drops_trained_rounds(train_files, capsys):
    config = yaml.safe_load(train_files.read_text())
    for key in ("learner", "total_timesteps", "checkpoint_every"):
        config.pop(key)
    config.update(
        trainer="self_play",
        rounds=2,
        timesteps_per_turn=256,
        eval_episodes=4,
        output=str(train_files.parent / "sp"),
    )
    path = train_files.parent / "self-play.yaml"
    path.write_text(yaml.safe_dump(config))
    assert cli("train", str(path), "--quiet") == 0
    run_file = train_files.parent / "sp" / "run.json"
    before = run_file.read_bytes()
    capsys.readouterr()
    from peacegame.cli import main

    sp = str(train_files.parent / "sp")
    code = main(["train", "--resume", "--out", sp, "--set", "rounds=1"])
    err = capsys.readouterr().err
    assert code == 2 and "2 rounds are already trained" in err
    assert run_file.read_bytes() == before


def test_subproc_vec_env_with_a_frozen_learned_opponent(tmp_path):
    from peacegame.train.sb3_adapter import make_vec_env

    b_spec = LearnerSpec(
        scenario=compile_dict(dollar()),
        protocol=ProtocolConfig(**PROTOCOL),
        learner="b",
        opponents={"a": {"policy": "random"}},
    )
    frozen = learn(
        spec=b_spec,
        ppo=FAST_PPO,
        total_timesteps=256,
        n_envs=2,
        vec_env="dummy",
        seed=0,
        torch_threads=1,
        out_dir=tmp_path,
        tensorboard=False,
        progress=False,
    ).model_path
    a_spec = LearnerSpec(
        scenario=compile_dict(dollar()),
        protocol=ProtocolConfig(**PROTOCOL),
        learner="a",
        opponents={"b": {"policy": "learned", "checkpoint": str(frozen)}},
    )
    venv = make_vec_env(a_spec, 2, "subproc", seed=1)
    try:
        obs = venv.reset()
        size = Rules(a_spec.scenario, a_spec.protocol).observation_size
        assert obs.shape == (2, size)
        masks = np.stack(venv.env_method("action_masks"))
        assert masks.shape == (2, 14) and masks[:, :11].all()
        obs, rewards, dones, infos = venv.step(np.array([9, 9]))
        assert rewards.shape == (2,)
    finally:
        venv.close()


def test_sigkill_during_training_then_resume_completes(train_files):
    """A training run killed mid-way resumes from its last checkpoint."""
    import signal
    import subprocess
    import sys
    import time

    data = yaml.safe_load(train_files.read_text())
    data["total_timesteps"] = 8192
    train_files.write_text(yaml.safe_dump(data))
    run = train_files.parent / "run"
    cmd = [sys.executable, "-m", "peacegame.cli", "train", str(train_files), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = run / "checkpoints" / "ppo_1024_steps.json"
    deadline = time.time() + 120
    while time.time() < deadline and not first.exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.exists(), proc.stderr.read().decode() if proc.stderr else ""
    assert not (run / "model.json").exists()  # it did not finish
    assert cli("train", str(train_files), "--resume", "--quiet") == 0
    meta = json.loads((run / "model.json").read_text())
    assert meta["timesteps"] == 8192
    rows = (run / "learning_curve.csv").read_text().splitlines()[1:]
    steps = [int(row.split(",")[0]) for row in rows]
    assert steps == sorted(set(steps))  # nothing duplicated
    assert steps[-1] == 8192


# ------------------------------------------- checkpoints of other interfaces
@pytest.fixture(scope="module", params=["utility", "issues"])
def trained_interface(request, tmp_path_factory) -> tuple[str, Path]:
    """A MaskablePPO ``a`` trained in ``utility`` (6 bins) or ``issues`` actions."""
    actions = request.param
    out = tmp_path_factory.mktemp(f"dollar-{actions}")
    result = learn(
        spec=spec({**PROTOCOL, "actions": actions, "utility_bins": 6}),
        ppo=FAST_PPO,
        total_timesteps=4096,
        n_envs=4,
        vec_env="dummy",
        seed=0,
        torch_threads=1,
        out_dir=out,
        checkpoint_every=4096,
        progress=False,
    )
    return actions, result.model_path


def test_each_interface_learns_the_known_best_offer(trained_interface):
    """The same 4,096-step run as the flat action's, in ``utility`` (the 0.6
    bin proposes exactly 60-40) and ``issues`` actions (level s6): the learner
    reaches the optimum 0.6 against the hardliner that keeps at least 0.4."""
    actions, model = trained_interface
    protocol = {**PROTOCOL, "actions": actions, "utility_bins": 6}
    learned = mean_reward(
        {"policy": "learned", "checkpoint": str(model)}, protocol=protocol
    )
    random = mean_reward({"policy": "random"}, protocol=protocol)
    assert learned == pytest.approx(0.6, abs=0.02)
    assert learned > random + 0.2


def test_interface_checkpoint_plays_in_a_match_config(trained_interface, tmp_path):
    """A ``utility``/``issues`` checkpoint plays concrete moves in a match.

    Its best move is known (propose a = 0.6 to the hardliner: ``utility`` bin
    3 of 6 targets 0.6), and its moves through the match equal the model's own
    ``predict`` on the training adapter's observations and masks.
    """
    actions, model = trained_interface
    meta = json.loads(model.with_suffix(".json").read_text())
    assert meta["actions"] == actions
    assert meta["n_actions"] == (9 if actions == "utility" else 14)
    scenario = tmp_path / "dollar.yaml"
    scenario.write_text(yaml.safe_dump(dollar()))
    (tmp_path / "model.zip").write_bytes(model.read_bytes())
    (tmp_path / "model.json").write_bytes(model.with_suffix(".json").read_bytes())
    config = tmp_path / "learned-match.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "learned-match",
                "scenario": "dollar.yaml",
                "protocol": PROTOCOL,  # concrete actions: the policy translates
                "policies": {
                    "a": {"policy": "learned", "checkpoint": "model.zip"},
                    "b": OPPONENT,
                },
                "episodes": 20,
            }
        )
    )
    result = run_config_file(
        config, run_dir=tmp_path / "run", progress=False, fsync=False
    )
    assert len(result.records) == 20
    rewards = [r["reward"]["a"] for r in result.records]
    assert np.mean(rewards) == pytest.approx(0.6, abs=0.05)


def _moves_equal_the_models_own(model_path, scenario: dict, actions: str) -> int:
    """Play the checkpoint as a policy in the AEC env (concrete actions) and in
    the training adapter (interface actions) side by side; return moves checked.
    """
    from sb3_contrib import MaskablePPO

    from peacegame.env import NegotiationEnv

    model = MaskablePPO.load(model_path, device="cpu")
    protocol = {"max_rounds": 4, "proposer": "random"}
    learner = LearnerEnv(
        LearnerSpec(
            scenario=compile_dict(scenario),
            protocol=ProtocolConfig(**protocol, actions=actions, utility_bins=6),
            learner="a",
            opponents={"b": OPPONENT},
        )
    )
    policy = LearnedPolicy(model_path)
    env = NegotiationEnv(scenario=compile_dict(scenario), **protocol)
    view = make_view(env.protocol, "a", env.record)
    opponent = make_policy({"policy": "random"})
    rng = np.random.default_rng(0)
    checked = substeps = 0
    for seed in range(60):
        env.reset(seed=seed)
        policy.reset("a", view, rng)
        opponent.reset("b", make_view(env.protocol, "b", env.record), rng)
        # The adapter's game replays the same moves: its observation and mask
        # give the model's own prediction, as in training.
        learner.game.reset(seed=seed)
        learner.translator.reset()
        while not (env.terminations["a"] or env.truncations["a"]):
            agent = env.agent_selection
            if agent == "b":
                action = opponent.act(env.observe("b"), env.infos["b"])
                learner.game.step(action)
                env.step(action)
                continue
            while True:  # the sub-steps of an issues proposal, in the adapter
                obs, mask = learner._observation(), learner.action_masks()
                choice, _ = model.predict(obs, action_masks=mask, deterministic=True)
                expected = learner.translator.translate(0, int(choice))
                if expected >= 0:
                    break
                substeps += 1
            got = policy.act(env.observe("a"), env.infos["a"])
            assert got == expected
            assert env.observe("a")["action_mask"][got] == 1
            learner.game.step(got)
            env.step(got)
            checked += 1
    if actions == "issues" and len(scenario["issues"]) > 1:
        assert substeps > 0
    return checked


def test_interface_checkpoint_moves_equal_the_models_own(trained_interface):
    actions, model_path = trained_interface
    assert _moves_equal_the_models_own(model_path, dollar(), actions) > 60


def test_issues_checkpoint_takes_its_substeps_inside_one_act(tmp_path):
    """Two issues: a proposal is two sub-steps of the model, one concrete move."""
    scenario = dollar()
    scenario["issues"].append(
        {"name": "venue", "levels": [{"name": v} for v in ("geneva", "oslo", "rome")]}
    )
    result = learn(
        spec=LearnerSpec(
            scenario=compile_dict(scenario),
            protocol=ProtocolConfig(**PROTOCOL, actions="issues"),
            learner="a",
            opponents={"b": OPPONENT},
        ),
        ppo=FAST_PPO,
        total_timesteps=256,
        n_envs=2,
        vec_env="dummy",
        seed=0,
        torch_threads=1,
        out_dir=tmp_path,
        checkpoint_every=4096,
        progress=False,
    )
    assert _moves_equal_the_models_own(result.model_path, scenario, "issues") > 60


def test_interface_checkpoint_errors_are_one_line(trained_interface):
    from peacegame.engine.record import PublicRecord

    actions, model = trained_interface
    rules = Rules(compile_dict(dollar()), ProtocolConfig(**PROTOCOL))
    view = make_view(rules, "a", PublicRecord(2, rules.max_rounds))
    bare = __import__("dataclasses").replace(view, translators=None)
    with pytest.raises(ConfigError, match=f"acts in '{actions}' actions"):
        LearnedPolicy(model).reset("a", bare, None)
    LearnedPolicy(model).reset("a", view, None)  # a view with translators: fine
