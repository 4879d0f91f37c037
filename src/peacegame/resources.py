"""Where the shipped configs live, in a source checkout and in an installed wheel.

A wheel carries ``configs/`` and ``agents/`` under ``peacegame/_data``; an editable
install or a source checkout reads them from the repository root.
"""

from __future__ import annotations

from pathlib import Path

from peacegame.errors import UserError

DEFAULT_SCENARIO = "ukraine-2025"
DEFAULT_MATCH = "baseline"


def data_root() -> Path:
    """Return the folder that holds ``configs/`` and ``agents/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent.parent):
        if (candidate / "configs" / "scenarios").is_dir():
            return candidate
    raise UserError(
        f"cannot find the shipped configs next to {here}; reinstall peacegame"
    )


def resolve_config(name_or_path: str | Path | None, kind: str) -> Path:
    """Resolve a config given as a path or as a shipped name.

    Args:
        name_or_path: A file path, or the stem of a shipped config such as
            ``ukraine-2025`` or ``hardline``; None gives the default of ``kind``.
        kind: The config folder under ``configs/``: ``scenarios``, ``matches``...

    Raises:
        UserError: If neither a file nor a shipped config of that name exists.

    """
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO if kind == "scenarios" else DEFAULT_MATCH
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.exists():
        raise UserError("expected a YAML file, found a folder", file=path)
    shipped = data_root() / "configs" / kind / f"{path.name.removesuffix('.yaml')}.yaml"
    if path.parent == Path(".") and shipped.is_file():
        return shipped
    raise UserError("no such file", file=path)
