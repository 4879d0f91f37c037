"""User-facing errors: one line, naming the file, the field and what was expected.

The CLI catches :class:`UserError` and prints ``error: <message>`` on stderr with
exit code 2 and no traceback. Library callers get an ordinary exception.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path


class UserError(Exception):
    """An error in what the user gave us (a config, a path, an argument).

    Args:
        message: What is wrong and what was expected.
        file: The file at fault, if any.
        field: The dotted field path inside the file, if any.

    """

    def __init__(
        self, message: str, *, file: str | Path | None = None, field: str | None = None
    ) -> None:
        self.message = " ".join(str(message).split())
        self.file = str(file) if file is not None else None
        self.field = field or None
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return ``file: field: message`` on one line."""
        parts = [p for p in (self.file, self.field) if p]
        return ": ".join([*parts, self.message])


class ConfigError(UserError, ValueError):
    """A configuration file that does not validate."""


def field_path(loc: Sequence[str | int]) -> str:
    """Render a location tuple as ``a.b[2].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
