"""The kernel's numba cache is dropped when any kernel source changes."""

from __future__ import annotations

from pathlib import Path

import peacegame.engine
from peacegame.engine.cache import DIGEST_FILE, drop_stale_cache, sources_digest


def _cached(cache: Path) -> set[str]:
    return {p.name for p in cache.iterdir() if p.suffix in (".nbi", ".nbc")}


def test_a_changed_source_drops_every_cached_function(tmp_path):
    sources = tmp_path / "engine"
    sources.mkdir()
    (sources / "rules.py").write_text("x = 1\n")
    (sources / "turns.py").write_text("y = 2\n")
    cache = sources / "__pycache__"
    cache.mkdir()
    (cache / "turns.step-1.py311.nbi").write_text("index")
    (cache / "turns.step-1.py311.1.nbc").write_text("code")

    # No digest recorded yet: the cache's origin is unknown, so it goes.
    assert drop_stale_cache(sources, cache) is True
    assert _cached(cache) == set()
    assert (cache / DIGEST_FILE).read_text() == sources_digest(sources)

    # Unchanged sources: what numba caches now stays.
    (cache / "turns.step-1.py311.nbi").write_text("index")
    assert drop_stale_cache(sources, cache) is False
    assert _cached(cache) == {"turns.step-1.py311.nbi"}

    # One file changes (turns.py's own stamp does not): everything goes.
    (sources / "rules.py").write_text("x = 3\n")
    assert drop_stale_cache(sources, cache) is True
    assert _cached(cache) == set()


def test_the_engine_records_its_digest_on_import():
    folder = Path(peacegame.engine.__file__).parent
    record = folder / "__pycache__" / DIGEST_FILE
    consent = folder.parent / "scenario" / "consent.py"
    assert record.read_text() == sources_digest(folder, (consent,))
    assert record.read_text() != sources_digest(folder)


def test_a_changed_inlined_source_outside_the_folder_drops_the_cache(tmp_path):
    sources = tmp_path / "engine"
    sources.mkdir()
    (sources / "rules.py").write_text("x = 1\n")
    voting = tmp_path / "consent.py"
    voting.write_text("quota = 1\n")
    cache = sources / "__pycache__"
    assert drop_stale_cache(sources, cache, (voting,)) is False  # nothing cached
    (cache / "rules.resolve-1.py311.nbi").write_text("index")
    assert drop_stale_cache(sources, cache, (voting,)) is False
    voting.write_text("quota = 2\n")
    assert drop_stale_cache(sources, cache, (voting,)) is True
    assert _cached(cache) == set()
