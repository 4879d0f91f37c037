"""Names a package imports on first use (PEP 562), so importing it stays cheap."""

from __future__ import annotations

from importlib import import_module
from typing import Any


def lazy_attribute(
    package: str, table: dict[str, str], namespace: dict[str, Any], name: str
) -> Any:
    """Import ``name`` from the module ``table[name]``; bind it in ``namespace``.

    For a package's module-level ``__getattr__``. The value is bound in the
    package's ``namespace`` (its ``globals()``), so later lookups do not come
    back here; this also rebinds a name that importing its submodule bound to
    the submodule (``peacegame.env``, the module, for ``peacegame.env``, the
    factory).

    Raises:
        AttributeError: If ``name`` is not in ``table``.
    """
    module = table.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    namespace[name] = value
    return value
