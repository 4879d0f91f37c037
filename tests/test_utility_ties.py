"""The ``utility`` interface's opt-in tie rules: random ties and float32 targets.

``utility_ties: random`` draws a bin's proposal among the outcomes that tie
with its pick on everything but the index; ``utility_snap: true`` compares the
targets at the utility table's float32 precision. Both default off, and then
the interface and the config dumps are what they were.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacegame.engine import ProtocolConfig, Rules
from peacegame.engine.actions import SlotTranslator, utility_targets
from peacegame.engine.config import PROPOSING
from peacegame.engine.rules import C_KEY, C_PHASE, C_PROPOSER, C_ROUND, empty_state
from peacegame.scenario import compile_dict, compile_scenario, load_scenario

from scenario_strategies import scenario_dicts

ROOT = Path(__file__).resolve().parents[1]
MAJORITY = ROOT / "configs/scenarios/textbook/baron-ferejohn-majority.yaml"


@pytest.fixture(scope="module")
def majority():
    return compile_scenario(load_scenario(MAJORITY))


def _rules(scenario, **protocol) -> Rules:
    return Rules(
        scenario,
        ProtocolConfig(
            actions="utility",
            utility_bins=21,
            information="public",
            proposer="random",
            **protocol,
        ),
    )


def _shares(scenario, k: int) -> tuple[int, ...]:
    return tuple(int(round(100 * x)) for x in scenario.utility64[:, k])


def _proposals(rules: Rules, actor: int, choice: int, draws: int) -> list[int]:
    """The concrete proposal of ``choice`` in rounds 0.. of many episode keys."""
    state = empty_state(1, rules.n_actors, rules.max_rounds)
    translator = SlotTranslator(
        rules.game, rules.interface, state, 0, rules.observation_size
    )
    out = []
    for d in range(draws):
        state[0, C_PHASE] = PROPOSING
        state[0, C_PROPOSER] = actor
        state[0, C_KEY] = 1_000_003 * (d // 7) + 17
        state[0, C_ROUND] = d % 7
        out.append(translator.translate(actor, choice))
    return out


def test_float32_targets_miss_grid_points_unless_snapped(majority):
    """Without the snap, 0.35, 0.45, 0.65 and 0.90 are no bin's proposal."""
    first = _rules(majority).interface
    snapped = _rules(majority, utility_snap=True).interface
    own = [round(float(majority.utility64[0, k]), 2) for k in first.picks[0]]
    assert own[13] == 0.70 and own[14] == 0.75  # target 0.65 and 0.70
    assert not {0.35, 0.45, 0.65, 0.90} & set(own)
    own = [round(float(majority.utility64[0, k]), 2) for k in snapped.picks[0]]
    assert own[:19] == [round(0.05 * b, 2) for b in range(19)]


def test_random_ties_buy_any_of_the_cheapest_coalitions(majority):
    rules = _rules(majority, utility_ties="random", utility_snap=True)
    tied = rules.interface.tie_set(0, 14)  # p1 keeps 0.70
    assert sorted(_shares(majority, k) for k in tied) == sorted(
        (70, *s)
        for s in {(15, 15, 0, 0), (15, 0, 15, 0), (15, 0, 0, 15), (0, 15, 15, 0)}
        | {(0, 15, 0, 15), (0, 0, 15, 15)}
    )
    assert tied[0] == rules.interface.picks[0, 14]
    proposals = _proposals(rules, 0, 14, 6000)
    counts = Counter(proposals)
    assert set(counts) == set(tied.tolist())
    assert min(counts.values()) > 850  # 1,000 expected each
    # The same episode key and round give the same proposal.
    assert _proposals(rules, 0, 14, 6000) == proposals
    # By default ties go to the lower index, whatever the key.
    first = _rules(majority, utility_snap=True)
    assert first.interface.tie_set(0, 14).tolist() == [tied[0]]
    assert set(_proposals(first, 0, 14, 200)) == {tied[0]}


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(
    scenario_dicts(max_actors=4),
    st.integers(1, 7),
    st.sampled_from(["public", "private"]),
    st.booleans(),
)
def test_a_tie_set_is_every_outcome_tied_with_the_pick(data, bins, information, snap):
    scenario = compile_dict(data)
    config = dict(actions="utility", utility_bins=bins, information=information)
    first = Rules(scenario, ProtocolConfig(**config, utility_snap=snap)).interface
    rules = Rules(
        scenario, ProtocolConfig(**config, utility_snap=snap, utility_ties="random")
    )
    interface = rules.interface
    np.testing.assert_array_equal(interface.picks, first.picks)
    targets = utility_targets(rules.utility, rules.no_deal, bins)
    if snap:
        targets = targets.astype(np.float32)
    for i in range(rules.n_actors):
        own = rules.utility[i]
        for b in range(bins):
            tied = interface.tie_set(i, b)
            assert first.tie_set(i, b).tolist() == [first.picks[i, b]]
            assert tied[0] == interface.picks[i, b]
            assert np.all(np.diff(tied) > 0)
            assert np.all(own[tied] == own[tied[0]])
            assert np.all(own[tied] >= targets[i, b])
            if information == "private":  # closest from above: every such one
                lower = (own >= targets[i, b]) & (own < own[tied[0]])
                assert not lower.any()
                assert set(tied.tolist()) == set(
                    np.flatnonzero(own == own[tied[0]]).tolist()
                )


def test_defaults_are_left_out_of_config_dumps():
    assert "utility_ties" not in ProtocolConfig().model_dump(mode="json")
    assert "utility_snap" not in ProtocolConfig().model_dump(mode="json")
    dumped = ProtocolConfig(utility_ties="random", utility_snap=True).model_dump(
        mode="json"
    )
    assert dumped["utility_ties"] == "random" and dumped["utility_snap"] is True
    assert ProtocolConfig.model_validate(dumped) == ProtocolConfig(
        utility_ties="random", utility_snap=True
    )
