"""Policies by name, with parameters from config, and user policies by import path.

A policy spec is a mapping ``{policy: NAME, **params}`` (or just ``NAME``):

* ``NAME`` from :data:`REGISTRY` (``random``, ``boulware``, ``linear``,
  ``conceder``, ``time_dependent``, ``hardliner``, ``tit_for_tat``,
  ``nash_mediator``); parameters are validated by the strategy's ``Params``;
* ``learned`` (a trained checkpoint) and ``llm`` (a language model, see
  :mod:`peacegame.policies.llm`), loaded on first use;
* ``package.module:ClassName``: a user policy, imported explicitly from that
  path and constructed with the remaining keys as keyword arguments. This is
  the only place peacegame imports user code.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import ValidationError

from peacegame.errors import ConfigError, suggest
from peacegame.policies.base import Policy
from peacegame.policies.scripted import (
    Boulware,
    Conceder,
    Hardliner,
    Linear,
    NashMediator,
    RandomPolicy,
    ScriptedPolicy,
    TimeDependent,
    TitForTat,
)
from peacegame.yamlio import pydantic_error

REGISTRY: dict[str, type[ScriptedPolicy]] = {
    cls.name: cls
    for cls in (
        RandomPolicy,
        TimeDependent,
        Boulware,
        Linear,
        Conceder,
        Hardliner,
        TitForTat,
        NashMediator,
    )
}
"""Built-in strategies by name."""

LAZY_KINDS: dict[str, tuple[str, str]] = {
    "learned": ("peacegame.policies.learned", "LearnedPolicy"),
    "llm": ("peacegame.policies.llm", "LLMPolicy"),
}
"""Named policy kinds whose module loads on first use (module, class with a
``from_spec`` constructor): ``learned`` imports torch / SB3 only when a
checkpoint loads, and imports nothing from here."""


def normalise_spec(spec: Any, *, file: str | None, field: str) -> dict[str, Any]:
    """Return a spec as a mapping with a ``policy`` key."""
    if isinstance(spec, str):
        return {"policy": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("policy"), str):
        raise ConfigError(
            "expected a policy name or a mapping {policy: NAME, ...params}",
            file=file,
            field=field,
        )
    return dict(spec)


def policy_names() -> list[str]:
    """All names a spec may use (besides import paths)."""
    return sorted({*REGISTRY, *LAZY_KINDS})


def check_spec(spec: Any, *, file: str | None = None, field: str = "policy") -> None:
    """Validate a spec without keeping the policy (raises ConfigError)."""
    make_policy(spec, file=file, field=field)


def make_policy(spec: Any, *, file: str | None = None, field: str = "policy") -> Policy:
    """Build a policy from its spec.

    Raises:
        ConfigError: Unknown name (with the closest suggestion), bad parameters,
            or an import path that does not give a policy class.
    """
    spec = normalise_spec(spec, file=file, field=field)
    name = spec.pop("policy")
    if ":" in name:
        return _import_policy(name, spec, file=file, field=field)
    if name in LAZY_KINDS:
        module, attribute = LAZY_KINDS[name]
        kind = getattr(importlib.import_module(module), attribute)
        return kind.from_spec(file=file, field=field, **spec)
    cls = REGISTRY.get(name)
    if cls is None:
        raise ConfigError(
            f"unknown policy {name!r}{suggest(name, policy_names())}; expected one "
            f"of {policy_names()} or 'package.module:ClassName'",
            file=file,
            field=f"{field}.policy",
        )
    try:
        return cls(**spec)
    except ValidationError as exc:
        raise pydantic_error(
            exc, file=file or "<config>", prefix=field, model=cls.Params
        ) from None


def _import_policy(
    path: str, params: dict[str, Any], *, file: str | None, field: str
) -> Policy:
    module_name, _, attr = path.partition(":")
    where = f"{field}.policy"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 (any import failure is a user error)
        raise ConfigError(
            f"cannot import {module_name!r} ({type(exc).__name__}: {exc})",
            file=file,
            field=where,
        ) from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise ConfigError(
            f"{module_name!r} has no class {attr!r}", file=file, field=where
        )
    try:
        policy = factory(**params)
    except TypeError as exc:
        raise ConfigError(
            f"bad parameters for {path}: {exc}", file=file, field=field
        ) from None
    if not isinstance(policy, Policy):
        raise ConfigError(
            f"{path} does not implement reset(agent, view, rng) and "
            "act(observation, info)",
            file=file,
            field=where,
        )
    return policy


def policy_label(policy: Any) -> str:
    """A short label of a policy for logs."""
    label = getattr(policy, "label", None)
    if callable(label):
        return str(label())
    return type(policy).__name__
