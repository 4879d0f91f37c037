"""Analyse the answers of a sensitivity run: robustness, effects, indices.

- **Probability that an answer holds**: the share of calibrations in which it
  holds, with a Wilson 95% interval (``scipy.stats.binomtest``), treating the
  calibrations as independent draws (for a Sobol' or Morris design this is an
  approximation).
- **Effect sizes**: quantiles of how many of the focus actor's acceptable
  outcomes have the question's feature (the outcomes the counterfactual
  removes), of its relative size, and of the zone's growth.
- **Sobol' indices** (``--method sobol``): first and total order per
  uncertain number, ``SALib.analyze.sobol``, with 95% confidence half-widths;
  **Morris** (``--method morris``): ``mu*`` and ``sigma``,
  ``SALib.analyze.morris``. An output that never varies has all indices 0.
- **One at a time** (every method): the effect size with each number at its
  low and high end and the others at their values (the tornado plot).
- **Nash point**: how often it differs from the nominal one, and the most
  frequent points; **red lines**: how often each binds.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from peacegame.analysis.sensitivity.question import Setup
from peacegame.analysis.sensitivity.sampling import MORRIS_LEVELS, problem
from peacegame.scenario.uncertainty import UncertainParameter

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
INDEXED = ("accepts_with", "zone_with", "holds", "nash_changed")
"""The outputs whose sensitivity indices are reported."""


def proportion(hits: int, n: int) -> dict[str, float]:
    """Share with its Wilson 95% interval."""
    from scipy.stats import binomtest

    if n == 0:
        return {"p": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    ci = binomtest(int(hits), int(n)).proportion_ci(0.95, method="wilson")
    return {"p": hits / n, "low": float(ci.low), "high": float(ci.high), "n": int(n)}


def _quantiles(x: np.ndarray) -> dict[str, float]:
    if x.size == 0:
        return {}
    q = np.quantile(x, QUANTILES)
    out = {f"q{int(p * 100):02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)}
    out["mean"] = float(x.mean())
    return out


def outputs(answers: dict[str, np.ndarray], nominal_nash: int) -> dict[str, np.ndarray]:
    """The scalar outputs per calibration that the indices are computed for."""
    return {
        "accepts_with": answers["accepts_with"].astype(float),
        "zone_with": answers["zone_with"].astype(float),
        "holds": (answers["accepts_with"] > 0).astype(float),
        "nash_changed": (answers["nash"] != nominal_nash).astype(float),
    }


def indices(
    method: str,
    params: Sequence[UncertainParameter],
    design: np.ndarray,
    y: np.ndarray,
    seed: int,
) -> dict[str, Any] | None:
    """Sobol' or Morris indices of one output (None for Latin hypercube).

    Args:
        method: ``sobol``, ``morris`` or ``lhs``.
        params: The uncertain numbers (the design's columns).
        design: The unit design SALib drew.
        y: One output per design row.
        seed: Seed of SALib's bootstrap.

    """
    names = [p.name for p in params]
    if method == "lhs":
        return None
    if np.ptp(y) == 0:
        zero = [0.0] * len(names)
        if method == "sobol":
            return {
                "names": names,
                "S1": zero,
                "S1_conf": zero,
                "ST": zero,
                "ST_conf": zero,
            }
        return {"names": names, "mu_star": zero, "sigma": zero, "mu_star_conf": zero}
    prob = problem(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(
                prob, y, calc_second_order=False, seed=seed, print_to_console=False
            )
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            from SALib.analyze import morris

            res = morris.analyze(
                prob,
                design,
                y,
                num_levels=MORRIS_LEVELS,
                seed=seed,
                print_to_console=False,
            )
            keys = ("mu_star", "sigma", "mu_star_conf")
    return {"names": names, **{k: [float(v) for v in np.asarray(res[k])] for k in keys}}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready summary of an evaluated run (see the module docstring)."""
    setup: Setup = result["setup"]
    manifest = result["manifest"]
    spec = manifest["spec"]
    answers, oat = result["answers"], result["oat"]
    sc = setup.compiled
    params = setup.calibrations.parameters
    n = int(answers["zone"].size)
    nominal = {k: v[0].tolist() for k, v in oat.items()}
    nominal_nash = int(oat["nash"][0])
    y = outputs(answers, nominal_nash)
    with_rel = answers["accepts_without"] > 0
    relative = answers["accepts_with"][with_rel] / answers["accepts_without"][with_rel]
    nash_counts = Counter(int(k) for k in answers["nash"])
    grid_to_outcome = {int(g): k for k, g in enumerate(sc.grid_index)}

    def describe(grid: int) -> str:
        if grid < 0:
            return "(none: empty bargaining set)"
        if grid in grid_to_outcome:
            return sc.describe(grid_to_outcome[grid])
        return f"grid point {grid}"

    red = [
        {
            "actor": key[0],
            "red_line": key[1],
            "binds": proportion(int((answers["binds"][:, r] > 0).sum()), n),
            "nominal": int(oat["binds"][0, r]),
            "mean_outcomes": float(answers["binds"][:, r].mean()),
        }
        for r, key in enumerate(setup.batch_question.red_lines)
    ]
    swing = []
    for k, p in enumerate(params):
        low, high = oat["accepts_with"][1 + 2 * k], oat["accepts_with"][2 + 2 * k]
        swing.append(
            {
                "name": p.name,
                "label": p.label,
                "low": int(low),
                "high": int(high),
                "swing": int(abs(high - low)),
            }
        )
    idx = {
        out: indices(spec["method"], params, result["design"], y[out], spec["seed"])
        for out in INDEXED
    }
    doc: dict[str, Any] = {
        "schema": manifest["schema"],
        "scenario": sc.name,
        "scenario_hash": sc.scenario_hash,
        "method": spec["method"],
        "seed": spec["seed"],
        "calibrations": n,
        "parameters": manifest["parameters"],
        "question": manifest["question"],
        "focus_name": setup.focus_name,
        "nominal": nominal,
        "holds": proportion(int(y["holds"].sum()), n),
        "zone_widens": proportion(int((answers["zone_with"] > 0).sum()), n),
        "zone_nonempty": proportion(int((answers["zone"] > 0).sum()), n),
        "nash_changes": proportion(int(y["nash_changed"].sum()), n),
        "nash_nominal": describe(nominal_nash),
        "nash_points": [
            {"point": describe(g), "share": c / n}
            for g, c in nash_counts.most_common(5)
        ],
        "effects": {
            "accepts_with": _quantiles(answers["accepts_with"].astype(float)),
            "relative": _quantiles(relative),
            "zone_with": _quantiles(answers["zone_with"].astype(float)),
            "zone": _quantiles(answers["zone"].astype(float)),
        },
        "red_lines": red,
        "one_at_a_time": sorted(swing, key=lambda s: -s["swing"]),
        "indices": idx,
        "depends_most_on": depends_most_on(spec["method"], idx["accepts_with"], swing),
    }
    doc["text"] = summary_text(doc)
    return doc


def depends_most_on(
    method: str, idx: dict[str, Any] | None, swing: list[dict[str, Any]], top: int = 3
) -> list[dict[str, Any]]:
    """The uncertain numbers the effect size depends on most.

    By total-order index (Sobol'), ``mu*`` (Morris), else the one-at-a-time
    swing. Numbers with a zero score are left out.
    """
    labels = {s["name"]: s["label"] for s in swing}
    if idx is not None:
        key = "ST" if method == "sobol" else "mu_star"
        scores = list(zip(idx["names"], idx[key], strict=True))
    else:
        scores = [(s["name"], float(s["swing"])) for s in swing]
    scores = sorted((s for s in scores if s[1] > 1e-12), key=lambda s: -s[1])
    return [
        {
            "name": name,
            "label": labels.get(name, name),
            "score": score,
            "measure": {"sobol": "ST", "morris": "mu_star"}.get(method, "swing"),
        }
        for name, score in scores[:top]
    ]


def question_label(q: dict[str, Any]) -> str:
    """What the question's counterfactual takes away, in words.

    The feature's label for a feature question (``Chinese troops``), else
    ``the <variant> variant``.
    """
    if q.get("feature"):
        return q.get("label") or q["feature"].replace("_", " ")
    from pathlib import Path

    return f"the {Path(str(q.get('variant'))).stem} variant"


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def summary_text(doc: dict[str, Any]) -> str:
    """The summary in words and a few tables."""
    from peacegame.describe import table as layout

    def table(rows: list[list[Any]], head: list[str]) -> str:
        return layout(head, rows)

    n = doc["calibrations"]
    q = doc["question"]
    lines = [
        f"Sensitivity of {doc['scenario']}: {n:,} calibrations "
        f"({doc['method']}, seed {doc['seed']}) over {len(doc['parameters'])} "
        "uncertain numbers.",
    ]
    drivers = (
        ", ".join(
            f"{d['label']} ({d['measure']} {d['score']:.2f})"
            for d in doc["depends_most_on"]
        )
        or "none of the uncertain numbers (the effect never changes)"
    )
    if q is not None:
        h, nom = doc["holds"], doc["nominal"]
        label = question_label(q)
        noun, actor = q.get("noun", "outcomes"), doc["focus_name"]
        if q.get("feature"):
            claim = f"allowing {label} enlarges the set of {noun} {actor} accepts"
            asked = f"Does allowing {label} enlarge the {noun} {actor} accepts?"
        else:
            claim = f"{actor} accepts more {noun} than in {label}"
            asked = f"Does {actor} accept more {noun} than in {label}?"
        lines += [
            "",
            q.get("text") or asked,
            f"  In {_pct(h['p'])} of calibrations (95% CI {_pct(h['low'])}-"
            f"{_pct(h['high'])}), {claim}; the answer depends most on {drivers}.",
            f"  Nominal calibration: {nom['accepts_without']:,} -> "
            f"{nom['accepts_without'] + nom['accepts_with']:,} {noun} "
            f"({nom['accepts_with']:+,}); zone of agreement {nom['zone_without']:,}"
            f" -> {nom['zone']:,}.",
            f"  The zone of agreement widens in {_pct(doc['zone_widens']['p'])} "
            f"(95% CI {_pct(doc['zone_widens']['low'])}-"
            f"{_pct(doc['zone_widens']['high'])}).",
        ]
        e = doc["effects"]
        rows = []
        for key, name in (
            ("accepts_with", f"{noun} {actor} accepts added"),
            ("relative", "relative increase"),
            ("zone_with", "zone of agreement added"),
        ):
            qs = e.get(key) or {}
            if not qs:
                continue
            fmt = (
                (lambda v: f"{100 * v:+.0f}%")
                if key == "relative"
                else (lambda v: f"{v:,.0f}")
            )
            rows.append([name, *(fmt(qs[f"q{int(p * 100):02d}"]) for p in QUANTILES)])
        lines += [
            "",
            "Effect sizes (quantiles over calibrations)",
            table(rows, ["effect", "5%", "25%", "median", "75%", "95%"]),
        ]
    nc = doc["nash_changes"]
    lines += [
        "",
        f"Nash point: nominal {doc['nash_nominal']}; it changes in "
        f"{_pct(nc['p'])} of calibrations (95% CI {_pct(nc['low'])}-"
        f"{_pct(nc['high'])}). Most frequent:",
        *(f"  {_pct(p['share'])}  {p['point']}" for p in doc["nash_points"][:3]),
    ]
    if doc["red_lines"]:
        rows = [
            [
                r["actor"],
                r["red_line"],
                r["nominal"],
                _pct(r["binds"]["p"]),
                f"{r['mean_outcomes']:.1f}",
            ]
            for r in doc["red_lines"]
        ]
        lines += [
            "",
            "Binding red lines",
            table(
                rows,
                ["actor", "red line", "binds (nominal)", "binds in", "mean outcomes"],
            ),
        ]
    idx = doc["indices"].get("accepts_with")
    if idx is not None:
        if doc["method"] == "sobol":
            order = np.argsort(-np.asarray(idx["ST"]))[:10]
            rows = [
                [
                    _label(doc, idx["names"][k]),
                    f"{idx['S1'][k]:.3f}",
                    f"{idx['ST'][k]:.3f} +- {idx['ST_conf'][k]:.3f}",
                ]
                for k in order
            ]
            head = ["uncertain number", "first order S1", "total order ST"]
        else:
            order = np.argsort(-np.asarray(idx["mu_star"]))[:10]
            rows = [
                [
                    _label(doc, idx["names"][k]),
                    f"{idx['mu_star'][k]:.2f}",
                    f"{idx['sigma'][k]:.2f}",
                ]
                for k in order
            ]
            head = ["uncertain number", "mu*", "sigma"]
        lines += ["", "Sensitivity of the effect size (top 10)", table(rows, head)]
    return "\n".join(lines)


def _label(doc: dict[str, Any], name: str) -> str:
    for p in doc["parameters"]:
        if p["name"] == name:
            return p["label"]
    return name
