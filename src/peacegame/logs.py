"""The run-folder log format: an append-only, crash-safe episode writer and reader.

The schema is documented in ``docs/log-schema.md``. In short: ``manifest.json``
is written once; ``episodes.jsonl`` gets one JSON line per *finished* episode,
written whole and flushed, so a killed process leaves at most one partial last
line, which the reader reports and ``--resume`` drops. The file is fsynced at
most every :data:`FSYNC_INTERVAL` seconds and when it is closed (group commit)
rather than after every line: an fsync can cost more than an episode. An OS
crash or a power cut can therefore lose the last fraction of a second of
episodes, which ``--resume`` plays again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peacegame.errors import UserError

SCHEMA_VERSION = 2
"""Version of the lines and manifests this peacegame writes (2: the rules
kernel's counter-based randomness and episode seeds; the fields are those of 1).
"""
READABLE_SCHEMA_VERSIONS = (1, 2)
"""Versions this peacegame reads (analysis); only ``SCHEMA_VERSION`` resumes."""
MANIFEST = "manifest.json"
EPISODES = "episodes.jsonl"
SUMMARY = "summary.json"
TRANSCRIPTS = "transcripts.jsonl"
"""LLM transcripts: one line per episode with every prompt and reply."""
LLM_CACHE = "llm-cache.jsonl"
"""The default LLM reply cache of a run folder (replays the run offline)."""
FSYNC_INTERVAL = 0.25
"""Seconds between two fsyncs of ``episodes.jsonl`` (group commit)."""


class LogError(UserError):
    """A run folder or log file that cannot be read or written as expected."""


def dumps_record(record: dict[str, Any]) -> str:
    """Serialise one episode record as a single compact JSON line (no newline)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


@dataclass
class ReadResult:
    """What :func:`read_episodes` found.

    Attributes:
        records: The complete, valid episode records in file order.
        partial_line: True if the last line was incomplete (a crash mid-write).
        good_bytes: Byte length of the file up to the last complete line.
        warnings: Human-readable notes (for example the partial line).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    partial_line: bool = False
    good_bytes: int = 0
    warnings: list[str] = field(default_factory=list)


def iter_episode_lines(path: str | Path) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(line_number, raw_bytes, complete)`` for each line, streaming."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            yield number, raw, raw.endswith(b"\n")


def iter_records(
    path: Path, status: ReadResult
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, record)`` from ``episodes.jsonl``, streaming.

    Args:
        path: The ``episodes.jsonl`` file.
        status: Receives ``partial_line``, ``good_bytes`` and a warning if the
            last line is partial (its ``records`` are left to the caller).

    Raises:
        LogError: On a corrupt line that is not the last, an unknown
            ``schema_version``, or a read error; the message names the file and
            the line.
    """
    pending: tuple[int, str] | None = None
    try:
        for number, raw, complete in iter_episode_lines(path):
            if pending is not None:
                raise LogError(
                    f"line {pending[0]} is corrupt ({pending[1]}); it is not the "
                    "last line, so it is not a crash mid-write and the log cannot "
                    "be resumed safely",
                    file=path,
                )
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, UnicodeDecodeError) as exc:
                pending = (number, str(exc).split(":")[0])
                continue
            if not complete:
                # Valid JSON but no newline: the writer died before the newline.
                pending = (number, "no final newline")
                continue
            version = record.get("schema_version")
            if version not in READABLE_SCHEMA_VERSIONS:
                raise LogError(
                    f"line {number} has schema_version {version!r}; this peacegame "
                    f"reads versions {list(READABLE_SCHEMA_VERSIONS)}",
                    file=path,
                )
            status.good_bytes += len(raw)
            yield number, record
    except OSError as exc:
        raise LogError(f"cannot read: {exc.strerror}", file=path) from None
    if pending is not None:
        status.partial_line = True
        status.warnings.append(
            f"{path}: line {pending[0]} is incomplete ({pending[1]}); ignored "
            "(a crash mid-write; --resume drops it)"
        )


def read_episodes(path: str | Path) -> ReadResult:
    """Read ``episodes.jsonl``, tolerating (and reporting) a partial last line.

    Args:
        path: The ``episodes.jsonl`` file (or its run folder).

    Raises:
        LogError: On a missing file, a corrupt line that is not the last one, or
            an unknown schema version; the message names the file and line.
    """
    path = Path(path)
    if path.is_dir():
        path = path / EPISODES
    if not path.is_file():
        raise LogError("no episodes.jsonl here; expected a run folder", file=path)
    result = ReadResult()
    result.records = [record for _, record in iter_records(path, result)]
    return result


class EpisodeWriter:
    """Append-only writer of ``episodes.jsonl`` lines, each written whole and flushed.

    The file is fsynced at most every :data:`FSYNC_INTERVAL` seconds, when a
    line is written, and when the writer is closed (group commit; see the
    module docstring).

    Args:
        path: The ``episodes.jsonl`` file.
        truncate_to: Truncate the file to this many bytes first (``--resume``
            dropping a partial last line); None keeps the file as it is.
        fsync: fsync the file as above (the default); tests and benchmarks may
            turn it off.
    """

    def __init__(
        self, path: str | Path, truncate_to: int | None = None, fsync: bool = True
    ) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._synced = time.monotonic()
        try:
            if truncate_to is not None and self.path.exists():
                with open(self.path, "r+b") as fh:
                    fh.truncate(truncate_to)
            self._fh = open(self.path, "ab")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise LogError(f"cannot write: {exc.strerror}", file=self.path) from None

    def write(self, record: dict[str, Any]) -> None:
        """Append one complete record."""
        self.write_line(dumps_record(record))

    def write_line(self, line: str) -> None:
        """Append one serialised record (no newline) and flush it."""
        data = (line + "\n").encode("utf-8")
        try:
            self._fh.write(data)
            self._fh.flush()
            if self.fsync and time.monotonic() - self._synced >= FSYNC_INTERVAL:
                self._sync()
        except OSError as exc:
            raise LogError(
                f"cannot write: {exc.strerror}; the folder stays resumable",
                file=self.path,
            ) from None

    def _sync(self) -> None:
        os.fsync(self._fh.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        """Close the file, fsyncing it first (unless turned off).

        Raises:
            LogError: If the final fsync fails (the folder stays resumable).
        """
        try:
            if self.fsync and not self._fh.closed:
                self._sync()
        except OSError as exc:
            raise LogError(
                f"cannot write: {exc.strerror}; the folder stays resumable",
                file=self.path,
            ) from None
        finally:
            self._fh.close()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            self.close()
        except LogError:
            if exc_type is None:
                raise  # else the error in flight is the one to report


class TranscriptWriter:
    """Writer of ``transcripts.jsonl``: one line per episode, before its log line.

    Each line is ``{"schema_version", "episode", "seed", "exchanges": {actor:
    [exchange, ...]}}`` (docs/log-schema.md). A line is written and flushed
    when its episode ends, before the episode's ``episodes.jsonl`` line, so a
    crash leaves at most transcripts of episodes that are not logged; opening
    the writer with ``keep_below`` (``--resume``) drops those lines and any
    partial one, so every logged episode has exactly one transcript line.

    Args:
        path: The ``transcripts.jsonl`` file.
        keep_below: Keep only the lines of episodes below this id (None: start
            a new file).
    """

    def __init__(self, path: str | Path, keep_below: int | None = None) -> None:
        self.path = Path(path)
        kept: list[str] = []
        if keep_below is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    episode = int(json.loads(line)["episode"])
                except (ValueError, KeyError, TypeError):
                    continue
                if episode < keep_below:
                    kept.append(line)
        try:
            self.path.write_text(
                "".join(line + "\n" for line in kept), encoding="utf-8"
            )
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise LogError(f"cannot write: {exc.strerror}", file=self.path) from None

    def write(
        self, episode: int, seed: int, exchanges: dict[str, list[dict[str, Any]]]
    ) -> None:
        """Append one episode's transcript."""
        line = {
            "schema_version": SCHEMA_VERSION,
            "episode": int(episode),
            "seed": int(seed),
            "exchanges": exchanges,
        }
        self._fh.write(dumps_record(line) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


def write_json(
    path: str | Path,
    data: dict[str, Any] | list[Any],
    *,
    sort_keys: bool = False,
    default: Any = None,
) -> None:
    """Write a JSON document atomically (temp file + rename).

    Args:
        path: The file.
        data: The document.
        sort_keys: Sort mapping keys.
        default: ``json.dumps``'s fallback for values it cannot serialise.

    Raises:
        LogError: If the file cannot be written.
    """
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    text = json.dumps(
        data, indent=2, ensure_ascii=False, sort_keys=sort_keys, default=default
    )
    try:
        tmp.write_text(text + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise LogError(f"cannot write: {exc.strerror}", file=path) from None


def ensure_folder(folder: Path) -> None:
    """Create an output folder and check it can be written.

    Raises:
        LogError: If it is a file or cannot be created or written.
    """
    if folder.exists() and not folder.is_dir():
        raise LogError("the output folder is a file; expected a folder", file=folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise LogError(
            f"cannot write to the output folder ({exc.strerror})", file=folder
        ) from None


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """Read a run folder's ``manifest.json``.

    Raises:
        LogError: If it is missing or not valid JSON.
    """
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise LogError("no manifest.json; expected a peacegame run folder", file=path)
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise LogError(f"not valid JSON ({exc})", file=path) from None
    if data.get("schema_version") not in READABLE_SCHEMA_VERSIONS:
        raise LogError(
            f"schema_version {data.get('schema_version')!r}; this peacegame reads "
            f"versions {list(READABLE_SCHEMA_VERSIONS)}",
            file=path,
        )
    return data


# --------------------------------------------------------------------------- #
# Resume: what differs from the recorded run, and the planned count.
# --------------------------------------------------------------------------- #

RESUME_CONFLICT = (
    "--resume and --overwrite exclude each other: --resume continues the run "
    "folder, --overwrite deletes it; pass one of them"
)
"""The one-line error when both flags are given."""


def with_defaults(model: Any, recorded: Any) -> Any:
    """A recorded config with the fields added since it was written at their defaults.

    A field a newer peacegame added (``protocol.talk``, a train config's
    ``exploring_starts``) is absent from an older record; at its default it
    behaves as before, so it is no difference. ``model`` is the pydantic model
    of the config; a record that no longer validates is compared as it is.
    """
    try:
        return model.model_validate(recorded).model_dump(mode="json")
    except Exception:  # noqa: BLE001 - compared verbatim by the caller
        return recorded


def config_differences(
    recorded: Any, current: Any, ignore: tuple[str, ...] = (), prefix: str = ""
) -> list[str]:
    """The dotted fields in which ``current`` differs from ``recorded``.

    Args:
        recorded: The run's recorded config (JSON data).
        current: The config given now (JSON data).
        ignore: Top-level fields to leave out.
        prefix: The dotted path of ``recorded`` (used when recursing).

    Returns:
        One ``field (recorded R, now C)`` text per difference, in key order.
    """
    if isinstance(recorded, dict) and isinstance(current, dict):
        out: list[str] = []
        for key in sorted(set(recorded) | set(current), key=str):
            if not prefix and key in ignore:
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            out += config_differences(recorded.get(key), current.get(key), prefix=path)
        return out
    if recorded == current:
        return []
    return [
        f"{prefix or 'config'} (recorded {json.dumps(recorded)}, now "
        f"{json.dumps(current)})"
    ]


def describe_differences(differences: list[str], limit: int = 3) -> str:
    """``a (recorded 1, now 2), b (...)`` and how many more, on one line."""
    shown = ", ".join(differences[:limit])
    more = len(differences) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def override_key(assignment: str) -> str:
    """The dotted key of a ``key=value`` override (``""`` if malformed)."""
    return assignment.partition("=")[0].strip()


def merge_overrides(recorded: list[str], new: list[str]) -> list[str]:
    """``recorded`` then ``new`` overrides, keeping only the last one of a key."""
    out: list[str] = []
    for assignment in [*recorded, *new]:
        key = override_key(assignment)
        out = [a for a in out if override_key(a) != key]
        out.append(assignment)
    return out


def resolve_planned(
    recorded: int,
    requested: int,
    done: int,
    *,
    unit: str,
    flag: str,
    file: str | Path,
    done_word: str = "done",
) -> tuple[int, str | None]:
    """The planned count of a resumed run, and a note if it changes.

    A resume never lowers the planned count silently: a larger request extends
    the run (with a note), a smaller one that still covers what is done lowers
    it (with a note), and one below what is done is an error.

    Args:
        recorded: The planned count recorded in the run folder.
        requested: The planned count asked for now (``recorded`` if not given).
        done: How many are already done (logged episodes, trained timesteps).
        unit: What is counted (``episodes``, ``timesteps``).
        flag: The flag that sets it (``--episodes``, ``--set total_timesteps=``).
        file: The run folder's record, for the error.
        done_word: How the message says done (``logged``, ``trained``).

    Raises:
        UserError: If ``requested`` is below ``done``.
    """
    if requested < done:
        raise UserError(
            f"cannot resume with {flag}{requested}: {done:,} {unit} are already "
            f"{done_word} and a resume never discards them; pass {flag}{done} or more, "
            f"or leave it out to finish the recorded {recorded:,}",
            file=file,
        )
    if requested > recorded:
        return requested, (
            f"extending the run from {recorded:,} to {requested:,} planned {unit}"
        )
    if requested < recorded:
        return requested, (
            f"lowering the planned count from {recorded:,} to {requested:,} {unit} "
            f"({done:,} {done_word})"
        )
    return requested, None
