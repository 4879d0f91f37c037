"""Plain-text and JSON renderings of scenarios and their solutions (no pandas).

Every table the project prints or writes, as text, Markdown or HTML, goes
through :func:`table`, :func:`markdown_table` or :func:`html_table`, which all
format their cells the same way (:func:`cell_text`) and lay them out with
``tabulate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tabulate import tabulate

from peacegame.scenario.compiled import CompiledScenario
from peacegame.scenario.consent import minimal_winning_coalitions
from peacegame.scenario.loader import LoadedScenario
from peacegame.scenario.model import (
    AllCondition,
    AnyCondition,
    ConsentRule,
    FeatureCondition,
    IssueCondition,
    NotCondition,
)
from peacegame.solutions import POINTS, Solution

POINT_LABELS = {
    "nash": "Nash (weighted)",
    "kalai_smorodinsky": "Kalai-Smorodinsky",
    "utilitarian": "utilitarian",
    "egalitarian": "egalitarian",
}


def cell_text(value: Any) -> str:
    """One table cell as text: floats with 3 decimals, None as empty."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _layout(
    headers: Sequence[Any], rows: Sequence[Sequence[Any]], fmt: str, escape: bool
) -> str:
    def text(value: Any) -> str:
        cell = cell_text(value)
        return cell.replace("|", "\\|") if escape else cell

    return tabulate(
        [[text(c) for c in row] for row in rows],
        headers=[text(h) for h in headers],
        tablefmt=fmt,
        disable_numparse=True,
        stralign="left",
        preserve_whitespace=True,  # keep the indent of sub-rows ("  of them")
    )


def table(headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """Render a left-aligned text table with a header rule."""
    return _layout(headers, rows, "simple", escape=False)


def markdown_table(headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """Render a GitHub-flavoured Markdown table (``|`` in cells escaped)."""
    return _layout(headers, rows, "github", escape=True)


def html_table(headers: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """Render an HTML ``<table>`` (cells HTML-escaped)."""
    return _layout(headers, rows, "html", escape=False)


def condition_text(cond: Any) -> str:
    """Return a readable rendering of a condition."""
    if cond is None:
        return "always"
    if isinstance(cond, IssueCondition):
        if cond.in_ is not None:
            return f"{cond.issue} in {{{', '.join(cond.in_)}}}"
        return f"{cond.issue} not in {{{', '.join(cond.not_in or [])}}}"
    if isinstance(cond, FeatureCondition):
        for key, sym in (
            ("above", ">"),
            ("below", "<"),
            ("at_least", ">="),
            ("at_most", "<="),
        ):
            value = getattr(cond, key)
            if value is not None:
                return f"{cond.feature} {sym} {value:g}"
    if isinstance(cond, AllCondition):
        return "(" + " and ".join(condition_text(c) for c in cond.all) + ")"
    if isinstance(cond, AnyCondition):
        return "(" + " or ".join(condition_text(c) for c in cond.any) + ")"
    if isinstance(cond, NotCondition):
        return f"not {condition_text(cond.not_)}"
    return repr(cond)


def scenario_summary(loaded: LoadedScenario, scenario: CompiledScenario) -> str:
    """Issues, actors, outcome counts and consent rules of a scenario."""
    spec = loaded.spec
    out = [
        f"Scenario {scenario.name} ({loaded.path})",
        f"  {scenario.n_outcomes:,} feasible outcomes of a "
        f"{scenario.grid_size:,}-point "
        f"grid; {scenario.n_actors} actors; hash {scenario.scenario_hash[:12]}",
        "",
        "Issues",
    ]
    for issue in scenario.issues:
        out.append(f"  {issue.name:<14} {' | '.join(issue.levels)}")
    if spec.drop_levels:
        for name, dropped in spec.drop_levels.items():
            out.append(f"  (dropped from {name}: {', '.join(dropped)})")
    if spec.features:
        out += ["", "Features"]
        for f in spec.features:
            op = " x " if f.product is not None else " + "
            out.append(f"  {f.name:<18} = {op.join(str(r) for r in f.refs)}")
    if spec.feasibility:
        out += ["", "Feasibility rules"]
        for rule in spec.feasibility:
            kind = "forbid" if rule.forbid is not None else "require"
            out.append(
                f"  {rule.name}: {kind} {condition_text(rule.forbid or rule.require)}"
            )
    rows = []
    for actor in loaded.actors:
        reds = ", ".join(f"{r.name} ({r.kind})" for r in actor.red_lines) or "-"
        rows.append(
            [
                actor.id,
                actor.name or actor.id,
                f"{actor.no_deal:g}",
                f"{actor.discount:g}",
                f"{actor.recognition:g}",
                len(actor.terms),
                reds,
            ]
        )
    out += [
        "",
        "Actors",
        _indent(table(["id", "name", "d", "delta", "p", "terms", "red lines"], rows)),
    ]
    out += ["", "Consent (who votes on a proposal, and how many must accept)"]
    for rule in spec.consent:
        label = f"{rule.name}: " if rule.name else ""
        when = "always" if rule.when is None else f"when {condition_text(rule.when)}"
        out.append(f"  {label}{rule_text(rule)} {when}")
    return "\n".join(out)


def rule_text(rule: ConsentRule) -> str:
    """A consent rule's counting in words, e.g. ``3 of a, b, c, d (veto: a)``."""
    members = ", ".join(rule.members)
    if rule.weights is not None:
        weighted = ", ".join(f"{a} {w:g}" for a, w in rule.weights.items())
        text = f"weight >= {rule.threshold:g} of {weighted}"
    elif rule.quota is None:
        text = f"all of {members}"
    elif rule.quota == "majority":
        text = f"a majority of {members}"
    elif isinstance(rule.quota, float):
        text = f"a share {rule.quota:g} of {members}"
    else:
        text = f"{rule.quota} of {members}"
    if rule.veto:
        text += f" (veto: {', '.join(rule.veto)})"
    return text


def _indent(text: str, pad: str = "  ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def solution_table(scenario: CompiledScenario, solution: Solution) -> str:
    """Return the table printed by ``peacegame solve``."""
    n = scenario.n_outcomes
    zone = int(solution.zone.sum())
    head = [
        f"Scenario {scenario.name}: {n:,} feasible outcomes, "
        f"{scenario.n_actors} actors",
        f"  zone of agreement: {zone:,} outcomes ({100 * zone / n:.1f}%)",
        f"  bargaining set:    {int(solution.bargaining.sum()):,} outcomes "
        "(zone, every actor at or above its no-deal value)",
        f"  Pareto frontier:   {int(solution.frontier.sum()):,} outcomes",
        "",
    ]
    issues = [i.name for i in scenario.issues]
    rows = []
    for key in POINTS:
        k = solution.points[key]
        if k is None:
            rows.append(
                [POINT_LABELS[key], *["-"] * len(issues), *["-"] * scenario.n_actors]
            )
            continue
        decoded = scenario.decode(k)
        rows.append(
            [
                POINT_LABELS[key],
                *[decoded[i] for i in issues],
                *[float(u) for u in scenario.utility[:, k]],
            ]
        )
    rows.append(
        ["no deal (d)", *[""] * len(issues), *[float(d) for d in scenario.no_deal]]
    )
    body = table(["point", *issues, *scenario.actors], rows)
    tail = []
    if zone == 0:
        tail = [
            "",
            "The zone of agreement is empty: at no outcome do the actors at or "
            "above their no-deal values meet the consent rules.",
        ]
    return "\n".join([*head, body, *tail])


def winning_coalitions(scenario: CompiledScenario, outcome: int) -> list[list[str]]:
    """The minimal winning coalitions of ``outcome``, as lists of actor ids.

    A coalition of the actors who vote on the outcome is minimal winning when
    its acceptance meets every consent rule that applies and no member can be
    spared (:func:`peacegame.scenario.consent.minimal_winning_coalitions`).
    Under "all of" rules there is one: all the voters.
    """
    found = minimal_winning_coalitions(scenario.consent, scenario.required, outcome)
    return [[scenario.actors[i] for i in coalition] for coalition in found]


def solution_json(scenario: CompiledScenario, solution: Solution) -> dict[str, Any]:
    """Return a JSON-ready dict of the solution (the ``solve --json`` document)."""
    points = {}
    for key in POINTS:
        k = solution.points[key]
        points[key] = (
            None
            if k is None
            else {
                "outcome": k,
                "decoded": scenario.decode(k),
                "utility": {
                    a: round(float(u), 6)
                    for a, u in zip(
                        scenario.actors, scenario.utility[:, k], strict=True
                    )
                },
                "minimal_winning_coalitions": winning_coalitions(scenario, k),
            }
        )
    return {
        "scenario": scenario.name,
        "scenario_hash": scenario.scenario_hash,
        "n_outcomes": scenario.n_outcomes,
        "grid_size": scenario.grid_size,
        "zone_size": int(solution.zone.sum()),
        "bargaining_set_size": int(solution.bargaining.sum()),
        "frontier_size": int(solution.frontier.sum()),
        "no_deal": {
            a: round(float(d), 6)
            for a, d in zip(scenario.actors, scenario.no_deal, strict=True)
        },
        "points": points,
    }
