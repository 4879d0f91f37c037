"""Load a scenario file: resolve ``extends``, actor files and overrides, validate.

Resolution order:

1. Read the scenario YAML; if it ``extends`` another file (relative path), read
   that first and deep-merge this file over it (chains allowed, cycles refused).
   The ``overrides`` blocks are *not* merged with each other: each file of the
   chain keeps its own block, one *override layer*.
2. For each actor entry (a path relative to the file that named it, or an
   inline mapping) apply, in this order:

   a. the actor file (or the inline mapping) itself;
   b. the base scenario's ``overrides[actor_id]`` (the file furthest up the
      ``extends`` chain first);
   c. each variant's ``overrides[actor_id]``, down to the file that was loaded.

   Each layer is deep-merged over the result of the previous ones, so a
   variant's ``{name: X, remove: true}`` removes ``X`` whether ``X`` comes from
   the actor file or from the base scenario's overrides. The result is
   validated as an :class:`~peacegame.scenario.model.Actor`; errors name the
   actor's file.
3. Validate the scenario and check every cross-reference (issues, levels,
   features, actors, questions); errors name the file and the field path.

Deep merge: mappings merge key by key; two lists whose items are all mappings
with a ``name`` (or ``id``) merge item by item, new names are appended, and an
item ``{name: x, remove: true}`` deletes ``x``; anything else is replaced.

Nothing is dropped silently: a ``remove`` that names nothing, an override of an
actor the scenario does not have, an override of a field an actor does not have,
and an override item that names no existing item yet is not a complete new item
(for example a red line without ``when``) are each a one-line
:class:`~peacegame.errors.ConfigError` naming the file and the field.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peacegame.errors import ConfigError, suggest
from peacegame.kinds import kind_mismatch
from peacegame.scenario.model import (
    Actor,
    AllCondition,
    AnyCondition,
    CurveTerm,
    FeatureCondition,
    IssueCondition,
    NotCondition,
    RedLine,
    Scenario,
    TableTerm,
)
from peacegame.scenario.uncertainty import (
    UncertainParameter,
    actor_parameters,
    level_parameters,
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
            Uncertain numbers appear as their ``value``, so a scenario's hash
            does not change when ranges are added to it.
        uncertain: The numbers with a range (see
            :mod:`peacegame.scenario.uncertainty`), in file order.

    """

    spec: Scenario
    path: str
    actor_files: dict[str, str]
    resolved: dict[str, Any]
    actor_fields: dict[str, str] | None = None
    uncertain: tuple[UncertainParameter, ...] = ()

    @property
    def actors(self) -> list[Actor]:
        """The validated actors, in scenario order."""
        return [a for a in self.spec.actors if isinstance(a, Actor)]

    @property
    def scenario_hash(self) -> str:
        """SHA-256 of the resolved scenario's canonical JSON."""
        blob = json.dumps(self.resolved, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def deep_merge(
    base: Any,
    over: Any,
    *,
    file: str | Path | None = None,
    field: str = "",
    what: str = "",
) -> Any:
    """Merge ``over`` into a copy of ``base`` (see the module docstring).

    Args:
        base: The data merged into.
        over: The data merged over it.
        file: The file ``over`` comes from, for errors.
        field: The field path of ``over`` in that file, for errors.
        what: Where ``base`` comes from (for example ``agents/russia.yaml``),
            for errors.

    Raises:
        ConfigError: If an item ``{name: x, remove: true}`` names nothing.

    """
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            sub = f"{field}.{key}" if field else str(key)
            if key in base:
                out[key] = deep_merge(base[key], value, file=file, field=sub, what=what)
            else:
                out[key] = deep_merge([], value, file=file, field=sub, what=what)
        return out
    if isinstance(base, list) and _named_list(over) and _named_list(base, empty=True):
        out = [copy.deepcopy(item) for item in base]
        for j, item in enumerate(over):
            key = _item_name(item)
            index = next((i for i, b in enumerate(out) if _item_name(b) == key), None)
            if item.get("remove") is True:
                if index is None:
                    raise _nothing_to_remove(key, out, file, f"{field}[{j}]", what)
                out.pop(index)
            elif index is None:
                out.append(copy.deepcopy(item))
            else:
                out[index] = deep_merge(
                    out[index], item, file=file, field=f"{field}[{j}]", what=what
                )
        return out
    return copy.deepcopy(over)


def _nothing_to_remove(
    name: Any, items: list[Any], file: str | Path | None, field: str, what: str
) -> ConfigError:
    names = [str(_item_name(i)) for i in items]
    where = f" in {what}" if what else ""
    expected = (
        f"expected one of {names}" if names else "there is nothing to remove there"
    )
    return ConfigError(
        f"cannot remove {name!r}: no item of that name{where}"
        f"{suggest(str(name), names)}; {expected}; fix the name or delete the entry",
        file=file,
        field=field,
    )


def _item_name(item: dict[str, Any]) -> Any:
    return item.get("name", item.get("id"))


def _named_list(value: Any, empty: bool = False) -> bool:
    """True for a list of mappings that all have a ``name`` (or ``id``)."""
    return (
        isinstance(value, list)
        and (bool(value) or empty)
        and all(isinstance(v, dict) and _item_name(v) is not None for v in value)
    )


OverrideLayer = tuple[str, Any]
"""One file's ``overrides`` block: ``(file, {actor_id: partial actor})``."""


def _read_with_extends(
    path: Path, chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], list[OverrideLayer]]:
    """Read a scenario file and merge it over the file it extends.

    Returns:
        The merged data without ``overrides``, and the override layers of the
        chain, the base file's first.

    """
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
    mismatch = kind_mismatch(data, path, "scenario")
    if mismatch is not None:
        raise mismatch
    data = _absolutise_actor_paths(data, path.parent)
    own: list[OverrideLayer] = []
    if data.get("overrides") is not None:
        own.append((str(path), data["overrides"]))
    data = {k: v for k, v in data.items() if k != "overrides"}
    parent = data.get("extends")
    if parent is None:
        return data, own
    if not isinstance(parent, str):
        raise ConfigError("expected a relative file path", file=path, field="extends")
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ConfigError(f"no such file {parent_path}", file=path, field="extends")
    base, layers = _read_with_extends(parent_path, (*chain, resolved))
    merged = deep_merge(
        base,
        {k: v for k, v in data.items() if k != "extends"},
        file=path,
        what=str(parent_path),
    )
    return merged, [*layers, *own]


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
    data, layers = _read_with_extends(path)
    return scenario_from_dict(data, source=str(path), override_layers=layers)


def scenario_from_dict(
    data: dict[str, Any],
    source: str = "<dict>",
    base_dir: str | Path | None = None,
    override_layers: list[OverrideLayer] | None = None,
) -> LoadedScenario:
    """Validate a scenario given as plain data (actor paths relative to base_dir).

    Args:
        data: The scenario fields.
        source: The file (or label) errors name.
        base_dir: The folder relative actor paths start from.
        override_layers: The override blocks to apply to the actors, in order
            (see the module docstring); default: ``data["overrides"]`` alone.

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
    if override_layers is None:
        own = data.get("overrides")
        override_layers = [(source, own)] if own is not None else []
    for file, overrides in override_layers:
        if not isinstance(overrides, dict):
            raise ConfigError(
                "expected a mapping actor -> fields", file=file, field="overrides"
            )
    actors: list[Actor] = []
    actor_data: list[dict[str, Any]] = []
    uncertain: list[UncertainParameter] = []
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
        origin = file if not prefix else f"{file} ({prefix})"
        if isinstance(raw, dict):
            raw = _apply_overrides(raw, override_layers, origin)
        actor = validate(Actor, raw, file=file, prefix=prefix)
        if actor.id in actor_files:
            raise ConfigError(
                f"duplicate actor id {actor.id!r}",
                file=file,
                field=f"{prefix}.id" if prefix else "id",
            )
        actors.append(actor)
        raw = copy.deepcopy(raw)
        uncertain += actor_parameters(raw, i, file, f"{prefix}." if prefix else "")
        actor_data.append(raw)
        actor_files[actor.id] = file
        actor_fields[actor.id] = f"{prefix}." if prefix else ""
    ids = list(actor_files)
    for file, overrides in override_layers:
        for actor_id in overrides:
            if actor_id not in actor_files:
                raise ConfigError(
                    f"unknown actor {actor_id!r}{suggest(str(actor_id), ids)}; "
                    f"expected one of {ids}; fix the id or delete the override",
                    file=file,
                    field=f"overrides.{actor_id}",
                )
    body = {k: v for k, v in data.items() if k not in ("actors", "overrides")}
    body["actors"] = ["placeholder"]
    if data.get("overrides") is not None:
        body["overrides"] = data["overrides"]
    spec = validate(Scenario, body, file=source)
    spec = spec.model_copy(update={"actors": actors})
    # The identity of the game: what the engine sees. Questions and texts do
    # not change the game, so they stay out of the hash.
    resolved = {
        k: copy.deepcopy(v)
        for k, v in data.items()
        if k not in ("actors", "extends", "overrides", "questions")
    }
    uncertain = level_parameters(resolved, source) + uncertain
    used = [over for _, over in override_layers if over]
    if len(used) == 1:
        resolved["overrides"] = used[0]
    elif used:
        resolved["overrides"] = used
    resolved["actors"] = actor_data
    loaded = LoadedScenario(
        spec, source, actor_files, resolved, actor_fields, tuple(uncertain)
    )
    check_references(loaded)
    return loaded


def _apply_overrides(
    raw: dict[str, Any], layers: list[OverrideLayer], origin: str
) -> dict[str, Any]:
    """Apply each layer's ``overrides[actor_id]`` to one actor, in order.

    Raises:
        ConfigError: On an override that matches nothing (see the module
            docstring), naming the overriding file and field.

    """
    actor_id = raw.get("id")
    fields = {info.alias or name for name, info in Actor.model_fields.items()}
    what = origin
    for file, overrides in layers:
        if actor_id not in overrides:
            continue
        over = overrides[actor_id]
        where = f"overrides.{actor_id}"
        if not isinstance(over, dict):
            raise ConfigError(
                "expected a mapping of actor fields", file=file, field=where
            )
        for key in over:
            if key not in fields:
                raise ConfigError(
                    f"actor {actor_id!r} has no field {key!r}"
                    f"{suggest(str(key), fields)}; expected one of {sorted(fields)}",
                    file=file,
                    field=f"{where}.{key}",
                )
        for j, item in enumerate(over.get("red_lines") or []):
            _check_new_red_line(raw, item, file, f"{where}.red_lines[{j}]", what)
        raw = deep_merge(raw, over, file=file, field=where, what=what)
        what = f"{origin} after the overrides of {file}"
    return raw


def _check_new_red_line(
    raw: dict[str, Any], item: Any, file: str, field: str, what: str
) -> None:
    """An override item naming no existing red line must be a whole red line."""
    current = raw.get("red_lines") or []
    if not isinstance(item, dict) or not _named_list(current, empty=True):
        return
    name = _item_name(item)
    names = [str(_item_name(r)) for r in current]
    if name is None or str(name) in names or item.get("remove") is True:
        return
    required = [
        info.alias or key
        for key, info in RedLine.model_fields.items()
        if info.is_required() and (info.alias or key) not in item
    ]
    if required:
        raise ConfigError(
            f"no red line {name!r} in {what} to override"
            f"{suggest(str(name), names)}; expected one of {names}, or a complete "
            f"new red line (missing {required})",
            file=file,
            field=field,
        )


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
    for i, rule in enumerate(spec.consent):
        field = "actors" if rule.actors is not None else "weights"
        for actor_id in rule.members:
            if actor_id not in actor_ids:
                raise ConfigError(
                    f"unknown actor {actor_id!r}{suggest(actor_id, actor_ids)}; "
                    f"expected one of {actor_ids}",
                    file=src,
                    field=f"consent[{i}].{field}",
                )
        if rule.when is not None:
            _check_condition(rule.when, issues, known_refs, src, f"consent[{i}].when")
    _check_questions(spec, actor_ids, src)
    total = sum(a.recognition for a in loaded.actors)
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(
            f"recognition probabilities sum to {total:.6g}; expected 1 "
            f"({', '.join(f'{a.id}={a.recognition:g}' for a in loaded.actors)})",
            file=src,
            field="actors[*].recognition",
        )


def _check_questions(spec: Scenario, actor_ids: list[str], src: str) -> None:
    """The questions name actors and features the scenario has."""
    features = [f.name for f in spec.features]
    for i, question in enumerate(spec.questions.counterfactuals):
        where = f"questions.counterfactuals[{i}]"
        if question.focus not in actor_ids:
            raise ConfigError(
                f"unknown actor {question.focus!r}"
                f"{suggest(question.focus, actor_ids)}; expected one of {actor_ids}",
                file=src,
                field=where + ".focus",
            )
        if question.feature is not None and question.feature not in features:
            raise ConfigError(
                f"unknown feature {question.feature!r}"
                f"{suggest(question.feature, features)}; expected one of "
                f"the scenario's features {features}",
                file=src,
                field=where + ".feature",
            )
    names = [q.name for q in spec.questions.counterfactuals]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(
            f"duplicate question names {dup}; give each question its own name",
            file=src,
            field="questions.counterfactuals",
        )
    for i, pair in enumerate(spec.questions.plot_pairs):
        for actor_id in pair:
            if actor_id not in actor_ids:
                raise ConfigError(
                    f"unknown actor {actor_id!r}{suggest(actor_id, actor_ids)}; "
                    f"expected one of {actor_ids}",
                    file=src,
                    field=f"questions.plot_pairs[{i}]",
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
