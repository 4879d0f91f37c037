"""PSRO: the meta-Nash solver, the mixture policy and a tiny run that resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

pytest.importorskip("sb3_contrib")

from peacegame.train.config import SB3PPOParams  # noqa: E402
from peacegame.train.psro import MixturePolicy, meta_nash, run  # noqa: E402


def test_meta_nash_of_known_games():
    # Prisoner's dilemma: defect (1) dominates; a pure equilibrium.
    row = np.array([[3.0, 0.0], [5.0, 1.0]])
    sigma, values = meta_nash([row, row.T], [2, 2])
    assert sigma[0].argmax() == 1 and sigma[1].argmax() == 1
    assert values == pytest.approx([1.0, 1.0], abs=1e-3)
    # Battle-of-the-sexes-like game with a dominant row: column best-responds.
    a = np.array([[2.0, 2.0], [0.0, 0.0]])
    b = np.array([[1.0, 0.0], [1.0, 0.0]])
    sigma, _ = meta_nash([a, b], [2, 2])
    assert sigma[0][0] > 0.99 and sigma[1][0] > 0.99


def test_mixture_policy_draws_members_by_weight():
    from tests.test_train import dollar

    from peacegame.engine.record import PublicRecord
    from peacegame.engine.tables import Rules
    from peacegame.policies import make_view
    from peacegame.scenario import compile_dict

    rules = Rules(compile_dict(dollar()))
    view = make_view(rules, "a", PublicRecord(2, rules.max_rounds))
    policy = MixturePolicy(
        [{"policy": "random"}, {"policy": "hardliner"}], [0.25, 0.75]
    )
    rng = np.random.default_rng(0)
    drawn = []
    for _ in range(400):
        policy.reset("a", view, rng)
        drawn.append(policy.current is policy.members[1])
    assert abs(np.mean(drawn) - 0.75) < 0.06
    with pytest.raises(ValueError, match="weights"):
        MixturePolicy([{"policy": "random"}], [0.0])


def test_tiny_psro_run_reports_nash_conv_and_resumes(tmp_path):
    from tests.test_train import OPPONENT, PROTOCOL, dollar

    (tmp_path / "dollar.yaml").write_text(yaml.safe_dump(dollar()))
    match = tmp_path / "match.yaml"
    match.write_text(
        yaml.safe_dump(
            {
                "name": "dollar-psro",
                "scenario": "dollar.yaml",
                "protocol": PROTOCOL,
                "policies": {"a": {"policy": "linear"}, "b": OPPONENT},
                "seed": 1,
            }
        )
    )
    from peacegame.train.config import SB3PPOParams

    ppo = SB3PPOParams(n_steps=64, batch_size=64, n_epochs=1, net_arch=[16])
    kwargs = dict(generations=1, timesteps=128, episodes=4, ppo=ppo, n_envs=2)
    reports = run(match, tmp_path / "run", log=lambda _: None, **kwargs)
    assert [r["generation"] for r in reports] == [0, 1]
    assert reports[0]["nash_conv"] >= 0.0
    assert reports[1]["population"] == [2, 2]
    for actor in ("a", "b"):
        assert (tmp_path / "run" / "gen0" / actor / "model.zip").exists()
    saved = json.loads((tmp_path / "run" / "psro.json").read_text())
    assert saved == reports
    stamp = (tmp_path / "run" / "gen0" / "a" / "model.zip").stat().st_mtime_ns
    again = run(match, tmp_path / "run", log=lambda _: None, **kwargs)

    def strip(rs):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rs]

    assert strip(again) == strip(reports)  # resumed: nothing was retrained
    assert (tmp_path / "run" / "gen0" / "a" / "model.zip").stat().st_mtime_ns == stamp


def test_psro_train_config_validates_by_field_and_matches_the_module_command():
    from pathlib import Path

    from peacegame.errors import ConfigError
    from peacegame.train.config import PsroConfig, load_match, load_train_config
    from peacegame.train.psro import DEFAULT_MATCH, MODULE_PPO

    shipped = Path(__file__).resolve().parent.parent / "configs" / "train"
    config, file = load_train_config(shipped / "psro-rubinstein.yaml")
    assert isinstance(config, PsroConfig)
    assert config.ppo == SB3PPOParams(**MODULE_PPO)  # the module's best responses
    match, match_file, _ = load_match(config, file)
    assert match_file.resolve() == (file.parent.parent.parent / DEFAULT_MATCH)
    assert match.protocol.max_rounds == 10  # match_overrides applied
    with pytest.raises(ConfigError, match="generashuns") as error:
        load_train_config(shipped / "psro-rubinstein.yaml", ["generashuns=3"])
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="episodes_per_profile"):
        load_train_config(shipped / "psro-rubinstein.yaml", ["episodes_per_profile=0"])
