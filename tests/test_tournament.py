"""Tournaments: hand-computed results, schemes, logs, resume, bad input, report.

The tiny tournament plays two deterministic strategies on
``tests/data/tournament/split.yaml`` (two actors x and y, three outcomes, no
discount, a rotating proposer starting with x, three rounds):

* ``hard``: a hardliner with threshold 1 proposes its best outcome and accepts
  only that;
* ``linear``: aspiration 1, 0.625, 0.25 in rounds 0, 1, 2.

By hand (payoffs x, y):

* linear vs linear: y offers ``even`` in round 1, x accepts: (0.75, 0.75);
* hard (x) vs linear (y): x's ``x_all`` is accepted in round 2: (1, 0.375);
* linear (x) vs hard (y): x offers ``y_all`` in round 2: (0.375, 1);
* hard vs hard: deadline, both get d: (0.25, 0.25).

A game of chicken: ``hard`` scores (1 + 0.25) / 2 = 0.625 in each role,
``linear`` (0.75 + 0.375) / 2 = 0.5625; the stable profiles are the two
(hard, linear) ones; the symmetric mixed equilibrium plays hard with 2/3.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from peacegame.errors import ConfigError
from peacegame.tournament import (
    prepare_tournament,
    run_tournament,
    validate_tournament_file,
)
from peacegame.tournament.commands import main
from peacegame.tournament.config import TournamentConfig
from peacegame.tournament.plan import tournament_seed

from conftest import ROOT

DATA = ROOT / "tests" / "data" / "tournament"
SPLIT = DATA / "split.yaml"
SHIPPED = sorted((ROOT / "configs" / "tournaments").glob("*.yaml"))

TINY = {
    "name": "tiny",
    "scenarios": [str(SPLIT)],
    "protocol": {"max_rounds": 3, "information": "public"},
    "competitors": {
        "hard": {"policy": "hardliner", "threshold": 1.0},
        "linear": "linear",
    },
    "assignment": {"scheme": "role_rotation", "opponents": "all"},
    "episodes": 3,
    "seed": 7,
}

# A real-scenario tournament, long enough to interrupt.
REAL = {
    "name": "real",
    "scenarios": ["ukraine-2025"],
    "protocol": {
        "max_rounds": 30,
        "proposer": "random",
        "breakdown_prob": 0.01,
        "information": "public",
    },
    "competitors": {"boulware": "boulware", "linear": "linear", "tft": "tit_for_tat"},
    "assignment": {"scheme": "role_rotation", "opponents": 2},
    "episodes": 5,
    "seed": 5,
}


def write(tmp_path: Path, data: dict, name: str = "t.yaml", **changes) -> Path:
    data = {**data, **changes}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def play(tmp_path: Path, data: dict, out: str = "out", **kwargs):
    tournament = prepare_tournament(write(tmp_path, data))
    kwargs.setdefault("progress", False)
    kwargs.setdefault("fsync", False)
    return run_tournament(tournament, run_dir=tmp_path / out, **kwargs)


def log(run_dir: Path) -> bytes:
    return (run_dir / "episodes.jsonl").read_bytes()


def by_role(summary: dict) -> dict:
    return {(r["competitor"], r["role"]): r for r in summary["rankings"]["by_role"]}


# --------------------------------------------------------------------------- #
# Plans and seeds
# --------------------------------------------------------------------------- #


def test_role_rotation_plan_pairs_competitors_on_identical_seeds(tmp_path):
    tournament = prepare_tournament(write(tmp_path, TINY))
    plan = tournament.plan
    # 2 roles x 2 opponent contexts (all) x 2 competitors, 3 episodes each.
    assert len(plan.assignments) == 8 and plan.n_episodes == 24
    groups: dict = {}
    for i in range(plan.n_episodes):
        a, e = plan.locate(i)
        groups.setdefault((a.focal, a.context, e), set()).add(
            (a.profile[a.focal], plan.seed(i))
        )
    for members in groups.values():
        assert {c for c, _ in members} == {0, 1}  # both competitors...
        assert len({seed for _, seed in members}) == 1  # ...on one seed
    a, e = plan.locate(5)
    assert plan.seed(5) == tournament_seed(7, (0, a.focal, a.context, e))


def test_scheme_sizes(tmp_path):
    cartesian = prepare_tournament(
        write(tmp_path, TINY, assignment={"scheme": "cartesian"})
    )
    assert len(cartesian.plan.assignments) == 4  # 2 x 2 profiles
    sampled = prepare_tournament(
        write(tmp_path, TINY, assignment={"scheme": "sampled", "samples": 5})
    )
    assert len(sampled.plan.assignments) == 5
    drawn = prepare_tournament(
        write(tmp_path, REAL, assignment={"scheme": "role_rotation", "opponents": 4})
    )
    # 5 roles x 4 drawn contexts x 3 competitors.
    assert len(drawn.plan.assignments) == 60
    again = prepare_tournament(
        write(tmp_path, REAL, assignment={"scheme": "role_rotation", "opponents": 4})
    )
    assert again.plan == drawn.plan


# --------------------------------------------------------------------------- #
# The tiny tournament, by hand
# --------------------------------------------------------------------------- #


def test_tiny_role_rotation_matches_the_hand_computation(tmp_path):
    result = play(tmp_path, TINY)
    assert result.complete and result.played == 24
    lines = [json.loads(x) for x in log(result.run_dir).splitlines()]
    assert [r["episode"] for r in lines] == list(range(24))
    first = lines[0]["assignment"]
    assert first == {
        "id": 0,
        "competitors": {"x": "hard", "y": "hard"},
        "focal": "x",
        "context": 0,
        "replicate": 0,
    }
    payoffs = {
        ("hard", "hard"): (0.25, 0.25),
        ("hard", "linear"): (1.0, 0.375),
        ("linear", "hard"): (0.375, 1.0),
        ("linear", "linear"): (0.75, 0.75),
    }
    for r in lines:
        who = r["assignment"]["competitors"]
        assert (r["reward"]["x"], r["reward"]["y"]) == payoffs[(who["x"], who["y"])]

    summary = result.summary
    table = by_role(summary)
    for role in ("x", "y"):
        hard, linear = table[("hard", role)], table[("linear", role)]
        assert hard["reward"] == 0.625 and linear["reward"] == 0.5625
        assert hard["agreement_rate"] == 0.5 and linear["agreement_rate"] == 1.0
        assert hard["n"] == linear["n"] == 6
        # Welfare: hard's games 1.375 and 0.5, linear's 1.5 and 1.375.
        assert hard["social_welfare"] == 0.9375
        assert linear["social_welfare"] == 1.4375
        assert hard["welfare_contribution"] == -0.25
        assert linear["welfare_contribution"] == 0.25
        assert hard["pareto_distance"] == 0.0
        assert hard["nash_distance"] == pytest.approx(math.hypot(0.25, 0.375), 1e-5)
        assert linear["nash_distance"] == pytest.approx(
            math.hypot(0.25, 0.375) / 2, 1e-5
        )
    rankings = summary["rankings"]
    assert [r["competitor"] for r in rankings["overall"]] == ["hard", "linear"]
    assert [r["score"] for r in rankings["overall"]] == [0.625, 0.5625]
    (comparison,) = rankings["comparisons"]
    # Differences per pair key: +0.25 against linear, -0.125 against hard,
    # 3 replicates x 2 contexts x 2 roles = 12 pairs.
    assert comparison["pairs"] == 12
    assert comparison["mean_difference"] == 0.0625
    # Wilcoxon, normal approximation with ties: W+ = 6 x 9.5 = 57, mean 39,
    # variance 12*13*25/24 - 2*(6^3 - 6)/48 = 153.75.
    assert comparison["statistic"] == 57.0
    z = 18 / math.sqrt(153.75)
    assert comparison["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)), 1e-5)
    assert comparison["significant"] is False
    assert rankings["by_scenario"] == {"split": {"hard": 0.625, "linear": 0.5625}}


def test_tiny_empirical_game_is_chicken(tmp_path):
    game = play(tmp_path, TINY).summary["empirical_game"]
    (scen,) = game["scenarios"]
    assert scen["profiles_checked"] == 4
    stable = {tuple(p["profile"].values()): p for p in scen["stable"]}
    assert set(stable) == {("hard", "linear"), ("linear", "hard")}
    assert stable[("hard", "linear")]["payoffs"] == {"x": 1.0, "y": 0.375}
    assert all(p["regret"] == 0.0 for p in scen["stable"])
    ends = {tuple(e["payoffs"].values()): e for e in scen["replicator"]}
    # From random starts: one of the pure equilibria; from the uniform start,
    # by symmetry, the mixed one: hard with 2/3 in each role, payoff 0.5.
    assert {(1.0, 0.375), (0.375, 1.0)} <= set(ends)
    mixed = ends[(0.5, 0.5)]
    assert mixed["mix"]["x"]["hard"] == pytest.approx(2 / 3, abs=1e-4)
    assert all(e["equilibrium"] for e in scen["replicator"])
    assert sum(e["starts"] for e in scen["replicator"]) == scen["starts"]


def test_tiny_cartesian_scores_every_role(tmp_path):
    result = play(tmp_path, dict(TINY, assignment={"scheme": "cartesian"}))
    assert result.played == 12  # 4 profiles x 3 episodes
    table = by_role(result.summary)
    assert table[("hard", "x")]["reward"] == 0.625
    assert table[("linear", "y")]["reward"] == 0.5625
    assert table[("hard", "x")]["n"] == 6
    (comparison,) = result.summary["rankings"]["comparisons"]
    assert comparison["pairs"] == 12 and comparison["mean_difference"] == 0.0625
    scen = result.summary["empirical_game"]["scenarios"][0]
    assert scen["profiles_checked"] == 4 and scen["stable_count"] == 2


def test_a_competitor_restricted_to_one_role(tmp_path):
    competitors = {
        "hard": {"policy": "hardliner", "threshold": 1.0, "roles": ["x"]},
        "linear": "linear",
    }
    result = play(tmp_path, dict(TINY, competitors=competitors))
    # Role x: both against y = linear; role y: linear against x = hard, linear.
    assert result.played == (2 + 2) * 3
    lines = [json.loads(x) for x in log(result.run_dir).splitlines()]
    assert all(r["assignment"]["competitors"]["y"] == "linear" for r in lines)
    overall = {r["competitor"]: r for r in result.summary["rankings"]["overall"]}
    assert overall["hard"]["score"] == 1.0 and overall["hard"]["roles"] == 1
    assert overall["linear"]["score"] == (0.75 + 0.5625) / 2
    (comparison,) = result.summary["rankings"]["comparisons"]
    assert comparison["same_roles"] is False and comparison["roles"] == ["x"]
    assert comparison["pairs"] == 3 and comparison["mean_difference"] == 0.25


def test_sampled_is_unpaired(tmp_path):
    result = play(tmp_path, dict(TINY, assignment={"scheme": "sampled", "samples": 6}))
    assert result.played == 18
    rankings = result.summary["rankings"]
    assert rankings["test"] == "welch" and rankings["paired"] is False
    assert rankings["comparisons"][0]["method"] == "welch-t"


# --------------------------------------------------------------------------- #
# Logs: workers, resume, interruption
# --------------------------------------------------------------------------- #


def test_workers_give_identical_logs(tmp_path):
    serial = play(tmp_path, REAL, "serial", analyse=False)
    pooled = play(tmp_path, REAL, "pooled", workers=2, analyse=False)
    assert serial.played == pooled.played == 150
    assert log(serial.run_dir) == log(pooled.run_dir)


def test_batch_engine_writes_the_env_lines(tmp_path):
    env = play(tmp_path, REAL, "env", engine="env", analyse=False)
    batch = play(tmp_path, REAL, "batch", engine="batch", analyse=False)
    auto = play(tmp_path, REAL, "auto", analyse=False)
    assert env.played == batch.played == auto.played == 150
    assert log(env.run_dir) == log(batch.run_dir) == log(auto.run_dir)
    events = dict(TINY, log_events="rounds")
    tiny_env = play(tmp_path, events, "tiny-env", engine="env")
    tiny = play(tmp_path, events, "tiny-batch", engine="batch")
    assert b'"events"' in log(tiny.run_dir)
    assert log(tiny_env.run_dir) == log(tiny.run_dir)
    assert tiny.summary == tiny_env.summary


def test_batch_engine_with_workers_equals_serial_env(tmp_path):
    serial = play(tmp_path, REAL, "serial", engine="env", analyse=False)
    pooled = play(tmp_path, REAL, "pooled", engine="batch", workers=2, analyse=False)
    assert log(serial.run_dir) == log(pooled.run_dir)


def test_resume_may_change_engine(tmp_path):
    full = play(tmp_path, REAL, "full", engine="env", analyse=False)
    part = play(tmp_path, REAL, "part", engine="env", analyse=False)
    data = log(part.run_dir)
    (part.run_dir / "episodes.jsonl").write_bytes(data[: data.index(b"\n", 4000) + 1])
    resumed = play(tmp_path, REAL, "part", engine="batch", resume=True, analyse=False)
    assert 0 < resumed.played < 150
    assert log(part.run_dir) == log(full.run_dir)


def test_engine_batch_needs_vectorised_policies(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_custom_policy.py").write_text(
        "class Best:\n"
        "    def reset(self, agent, view, rng):\n"
        "        self.view = view\n"
        "    def act(self, observation, info):\n"
        "        if observation['action_mask'][self.view.accept_action]:\n"
        "            return self.view.accept_action\n"
        "        return int(self.view.order[0])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    data = dict(
        TINY, competitors={**TINY["competitors"], "mine": "my_custom_policy:Best"}
    )
    config = write(tmp_path, data)
    out = tmp_path / "o"
    assert main([str(config), "--quiet", "--out", str(out), "--engine", "batch"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "engine: batch" in err and "mine" in err
    # auto mixes both engines (the custom policy's assignments on the env).
    auto = play(tmp_path, data, "auto", analyse=False)
    env = play(tmp_path, data, "env", engine="env", analyse=False)
    assert log(auto.run_dir) == log(env.run_dir)


def test_resume_after_partial_last_line_equals_uninterrupted(tmp_path, capsys):
    full = play(tmp_path, TINY, "full")
    part = play(tmp_path, TINY, "part")
    data = log(part.run_dir)
    cut = data.index(b"\n", len(data) // 2) + 30  # mid-way into a line
    (part.run_dir / "episodes.jsonl").write_bytes(data[:cut])
    resumed = play(tmp_path, TINY, "part", resume=True)
    assert "incomplete" in capsys.readouterr().err
    assert resumed.played < 24
    assert log(part.run_dir) == log(full.run_dir)
    summary = json.loads((part.run_dir / "summary.json").read_text())
    assert summary == full.summary


def test_resume_refuses_another_config(tmp_path):
    play(tmp_path, TINY, "x")
    changed = dict(TINY, episodes=4)
    with pytest.raises(Exception, match="differs from the recorded run in episodes"):
        play(tmp_path, changed, "x", resume=True)


def test_existing_folder_needs_resume_or_overwrite(tmp_path, capsys):
    config = write(tmp_path, TINY)
    out = str(tmp_path / "o")
    assert main([str(config), "--out", out, "--quiet", "--no-report"]) == 0
    assert main([str(config), "--out", out, "--quiet", "--no-report"]) == 2
    assert "--resume" in capsys.readouterr().err


def _cli(config: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "peacegame.tournament.commands",
        str(config),
        "--out",
        str(out),
        "--quiet",
        "--no-report",
        *extra,
    ]


def _wait_for_lines(log_file: Path, size: int, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if log_file.exists() and log_file.stat().st_size > size:
            return
        time.sleep(0.01)
    raise AssertionError("the tournament wrote too little before the deadline")


def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    config = write(tmp_path, REAL, episodes=20)  # 600 episodes
    reference = play(tmp_path, dict(REAL, episodes=20), "reference", analyse=False)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli(config, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _wait_for_lines(out / "episodes.jsonl", 40_000, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = (out / "episodes.jsonl").stat().st_size
    assert 0 < killed < len(log(reference.run_dir))
    code = main([str(config), "--out", str(out), "--quiet", "--no-report", "--resume"])
    assert code == 0
    assert log(out) == log(reference.run_dir)


def test_sigterm_with_workers_stops_cleanly_and_resumes(tmp_path):
    config = write(tmp_path, REAL, episodes=20)
    reference = play(tmp_path, dict(REAL, episodes=20), "reference", analyse=False)
    out = tmp_path / "stopped"
    proc = subprocess.Popen(
        _cli(config, out, "--workers", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_for_lines(out / "episodes.jsonl", 20_000, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the tournament finished before SIGTERM arrived")
    assert proc.returncode == 130, err
    assert b"--resume" in err
    data = log(out)
    assert data.endswith(b"\n")  # only complete lines
    assert log(reference.run_dir).startswith(data)
    code = main([str(config), "--out", str(out), "--quiet", "--no-report", "--resume"])
    assert code == 0
    assert log(out) == log(reference.run_dir)


# --------------------------------------------------------------------------- #
# Bad input: one-line errors before any match
# --------------------------------------------------------------------------- #

BAD = {
    "unknown_policy": (
        {"competitors": {"hard": {"policy": "hardlner"}, "linear": "linear"}},
        "competitors.hard.policy: unknown policy 'hardlner' (did you mean "
        "'hardliner'?)",
    ),
    "bad_parameter": (
        {"competitors": {"hard": {"policy": "hardliner", "level": 3}, "l": "linear"}},
        "competitors.hard.level: Input should be less than or equal to 1",
    ),
    "missing_checkpoint": (
        {
            "competitors": {
                "ppo": {"policy": "learned", "checkpoint": "nowhere/model.zip"},
                "linear": "linear",
            }
        },
        "competitors.ppo.checkpoint: no checkpoint at",
    ),
    "wrong_actor_set": (
        {"scenarios": [str(SPLIT), str(ROOT / "tests" / "data" / "three_actors.yaml")]},
        "scenarios[1]: scenario 'three-actors' has actors ['x', 'y', 'z'] but the "
        "tournament's roles are ['x', 'y']",
    ),
    "zero_episodes": (
        {"episodes": 0},
        "episodes: Input should be greater than or equal to 1",
    ),
    "cartesian_too_large": (
        {
            "scenarios": ["ukraine-2025"],
            "competitors": {f"c{i}": "linear" for i in range(7)},
            "assignment": {"scheme": "cartesian"},
            "episodes": 10,
        },
        "assignment: cartesian would play 16,807 assignments (7 x 7 x 7 x 7 x 7) x 1 "
        "scenario(s) x 10 episodes = 168,070 matches, above max_matches 100,000; use "
        "scheme: sampled with samples: 1,000",
    ),
    "sampled_without_samples": (
        {"assignment": {"scheme": "sampled"}},
        "assignment: scheme 'sampled' needs samples: N",
    ),
    "unknown_role": (
        {
            "competitors": {
                "hard": {"policy": "hardliner", "roles": ["z"]},
                "l": "linear",
            }
        },
        "competitors.hard.roles: unknown role 'z'",
    ),
    "one_competitor": (
        {"competitors": {"hard": "hardliner"}},
        "competitors: Dictionary should have at least 2 items",
    ),
    "needs_public_information": (
        {
            "protocol": {"max_rounds": 3, "information": "private"},
            "competitors": {"nash": "nash_mediator", "linear": "linear"},
        },
        "nash_mediator needs protocol.information: public",
    ),
    "missing_scenario": (
        {"scenarios": ["nowhere.yaml"]},
        "scenarios[0]: no scenario file",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_tournament_configs(case, tmp_path, capsys):
    changes, expected = BAD[case]
    config = write(tmp_path, TINY, **changes)
    out = tmp_path / "out"
    code = main([str(config), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: "), err
    assert expected in err, err
    assert not out.exists()


# --------------------------------------------------------------------------- #
# Shipped configs, validation, schema, command output and report
# --------------------------------------------------------------------------- #


NEEDS_TRAINING = {
    "learned-vs-scripted": "competitors.learned_russia.checkpoint",
    "learned-pool-vs-scripted": "competitors.learned_russia.checkpoint",
}
"""Shipped tournaments whose learned competitors exist only after training."""


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_configs_validate(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no runs/ here: as in a fresh clone
    if path.stem in NEEDS_TRAINING:
        # Before training: one clear error naming the field and what to do.
        with pytest.raises(ConfigError) as caught:
            validate_tournament_file(path, None)
        message = str(caught.value)
        assert f"{NEEDS_TRAINING[path.stem]}: no checkpoint at" in message
        assert "train it first" in message and "\n" not in message
        return
    text = validate_tournament_file(path, None)
    assert text.startswith("tournament ")


def test_json_schema():
    schema = TournamentConfig.model_json_schema()
    assert {"competitors", "assignment", "scenarios"} <= set(schema["properties"])


def test_command_prints_the_ranking_and_writes_the_report(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    config = write(tmp_path, TINY)
    out = tmp_path / "run"
    assert main([str(config), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "1    hard" in text and "2    linear" in text
    assert "role x: hard first, not significantly ahead of the second" in text
    assert "split: 2 stable profile(s) of 4 checked" in text
    html = (out / "report.html").read_text()
    for section in ("Tournament", "Rankings", "Empirical game", "Summary", "Notes"):
        assert f">{section}</h2>" in html
    assert html.index(">Rankings</h2>") < html.index(">Notes</h2>")
    markdown = (out / "report.md").read_text()
    assert "![heat map](tournament_heatmap.png)" in markdown
    assert "### Ranking per role" in markdown
    assert "#### y: hard first, not significantly ahead of the second" in markdown
    assert ">x: hard first, not significantly ahead of the second</h4>" in html
    assert (out / "tournament_heatmap.png").stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "tournament" and manifest["roles"] == ["x", "y"]


def test_report_of_two_scenarios(tmp_path):
    pytest.importorskip("matplotlib")
    from peacegame.analysis import require_analysis
    from peacegame.tournament.report import write_tournament_report

    require_analysis(plots=True)
    data = dict(
        REAL,
        scenarios=["ukraine-2025", "no-china"],
        assignment={"scheme": "role_rotation", "opponents": 1},
        episodes=1,
        log_events="rounds",
    )
    result = play(tmp_path, data)
    html_path, md_path, pngs = write_tournament_report(result.run_dir)
    markdown = md_path.read_text()
    assert "### Scenarios" in markdown and "| no-china" in markdown
    assert "concession_curves.png" in {p.name for p in pngs}
    assert set(result.summary["rankings"]["by_scenario"]) == {
        "ukraine-2025",
        "no-china",
    }


def test_ray_backend_without_ray_is_a_user_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    config = write(tmp_path, TINY)
    code = main([str(config), "--out", str(tmp_path / "o"), "--backend", "ray"])
    assert code == 2
    assert "pip install 'peacegame[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
