"""The protocol's configuration and codes (the rules are in :mod:`peacegame.engine`).

Kept as the stable import path of :class:`ProtocolConfig`,
:class:`IllegalActionError` and the phase names. The rules themselves (rounds,
voters, agreement, deadline, breakdown, proposers, payoffs) are compiled
functions in :mod:`peacegame.engine.rules`, documented there; every env and
runner calls them.
"""

from peacegame.engine.config import (
    DONE,
    PHASES,
    PROPOSE,
    VOTE,
    IllegalActionError,
    ProtocolConfig,
)
from peacegame.engine.tables import Rules, discount_powers

__all__ = [
    "DONE",
    "PHASES",
    "PROPOSE",
    "VOTE",
    "IllegalActionError",
    "ProtocolConfig",
    "Rules",
    "discount_powers",
]
