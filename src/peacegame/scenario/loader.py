"""Load a scenario file: resolve ``extends``, actor files and overrides, validate.

Resolution order:

1. Read the scenario YAML; if it ``extends`` another file (relative path), read
   that first and deep-merge this file over it (chains allowed, cycles refused).
2. For each actor entry (a path relative to the file that named it, or an
   inline mapping) deep-merge ``overrides[actor_id]`` and validate it as an
   :class:`~peacegame.scenario.model.Actor`; errors name the actor's file.
3. Validate the scenario and check every cross-reference (issues, levels,
   features, actors); errors name the file and the field path.

Deep merge: mappings merge key by key; two lists whose items are all mappings
with a ``name`` (or ``id``) merge item by item, new names are appended, and an
item ``{name: x, remove: true}`` deletes ``x``; anything else is replaced.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peacegame.errors import ConfigError, suggest
from peacegame.scenario.model import (
    Actor,
    AllCondition,
    AnyCondition,
    CurveTerm,
    FeatureCondition,
    IssueCondition,
    NotCondition,
    Scenario,
    TableTerm,
)
from peacegame.yamlio import read_yaml, validate


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with its provenance.

    Attributes:
        spec: The validated scenario; ``spec.actors`` holds Actor objects.
        path: The scenario file (or a label such as ``<dict>``).
        actor_files: Per actor id, the file it was read from.
        actor_fields: Per actor id, its field path prefix in that file
            (``actors[2].`` for an inline actor, empty for an actor file).
        resolved: The fully merged plain data, used for the scenario hash.

    """

    spec: Scenario
    path: str
    actor_files: dict[str, str]
    resolved: dict[str, Any]
    actor_fields: dict[str, str] | None = None

    @property
    def actors(self) -> list[Actor]:
        """The validated actors, in scenario order."""
        return [a for a in self.spec.actors if isinstance(a, Actor)]

    @property
    def scenario_hash(self) -> str:
        """SHA-256 of the resolved scenario's canonical JSON."""
        blob = json.dumps(self.resolved, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def deep_merge(base: Any, over: Any) -> Any:
    """Merge ``over`` into a copy of ``base`` (see the module docstring)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = deep_merge(base[key], value) if key in base else value
        return out
    if _named_list(base) and _named_list(over):
        out = [copy.deepcopy(item) for item in base]
        for item in over:
            key = _item_name(item)
            index = next((i for i, b in enumerate(out) if _item_name(b) == key), None)
            if item.get("remove") is True:
                if index is not None:
                    out.pop(index)
            elif index is None:
                out.append(item)
            else:
                out[index] = deep_merge(out[index], item)
        return out
    return copy.deepcopy(over)


def _item_name(item: dict[str, Any]) -> Any:
    return item.get("name", item.get("id"))


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and _item_name(v) is not None for v in value)
    )


def _read_with_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and merge it over the file it extends."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(
            f"'extends' forms a cycle: {cycle}", file=path, field="extends"
        )
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping of scenario fields, got {type(data).__name__}",
            file=path,
        )
    data = _absolutise_actor_paths(data, path.parent)
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError("expected a relative file path", file=path, field="extends")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ConfigError(f"no such file {parent_path}", file=path, field="extends")
    base = _read_with_extends(parent_path, (*chain, resolved))
    merged = deep_merge(base, {k: v for k, v in data.items() if k != "extends"})
    return merged


def _absolutise_actor_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Make actor file paths independent of the file that named them."""
    actors = data.get("actors")
    if isinstance(actors, list):
        data = dict(data)
        data["actors"] = [
            str((folder / a).resolve()) if isinstance(a, str) else a for a in actors
        ]
    return data


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load and validate a scenario file.

    Raises:
        ConfigError: With the file, the field path and what was expected.

    """
    path = Path(path)
    data = _read_with_extends(path)
    return scenario_from_dict(data, source=str(path))


def scenario_from_dict(
    data: dict[str, Any], source: str = "<dict>", base_dir: str | Path | None = None
) -> LoadedScenario:
    """Validate a scenario given as plain data (actor paths relative to base_dir).

    Raises:
        ConfigError: With the source, the field path and what was expected.

    """
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping, got {type(data).__name__}", file=source)
    if base_dir is not None:
        data = _absolutise_actor_paths(data, Path(base_dir))
    raw_actors = data.get("actors")
    if not isinstance(raw_actors, list) or not raw_actors:
        raise ConfigError(
            "expected a non-empty list of actor files or mappings",
            file=source,
            field="actors",
        )
    overrides = data.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ConfigError(
            "expected a mapping actor -> fields", file=source, field="overrides"
        )
    actors: list[Actor] = []
    actor_data: list[dict[str, Any]] = []
    actor_files: dict[str, str] = {}
    actor_fields: dict[str, str] = {}
    for i, entry in enumerate(raw_actors):
        if isinstance(entry, str):
            file, prefix = entry, ""
            raw = read_yaml(entry)
        elif isinstance(entry, dict):
            file, prefix, raw = source, f"actors[{i}]", entry
        else:
            raise ConfigError(
                "expected an actor file path or an actor mapping",
                file=source,
                field=f"actors[{i}]",
            )
        if isinstance(raw, dict) and raw.get("id") in overrides:
            over = overrides[raw["id"]]
            if not isinstance(over, dict):
                raise ConfigError(
                    "expected a mapping of actor fields",
                    file=source,
                    field=f"overrides.{raw['id']}",
                )
            raw = deep_merge(raw, over)
        actor = validate(Actor, raw, file=file, prefix=prefix)
        if actor.id in actor_files:
            raise ConfigError(
                f"duplicate actor id {actor.id!r}",
                file=file,
                field=f"{prefix}.id" if prefix else "id",
            )
        actors.append(actor)
        actor_data.append(raw)
        actor_files[actor.id] = file
        actor_fields[actor.id] = f"{prefix}." if prefix else ""
    body = {k: v for k, v in data.items() if k != "actors"}
    body["actors"] = ["placeholder"]
    spec = validate(Scenario, body, file=source)
    spec = spec.model_copy(update={"actors": actors})
    resolved = {k: v for k, v in data.items() if k not in ("actors", "extends")}
    resolved["actors"] = actor_data
    loaded = LoadedScenario(spec, source, actor_files, resolved, actor_fields)
    check_references(loaded)
    return loaded


# --------------------------------------------------------------------------- #
# Cross-reference checks
# --------------------------------------------------------------------------- #


def check_references(loaded: LoadedScenario) -> None:
    """Check every name a scenario uses refers to something it defines.

    Raises:
        ConfigError: On the first dangling or inconsistent reference.

    """
    spec, src = loaded.spec, loaded.path
    issues = {issue.name: issue for issue in spec.issues}
    if len(issues) != len(spec.issues):
        names = [i.name for i in spec.issues]
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"duplicate issue names {dup}", file=src, field="issues")
    known_refs: set[str] = set()
    for issue in spec.issues:
        attrs = set().union(*(lv.attributes.keys() for lv in issue.levels))
        for attr in attrs:
            missing = [lv.name for lv in issue.levels if attr not in lv.attributes]
            if missing:
                raise ConfigError(
                    f"attribute {attr!r} is missing on level(s) {missing}; "
                    "give it on every level of the issue",
                    file=src,
                    field=f"issues.{issue.name}.levels",
                )
            known_refs.add(f"{issue.name}.{attr}")
    for i, feature in enumerate(spec.features):
        where = f"features[{i}]"
        if feature.name in known_refs:
            raise ConfigError(
                f"duplicate feature {feature.name!r}", file=src, field=where + ".name"
            )
        for ref in feature.refs:
            if isinstance(ref, str) and ref not in known_refs:
                raise ConfigError(
                    f"unknown reference {ref!r}{suggest(ref, known_refs)}; expected "
                    "'issue.attribute' or an earlier feature",
                    file=src,
                    field=where,
                )
        known_refs.add(feature.name)
    for issue_name, dropped in spec.drop_levels.items():
        issue = _issue(issues, issue_name, src, f"drop_levels.{issue_name}")
        for level in dropped:
            _level(issue, level, src, f"drop_levels.{issue_name}")
        if len(set(dropped)) >= len(issue.levels):
            raise ConfigError(
                "cannot drop every level of an issue",
                file=src,
                field=f"drop_levels.{issue_name}",
            )
    for i, rule in enumerate(spec.feasibility):
        cond = rule.forbid if rule.forbid is not None else rule.require
        key = "forbid" if rule.forbid is not None else "require"
        _check_condition(cond, issues, known_refs, src, f"feasibility[{i}].{key}")
    actor_ids = [a.id for a in loaded.actors]
    for actor in loaded.actors:
        file = loaded.actor_files[actor.id]
        prefix = (loaded.actor_fields or {}).get(actor.id, "")
        for j, term in enumerate(actor.terms):
            where = f"{prefix}terms[{j}]"
            if isinstance(term, TableTerm):
                issue = _issue(issues, term.issue, file, where + ".issue")
                levels = [lv.name for lv in issue.levels]
                if isinstance(term.values, list):
                    if len(term.values) != len(levels):
                        raise ConfigError(
                            f"expected {len(levels)} values, one per level of "
                            f"{issue.name!r} {levels}, got {len(term.values)}",
                            file=file,
                            field=where + ".values",
                        )
                else:
                    for level in term.values:
                        _level(issue, level, file, where + ".values")
                    missing = [lv for lv in levels if lv not in term.values]
                    if missing:
                        raise ConfigError(
                            f"no value for level(s) {missing} of {issue.name!r}",
                            file=file,
                            field=where + ".values",
                        )
            elif isinstance(term, CurveTerm) and term.feature not in known_refs:
                raise ConfigError(
                    f"unknown feature {term.feature!r}"
                    f"{suggest(term.feature, known_refs)}; expected one of "
                    f"{sorted(known_refs)}",
                    file=file,
                    field=where + ".feature",
                )
        for j, red in enumerate(actor.red_lines):
            _check_condition(
                red.when, issues, known_refs, file, f"{prefix}red_lines[{j}].when"
            )
    for actor_id in spec.overrides:
        if actor_id not in actor_ids:
            raise ConfigError(
                f"unknown actor {actor_id!r}{suggest(actor_id, actor_ids)}; "
                f"expected one of {actor_ids}",
                file=src,
                field=f"overrides.{actor_id}",
            )
    for i, rule in enumerate(spec.consent):
        for actor_id in rule.actors:
            if actor_id not in actor_ids:
                raise ConfigError(
                    f"unknown actor {actor_id!r}{suggest(actor_id, actor_ids)}; "
                    f"expected one of {actor_ids}",
                    file=src,
                    field=f"consent[{i}].actors",
                )
        if rule.when is not None:
            _check_condition(rule.when, issues, known_refs, src, f"consent[{i}].when")
    total = sum(a.recognition for a in loaded.actors)
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(
            f"recognition probabilities sum to {total:.6g}; expected 1 "
            f"({', '.join(f'{a.id}={a.recognition:g}' for a in loaded.actors)})",
            file=src,
            field="actors[*].recognition",
        )


def _issue(issues: dict[str, Any], name: str, file: str, field: str) -> Any:
    if name not in issues:
        raise ConfigError(
            f"unknown issue {name!r}{suggest(name, issues)}; expected one of "
            f"{list(issues)}",
            file=file,
            field=field,
        )
    return issues[name]


def _level(issue: Any, level: str, file: str, field: str) -> None:
    levels = [lv.name for lv in issue.levels]
    if level not in levels:
        raise ConfigError(
            f"unknown level {level!r} of issue {issue.name!r}"
            f"{suggest(level, levels)}; expected one of {levels}",
            file=file,
            field=field,
        )


def _check_condition(
    cond: Any, issues: dict[str, Any], refs: set[str], file: str, field: str
) -> None:
    if isinstance(cond, IssueCondition):
        issue = _issue(issues, cond.issue, file, field + ".issue")
        key = "in" if cond.in_ is not None else "not_in"
        for level in cond.in_ or cond.not_in or []:
            _level(issue, level, file, f"{field}.{key}")
    elif isinstance(cond, FeatureCondition):
        if cond.feature not in refs:
            raise ConfigError(
                f"unknown feature {cond.feature!r}{suggest(cond.feature, refs)}; "
                f"expected one of {sorted(refs)}",
                file=file,
                field=field + ".feature",
            )
    elif isinstance(cond, (AllCondition, AnyCondition)):
        key = "all" if isinstance(cond, AllCondition) else "any"
        for k, sub in enumerate(getattr(cond, key)):
            _check_condition(sub, issues, refs, file, f"{field}.{key}[{k}]")
    elif isinstance(cond, NotCondition):
        _check_condition(cond.not_, issues, refs, file, field + ".not")
