"""Loading a textbook game from a scenario or a match config, and playing matches.

:func:`load_game` reads a scenario or a match config into a checked
:class:`LoadedGame`; :func:`play` plays a match config's policies on held-out
seeds and measures what theory predicts.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.errors import UserError
from peacegame.theory.textbook import TextbookGame, check_textbook

DEFAULT_MAX_ROUNDS = 100
"""Deadline of the finite grid game when no match config gives one."""

HELD_OUT_SEED_OFFSET = 1_000_000_000
"""``--play`` uses base seed ``config.seed + HELD_OUT_SEED_OFFSET`` by default (the
offset ``peacegame evaluate`` uses: seeds a training run does not see)."""


# --------------------------------------------------------------------------- #
# Loading a textbook game from a scenario or a match config
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class LoadedGame:
    """A textbook game and, when it came from one, its match config.

    Attributes:
        game: The checked textbook game.
        match: The match config, or None for a scenario file.
        match_file: The match config's path, or None.
        notes: Remarks from loading (for example a protocol that differs from
            the scenario's ``theory`` block).

    """

    game: TextbookGame
    match: Any
    match_file: Path | None
    notes: list[str]


def load_game(
    config: str | Path,
    *,
    max_rounds: int | None = None,
    overrides: list[str] | None = None,
) -> LoadedGame:
    """Load a textbook scenario, or a match config that plays one, and check it.

    Args:
        config: A scenario file or a match config file (a shipped scenario name
            also works).
        max_rounds: Deadline of the finite grid game; default: the match
            config's ``protocol.max_rounds``, else :data:`DEFAULT_MAX_ROUNDS`.
        overrides: ``--set KEY=VALUE`` overrides of a match config.

    Raises:
        UserError: One line, if the file is neither kind, or the scenario is
            not a textbook model.

    """
    from peacegame.kinds import detect_kind
    from peacegame.match_config import check_policies_cover_actors, load_match_config
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario
    from peacegame.yamlio import read_yaml

    path = Path(config)
    if not path.is_file():
        path = resolve_config(str(config), "scenarios")
    kind = detect_kind(read_yaml(path), path)
    match = None
    match_file = None
    if kind == "match":
        # Registers the ``learned`` policy kind (no torch import until used).
        with contextlib.suppress(ImportError):
            importlib.import_module("peacegame.policies.learned")
        match, scenario_file = load_match_config(path, overrides)
        match_file = path
        loaded = load_scenario(scenario_file)
    elif kind == "scenario":
        if overrides:
            raise UserError("--set needs a match config", file=path)
        loaded = load_scenario(path)
    else:
        raise UserError(
            f"expected a textbook scenario or a match config, got an {kind} file",
            file=path,
        )
    declared = loaded.spec.theory
    if declared is None:
        raise UserError(
            "not a textbook model: the scenario declares no 'theory' block; "
            "expected theory: {model: rubinstein | baron_ferejohn | "
            "baron_ferejohn_majority | nash_bargaining} (see docs/theory.md)",
            file=loaded.path,
        )
    scenario = compile_scenario(loaded)
    notes: list[str] = []
    if match is not None:
        check_policies_cover_actors(match, scenario.actors, path)
        protocol = match.protocol
        proposer = protocol.proposer
        breakdown = float(protocol.breakdown_prob)
        names = protocol.order or list(scenario.actors)
        order = tuple(scenario.actor_index(a) for a in names)
        rounds = protocol.max_rounds
        source = f"match config {path}"
        if breakdown != declared.breakdown_prob:
            notes.append(
                f"the match's protocol.breakdown_prob {breakdown:g} differs from "
                f"the scenario's theory.breakdown_prob {declared.breakdown_prob:g}; "
                "the predictions use the match's"
            )
    else:
        proposer = "rotating" if declared.model == "rubinstein" else "random"
        breakdown = float(declared.breakdown_prob)
        order = tuple(range(scenario.n_actors))
        rounds = DEFAULT_MAX_ROUNDS
        source = "the model and the scenario's theory block"
    if max_rounds is not None:
        if max_rounds < 1:
            raise UserError(f"--max-rounds must be at least 1, got {max_rounds}")
        rounds = max_rounds
    game = TextbookGame(
        model=declared.model,
        scenario=scenario,
        file=os.path.normpath(loaded.path),
        proposer=proposer,
        order=order,
        breakdown_prob=breakdown,
        max_rounds=rounds,
        protocol_from=source,
        protocol_file=None if match_file is None else str(match_file),
    )
    check_textbook(game)
    return LoadedGame(game, match, match_file, notes)


# --------------------------------------------------------------------------- #
# Playing a match on held-out seeds
# --------------------------------------------------------------------------- #


def _interval(values: list[float]) -> dict[str, Any]:
    from peacegame.analysis.stats import mean_interval

    mean, lo, hi, n = mean_interval(np.asarray(values, np.float64))
    return {"mean": _num(mean), "low": _num(lo), "high": _num(hi), "n": n}


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def play(loaded: LoadedGame, episodes: int, seed: int | None = None) -> dict[str, Any]:
    """Play a match config's policies in memory and measure what theory predicts.

    Args:
        loaded: A game loaded from a match config.
        episodes: Number of episodes.
        seed: Base seed; default the config's seed + :data:`HELD_OUT_SEED_OFFSET`
            (held out from seeds a training run used).

    Returns:
        The agreement rate and the rate of agreement in round 0 (Wilson 95%
        CIs), and over agreed episodes the mean
        agreement round, the first proposer's share and each actor's share,
        plus each actor's mean reward over all episodes (Student t 95% CIs).

    Raises:
        UserError: Without a match config, or with ``episodes < 1``.

    """
    from peacegame.analysis.stats import wilson_interval
    from peacegame.match import EpisodePlayer

    if loaded.match is None:
        raise UserError("--play needs a match config (it names the policies)")
    if episodes < 1:
        raise UserError(f"--play needs at least 1 episode, got {episodes}")
    config = loaded.match
    if seed is None:
        seed = config.seed + HELD_OUT_SEED_OFFSET
    config = config.model_copy(
        update={"episodes": episodes, "seed": seed, "log_events": "rounds"}
    )
    game = loaded.game
    player = EpisodePlayer(config, game.scenario, config_file=str(loaded.match_file))
    actors = game.scenario.actors
    records = [player.play(i) for i in range(episodes)]
    agreed = [r for r in records if r["agreement"]]
    lo, hi = wilson_interval(len(agreed), len(records))
    at_once = sum(1 for r in agreed if r["round"] == 0)
    lo0, hi0 = wilson_interval(at_once, len(records))
    return {
        "episodes": episodes,
        "seed": seed,
        "policies": dict(player.labels),
        "agreement_rate": {
            "mean": round(len(agreed) / len(records), 6),
            "low": _num(lo),
            "high": _num(hi),
            "n": len(records),
        },
        "first_round_agreement": {
            "mean": round(at_once / len(records), 6),
            "low": _num(lo0),
            "high": _num(hi0),
            "n": len(records),
        },
        "agreement_round": _interval([r["round"] for r in agreed]),
        "first_proposer_share": _interval(
            [r["utility"][r["events"][0]["proposer"]] for r in agreed]
        ),
        "share": {a: _interval([r["utility"][a] for r in agreed]) for a in actors},
        "reward": {a: _interval([r["reward"][a] for r in records]) for a in actors},
    }
