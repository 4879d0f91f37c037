"""The reply cache: a finished run replays offline, byte-identical.

A reply is keyed by a SHA-256 of everything that determines it: the backend,
the model, the messages, the sampling parameters (temperature, top_p,
max_tokens, seed), whether structured output was asked for and with which
schema. The server's address and the API key are not part of the key (a
replay may use another server, or none) and are never stored.

The cache is a JSON-lines file (``llm-cache.jsonl`` in the run folder by
default): one ``{"key", "reply"}`` line per new reply, appended and flushed as
soon as the reply arrives, so a crashed run keeps every reply it paid for
and ``--resume`` replays them. A partial last line is ignored on reading.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def cache_key(request: dict[str, Any]) -> str:
    """The key of a request (canonical JSON, SHA-256)."""
    text = json.dumps(
        request, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReplyCache:
    """Replies by request key, in memory and (optionally) in a JSON-lines file.

    Args:
        path: The cache file (read if it exists, appended to), or None for a
            cache in memory only.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.replies: dict[str, dict[str, Any]] = {}
        self._fh: Any = None
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    item = json.loads(line)
                    self.replies.setdefault(item["key"], item["reply"])
                except (ValueError, KeyError, TypeError):
                    continue  # a partial last line

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached reply of ``key``, or None."""
        return self.replies.get(key)

    def put(self, key: str, reply: dict[str, Any]) -> None:
        """Store a reply (and append it to the file)."""
        if key in self.replies:
            return
        self.replies[key] = reply
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        line = {"key": key, "reply": reply}
        self._fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None


_OPEN: dict[str, ReplyCache] = {}


def open_cache(path: str | Path) -> ReplyCache:
    """The process's one cache object for a file (policies share it)."""
    key = str(Path(path).resolve())
    cache = _OPEN.get(key)
    if cache is None:
        cache = _OPEN[key] = ReplyCache(path)
    return cache


def close_caches() -> None:
    """Close every open cache file (tests, the end of a process)."""
    for cache in _OPEN.values():
        cache.close()
    _OPEN.clear()
