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


def exact_wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided exact p by enumerating every sign pattern of ranks 1..n."""
    n = d.size
    ranks = np.argsort(np.argsort(np.abs(d))) + 1  # no ties: ranks 1..n
    w = ranks[d > 0].sum()
    signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    dist = signs @ np.arange(1, n + 1)
    return min(1.0, 2 * min((dist <= w).mean(), (dist >= w).mean()))


def test_wilcoxon_exact_by_enumeration():
    rng = np.random.default_rng(1)
    for n in (6, 10, 13):
        d = rng.normal(0.2, 1.0, n)
        result = wilcoxon_signed_rank(d)
        assert result.method == "wilcoxon-exact"
        assert result.p_value == pytest.approx(exact_wilcoxon_p(d), rel=1e-12)


def test_wilcoxon_normal_approximation_by_formula():
    rng = np.random.default_rng(2)
    d = np.round(rng.normal(0.05, 0.3, 200), 1)
    d = d[d != 0]
    n = d.size
    _, counts = np.unique(np.abs(d), return_counts=True)
    # Average ranks of |d|: a tied group starting after k values gets k + (t+1)/2.
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank_of = dict(zip(np.unique(np.abs(d)), starts + (counts + 1) / 2, strict=True))
    w_plus = sum(rank_of[abs(v)] for v in d if v > 0)
    var = n * (n + 1) * (2 * n + 1) / 24 - ((counts**3 - counts).sum()) / 48
    z = (w_plus - n * (n + 1) / 4) / math.sqrt(var)
    result = wilcoxon_signed_rank(d)
    assert result.method == "wilcoxon-normal" and result.statistic == w_plus
    assert result.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)


def test_paired_t_closed_form_with_two_degrees_of_freedom():
    # With 2 df the t CDF is elementary: p = 1 - |t| / sqrt(2 + t^2).
    d = np.array([0.3, 1.1, 0.4])
    t = d.mean() / (d.std(ddof=1) / math.sqrt(3))
    result = paired_t_test(d)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.p_value == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t))


def test_welch_statistic_and_df_by_formula():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 40), rng.normal(0.3, 2, 25)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    result = welch_t_test(a, b)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)


def test_holm_by_step_down_formula():
    rng = np.random.default_rng(4)
    p = rng.uniform(0, 0.2, 7)
    m = p.size
    order = np.argsort(p)
    want = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        want[j] = running
    assert holm(list(p)) == pytest.approx(list(want), rel=1e-12)


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
