"""Compare two scenarios (or two match configs) side by side.

For each scenario: the outcome count, the zone of agreement, the bargaining set,
the Pareto frontier, how many outcomes each actor accepts, the Nash,
Kalai-Smorodinsky and utilitarian outcomes decoded with every actor's utility,
and which red lines bind.

Definitions:

- An actor **accepts** an outcome when its utility there is at least its
  no-deal value (``u_i >= d_i``, compared in float32 as the zone is).
- A red line **binds** on an outcome when the outcome lies outside the zone of
  agreement but would lie inside it if that one red line were dropped from its
  actor, everything else equal (the scenario is recompiled without it). The
  count per red line is ``|zone without the red line| - |zone|``. ``crossed``
  counts the feasible outcomes that cross the red line at all, and ``crossed in
  zone`` those that cross it and are in the zone nonetheless (a soft penalty
  too small to push the actor below d). The row ``(all red lines)`` drops every
  red line of every actor at once.
- **The question**: a scenario declares its counterfactual questions as data
  (``questions.counterfactuals`` in the scenario file, see
  :class:`~peacegame.scenario.model.CounterfactualQuestion`): a focus actor,
  optionally a feature whose outcomes above 0 are the ones "with" it, and a
  variant to compare with. The comparison answers the first question of A (or
  of B), or the one ``--question`` names; ``--focus`` and ``--feature``
  override its parts. It counts the outcomes the focus actor accepts in each
  scenario and, with a feature, how many of them have the feature. Nothing
  here names an actor or a feature of a particular scenario.

When both inputs are match configs (YAML with ``policies``), their scenarios are
compared as above, and both matches are played in memory with the same seeds
(A's ``seed``; ``--episodes`` overrides both episode counts) to compare
agreement rates and utilities. Nothing is written to disk.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from peacegame.describe import POINT_LABELS, table
from peacegame.errors import UserError, suggest
from peacegame.scenario.model import CounterfactualQuestion

if TYPE_CHECKING:
    from peacegame.scenario.compiled import CompiledScenario
    from peacegame.scenario.loader import LoadedScenario

COMPARED_POINTS = ("nash", "kalai_smorodinsky", "utilitarian")
"""The solution points shown side by side."""


def _without_red_lines(
    loaded: LoadedScenario, drop: set[tuple[str, str]] | None
) -> LoadedScenario:
    """A copy of the scenario without some red lines (None: without any)."""
    actors = []
    for actor in loaded.spec.actors:
        if hasattr(actor, "red_lines"):
            kept = [
                r
                for r in actor.red_lines
                if drop is not None and (actor.id, r.name) not in drop
            ]
            actor = actor.model_copy(update={"red_lines": kept})
        actors.append(actor)
    spec = loaded.spec.model_copy(update={"actors": actors})
    return dataclasses.replace(loaded, spec=spec)


def red_line_table(
    loaded: LoadedScenario, scenario: CompiledScenario, zone: np.ndarray
) -> list[dict[str, Any]]:
    """How much each red line binds (see the module docstring).

    Args:
        loaded: The loaded scenario (recompiled without each red line).
        scenario: Its compiled form.
        zone: Its zone of agreement.

    Returns:
        One dict per red line (``actor``, ``red_line``, ``kind``, ``crossed``,
        ``crossed_in_zone``, ``binds``), then an ``(all red lines)`` row.

    """
    from peacegame.scenario import compile_scenario
    from peacegame.solutions import zone_of_agreement

    kinds = {
        (actor.id, r.name): r.kind for actor in loaded.actors for r in actor.red_lines
    }
    rows = []
    base = int(zone.sum())
    for key, crossed in scenario.red_lines.items():
        relaxed = compile_scenario(_without_red_lines(loaded, {key}))
        rows.append(
            {
                "actor": key[0],
                "red_line": key[1],
                "kind": kinds.get(key, "?"),
                "crossed": int(crossed.sum()),
                "crossed_in_zone": int((crossed & zone).sum()),
                "binds": int(zone_of_agreement(relaxed).sum()) - base,
            }
        )
    if scenario.red_lines:
        relaxed = compile_scenario(_without_red_lines(loaded, None))
        crossed_any = np.logical_or.reduce(list(scenario.red_lines.values()))
        rows.append(
            {
                "actor": "(all red lines)",
                "red_line": "",
                "kind": "",
                "crossed": int(crossed_any.sum()),
                "crossed_in_zone": int((crossed_any & zone).sum()),
                "binds": int(zone_of_agreement(relaxed).sum()) - base,
            }
        )
    return rows


def _point(scenario: CompiledScenario, k: int | None) -> dict[str, Any] | None:
    if k is None:
        return None
    return {
        "outcome": int(k),
        "decoded": scenario.decode(k),
        "utility": {
            a: round(float(u), 6)
            for a, u in zip(scenario.actors, scenario.utility[:, k], strict=True)
        },
    }


def question_text(question: CounterfactualQuestion, actor_name: str) -> str:
    """The question in words: its own ``text``, else one built from its parts."""
    if question.text:
        return question.text
    if question.feature is not None:
        return (
            f"Does allowing {question.feature_label} enlarge the set of "
            f"{question.noun} {actor_name} accepts?"
        )
    return f"How does the set of {question.noun} {actor_name} accepts change?"


def scenario_facts(
    loaded: LoadedScenario, question: CounterfactualQuestion | None = None
) -> dict[str, Any]:
    """Everything the comparison shows about one scenario, JSON-ready.

    Args:
        loaded: The loaded scenario.
        question: The counterfactual question (see :func:`resolve_question`);
            None: no focus actor and no contingent feature.

    """
    from peacegame.scenario import compile_scenario
    from peacegame.solutions import solve

    sc = compile_scenario(loaded)
    sol = solve(sc)
    accepts = sc.utility >= sc.no_deal[:, None]
    facts: dict[str, Any] = {
        "name": sc.name,
        "path": str(loaded.path),
        "scenario_hash": sc.scenario_hash,
        "n_outcomes": sc.n_outcomes,
        "grid_size": sc.grid_size,
        "zone_size": int(sol.zone.sum()),
        "bargaining_set_size": int(sol.bargaining.sum()),
        "frontier_size": int(sol.frontier.sum()),
        "actors": list(sc.actors),
        "no_deal": {
            a: round(float(d), 6) for a, d in zip(sc.actors, sc.no_deal, strict=True)
        },
        "accepts": {a: int(accepts[i].sum()) for i, a in enumerate(sc.actors)},
        "points": {key: _point(sc, sol.points[key]) for key in COMPARED_POINTS},
        "red_lines": red_line_table(loaded, sc, sol.zone),
        "focus": None,
        "contingent": None,
    }
    if question is None:
        return facts
    focus = question.focus
    acc = accepts[sc.actor_index(focus)] if focus in sc.actors else None
    if acc is not None:
        facts["focus"] = {
            "actor": focus,
            "name": sc.actor_names[sc.actor_index(focus)],
            "accepts": int(acc.sum()),
        }
    feature = question.feature
    if feature is not None and feature in sc.features:
        marked = sc.features[feature] > 0
        block: dict[str, Any] = {
            "feature": feature,
            "label": question.feature_label,
            "outcomes": int(marked.sum()),
            "outcomes_without": int((~marked).sum()),
            "zone": int((marked & sol.zone).sum()),
            "focus": None,
        }
        if acc is not None:
            block["focus"] = {
                **facts["focus"],
                "accepts_with": int((acc & marked).sum()),
                "accepts_without": int((acc & ~marked).sum()),
            }
        facts["contingent"] = block
    return facts


def _pct(part: int, whole: int) -> str:
    return "-" if whole == 0 else f"{100 * part / whole:.1f}%"


def counterfactual_answer(
    a: dict[str, Any], b: dict[str, Any], question: CounterfactualQuestion | None
) -> str | None:
    """The question answered in words from two scenarios' facts.

    Returns None without a question, or when neither scenario has its focus
    actor (or, for a question with a feature, when either lacks the feature).
    """
    if question is None:
        return None
    fa, fb = a.get("focus"), b.get("focus")
    if not fa or not fb:
        return None
    actor, noun = fa.get("name", fa["actor"]), question.noun
    lines = [question_text(question, actor)]
    if question.feature is None:
        lines += [
            f"  {a['name']}: {actor} accepts {fa['accepts']:,} of "
            f"{a['n_outcomes']:,} {noun}.",
            f"  {b['name']}: {actor} accepts {fb['accepts']:,} of "
            f"{b['n_outcomes']:,} {noun}.",
            f"  Zone of agreement: {a['zone_size']:,} vs {b['zone_size']:,}.",
        ]
        more = fa["accepts"] - fb["accepts"]
        zone_more = a["zone_size"] - b["zone_size"]
        lines.append(
            f"  From {b['name']} to {a['name']}, the {noun} {actor} accepts go "
            f"from {fb['accepts']:,} to {fa['accepts']:,} ({more:+,}, "
            f"{_rel(more, fb['accepts'])}) and the zone of agreement from "
            f"{b['zone_size']:,} to {a['zone_size']:,} ({zone_more:+,}, "
            f"{_rel(zone_more, b['zone_size'])})."
        )
        return "\n".join(lines)
    ca, cb = a.get("contingent"), b.get("contingent")
    if not ca or not cb or not ca["focus"] or not cb["focus"]:
        return None
    label = ca["label"]
    wa, wb = ca["focus"], cb["focus"]
    lines += [
        f"  {a['name']}: {actor} accepts {wa['accepts']:,} of {a['n_outcomes']:,} "
        f"{noun}; {wa['accepts_with']:,} of them have {label} "
        f"({wa['accepts_with']:,} of {ca['outcomes']:,} {noun} with {label} = "
        f"{_pct(wa['accepts_with'], ca['outcomes'])}; "
        f"{wa['accepts_without']:,} of {ca['outcomes_without']:,} others = "
        f"{_pct(wa['accepts_without'], ca['outcomes_without'])}).",
        f"  {b['name']}: {actor} accepts {wb['accepts']:,} of {b['n_outcomes']:,} "
        f"{noun}; {wb['accepts_with']:,} of them have {label}.",
        f"  Zone of agreement: {a['zone_size']:,} ({ca['zone']:,} with {label}) "
        f"vs {b['zone_size']:,} ({cb['zone']:,} with {label}).",
    ]
    with_side = without_side = None
    if ca["outcomes"] and not cb["outcomes"]:
        with_side, without_side = a, b
    elif cb["outcomes"] and not ca["outcomes"]:
        with_side, without_side = b, a
    if with_side is not None and without_side is not None:
        before = without_side["focus"]["accepts"]
        after = with_side["focus"]["accepts"]
        zone_before, zone_after = without_side["zone_size"], with_side["zone_size"]
        more, zone_more = after - before, zone_after - zone_before
        verdict = "Yes" if more > 0 else "No"
        lines.append(
            f"  {verdict}: allowing {label} changes the {noun} {actor} accepts "
            f"from {before:,} to {after:,} ({more:+,}, {_rel(more, before)}) "
            f"and the zone of agreement from {zone_before:,} to {zone_after:,} "
            f"({zone_more:+,}, {_rel(zone_more, zone_before)})."
        )
    return "\n".join(lines)


def _rel(diff: int, base: int) -> str:
    return "n/a" if base == 0 else f"{100 * diff / base:+.0f}%"


def declared_questions(loaded: LoadedScenario) -> list[CounterfactualQuestion]:
    """The counterfactual questions a scenario declares (``questions:``)."""
    return list(loaded.spec.questions.counterfactuals)


def resolve_question(
    a: LoadedScenario,
    b: LoadedScenario | None = None,
    name: str | None = None,
    focus: str | None = None,
    feature: str | None = None,
) -> CounterfactualQuestion | None:
    """The question a comparison answers: declared, chosen, or from the flags.

    Args:
        a: Scenario A; its questions come first.
        b: Scenario B, if any; its questions are used when A has none.
        name: ``--question``: the name of a declared question.
        focus: ``--focus``: overrides the question's focus actor.
        feature: ``--feature``: overrides the question's feature.

    Returns:
        The question, or None when no scenario declares one and no flag asks.

    Raises:
        UserError: For a question, actor or feature that neither scenario has;
            the message names the flag and the names allowed.

    """
    scenarios = [s for s in (a, b) if s is not None]
    declared = [q for s in scenarios for q in declared_questions(s)]
    if name is not None:
        chosen = next((q for q in declared if q.name == name), None)
        if chosen is None:
            names = list(dict.fromkeys(q.name for q in declared))
            raise UserError(
                f"--question {name}: no question of that name"
                f"{suggest(name, names)}; the scenarios declare "
                f"{names or 'no questions'} (in 'questions.counterfactuals')"
            )
    else:
        chosen = declared[0] if declared else None
    if focus is None and feature is None:
        return chosen
    actors = list(dict.fromkeys(x.id for s in scenarios for x in s.actors))
    features = list(dict.fromkeys(f.name for s in scenarios for f in s.spec.features))
    if focus is not None and focus not in actors:
        raise UserError(
            f"--focus {focus}: unknown actor{suggest(focus, actors)}; expected one "
            f"of {actors}"
        )
    if feature is not None and feature not in features:
        raise UserError(
            f"--feature {feature}: unknown feature{suggest(feature, features)}; "
            f"expected one of {features}"
        )
    if chosen is None:
        if focus is None:
            raise UserError(
                f"--feature {feature}: the scenarios declare no question, so there "
                "is no focus actor; add --focus ACTOR"
            )
        return CounterfactualQuestion(name="command_line", focus=focus, feature=feature)
    update: dict[str, Any] = {"text": None}
    if focus is not None:
        update["focus"] = focus
    if feature is not None:
        update.update(feature=feature, label=None)
    return chosen.model_copy(update=update)


def compare_scenarios(
    a: LoadedScenario,
    b: LoadedScenario,
    question: CounterfactualQuestion | None = None,
    *,
    name: str | None = None,
    focus: str | None = None,
    feature: str | None = None,
) -> dict[str, Any]:
    """Compare two loaded scenarios; return the JSON-ready comparison.

    Args:
        a: Scenario A.
        b: Scenario B.
        question: The question to answer; default :func:`resolve_question`
            with ``name``, ``focus`` and ``feature``.
        name: See :func:`resolve_question`.
        focus: See :func:`resolve_question`.
        feature: See :func:`resolve_question`.

    Returns:
        ``{"a": facts, "b": facts, "question": dict or None, "answer": text or
        None, "matches": None, "notes": []}`` with facts from
        :func:`scenario_facts`.

    """
    if question is None:
        question = resolve_question(a, b, name, focus, feature)
    fa, fb = scenario_facts(a, question), scenario_facts(b, question)
    return {
        "a": fa,
        "b": fb,
        "question": question.model_dump(exclude_none=True) if question else None,
        "answer": counterfactual_answer(fa, fb, question),
        "matches": None,
        "notes": [],
    }


def _count(n: int, whole: int) -> str:
    return f"{n:,} ({_pct(n, whole)})"


def format_comparison(doc: dict[str, Any]) -> str:
    """Render a comparison as text tables."""
    a, b = doc["a"], doc["b"]
    head = ["", f"A: {a['name']}", f"B: {b['name']}"]
    rows: list[list[Any]] = [
        [
            "feasible outcomes (of grid)",
            f"{a['n_outcomes']:,} (of {a['grid_size']:,})",
            f"{b['n_outcomes']:,} (of {b['grid_size']:,})",
        ],
        [
            "zone of agreement",
            _count(a["zone_size"], a["n_outcomes"]),
            _count(b["zone_size"], b["n_outcomes"]),
        ],
        [
            "bargaining set",
            _count(a["bargaining_set_size"], a["n_outcomes"]),
            _count(b["bargaining_set_size"], b["n_outcomes"]),
        ],
        ["Pareto frontier", f"{a['frontier_size']:,}", f"{b['frontier_size']:,}"],
    ]
    actors = list(dict.fromkeys([*a["actors"], *b["actors"]]))
    for actor in actors:
        rows.append(
            [
                f"{actor} accepts (u >= d)",
                *[
                    _count(f["accepts"][actor], f["n_outcomes"])
                    if actor in f["accepts"]
                    else "-"
                    for f in (a, b)
                ],
            ]
        )
    ca, cb = a.get("contingent"), b.get("contingent")
    if ca or cb:
        label = (ca or cb)["label"]
        rows.append(
            [
                f"outcomes with {label}",
                *[f"{c['outcomes']:,}" if c else "-" for c in (ca, cb)],
            ]
        )
        rows.append(
            [
                "  of them in the zone",
                *[f"{c['zone']:,}" if c else "-" for c in (ca, cb)],
            ]
        )
        if (ca and ca["focus"]) or (cb and cb["focus"]):
            focus = (ca if ca and ca["focus"] else cb)["focus"]["actor"]
            rows.append(
                [
                    f"  of them {focus} accepts",
                    *[
                        f"{c['focus']['accepts_with']:,}" if c and c["focus"] else "-"
                        for c in (ca, cb)
                    ],
                ]
            )
    out = [
        f"Compare A = {a['name']} ({_display(a['path'])}) with "
        f"B = {b['name']} ({_display(b['path'])})",
        "",
    ]
    out.append(table(head, rows))
    out += [
        "",
        "Red lines: outcomes each keeps out of the zone of agreement",
        "  crossed = feasible outcomes that cross it; in zone = of those, in the "
        "zone anyway;",
        "  binds = outcomes outside the zone that dropping this red line alone "
        "would bring in",
    ]
    out.append(_indent(_red_line_text(a, b)))
    for label, f in (("A", a), ("B", b)):
        out += ["", f"Solution points, {label}: {f['name']}"]
        out.append(_indent(_points_text(f)))
    if doc.get("answer"):
        out.append("")
        out += [
            textwrap.fill(line, 88, subsequent_indent="    ")
            for line in doc["answer"].splitlines()
        ]
    if doc.get("matches"):
        out += ["", doc["matches"]["text"]]
    for note in doc.get("notes", []):
        out += ["", f"note: {note}"]
    return "\n".join(out)


def _display(path: str) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _red_line_text(a: dict[str, Any], b: dict[str, Any]) -> str:
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for side, f in (("a", a), ("b", b)):
        for row in f["red_lines"]:
            entry = index.setdefault(
                (row["actor"], row["red_line"]), {"kind": row["kind"]}
            )
            entry[side] = row
    rows = []
    for (actor, name), entry in index.items():
        cells = [actor, name, entry["kind"]]
        for side in ("a", "b"):
            row = entry.get(side)
            cells += (
                [
                    f"{row['crossed']:,}",
                    f"{row['crossed_in_zone']:,}",
                    f"{row['binds']:,}",
                ]
                if row
                else ["-", "-", "-"]
            )
        rows.append(cells)
    if not rows:
        return "(no red lines)"
    headers = [
        "actor",
        "red line",
        "kind",
        "A crossed",
        "A in zone",
        "A binds",
        "B crossed",
        "B in zone",
        "B binds",
    ]
    return table(headers, rows)


def _points_text(f: dict[str, Any]) -> str:
    rows = []
    issues: list[str] = []
    for key in COMPARED_POINTS:
        p = f["points"][key]
        if p is not None:
            issues = list(p["decoded"])
            break
    for key in COMPARED_POINTS:
        p = f["points"][key]
        if p is None:
            rows.append([POINT_LABELS[key], *["-"] * (len(issues) + len(f["actors"]))])
            continue
        rows.append(
            [
                POINT_LABELS[key],
                *[p["decoded"][i] for i in issues],
                *[f"{p['utility'][a]:.3f}" for a in f["actors"]],
            ]
        )
    rows.append(
        [
            "no deal (d)",
            *[""] * len(issues),
            *[f"{f['no_deal'][a]:.3f}" for a in f["actors"]],
        ]
    )
    return table(["point", *issues, *f["actors"]], rows)


# --------------------------------------------------------------------------- inputs


def is_match_config(data: Any) -> bool:
    """True for a match config (a mapping with ``policies``)."""
    return isinstance(data, dict) and "policies" in data


def resolve_input(name: str) -> tuple[LoadedScenario, Path | None]:
    """Load a comparison input: a scenario (file or shipped name) or match config.

    Returns:
        ``(loaded_scenario, match_config_path_or_None)``.

    Raises:
        UserError: If the file is neither, or its scenario cannot be loaded.

    """
    from peacegame.resources import DEFAULT_SCENARIO, resolve_config, shipped_names
    from peacegame.scenario import load_scenario
    from peacegame.yamlio import read_yaml

    try:
        path = resolve_config(name, "scenarios")
    except UserError:
        try:
            path = resolve_config(name, "matches")
        except UserError:
            scenarios, matches = shipped_names("scenarios"), shipped_names("matches")
            raise UserError(
                "no such file, and no shipped scenario or match config of that "
                f"name{suggest(name, [*scenarios, *matches])}; shipped scenarios: "
                f"{', '.join(scenarios)}; shipped match configs: "
                f"{', '.join(matches)}",
                file=name,
            ) from None
    data = read_yaml(path)
    if is_match_config(data):
        ref = data.get("scenario", DEFAULT_SCENARIO)
        if not isinstance(ref, str):
            raise UserError(
                "expected a scenario file or shipped name", file=path, field="scenario"
            )
        local = (path.parent / ref).resolve()
        scenario_path = local if local.is_file() else resolve_config(ref, "scenarios")
        return load_scenario(scenario_path), path
    return load_scenario(path), None


def variant_input(loaded: LoadedScenario, question: str | None = None) -> str:
    """The scenario a question of ``loaded`` compares with (its ``variant``).

    The variant is a file relative to the scenario's folder, or a shipped
    scenario name.

    Raises:
        UserError: When the scenario declares no such variant, or it names
            no file and no shipped scenario.

    """
    from peacegame.resources import resolve_config

    declared = declared_questions(loaded)
    chosen = [q for q in declared if question is None or q.name == question]
    with_variant = [q for q in chosen if q.variant]
    if not with_variant:
        raise UserError(
            "compare needs B: the scenario declares no question with a 'variant' "
            "to compare with; give B (a scenario or a match config), or add "
            "'variant' to a question",
            file=loaded.path,
            field="questions.counterfactuals",
        )
    q = with_variant[0]
    index = declared.index(q)
    folder = Path(loaded.path).parent
    for candidate in (folder / str(q.variant), folder / f"{q.variant}.yaml"):
        if candidate.is_file():
            return str(candidate)
    try:
        return str(resolve_config(str(q.variant), "scenarios"))
    except UserError as exc:
        raise UserError(
            f"variant {q.variant!r}: {exc.message}",
            file=loaded.path,
            field=f"questions.counterfactuals[{index}].variant",
        ) from None


def compare_inputs(
    a: str,
    b: str | None = None,
    episodes: int | None = None,
    *,
    question: str | None = None,
    focus: str | None = None,
    feature: str | None = None,
) -> dict[str, Any]:
    """Compare two inputs (scenarios or match configs) given on the command line.

    Args:
        a: Scenario or match config A (file or shipped name).
        b: Scenario or match config B; default: the variant A's question
            names (see :func:`variant_input`).
        episodes: Episodes per match when both are match configs (default:
            each config's own count).
        question: The name of a declared question (default: the first).
        focus: Overrides the question's focus actor.
        feature: Overrides the question's feature.

    """
    loaded_a, match_a = resolve_input(a)
    if b is None:
        b = variant_input(loaded_a, question)
    loaded_b, match_b = resolve_input(b)
    doc = compare_scenarios(
        loaded_a, loaded_b, name=question, focus=focus, feature=feature
    )
    if match_a is not None and match_b is not None:
        doc["matches"] = compare_matches(match_a, match_b, episodes)
        if doc["matches"] is None:
            doc["notes"].append(
                "match configs given, but the match runner (peacegame.match) is "
                "not available; compared the scenarios only"
            )
    elif match_a is not None or match_b is not None:
        doc["notes"].append(
            "only one input is a match config; compared the scenarios only"
        )
    elif episodes is not None:
        doc["notes"].append("--episodes applies to match configs only; ignored")
    return doc


def _match_records(config: Path, episodes: int | None, seed: int) -> Any:
    """Play a match config in memory; return its episode records (or None).

    Uses the match runner's :class:`peacegame.match.EpisodePlayer` (one record
    per episode, exactly as ``episodes.jsonl`` lines hold them) with the
    config's ``seed`` replaced by ``seed`` and, if given, its ``episodes`` by
    ``episodes``. Nothing is written. Returns None when the runner is not
    installed.
    """
    try:
        from peacegame.match import EpisodePlayer
        from peacegame.match_config import (
            check_policies_cover_actors,
            load_match_config,
        )
    except ImportError:
        return None
    from peacegame.scenario import load_compiled

    cfg, scenario_file = load_match_config(config)
    update: dict[str, Any] = {"seed": seed}
    if episodes is not None:
        update["episodes"] = episodes
    cfg = cfg.model_copy(update=update)
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(cfg, scenario.actors, config)
    player = EpisodePlayer(cfg, scenario, config_file=str(config))
    return (player.play(i) for i in range(cfg.episodes))


def compare_matches(
    a: Path, b: Path, episodes: int | None = None
) -> dict[str, Any] | None:
    """Run both match configs with the same seeds and summarise them.

    The base seed is A's ``seed`` (0 if it has none), used for both.

    Returns:
        ``{"base_seed", "episodes", "summaries": [a, b], "text"}``, or None when
        the match runner is not available.

    """
    from peacegame.analysis import require_analysis

    require_analysis()
    from peacegame.analysis.frame import Run, records_to_frames
    from peacegame.analysis.summary import format_summary, summarize
    from peacegame.yamlio import read_yaml

    seed = int(read_yaml(a).get("seed", 0))
    summaries = []
    for label, config in (("A", a), ("B", b)):
        records = _match_records(config, episodes, seed)
        if records is None:
            return None
        frame, events, actors, issues = records_to_frames(
            enumerate(records, start=1), label=f"{label}: {config.stem}", source=config
        )
        run = Run(
            path=config,
            label=f"{label}: {config.stem}",
            manifest={},
            episodes=frame,
            events=events,
            actors=actors,
            issues=issues,
        )
        summaries.append(summarize(run))
    return {
        "base_seed": seed,
        "episodes": [s["episodes"] for s in summaries],
        "summaries": summaries,
        "text": f"Matches (same base seed {seed})\n\n"
        + format_summary(summaries, flag_mixed=False),
    }


def comparison_json(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``compare --json`` document (drops the text rendering of matches)."""
    from peacegame.analysis.summary import _jsonable

    out = dict(doc)
    if out.get("matches"):
        out["matches"] = {k: v for k, v in out["matches"].items() if k != "text"}
    return _jsonable(out)
