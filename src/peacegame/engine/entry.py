"""Compiled kernel functions bound to fixed arrays, for the B = 1 adapters.

Each call of a numba dispatcher types every argument to pick the compiled
overload, then unboxes the arguments. A PettingZoo env or a scripted policy
object calls the same kernel function with the same arrays on every step, so
the typing is the same every time: :func:`bind` does it once. It resolves the
overload for the arguments' types with ``Dispatcher.compile(signature)``
(loading it from numba's on-disk cache like a first call would, compiling it
only if it is not there) and returns that overload's compiled entry point with
the fixed arrays filled in. A call then passes only the scalars; the arrays are
still unboxed on every call: about 40-70 ns each with reference counting, about
10 ns for an entry compiled with ``rules.NO_REFCOUNT`` (no meminfo per array;
a bound ``policy_move``, 19 arrays, costs about 280 ns, 2026-12-01).

Measured 2026-12-01 (2 shared cores, loaded): a call with the ``game`` tuple
and three arrays cost 755 ns through the dispatcher, 454 ns bound;
``policy_move``'s thirteen arrays 2,211 ns, 1,101 ns bound.

The bound entry checks no types: it is only ever built from the arrays it is
called with, and the scalars' types are fixed by ``scalars``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numba
from numba.core.dispatcher import Dispatcher

__all__ = ["bind", "bind_on_first_call"]


def bind(
    function: Dispatcher, fixed: tuple[Any, ...], scalars: tuple[Any, ...]
) -> Callable[..., Any]:
    """Return ``function``'s compiled entry with the ``fixed`` arguments bound.

    Args:
        function: An ``njit`` function (a numba dispatcher).
        fixed: Its leading arguments, bound for good (arrays, tuples of arrays).
        scalars: Example values of the remaining arguments (``0`` for an
            ``int64``, ``True`` for a ``bool``); every call must pass values of
            these types.

    Returns:
        A callable taking the remaining arguments, returning what ``function``
        returns.
    """
    signature = tuple(numba.typeof(value) for value in (*fixed, *scalars))
    entry = function.compile(signature)
    return functools.partial(entry, *fixed)


def bind_on_first_call(
    owner: object,
    name: str,
    function: Dispatcher,
    fixed: tuple[Any, ...],
    scalars: tuple[Any, ...],
) -> None:
    """Set ``owner.name`` to :func:`bind`'s entry, resolved on its first call.

    Resolving loads or compiles the overload, so an object that may never
    call a kernel (the env a batch-path match builds but never steps) does
    not pay for it at start-up: the first call binds, replaces the attribute
    with the bound entry, and every later call goes to it directly.
    """

    def first_call(*args: Any) -> Any:
        bound = bind(function, fixed, scalars)
        setattr(owner, name, bound)
        return bound(*args)

    setattr(owner, name, first_call)
