"""Hypothesis strategies for random small scenarios in the scenario language."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

unit = st.floats(0, 1, allow_nan=False, width=32)


@st.composite
def scenario_dicts(
    draw: st.DrawFn, max_issues: int = 3, max_levels: int = 4, max_actors: int = 4
) -> dict[str, Any]:
    """A random valid scenario mapping with inline actors.

    Utilities are drawn on a coarse grid so that ties and indifferent actors
    happen often; consent rules mix 'always' with issue conditions.
    """
    n_issues = draw(st.integers(1, max_issues))
    issues = []
    for i in range(n_issues):
        n_levels = draw(st.integers(1, max_levels))
        issues.append(
            {
                "name": f"i{i}",
                "levels": [
                    {"name": f"l{j}", "x": draw(st.integers(0, 10))}
                    for j in range(n_levels)
                ],
            }
        )
    features = [{"name": "total", "sum": [f"i{i}.x" for i in range(n_issues)]}]
    n_actors = draw(st.integers(2, max_actors))
    coarse = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
    raw_p = [draw(st.integers(1, 5)) for _ in range(n_actors)]
    actors = []
    for a in range(n_actors):
        terms: list[dict[str, Any]] = []
        for i, issue in enumerate(issues):
            if draw(st.booleans()):
                terms.append(
                    {
                        "weight": draw(st.sampled_from([0.5, 1.0, 2.0])),
                        "issue": f"i{i}",
                        "values": [draw(coarse) for _ in issue["levels"]],
                    }
                )
        if not terms or draw(st.booleans()):
            terms.append(
                {
                    "weight": 1.0,
                    "feature": "total",
                    "curve": [[0, draw(coarse)], [10 * n_issues, draw(coarse)]],
                }
            )
        actors.append(
            {
                "id": f"a{a}",
                "no_deal": draw(coarse) * 0.8,
                "discount": draw(st.sampled_from([0.8, 0.9, 1.0])),
                # Exact fractions so the probabilities sum to 1 within 1e-6.
                "recognition": raw_p[a] / sum(raw_p),
                "terms": terms,
            }
        )
    consent: list[dict[str, Any]] = [{"actors": ["a0"]}]
    for a in range(1, n_actors):
        issue = issues[draw(st.integers(0, n_issues - 1))]
        levels = [lv["name"] for lv in issue["levels"]]
        chosen = draw(st.lists(st.sampled_from(levels), min_size=1, unique=True))
        if draw(st.booleans()):
            consent.append({"actors": [f"a{a}"]})
        else:
            consent.append(
                {"actors": [f"a{a}"], "when": {"issue": issue["name"], "in": chosen}}
            )
    return {
        "name": "random",
        "issues": issues,
        "features": features,
        "actors": actors,
        "consent": consent,
    }
