"""Where the shipped configs live, in a source checkout and in an installed wheel.

A wheel carries ``configs/`` and ``agents/`` under ``peacegame/_data``; an editable
install or a source checkout reads them from the repository root.
"""

from __future__ import annotations

from pathlib import Path

from peacegame.errors import UserError, suggest

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


KIND_LABELS = {
    "scenarios": "scenario",
    "matches": "match config",
    "tournaments": "tournament config",
    "train": "training config",
}
"""How messages name the config folders."""


def shipped_names(kind: str) -> list[str]:
    """The names of the shipped configs of ``kind`` (``textbook/rubinstein``...).

    Args:
        kind: The config folder under ``configs/``: ``scenarios``, ``matches``...

    """
    try:
        folder = data_root() / "configs" / kind
    except UserError:
        return []
    return sorted(
        p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.yaml")
    )


def resolve_config(name_or_path: str | Path | None, kind: str) -> Path:
    """Resolve a config given as a path or as a shipped name.

    Args:
        name_or_path: A file path, or the name of a shipped config such as
            ``ukraine-2025``, ``hardline`` or ``textbook/rubinstein`` (its path
            below ``configs/<kind>/`` without ``.yaml``); None gives the
            default of ``kind``.
        kind: The config folder under ``configs/``: ``scenarios``, ``matches``...

    Raises:
        UserError: If neither a file nor a shipped config of that name exists;
            the message lists the shipped names of that kind and the closest.

    """
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO if kind == "scenarios" else DEFAULT_MATCH
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.exists():
        raise UserError("expected a YAML file, found a folder", file=path)
    name = path.as_posix().removesuffix(".yaml")
    names = shipped_names(kind)
    if not path.is_absolute() and ".." not in path.parts and name in names:
        return data_root() / "configs" / kind / f"{name}.yaml"
    label = KIND_LABELS.get(kind, kind)
    others = [
        KIND_LABELS.get(other, other)
        for other in KIND_LABELS
        if other != kind and name in shipped_names(other)
    ]
    elsewhere = (
        f"; {name!r} is the name of a shipped {others[0]}, not of a {label}"
        if others
        else ""
    )
    plural = "scenarios" if kind == "scenarios" else f"{label}s"
    listed = f"; shipped {plural}: {', '.join(names)}" if names else ""
    raise UserError(
        f"no such file, and no shipped {label} of that name"
        f"{'' if others else suggest(name, names)}{elsewhere}{listed}; give a "
        "file path or one of "
        "these names",
        file=path,
    )
