"""Uncertain numbers and their provenance in the scenario language.

Where the scenario language takes a calibration number (a weight, a value-table
entry, a curve point, a no-deal value, a discount, a recognition probability, a
red-line penalty or floor, a level attribute), it also takes a mapping::

    weight: 0.35                                        # a plain number
    weight: {value: 0.35, source: "IISS, Apr 2025"}     # with provenance only
    weight: {value: 0.35, range: [0.25, 0.45],          # uniform on the range
             assumption: "SCENARIO.md calibration"}
    weight: {value: 0.35, range: [0.25, 0.45], distribution: triangular}
    weight: {value: 0.35, range: [0.25, 0.45],
             distribution: {normal: {mean: 0.35, sd: 0.05}}}   # truncated
    weight: {value: 0.35, range: [0.25, 0.45],
             distribution: {beta: {a: 2, b: 2}}}               # on the range

``value`` is what every engine, env and solver uses: a scenario with uncertain
numbers compiles to exactly the arrays of the same scenario with plain
numbers. Only ``peacegame sensitivity`` draws from the ranges. Distributions:

- ``uniform`` (the default): uniform on ``range``;
- ``triangular``: ``{triangular: {mode: m}}``, the mode defaults to ``value``;
- ``normal``: ``{normal: {mean: m, sd: s}}`` truncated to ``range``; the mean
  defaults to ``value``;
- ``beta``: ``{beta: {a: a, b: b}}``, scaled onto ``range``.

A range must have positive width, contain ``value``, and lie inside the bounds
of its field (a weight's range may not reach below 0, a table value's not
beyond [0, 1]). ``source`` and ``assumption`` are free text, kept as
machine-readable provenance (YAML comments stay allowed).

This module holds the parsing and validation (used by the pydantic models of
:mod:`peacegame.scenario.model` through the ``*Number`` types) and the walk
that lists the uncertain numbers of a scenario (:func:`actor_parameters`,
:func:`level_parameters`). Sampling lives in :mod:`peacegame.analysis`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator

from peacegame.errors import suggest

KEYS = ("value", "range", "distribution", "source", "assumption", "description")
"""The keys of an uncertain-number mapping."""

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": (),
    "triangular": ("mode",),
    "normal": ("mean", "sd"),
    "beta": ("a", "b"),
}
"""Distribution names and the parameters each takes."""

REQUIRED_PARAMETERS: dict[str, tuple[str, ...]] = {
    "uniform": (),
    "triangular": (),
    "normal": ("sd",),
    "beta": ("a", "b"),
}


@dataclass(frozen=True)
class UncertainNumber:
    """A number with an optional range, distribution and provenance.

    Attributes:
        value: The number every engine uses.
        range: ``(low, high)`` the sensitivity analysis draws from, or None
            (a certain number that only carries provenance).
        distribution: ``uniform``, ``triangular``, ``normal`` or ``beta``.
        parameters: The distribution's parameters (defaults filled in).
        source: Where the number comes from.
        assumption: Why a modelling choice was made.
        description: Free text.

    """

    value: float
    range: tuple[float, float] | None = None
    distribution: str = "uniform"
    parameters: dict[str, float] = field(default_factory=dict)
    source: str | None = None
    assumption: str | None = None
    description: str | None = None

    @property
    def uncertain(self) -> bool:
        """True when the number has a range to draw from."""
        return self.range is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"value": self.value}
        if self.range is not None:
            out["range"] = list(self.range)
            out["distribution"] = self.distribution
            if self.parameters:
                out["parameters"] = dict(self.parameters)
        for key in ("source", "assumption"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


def is_uncertain_mapping(value: Any) -> bool:
    """True for a mapping written as an uncertain number (it has ``value``)."""
    return isinstance(value, dict) and "value" in value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)


def parse_uncertain(data: dict[str, Any]) -> UncertainNumber:
    """Validate an uncertain-number mapping.

    Raises:
        ValueError: With one line saying what is wrong and what was expected.

    """
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        key = str(unknown[0])
        raise ValueError(
            f"unknown key {key!r} of an uncertain number{suggest(key, KEYS)}; "
            f"expected {', '.join(KEYS)}"
        )
    value = _number(data["value"], "'value'")
    texts = {}
    for key in ("source", "assumption", "description"):
        text = data.get(key)
        if text is not None and not isinstance(text, str):
            raise ValueError(f"'{key}' must be text, got {text!r}")
        texts[key] = " ".join(text.split()) if text else None
    raw_range = data.get("range")
    dist = data.get("distribution")
    if raw_range is None:
        if dist is not None:
            raise ValueError(
                "a 'distribution' needs a 'range' (its support; the truncation "
                "of a normal); add range: [low, high]"
            )
        return UncertainNumber(value=value, **texts)
    if not isinstance(raw_range, (list, tuple)) or len(raw_range) != 2:
        raise ValueError(f"'range' must be [low, high], got {raw_range!r}")
    low = _number(raw_range[0], "the low end of 'range'")
    high = _number(raw_range[1], "the high end of 'range'")
    if high < low:
        raise ValueError(
            f"range [{low:g}, {high:g}] has a negative width; expected "
            "[low, high] with low < high"
        )
    if high == low:
        raise ValueError(
            f"range [{low:g}, {high:g}] has zero width; expected low < high "
            "(or a plain number)"
        )
    if not low <= value <= high:
        raise ValueError(
            f"value {value:g} lies outside its range [{low:g}, {high:g}]; "
            "expected low <= value <= high"
        )
    name, params = _distribution(dist, value, low, high)
    return UncertainNumber(
        value=value,
        range=(low, high),
        distribution=name,
        parameters=params,
        **texts,
    )


def _distribution(
    dist: Any, value: float, low: float, high: float
) -> tuple[str, dict[str, float]]:
    names = list(DISTRIBUTIONS)
    if dist is None:
        return "uniform", {}
    if isinstance(dist, str):
        name, given = dist, {}
    elif isinstance(dist, dict) and len(dist) == 1:
        name, given = next(iter(dist.items()))
        given = {} if given is None else given
        if not isinstance(given, dict):
            raise ValueError(
                f"the parameters of distribution {name!r} must be a mapping, "
                f"got {given!r}"
            )
    else:
        raise ValueError(
            f"'distribution' must be a name or {{name: {{parameters}}}}, got "
            f"{dist!r}; expected one of {names}"
        )
    if name not in DISTRIBUTIONS:
        raise ValueError(
            f"unknown distribution {name!r}{suggest(str(name), names)}; "
            f"expected one of {names}"
        )
    allowed = DISTRIBUTIONS[name]
    for key in given:
        if key not in allowed:
            expected = ", ".join(allowed) if allowed else "no parameters"
            raise ValueError(
                f"unknown parameter {key!r} of the {name} distribution"
                f"{suggest(str(key), allowed)}; expected {expected}"
            )
    missing = [k for k in REQUIRED_PARAMETERS[name] if k not in given]
    if missing:
        raise ValueError(
            f"the {name} distribution needs parameter(s) {missing}; expected "
            f"{', '.join(allowed)}"
        )
    params = {k: _number(v, f"parameter {k!r} of {name}") for k, v in given.items()}
    if name == "triangular":
        params.setdefault("mode", value)
        if not low <= params["mode"] <= high:
            raise ValueError(
                f"the triangular mode {params['mode']:g} lies outside the range "
                f"[{low:g}, {high:g}]"
            )
    elif name == "normal":
        params.setdefault("mean", value)
        if params["sd"] <= 0:
            raise ValueError(f"the normal sd must be positive, got {params['sd']:g}")
    elif name == "beta":
        bad = {k: v for k, v in params.items() if v <= 0}
        if bad:
            raise ValueError(f"the beta parameters must be positive, got {bad}")
    return str(name), params


@dataclass(frozen=True)
class Bounds:
    """The bounds a field's number (and so its range) must respect."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None

    def text(self) -> str:
        """The bounds in words, for example ``[0, 1]``."""
        left = (
            f"[{self.ge:g}"
            if self.ge is not None
            else f"({self.gt:g}"
            if self.gt is not None
            else "(-inf"
        )
        right = f"{self.le:g}]" if self.le is not None else "inf)"
        return f"{left}, {right}"

    def check_range(self, low: float, high: float) -> None:
        """Raise ValueError when ``[low, high]`` leaves the bounds."""
        ok = (
            (self.ge is None or low >= self.ge)
            and (self.gt is None or low > self.gt)
            and (self.le is None or high <= self.le)
        )
        if not ok:
            raise ValueError(
                f"range [{low:g}, {high:g}] leaves the field's bounds "
                f"{self.text()}; expected a range within them"
            )


def plain_number(value: Any, bounds: Bounds = Bounds()) -> Any:
    """Validate an uncertain-number mapping and return its ``value``.

    Anything else is returned unchanged, for pydantic to validate as a number.

    Raises:
        ValueError: On a malformed mapping or a range outside ``bounds``.

    """
    if not is_uncertain_mapping(value):
        if isinstance(value, dict):
            raise ValueError(
                "expected a number, or an uncertain number {value: x, range: "
                f"[low, high]}}, got a mapping without 'value' ({sorted(value)})"
            )
        return value
    number = parse_uncertain(value)
    if number.range is not None:
        bounds.check_range(*number.range)
    return number.value


class _UncertainSchema:
    """JSON Schema marker: a number, or an uncertain-number mapping."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [handler(core_schema), UNCERTAIN_JSON_SCHEMA]}


UNCERTAIN_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "UncertainNumber",
    "description": "A number with a range to draw from, a distribution and "
    "provenance (see peacegame.scenario.uncertainty).",
    "required": ["value"],
    "additionalProperties": False,
    "properties": {
        "value": {"type": "number"},
        "range": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
        },
        "distribution": {
            "anyOf": [
                {"enum": list(DISTRIBUTIONS)},
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "additionalProperties": False,
                    "properties": {
                        name: {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {p: {"type": "number"} for p in params},
                        }
                        for name, params in DISTRIBUTIONS.items()
                    },
                },
            ]
        },
        "source": {"type": "string"},
        "assumption": {"type": "string"},
        "description": {"type": "string"},
    },
}


def number_type(bounds: Bounds) -> Any:
    """A pydantic type: a float, or an uncertain number whose range fits ``bounds``."""
    return Annotated[
        float,
        BeforeValidator(lambda v: plain_number(v, bounds)),
        _UncertainSchema(),
    ]


AnyNumber = number_type(Bounds())
NonNegativeNumber = number_type(Bounds(ge=0.0))
UnitNumber = number_type(Bounds(ge=0.0, le=1.0))
DiscountNumber = number_type(Bounds(gt=0.0, le=1.0))


# --------------------------------------------------------------------------- #
# The uncertain numbers of a scenario
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain number of a loaded scenario.

    Attributes:
        name: A unique dotted name, ``russia.terms[0].weight`` or
            ``issues.us_backstop.none.multiplier``.
        label: A short readable name for tables and plots.
        file: The file that declares it.
        field: Its field path in that file.
        path: Its path in the scenario's resolved data (``LoadedScenario.resolved``),
            where a calibration's value is substituted.
        target: What it sets, for the batched compiler: ``("no_deal", a)``,
            ``("discount", a)``, ``("recognition", a)``, ``("weight", a, j)``,
            ``("table", a, j, level)``, ``("curve", a, j, point, 0 or 1)``,
            ``("constant", a, j)``, ``("penalty", a, r)``, ``("floor", a, r)``
            or ``("attribute", issue, level, attribute)`` (indices).
        number: The declared value, range, distribution and provenance.

    """

    name: str
    label: str
    file: str
    field: str
    path: tuple[Any, ...]
    target: tuple[Any, ...]
    number: UncertainNumber

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "label": self.label,
            "file": self.file,
            "field": self.field,
            **self.number.as_dict(),
        }


def _take(
    container: Any,
    key: Any,
    out: list[UncertainParameter],
    make: Any,
) -> None:
    """If ``container[key]`` is an uncertain mapping: record it, make it plain."""
    value = container[key]
    if not is_uncertain_mapping(value):
        return
    number = parse_uncertain(value)
    container[key] = value["value"]  # as written (an int stays an int: same hash)
    if number.uncertain:
        out.append(make(number))


def actor_parameters(
    raw: dict[str, Any], index: int, file: str, prefix: str
) -> list[UncertainParameter]:
    """List an actor's uncertain numbers and make them plain in ``raw`` (in place).

    Args:
        raw: The actor's data (after overrides), already validated.
        index: The actor's position in the scenario.
        file: The actor's file, for messages.
        prefix: Its field prefix in that file (``actors[2].`` or empty).

    """
    out: list[UncertainParameter] = []
    actor = str(raw.get("id"))

    def param(field: str, path: tuple[Any, ...], target: tuple[Any, ...], label: str):
        def make(number: UncertainNumber) -> UncertainParameter:
            return UncertainParameter(
                name=f"{actor}.{field}",
                label=f"{actor} {label}",
                file=file,
                field=f"{prefix}{field}",
                path=("actors", index, *path),
                target=target,
                number=number,
            )

        return make

    for key in ("no_deal", "discount", "recognition"):
        if key in raw:
            _take(raw, key, out, param(key, (key,), (key, index), key))
    for j, term in enumerate(raw.get("terms") or []):
        if not isinstance(term, dict):
            continue
        what = term.get("issue") or term.get("feature") or "constant"
        base = f"terms[{j}]"
        if "weight" in term:
            _take(
                term,
                "weight",
                out,
                param(
                    f"{base}.weight",
                    ("terms", j, "weight"),
                    ("weight", index, j),
                    f"weight of {what}",
                ),
            )
        if "constant" in term:
            _take(
                term,
                "constant",
                out,
                param(
                    f"{base}.constant",
                    ("terms", j, "constant"),
                    ("constant", index, j),
                    "constant",
                ),
            )
        values = term.get("values")
        if isinstance(values, dict):
            for level in list(values):
                _take(
                    values,
                    level,
                    out,
                    param(
                        f"{base}.values.{level}",
                        ("terms", j, "values", level),
                        ("table", index, j, str(level)),
                        f"{what}={level}",
                    ),
                )
        elif isinstance(values, list):
            for k in range(len(values)):
                _take(
                    values,
                    k,
                    out,
                    param(
                        f"{base}.values[{k}]",
                        ("terms", j, "values", k),
                        ("table", index, j, k),
                        f"{what}[{k}]",
                    ),
                )
        for k, point in enumerate(term.get("curve") or []):
            if not isinstance(point, list):
                continue
            x = point[0]["value"] if is_uncertain_mapping(point[0]) else point[0]
            for c, axis in ((0, "x"), (1, "y")):
                _take(
                    point,
                    c,
                    out,
                    param(
                        f"{base}.curve[{k}][{c}]",
                        ("terms", j, "curve", k, c),
                        ("curve", index, j, k, c),
                        f"{what} curve {axis} at x={x:g}",
                    ),
                )
    for r, red in enumerate(raw.get("red_lines") or []):
        if not isinstance(red, dict):
            continue
        for key in ("penalty", "floor"):
            if key in red:
                _take(
                    red,
                    key,
                    out,
                    param(
                        f"red_lines[{r}].{key}",
                        ("red_lines", r, key),
                        (key, index, r),
                        f"{red.get('name')} {key}",
                    ),
                )
    return out


def level_parameters(data: dict[str, Any], file: str) -> list[UncertainParameter]:
    """List the uncertain level attributes and make them plain in ``data`` (in place).

    Args:
        data: The scenario's merged data, already validated.
        file: The scenario file, for messages.

    """
    out: list[UncertainParameter] = []
    for i, issue in enumerate(data.get("issues") or []):
        if not isinstance(issue, dict):
            continue
        for j, level in enumerate(issue.get("levels") or []):
            if not isinstance(level, dict):
                continue
            for attr in list(level):
                if attr in ("name", "description"):
                    continue
                field_name = f"issues[{i}].levels[{j}].{attr}"

                def make(
                    number: UncertainNumber,
                    i: int = i,
                    j: int = j,
                    attr: str = attr,
                    field_name: str = field_name,
                    issue: Any = issue,
                    level: Any = level,
                ) -> UncertainParameter:
                    return UncertainParameter(
                        name=f"issues.{issue.get('name')}.{level.get('name')}.{attr}",
                        label=f"{issue.get('name')}={level.get('name')} {attr}",
                        file=file,
                        field=field_name,
                        path=("issues", i, "levels", j, attr),
                        target=("attribute", i, j, attr),
                        number=number,
                    )

                _take(level, attr, out, make)
    return out
