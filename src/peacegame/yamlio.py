"""Safe YAML reading and pydantic validation with one-line errors.

Only safe loading is used (``yaml.safe_load``'s loader, in its C version when
PyYAML has one): tags such as ``!!python/object`` are rejected. Files above
:data:`MAX_YAML_BYTES` (1 MiB: real configs are a few KiB, and parsing time grows
with size) are refused before parsing, and documents whose aliases would expand
past :data:`MAX_YAML_NODES` nodes (anchor bombs) are refused before any code
walks them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from peacegame.errors import ConfigError, field_path, suggest

MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_NODES = 1_000_000

ModelT = TypeVar("ModelT", bound=BaseModel)


# The C loader when PyYAML has it (about 10x faster); both are safe loaders:
# they build plain data only and refuse every Python tag.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _count_nodes(value: Any, limit: int) -> int:
    """Count container entries as if aliases were expanded, stopping past ``limit``."""
    count, stack = 0, [value]
    while stack and count <= limit:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            count += len(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return count


def read_yaml(path: str | Path) -> Any:
    """Read one YAML document with ``yaml.safe_load`` semantics.

    Raises:
        ConfigError: On a missing file, a folder, an oversized file, a syntax
            error or a document that expands too far.

    """
    path = Path(path)
    if not path.exists():
        raise ConfigError("no such file", file=path)
    if path.is_dir():
        raise ConfigError("expected a YAML file, found a folder", file=path)
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise ConfigError(
            f"file is {size} bytes; expected at most {MAX_YAML_BYTES} bytes",
            file=path,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=path) from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or str(exc)
        raise ConfigError(
            f"YAML syntax error at {where}: {problem}", file=path
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=path) from None
    except RecursionError:
        raise ConfigError("YAML nesting is too deep", file=path) from None
    if _count_nodes(data, MAX_YAML_NODES) > MAX_YAML_NODES:
        raise ConfigError(
            f"document expands to more than {MAX_YAML_NODES} nodes", file=path
        )
    return data


def validate(
    model: type[ModelT], data: Any, *, file: str | Path, prefix: str = ""
) -> ModelT:
    """Validate ``data`` as ``model``, turning the first error into a ConfigError."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"expected a mapping of fields, got {type(data).__name__}",
            file=file,
            field=prefix or None,
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, file=file, prefix=prefix, model=model) from None


def pydantic_error(
    exc: ValidationError,
    *,
    file: str | Path,
    prefix: str = "",
    model: type[BaseModel] | None = None,
) -> ConfigError:
    """Return a one-line ConfigError for the first error of ``exc``."""
    errors = exc.errors()
    first = errors[0]
    # Drop union-branch tags (for example 'issue' or 'table') from the path.
    raw_loc = list(first["loc"])
    loc = [
        p
        for j, p in enumerate(raw_loc)
        if not (
            p in _BRANCH_TAGS
            and j > 0
            and (isinstance(raw_loc[j - 1], int) or raw_loc[j - 1] in _UNION_FIELDS)
        )
    ]
    path = ".".join(p for p in (prefix, field_path(loc)) if p)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden" and loc:
        known = _known_fields(model, loc[:-1]) if model else []
        message = f"unknown field {loc[-1]!r}{suggest(str(loc[-1]), known)}"
        if known:
            message += f"; expected one of {known}"
    elif first["type"] == "missing":
        message = "missing required field"
    elif "input" in first and first["type"] not in ("value_error",):
        shown = repr(first["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        message = f"{message} (got {shown})"
    more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
    return ConfigError(message + more, file=file, field=path or None)


_UNION_FIELDS = {"when", "forbid", "require", "not", "values"}
_BRANCH_TAGS = {
    "issue",
    "feature",
    "all",
    "any",
    "not",
    "table",
    "curve",
    "constant",
    "str",
    "Actor",
    "list",
    "mapping",
}


def _known_fields(model: type[BaseModel], loc: list[Any]) -> list[str]:
    """Best-effort list of the fields allowed at ``loc`` (for did-you-mean)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return [info.alias or name for name, info in fields.items()]


def _inner_model(annotation: Any) -> Any:
    """Find a BaseModel class inside a (possibly generic) annotation."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
