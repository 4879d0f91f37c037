"""The rankings' significance tests, on synthetic cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from peacegame.tournament.rankings import Observations, compute_rankings
from peacegame.tournament.significance import (
    holm,
    paired_t_test,
    welch_t_test,
    wilcoxon_signed_rank,
)


def test_paired_t_known_value():
    # d = 1..5: mean 3, sd sqrt(2.5), t = 3 / (sqrt(2.5) / sqrt(5)) = 3 sqrt(2).
    result = paired_t_test([1, 2, 3, 4, 5])
    assert result.statistic == pytest.approx(3 * math.sqrt(2))
    assert result.p_value == pytest.approx(0.0132356, abs=1e-6)  # t tables, 4 df
    assert result.n == 5


def test_wilcoxon_exact_known_values():
    # All n differences positive: W+ is its maximum, P = 2 / 2^n.
    assert wilcoxon_signed_rank([1, 2, 3, 4, 5]).p_value == 2 / 2**5
    result = wilcoxon_signed_rank(np.arange(1, 11) * 0.1)
    assert result.p_value == pytest.approx(2 / 2**10)
    assert result.method == "wilcoxon-exact" and result.statistic == 55
    # Symmetric differences: W+ = W- = the centre, p = 1.
    assert wilcoxon_signed_rank([-2, -1, 1, 2]).p_value == 1.0


def test_wilcoxon_normal_with_ties_and_zeros():
    # Six differences of -0.125 and six of +0.25 (and zeros, dropped): ranks
    # 3.5 and 9.5, W+ = 57, mean 39, variance 162.5 - 2 * 210 / 48 = 153.75.
    d = [-0.125] * 6 + [0.25] * 6 + [0.0] * 4
    result = wilcoxon_signed_rank(d)
    assert result.method == "wilcoxon-normal" and result.n == 12
    assert result.statistic == 57
    z = 18 / math.sqrt(153.75)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))


def test_degenerate_cases():
    assert wilcoxon_signed_rank([0, 0, 0]).p_value == 1.0
    assert paired_t_test([0.0, 0.0]).p_value == 1.0
    assert paired_t_test([0.5, 0.5, 0.5]).p_value == 0.0  # constant shift
    assert paired_t_test([]).p_value == 1.0
    assert math.isnan(welch_t_test([1.0], [2.0, 3.0]).p_value)


def test_holm_known_values():
    # Sorted 0.01, 0.03, 0.04 -> 3 x 0.01, 2 x 0.03, max(0.06, 1 x 0.04).
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, float("nan")]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    for n in (8, 30, 45):  # exact: no ties, n <= 50
        d = rng.normal(0.2, 1.0, n)
        ours = wilcoxon_signed_rank(d)
        theirs = stats.wilcoxon(d, method="exact")
        assert ours.method == "wilcoxon-exact"
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    for n in (60, 400):  # normal approximation with ties
        d = np.round(rng.normal(0.05, 0.3, n), 1)
        d = d[d != 0]
        ours = wilcoxon_signed_rank(d)
        theirs = stats.wilcoxon(d, method="approx", correction=False)
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    a, b = rng.normal(0, 1, 40), rng.normal(0.3, 2, 25)
    assert paired_t_test(a[:25] - b).p_value == pytest.approx(
        stats.ttest_rel(a[:25], b).pvalue, rel=1e-7
    )
    assert welch_t_test(a, b).p_value == pytest.approx(
        stats.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-7
    )


def synthetic(rewards: dict[str, np.ndarray], scheme: str = "role_rotation"):
    """Observations of competitors on the same pair keys (one role)."""
    names = list(rewards)
    n = len(next(iter(rewards.values())))
    k = len(names)
    return Observations(
        scheme=scheme,
        roles=["r"],
        competitors=names,
        scenarios=["s"],
        scenario=np.zeros(n * k, np.int64),
        role=np.zeros(n * k, np.int64),
        competitor=np.repeat(np.arange(k), n),
        draw=np.tile(np.arange(n), k),
        replicate=np.zeros(n * k, np.int64),
        opponents=np.full((n * k, 1), -1),
        reward=np.concatenate([rewards[c] for c in names]),
        agreement=np.ones(n * k, bool),
        nash_distance=np.zeros(n * k),
        pareto_distance=np.zeros(n * k),
        social_welfare=np.ones(n * k),
        episodes=n * k,
        planned=n * k,
    )


def test_ranking_flags_exactly_the_real_difference():
    # Three competitors on 300 common seeds: "best" is "mid" plus 0.05 on every
    # seed (a real difference), "tie" is "mid" with its seeds' noise permuted
    # within pairs of seeds (no real difference). Known answer: best > mid is
    # significant; mid vs tie is not.
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, 300)
    mid = base.copy()
    tie = base.copy()
    tie[0::2], tie[1::2] = base[1::2], base[0::2]
    best = base + 0.05 + rng.normal(0, 0.01, 300)
    obs = synthetic({"mid": mid, "tie": tie, "best": best})
    for test in ("wilcoxon", "t"):
        rankings = compute_rankings(obs, test=test, alpha=0.05)
        order = [row["competitor"] for row in rankings["overall"]]
        assert order[0] == "best"
        first, second = rankings["comparisons"]
        assert (first["higher"], first["lower"]) == ("best", order[1])
        assert first["pairs"] == 300 and first["significant"]
        assert first["p_holm"] < 1e-10
        assert not second["significant"] and second["p_holm"] > 0.2
        assert second["p_holm"] >= second["p_value"]


def test_sampled_uses_welch():
    rng = np.random.default_rng(2)
    obs = synthetic(
        {"a": rng.normal(1.0, 0.1, 50), "b": rng.normal(0.0, 0.1, 50)}, "sampled"
    )
    rankings = compute_rankings(obs)
    assert rankings["test"] == "welch" and rankings["paired"] is False
    (comparison,) = rankings["comparisons"]
    assert comparison["method"] == "welch-t" and comparison["significant"]
