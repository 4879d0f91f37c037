"""The summary table of one or several runs.

:func:`summarize` turns a :class:`~peacegame.analysis.frame.Run` into one flat
dict (one row of :func:`summary_frame`); :func:`format_summary` prints runs side
by side (one column per run, one line per measure), and :func:`summary_json`
gives the machine-readable document of ``analyze --json``.

Measures (``<a>`` is an actor id; ``_lo``/``_hi`` are 95% interval bounds):

- ``episodes``, ``agreements``, ``end_<kind>`` counts (agreement, deadline,
  breakdown, illegal);
- ``agreement_rate`` with a Wilson score interval;
- ``rounds_mean`` and ``rounds_median``: rounds played, a count (the log's
  ``rounds``, the agreement round + 1), in the episodes that reached agreement;
- ``utility_<a>_mean``: the utility U_i of the agreed outcome, over agreements
  only, with a Student t interval;
- ``reward_<a>_mean``: the payoff over all episodes (``delta_i^round * U_i`` on
  agreement, ``d_i`` otherwise), with a Student t interval;
- ``social_welfare_mean``: the sum of rewards, over all episodes, with a t
  interval;
- ``pareto_distance_mean`` and ``nash_distance_mean``: mean Euclidean distance
  in utility space from the agreed outcome to the Pareto frontier and to the
  Nash point, over agreements;
- ``in_zone_share``: share of agreements inside the zone of agreement, with a
  Wilson interval;
- ``top_outcomes``: the most frequent agreed outcomes, decoded (ties broken by
  the lower outcome index);
- for runs with LLM negotiators (log lines with an ``llm`` object) or
  statements (:func:`llm_metrics`): ``llm_invalid_reply_rate`` (invalid
  replies per request), ``llm_fallback_rate`` (fallbacks per decision),
  ``llm_tokens_per_agreement`` (prompt and completion tokens over all
  episodes, per agreement), ``llm_requests``, ``statements`` and
  ``statement_length_mean`` (characters).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from peacegame.analysis.stats import CONFIDENCE, mean_interval, wilson_interval
from peacegame.describe import table
from peacegame.logs import EPISODES

if TYPE_CHECKING:
    import pandas as pd

    from peacegame.analysis.frame import Run

END_KINDS = ("agreement", "deadline", "breakdown", "illegal")
"""The values of the log's ``end`` field, in table order."""
TOP_OUTCOMES = 10
"""How many agreed outcomes the summary lists."""
INTERVALS = (
    f"{CONFIDENCE:.0%} intervals: Wilson score for rates and shares, "
    "Student t for means"
)


def top_outcomes(
    episodes: pd.DataFrame, issues: Sequence[str], n: int = TOP_OUTCOMES
) -> list[dict[str, Any]]:
    """The ``n`` most frequent agreed outcomes, most frequent first.

    Args:
        episodes: An episode table.
        issues: The issues whose ``level_<issue>`` columns decode an outcome.
        n: How many to return.

    Returns:
        Dicts with ``outcome``, ``count``, ``share`` (of agreements) and
        ``decoded`` (``{issue: level}``).

    """
    agreed = episodes.loc[episodes["agreement"].to_numpy(bool)]
    if agreed.empty:
        return []
    outcomes = agreed["outcome"].to_numpy(dtype=np.int64, na_value=-1)
    values, first, counts = np.unique(outcomes, return_index=True, return_counts=True)
    order = np.lexsort((values, -counts))[:n]
    out = []
    for i in order:
        row = agreed.iloc[int(first[i])]
        out.append(
            {
                "outcome": int(values[i]),
                "count": int(counts[i]),
                "share": float(counts[i]) / len(agreed),
                "decoded": {issue: _str(row[f"level_{issue}"]) for issue in issues},
            }
        )
    return out


def _str(value: Any) -> str | None:
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )


def summarize(run: Run, top: int = TOP_OUTCOMES) -> dict[str, Any]:
    """Summarise one run: a flat dict of the measures in the module docstring.

    Args:
        run: A loaded run.
        top: How many agreed outcomes to list under ``top_outcomes``.

    """
    df = run.episodes
    agree = df["agreement"].to_numpy(bool)
    n, k = len(df), int(agree.sum())
    lo, hi = wilson_interval(k, n)
    ends = df["end"].astype(str).value_counts()
    out: dict[str, Any] = {
        "run": run.label,
        "path": str(run.path),
        "scenario": run.scenario_name,
        "scenario_hash": run.scenario_hash,
        "episodes": n,
        "agreements": k,
        "agreement_rate": k / n if n else math.nan,
        "agreement_rate_lo": lo,
        "agreement_rate_hi": hi,
    }
    for kind in END_KINDS:
        out[f"end_{kind}"] = int(ends.get(kind, 0))
    rounds = df["rounds"].to_numpy(np.float64)[agree]
    out["rounds_mean"] = float(rounds.mean()) if k else math.nan
    out["rounds_median"] = float(np.median(rounds)) if k else math.nan
    for a in run.actors:
        mean, lo, hi, _ = mean_interval(df[f"utility_{a}"].to_numpy()[agree])
        out.update({f"utility_{a}_mean": mean, f"utility_{a}_lo": lo})
        out[f"utility_{a}_hi"] = hi
    for a in run.actors:
        mean, lo, hi, _ = mean_interval(df[f"reward_{a}"].to_numpy())
        out.update({f"reward_{a}_mean": mean, f"reward_{a}_lo": lo})
        out[f"reward_{a}_hi"] = hi
    mean, lo, hi, _ = mean_interval(df["social_welfare"].to_numpy())
    out.update(
        {"social_welfare_mean": mean, "social_welfare_lo": lo, "social_welfare_hi": hi}
    )
    for name in ("pareto_distance", "nash_distance"):
        values = df[name].to_numpy(np.float64)[agree]
        values = values[~np.isnan(values)]
        out[f"{name}_mean"] = float(values.mean()) if values.size else math.nan
    zone = df["in_zone"].to_numpy(dtype=np.float64, na_value=np.nan)[agree]
    zone = zone[~np.isnan(zone)]
    in_zone = int(zone.sum())
    lo, hi = wilson_interval(in_zone, int(zone.size))
    out["in_zone"] = in_zone
    out["in_zone_share"] = in_zone / zone.size if zone.size else math.nan
    out["in_zone_share_lo"], out["in_zone_share_hi"] = lo, hi
    out["partial_line"] = run.partial_line
    out["top_outcomes"] = top_outcomes(df, run.issues, top)
    out["actors"] = list(run.actors)
    out.update(llm_metrics(run.path / EPISODES, k))
    return out


def llm_metrics(log: Path, agreements: int) -> dict[str, Any]:
    """The LLM measures of a log (empty when it has no LLM actor or statement).

    Args:
        log: The ``episodes.jsonl`` file.
        agreements: The run's number of agreements.
    """
    totals = dict.fromkeys(
        ("decisions", "requests", "invalid", "fallbacks", "tokens"), 0
    )
    lengths: list[int] = []
    seen = False
    if not log.is_file():
        return {}
    with open(log, encoding="utf-8") as fh:
        for line in fh:
            if '"llm":' not in line and '"statements":' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a partial last line (the reader reports it)
            for stats in (record.get("llm") or {}).values():
                seen = True
                for key in ("decisions", "requests", "invalid", "fallbacks"):
                    totals[key] += int(stats.get(key, 0))
                totals["tokens"] += int(stats.get("prompt_tokens", 0)) + int(
                    stats.get("completion_tokens", 0)
                )
            for event in record.get("events") or []:
                for moves in (event.get("statements") or {}).values():
                    lengths += [len(text) for text in moves.values()]
    if not seen and not lengths:
        return {}

    def ratio(a: float, b: float) -> float:
        return a / b if b else math.nan

    out: dict[str, Any] = {"statements": len(lengths)}
    out["statement_length_mean"] = float(np.mean(lengths)) if lengths else math.nan
    if seen:
        out["llm_requests"] = totals["requests"]
        out["llm_invalid_reply_rate"] = ratio(totals["invalid"], totals["requests"])
        out["llm_fallback_rate"] = ratio(totals["fallbacks"], totals["decisions"])
        out["llm_tokens_per_agreement"] = ratio(totals["tokens"], agreements)
    return out


def mixed_scenarios(summaries: Sequence[dict[str, Any]]) -> bool:
    """True when the runs do not all share one scenario (name and hash)."""
    return len({(s["scenario"], s["scenario_hash"]) for s in summaries}) > 1


def _actors(summaries: Sequence[dict[str, Any]]) -> list[str]:
    actors: dict[str, None] = {}
    for s in summaries:
        actors.update(dict.fromkeys(s["actors"]))
    return list(actors)


def _outcome_text(item: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in item["decoded"].items())


def summary_frame(summaries: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per run: every measure as a column (``analyze --csv``).

    ``top_outcomes`` becomes one string, ``"count x outcome; ..."``, and a
    ``mixed_scenarios`` column flags tables that mix scenarios.
    """
    import pandas as pd

    rows = []
    mixed = mixed_scenarios(summaries)
    for s in summaries:
        row = {k: v for k, v in s.items() if k not in ("top_outcomes", "actors")}
        row["top_outcomes"] = "; ".join(
            f"{t['count']} x {_outcome_text(t)}" for t in s["top_outcomes"]
        )
        row["mixed_scenarios"] = mixed
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame


def _num(value: float, digits: int = 3) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _ci(s: dict[str, Any], key: str) -> str:
    mean = s.get(f"{key}_mean", s.get(key))
    if mean is None:
        return ""
    lo, hi = s.get(f"{key}_lo", math.nan), s.get(f"{key}_hi", math.nan)
    if math.isnan(lo):
        return _num(mean)
    return f"{_num(mean)} [{_num(lo)}, {_num(hi)}]"


def summary_rows(
    summaries: Sequence[dict[str, Any]], flag_mixed: bool = True
) -> tuple[list[str], list[list[str]]]:
    """The side-by-side table: headers (one per run) and one row per measure.

    Args:
        summaries: One :func:`summarize` dict per run.
        flag_mixed: Flag the scenario cells with ``*`` (and the hash) when the
            runs use different scenarios.

    """
    mixed = flag_mixed and mixed_scenarios(summaries)
    actors = _actors(summaries)
    lines: list[list[str]] = []

    def add(label: str, cell: Any) -> None:
        lines.append([label, *[cell(s) for s in summaries]])

    add(
        "scenario",
        lambda s: s["scenario"] + (f" ({s['scenario_hash'][:8]}) *" if mixed else ""),
    )
    add(
        "episodes",
        lambda s: (
            f"{s['episodes']:,}"
            + (" (partial last line ignored)" if s["partial_line"] else "")
        ),
    )
    add("agreement rate [95% CI]", lambda s: _ci(s, "agreement_rate"))
    add(
        "ends",
        lambda s: ", ".join(
            f"{kind} {s[f'end_{kind}']}" for kind in END_KINDS if s[f"end_{kind}"]
        ),
    )
    add(
        "rounds played (agreements)",
        lambda s: (
            f"mean {_num(s['rounds_mean'], 2)}, median {_num(s['rounds_median'], 1)}"
        ),
    )
    for a in actors:
        add(
            f"utility {a} (agreements)",
            lambda s, a=a: _ci(s, f"utility_{a}") if a in s["actors"] else "",
        )
    for a in actors:
        add(
            f"reward {a} (all)",
            lambda s, a=a: _ci(s, f"reward_{a}") if a in s["actors"] else "",
        )
    add("social welfare (all)", lambda s: _ci(s, "social_welfare"))
    add("distance to Pareto frontier", lambda s: _num(s["pareto_distance_mean"]))
    add("distance to Nash point", lambda s: _num(s["nash_distance_mean"]))
    add(
        "agreements in zone [95% CI]",
        lambda s: f"{_ci(s, 'in_zone_share')} ({s['in_zone']} of {s['agreements']})",
    )
    if any("llm_requests" in s for s in summaries):
        add("LLM requests", lambda s: f"{s.get('llm_requests', 0):,}")
        for key, label in (
            ("llm_invalid_reply_rate", "LLM invalid-reply rate (per request)"),
            ("llm_fallback_rate", "LLM fallback rate (per decision)"),
        ):
            add(label, lambda s, key=key: _num(s.get(key, math.nan)))
        add(
            "LLM tokens per agreement",
            lambda s: _num(s.get("llm_tokens_per_agreement", math.nan), 0),
        )
    if any("statements" in s for s in summaries):
        add(
            "statements (mean length, chars)",
            lambda s: (
                f"{s.get('statements', 0)} "
                f"({_num(s.get('statement_length_mean', math.nan), 1)})"
            ),
        )
    return ["", *[s["run"] for s in summaries]], lines


MIXED_NOTE = (
    "* these runs use different scenarios (name or hash): compare them with care"
)


def format_summary(summaries: Sequence[dict[str, Any]], flag_mixed: bool = True) -> str:
    """Render runs side by side: one column per run, one line per measure.

    Args:
        summaries: One :func:`summarize` dict per run.
        flag_mixed: Flag runs of different scenarios (off when the difference
            is the point, as in ``compare``).

    """
    headers, rows = summary_rows(summaries, flag_mixed)
    out = [f"Summary ({INTERVALS})", "", table(headers, rows)]
    if flag_mixed and mixed_scenarios(summaries):
        out += ["", MIXED_NOTE]
    for s in summaries:
        out += ["", f"Most frequent agreed outcomes: {s['run']}"]
        out.append(format_top_outcomes(s["top_outcomes"]))
    return "\n".join(out)


def top_outcome_rows(
    items: Sequence[dict[str, Any]],
) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the top-outcomes table."""
    issues = list(items[0]["decoded"]) if items else []
    rows = [
        [
            t["count"],
            f"{100 * t['share']:.1f}%",
            t["outcome"],
            *[t["decoded"][i] for i in issues],
        ]
        for t in items
    ]
    return ["count", "share", "outcome", *issues], rows


def format_top_outcomes(items: Sequence[dict[str, Any]]) -> str:
    """Render the top agreed outcomes as a table (or a note if there are none)."""
    if not items:
        return "  (no agreements)"
    text = table(*top_outcome_rows(items))
    return "\n".join("  " + line for line in text.splitlines())


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def summary_json(
    summaries: Sequence[dict[str, Any]], warnings: Sequence[str] = ()
) -> dict[str, Any]:
    """The ``analyze --json`` document (NaN becomes null)."""
    return _jsonable(
        {
            "confidence": CONFIDENCE,
            "intervals": INTERVALS,
            "mixed_scenarios": mixed_scenarios(summaries),
            "runs": list(summaries),
            "warnings": list(warnings),
        }
    )
