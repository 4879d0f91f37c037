"""The Ray backend gives the same episode lines as local processes.

One test, one local Ray cluster (``ray.init()`` takes several seconds). The
random policy checks that every policy's generator is seeded the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from peacegame.tournament import prepare_tournament, run_tournament

pytestmark = pytest.mark.ray

CONFIG = {
    "name": "ray-check",
    "scenarios": ["ukraine-2025"],
    "protocol": {"max_rounds": 12, "proposer": "random", "information": "public"},
    "competitors": {
        "hard": {"policy": "hardliner", "threshold": 1.0},
        "linear": "linear",
        "random": "random",
    },
    "assignment": {"scheme": "role_rotation", "opponents": 2},
    "episodes": 4,
    "seed": 3,
}


def test_ray_backend_matches_local_processes(tmp_path: Path):
    pytest.importorskip("ray")
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    tournament = prepare_tournament(path)
    local = run_tournament(
        tournament,
        run_dir=tmp_path / "local",
        workers=2,
        progress=False,
        fsync=False,
        analyse=False,
    )
    remote = run_tournament(
        tournament,
        run_dir=tmp_path / "ray",
        workers=2,
        backend="ray",
        progress=False,
        fsync=False,
        analyse=False,
    )
    assert remote.played == local.played == tournament.n_episodes == 120
    expected = (tmp_path / "local" / "episodes.jsonl").read_bytes()
    assert (tmp_path / "ray" / "episodes.jsonl").read_bytes() == expected
    first = json.loads(expected.splitlines()[0])
    assert first["assignment"]["focal"] == "russia"
    # Ray's temp folder is reachable from the run folder.
    assert (tmp_path / "ray" / "ray").exists()
