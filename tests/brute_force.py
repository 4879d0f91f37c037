"""An independent brute-force evaluator of scenario YAML files, for the tests.

It reads the files with ``yaml.safe_load`` and evaluates them with plain Python
loops, following docs/scenarios.md and the field meanings documented in
``peacegame.scenario.model`` / ``loader``. It imports nothing from peacegame,
so the numbers it gives check the package's compiler and solution concepts
instead of repeating them:

- ``extends`` chains (a variant merged over its base, key by key; lists of
  named items merged by name, ``remove: true`` deletes; anything else is
  replaced), actor files, and ``overrides`` applied per actor in the documented
  order (the base scenario's block first, then each variant's);
- the outcome grid (``itertools.product``, the first issue most significant),
  ``drop_levels`` (outcomes at a dropped level are removed) and the
  feasibility rules (``forbid`` / ``require``);
- features (products or sums of ``issue.attribute`` references, earlier
  features and numbers) and conditions (``issue in / not_in``, ``feature
  above / below / at_least / at_most``, ``all``, ``any``, ``not``);
- utilities: value tables, piecewise-linear curves clamped beyond their end
  points and constants, with the weights divided by their sum; soft red lines
  subtract their penalty and the result is clipped at 0, a hard red line sets
  the utility to its floor (if several hard lines hold, the lowest floor);
- consent rules (the actors who vote on a proposal, and how many must accept:
  all of a rule's actors by default, or a ``quota`` count, fraction or
  ``majority``, or ``weights`` reaching a ``threshold``, plus ``veto`` actors),
  the zone of agreement (the actors at or above their no-deal values meet
  every rule that applies), the bargaining set (the zone with *every* actor at
  or above d) and the weighted Nash point.

Arithmetic: every number of the YAML is read as the exact decimal it is
written as (``Fraction(str(x))``), and utilities, features and ``u >= d`` are
exact ``Fraction`` arithmetic, so the comparison ``u >= d`` needs no tolerance
(tolerance 0). The package compares in float64 with a tolerance of 1e-9;
:attr:`Evaluation.margin` (the smallest ``|u - d|`` over all outcomes and
actors) shows that no outcome is near enough to d for the two to differ. Only
the Nash objective ``sum_i w_i log(u_i - d_i)`` is float64 (logarithms are not
rational); two objectives within :data:`NASH_TIE` of each other would be a tie,
broken by the larger exact utility sum and then by the lower outcome index
(the rule documented in ``peacegame.solutions``), and
:attr:`Evaluation.nash_gap` reports how far the runner-up is from the Nash
point, so a test can check that no tie decided it.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "configs" / "scenarios"

NASH_TIE = 1e-9
"""Nash objectives (float64 sums of logarithms) closer than this are a tie."""


def num(value: Any) -> Fraction:
    """The exact decimal a YAML number is written as.

    An uncertain number (``{value: x, range: [...], ...}``) is worth its value.
    """
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return Fraction(str(value))


# --------------------------------------------------------------------------- #
# Reading: extends, actor files, overrides
# --------------------------------------------------------------------------- #


def _name(item: Any) -> Any:
    return item.get("name", item.get("id")) if isinstance(item, dict) else None


def _named(items: Any) -> bool:
    return isinstance(items, list) and all(_name(i) is not None for i in items)


def merge(base: Any, over: Any) -> Any:
    """Merge ``over`` over ``base`` as docs/scenarios.md says two layers merge."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base[key], value) if key in base else merge([], value)
        return out
    if isinstance(base, list) and over and _named(over) and _named(base):
        out = [copy.deepcopy(item) for item in base]
        for item in over:
            names = [_name(b) for b in out]
            if item.get("remove") is True:
                out.pop(names.index(_name(item)))  # ValueError: names nothing
            elif _name(item) in names:
                i = names.index(_name(item))
                out[i] = merge(out[i], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(over)


def _read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The scenario merged over its ``extends`` chain, and the override blocks.

    The override blocks are returned in the order they apply (the file furthest
    up the chain first); they are never merged with each other.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "actors" in data:  # actor files are relative to the file naming them
        data["actors"] = [
            str((path.parent / a).resolve()) if isinstance(a, str) else a
            for a in data["actors"]
        ]
    layers = [data.pop("overrides")] if data.get("overrides") else []
    parent = data.pop("extends", None)
    if parent is None:
        return data, layers
    base, base_layers = _read(path.parent / parent)
    return merge(base, data), [*base_layers, *layers]


def _actor(entry: Any, layers: list[dict[str, Any]]) -> dict[str, Any]:
    raw = (
        yaml.safe_load(Path(entry).read_text(encoding="utf-8"))
        if isinstance(entry, str)
        else copy.deepcopy(entry)
    )
    for layer in layers:
        if raw["id"] in layer:
            raw = merge(raw, layer[raw["id"]])
    return raw


# --------------------------------------------------------------------------- #
# Evaluation
# --------------------------------------------------------------------------- #


def _level(raw: Any) -> tuple[str, dict[str, Fraction]]:
    if not isinstance(raw, dict):
        return str(raw), {}
    attrs = {k: num(v) for k, v in raw.items() if k not in ("name", "description")}
    return str(raw["name"]), attrs


def _holds(cond: dict[str, Any], chosen: dict[str, str], env: dict) -> bool:
    """Evaluate a condition at one outcome (levels ``chosen``, numbers ``env``)."""
    if "all" in cond:
        return all(_holds(c, chosen, env) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, chosen, env) for c in cond["any"])
    if "not" in cond:
        return not _holds(cond["not"], chosen, env)
    if "issue" in cond:
        level = chosen[cond["issue"]]
        if "in" in cond:
            return level in [str(x) for x in cond["in"]]
        return level not in [str(x) for x in cond["not_in"]]
    x = env[cond["feature"]]
    if "above" in cond:
        return x > num(cond["above"])
    if "below" in cond:
        return x < num(cond["below"])
    if "at_least" in cond:
        return x >= num(cond["at_least"])
    return x <= num(cond["at_most"])


def _curve(points: list[list[Any]], x: Fraction) -> Fraction:
    """Piecewise-linear through ``points``, constant beyond the end points."""
    pts = [(num(a), num(b)) for a, b in points]
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]


@dataclass(frozen=True)
class Outcome:
    """One feasible outcome.

    Attributes:
        index: Its position among the feasible outcomes, in grid order.
        levels: Per issue, the chosen level name.
        features: Every ``issue.attribute`` and feature value.
        utility: Per actor id, the exact utility.
        required: The actor ids who vote on it.
        rules: The consent rules that apply to it (as in the YAML).

    """

    index: int
    levels: dict[str, str]
    features: dict[str, Fraction]
    utility: dict[str, Fraction]
    required: frozenset[str]
    rules: tuple[dict[str, Any], ...] = ()

    def carried_by(self, accepting: set[str] | frozenset[str]) -> bool:
        """Whether ``accepting`` meets every consent rule that applies."""
        return all(rule_met(rule, accepting) for rule in self.rules)


@dataclass(frozen=True)
class Evaluation:
    """A scenario evaluated by brute force.

    Attributes:
        name: The scenario's name.
        actors: Actor ids in scenario order.
        no_deal: Per actor id, d (exact).
        recognition: Per actor id, the recognition probability (exact).
        issues: Per issue, its level names (``drop_levels`` included).
        grid_size: Grid points before the feasibility rules and ``drop_levels``
            (the product of the issues' level counts).
        outcomes: The feasible outcomes, in grid order.

    """

    name: str
    actors: tuple[str, ...]
    no_deal: dict[str, Fraction]
    recognition: dict[str, Fraction]
    issues: dict[str, tuple[str, ...]]
    grid_size: int
    outcomes: tuple[Outcome, ...]

    @property
    def n_outcomes(self) -> int:
        """The number of feasible outcomes."""
        return len(self.outcomes)

    def accepts(self, actor: str, o: Outcome) -> bool:
        """``u >= d``, exactly."""
        return o.utility[actor] >= self.no_deal[actor]

    def in_zone(self, o: Outcome) -> bool:
        """The actors at or above their d meet every rule that applies to ``o``."""
        return o.carried_by({a for a in self.actors if self.accepts(a, o)})

    def in_bargaining_set(self, o: Outcome) -> bool:
        """In the zone, and every actor (required or not) at least at d."""
        return self.in_zone(o) and all(self.accepts(a, o) for a in self.actors)

    @functools.cached_property
    def zone(self) -> tuple[Outcome, ...]:
        """The zone of agreement."""
        return tuple(o for o in self.outcomes if self.in_zone(o))

    @functools.cached_property
    def margin(self) -> Fraction:
        """The smallest ``|u - d|`` over every outcome and actor."""
        return min(
            abs(o.utility[a] - self.no_deal[a])
            for o in self.outcomes
            for a in self.actors
        )

    def _nash_ranking(self) -> list[tuple[int, float, Fraction, int]]:
        """Bargaining-set outcomes, best first, by the documented Nash rule.

        Key: fewest weighted actors without a gain, then the largest
        ``sum_i w_i log(u_i - d_i)``; an objective within :data:`NASH_TIE` of
        the best is a tie, broken by the larger utility sum, then the lower
        index (applied by :attr:`nash_point`).
        """
        rows = []
        weighted = [a for a in self.actors if self.recognition[a] > 0]
        for o in self.outcomes:
            if not self.in_bargaining_set(o):
                continue
            gains = {a: o.utility[a] - self.no_deal[a] for a in weighted}
            zeros = sum(1 for g in gains.values() if g <= 0)
            objective = sum(
                float(self.recognition[a]) * math.log(g)
                for a, g in gains.items()
                if g > 0
            )
            rows.append((zeros, objective, sum(o.utility.values()), o.index))
        rows.sort(key=lambda r: (r[0], -r[1]))
        return rows

    @functools.cached_property
    def nash_point(self) -> Outcome | None:
        """The weighted Nash bargaining point (weights: recognition)."""
        rows = self._nash_ranking()
        if not rows:
            return None
        best = [r for r in rows if r[0] == rows[0][0]]
        best = [r for r in best if r[1] >= best[0][1] - NASH_TIE]
        top_sum = max(r[2] for r in best)
        best = [r for r in best if r[2] == top_sum]
        return self.outcomes[min(r[3] for r in best)]

    @functools.cached_property
    def nash_gap(self) -> float:
        """How far the runner-up's Nash objective is below the Nash point's."""
        rows = self._nash_ranking()
        if len(rows) < 2 or rows[1][0] != rows[0][0]:
            return math.inf
        return rows[0][1] - rows[1][1]

    @functools.cached_property
    def utilitarian_point(self) -> Outcome | None:
        """The zone outcome with the largest utility sum (then the lower index)."""
        if not self.zone:
            return None
        return max(self.zone, key=lambda o: (sum(o.utility.values()), -o.index))


@functools.cache
def _evaluate(path: str) -> Evaluation:
    data, layers = _read(Path(path))
    actors = [_actor(entry, layers) for entry in data["actors"]]
    dropped = {k: {str(x) for x in v} for k, v in data.get("drop_levels", {}).items()}
    issues = [(i["name"], [_level(raw) for raw in i["levels"]]) for i in data["issues"]]

    # Per actor: normalised weights and the terms as small functions of the
    # outcome; curve values are memoised per feature value (few distinct ones).
    evaluators = []
    for actor in actors:
        total = sum(num(t["weight"]) for t in actor["terms"])
        terms = []
        for t in actor["terms"]:
            w = num(t["weight"]) / total
            if "issue" in t:
                values = t["values"]
                if isinstance(values, list):  # one value per level, in order
                    names = [lv[0] for lv in dict(issues)[t["issue"]]]
                    table = {n: num(v) for n, v in zip(names, values, strict=True)}
                else:
                    table = {str(k): num(v) for k, v in values.items()}
                terms.append(("table", w, t["issue"], table))
            elif "feature" in t:
                terms.append(("curve", w, t["feature"], (t["curve"], {})))
            else:
                terms.append(("constant", w, None, num(t["constant"])))
        evaluators.append((actor, terms))

    outcomes = []
    grid_size = 0
    names = [name for name, _ in issues]
    for combo in itertools.product(*(levels for _, levels in issues)):
        grid_size += 1
        chosen = {n: lv[0] for n, lv in zip(names, combo, strict=True)}
        if any(chosen[n] in gone for n, gone in dropped.items()):
            continue  # drop_levels removes these outcomes
        env: dict[str, Fraction] = {}
        for n, (_, attrs) in zip(names, combo, strict=True):
            for key, value in attrs.items():
                env[f"{n}.{key}"] = value
        for feature in data.get("features", []):
            refs = [env[r] if isinstance(r, str) else num(r) for r in _refs(feature)]
            if "product" in feature:
                env[feature["name"]] = math.prod(refs, start=Fraction(1))
            else:
                env[feature["name"]] = sum(refs, Fraction(0))
        if not _feasible(data.get("feasibility", []), chosen, env):
            continue
        utility = {}
        for actor, terms in evaluators:
            u = Fraction(0)
            for kind, w, key, spec in terms:
                if kind == "table":
                    u += w * spec[chosen[key]]
                elif kind == "curve":
                    points, memo = spec
                    x = env[key]
                    if x not in memo:
                        memo[x] = _curve(points, x)
                    u += w * memo[x]
                else:
                    u += w * spec
            u = _red_lines(u, actor.get("red_lines", []), chosen, env)
            utility[actor["id"]] = u
        required = set()
        rules = []
        for rule in data["consent"]:
            if "when" not in rule or _holds(rule["when"], chosen, env):
                required.update(rule_members(rule))
                rules.append(rule)
        outcomes.append(
            Outcome(
                len(outcomes), chosen, env, utility, frozenset(required), tuple(rules)
            )
        )
    return Evaluation(
        name=data["name"],
        actors=tuple(a["id"] for a in actors),
        no_deal={a["id"]: num(a["no_deal"]) for a in actors},
        recognition={a["id"]: num(a["recognition"]) for a in actors},
        issues={n: tuple(lv[0] for lv in levels) for n, levels in issues},
        grid_size=grid_size,
        outcomes=tuple(outcomes),
    )


def rule_members(rule: dict[str, Any]) -> list[str]:
    """A consent rule's actors: ``actors``, or the keys of ``weights``."""
    return list(rule["actors"]) if "actors" in rule else list(rule["weights"])


def rule_met(rule: dict[str, Any], accepting: set[str] | frozenset[str]) -> bool:
    """Whether the actors in ``accepting`` meet one consent rule, exactly."""
    members = rule_members(rule)
    if any(v not in accepting for v in rule.get("veto", [])):
        return False
    if "weights" in rule:
        weight = sum(
            (num(w) for a, w in rule["weights"].items() if a in accepting),
            Fraction(0),
        )
        return weight >= num(rule["threshold"])
    yes = sum(1 for a in members if a in accepting)
    quota = rule.get("quota")
    if quota is None:
        return yes == len(members)
    if quota == "majority":
        return 2 * yes > len(members)
    if isinstance(quota, int):
        return yes >= quota
    return yes >= num(quota) * len(members)


def _refs(feature: dict[str, Any]) -> list[Any]:
    return feature["product"] if "product" in feature else feature["sum"]


def _feasible(rules: list[dict[str, Any]], chosen: dict[str, str], env: dict) -> bool:
    for rule in rules:
        if "forbid" in rule and _holds(rule["forbid"], chosen, env):
            return False
        if "require" in rule and not _holds(rule["require"], chosen, env):
            return False
    return True


def _red_lines(
    u: Fraction, red_lines: list[dict[str, Any]], chosen: dict[str, str], env: dict
) -> Fraction:
    crossed = [r for r in red_lines if _holds(r["when"], chosen, env)]
    hard = [num(r.get("floor", 0.0)) for r in crossed if r.get("kind") == "hard"]
    if hard:
        return min(hard)
    for r in crossed:
        u = max(u - num(r.get("penalty", 0.25)), Fraction(0))
    return u


def evaluate(scenario: str | Path) -> Evaluation:
    """Evaluate a scenario file (or a shipped scenario name) by brute force."""
    path = Path(scenario)
    if not path.suffix:
        path = SCENARIOS / f"{scenario}.yaml"
    return _evaluate(str(path.resolve()))
