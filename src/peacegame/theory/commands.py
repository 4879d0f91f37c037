"""Rendering the predictions and the ``theory`` command.

:func:`theory_json` gathers everything the command prints, :func:`theory_text`
renders it for humans, and :func:`add_theory_commands` adds the ``theory``
subcommand (:func:`cmd_theory`) to the ``peacegame`` parser.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np

from peacegame.errors import UserError
from peacegame.scenario.compiled import CompiledScenario
from peacegame.theory.closed_form import SOURCES
from peacegame.theory.grid import (
    game_equilibrium,
    stationary_grid_proposals,
    stationary_recognition_equilibria,
)
from peacegame.theory.play import (
    DEFAULT_MAX_ROUNDS,
    HELD_OUT_SEED_OFFSET,
    LoadedGame,
    _num,
    load_game,
    play,
)
from peacegame.theory.textbook import TITLES, predict

# --------------------------------------------------------------------------- #
# Rendering
# --------------------------------------------------------------------------- #


def _split_dict(scenario: CompiledScenario, values: np.ndarray) -> dict[str, float]:
    return {a: round(float(v), 6) for a, v in zip(scenario.actors, values, strict=True)}


def _outcome_json(scenario: CompiledScenario, k: int) -> dict[str, Any]:
    return {
        "outcome": int(k),
        "decoded": scenario.decode(k),
        "utility": _split_dict(scenario, scenario.utility[:, k]),
    }


def theory_json(
    loaded: LoadedGame, measured: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the command prints, as JSON-ready data."""
    from peacegame.solutions import nash_point, nearest_outcome

    game = loaded.game
    s = game.scenario
    prediction = predict(game)
    eq = game_equilibrium(game)
    grid = []
    for name, split in prediction.splits.items():
        item = {"split": name, "target": _split_dict(s, split)}
        item.update(_outcome_json(s, nearest_outcome(s, split)))
        grid.append(item)
    used = {q.source for q in prediction.quantities}
    out: dict[str, Any] = {
        "model": game.model,
        "title": TITLES[game.model],
        "scenario": s.name,
        "file": game.file,
        "actors": list(s.actors),
        "parameters": {
            "discount": _split_dict(s, game.delta),
            "recognition": _split_dict(s, game.recognition),
            "no_deal": _split_dict(s, game.no_deal),
            "proposer": game.proposer,
            "order": [s.actors[i] for i in game.order],
            "breakdown_prob": game.breakdown_prob,
            "max_rounds": game.max_rounds,
            "protocol_from": game.protocol_from,
        },
        "closed_form": {
            "quantities": [
                {
                    "key": q.key,
                    "label": q.label,
                    "formula": q.formula,
                    "value": round(float(q.value), 6),
                    "source": q.source,
                }
                for q in prediction.quantities
            ],
            "shares": _split_dict(s, prediction.shares),
            "first_proposer_share": _num(prediction.first_proposer_share),
            "agreement_round": prediction.agreement_round,
            "notes": [*prediction.notes, *loaded.notes],
        },
        "grid": grid,
        "finite_game": {
            "max_rounds": eq.max_rounds,
            "agreement_prob": round(eq.agreement_prob, 6),
            "first_round_prob": round(eq.first_round_prob, 6),
            "expected_round": _num(eq.expected_round),
            "expected_share": _split_dict(s, eq.expected_share),
            "first_proposer_share": _num(eq.first_proposer_share),
            "value": _split_dict(s, eq.value),
            "round0_offers": {
                a: {
                    **_outcome_json(s, int(eq.offers[0, i])),
                    "agreed": bool(eq.agrees[0, i]),
                }
                for i, a in enumerate(s.actors)
                if game.proposer == "random" or i == game.order[0]
            },
        },
        "sources": {key: SOURCES[key] for key in sorted(used)},
    }
    stationary = stationary_grid_proposals(game)
    if stationary is not None:
        first = game.order[0]
        out["grid_stationary"] = {
            "proposer": s.actors[first],
            "outcomes": stationary,
            "first_proposer_shares": [
                round(float(s.utility[first, k]), 6) for k in stationary
            ],
        }
    recognized = stationary_recognition_equilibria(game)
    if recognized is not None:
        out["grid_stationary_random"] = [
            {
                "thresholds": _split_dict(s, e.thresholds),
                "expected_share": _split_dict(s, e.expected_share),
                "first_proposer_share": _num(e.first_proposer_share),
                "agrees": {a: bool(x) for a, x in zip(s.actors, e.agrees, strict=True)},
            }
            for e in recognized
        ]
    if game.model == "nash_bargaining":
        k = nash_point(s)
        out["grid_nash_point"] = None if k is None else _outcome_json(s, k)
    if measured is not None:
        out["measured"] = measured
    return out


def _ci(item: dict[str, Any]) -> str:
    if item["mean"] is None:
        return "-"
    if item["low"] is None:
        return f"{item['mean']:.3f}"
    return f"{item['mean']:.3f} [{item['low']:.3f}, {item['high']:.3f}]"


def theory_text(doc: dict[str, Any]) -> str:
    """The human-readable printout of :func:`theory_json`'s document."""
    from peacegame.describe import table

    par = doc["parameters"]
    actors = doc["actors"]
    lines = [
        f"{doc['scenario']}: {doc['title']}  ({doc['file']})",
        "  actors:   "
        + "   ".join(
            f"{a}: δ={par['discount'][a]:g} p={par['recognition'][a]:g} "
            f"d={par['no_deal'][a]:g}"
            for a in actors
        ),
        f"  protocol: {par['proposer']} proposers (order {', '.join(par['order'])})"
        if par["proposer"] == "rotating"
        else "  protocol: random proposers (recognition p)",
    ]
    lines[-1] += (
        f", breakdown_prob {par['breakdown_prob']:g}; from {par['protocol_from']}"
    )
    closed = doc["closed_form"]
    lines += ["", "Closed form (infinite horizon, divisible pie)"]
    rows = [
        [q["label"], q["formula"], f"{q['value']:.4f}", q["source"]]
        for q in closed["quantities"]
    ]
    lines.append(table(["quantity", "formula", "value", "source"], rows))
    lines += [f"  note: {n}" for n in closed["notes"]]
    lines += ["", "Nearest grid outcomes"]
    rows = [
        [
            g["split"],
            " ".join(f"{v:.4f}" for v in g["target"].values()),
            f"#{g['outcome']} "
            + ", ".join(f"{k}={v}" for k, v in g["decoded"].items()),
            " ".join(f"{v:.3f}" for v in g["utility"].values()),
        ]
        for g in doc["grid"]
    ]
    if doc.get("grid_nash_point"):
        g = doc["grid_nash_point"]
        rows.append(
            [
                "grid Nash point (solve)",
                "",
                f"#{g['outcome']} "
                + ", ".join(f"{k}={v}" for k, v in g["decoded"].items()),
                " ".join(f"{v:.3f}" for v in g["utility"].values()),
            ]
        )
    lines.append(table(["split", "predicted", "grid outcome", "its shares"], rows))
    fin = doc["finite_game"]
    lines += [
        "",
        f"Finite game on the grid (backward induction, max_rounds {fin['max_rounds']}, "
        "voters accept when indifferent)",
    ]
    rows = [
        [
            f"{a} proposes in round 0",
            f"#{o['outcome']} "
            + ", ".join(f"{k}={v}" for k, v in o["decoded"].items()),
            "accepted" if o["agreed"] else "rejected (delay)",
        ]
        for a, o in fin["round0_offers"].items()
    ]
    lines.append(table(["", "offer", ""], rows))
    lines.append(
        f"  agreement probability {fin['agreement_prob']:.4f}, expected agreement "
        f"round (from 0) {_fmt_num(fin['expected_round'])}, first proposer's share "
        f"{_fmt_num(fin['first_proposer_share'])}"
    )
    lines.append(
        "  expected agreed shares: "
        + ", ".join(f"{a} {_fmt_num(v)}" for a, v in fin["expected_share"].items())
    )
    if "grid_stationary" in doc:
        st = doc["grid_stationary"]
        shares = ", ".join(f"{v:.2f}" for v in st["first_proposer_shares"])
        lines.append(
            f"  stationary equilibria on the grid: {st['proposer']} proposes a "
            f"share in {{{shares}}}"
        )
    if doc.get("grid_stationary_random"):
        lines += _stationary_random_lines(doc)
    if "measured" in doc:
        lines += ["", *_measured_lines(doc), *_nearest_stationary_lines(doc)]
    lines += ["", "Sources"]
    lines += [f"  [{k}] {v}" for k, v in doc["sources"].items()]
    return "\n".join(lines)


def _fmt_num(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def _stationary_random_lines(doc: dict[str, Any]) -> list[str]:
    """The stationary equilibria of the infinite game on the grid, in brief."""
    found = doc["grid_stationary_random"]
    first = [e["first_proposer_share"] for e in found]
    spans = ", ".join(
        f"{a} {min(e['expected_share'][a] for e in found):.4f}-"
        f"{max(e['expected_share'][a] for e in found):.4f}"
        for a in doc["actors"]
    )
    lines = [
        f"  stationary equilibria of the infinite game on the grid: {len(found)} "
        f"(first proposer's share {min(first):.4f}-{max(first):.4f}; "
        f"expected shares {spans})",
    ]
    return lines


def _nearest_stationary_lines(doc: dict[str, Any]) -> list[str]:
    """The stationary grid equilibrium nearest to the measured shares."""
    found, measured = doc.get("grid_stationary_random"), doc["measured"]
    actors = doc["actors"]
    if not found or any(measured["share"][a]["mean"] is None for a in actors):
        return []
    shares = np.array([measured["share"][a]["mean"] for a in actors])
    gaps = [
        float(np.abs(shares - [e["expected_share"][a] for a in actors]).max())
        for e in found
    ]
    near = found[int(np.argmin(gaps))]
    return [
        "  nearest stationary equilibrium of the grid game to the measured shares: "
        "thresholds "
        + " ".join(f"{near['thresholds'][a]:.4f}" for a in actors)
        + ", shares "
        + " ".join(f"{near['expected_share'][a]:.4f}" for a in actors)
        + f" (largest gap {min(gaps):.4f})"
    ]


def _measured_lines(doc: dict[str, Any]) -> list[str]:
    from peacegame.describe import table

    m = doc["measured"]
    closed, fin = doc["closed_form"], doc["finite_game"]
    policies = ", ".join(f"{a}={p}" for a, p in m["policies"].items())
    lines = [
        f"Measured: {m['episodes']} episodes, base seed {m['seed']}; {policies}",
    ]
    rows = [
        [
            "agreement rate",
            "1",
            _fmt_num(fin["agreement_prob"]),
            _ci(m["agreement_rate"]),
        ],
        [
            "agreed in round 0",
            "1",
            _fmt_num(fin["first_round_prob"]),
            _ci(m["first_round_agreement"]),
        ],
        [
            "agreement round (from 0)",
            _fmt_num(closed["agreement_round"]),
            _fmt_num(fin["expected_round"]),
            _ci(m["agreement_round"]),
        ],
        [
            "first proposer's share",
            _fmt_num(closed["first_proposer_share"]),
            _fmt_num(fin["first_proposer_share"]),
            _ci(m["first_proposer_share"]),
        ],
    ]
    for a in doc["actors"]:
        rows.append(
            [
                f"share of {a}",
                _fmt_num(closed["shares"][a]),
                _fmt_num(fin["expected_share"][a]),
                _ci(m["share"][a]),
            ]
        )
    for a in doc["actors"]:
        rows.append(
            [
                f"reward of {a}",
                _fmt_num(closed["shares"][a]),
                _fmt_num(fin["value"][a]),
                _ci(m["reward"][a]),
            ]
        )
    lines.append(
        table(["quantity", "closed form", "grid game", "measured [95% CI]"], rows)
    )
    lines.append(
        "  shares and agreement rounds are over agreed episodes; rewards over all "
        "episodes"
    )
    return lines


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def cmd_theory(args: argparse.Namespace) -> int:
    """Print a textbook config's predictions (and, with --play, measurements)."""
    loaded = load_game(
        args.config, max_rounds=args.max_rounds, overrides=list(args.set or [])
    )
    measured = None
    if args.play is not None:
        measured = play(loaded, args.play, args.seed)
    elif args.seed is not None:
        raise UserError("--seed needs --play")
    doc = theory_json(loaded, measured)
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(theory_text(doc))
    return 0


def add_theory_commands(subparsers: Any) -> None:
    """Add the ``theory`` subcommand to the ``peacegame`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.

    """
    p = subparsers.add_parser(
        "theory",
        help="closed-form predictions of a textbook scenario (docs/theory.md)",
        description=(
            "Print the closed-form predictions of a textbook bargaining "
            "scenario (Rubinstein, Baron-Ferejohn, Nash) with formulas and "
            "sources, the nearest grid outcomes and the equilibrium of the "
            "finite grid game; with --play, also play a match config and "
            "compare."
        ),
    )
    p.add_argument(
        "config", metavar="CONFIG", help="textbook scenario or match config file"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--max-rounds",
        type=int,
        help="deadline of the finite grid game (default: the match config's, "
        f"else {DEFAULT_MAX_ROUNDS})",
    )
    p.add_argument(
        "--play",
        type=int,
        metavar="EPISODES",
        help="play the match config's policies for this many episodes and "
        "compare with the predictions",
    )
    p.add_argument(
        "--seed",
        type=int,
        help="base seed of --play (default: the config's seed + "
        f"{HELD_OUT_SEED_OFFSET:,}, held out)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a match config field, e.g. policies.p1=linear (repeatable)",
    )
    p.set_defaults(func=cmd_theory)
