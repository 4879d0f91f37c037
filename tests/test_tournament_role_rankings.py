"""Per-role rankings of a tournament (``rankings.role_rankings``).

Synthetic observations with known answers, checked against scipy.stats and
statsmodels computed here, then one small real tournament.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from peacegame.tournament.commands import ranking_text
from peacegame.tournament.rankings import Observations, compute_rankings
from test_tournament import TINY, by_role, play

stats = pytest.importorskip("scipy.stats")
multitest = pytest.importorskip("statsmodels.stats.multitest")

N = 30


def scipy_wilcoxon(d: np.ndarray) -> float:
    """scipy's two-sided signed-rank p of ``d`` under the module's conventions.

    Zero differences dropped; exact without ties among at most 50, otherwise
    the normal approximation with the tie correction, no continuity
    correction; p = 1 with nothing left.
    """
    d = d[d != 0]
    if not d.size:
        return 1.0
    ties = np.unique(np.abs(d)).size < d.size
    exact = d.size <= 50 and not ties
    p = stats.wilcoxon(d, method="exact" if exact else "approx").pvalue
    return 1.0 if np.isnan(p) else min(1.0, float(p))


def synthetic(
    rewards: dict[str, dict[str, np.ndarray]], scheme: str = "role_rotation"
) -> Observations:
    """Observations of ``rewards[role][competitor]``, paired by index."""
    roles = list(rewards)
    competitors = sorted({c for per_role in rewards.values() for c in per_role})
    role, competitor, draw, reward = [], [], [], []
    for r, per_role in enumerate(rewards.values()):
        for name, x in per_role.items():
            role += [r] * len(x)
            competitor += [competitors.index(name)] * len(x)
            draw += list(range(len(x)))
            reward += list(x)
    n = len(reward)
    return Observations(
        scheme=scheme,
        roles=roles,
        competitors=competitors,
        scenarios=["s"],
        scenario=np.zeros(n, np.int64),
        role=np.asarray(role, np.int64),
        competitor=np.asarray(competitor, np.int64),
        draw=np.asarray(draw, np.int64),
        replicate=np.zeros(n, np.int64),
        opponents=np.full((n, len(roles)), -1, np.int64),
        reward=np.asarray(reward, np.float64),
        agreement=np.ones(n, bool),
        nash_distance=np.zeros(n),
        pareto_distance=np.zeros(n),
        social_welfare=np.ones(n),
        episodes=n,
        planned=n,
    )


def known() -> tuple[dict[str, dict[str, np.ndarray]], list[tuple[str, str, str]]]:
    """Role A: ``best`` ahead by 0.1; role B: ``best`` and ``mid`` tied.

    Returns the rewards and the expected comparisons (role, higher, lower),
    in order.
    """
    rng = np.random.default_rng(1)
    # Multiples of 1/1024, so that the differences in B are exact and tied.
    base = rng.integers(256, 768, N) / 1024
    # Tie in B: differences +x, -x in pairs, and +1/1024 once (best's mean is
    # ahead by 1 / (1024 N), its signed ranks balance).
    swing = np.repeat(rng.integers(32, 160, N // 2) / 1024, 2)
    swing *= np.tile([1, -1], N // 2)
    swing[-1] += 1 / 1024
    rewards = {
        "A": {
            "best": base + 0.1 + rng.normal(0, 0.01, N),
            "mid": base,
            "low": base - 0.05 + rng.normal(0, 0.01, N),
        },
        "B": {
            "best": base + swing,
            "mid": base,
            "low": base - 0.2 + rng.normal(0, 0.01, N),
        },
    }
    expected = [
        ("A", "best", "mid"),
        ("A", "mid", "low"),
        ("B", "best", "mid"),
        ("B", "mid", "low"),
    ]
    return rewards, expected


@pytest.mark.parametrize("test", ["wilcoxon", "t"])
def test_role_rankings_match_scipy_and_statsmodels(test):
    rewards, expected = known()
    rankings = compute_rankings(synthetic(rewards), test=test, alpha=0.05)
    blocks = rankings["role_rankings"]
    assert [b["role"] for b in blocks] == ["A", "B"]
    for block in blocks:
        assert [r["competitor"] for r in block["ranking"]] == ["best", "mid", "low"]
        assert [r["rank"] for r in block["ranking"]] == [1, 2, 3]
    rows = [row for b in blocks for row in b["comparisons"]]
    assert [
        (b["role"], r["higher"], r["lower"]) for b in blocks for r in b["comparisons"]
    ] == expected
    raw = []
    for (role, hi, lo), row in zip(expected, rows, strict=True):
        x, y = rewards[role][hi], rewards[role][lo]
        if test == "t":
            want = float(stats.ttest_rel(x, y).pvalue)
        else:
            want = scipy_wilcoxon(x - y)
        assert row["p_value"] == pytest.approx(want, rel=1e-9)
        assert row["pairs"] == N
        assert row["mean_difference"] == pytest.approx(np.mean(x - y), abs=1e-12)
        raw.append(want)
    # Holm over all four comparisons of both roles together, not per role.
    family = multitest.multipletests(raw, method="holm")[1]
    assert [r["p_holm"] for r in rows] == pytest.approx(list(family), rel=1e-9)
    per_role = multitest.multipletests(raw[:2], method="holm")[1]
    assert rows[0]["p_holm"] > 1.2 * per_role[0]  # a larger family: larger p
    assert rankings["role_family"] == 4
    assert [r["significant"] for r in rows] == [p < 0.05 for p in family]
    a, b = blocks
    assert a["first"] == "best" and a["first_significant"] is True
    assert b["first"] == "best" and b["first_significant"] is False
    assert rows[0]["p_holm"] < 1e-6 and rows[2]["p_holm"] > 0.5
    assert rows[3]["significant"]  # B's mid is well ahead of B's low
    # The role tables agree with by_role.
    means = {(r["role"], r["competitor"]): r["reward"] for r in rankings["by_role"]}
    for block in blocks:
        for row in block["ranking"]:
            assert row["reward"] == means[(block["role"], row["competitor"])]
            assert row["reward"] == pytest.approx(
                rewards[block["role"]][row["competitor"]].mean(), abs=1e-12
            )


def test_first_needs_the_test_on_its_side():
    # "top" leads "second" on the mean (20 losses of 1/128, one gain of 1), but
    # the signed-rank test rejects in favour of "second": significant, and
    # not "first with significance".
    d = np.array([-1 / 128] * 20 + [1.0])
    second = np.arange(d.size) / 64  # exact sums: the 20 losses stay tied
    rewards = {"A": {"top": second + d, "second": second}}
    rankings = compute_rankings(synthetic(rewards), test="wilcoxon")
    (block,) = rankings["role_rankings"]
    (row,) = block["comparisons"]
    assert block["first"] == "top" and row["mean_difference"] > 0
    assert row["p_holm"] == pytest.approx(
        stats.wilcoxon(d, method="approx").pvalue, rel=1e-9
    )
    assert row["significant"] and row["direction"] == -1
    assert block["first_significant"] is False
    assert "favours the second" in ranking_text({"rankings": rankings})
    # The paired t test leans to "top" but does not reject.
    block = compute_rankings(synthetic(rewards), test="t")["role_rankings"][0]
    assert block["comparisons"][0]["direction"] == 1
    assert not block["comparisons"][0]["significant"]
    assert block["first_significant"] is False


def test_a_role_with_one_competitor():
    rewards = {
        "A": {"a": np.full(5, 0.5), "b": np.full(5, 0.4)},
        "B": {"a": np.full(5, 0.3)},
    }
    rankings = compute_rankings(synthetic(rewards))
    a, b = rankings["role_rankings"]
    # Five tied differences of +0.1: the normal approximation, p = 0.025.
    want = stats.wilcoxon(np.full(5, 0.1), method="approx").pvalue
    assert a["comparisons"][0]["p_holm"] == pytest.approx(want, rel=1e-9)
    assert a["first_significant"] is True
    assert b["first"] == "a" and b["comparisons"] == []
    assert b["first_significant"] is False
    assert rankings["role_family"] == 1


def test_sampled_role_rankings_use_welch():
    rewards, _ = known()
    rankings = compute_rankings(synthetic(rewards, "sampled"))
    a, b = rankings["role_rankings"]
    for block in (a, b):
        for row in block["comparisons"]:
            x = rewards[block["role"]][row["higher"]]
            y = rewards[block["role"]][row["lower"]]
            want = stats.ttest_ind(x, y, equal_var=False).pvalue
            assert row["method"] == "welch-t" and row["pairs"] == 0
            assert row["p_value"] == pytest.approx(want, rel=1e-9)
    assert a["first_significant"] is True and b["first_significant"] is False


def test_small_real_tournament_has_consistent_role_rankings(tmp_path):
    # The two-role split game with three scripted competitors; the p-values
    # are recomputed here from the log with scipy.
    competitors = dict(TINY["competitors"], boulware="boulware")
    result = play(tmp_path, dict(TINY, competitors=competitors))
    summary = result.summary
    rankings = summary["rankings"]
    table = by_role(summary)
    assert summary["roles"] == ["x", "y"]
    rewards: dict = {}
    for line in (result.run_dir / "episodes.jsonl").read_text().splitlines():
        rec = json.loads(line)
        info = rec["assignment"]
        focal = info["focal"]
        key = (info["context"], info["replicate"])
        by_key = rewards.setdefault((focal, info["competitors"][focal]), {})
        by_key[key] = rec["reward"][focal]
    blocks = rankings["role_rankings"]
    assert [b["role"] for b in blocks] == ["x", "y"]
    assert rankings["role_family"] == 4  # two neighbour pairs in each role
    raw = []
    for block in blocks:
        role = block["role"]
        means = [r["reward"] for r in block["ranking"]]
        assert means == sorted(means, reverse=True)
        assert {r["competitor"] for r in block["ranking"]} == set(competitors)
        for row in block["ranking"]:
            cell = table[(row["competitor"], role)]
            assert row["reward"] == cell["reward"] and row["n"] == cell["n"] == 9
            assert row["rank"] == cell["rank_in_role"]
            values = list(rewards[(role, row["competitor"])].values())
            assert row["reward"] == pytest.approx(np.mean(values), abs=1e-6)
        for comp in block["comparisons"]:
            hi, lo = rewards[(role, comp["higher"])], rewards[(role, comp["lower"])]
            d = np.array([hi[k] - lo[k] for k in sorted(hi)])
            # 3 opponent contexts x 3 replicates, every one paired.
            assert comp["pairs"] == d.size == 9
            assert comp["mean_difference"] == pytest.approx(d.mean(), abs=1e-6)
            raw.append(scipy_wilcoxon(d))
            assert comp["p_value"] == pytest.approx(raw[-1], abs=1e-6)
        top = block["comparisons"][0]
        assert block["first"] == block["ranking"][0]["competitor"]
        assert block["first_significant"] == (
            top["significant"] and top["direction"] > 0 and top["mean_difference"] > 0
        )
    family = multitest.multipletests(raw, method="holm")[1]
    got = [c["p_holm"] for b in blocks for c in b["comparisons"]]
    assert got == pytest.approx(list(family), abs=1e-6)
    text = ranking_text(summary)
    for block in blocks:
        assert f"\nrole {block['role']}: {block['first']} " in text
    assert "Holm-adjusted over all 4 per-role comparisons" in text


def test_neighbours_without_a_common_role_are_not_tested():
    """Two single-role competitors (learned checkpoints of different actors)
    ranked next to each other: no test, no place in the Holm family, and the
    text says so instead of failing."""
    rng = np.random.default_rng(3)
    base = rng.normal(0.5, 0.05, N)
    rewards = {
        "A": {"only_a": base + 0.3, "both": base, "weak": base - 0.2},
        "B": {"only_b": base + 0.2, "both": base + 0.01, "weak": base - 0.2},
    }
    rankings = compute_rankings(synthetic(rewards), test="t", alpha=0.05)
    order = [row["competitor"] for row in rankings["overall"]]
    assert order[:2] == ["only_a", "only_b"]
    untested = rankings["comparisons"][0]
    assert (untested["pairs"], untested["p_value"], untested["p_holm"]) == (
        0,
        None,
        None,
    )
    assert untested["significant"] is False
    tested = [row for row in rankings["comparisons"] if row["roles"]]
    raw = [row["p_value"] for row in tested]
    family = multitest.multipletests(raw, method="holm")[1]
    assert [row["p_holm"] for row in tested] == pytest.approx(list(family))
    text = ranking_text({"rankings": rankings})
    assert "no common role" in text.splitlines()[1]
