"""Load a run folder's ``episodes.jsonl`` into a pandas DataFrame.

The log is read line by line (streaming): each record is turned into column
values at once and the record dict is dropped, so memory grows with the table,
not with the JSON. A partial last line (a crash mid-write) is skipped and
reported as a warning; a corrupt line anywhere else, or a line with an unknown
``schema_version``, is a one-line :class:`~peacegame.logs.LogError` naming the
file and the line. The rules are those of :func:`peacegame.logs.read_episodes`
(see ``docs/log-schema.md``).

Episode table (:attr:`Run.episodes`), one row per episode, in this column order:

=====================  ============  ================================================
column                 dtype         meaning
=====================  ============  ================================================
``run``                category      the run's label (its folder name)
``episode``            int64         episode id, 0-based
``seed``               int64         the episode seed
``scenario``           category      scenario name
``scenario_hash``      category      SHA-256 of the resolved scenario
``agreement``          bool          an outcome was agreed
``end``                category      ``agreement``, ``deadline``, ``breakdown``,
                                     ``illegal``
``rounds``             int64         rounds played, a count (``round`` + 1)
``round``              int64         the round the episode ended in, from 0
``proposer``           category      the actor of the last (or agreed) proposal
``outcome``            Int64         agreed outcome index (``<NA>`` if none)
``level_<issue>``      category      agreed level of each issue (NaN if none),
                                     categories in the scenario's level order
``utility_<actor>``    float64       U_i of the agreed outcome (NaN if none)
``reward_<actor>``     float64       the payoff: ``delta_i^round * U_i`` or ``d_i``
``social_welfare``     float64       sum of rewards
``in_zone``            boolean       agreed outcome in the zone of agreement
                                     (``<NA>`` if none)
``pareto_distance``    float64       distance to the Pareto frontier (NaN if none)
``nash_distance``      float64       distance to the Nash point (NaN if none)
``policy_<actor>``     category      each actor's policy label
=====================  ============  ================================================

Actors come in the scenario's order (``manifest.json``), issues in the order of
the logged ``decoded`` outcome (the scenario's order).

Event table (:attr:`Run.events`, only when the log has ``events``), one row per
round: ``episode`` (int64), ``round`` (int64), ``proposer`` (category),
``offer`` (int64, the outcome index on the table), ``rejections`` (int64, the
number of reject votes).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peacegame.logs import (
    EPISODES,
    MANIFEST,
    LogError,
    ReadResult,
    iter_records,
    read_manifest,
)

if TYPE_CHECKING:
    import pandas as pd

    from peacegame.scenario.compiled import CompiledScenario
    from peacegame.scenario.loader import LoadedScenario

BASE_COLUMNS = (
    "run",
    "episode",
    "seed",
    "scenario",
    "scenario_hash",
    "agreement",
    "end",
    "rounds",
    "round",
    "proposer",
    "outcome",
)
"""The columns before the per-issue and per-actor ones."""
QUALITY_COLUMNS = ("social_welfare", "in_zone", "pareto_distance", "nash_distance")
"""The columns between the per-actor rewards and the per-actor policies."""
EVENT_COLUMNS = ("episode", "round", "proposer", "offer", "rejections")
"""The columns of the event table."""


def episode_columns(actors: Iterable[str], issues: Iterable[str]) -> list[str]:
    """Return the episode table's columns for these actors and issues, in order."""
    actors, issues = list(actors), list(issues)
    return [
        *BASE_COLUMNS,
        *(f"level_{i}" for i in issues),
        *(f"utility_{a}" for a in actors),
        *(f"reward_{a}" for a in actors),
        *QUALITY_COLUMNS,
        *(f"policy_{a}" for a in actors),
    ]


@dataclass
class Run:
    """One analysed run folder.

    Attributes:
        path: The run folder.
        label: A short name for tables (the folder name).
        manifest: ``manifest.json`` (empty if the folder has none).
        episodes: The episode table (see the module docstring).
        events: The event table, or None when the log has no events.
        actors: Actor ids, in the scenario's order.
        issues: Issue names, in the scenario's order.
        warnings: Notes for the user (partial last line, scenario changed...).
        partial_line: The log ended with an incomplete line (ignored).
        scenario: The run's compiled scenario, when it could be found and its
            hash matches the log; None otherwise (see ``warnings``).
        loaded: The loaded scenario (for descriptions), when found.

    """

    path: Path
    label: str
    manifest: dict[str, Any]
    episodes: pd.DataFrame
    events: pd.DataFrame | None
    actors: tuple[str, ...]
    issues: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)
    partial_line: bool = False
    scenario: CompiledScenario | None = None
    loaded: LoadedScenario | None = None

    @property
    def scenario_name(self) -> str:
        """The scenario name of the log (or the manifest)."""
        names = self.episodes["scenario"].unique() if len(self.episodes) else []
        if len(names):
            return str(names[0])
        return str(self.manifest.get("scenario", {}).get("name", "?"))

    @property
    def scenario_hash(self) -> str:
        """The scenario hash of the log (or the manifest)."""
        hashes = self.episodes["scenario_hash"].unique() if len(self.episodes) else []
        if len(hashes):
            return str(hashes[0])
        return str(self.manifest.get("scenario", {}).get("hash", ""))

    @property
    def max_rounds(self) -> int | None:
        """``protocol.max_rounds`` from the manifest's config, if recorded."""
        config = self.manifest.get("config") or {}
        value = (config.get("protocol") or {}).get("max_rounds")
        return int(value) if isinstance(value, (int, float)) else None

    def actor_name(self, actor: str) -> str:
        """Human-readable actor name (from the scenario, else the id)."""
        if self.scenario is not None and actor in self.scenario.actors:
            return self.scenario.actor_names[self.scenario.actor_index(actor)]
        return actor


class _Coded:
    """A categorical column filled value by value: int32 codes, first-seen order."""

    def __init__(self, missing: int = 0) -> None:
        self.codes = array("i", [-1]) * missing
        self.index: dict[str, int] = {}

    def append(self, value: Any) -> None:
        if value is None:
            self.codes.append(-1)
            return
        code = self.index.get(value)
        if code is None:
            value = str(value)
            code = self.index.setdefault(value, len(self.index))
        self.codes.append(code)

    def categorical(self, order: Iterable[str] | None = None) -> Any:
        """A ``pandas.Categorical``; ``order`` first, then unseen extras."""
        import numpy as np
        import pandas as pd

        seen = list(self.index)
        codes = np.frombuffer(self.codes, dtype=np.int32) if self.codes else None
        if codes is None:
            codes = np.zeros(0, dtype=np.int32)
        if order is None:
            return pd.Categorical.from_codes(codes, categories=seen)
        final = list(dict.fromkeys(order))
        final += [c for c in seen if c not in final]
        position = {c: i for i, c in enumerate(final)}
        remap = np.array([position[c] for c in seen] + [-1], dtype=np.int32)
        return pd.Categorical.from_codes(remap[codes], categories=final)


class _Columns:
    """Typed column buffers (``array``), filled record by record.

    Numbers go into ``array`` buffers and strings into dictionary-coded
    columns, so the memory per episode is a few hundred bytes, not the size
    of the parsed JSON.
    """

    def __init__(self, actors: list[str]) -> None:
        self.actors = actors
        self.issues: list[str] = []
        self.ints = {c: array("q") for c in ("episode", "seed", "rounds", "round")}
        self.ints["outcome"] = array("q")  # -1: none
        self.flags = {"agreement": array("b"), "in_zone": array("b")}  # -1: none
        self.floats = {
            name: array("d")
            for name in (
                *(f"utility_{a}" for a in actors),
                *(f"reward_{a}" for a in actors),
                "social_welfare",
                "pareto_distance",
                "nash_distance",
            )
        }
        self.coded = {
            name: _Coded()
            for name in (
                "scenario",
                "scenario_hash",
                "end",
                "proposer",
                *(f"policy_{a}" for a in actors),
            )
        }
        self.levels: dict[str, _Coded] = {}
        self.ev_ints = {c: array("q") for c in ("episode", "round", "offer")}
        self.ev_ints["rejections"] = array("q")
        self.ev_proposer = _Coded()
        self.n = 0

    def add(self, rec: dict[str, Any]) -> None:
        ints, floats, coded = self.ints, self.floats, self.coded
        nan = math.nan
        episode = int(rec["episode"])
        ints["episode"].append(episode)
        ints["seed"].append(int(rec["seed"]))
        ints["rounds"].append(int(rec["rounds"]))
        ints["round"].append(int(rec["round"]))
        outcome = rec.get("outcome")
        ints["outcome"].append(-1 if outcome is None else int(outcome))
        self.flags["agreement"].append(1 if rec["agreement"] else 0)
        in_zone = rec.get("in_zone")
        self.flags["in_zone"].append(-1 if in_zone is None else int(bool(in_zone)))
        coded["scenario"].append(rec["scenario"])
        coded["scenario_hash"].append(rec.get("scenario_hash", ""))
        coded["end"].append(rec["end"])
        coded["proposer"].append(rec.get("proposer"))
        utility = rec.get("utility") or {}
        reward = rec["reward"]
        policies = rec.get("policies") or {}
        for a in self.actors:
            u = utility.get(a)
            floats["utility_" + a].append(nan if u is None else float(u))
            floats["reward_" + a].append(float(reward[a]))
            coded["policy_" + a].append(policies.get(a))
        for name in ("social_welfare", "pareto_distance", "nash_distance"):
            value = rec.get(name)
            floats[name].append(nan if value is None else float(value))
        decoded = rec.get("decoded") or {}
        for issue in decoded:
            if issue not in self.levels:
                self.issues.append(issue)
                self.levels[issue] = _Coded(missing=self.n)
        for issue, column in self.levels.items():
            column.append(decoded.get(issue))
        events = rec.get("events")
        if events:
            ev = self.ev_ints
            for e in events:
                ev["episode"].append(episode)
                ev["round"].append(int(e["round"]))
                ev["offer"].append(int(e["offer"]))
                self.ev_proposer.append(e["proposer"])
                votes = e.get("votes") or {}
                ev["rejections"].append(sum(v == "reject" for v in votes.values()))
        self.n += 1


def records_to_frames(
    records: Iterable[tuple[int, dict[str, Any]]],
    actors: Iterable[str] | None = None,
    *,
    label: str = "run",
    source: str | Path = "<records>",
    scenario: CompiledScenario | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, tuple[str, ...], tuple[str, ...]]:
    """Build the episode table (and the event table) from episode records.

    Args:
        records: ``(line_number, record)`` pairs, for example from
            :func:`peacegame.logs.iter_records` (line numbers name bad records
            in errors).
        actors: Actor ids in order; None takes them from the first record's
            ``reward`` keys.
        label: The value of the ``run`` column.
        source: The file named in errors.
        scenario: If given, issue level categories follow its level order.

    Returns:
        ``(episodes, events_or_None, actors, issues)``.

    Raises:
        LogError: If a record lacks a field or has one of the wrong type.

    """
    import numpy as np
    import pandas as pd

    table: _Columns | None = None
    actor_list = list(actors) if actors is not None else None
    for number, rec in records:
        if table is None:
            if actor_list is None:
                actor_list = list((rec.get("reward") or {}).keys())
            table = _Columns(actor_list)
        try:
            table.add(rec)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise LogError(
                f"line {number} is not a valid episode record ({what}); see "
                "docs/log-schema.md",
                file=source,
            ) from None
    if table is None:
        raise LogError("holds no complete episode; nothing to analyse", file=source)

    def ints(buffer: array) -> np.ndarray:
        return np.frombuffer(buffer, dtype=np.int64).copy()

    def floats(buffer: array) -> np.ndarray:
        return np.frombuffer(buffer, dtype=np.float64).copy()

    n = table.n
    outcome = ints(table.ints["outcome"])
    zone = np.frombuffer(table.flags["in_zone"], dtype=np.int8)
    data: dict[str, Any] = {
        "run": pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[label]),
        "episode": ints(table.ints["episode"]),
        "seed": ints(table.ints["seed"]),
        "scenario": table.coded["scenario"].categorical(),
        "scenario_hash": table.coded["scenario_hash"].categorical(),
        "agreement": np.frombuffer(table.flags["agreement"], dtype=np.int8) == 1,
        "end": table.coded["end"].categorical(),
        "rounds": ints(table.ints["rounds"]),
        "round": ints(table.ints["round"]),
        "proposer": table.coded["proposer"].categorical(table.actors),
        "outcome": pd.arrays.IntegerArray(np.maximum(outcome, 0), outcome < 0),
    }
    scenario_levels = (
        {i.name: i.levels for i in scenario.issues} if scenario is not None else {}
    )
    issues = list(table.issues)
    if not issues and scenario is not None:
        issues = list(scenario_levels)
    for issue in issues:
        column = table.levels.get(issue) or _Coded(missing=n)
        data[f"level_{issue}"] = column.categorical(scenario_levels.get(issue))
    for a in table.actors:
        data[f"utility_{a}"] = floats(table.floats["utility_" + a])
    for a in table.actors:
        data[f"reward_{a}"] = floats(table.floats["reward_" + a])
    data["social_welfare"] = floats(table.floats["social_welfare"])
    data["in_zone"] = pd.arrays.BooleanArray(zone == 1, zone < 0)
    data["pareto_distance"] = floats(table.floats["pareto_distance"])
    data["nash_distance"] = floats(table.floats["nash_distance"])
    for a in table.actors:
        data[f"policy_{a}"] = table.coded["policy_" + a].categorical()
    episodes = pd.DataFrame(data)
    events = None
    if table.ev_ints["episode"]:
        ev = table.ev_ints
        events = pd.DataFrame(
            {
                "episode": ints(ev["episode"]),
                "round": ints(ev["round"]),
                "proposer": table.ev_proposer.categorical(table.actors),
                "offer": ints(ev["offer"]),
                "rejections": ints(ev["rejections"]),
            }
        )
    return episodes, events, tuple(table.actors), tuple(issues)


def _find_scenario(
    run: Run, warnings: list[str]
) -> tuple[CompiledScenario | None, LoadedScenario | None]:
    """Find the run's scenario file and check its hash against the log.

    Tries the manifest's scenario path, then the manifest's and the log's
    scenario names as shipped scenarios; takes the first whose hash matches.
    """
    from peacegame.errors import UserError
    from peacegame.resources import resolve_config
    from peacegame.scenario import compile_scenario, load_scenario

    info = run.manifest.get("scenario") or {}
    log_hash = run.scenario_hash
    candidates = [
        str(c) for c in (info.get("path"), info.get("name"), run.scenario_name) if c
    ]
    for candidate in dict.fromkeys(candidates):
        try:
            loaded = load_scenario(resolve_config(candidate, "scenarios"))
        except UserError:
            continue
        if log_hash and loaded.scenario_hash != log_hash:
            continue
        return compile_scenario(loaded), loaded
    if candidates:
        warnings.append(
            f"{run.path}: scenario {run.scenario_name!r} with hash "
            f"{log_hash[:12]} not found (changed or moved since the run); "
            "plots that need the scenario are skipped"
        )
    return None, None


def load_run(
    run_dir: str | Path,
    *,
    scenario: CompiledScenario | None = None,
    find_scenario: bool = True,
    label: str | None = None,
) -> Run:
    """Load one run folder.

    Args:
        run_dir: A run folder holding ``episodes.jsonl`` (and ``manifest.json``).
        scenario: The run's compiled scenario, if the caller has it; otherwise
            it is looked up from the manifest (path, then shipped name) and
            used only if its hash matches the log.
        find_scenario: Look the scenario up when ``scenario`` is None.
        label: The run's name in tables (default: the folder name).

    Raises:
        LogError: A missing folder or log, an empty log, a corrupt line that is
            not the last, an unknown schema version, or an invalid record.

    """
    path = Path(run_dir)
    if not path.exists():
        raise LogError("no such folder; expected a run folder", file=path)
    if not path.is_dir():
        raise LogError("expected a run folder, found a file", file=path)
    log = path / EPISODES
    if not log.is_file():
        raise LogError(
            "no episodes.jsonl here; expected a run folder written by `peacegame run`",
            file=path,
        )
    status = ReadResult()
    warnings = status.warnings
    manifest: dict[str, Any] = {}
    if (path / MANIFEST).is_file():
        manifest = read_manifest(path)
    else:
        warnings.append(f"{path}: no manifest.json; config and scenario unknown")
    actors = (manifest.get("scenario") or {}).get("actors")
    label = label or path.resolve().name
    episodes, events, actor_ids, issues = records_to_frames(
        iter_records(log, status),
        actors,
        label=label,
        source=log,
        scenario=scenario,
    )
    run = Run(
        path=path,
        label=label,
        manifest=manifest,
        episodes=episodes,
        events=events,
        actors=actor_ids,
        issues=issues,
        warnings=warnings,
        partial_line=status.partial_line,
    )
    hashes = [str(h) for h in episodes["scenario_hash"].unique()]
    if len(hashes) > 1:
        warnings.append(
            f"{log}: episodes of {len(hashes)} different scenario hashes in one log"
        )
    if scenario is not None:
        run.scenario = scenario
        if scenario.scenario_hash != run.scenario_hash:
            warnings.append(
                f"{path}: the given scenario's hash differs from the log's; "
                "scenario-based plots may not match the episodes"
            )
    elif find_scenario:
        run.scenario, run.loaded = _find_scenario(run, warnings)
        if run.scenario is not None:
            _order_levels(run)
    return run


def _order_levels(run: Run) -> None:
    """Put the level categories in the scenario's level order."""
    assert run.scenario is not None
    for issue in run.scenario.issues:
        column = f"level_{issue.name}"
        if column in run.episodes:
            cat = run.episodes[column].cat
            extra = [c for c in cat.categories if c not in issue.levels]
            run.episodes[column] = cat.set_categories([*issue.levels, *extra])
