"""Rankings of a tournament run: per competitor and role, overall, with tests.

The log is read line by line into one **observation** per (episode, role
scored): under ``role_rotation`` only the focal role of each episode is scored
(its opponents are the context, not competitors under comparison); under
``cartesian`` and ``sampled`` every role of every episode is. An observation's
**pair key** is (scenario, role, context or sample, the opponents' competitors,
replicate): two competitors' observations with equal keys were played against
the same opponents on the same seed.

Per competitor and role (``by_role``):

- ``reward``: mean payoff (``delta^round * U`` on agreement, ``d`` otherwise;
  the "utility" of the ranking) with a 95% Student t interval;
- ``agreement_rate`` with a 95% Wilson interval;
- ``nash_distance`` and ``pareto_distance``: mean distance in utility space of
  the agreed outcomes to the Nash point and the Pareto frontier;
- ``social_welfare``: mean sum of payoffs of its episodes, and
  ``welfare_contribution``: that mean minus the mean over the competitors of
  the same role (positive: the games it plays end with more welfare than the
  role's average competitor's; paired under ``role_rotation``).

Overall (``overall``): a competitor's score is the mean over the roles it plays
of its mean reward in that role (every role weighs the same), with a 95%
interval from the stratified standard error ``sqrt(sum_r s_r^2 / n_r) / R``
(normal quantile). Competitors are ranked by score; each is compared with the
next one down (``comparisons``) on the differences of their rewards over their
common pair keys, with the Wilcoxon signed-rank test (default) or the paired t
test; ``sampled`` assignments are not paired, so they use Welch's t test on
all observations. The ``k - 1`` p-values are adjusted with Holm's method, and
a difference is significant when the adjusted p is below ``alpha``. Two
competitors that play different roles (a learned checkpoint plays one) are
compared on their common roles only (``roles``, ``same_roles: false``).

Per role (``role_rankings``, :func:`role_rankings`): the competitors that play
the role ranked by their mean reward in it (the order of ``rank_in_role``),
each compared with the next one down on the role's observations only (same
tests as overall), and ``first_significant``: the role's first is ahead of its
second with significance. Holm adjusts the comparisons of all roles together
(``role_family`` of them), a family apart from the overall comparisons.
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from peacegame.analysis.stats import CONFIDENCE, mean_interval, wilson_interval
from peacegame.logs import read_manifest
from peacegame.tournament.observations import Observations, load_observations
from peacegame.tournament.significance import (
    holm,
    paired_t_test,
    welch_t_test,
    wilcoxon_signed_rank,
)


def clean(value: Any, digits: int = 6) -> Any:
    """JSON-ready: floats rounded, NaN and infinities as None, recursively."""
    if isinstance(value, dict):
        return {k: clean(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, digits) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else round(float(value), digits)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _mean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else math.nan


def by_role_table(obs: Observations) -> list[dict[str, Any]]:
    """Per competitor and role: reward, agreement, distances, welfare."""
    rows: list[dict[str, Any]] = []
    for r, role in enumerate(obs.roles):
        in_role = obs.role == r
        present = sorted(set(obs.competitor[in_role].tolist()))
        role_rows = []
        for c in present:
            mask = in_role & (obs.competitor == c)
            mean, lo, hi, n = mean_interval(obs.reward[mask])
            agreed = int(obs.agreement[mask].sum())
            a_lo, a_hi = wilson_interval(agreed, n)
            role_rows.append(
                {
                    "competitor": obs.competitors[c],
                    "role": role,
                    "n": n,
                    "reward": mean,
                    "reward_lo": lo,
                    "reward_hi": hi,
                    "agreement_rate": agreed / n if n else math.nan,
                    "agreement_lo": a_lo,
                    "agreement_hi": a_hi,
                    "nash_distance": _mean(obs.nash_distance[mask]),
                    "pareto_distance": _mean(obs.pareto_distance[mask]),
                    "social_welfare": _mean(obs.social_welfare[mask]),
                }
            )
        welfare = [row["social_welfare"] for row in role_rows]
        role_welfare = float(np.mean(welfare)) if welfare else math.nan
        order = sorted(role_rows, key=lambda row: (-row["reward"], row["competitor"]))
        for rank, row in enumerate(order, start=1):
            row["welfare_contribution"] = row["social_welfare"] - role_welfare
            row["rank_in_role"] = rank
        rows += order
    return rows


def _overall(obs: Observations, by_role: list[dict[str, Any]]) -> list[dict[str, Any]]:
    z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2.0)
    out = []
    for c, name in enumerate(obs.competitors):
        rows = [row for row in by_role if row["competitor"] == name]
        if not rows:
            continue
        means = [row["reward"] for row in rows]
        score = float(np.mean(means))
        variance = 0.0
        for row in rows:
            mask = (obs.competitor == c) & (obs.role == obs.roles.index(row["role"]))
            x = obs.reward[mask]
            variance += float(x.var(ddof=1)) / x.size if x.size > 1 else math.nan
        half = z * math.sqrt(variance) / len(rows) if variance == variance else math.nan
        out.append(
            {
                "competitor": name,
                "score": score,
                "score_lo": score - half,
                "score_hi": score + half,
                "roles": len(rows),
                "n": int(sum(row["n"] for row in rows)),
            }
        )
    out.sort(key=lambda row: (-row["score"], row["competitor"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out


def compare(
    obs: Observations,
    a: int,
    b: int,
    test: str,
    keys: np.ndarray | None = None,
    role: int | None = None,
) -> dict[str, Any]:
    """Compare competitors ``a`` and ``b`` (rewards, ``a - b``).

    Paired schemes use the observations with a common pair key; ``sampled``
    uses Welch's t test on all their observations. ``roles`` lists the roles
    the comparison covers: when the two play different roles, only their
    common roles (and its sign may differ from the scores'). With ``role``
    (an index), only the observations in that role are used.
    """
    ma, mb = obs.competitor == a, obs.competitor == b
    if role is not None:
        ma, mb = ma & (obs.role == role), mb & (obs.role == role)
    roles_a, roles_b = set(obs.role[ma].tolist()), set(obs.role[mb].tolist())
    same = roles_a == roles_b
    if obs.scheme == "sampled":
        result = welch_t_test(obs.reward[ma], obs.reward[mb])
        diff = _mean(obs.reward[ma]) - _mean(obs.reward[mb])
        return {
            "pairs": 0,
            "mean_difference": diff,
            "roles": [obs.roles[r] for r in sorted(roles_a | roles_b)],
            "same_roles": same,
            **_test_fields(result),
        }
    keys = obs.pair_keys() if keys is None else keys
    ka, kb = keys[ma], keys[mb]
    common, ia, ib = np.intersect1d(ka, kb, assume_unique=False, return_indices=True)
    d = obs.reward[ma][ia] - obs.reward[mb][ib]
    result = wilcoxon_signed_rank(d) if test == "wilcoxon" else paired_t_test(d)
    covered = sorted(set(obs.role[ma][ia].tolist()))
    return {
        "pairs": int(common.size),
        "mean_difference": _mean(d),
        "roles": [obs.roles[r] for r in covered],
        "same_roles": same,
        **_test_fields(result),
    }


def role_rankings(
    obs: Observations,
    by_role: list[dict[str, Any]],
    test: str = "wilcoxon",
    alpha: float = 0.05,
    keys: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Per role: its competitors ranked by mean reward, with neighbour tests.

    Each role's competitors are ranked as in ``by_role`` (mean reward in the
    role, then name) and each is compared with the next one down by
    :func:`compare` on the role's observations alone: the paired differences
    over their common pair keys (``test``), Welch's t under ``sampled``.

    Holm adjusts the comparisons of **all roles together**, one family of
    ``sum_r (k_r - 1)`` p-values (``k_r`` competitors in role ``r``), not
    each role apart: the block is read as one claim about every role at once
    ("in each role the first beats the second"), and the family-wise error
    rate ``alpha`` then holds for everything the block reports. Adjusting per
    role would let the chance of some false "significant" grow with the
    number of roles. The overall ranking's comparisons stay their own family
    (another question, on other data: all roles pooled).

    A role's ``first_significant`` is true when its first competitor's
    comparison with the second is significant after the adjustment, on the
    first's side (``direction`` +1: a signed-rank test can reject in favour
    of the second even when the first leads on the mean, say many small
    losses and one large gain), with a positive mean paired difference;
    false with a single competitor.

    Args:
        obs: The observations.
        by_role: :func:`by_role_table` of ``obs``.
        test: ``wilcoxon`` or ``t`` (paired schemes).
        alpha: Family-wise error rate of all the roles' comparisons.
        keys: ``obs.pair_keys()``, if already computed.

    Returns:
        One block per role, in the tournament's order: ``role``, ``ranking``
        (``rank``, ``competitor``, ``n``, ``reward``, ``reward_lo``,
        ``reward_hi``), ``comparisons`` (``higher``, ``lower``, ``pairs``,
        ``mean_difference``, ``method``, ``statistic``, ``direction``,
        ``p_value``, ``p_holm``, ``significant``), ``first`` and
        ``first_significant``.
    """
    keys = obs.pair_keys() if keys is None else keys
    index = {name: i for i, name in enumerate(obs.competitors)}
    blocks = []
    for r, role in enumerate(obs.roles):
        rows = sorted(
            (row for row in by_role if row["role"] == role),
            key=lambda row: row["rank_in_role"],
        )
        comparisons = []
        for upper, lower in zip(rows, rows[1:], strict=False):
            a, b = index[upper["competitor"]], index[lower["competitor"]]
            row = compare(obs, a, b, test, keys, role=r)
            del row["roles"], row["same_roles"]
            comparisons.append(
                {"higher": upper["competitor"], "lower": lower["competitor"], **row}
            )
        ranking = [
            {
                "rank": row["rank_in_role"],
                "competitor": row["competitor"],
                "n": row["n"],
                "reward": row["reward"],
                "reward_lo": row["reward_lo"],
                "reward_hi": row["reward_hi"],
            }
            for row in rows
        ]
        blocks.append({"role": role, "ranking": ranking, "comparisons": comparisons})
    family = [row for block in blocks for row in block["comparisons"]]
    adjusted = holm([row["p_value"] for row in family])
    for row, p in zip(family, adjusted, strict=True):
        row["p_holm"] = p
        row["significant"] = bool(p < alpha)
    for block in blocks:
        top = block["comparisons"][0] if block["comparisons"] else None
        block["first"] = block["ranking"][0]["competitor"] if block["ranking"] else None
        block["first_significant"] = bool(
            top is not None
            and top["significant"]
            and top["direction"] > 0
            and top["mean_difference"] > 0
        )
    return blocks


def role_verdict(block: dict[str, Any]) -> str:
    """One line on a :func:`role_rankings` block: is its first significantly so?"""
    first = block["first"]
    if not block["comparisons"]:
        return f"{first} alone in the role"
    if block["first_significant"]:
        return f"{first} first, significantly ahead of the second"
    if block["comparisons"][0]["significant"]:
        return f"{first} first on the mean, but the significant test favours the second"
    return f"{first} first, not significantly ahead of the second"


def _test_fields(result: Any) -> dict[str, Any]:
    return {
        "method": result.method,
        "statistic": result.statistic,
        "direction": result.direction,
        "p_value": result.p_value,
    }


def compute_rankings(
    obs: Observations, test: str = "wilcoxon", alpha: float = 0.05
) -> dict[str, Any]:
    """The rankings document (see the module docstring).

    Args:
        obs: The observations.
        test: ``wilcoxon`` or ``t`` (paired schemes).
        alpha: Family-wise error rate for the Holm-adjusted comparisons.
    """
    by_role = by_role_table(obs)
    overall = _overall(obs, by_role)
    keys = obs.pair_keys()
    index = {name: i for i, name in enumerate(obs.competitors)}
    comparisons = []
    for upper, lower in zip(overall, overall[1:], strict=False):
        row = compare(
            obs, index[upper["competitor"]], index[lower["competitor"]], test, keys
        )
        comparisons.append(
            {"higher": upper["competitor"], "lower": lower["competitor"], **row}
        )
    # Neighbours with no common role (two learned checkpoints of different
    # actors) are not compared: no test, and no place in the Holm family.
    tested = [row for row in comparisons if row["roles"]]
    adjusted = holm([row["p_value"] for row in tested])
    for row, p in zip(tested, adjusted, strict=True):
        row["p_holm"] = p
        row["significant"] = bool(p < alpha)
    for row in comparisons:
        if not row["roles"]:
            row.update(
                mean_difference=None, p_value=None, p_holm=None, significant=False
            )
    by_scenario: dict[str, dict[str, float]] = {}
    for s, scenario in enumerate(obs.scenarios):
        scores = {}
        for c, name in enumerate(obs.competitors):
            means = [
                _mean(
                    obs.reward[
                        (obs.scenario == s) & (obs.competitor == c) & (obs.role == r)
                    ]
                )
                for r in range(len(obs.roles))
            ]
            means = [m for m in means if not math.isnan(m)]
            if means:
                scores[name] = float(np.mean(means))
        by_scenario[scenario] = scores
    per_role = role_rankings(obs, by_role, test, alpha, keys)
    paired = obs.scheme != "sampled"
    return {
        "scheme": obs.scheme,
        "paired": paired,
        "test": (test if paired else "welch"),
        "correction": "holm",
        "alpha": alpha,
        "confidence": CONFIDENCE,
        "scored": (
            "focal role of each episode"
            if obs.scheme == "role_rotation"
            else "every role of every episode"
        ),
        "overall": overall,
        "comparisons": comparisons,
        "role_rankings": per_role,
        "role_family": sum(len(block["comparisons"]) for block in per_role),
        "by_role": by_role,
        "by_scenario": by_scenario,
    }


def analyse_run(run_dir: str | Path) -> dict[str, Any]:
    """Rankings and empirical game of a tournament folder (``summary.json``).

    The empirical game is computed only when every planned episode is logged.
    """
    from peacegame.tournament.game import empirical_game

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    settings = (manifest.get("config") or {}).get("ranking") or {}
    obs = load_observations(run_dir)
    out: dict[str, Any] = {
        "kind": "tournament",
        "episodes": obs.episodes,
        "planned": obs.planned,
        "complete": obs.complete,
        "roles": obs.roles,
        "competitors": obs.competitors,
        "scenarios": obs.scenarios,
        "warnings": obs.warnings,
    }
    if not len(obs):
        out["rankings"] = None
        out["empirical_game"] = None
        return out
    out["rankings"] = compute_rankings(
        obs, settings.get("test", "wilcoxon"), float(settings.get("alpha", 0.05))
    )
    if obs.complete:
        out["empirical_game"] = empirical_game(
            obs,
            epsilon=float(settings.get("epsilon", 0.01)),
            seed=int(manifest.get("base_seed", 0)),
        )
    else:
        out["empirical_game"] = {
            "skipped": (
                f"the run is incomplete ({obs.episodes:,} of {obs.planned:,} "
                "episodes); resume it to see the empirical game"
            )
        }
    return clean(out)
