"""The scenario language: pydantic v2 models of scenario and actor files.

A scenario file names the issues (ordered levels with numeric attributes),
derived features, feasibility rules, the actors (files under ``agents/`` or
inline), the consent rules and, optionally, the questions the scenario asks of
itself (counterfactuals and plot pairs, see :class:`Questions`). An actor file
holds weighted utility terms, red lines, a no-deal value, a discount and a
recognition probability. The language is documented in ``docs/scenarios.md``.

Conditions are one small declarative language used by feasibility rules, red
lines and consent rules::

    {issue: command, in: [coalition, two_tier]}     # or not_in
    {feature: european_troops, above: 0}            # above | below | at_least | at_most
    {all: [cond, ...]}  {any: [cond, ...]}  {not: cond}

Calibration numbers (weights, table values, curve points, no-deal values,
discounts, recognition probabilities, red-line penalties and floors, level
attributes) may be written as uncertain numbers with a range or a distribution
and ``source`` / ``assumption`` provenance, ``{value: 0.35, range: [0.25,
0.45]}``; the models keep the ``value``. See
:mod:`peacegame.scenario.uncertainty`.

Feature references are ``issue.attribute`` (a level attribute), the name of an
earlier feature, or a number. Nothing here evaluates Python.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from peacegame.scenario.uncertainty import (
    AnyNumber,
    DiscountNumber,
    NonNegativeNumber,
    UnitNumber,
    is_uncertain_mapping,
    plain_number,
)

IDENT = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
LEVEL_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_\-.+]*$"


class Strict(BaseModel):
    """Base model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- #
# Conditions
# --------------------------------------------------------------------------- #


class IssueCondition(Strict):
    """True where ``issue`` is at one of ``in`` (or at none of ``not_in``)."""

    issue: str
    in_: list[str] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> IssueCondition:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("give exactly one of 'in' or 'not_in'")
        return self


class FeatureCondition(Strict):
    """Compares a feature (or ``issue.attribute``) with a threshold."""

    feature: str
    above: float | None = None
    below: float | None = None
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> FeatureCondition:
        given = [
            k
            for k in ("above", "below", "at_least", "at_most")
            if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'above', 'below', 'at_least', 'at_most'"
            )
        return self


class AllCondition(Strict):
    """True where every sub-condition holds."""

    all: list[Condition] = Field(min_length=1)


class AnyCondition(Strict):
    """True where at least one sub-condition holds."""

    any: list[Condition] = Field(min_length=1)


class NotCondition(Strict):
    """True where the sub-condition does not hold."""

    not_: Condition = Field(alias="not")


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {
            IssueCondition: "issue",
            FeatureCondition: "feature",
            AllCondition: "all",
            AnyCondition: "any",
            NotCondition: "not",
        }.get(type(value))
    if isinstance(value, dict):
        for key in ("issue", "feature", "all", "any", "not"):
            if key in value:
                return key
    return None


Condition = Annotated[
    Union[
        Annotated[IssueCondition, Tag("issue")],
        Annotated[FeatureCondition, Tag("feature")],
        Annotated[AllCondition, Tag("all")],
        Annotated[AnyCondition, Tag("any")],
        Annotated[NotCondition, Tag("not")],
    ],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message=(
            "expected a condition: a mapping with one of the keys "
            "'issue', 'feature', 'all', 'any', 'not'"
        ),
    ),
]

AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()


# --------------------------------------------------------------------------- #
# Issues, features, feasibility
# --------------------------------------------------------------------------- #


class Level(BaseModel):
    """One level of an issue: a name plus optional numeric attributes.

    In YAML a level is either a bare name (``rear``) or a mapping
    ``{name: 25k, troops: 25000}``; every key but ``name`` (and
    ``description``) is a numeric attribute.
    """

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=LEVEL_NAME)
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return {"name": str(value)}
        if isinstance(value, dict) and any(map(is_uncertain_mapping, value.values())):
            plain = dict(value)
            for key, val in value.items():
                if key not in ("name", "description") and is_uncertain_mapping(val):
                    try:
                        plain[key] = plain_number(val)
                    except ValueError as exc:
                        raise ValueError(f"attribute {key!r}: {exc}") from None
            return plain
        return value

    @model_validator(mode="after")
    def _numeric_attributes(self) -> Level:
        for key, val in (self.model_extra or {}).items():
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise ValueError(
                    f"attribute {key!r} of level {self.name!r} must be a number, "
                    f"got {val!r}"
                )
            if not re.match(IDENT, key):
                raise ValueError(f"attribute name {key!r} is not an identifier")
        return self

    @property
    def attributes(self) -> dict[str, float]:
        """The level's numeric attributes."""
        return {k: float(v) for k, v in (self.model_extra or {}).items()}


class Issue(Strict):
    """An issue: a name and its ordered levels."""

    name: str = Field(pattern=IDENT)
    description: str | None = None
    levels: list[Level] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _unique_levels(cls, levels: list[Level]) -> list[Level]:
        names = [lv.name for lv in levels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate level names {dup}")
        return levels


FeatureRef = Union[float, str]


class Feature(Strict):
    """A derived number: the product or the sum of references.

    A reference is ``issue.attribute``, an earlier feature's name, or a number.
    """

    name: str = Field(pattern=IDENT)
    description: str | None = None
    product: list[FeatureRef] | None = Field(default=None, min_length=1)
    sum: list[FeatureRef] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_op(self) -> Feature:
        if (self.product is None) == (self.sum is None):
            raise ValueError("give exactly one of 'product' or 'sum'")
        return self

    @property
    def refs(self) -> list[FeatureRef]:
        """The references combined by this feature."""
        return list(self.product if self.product is not None else self.sum or [])


class FeasibilityRule(Strict):
    """Drops outcomes: those matching ``forbid``, or those not matching ``require``."""

    name: str
    description: str | None = None
    forbid: Condition | None = None
    require: Condition | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FeasibilityRule:
        if (self.forbid is None) == (self.require is None):
            raise ValueError("give exactly one of 'forbid' or 'require'")
        return self


# --------------------------------------------------------------------------- #
# Actors
# --------------------------------------------------------------------------- #


class TableTerm(Strict):
    """A value per level of one issue (a list in level order, or a mapping)."""

    weight: NonNegativeNumber = Field(ge=0)
    issue: str
    values: Annotated[
        Union[
            Annotated[list[UnitNumber], Tag("list")],
            Annotated[dict[str, UnitNumber], Tag("mapping")],
        ],
        Discriminator(lambda v: "mapping" if isinstance(v, dict) else "list"),
    ]
    description: str | None = None

    @field_validator("values")
    @classmethod
    def _unit_interval(cls, values: list[float] | dict[str, float]) -> Any:
        vals = values.values() if isinstance(values, dict) else values
        bad = [v for v in vals if not 0.0 <= v <= 1.0]
        if bad:
            raise ValueError(f"values must lie in [0, 1], got {bad}")
        return values


class CurveTerm(Strict):
    """A piecewise-linear curve over a feature, clamped beyond its end points."""

    weight: NonNegativeNumber = Field(ge=0)
    feature: str
    curve: list[tuple[AnyNumber, UnitNumber]] = Field(min_length=1)
    description: str | None = None

    @field_validator("curve")
    @classmethod
    def _increasing(cls, curve: list[tuple[float, float]]) -> Any:
        xs = [x for x, _ in curve]
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise ValueError(f"curve x values must be strictly increasing, got {xs}")
        bad = [y for _, y in curve if not 0.0 <= y <= 1.0]
        if bad:
            raise ValueError(f"curve values must lie in [0, 1], got {bad}")
        return curve


class ConstantTerm(Strict):
    """A constant value for any deal (for example, 'any agreement is worth 1')."""

    weight: NonNegativeNumber = Field(ge=0)
    constant: UnitNumber = Field(ge=0, le=1)
    description: str | None = None


def _term_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {TableTerm: "table", CurveTerm: "curve", ConstantTerm: "constant"}.get(
            type(value)
        )
    if isinstance(value, dict):
        if "issue" in value:
            return "table"
        if "feature" in value:
            return "curve"
        if "constant" in value:
            return "constant"
    return None


Term = Annotated[
    Union[
        Annotated[TableTerm, Tag("table")],
        Annotated[CurveTerm, Tag("curve")],
        Annotated[ConstantTerm, Tag("constant")],
    ],
    Discriminator(
        _term_kind,
        custom_error_type="term",
        custom_error_message=(
            "expected a utility term with 'issue' (value table), 'feature' "
            "(curve) or 'constant'"
        ),
    ),
]


class RedLine(Strict):
    """A red line: outcomes matching ``when`` are penalised (soft) or floored (hard).

    Soft: the utility drops by ``penalty`` and is clipped at 0. Hard: the utility
    becomes ``floor``.
    """

    name: str = Field(pattern=IDENT)
    when: Condition
    kind: Literal["soft", "hard"] = "soft"
    penalty: UnitNumber = Field(default=0.25, ge=0, le=1)
    floor: UnitNumber = Field(default=0.0, ge=0, le=1)
    source: str | None = None
    description: str | None = None


class Actor(Strict):
    """One actor's preferences and bargaining parameters."""

    id: str = Field(pattern=IDENT)
    name: str | None = None
    description: str | None = None
    no_deal: UnitNumber = Field(ge=0, le=1)
    discount: DiscountNumber = Field(gt=0, le=1)
    recognition: UnitNumber = Field(ge=0, le=1)
    terms: list[Term] = Field(min_length=1)
    red_lines: list[RedLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _weights(self) -> Actor:
        if sum(t.weight for t in self.terms) <= 0:
            raise ValueError(
                "the weights of 'terms' sum to zero; expected a positive total"
            )
        names = [r.name for r in self.red_lines]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate red line names {dup}")
        return self


# --------------------------------------------------------------------------- #
# Consent and the scenario
# --------------------------------------------------------------------------- #


class ConsentRule(Strict):
    """A voting rule: which actors vote on a proposal, and how many must accept.

    The rule applies always, or only at outcomes where ``when`` holds. Its
    actors (``actors``, or the keys of ``weights``) vote on every proposal it
    applies to; the proposal passes when every applying rule is met. How a rule
    is met:

    * by default every one of its actors accepts ("all of", unanimity);
    * ``quota``: at least that many of its actors accept: a count (an integer
      >= 1), a fraction of the set (a float in (0, 1]: at least
      ``ceil(quota * n)`` of its n actors) or ``majority`` (more than half);
    * ``weights`` with ``threshold``: the weights of the accepting actors sum
      to at least ``threshold`` (weights >= 0, compared exactly as the decimal
      numbers written);
    * ``veto``: actors of the rule whose acceptance is necessary as well.

    The proposer counts as accepting its own proposal. ``quota`` and
    ``weights`` exclude each other.
    """

    name: str | None = None
    actors: list[str] | None = Field(default=None, min_length=1)
    weights: dict[str, float] | None = Field(default=None, min_length=1)
    threshold: float | None = None
    quota: Union[int, float, Literal["majority"], None] = None
    veto: list[str] = Field(default_factory=list)
    when: Condition | None = None
    description: str | None = None

    @field_validator("actors")
    @classmethod
    def _distinct_actors(cls, actors: list[str] | None) -> list[str] | None:
        dup = sorted({a for a in actors or [] if actors.count(a) > 1})
        if dup:
            raise ValueError(f"duplicate actors {dup}; expected each actor once")
        return actors

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, weights: dict[str, float] | None) -> Any:
        negative = {a: w for a, w in (weights or {}).items() if w < 0}
        if negative:
            raise ValueError(f"negative weights {negative}; expected weights >= 0")
        return weights

    @field_validator("threshold")
    @classmethod
    def _reachable(cls, threshold: float | None, info: ValidationInfo) -> Any:
        weights = info.data.get("weights")
        if threshold is None or weights is None:
            return threshold
        total = sum(weights.values())
        if not 0 < threshold <= total:
            raise ValueError(
                f"threshold {threshold:g} is not in (0, {total:g}], the total "
                "weight of the rule's actors; expected a threshold they can reach"
            )
        return threshold

    @field_validator("quota")
    @classmethod
    def _quota_fits(cls, quota: Any, info: ValidationInfo) -> Any:
        if quota is None:
            return quota
        if info.data.get("weights") is not None:
            raise ValueError(
                "'quota' and 'weights' exclude each other; expected one of them"
            )
        n = len(info.data.get("actors") or [])
        if isinstance(quota, bool):
            raise ValueError("expected a count, a fraction or 'majority'")
        if isinstance(quota, int) and quota > n:
            raise ValueError(
                f"quota {quota} is larger than the rule's {n} actors; expected 1 to {n}"
            )
        if isinstance(quota, int) and quota < 1:
            raise ValueError(f"quota {quota} is below 1; expected 1 to {n}")
        if isinstance(quota, float) and not 0.0 < quota <= 1.0:
            raise ValueError(
                f"quota {quota:g} is a fraction outside (0, 1]; expected a "
                f"fraction in (0, 1] or a count from 1 to {n}"
            )
        return quota

    @field_validator("veto")
    @classmethod
    def _veto_in_rule(cls, veto: list[str], info: ValidationInfo) -> list[str]:
        members = info.data.get("actors") or list(info.data.get("weights") or {})
        outside = [a for a in veto if a not in members]
        if outside:
            raise ValueError(
                f"veto actor(s) {outside} are not among the rule's actors "
                f"{members}; expected a subset of them"
            )
        return veto

    @model_validator(mode="after")
    def _one_counting_rule(self) -> ConsentRule:
        if self.actors is None and self.weights is None:
            raise ValueError("a consent rule needs 'actors' or 'weights'")
        if self.weights is not None:
            if self.actors is not None and set(self.actors) != set(self.weights):
                raise ValueError(
                    f"'weights' names {sorted(self.weights)} but 'actors' is "
                    f"{sorted(self.actors)}; expected the same actors (or leave "
                    "out 'actors')"
                )
            if self.threshold is None:
                raise ValueError("'weights' need a 'threshold'")
        elif self.threshold is not None:
            raise ValueError("'threshold' needs 'weights'")
        return self

    @property
    def members(self) -> list[str]:
        """The actors this rule counts (``actors``, or the keys of ``weights``)."""
        if self.actors is not None:
            return list(self.actors)
        return list(self.weights or {})


class TheoryDeclaration(Strict):
    """Declares that a scenario is a textbook bargaining model.

    ``peacegame theory`` prints the model's closed-form predictions. Every
    parameter the formulas need comes from the scenario itself, so there is one
    source of truth: the discounts delta_i, the recognition probabilities p_i
    and the no-deal values d_i from the actors, and the shares of the pie from
    their utilities. The command checks that the scenario has the model's form
    (a pie whose shares sum to 1 at every outcome, unanimous consent, ...) and
    refuses it otherwise. See ``docs/theory.md``.

    Attributes:
        model: ``rubinstein`` (two actors, alternating offers),
            ``baron_ferejohn`` (random recognition, unanimity),
            ``baron_ferejohn_majority`` (random recognition, majority rule,
            closed rule; n odd, equal recognition, a common discount) or
            ``nash_bargaining`` (the Nash bargaining solution).
        breakdown_prob: The per-round risk of breakdown the textbook game
            assumes (the protocol knob ``protocol.breakdown_prob`` that a match
            config playing it sets); used when the command is given the
            scenario alone.
        description: Free text.

    """

    model: Literal[
        "rubinstein", "baron_ferejohn", "baron_ferejohn_majority", "nash_bargaining"
    ]
    breakdown_prob: float = Field(default=0.0, ge=0.0, lt=1.0)
    description: str | None = None


class CounterfactualQuestion(Strict):
    """A counterfactual question the scenario asks of itself.

    ``peacegame compare A B`` answers it from the two scenarios: how many
    outcomes the ``focus`` actor accepts (utility at least its no-deal value)
    in each, and, with a ``feature``, how many of them have the feature above 0
    (for example outcomes with Chinese troops). Flags of ``compare``
    (``--question``, ``--focus``, ``--feature``) override it.

    Attributes:
        name: An identifier, for ``compare --question NAME``.
        text: The question in words (default: built from the other fields).
        focus: The actor whose acceptance set is examined.
        feature: A feature of the scenario; outcomes where it is above 0 are
            the ones "with" it. Optional.
        label: What the feature marks, in words, as in "outcomes with
            <label>" (default: the feature name with spaces).
        noun: What the scenario's outcomes are called in the answer.
        variant: The scenario to compare with when ``compare`` is given one
            scenario only: a file relative to this scenario's folder, or a
            shipped scenario name.
        description: Free text.

    """

    name: str = Field(pattern=IDENT)
    text: str | None = None
    focus: str
    feature: str | None = None
    label: str | None = None
    noun: str = Field(default="outcomes", min_length=1)
    variant: str | None = None
    description: str | None = None

    @property
    def feature_label(self) -> str:
        """The readable name of the feature (empty without a feature)."""
        if self.feature is None:
            return ""
        return self.label or self.feature.replace("_", " ")


class Questions(Strict):
    """What a scenario asks of itself, as data (no actor name is hard-coded).

    Attributes:
        counterfactuals: The questions ``peacegame compare`` answers; the first
            is the default.
        plot_pairs: Pairs of actor ids ``[x, y]`` whose utilities the
            projection plots draw against each other (default: the first two
            actors); ``analyze --pair X,Y`` overrides them.

    """

    counterfactuals: list[CounterfactualQuestion] = Field(default_factory=list)
    plot_pairs: list[tuple[str, str]] = Field(default_factory=list)

    @field_validator("plot_pairs")
    @classmethod
    def _two_actors(cls, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        same = [list(p) for p in pairs if p[0] == p[1]]
        if same:
            raise ValueError(f"a plot pair needs two different actors, got {same}")
        return pairs


class Scenario(Strict):
    """A scenario file after ``extends`` and overrides are resolved.

    Attributes:
        actors: Paths to actor files (relative to the scenario file) or inline
            actor mappings; after loading, always :class:`Actor` objects.
        overrides: Per actor id, a partial actor mapping deep-merged into that
            actor (lists of named items merge by ``name``). Each file of an
            ``extends`` chain keeps its own block, applied after its base's
            (see :mod:`peacegame.scenario.loader`).
        drop_levels: Per issue, level names whose outcomes are removed (a
            counterfactual without, say, Chinese contingents).
        max_outcomes: Refuse to enumerate a grid larger than this.
        theory: Optional: the textbook model this scenario is (see
            :class:`TheoryDeclaration`); engines ignore it.
        questions: The scenario's counterfactual questions and plot pairs
            (see :class:`Questions`); engines ignore them, and they are not
            part of the scenario hash.

    """

    name: str
    description: str | None = None
    extends: str | None = None
    issues: list[Issue] = Field(min_length=1)
    features: list[Feature] = Field(default_factory=list)
    feasibility: list[FeasibilityRule] = Field(default_factory=list)
    actors: list[Union[str, Actor]] = Field(min_length=1)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    consent: list[ConsentRule] = Field(min_length=1)
    drop_levels: dict[str, list[str]] = Field(default_factory=dict)
    max_outcomes: int = Field(default=20_000_000, ge=1)
    theory: TheoryDeclaration | None = None
    questions: Questions = Field(default_factory=Questions)


SCHEMA_KINDS: dict[str, type[BaseModel]] = {"scenario": Scenario, "actor": Actor}
"""Config kinds whose JSON Schema ``peacegame schema`` exports."""
