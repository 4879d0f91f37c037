"""Textbook theory: closed forms, textbook configs, the finite grid game, the CLI."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from peacegame.errors import ConfigError, UserError
from peacegame.scenario import load_compiled, load_scenario
from peacegame.solutions import nash_point
from peacegame.theory import (
    add_theory_commands,
    baron_ferejohn,
    baron_ferejohn_majority,
    game_equilibrium,
    grid_equilibrium,
    interface_game,
    interface_proposals,
    load_game,
    nash_split,
    nearest_outcome,
    play,
    predict,
    rubinstein_share,
    stationary_grid_proposals,
    stationary_recognition_equilibria,
)

from conftest import ROOT

TEXTBOOK = ROOT / "configs" / "scenarios" / "textbook"
MATCHES = ROOT / "configs" / "matches" / "textbook"


# --------------------------------------------------------------------------- #
# Closed forms against hand-computed values
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("delta1", "delta2", "expected"),
    [
        (0.9, 0.8, 0.2 / 0.28),  # 5/7 = 0.714286
        (0.5, 0.5, 0.5 / 0.75),  # 2/3
        (0.8, 0.9, 0.1 / 0.28),  # the impatient one proposes first
        (0.95, 0.95, 0.05 / 0.0975),  # 1/(1 + delta) = 0.512821
        (0.0, 0.7, 0.3),  # impatient first proposer: 1 - delta2
    ],
)
def test_rubinstein_share(delta1: float, delta2: float, expected: float) -> None:
    assert rubinstein_share(delta1, delta2) == pytest.approx(expected, abs=1e-12)


def test_rubinstein_with_breakdown_and_no_deal() -> None:
    # No time discount, breakdown risk b: rho = 1 - b; x = (1 + rho d1 - d2)/(1 + rho)
    assert rubinstein_share(1, 1, 0.4, 0.0, 0.02) == pytest.approx(1.392 / 1.98)
    assert rubinstein_share(1, 1, 0.0, 0.0, 0.1) == pytest.approx(1 / 1.9)
    # As b -> 0 the split tends to the Nash solution d1 + (1 - d1 - d2)/2.
    assert rubinstein_share(1, 1, 0.4, 0.0, 1e-7) == pytest.approx(0.7, abs=1e-6)
    with pytest.raises(ValueError, match="delay costs nothing"):
        rubinstein_share(1.0, 1.0)


def test_baron_ferejohn_common_delta() -> None:
    split = baron_ferejohn([0.5, 0.3, 0.2], [0.9] * 3)
    np.testing.assert_allclose(split.shares, [0.5, 0.3, 0.2])
    np.testing.assert_allclose(split.keep, [0.55, 0.37, 0.28])  # 1 - 0.9 (1 - v)
    np.testing.assert_allclose(split.continuation, [0.45, 0.27, 0.18])  # 0.9 v
    np.testing.assert_allclose(split.proposal(1), [0.45, 0.37, 0.18])


def test_baron_ferejohn_equal_recognition() -> None:
    # Baron & Ferejohn (1989), closed rule, q = n: the proposer keeps
    # 1 - delta (n - 1)/n, each other member gets delta / n.
    split = baron_ferejohn([0.25] * 4, [0.8] * 4)
    np.testing.assert_allclose(split.shares, 0.25)
    np.testing.assert_allclose(split.keep, 1 - 0.8 * 3 / 4)
    np.testing.assert_allclose(split.continuation, 0.8 / 4)


def test_baron_ferejohn_heterogeneous_discounts() -> None:
    # v_i proportional to p_i / (1 - delta_i): 0.5/0.1 = 5 and 0.5/0.2 = 2.5.
    split = baron_ferejohn([0.5, 0.5], [0.9, 0.8])
    np.testing.assert_allclose(split.shares, [2 / 3, 1 / 3])
    np.testing.assert_allclose(split.keep, [1 - 0.8 / 3, 1 - 0.9 * 2 / 3])


def test_baron_ferejohn_no_deal_values_with_breakdown() -> None:
    p, d = [0.5, 0.3, 0.2], [0.1, 0.15, 0.05]
    split = baron_ferejohn(p, [1.0] * 3, d, breakdown=0.1)
    np.testing.assert_allclose(split.shares, [0.45, 0.36, 0.19])  # d + p (1 - 0.3)
    np.testing.assert_allclose(split.continuation, [0.415, 0.339, 0.176])
    np.testing.assert_allclose(split.keep, [0.485, 0.409, 0.246])
    # keep_i = 1 - rho (1 - v_i) - (1 - rho)(sum d - d_i), rho = 0.9
    v = [0.45, 0.36, 0.19]
    expected = [1 - 0.9 * (1 - v[i]) - 0.1 * (0.3 - d[i]) for i in range(3)]
    np.testing.assert_allclose(split.keep, expected)
    # The asymmetric Nash solution with weights p, for every breakdown risk.
    for b in (0.02, 0.3, 0.9):
        split = baron_ferejohn(p, [1.0] * 3, d, breakdown=b)
        np.testing.assert_allclose(split.shares, nash_split(d, p))


def test_baron_ferejohn_refuses_degenerate_games() -> None:
    with pytest.raises(ValueError, match="delay costs nothing"):
        baron_ferejohn([0.5, 0.5], [1.0, 1.0])
    with pytest.raises(ValueError, match="nothing to split"):
        baron_ferejohn([0.5, 0.5], [0.9, 0.9], [0.6, 0.4])


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=5),
    delta=st.floats(0.0, 0.99),
    data=st.data(),
)
def test_baron_ferejohn_is_a_stationary_equilibrium(
    weights: list[float], delta: float, data: st.DataObject
) -> None:
    p = np.array(weights) / sum(weights)
    n = len(p)
    if data.draw(st.booleans(), label="no_deal"):
        d = np.array(data.draw(st.lists(st.floats(0, 0.15), min_size=n, max_size=n)))
        deltas, b = np.ones(n), 1.0 - delta
        if b == 0.0:
            return
    else:
        d, b = np.zeros(n), 0.0
        deltas = np.array(
            data.draw(st.lists(st.floats(0.0, 0.99), min_size=n, max_size=n))
        )
    split = baron_ferejohn(p, deltas, d, b)
    rho = deltas * (1 - b)
    assert split.shares.sum() == pytest.approx(1.0)
    for i in range(n):
        proposal = split.proposal(i)
        assert proposal.sum() == pytest.approx(1.0)
        # Each voter is offered exactly its continuation value...
        others = np.arange(n) != i
        np.testing.assert_allclose(
            proposal[others], (rho * split.shares + b * d)[others], atol=1e-12
        )
    # ... and the expected payoffs are consistent with the proposals.
    expected = sum(p[i] * split.proposal(i) for i in range(n))
    np.testing.assert_allclose(split.shares, expected, atol=1e-12)


def test_nash_split() -> None:
    np.testing.assert_allclose(nash_split([0.4, 0.0], [0.5, 0.5]), [0.7, 0.3])
    np.testing.assert_allclose(nash_split([0.4, 0.0], [1, 1]), [0.7, 0.3])
    np.testing.assert_allclose(
        nash_split([0.1, 0.2, 0.1], [0.5, 0.3, 0.2]), [0.4, 0.38, 0.22]
    )


# --------------------------------------------------------------------------- #
# The textbook configs
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "model", "n_outcomes", "grid_size"),
    [
        ("rubinstein", "rubinstein", 21, 21),
        ("baron-ferejohn", "baron_ferejohn", 231, 21**3),
        ("baron-ferejohn-outside", "baron_ferejohn", 231, 21**3),
        ("nash-demand", "nash_bargaining", 101, 101),
        # Five shares on a 5% grid summing to 100: C(20 + 4, 4) = 10,626.
        ("baron-ferejohn-majority", "baron_ferejohn_majority", 10_626, 21**5),
        # 2.5% grids: two (four) issues, the last actor gets the rest.
        ("baron-ferejohn-fine", "baron_ferejohn", 861, 41**2),
        ("baron-ferejohn-majority-fine", "baron_ferejohn_majority", 135_751, 41**4),
    ],
)
def test_textbook_configs_compile(
    name: str, model: str, n_outcomes: int, grid_size: int
) -> None:
    loaded = load_scenario(TEXTBOOK / f"{name}.yaml")
    assert loaded.spec.theory is not None
    assert loaded.spec.theory.model == model
    s = load_compiled(TEXTBOOK / f"{name}.yaml")
    assert (s.n_outcomes, s.grid_size) == (n_outcomes, grid_size)
    # A pie: shares sum to 1 at every outcome, everyone must consent.
    np.testing.assert_allclose(s.utility.astype(np.float64).sum(axis=0), 1, atol=1e-6)
    assert s.required.all()


@pytest.mark.parametrize("name", ["baron-ferejohn", "baron-ferejohn-majority"])
def test_fine_grids_are_the_same_games(name: str) -> None:
    """The 2.5% variants: the same actors and prediction, twice the levels."""
    coarse = load_game(TEXTBOOK / f"{name}.yaml").game
    fine = load_game(TEXTBOOK / f"{name}-fine.yaml").game
    for field in ("recognition", "discount", "no_deal"):
        np.testing.assert_array_equal(
            getattr(fine.scenario, field), getattr(coarse.scenario, field)
        )
    assert predict(fine).first_proposer_share == pytest.approx(
        predict(coarse).first_proposer_share
    )
    shares = np.unique(np.round(fine.scenario.utility64 * 1000))
    np.testing.assert_array_equal(shares, np.arange(0, 1001, 25))


def test_textbook_parameters() -> None:
    rub = load_compiled(TEXTBOOK / "rubinstein.yaml")
    np.testing.assert_allclose(rub.discount, [0.9, 0.8])
    np.testing.assert_allclose(rub.no_deal, [0, 0])
    assert rub.decode(14) == {"split": "70-30"}
    bf = load_compiled(TEXTBOOK / "baron-ferejohn.yaml")
    np.testing.assert_allclose(bf.recognition, [0.5, 0.3, 0.2])
    np.testing.assert_allclose(bf.discount, 0.9)
    out = load_scenario(TEXTBOOK / "baron-ferejohn-outside.yaml")
    assert out.spec.theory.breakdown_prob == 0.1
    assert out.spec.theory.model == "baron_ferejohn"  # inherited through extends
    assert [a.no_deal for a in out.actors] == [0.1, 0.15, 0.05]
    assert [a.discount for a in out.actors] == [1.0, 1.0, 1.0]
    nd = load_compiled(TEXTBOOK / "nash-demand.yaml")
    np.testing.assert_allclose(nd.no_deal, [0.4, 0.0])


def test_nash_demand_solves_to_seventy_thirty() -> None:
    s = load_compiled(TEXTBOOK / "nash-demand.yaml")
    k = nash_point(s)
    assert k is not None
    assert s.decode(k) == {"split": "70-30"}
    np.testing.assert_allclose(s.utility[:, k], [0.7, 0.3], atol=1e-6)


def test_theory_block_is_validated(tmp_path: Path) -> None:
    def write(theory: object) -> Path:
        data = yaml.safe_load((TEXTBOOK / "rubinstein.yaml").read_text())
        data["theory"] = theory
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    with pytest.raises(ConfigError, match=r"theory\.model"):
        load_scenario(write({"model": "rubinstien"}))
    with pytest.raises(ConfigError, match=r"theory\.breakdown_prob"):
        load_scenario(write({"model": "rubinstein", "breakdown_prob": 1.0}))
    with pytest.raises(ConfigError, match=r"theory\.extra"):
        load_scenario(write({"model": "rubinstein", "extra": 1}))


# --------------------------------------------------------------------------- #
# Predictions of the textbook configs
# --------------------------------------------------------------------------- #


def test_predict_rubinstein() -> None:
    game = load_game(TEXTBOOK / "rubinstein.yaml").game
    prediction = predict(game)
    assert prediction.first_proposer_share == pytest.approx(5 / 7)
    np.testing.assert_allclose(prediction.shares, [5 / 7, 2 / 7])
    k = nearest_outcome(game.scenario, prediction.shares)
    assert game.scenario.decode(k) == {"split": "70-30"}


def test_predict_baron_ferejohn() -> None:
    game = load_game(TEXTBOOK / "baron-ferejohn.yaml").game
    assert game.proposer == "random"
    prediction = predict(game)
    np.testing.assert_allclose(prediction.shares, [0.5, 0.3, 0.2])
    # sum_i p_i (1 - delta (1 - p_i)) = 1 - 0.9 + 0.9 * 0.38
    assert prediction.first_proposer_share == pytest.approx(0.442)
    k = nearest_outcome(game.scenario, prediction.splits["p1 proposes"])
    assert game.scenario.decode(k) == {"p1": "55", "p2": "25", "p3": "20"}


def test_predict_baron_ferejohn_outside() -> None:
    game = load_game(TEXTBOOK / "baron-ferejohn-outside.yaml").game
    assert game.breakdown_prob == 0.1
    np.testing.assert_allclose(predict(game).shares, [0.45, 0.36, 0.19], atol=1e-7)


def test_predict_nash_demand() -> None:
    game = load_game(TEXTBOOK / "nash-demand.yaml").game
    prediction = predict(game)
    np.testing.assert_allclose(prediction.shares, [0.7, 0.3], atol=1e-7)
    k = nearest_outcome(game.scenario, prediction.shares)
    assert game.scenario.decode(k) == {"split": "70-30"}


# --------------------------------------------------------------------------- #
# The finite game on the grid, and the engine playing it
# --------------------------------------------------------------------------- #


def test_rubinstein_grid_game_depends_on_who_proposes_last() -> None:
    s = load_compiled(TEXTBOOK / "rubinstein.yaml")
    # T = 3: p1 takes all in round 2, so p2 offers p1 0.9 * 1 in round 1, so p1
    # offers p2 0.8 * 0.1 = 0.08, rounded up to the grid: 0.10.
    for rounds, share in [(1, 1.0), (2, 0.2), (3, 0.9), (50, 0.6), (51, 0.8)]:
        eq = grid_equilibrium(s, proposer="rotating", max_rounds=rounds)
        assert eq.agreement_prob == 1.0
        assert eq.expected_round == 0.0
        assert eq.first_proposer_share == pytest.approx(share, abs=1e-6)


def test_rubinstein_stationary_grid_equilibria_bracket_the_closed_form() -> None:
    game = load_game(TEXTBOOK / "rubinstein.yaml").game
    found = stationary_grid_proposals(game)
    assert found is not None
    shares = [round(float(game.scenario.utility[0, k]), 2) for k in found]
    assert shares == [0.6, 0.65, 0.7, 0.75, 0.8]
    assert min(shares) < predict(game).first_proposer_share < max(shares)


def _pie_stationary_equilibria(step: int, delta: float, p: np.ndarray) -> set:
    """Stationary Baron-Ferejohn equilibria of a 3-way pie in per mille steps.

    Independent of the engine: voter j accepts iff offered at least t_j; each
    proposer offers the others exactly their thresholds and keeps the rest;
    the profile is an equilibrium iff each t_j is the smallest grid share at
    or above delta v_j and each proposer keeps at least delta v_i.

    Returns:
        ``(thresholds, values)`` pairs, thresholds in per mille.
    """
    levels = np.arange(0, 1001, step)
    pairs = np.stack([g.ravel() for g in np.meshgrid(levels, levels)], axis=1)
    found = set()
    for first in levels:  # one slice of profiles at a time: little memory
        t = np.column_stack([np.full(len(pairs), first), pairs])
        keep = 1000 - (t.sum(axis=1, keepdims=True) - t)
        value = p * keep + (1 - p) * t
        need = delta * value
        ok = (keep >= 0).all(axis=1)
        ok &= ((t >= need - 1e-6) & (t - step < need - 1e-6)).all(axis=1)
        ok &= (keep >= need - 1e-6).all(axis=1)
        found |= {
            (tuple(int(x) for x in t[q]), tuple(np.round(value[q] / 1000, 6)))
            for q in np.flatnonzero(ok)
        }
    return found


def test_fine_enough_grids_have_only_stationary_equilibria_near_the_prediction() -> (
    None
):
    # The pull toward v = p is delta (1 - delta) e = 0.09 e against a grid step
    # s, so the stationary equilibria spread about s / 0.09 around it.
    p = np.array([0.5, 0.3, 0.2])

    def spread(step: int) -> float:
        found = _pie_stationary_equilibria(step, 0.9, p)
        return max(float(np.abs(np.array(v) - p).max()) for _, v in found)

    assert spread(25) > 0.2  # baron-ferejohn-fine: p1 from 0.275 to 0.5875
    assert spread(5) <= 0.045  # baron-ferejohn-finest: all near the prediction
    finest = load_game(TEXTBOOK / "baron-ferejohn-finest.yaml").game
    levels = np.unique(np.round(finest.scenario.utility64[0], 9))
    np.testing.assert_allclose(np.diff(levels), 0.005, atol=1e-9)
    assert finest.scenario.n_outcomes == 201 * 202 // 2


@pytest.mark.parametrize(
    ("name", "step"), [("baron-ferejohn.yaml", 50), ("baron-ferejohn-fine.yaml", 25)]
)
def test_baron_ferejohn_stationary_grid_equilibria_by_brute_force(
    name: str, step: int
) -> None:
    game = load_game(TEXTBOOK / name).game
    found = stationary_recognition_equilibria(game)
    assert found is not None
    expected = _pie_stationary_equilibria(step, 0.9, np.array([0.5, 0.3, 0.2]))
    got = {
        (
            tuple(int(round(x * 1000)) for x in e.thresholds),
            tuple(np.round(e.value, 6)),
        )
        for e in found
        if e.agrees.all()
    }
    assert got == expected
    assert len(expected) > 50  # the grid makes many; the divisible pie one
    # The unique stationary payoffs of the divisible pie (v = p) are among
    # them, up to the grid, and the finite game selects one of them.
    finite = game_equilibrium(game)
    shares = [tuple(np.round(e.expected_share, 6)) for e in found]
    assert tuple(np.round(finite.expected_share, 6)) in shares
    # Each proposer keeps what the voters' thresholds leave.
    for e in found:
        for i in range(3):
            kept = float(game.scenario.utility64[i, e.offers[i]])
            assert kept == pytest.approx(1 - e.thresholds.sum() + e.thresholds[i])


def test_baron_ferejohn_grid_game() -> None:
    game = load_game(TEXTBOOK / "baron-ferejohn.yaml", max_rounds=50).game
    eq = game_equilibrium(game)
    assert eq.agrees[0].all()
    decoded = [game.scenario.decode(int(k)) for k in eq.offers[0]]
    assert decoded[0] == {"p1": "50", "p2": "30", "p3": "20"}
    np.testing.assert_allclose(eq.expected_share, [0.475, 0.315, 0.21], atol=1e-6)


def test_last_proposer_leaves_the_voter_its_no_deal_value() -> None:
    game = load_game(TEXTBOOK / "nash-demand.yaml").game
    eq = grid_equilibrium(game.scenario, proposer="rotating", max_rounds=1)
    # p1 proposes the only round and takes everything: p2's no-deal value is 0.
    assert eq.agreement_prob == 1.0
    assert game.scenario.decode(int(eq.offers[0, 0])) == {"split": "100-0"}
    # With p2 proposing, p1 gets exactly its no-deal value 0.4 (accepted).
    eq = grid_equilibrium(
        game.scenario, proposer="rotating", max_rounds=1, order=(1, 0)
    )
    assert game.scenario.decode(int(eq.offers[0, 1])) == {"split": "40-60"}


def test_majority_baron_ferejohn_closed_form_and_grid_game() -> None:
    """Baron & Ferejohn (1989), closed rule: keep 1 - δ(n-1)/(2n), δ/n to (n-1)/2."""
    n, delta = 5, 0.75
    split = baron_ferejohn_majority(n, delta)
    np.testing.assert_allclose(split.keep, 1 - delta * (n - 1) / (2 * n))
    np.testing.assert_allclose(split.continuation, delta / n)
    np.testing.assert_allclose(split.shares, 1 / n)
    with pytest.raises(ValueError, match="odd n"):
        baron_ferejohn_majority(4, 0.9)
    game = load_game(MATCHES / "baron-ferejohn-majority-subgame-perfect.yaml").game
    prediction = predict(game)
    assert prediction.first_proposer_share == pytest.approx(0.70)
    eq = game_equilibrium(game)
    assert eq.agrees[0].all() and eq.first_round_prob == 1.0
    # On this grid (δ/n = 0.15 and 0.70 are grid points) the finite game's
    # proposer keeps exactly the closed form and buys (n - 1)/2 votes at δ/n.
    assert eq.first_proposer_share == pytest.approx(0.70, abs=1e-9)
    for i in range(n):
        shares = game.scenario.utility64[:, int(eq.offers[0, i])]
        others = np.delete(shares, i)
        assert shares[i] == pytest.approx(0.70)
        assert sorted(np.round(others, 9)) == [0, 0, 0.15, 0.15]


def test_majority_theory_refuses_other_rules(tmp_path: Path) -> None:
    text = (TEXTBOOK / "baron-ferejohn-majority.yaml").read_text()
    path = tmp_path / "bf.yaml"
    path.write_text(text.replace("quota: majority", "quota: 4"))
    with pytest.raises(UserError, match="not a simple majority"):
        load_game(path)


@pytest.mark.parametrize(
    "name",
    [
        "rubinstein",
        "baron-ferejohn",
        "baron-ferejohn-outside",
        "nash-demand",
        "baron-ferejohn-majority",
    ],
)
def test_engine_reproduces_the_grid_game(name: str) -> None:
    loaded = load_game(MATCHES / f"{name}-subgame-perfect.yaml")
    eq = game_equilibrium(loaded.game)
    measured = play(loaded, 60, seed=3)
    assert measured["agreement_rate"]["mean"] == pytest.approx(eq.agreement_prob)
    assert eq.first_round_prob == 1.0
    assert measured["first_round_agreement"]["mean"] == 1.0
    for a, v in zip(loaded.game.scenario.actors, eq.value, strict=True):
        if loaded.game.proposer == "rotating":
            assert measured["reward"][a]["mean"] == pytest.approx(v, abs=1e-6)
        else:  # random proposers: the mean over episodes, within its CI
            low, high = measured["reward"][a]["low"], measured["reward"][a]["high"]
            assert low - 1e-6 <= v <= high + 1e-6


def test_subgame_perfect_offers_match_per_episode() -> None:
    from peacegame.match import EpisodePlayer

    loaded = load_game(MATCHES / "baron-ferejohn-subgame-perfect.yaml")
    eq = game_equilibrium(loaded.game)
    s = loaded.game.scenario
    player = EpisodePlayer(loaded.match, s)
    for i in range(20):
        record = player.play(i)
        first = s.actor_index(record["events"][0]["proposer"])
        assert record["round"] == 0
        assert record["outcome"] == int(eq.offers[0, first])


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def run_theory(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run ``peacegame theory`` as the CLI does (UserError: one line, exit 2)."""
    parser = argparse.ArgumentParser(prog="peacegame")
    add_theory_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["theory", *argv])
    try:
        code = args.func(args)
    except UserError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        code = 2
    out, err = capsys.readouterr()
    return code, out, err


def test_command_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_theory([str(TEXTBOOK / "rubinstein.yaml")], capsys)
    assert code == 0
    assert "x* = (1 - δ2)/(1 - δ1·δ2)" in out
    assert "0.7143" in out
    assert "split=70-30" in out
    assert "Rubinstein, A. (1982)" in out
    code, out, _ = run_theory([str(TEXTBOOK / "baron-ferejohn-outside.yaml")], capsys)
    assert code == 0
    assert "v_i = d_i + p_i(1 - Σd)" in out
    assert "Britz" in out


def test_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_theory([str(TEXTBOOK / "baron-ferejohn.yaml"), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["model"] == "baron_ferejohn"
    assert doc["closed_form"]["shares"] == {"p1": 0.5, "p2": 0.3, "p3": 0.2}
    assert doc["grid"][0]["decoded"] == {"p1": "50", "p2": "30", "p3": "20"}
    assert doc["finite_game"]["max_rounds"] == 100
    assert doc["parameters"]["proposer"] == "random"
    assert "eraslan" in doc["sources"]


def test_command_play(capsys: pytest.CaptureFixture[str]) -> None:
    match = str(MATCHES / "rubinstein-nash-mediator.yaml")
    code, out, _ = run_theory([match, "--play", "5", "--seed", "1", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    m = doc["measured"]
    assert m["episodes"] == 5 and m["seed"] == 1
    assert m["share"]["p1"]["mean"] == pytest.approx(0.5)  # the Nash point, 50-50
    assert m["agreement_round"]["mean"] == 0
    code, out, _ = run_theory(
        [match, "--play", "3", "--set", "policies.p1=conceder"], capsys
    )
    assert code == 0
    assert "p1=conceder(e=2)" in out
    assert "measured [95% CI]" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["configs/scenarios/ukraine-2025.yaml"], "declares no 'theory' block"),
        (["configs/matches/baseline.yaml"], "declares no 'theory' block"),
        (["agents/us.yaml"], "got an actor file"),
        (["configs/scenarios/textbook/nash-missing.yaml"], "no such file"),
        (
            [
                "configs/matches/textbook/rubinstein-boulware.yaml",
                "--set",
                "protocol.proposer=random",
            ],
            "proposer: not a textbook model: rubinstein needs proposer: rotating",
        ),
        (
            [
                "configs/matches/textbook/baron-ferejohn-boulware.yaml",
                "--set",
                "protocol.proposer=rotating",
            ],
            "proposer: not a textbook model: baron_ferejohn needs proposer: random",
        ),
        (
            ["configs/scenarios/textbook/rubinstein.yaml", "--play", "3"],
            "--play needs a match config",
        ),
        (
            ["configs/scenarios/textbook/rubinstein.yaml", "--seed", "3"],
            "--seed needs --play",
        ),
        (
            ["configs/scenarios/textbook/rubinstein.yaml", "--set", "a=1"],
            "--set needs a match config",
        ),
        (
            ["configs/scenarios/textbook/rubinstein.yaml", "--max-rounds", "0"],
            "--max-rounds must be at least 1",
        ),
    ],
)
def test_command_errors(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_theory(argv, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"p1": {"no_deal": 0.1}},
            "non-zero no-deal values with a time discount",
        ),
        (
            {"p1": {"discount": 1.0}, "p2": {"discount": 1.0}},
            "delay costs nothing",
        ),
        (
            {"p1": {"terms": [{"weight": 1, "constant": 1.0}]}},
            "utilities sum to",
        ),
    ],
)
def test_not_textbook(tmp_path: Path, overrides: dict, message: str) -> None:
    path = tmp_path / "variant.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "extends": str(TEXTBOOK / "rubinstein.yaml"),
                "name": "variant",
                "overrides": overrides,
            }
        )
    )
    with pytest.raises(UserError, match=message) as info:
        load_game(path)
    assert "not a textbook model" in str(info.value)


def test_cli_wiring(capsys: pytest.CaptureFixture[str]) -> None:
    from peacegame.cli import build_parser, main

    choices = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    assert "theory" in choices
    assert main(["theory", str(TEXTBOOK / "nash-demand.yaml")]) == 0
    assert "0.7000" in capsys.readouterr().out
    assert main(["theory", str(ROOT / "configs/scenarios/ukraine-2025.yaml")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_formula_values_are_finite() -> None:
    for name in [
        "rubinstein",
        "baron-ferejohn",
        "baron-ferejohn-outside",
        "nash-demand",
    ]:
        game = load_game(TEXTBOOK / f"{name}.yaml").game
        prediction = predict(game)
        assert all(math.isfinite(q.value) for q in prediction.quantities)
        assert prediction.shares.sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- #
# The game an action interface lets a learner play
# --------------------------------------------------------------------------- #


def _interface_game(match: str, margin: float = 0.0, **protocol: object):
    loaded = load_game(MATCHES / match)
    game = loaded.game
    config = loaded.match.protocol.model_copy(update=protocol)
    return interface_game(
        game.scenario,
        interface_proposals(game.scenario, config),
        proposer=game.proposer,
        max_rounds=game.max_rounds,
        margin=margin,
    )


def test_interface_game_over_every_outcome_is_the_grid_game() -> None:
    game = load_game(MATCHES / "baron-ferejohn-learning.yaml").game
    solved = _interface_game("baron-ferejohn-learning.yaml", actions="outcome")
    eq = game_equilibrium(game)
    np.testing.assert_allclose(solved.value, eq.value, atol=1e-12)
    assert solved.first_proposer_value == pytest.approx(eq.first_proposer_share)
    assert solved.first_round_prob == 1.0
    # A voter that asks for 0.01 more costs the proposer a grid step.
    strict = _interface_game(
        "baron-ferejohn-learning.yaml", margin=0.01, actions="outcome"
    )
    assert strict.first_proposer_value == pytest.approx(0.365)


def test_utility_actions_split_equally_under_unanimity() -> None:
    """The utility rule pays both voters the same: p2 and p3 expect the same."""
    solved = _interface_game("baron-ferejohn-learning.yaml")
    assert solved.value[1] == pytest.approx(solved.value[2])
    np.testing.assert_allclose(solved.value, [5 / 11, 2.5 / 11, 2.5 / 11], atol=1e-4)
    assert solved.first_proposer_value == pytest.approx(0.3523, abs=1e-4)


def test_majority_ties_decide_who_is_bought() -> None:
    """Lowest-index ties buy p4 and p5 every time; random ties treat all alike."""
    match = "baron-ferejohn-majority-learning.yaml"
    lowest = _interface_game(match, utility_ties="first", utility_snap=False)
    np.testing.assert_allclose(lowest.value, [0.1, 0.1, 0.18, 0.31, 0.31], atol=0.005)
    assert lowest.first_proposer_value == pytest.approx(0.52)
    random = _interface_game(match, utility_ties="random", utility_snap=True)
    np.testing.assert_allclose(random.value, 0.2, atol=1e-9)
    assert random.first_proposer_value == pytest.approx(0.70)
    strict = _interface_game(
        match, margin=0.01, utility_ties="random", utility_snap=True
    )
    assert strict.first_proposer_value == pytest.approx(0.60)
