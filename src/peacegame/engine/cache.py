"""Keep numba's on-disk cache of the kernel in step with its source.

numba invalidates a cached function only when the function's own file changes,
not when a function it calls (or inlines) changes in another file. After an
upgrade or an edit of one kernel file, another file's cached machine code could
still hold the old rule. :func:`drop_stale_cache` removes every cached kernel
function when the digest of the kernel's sources differs from the one recorded
beside the cache, so the next call compiles afresh.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DIGEST_FILE = "kernel-sources.sha256"
"""The file, in the cache folder, that records the sources' digest."""


def sources_digest(folder: Path, extra: tuple[Path, ...] = ()) -> str:
    """SHA-256 over the names and bytes of ``folder``'s ``.py`` files and ``extra``."""
    digest = hashlib.sha256()
    for path in [*sorted(folder.glob("*.py")), *extra]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_cache(folder: Path, cache: Path, extra: tuple[Path, ...] = ()) -> bool:
    """Remove ``cache``'s numba files if ``folder``'s sources changed since.

    Args:
        folder: The kernel's source folder.
        cache: Its numba cache folder (``__pycache__`` beside the sources).
        extra: Source files outside ``folder`` whose compiled functions the
            kernel inlines (the voting rules, ``scenario/consent.py``).

    Returns:
        True if stale files were removed. An unwritable cache is left alone
        (numba then caches elsewhere or not at all).
    """
    digest = sources_digest(folder, extra)
    record = cache / DIGEST_FILE
    try:
        if record.is_file() and record.read_text() == digest:
            return False
        stale = [*cache.glob("*.nbi"), *cache.glob("*.nbc")]
        for path in stale:
            path.unlink()
        cache.mkdir(exist_ok=True)
        record.write_text(digest)
    except OSError:
        return False
    return bool(stale)
