"""Configured matches: determinism, crash safety, resume, bad input."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml

from peacegame.cli import main
from peacegame.match import EpisodePlayer, episode_seed, run_config_file
from peacegame.match_config import load_match_config
from peacegame.scenario import load_compiled

from conftest import BASELINE, ROOT, spawn_run, wait_for_log


def run(tmp_path: Path, name: str, *extra: str, config: Path = BASELINE) -> Path:
    out = tmp_path / name
    code = main(
        ["run", str(config), "--out", str(out), "--quiet", "--no-plots", *extra]
    )
    assert code == 0
    return out


def lines(run_dir: Path) -> bytes:
    return (run_dir / "episodes.jsonl").read_bytes()


def test_run_writes_a_complete_folder(tmp_path, capsys):
    out = run(tmp_path, "a", "--episodes", "30")
    text = capsys.readouterr().out
    assert "agreements:" in text and "mean reward" in text
    records = [json.loads(x) for x in lines(out).splitlines()]
    assert [r["episode"] for r in records] == list(range(30))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == "ukraine-2025"
    assert manifest["config"]["episodes"] == 30
    summary = json.loads((out / "summary.json").read_text())
    assert summary["episodes"] == 30
    scenario = load_compiled()
    for r in records:
        assert r["schema_version"] == 2
        assert 1 <= r["rounds"] <= 30 and r["events"]
        if r["agreement"]:
            k = r["outcome"]
            assert scenario.decode(k) == r["decoded"]
            # The reward is the discounted utility of the agreed outcome.
            for i, actor in enumerate(scenario.actors):
                expected = scenario.discount[i] ** r["round"] * scenario.utility[i, k]
                assert r["reward"][actor] == pytest.approx(expected, abs=1e-6)
            # Every required actor but the proposer voted, and accepted.
            last = r["events"][-1]
            voters = {
                a for i, a in enumerate(scenario.actors) if scenario.required[i, k]
            } - {last["proposer"]}
            assert set(last["votes"]) == voters
            assert set(last["votes"].values()) <= {"accept"}
        else:
            for i, actor in enumerate(scenario.actors):
                assert r["reward"][actor] == pytest.approx(
                    float(scenario.no_deal[i]), abs=1e-6
                )


def test_workers_give_identical_logs(tmp_path):
    # The env engine: the batch engine plays in one process whatever --workers.
    args = ("--episodes", "40", "--engine", "env")
    one = run(tmp_path, "w1", *args)
    two = run(tmp_path, "w2", *args, "--workers", "2")
    assert lines(one) == lines(two)
    assert json.loads((two / "manifest.json").read_text())["config"]["engine"] == "env"


def test_episode_reproduces_alone(tmp_path):
    out = run(tmp_path, "alone", "--episodes", "12")
    records = [json.loads(x) for x in lines(out).splitlines()]
    config, scenario_file = load_match_config(BASELINE, ["episodes=12"])
    player = EpisodePlayer(config, load_compiled(scenario_file))
    assert player.play(7) == records[7]
    assert records[7]["seed"] == episode_seed(config.seed, 7)


def test_same_seed_same_log_different_seed_differs(tmp_path):
    a = run(tmp_path, "s1", "--episodes", "20")
    b = run(tmp_path, "s2", "--episodes", "20")
    c = run(tmp_path, "s3", "--episodes", "20", "--seed", "99")
    assert lines(a) == lines(b)
    assert lines(a) != lines(c)


def test_resume_after_partial_last_line_equals_uninterrupted(tmp_path, capsys):
    full = run(tmp_path, "full", "--episodes", "25")
    part = run(tmp_path, "part", "--episodes", "25")
    data = lines(part)
    cut = data.index(b"\n", len(data) // 2) + 40  # mid-way into a line
    (part / "episodes.jsonl").write_bytes(data[:cut])
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(part),
                "--episodes",
                "25",
                "--quiet",
                "--no-plots",
                "--resume",
            ]
        )
        == 0
    )
    assert "incomplete" in capsys.readouterr().err
    assert lines(part) == lines(full)


def test_existing_folder_needs_resume_or_overwrite(tmp_path, capsys):
    out = run(tmp_path, "x", "--episodes", "5")
    code = main(
        [
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--episodes",
            "5",
            "--quiet",
            "--no-plots",
        ]
    )
    assert code == 2
    assert "--resume" in capsys.readouterr().err
    before = lines(out)
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(out),
                "--episodes",
                "5",
                "--quiet",
                "--no-plots",
                "--overwrite",
            ]
        )
        == 0
    )
    assert lines(out) == before


def test_corrupt_middle_line_is_an_error_and_nothing_is_lost(tmp_path, capsys):
    out = run(tmp_path, "c", "--episodes", "10")
    rows = lines(out).splitlines(keepends=True)
    rows[3] = b'{"broken": \n'
    corrupt = b"".join(rows)
    (out / "episodes.jsonl").write_bytes(corrupt)
    code = main(
        [
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--episodes",
            "10",
            "--quiet",
            "--no-plots",
            "--resume",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "line 4 is corrupt" in err and "episodes.jsonl" in err
    assert lines(out) == corrupt


def test_resume_refuses_a_changed_config(tmp_path, capsys):
    out = run(tmp_path, "cfg", "--episodes", "5")
    code = main(
        [
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--episodes",
            "8",
            "--quiet",
            "--no-plots",
            "--resume",
            "--set",
            "protocol.max_rounds=10",
        ]
    )
    assert code == 2
    assert "differs" in capsys.readouterr().err


def test_resume_extends_a_finished_run(tmp_path):
    full = run(tmp_path, "ten", "--episodes", "10")
    five = run(tmp_path, "five", "--episodes", "5")
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(five),
                "--episodes",
                "10",
                "--quiet",
                "--no-plots",
                "--resume",
            ]
        )
        == 0
    )
    assert lines(five) == lines(full)


def write_config(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(BASELINE.read_text())
    data["scenario"] = str(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / "match.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


BAD = {
    "unknown_policy": (
        {
            "policies": {
                "russia": {"policy": "bolware"},
                "china": "linear",
                "ukraine": "linear",
                "us": "linear",
                "eu": "linear",
            }
        },
        "policies.russia.policy: unknown policy 'bolware' (did you mean 'boulware'?)",
    ),
    "bad_policy_parameter": (
        {
            "policies": {
                "russia": {"policy": "boulware", "e": -2},
                "china": "linear",
                "ukraine": "linear",
                "us": "linear",
                "eu": "linear",
            }
        },
        "policies.russia.e: Input should be greater than 0",
    ),
    "unknown_actor": (
        {
            "policies": {
                "russia": "linear",
                "china": "linear",
                "ukraine": "linear",
                "us": "linear",
                "eu": "linear",
                "india": "linear",
            }
        },
        "policies.india: unknown actor 'india'",
    ),
    "missing_actor": (
        {
            "policies": {
                "russia": "linear",
                "china": "linear",
                "ukraine": "linear",
                "us": "linear",
            }
        },
        "policies: no policy for actor(s) ['eu']",
    ),
    "bad_protocol": (
        {"protocol": {"max_rounds": 0}},
        "protocol.max_rounds: Input should be greater than or equal to 1",
    ),
    "unknown_field": (
        {"episdes": 3},
        "episdes: unknown field 'episdes' (did you mean 'episodes'?)",
    ),
    "missing_scenario": (
        {"scenario": "nowhere.yaml"},
        "scenario: no scenario file",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_match_configs(case, tmp_path, capsys):
    changes, expected = BAD[case]
    path = write_config(tmp_path, **changes)
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), "--quiet", "--no-plots"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {path}")
    assert expected in err, err
    assert not (out / "episodes.jsonl").exists()


def test_output_folder_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code = main(["run", str(BASELINE), "--out", str(target), "--quiet"])
    assert code == 2
    assert "the output folder is a file" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["parent-is-a-file", "proc"])
def test_unwritable_folder(tmp_path, capsys, where):
    # Both fail for root too (CI runs as root): a regular file where a parent
    # folder should be, and /proc, where nobody may create a folder.
    if where == "proc":
        out = Path("/proc") / f"peacegame-{os.getpid()}" / "run"
    else:
        (tmp_path / "plain").write_text("x")
        out = tmp_path / "plain" / "run"
    code = main(["run", str(BASELINE), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "cannot write to the output folder" in err and str(out) in err
    assert not out.exists()


def test_set_override_changes_the_config(tmp_path):
    result = run_config_file(
        BASELINE,
        [
            "episodes=4",
            "protocol.max_rounds=3",
            "policies.russia=hardliner",
            "policies.eu.e=null",
            "protocol.breakdown_prob=null",
        ],
        run_dir=tmp_path / "o",
        progress=False,
    )
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["config"]["protocol"]["max_rounds"] == 3
    assert all(r["rounds"] <= 3 for r in result.records)
    assert result.records[0]["policies"]["russia"].startswith("hardliner")
    assert result.records[0]["policies"]["eu"] == "boulware(e=0.2)"
    assert manifest["config"]["protocol"]["breakdown_prob"] == 0.0


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    episodes = "300"
    full = run(tmp_path, "reference", "--episodes", episodes)
    out = tmp_path / "killed"
    proc = spawn_run(out, int(episodes))
    log = out / "episodes.jsonl"
    wait_for_log(log, 20_001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_size = log.stat().st_size
    assert 0 < killed_size < len(lines(full))
    assert (
        main(
            [
                "run",
                str(BASELINE),
                "--out",
                str(out),
                "--episodes",
                episodes,
                "--quiet",
                "--no-plots",
                "--resume",
            ]
        )
        == 0
    )
    assert lines(out) == lines(full)


def test_sigterm_stops_cleanly_and_says_how_to_resume(tmp_path):
    out = tmp_path / "term"
    proc = spawn_run(out, 5000, capture=True)
    log = out / "episodes.jsonl"
    wait_for_log(log)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "--resume" in err
    data = log.read_bytes()
    assert data.endswith(b"\n")  # no partial line


@pytest.mark.parametrize("information", ["public", "private"])
def test_batch_and_env_engines_write_identical_logs(tmp_path, information):
    extra = ["--episodes", "60", "--set", f"protocol.information={information}"]
    env = run(tmp_path, f"env-{information}", *extra, "--engine", "env")
    batch = run(tmp_path, f"batch-{information}", *extra, "--engine", "batch")
    assert lines(env) == lines(batch)


def test_batch_engine_refuses_policies_without_a_vectorised_form(tmp_path, capsys):
    config = write_config(
        tmp_path,
        policies={
            "russia": "peacegame.theory:SubgamePerfect",
            "china": "linear",
            "ukraine": "linear",
            "us": "linear",
            "eu": "linear",
        },
    )
    code = main(
        [
            "run",
            str(config),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
            "--engine",
            "batch",
        ]
    )
    assert code == 2
    assert "engine: batch needs every policy" in capsys.readouterr().err


def test_progress_bar_leaves_no_thread_behind(tmp_path):
    # A thread left running (tqdm's monitor) would keep the plots from being
    # rendered in a forked process (peacegame.analysis.plots.render_jobs).
    import subprocess
    import sys

    script = (
        "import sys, threading\n"
        "from peacegame.cli import main\n"
        f"code = main(['run', {str(BASELINE)!r}, '--out', {str(tmp_path / 'p')!r},"
        " '--episodes', '3', '--no-plots'])\n"
        "print(code, [t.name for t in threading.enumerate()])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 ['MainThread']"
    assert "3/3" in done.stderr  # the bar was shown


class _Recording:
    """Accepts every offer, proposes its best outcome; records what it got."""

    def __init__(self) -> None:
        self.got: list[object] = []

    def reset(self, agent, view, rng):
        self.view = view

    def act(self, observation, info):
        self.got.append(observation)
        if info["phase"] == "vote":
            return self.view.accept_action
        return int(self.view.order[0])


class _Blind(_Recording):
    reads_observation = False


def test_policies_that_do_not_read_observations_get_none():
    """A policy declaring ``reads_observation = False`` gets None, one without
    the attribute the env's observation; the scripted strategies declare it."""
    config, scenario_file = load_match_config(BASELINE)
    scenario = load_compiled(str(scenario_file))
    player = EpisodePlayer(config, scenario)
    reading, blind = _Recording(), _Blind()
    player.policies[scenario.actors[0]] = reading
    player.policies[scenario.actors[1]] = blind
    for episode in range(3):
        player.play(episode)
    assert reading.got and blind.got
    assert all(isinstance(o, dict) and "action_mask" in o for o in reading.got)
    assert all(o is None for o in blind.got)
    assert player.observes == {a: a == scenario.actors[0] for a in scenario.actors}


class _Drawing(_Recording):
    def reset(self, agent, view, rng):
        super().reset(agent, view, rng)
        self.rngs = [*getattr(self, "rngs", []), rng]


class _NoDraws(_Drawing):
    uses_rng = False


def test_policies_that_draw_no_random_numbers_get_no_generator():
    """A policy declaring ``uses_rng = False`` gets ``rng=None``; one without the
    attribute ``default_rng([episode seed, actor index])``, fresh per episode; the
    scripted strategies declare it."""
    config, scenario_file = load_match_config(BASELINE)
    scenario = load_compiled(str(scenario_file))
    player = EpisodePlayer(config, scenario)
    drawing, no_draws = _Drawing(), _NoDraws()
    player.policies[scenario.actors[1]] = drawing
    player.policies[scenario.actors[2]] = no_draws
    for episode in range(3):
        player.play(episode)
    assert no_draws.rngs == [None, None, None]
    for episode, rng in enumerate(drawing.rngs):
        seed = episode_seed(config.seed, episode)
        expected = np.random.default_rng([seed, 1]).integers(2**62, size=4)
        assert rng.integers(2**62, size=4).tolist() == expected.tolist()
    scripted = player.policies[scenario.actors[0]]
    assert scripted.uses_rng is False
