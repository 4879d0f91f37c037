"""The multi-agent trainer: every actor learns on kernel slots; it resumes."""

from __future__ import annotations

import json

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
