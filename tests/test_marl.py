"""The multi-agent trainer: every actor learns on kernel slots; it resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torchrl")

from peacegame.engine import ProtocolConfig  # noqa: E402
from peacegame.scenario import load_compiled  # noqa: E402
from peacegame.train.marl import MarlSettings, MultiAgentTrainer, train  # noqa: E402

TINY = MarlSettings(num_envs=32, rollout_steps=4, epochs=1, minibatch=256)


@pytest.mark.parametrize("actions", ["outcome", "utility", "issues"])
def test_every_actor_learns_under_each_interface(actions):
    trainer = MultiAgentTrainer(
        load_compiled(None), ProtocolConfig(actions=actions), TINY
    )
    stats = trainer.train_iteration()
    assert stats.decisions > 0
    report = trainer.evaluate(episodes=16)
    assert 0.0 <= report["agreement"] <= 1.0
    assert set(report["mean_reward"]) == set(trainer.rules.actors)


def test_training_resumes_from_its_checkpoint(tmp_path):
    scenario = load_compiled(None)
    protocol = ProtocolConfig(actions="utility", information="public")
    train(scenario, protocol, TINY, 1, tmp_path, log=lambda _: None)
    first = MultiAgentTrainer(scenario, protocol, TINY)
    first.load(tmp_path / "marl.pt")
    assert first.iteration == 1
    train(scenario, protocol, TINY, 2, tmp_path, log=lambda _: None)
    lines = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [1, 2]


def _play_through_aec_env(trainer, protocol, keys):
    """Play the trainer's policy nets greedily through the PettingZoo AEC env."""
    import numpy as np
    import torch
    from torchrl.modules import MaskedCategorical

    from peacegame.env import NegotiationEnv

    env = NegotiationEnv(trainer.scenario, protocol=protocol)
    rewards, ends = [], []
    for key in keys:
        env.reset(seed=int(key))
        final = {}
        for agent in env.agent_iter():
            obs, reward, term, trunc, info = env.last()
            if term or trunc:
                final[agent] = reward
                env.step(None)
                continue
            i = env.agent_name_mapping[agent]
            with torch.no_grad():
                logits = trainer.learners[i].policy_net(
                    torch.from_numpy(obs["observation"])[None]
                )
            mask = torch.from_numpy(obs["action_mask"].astype(bool))[None]
            env.step(int(MaskedCategorical(logits=logits, mask=mask).mode[0]))
        rewards.append([final[a] for a in env.possible_agents])
        ends.append((info["outcome"], info["round"]))
    return np.array(rewards), ends


@pytest.mark.parametrize("actions", ["outcome", "utility", "issues"])
def test_greedy_evaluation_equals_the_same_nets_in_the_aec_env(actions):
    """Held-out greedy play in the kernel slots == the nets through the AEC env.

    A random proposer and breakdowns make the episodes differ by seed, and a
    trained iteration makes the nets differ by actor, so a wrong slot, seed,
    mask or observation row shows up as a different episode.
    """
    import numpy as np

    from peacegame.engine import episode_seeds
    from peacegame.engine.config import AGREEMENT
    from peacegame.engine.rules import C_END, C_OFFER, C_ROUND

    protocol = ProtocolConfig(
        actions=actions,
        information="public",
        proposer="random",
        breakdown_prob=0.15,
        max_rounds=6,
    )
    trainer = MultiAgentTrainer(load_compiled(None), protocol, TINY)
    trainer.train_iteration()
    episodes, seed = 24, 10**6
    played = trainer.play(episodes, seed)
    keys = episode_seeds(seed, np.arange(episodes))
    env_rewards, env_ends = _play_through_aec_env(trainer, protocol, keys)
    np.testing.assert_allclose(played.rewards, env_rewards, atol=1e-12)
    agreed = played.state[:, C_END] == AGREEMENT
    outcomes = np.where(agreed, played.state[:, C_OFFER], -1)
    assert outcomes.tolist() == [outcome for outcome, _ in env_ends]
    rounds = played.state[:, C_ROUND].tolist()
    assert rounds == [round_index for _, round_index in env_ends]
    assert len(set(rounds)) > 1  # the seeds matter
    report = trainer.evaluate(episodes, seed)
    assert report["agreement"] == pytest.approx(agreed.mean())
    for i, actor in enumerate(trainer.rules.actors):
        assert report["mean_reward"][actor] == pytest.approx(
            env_rewards[:, i].mean(), abs=1e-4
        )


def test_evaluation_leaves_training_state_alone():
    """Evaluating between iterations changes nothing in the training run."""
    import numpy as np
    import torch

    scenario, protocol = load_compiled(None), ProtocolConfig(actions="utility")
    runs = []
    for evaluate in (False, True):
        trainer = MultiAgentTrainer(scenario, protocol, TINY)
        trainer.train_iteration()
        if evaluate:
            trainer.evaluate(episodes=8)
            trainer.evaluate(episodes=8, sample=True)
        stats = trainer.train_iteration()
        weights = torch.cat(
            [p.flatten() for p in trainer.learners[0].policy_net.parameters()]
        )
        runs.append((stats.mean_reward, trainer.episodes.state.copy(), weights))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert torch.equal(runs[0][2], runs[1][2])


def test_sampled_evaluation_is_reproducible_and_differs_from_greedy():
    trainer = MultiAgentTrainer(
        load_compiled(None), ProtocolConfig(actions="utility"), TINY
    )
    greedy = trainer.evaluate(episodes=64)
    first = trainer.evaluate(episodes=64, sample=True)
    assert first == trainer.evaluate(episodes=64, sample=True)
    # Rotating proposer, no breakdown: greedy play is one trajectory.
    assert greedy["distinct_outcomes"] == 1
    assert first["distinct_outcomes"] > 1


@pytest.mark.parametrize("actions", ["utility", "issues"])
def test_exported_policies_play_in_a_match_as_in_the_trainer(tmp_path, actions):
    """``export`` writes learned-policy checkpoints (``.pt``, backend torch);
    a match of concrete actions plays them (the policy translates) and every
    episode ends as the trainer's own greedy play on the same seeds."""
    import numpy as np

    from peacegame.engine.config import AGREEMENT
    from peacegame.engine.rules import C_END, C_OFFER, C_ROUND
    from peacegame.match import EpisodePlayer
    from peacegame.match_config import MatchConfig

    protocol = ProtocolConfig(
        actions=actions, proposer="random", breakdown_prob=0.15, max_rounds=6
    )
    scenario = load_compiled(None)
    trainer = MultiAgentTrainer(scenario, protocol, TINY)
    trainer.train_iteration()
    paths = trainer.export(tmp_path / "modules")
    meta = json.loads(paths[0].with_suffix(".json").read_text())
    assert (meta["backend"], meta["actor"], meta["network"]["hidden"]) == (
        "torch",
        "russia",
        [TINY.hidden, TINY.hidden],
    )
    config = MatchConfig(
        name="learned",
        scenario="ukraine-2025",
        protocol=protocol.model_copy(update={"actions": "outcome"}),
        policies={
            actor: {"policy": "learned", "checkpoint": str(path)}
            for actor, path in zip(trainer.rules.actors, paths, strict=True)
        },
        seed=7,
        log_events="none",
    )
    player = EpisodePlayer(config, scenario)
    episodes = 24
    played = trainer.play(episodes, 7)
    agreed = played.state[:, C_END] == AGREEMENT
    records = [player.play(i) for i in range(episodes)]
    assert [r["round"] for r in records] == played.state[:, C_ROUND].tolist()
    assert [r["outcome"] if r["agreement"] else -1 for r in records] == np.where(
        agreed, played.state[:, C_OFFER], -1
    ).tolist()
    for i, actor in enumerate(trainer.rules.actors):
        np.testing.assert_allclose(
            [r["reward"][actor] for r in records], played.rewards[:, i], atol=1e-6
        )
    assert len({r["round"] for r in records}) > 1  # the seeds matter


def test_peacegame_train_runs_the_marl_trainer_and_resumes(tmp_path, capsys):
    from peacegame.cli import main

    out = tmp_path / "run"
    tiny = [
        "--set",
        "num_envs=16",
        "--set",
        "rollout_steps=2",
        "--set",
        "eval_every=0",
        "--set",
        "ppo.minibatch=128",
        "--out",
        str(out),
        "--quiet",
    ]
    config = "configs/train/all-actors-marl.yaml"
    assert main(["train", config, "--set", "iterations=1", *tiny]) == 0
    assert {
        "run.json",
        "marl.pt",
        "progress.jsonl",
        "evaluation.json",
        "final-match.yaml",
    } <= {p.name for p in out.iterdir()}
    assert sorted(p.name for p in (out / "modules").glob("*.pt")) == [
        "china.pt",
        "eu.pt",
        "russia.pt",
        "ukraine.pt",
        "us.pt",
    ]
    # The final match plays every learned policy (its own one-line command).
    played = tmp_path / "final"
    final = ["run", str(out / "final-match.yaml"), "--out", str(played)]
    assert main([*final, "--episodes", "4", "--quiet", "--no-plots"]) == 0
    assert len((played / "episodes.jsonl").read_text().splitlines()) == 4
    report = json.loads((out / "evaluation.json").read_text())
    assert set(report["greedy"]["mean_reward"]) == {
        "russia",
        "china",
        "ukraine",
        "us",
        "eu",
    }
    capsys.readouterr()
    # A second run into the same folder is refused, in one line, exit code 2.
    assert main(["train", config, "--set", "iterations=1", *tiny]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", config, "--set", "iterations=2", *tiny, "--resume"]) == 0
    lines = (out / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [1, 2]
    capsys.readouterr()
    # A resume never lowers the planned count below what is trained.
    assert main(["train", config, "--set", "iterations=1", *tiny, "--resume"]) == 2
    assert "trained" in capsys.readouterr().err


POOL = [{"policy": "conceder", "e": 2.0}, "tit_for_tat", "nash_mediator"]


@pytest.mark.parametrize("actions", ["outcome", "utility"])
def test_scripted_opponents_in_trainer_slots_play_as_in_a_match(tmp_path, actions):
    """Scripted actors among the learners (``step_all`` then their turns, a
    scripted first mover advanced at the start) play as the same strategies
    in a match of the exported learners: every episode ends the same."""
    import numpy as np
    import torch

    from peacegame.engine.config import AGREEMENT
    from peacegame.engine.rules import C_END, C_OFFER, C_ROUND
    from peacegame.match import EpisodePlayer
    from peacegame.match_config import MatchConfig
    from peacegame.policies import make_policy

    protocol = ProtocolConfig(
        actions=actions,
        proposer="random",
        breakdown_prob=0.1,
        max_rounds=12,
        information="public",
    )
    scenario = load_compiled(None)
    trainer = MultiAgentTrainer(scenario, protocol, TINY)
    trainer.train_iteration()
    with torch.no_grad():  # learners that accept every offer: deals happen
        for learner in trainer.learners:
            learner.policy_net[-1].bias[trainer.iface.accept_action] += 20.0
    paths = trainer.export(tmp_path / "modules")
    actors = trainer.rules.actors
    specs = {"russia": POOL[0], "ukraine": POOL[1], "eu": POOL[2]}
    policies = {
        actor: specs.get(actor, {"policy": "learned", "checkpoint": str(path)})
        for actor, path in zip(actors, paths, strict=True)
    }
    config = MatchConfig(
        name="mixed",
        scenario="ukraine-2025",
        protocol=protocol.model_copy(update={"actions": "outcome"}),
        policies=policies,
        seed=11,
        log_events="none",
    )
    strategies = [
        make_policy(specs[a]).strategy() if a in specs else None for a in actors
    ]
    episodes = 64
    played = trainer.play(episodes, 11, strategies=strategies)
    records = [EpisodePlayer(config, scenario).play(i) for i in range(episodes)]
    agreed = played.state[:, C_END] == AGREEMENT
    assert [r["round"] for r in records] == played.state[:, C_ROUND].tolist()
    assert [r["outcome"] if r["agreement"] else -1 for r in records] == np.where(
        agreed, played.state[:, C_OFFER], -1
    ).tolist()
    for i, actor in enumerate(actors):
        np.testing.assert_allclose(
            [r["reward"][actor] for r in records], played.rewards[:, i], atol=1e-6
        )
    # Not vacuous: the seeds matter, scripted proposers moved first in some
    # episodes, and some episodes were agreed.
    assert len({r["round"] for r in records}) > 1
    assert agreed.sum() > 0


def _pool_opponents(redraw_every: int):
    from peacegame.policies import make_policy
    from peacegame.train.marl import Opponents

    pool = tuple(make_policy(spec).strategy() for spec in POOL)
    return Opponents(share=0.5, pool=pool, groups=5, redraw_every=redraw_every)


def test_opponent_groups_hold_the_drawn_strategies():
    """Each opponent group's plan is its assignment: the focal role and the
    roles drawn as the learner are external, the others scripted; the draws
    follow the seed and the redraw count."""
    protocol = ProtocolConfig(actions="utility", information="public")
    opponents = _pool_opponents(2)
    trainer = MultiAgentTrainer(load_compiled(None), protocol, TINY, opponents)
    lo, hi, learners = trainer.groups[0]
    assert (lo, hi) == (0, 16) and all(learners.external)
    assert len(trainer.groups) == 1 + 5
    for g, ((lo, hi, ep), assignment) in enumerate(
        zip(trainer.groups[1:], trainer.assignments, strict=True)
    ):
        assert assignment[g % 5] == -1  # the focal learner
        assert ep.external == tuple(k < 0 for k in assignment)
        assert (trainer.learning[lo:hi] == [k < 0 for k in assignment]).all()
    assert sum(hi - lo for lo, hi, _ in trainer.groups) == TINY.num_envs
    first = list(trainer.assignments)
    assert opponents.draw(TINY.seed, 5, 0) == first
    assert opponents.draw(TINY.seed, 5, 1) != first
    trainer.train_iteration()
    assert trainer.assignments == first
    trainer.train_iteration()  # iteration 2: a redraw
    assert trainer.assignments == opponents.draw(TINY.seed, 5, 1)


def test_resume_with_opponents_equals_an_uninterrupted_run(tmp_path):
    """Stopped at a redraw (iteration 2) and resumed to 3, the run equals one
    trained to 3 at once: weights, slots, drafts and the opponents' draws."""
    import numpy as np
    import torch

    scenario = load_compiled(None)
    protocol = ProtocolConfig(
        actions="utility", information="public", proposer="random"
    )

    def run(folder, plan):
        for iterations in plan:
            trainer = train(
                scenario,
                protocol,
                TINY,
                iterations,
                folder,
                log=lambda _: None,
                opponents=_pool_opponents(2),
            )
        return trainer, torch.load(folder / "marl.pt", weights_only=True)

    resumed, left = run(tmp_path / "a", [2, 3])
    whole, right = run(tmp_path / "b", [3])
    assert resumed.assignments == whole.assignments
    for x, y in zip(left["learners"], right["learners"], strict=True):
        for key, tensor in x["policy"].items():
            assert torch.equal(tensor, y["policy"][key]), key
    for name, array in left["slots"].items():  # NaN: no memory yet, equal
        np.testing.assert_array_equal(array, right["slots"][name], err_msg=name)
    lines = [
        json.loads(line)
        for line in (tmp_path / "a" / "progress.jsonl").read_text().splitlines()
    ]
    assert [line["iteration"] for line in lines] == [1, 2, 3]
    assert sum(line["extra"]["pool"]["episodes"] for line in lines) > 0


@pytest.mark.parametrize(
    ("sets", "field", "words"),
    [
        (["opponents.pool=[boulwar]"], "opponents.pool[0].policy", "boulware"),
        (
            ["opponents.pool=[{policy: learned, checkpoint: x.pt}]"],
            "opponents.pool[0].policy",
            "not a built-in scripted strategy",
        ),
        (
            ["opponents.pool=[{policy: hardliner, level: 2}]"],
            "opponents.pool[0].level",
            "1",
        ),
        (["opponents.groups=600"], "opponents.groups", "do not fit"),
        (["opponents.share=1.5"], "opponents.share", "1"),
        (["opponents.pool=[]"], "opponents.pool", "at least 1"),
        (["opponents.sharee=0.5"], "opponents.sharee", "did you mean 'share'"),
    ],
)
def test_opponents_config_errors_are_one_line_naming_the_field(
    tmp_path, capsys, sets, field, words
):
    from peacegame.cli import main

    argv = ["train", "configs/train/all-actors-pool-marl.yaml", "--quiet"]
    argv += ["--out", str(tmp_path / "run"), "--set", "iterations=1"]
    for assignment in sets:
        argv += ["--set", assignment]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert field in err and words in err, err
    assert not (tmp_path / "run" / "marl.pt").exists()


def test_average_from_exports_the_mean_of_the_policy_weights(tmp_path):
    """``average_from``: the mean of the weights after iterations 2 to 4."""
    from dataclasses import replace

    import torch

    scenario, protocol = load_compiled(None), ProtocolConfig(actions="utility")
    plain = MultiAgentTrainer(scenario, protocol, TINY)
    snapshots = []
    for _ in range(4):
        plain.train_iteration()
        snapshots.append(
            [
                {k: v.clone() for k, v in learner.policy_net.state_dict().items()}
                for learner in plain.learners
            ]
        )
    averaged = MultiAgentTrainer(scenario, protocol, replace(TINY, average_from=2))
    for _ in range(4):
        averaged.train_iteration()
    # The average is kept aside: training itself is the same run.
    for mine, theirs in zip(averaged.learners, plain.learners, strict=True):
        for a, b in zip(
            mine.policy_net.parameters(), theirs.policy_net.parameters(), strict=True
        ):
            assert torch.equal(a, b)
    averaged.use_average()
    for actor, learner in enumerate(averaged.learners):
        for name, value in learner.policy_net.state_dict().items():
            mean = sum(snapshots[k][actor][name] for k in (1, 2, 3)) / 3
            torch.testing.assert_close(value, mean)
            assert not torch.allclose(value, snapshots[3][actor][name])
    # Resumed from a checkpoint, the average goes on as in an unbroken run.
    settings = replace(TINY, average_from=2)
    train(scenario, protocol, settings, 3, tmp_path, log=lambda _: None)
    resumed = train(scenario, protocol, settings, 4, tmp_path, log=lambda _: None)
    resumed.use_average()
    for mine, theirs in zip(resumed.learners, averaged.learners, strict=True):
        for a, b in zip(
            mine.policy_net.parameters(), theirs.policy_net.parameters(), strict=True
        ):
            assert torch.equal(a, b)


def test_anneal_until_lowers_the_step_size_and_entropy_bonus_linearly(tmp_path):
    """``ppo.anneal_until``: iteration i updates at (1 - i/N) of the lr.

    With ``anneal_entropy`` the entropy bonus follows; with N = 2 the third
    iteration's update (i = 2) moves no weight, and a run resumed from its
    checkpoint anneals as an unbroken one. Without it the bonus stays.
    """
    from dataclasses import replace

    import torch

    from peacegame.train.marl import anneal_factor

    assert [anneal_factor(i, 4) for i in range(6)] == [1.0, 0.75, 0.5, 0.25, 0, 0]
    assert anneal_factor(7, 0) == 1.0
    scenario, protocol = load_compiled(None), ProtocolConfig(actions="utility")
    settings = replace(
        TINY, anneal_until=2, anneal_entropy=True, learning_rate=1e-3, entropy=0.02
    )
    trainer = MultiAgentTrainer(scenario, protocol, settings)
    seen = []
    for _ in range(3):
        before = [
            [p.clone() for p in learner.policy_net.parameters()]
            for learner in trainer.learners
        ]
        trainer.train_iteration()
        learner = trainer.learners[0]
        seen.append(
            (
                learner.optimizer.param_groups[0]["lr"],
                float(learner.loss.entropy_coeff),
            )
        )
        moved = any(
            not torch.equal(a, b)
            for old, new in zip(before, trainer.learners, strict=True)
            for a, b in zip(old, new.policy_net.parameters(), strict=True)
        )
        assert moved == (len(seen) < 3)
    assert seen[0] == pytest.approx((1e-3, 0.02))
    assert seen[1] == pytest.approx((5e-4, 0.01))
    assert seen[2] == (0.0, 0.0)
    train(scenario, protocol, settings, 1, tmp_path, log=lambda _: None)
    resumed = train(scenario, protocol, settings, 3, tmp_path, log=lambda _: None)
    for mine, theirs in zip(resumed.learners, trainer.learners, strict=True):
        for a, b in zip(
            mine.policy_net.parameters(), theirs.policy_net.parameters(), strict=True
        ):
            assert torch.equal(a, b)

    lr_only = MultiAgentTrainer(
        scenario, protocol, replace(settings, anneal_entropy=False)
    )
    lr_only.train_iteration()
    lr_only.train_iteration()
    learner = lr_only.learners[0]
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert float(learner.loss.entropy_coeff) == pytest.approx(0.02)


def test_anneal_entropy_without_a_schedule_is_a_config_error():
    from pydantic import ValidationError

    from peacegame.train.config import MarlPPOParams

    with pytest.raises(ValidationError, match="anneal_until"):
        MarlPPOParams(anneal_entropy=True)


def _past_trainer(share: float = 1.0, **changes):
    from dataclasses import replace

    settings = replace(TINY, past_share=share, past_every=1, past_keep=2, **changes)
    scenario = load_compiled(None)
    return MultiAgentTrainer(scenario, ProtocolConfig(actions="outcome"), settings)


def test_past_selves_move_for_the_others_and_only_the_learner_records():
    """``past_selves``: one learner per slot; the others play their snapshots."""
    import torch

    trainer = _past_trainer()
    assert [len(nets) for nets in trainer.snapshots] == [1] * trainer.n
    # Exactly one learner per past-self slot, drawn per episode.
    assert ((trainer.driver < 0).sum(axis=1) == 1).all()
    assert len(set((trainer.driver < 0).argmax(axis=1).tolist())) > 1
    reject = trainer.rules.reject_action
    for nets in trainer.snapshots:  # a past self that always rejects
        last = [m for m in nets[0].modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.zero_()
            last.bias[reject] = 50.0
    voted = 0
    for _ in range(8):
        actions, records = trainer._act()
        movers = trainer.masks.any(axis=2)
        voting = trainer.masks[:, :, reject].astype(bool)
        past = (trainer.driver >= 0) & movers
        assert (actions[past & voting] == reject).all()
        voted += int((past & voting).sum())
        for i, record in enumerate(records):
            if record is not None:
                assert (trainer.driver[record[0], i] < 0).all()
        trainer._step(actions)
        trainer._observe()
    assert voted > 0


def test_past_selves_resume_as_an_unbroken_run(tmp_path):
    import torch

    scenario, protocol = load_compiled(None), ProtocolConfig(actions="utility")
    from dataclasses import replace

    settings = replace(TINY, past_share=0.5, past_every=1, past_keep=2)
    whole = MultiAgentTrainer(scenario, protocol, settings)
    for _ in range(3):
        whole.train_iteration()
    assert [len(nets) for nets in whole.snapshots] == [4] * whole.n
    report = whole.evaluate(episodes=40)  # more episodes than slots: learners only
    assert set(report["mean_reward"]) == set(whole.rules.actors)
    train(scenario, protocol, settings, 1, tmp_path, log=lambda _: None)
    resumed = train(scenario, protocol, settings, 3, tmp_path, log=lambda _: None)
    assert (resumed.driver == whole.driver).all()
    for mine, theirs in zip(resumed.learners, whole.learners, strict=True):
        for a, b in zip(
            mine.policy_net.parameters(), theirs.policy_net.parameters(), strict=True
        ):
            assert torch.equal(a, b)
    for mine, theirs in zip(resumed.snapshots, whole.snapshots, strict=True):
        for a, b in zip(mine[-1].parameters(), theirs[-1].parameters(), strict=True):
            assert torch.equal(a, b)


def _force_votes(net, action: int) -> None:
    """Make a policy network pick ``action`` whenever it votes."""
    import torch

    last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        last.bias[action] = 50.0


def test_nash_weighted_past_selves_follow_the_meta_game():
    """``weights: nash`` in Baron-Ferejohn (unanimity, no-deal 0, random
    proposals): the payoff table is the profiles' play (all rejecting: 0 for
    everyone; all accepting: a uniform grid point at once, 1/3 each by the
    grid's symmetry), the mixture is an equilibrium of that table, and the
    past selves are drawn by it (the uniform rule draws both members)."""
    from dataclasses import replace

    scenario = load_compiled("configs/scenarios/textbook/baron-ferejohn-fine.yaml")
    settings = replace(
        TINY,
        past_share=1.0,
        past_every=1,
        past_keep=2,
        past_weights="nash",
        past_games=256,
    )
    trainer = MultiAgentTrainer(scenario, ProtocolConfig(actions="outcome"), settings)
    trainer._snapshot()
    for nets in trainer.snapshots:  # the oldest rejects, the newest accepts
        _force_votes(nets[0], trainer.rules.reject_action)
        _force_votes(nets[1], trainer.rules.accept_action)
    report = trainer.solve_past()
    assert report["members"] == [2, 2, 2] and report["nash_conv"] >= 0.0
    tables, sigma = trainer.past_tables, trainer.past_sigma
    for i in range(trainer.n):
        assert tables[i][0, 0, 0] == 0.0
        assert abs(tables[i][1, 1, 1] - 1 / 3) < 0.05
        others = [sigma[q] if q != i else None for q in range(trainer.n)]
        values = tables[i]
        for q in reversed(range(trainer.n)):
            if q != i:
                values = np.tensordot(values, others[q], axes=([q], [0]))
        assert values.max() - values @ sigma[i] < 1e-3  # no member gains
    trainer._draw_past(np.arange(TINY.num_envs), 0)
    for i in range(trainer.n):
        drawn = trainer.driver[:, i][trainer.driver[:, i] >= 0]
        assert drawn.size
        for k in (0, 1):
            if sigma[i][k] < 1e-6:
                assert (drawn != k).all()
            if sigma[i][k] > 1 - 1e-6:
                assert (drawn == k).all()
    trainer.settings = replace(settings, past_weights="uniform")
    trainer._draw_past(np.arange(TINY.num_envs), 0)
    assert set(trainer.driver[trainer.driver >= 0].tolist()) == {0, 1}


def test_nash_weighted_past_selves_resume_as_an_unbroken_run(tmp_path):
    from dataclasses import replace

    import torch

    scenario, protocol = load_compiled(None), ProtocolConfig(actions="utility")
    settings = replace(
        TINY,
        past_share=0.5,
        past_every=1,
        past_keep=2,
        past_weights="nash",
        past_games=4,
    )
    whole = MultiAgentTrainer(scenario, protocol, settings)
    for _ in range(3):
        whole.train_iteration()
    assert len(whole.past_reports) == 3 and "nash_conv" in whole.past_reports[-1]
    train(scenario, protocol, settings, 1, tmp_path, log=lambda _: None)
    resumed = train(scenario, protocol, settings, 3, tmp_path, log=lambda _: None)
    assert resumed.past_reports == whole.past_reports
    for mine, theirs in zip(resumed.past_sigma, whole.past_sigma, strict=True):
        assert np.array_equal(mine, theirs)
    assert (resumed.driver == whole.driver).all()
    for mine, theirs in zip(resumed.learners, whole.learners, strict=True):
        for a, b in zip(
            mine.policy_net.parameters(), theirs.policy_net.parameters(), strict=True
        ):
            assert torch.equal(a, b)


def test_past_selves_and_opponents_together_are_a_config_error():
    from pydantic import ValidationError

    from peacegame.train.config import MarlConfig

    with pytest.raises(ValidationError, match="past_selves and opponents"):
        MarlConfig(
            trainer="marl",
            name="x",
            match="m.yaml",
            iterations=2,
            past_selves={"share": 0.5},
            opponents={"share": 0.5, "pool": ["linear"]},
        )


def test_accepting_voters_take_every_proposal_then_the_voters_learn():
    """``accepting_voters``: every training vote is ACCEPT, and unrecorded, first."""
    from dataclasses import replace

    scenario = load_compiled(None)
    protocol = ProtocolConfig(actions="outcome", information="public")
    trainer = MultiAgentTrainer(scenario, protocol, replace(TINY, accepting_voters=1))
    accept = trainer.iface.accept_action
    batches, stats = trainer.collect()
    # Every proposal passes: each episode ends at its first proposal, agreed.
    assert stats["episodes"] > 0
    assert stats["agreement"] == 1.0
    actions = np.concatenate([b["action"].numpy() for b in batches if b is not None])
    assert actions.size > 0 and (actions < accept).all()  # proposals only
    trainer.update(batches)
    trainer.iteration += 1
    # After the warm-up the learners vote (and some votes are rejections).
    batches, stats = trainer.collect()
    actions = np.concatenate([b["action"].numpy() for b in batches if b is not None])
    assert (actions == accept).any() and (actions == accept + 1).any()
    assert MarlSettings().accepting_voters == 0  # off by default


def test_accepting_voters_force_training_votes_only():
    """Voters that reject everything still pass every training proposal."""
    from dataclasses import replace

    import torch

    scenario = load_compiled(None)
    protocol = ProtocolConfig(actions="outcome", information="public")
    trainer = MultiAgentTrainer(scenario, protocol, replace(TINY, accepting_voters=1))
    reject = trainer.iface.reject_action
    with torch.no_grad():
        for learner in trainer.learners:
            last = [m for m in learner.policy_net.modules() if hasattr(m, "bias")][-1]
            last.bias[reject] += 100.0  # every vote: REJECT
    assert trainer.evaluate(episodes=64)["agreement"] == 0.0
    _, stats = trainer.collect()
    assert stats["episodes"] > 0 and stats["agreement"] == 1.0
