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


_PUBLIC_MATCH = """
import numpy as np
from peacegame.batch import BatchEngine
from peacegame.engine import OutcomeMetrics
from peacegame.engine import strategies
from peacegame.match_config import MatchConfig
from peacegame.scenario import load_compiled

scenario = load_compiled()
policies = ["boulware", "linear", "conceder", "boulware", "linear"]
config = MatchConfig(
    name="public",
    policies={a: {"policy": p} for a, p in zip(scenario.actors, policies)},
    episodes=2,
    seed=0,
    protocol={"information": "public", "max_rounds": 10},
)
BatchEngine(config, scenario, OutcomeMetrics.of(scenario), 2).run(range(2))
print(len(strategies.private_pick.signatures))
"""


def test_a_public_match_never_compiles_the_opponent_model_search(tmp_path):
    """First-run compilation: the search is left out of public plans' code.

    A fresh numba cache folder makes the subprocess compile everything it
    runs; the opponent model's search (about 3.7 s of compilation) must not
    be among it.
    """
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    out = subprocess.run(
        [sys.executable, "-c", _PUBLIC_MATCH],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "0"


def test_the_plan_holds_the_model_tree_only_when_a_strategy_reads_the_model():
    from peacegame.engine.strategies import PL_MODEL_TREE, Strategy
    from peacegame.engine.tables import Rules
    from peacegame.protocol import ProtocolConfig
    from peacegame.scenario import load_compiled

    scenario = load_compiled()
    reader = [Strategy("time_dependent", e=0.5)] * scenario.n_actors
    no_reader = [Strategy("random")] * scenario.n_actors
    for information, strategies, has_tree in (
        ("public", reader, False),
        ("private", reader, True),
        ("private", no_reader, False),
    ):
        rules = Rules(scenario, ProtocolConfig(information=information))
        tree = rules.plan(strategies).tables[PL_MODEL_TREE]
        assert (tree is not None) == has_tree, (information, strategies[0].kind)
        if has_tree:
            assert tree.shape[0] > scenario.n_outcomes  # leaves and inner nodes
