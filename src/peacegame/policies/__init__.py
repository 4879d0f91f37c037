"""Policies: one interface; scripted strategies; user and learned policies."""

from peacegame.policies.base import Policy, PolicyView, make_view, reset_policy
from peacegame.policies.registry import (
    REGISTRY,
    make_policy,
    policy_label,
    policy_names,
)

__all__ = [
    "REGISTRY",
    "Policy",
    "PolicyView",
    "make_policy",
    "make_view",
    "policy_label",
    "policy_names",
    "reset_policy",
]
