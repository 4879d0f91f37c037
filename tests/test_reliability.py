"""Reliability: fuzzing, faults (full disk, SIGINT), determinism across processes."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacegame.cli import main
from peacegame.env import NegotiationEnv, NegotiationParallelEnv
from peacegame.logs import EpisodeWriter, read_episodes
from peacegame.match import run_match
from peacegame.match_config import MatchConfig
from peacegame.protocol import IllegalActionError, ProtocolConfig
from peacegame.scenario import compile_dict

from conftest import BASELINE, spawn_run, wait_for_log
from scenario_strategies import scenario_dicts

STRATEGIES = ["random", "boulware", "linear", "conceder", "hardliner", "tit_for_tat"]

protocols = st.fixed_dictionaries(
    {
        "max_rounds": st.integers(1, 12),
        "proposer": st.sampled_from(["rotating", "random"]),
        "breakdown_prob": st.sampled_from([0.0, 0.1, 0.5]),
        "information": st.sampled_from(["private", "public"]),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=scenario_dicts(), protocol=protocols, draw=st.data())
def test_fuzz_random_policy_mixes_through_the_runner(data, protocol, draw, tmp_path):
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.summary import summarize

    scenario = compile_dict(data)
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    scenario_file = folder / "scenario.yaml"
    scenario_file.write_text(yaml.safe_dump(data))
    pool = STRATEGIES + (
        ["nash_mediator"] if protocol["information"] == "public" else []
    )
    policies = {
        a: {"policy": draw.draw(st.sampled_from(pool))} for a in scenario.actors
    }
    config = MatchConfig(
        name="fuzz",
        scenario=str(scenario_file),
        protocol=protocol,
        policies=policies,
        episodes=6,
        seed=draw.draw(st.integers(0, 99)),
    )
    result = run_match(
        config, scenario_file, run_dir=folder / "run", progress=False, fsync=False
    )
    found = read_episodes(folder / "run")
    assert not found.partial_line and len(found.records) == 6
    low = np.minimum(scenario.no_deal, 0).min()
    for record in found.records:
        assert 1 <= record["rounds"] <= protocol["max_rounds"]
        for i, actor in enumerate(scenario.actors):
            reward = record["reward"][actor]
            assert low - 1e-9 <= reward <= 1 + 1e-9
            if not record["agreement"]:
                assert reward == pytest.approx(float(scenario.no_deal[i]), abs=1e-6)
    assert result.played == 6
    run = load_run(folder / "run", scenario=scenario)
    summary = summarize(run)
    assert summary["episodes"] == 6


@settings(max_examples=40, deadline=None)
@given(scenario_dicts(max_actors=3), st.integers(0, 2**31), st.booleans())
def test_fuzz_legal_and_illegal_actions(data, seed, parallel):
    scenario = compile_dict(data)
    rng = np.random.default_rng(seed)
    n_actions = scenario.n_outcomes + 3
    for mode in ("raise", "penalize"):
        config = ProtocolConfig(max_rounds=5, illegal_action=mode)
        if parallel:
            env = NegotiationParallelEnv(scenario=scenario, protocol=config)
            env.reset(seed=seed)
            while env.agents:
                actions = {}
                for agent in env.agents:
                    mask = env.action_mask(agent)
                    legal = np.flatnonzero(mask)
                    if rng.random() < 0.2:
                        actions[agent] = int(rng.integers(n_actions))
                    else:
                        actions[agent] = int(rng.choice(legal))
                illegal = any(env.action_mask(a)[x] == 0 for a, x in actions.items())
                if illegal and mode == "raise":
                    with pytest.raises(IllegalActionError):
                        env.step(actions)
                    break
                _, rewards, terms, truncs, infos = env.step(actions)
                if illegal:
                    assert all(terms.values())
                    assert min(rewards.values()) == pytest.approx(-1.0)
                    break
        else:
            env = NegotiationEnv(scenario=scenario, protocol=config)
            env.reset(seed=seed)
            for agent in env.agent_iter():
                _, _, term, trunc, _ = env.last()
                if term or trunc:
                    env.step(None)
                    continue
                mask = env.action_mask(agent)
                if rng.random() < 0.2:
                    action = int(rng.integers(n_actions))
                else:
                    action = int(rng.choice(np.flatnonzero(mask)))
                if mask[action] == 0 and mode == "raise":
                    with pytest.raises(IllegalActionError, match=agent):
                        env.step(action)
                    break
                env.step(action)


def test_full_disk_gives_a_clear_error_and_a_resumable_folder(
    tmp_path, capsys, monkeypatch
):
    out = tmp_path / "disk"
    original = EpisodeWriter.write_line
    calls = {"n": 0}

    def failing(self, line):
        calls["n"] += 1
        if calls["n"] == 6:
            # Half a line reaches the disk, then the device is full.
            self._fh.write((line[: len(line) // 2]).encode())
            self._fh.flush()
            raise_enospc(self)
        return original(self, line)

    def raise_enospc(self):
        from peacegame.logs import LogError

        raise LogError(
            f"cannot write: {os.strerror(errno.ENOSPC)}; the folder stays resumable",
            file=self.path,
        )

    monkeypatch.setattr(EpisodeWriter, "write_line", failing)
    code = main(
        [
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--episodes",
            "12",
            "--quiet",
            "--no-plots",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "No space left on device" in err and "resumable" in err
    assert len(err.splitlines()) == 1
    monkeypatch.setattr(EpisodeWriter, "write_line", original)
    found = read_episodes(out)
    assert found.partial_line and len(found.records) == 5
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(out),
                "--episodes",
                "12",
                "--quiet",
                "--no-plots",
                "--resume",
            ]
        )
        == 0
    )
    reference = tmp_path / "ref"
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(reference),
                "--episodes",
                "12",
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    a = (out / "episodes.jsonl").read_bytes()
    assert a == (reference / "episodes.jsonl").read_bytes()


def test_real_write_errors_become_log_errors(tmp_path):
    from peacegame.logs import LogError

    writer = EpisodeWriter(tmp_path / "e.jsonl")
    writer._fh.close()
    writer._fh = open("/dev/full", "ab")  # noqa: SIM115 (every write fails)
    with pytest.raises(LogError, match="No space left on device"):
        writer.write({"a": 1})


def test_episode_log_group_commit(tmp_path, monkeypatch):
    """Lines are flushed at once; fsyncs come every FSYNC_INTERVAL and at close."""
    import peacegame.logs as logs

    clock = {"now": 100.0}
    synced: list[int] = []
    monkeypatch.setattr(logs.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(logs.os, "fsync", lambda fd: synced.append(fd))
    path = tmp_path / "e.jsonl"
    with EpisodeWriter(path) as writer:
        for i in range(5):
            writer.write({"i": i})
            clock["now"] += 0.01  # fast episodes: no fsync yet
        assert synced == []
        assert path.read_bytes().count(b"\n") == 5  # flushed all the same
        clock["now"] += logs.FSYNC_INTERVAL
        writer.write({"i": 5})
        assert len(synced) == 1
        writer.write({"i": 6})
        assert len(synced) == 1
    assert len(synced) == 2  # the last lines are fsynced on close
    with EpisodeWriter(tmp_path / "off.jsonl", fsync=False) as writer:
        clock["now"] += 10 * logs.FSYNC_INTERVAL
        writer.write({"i": 0})
    assert len(synced) == 2


def test_sigint_stops_cleanly(tmp_path):
    out = tmp_path / "int"
    proc = spawn_run(out, 100_000, capture=True)
    log = out / "episodes.jsonl"
    wait_for_log(log)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "resume with: peacegame run" in err and "--resume" in err
    assert "Traceback" not in err
    assert log.read_bytes().endswith(b"\n")
    found = read_episodes(log)
    assert not found.partial_line
    assert [r["episode"] for r in found.records] == list(range(len(found.records)))


# The determinism matrix: every path must write the same bytes. The Ray backend
# of tournaments is held equal to local processes in tests/test_tournament_ray.py
# (marked ``ray``).
MATRIX = [
    # (PYTHONHASHSEED, --workers, --engine)
    ("0", "1", "env"),
    ("12345", "2", "env"),
    ("0", "1", "batch"),
    ("777", "1", "auto"),
]


@pytest.mark.parametrize("information", ["private", "public"])
def test_determinism_matrix(tmp_path, information):
    outputs = []
    for hash_seed, workers, engine in MATRIX:
        out = tmp_path / f"h{hash_seed}-w{workers}-{engine}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "peacegame.cli",
                "run",
                str(BASELINE),
                "--out",
                str(out),
                "--episodes",
                "30",
                "--quiet",
                "--no-plots",
                "--workers",
                workers,
                "--engine",
                engine,
                "--set",
                f"protocol.information={information}",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append((out / "episodes.jsonl").read_bytes())
    assert all(o == outputs[0] for o in outputs[1:])
    assert len(outputs[0].splitlines()) == 30


def test_analysis_of_a_truncated_log_never_crashes(tmp_path):
    from peacegame.analysis.frame import load_run
    from peacegame.analysis.summary import summarize

    out = tmp_path / "t"
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(out),
                "--episodes",
                "8",
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    data = (out / "episodes.jsonl").read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 23)):
        (out / "episodes.jsonl").write_bytes(data[:cut])
        try:
            run = load_run(out)
        except Exception as exc:  # noqa: BLE001
            from peacegame.errors import UserError

            assert isinstance(exc, UserError), exc
            continue
        summarize(run)


def test_paths_in_configs_cannot_escape(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="inside the working directory"):
        MatchConfig(name="x", policies={}, output="../outside")
    assert MatchConfig(name="x", policies={}, output="runs/x").output == "runs/x"
