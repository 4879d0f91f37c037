"""``peacegame sensitivity --play``: the match played out on sampled calibrations.

The tiny scenario below is built so that the answers follow by hand (``w`` is
x's uncertain weight on ``size``, in [0.5, 1.2]; ``v`` is y's value of
``some``, in [0.4, 0.9]):

- Without ``extra`` (size ``none``) y gets at most ``0.3 / 1.3 = 0.23``, below
  its 0.25, so the zone and the bargaining set are empty. Each proposer then
  offers its own best outcome, and the other refuses it: x's ``(none, a)``
  gives y 0; y's ``(none, c)`` gives x ``0.2 w / (1 + w) <= 0.11 < 0.3``. No
  agreement, in every calibration.
- With ``extra``, ``(some, a)`` is in the zone for every calibration: x gets
  ``(1 + 0.5 w) / (1 + w) >= 0.72`` and y ``v / 1.3 >= 0.31``. Two Nash
  mediators (each proposes the weighted Nash point and accepts what is at
  least as good) agree in the first round.
- ``lead = c`` gives x at most ``0.5 w / (1 + w) <= 0.28 < 0.3``: the zone
  never holds it, so removing it leaves the Nash point and the agreement rate
  unchanged, although it removes 3 of the 9 feasible outcomes.
"""

from __future__ import annotations

import json

import pytest
import yaml

from peacegame.analysis.sensitivity import run_sensitivity
from peacegame.cli import main

TINY = """
name: tinyplay
issues:
  - name: size
    levels:
      - {name: none, n: 0}
      - {name: some, n: 1}
      - {name: many, n: 3}
  - name: lead
    levels:
      - {name: a, k: 0}
      - {name: b, k: 0}
      - {name: c, k: 1}
features:
  - {name: extra, product: [size.n, 1]}
  - {name: c_lead, product: [lead.k, 1]}
actors:
  - id: x
    no_deal: 0.3
    discount: {value: 0.9, range: [0.8, 0.99], assumption: cannot matter}
    recognition: 0.5
    terms:
      - weight: 1
        issue: lead
        values: [1, 0.5, 0]
      - weight: {value: 1, range: [0.5, 1.2], assumption: moves the Nash point}
        issue: size
        values: [0.2, 0.5, 0.4]
  - id: y
    no_deal: 0.25
    discount: 0.9
    recognition: 0.5
    terms:
      - weight: 1
        issue: size
        values: [0, {value: 0.6, range: [0.4, 0.9], assumption: matters}, 1]
      - {weight: 0.3, issue: lead, values: [0, 0.3, 1]}
consent:
  - actors: [x, y]
questions:
  counterfactuals:
    - {name: extra_size, focus: x, feature: extra, label: extra size, noun: deals}
    - {name: lead_c, focus: x, feature: c_lead, label: lead c, noun: deals}
    - {name: by_variant, focus: x, noun: deals, variant: tinyplay-small.yaml}
"""

VARIANT = """
extends: tinyplay.yaml
name: tinyplay-small
drop_levels:
  size: [some, many]
"""

MATCH = """
name: mediators
scenario: tinyplay.yaml
protocol:
  max_rounds: 4
  proposer: random
  breakdown_prob: 0
  information: public
policies:
  x: {policy: nash_mediator}
  y: {policy: nash_mediator}
episodes: 12
seed: 7
"""


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "tinyplay.yaml").write_text(TINY)
    (tmp_path / "tinyplay-small.yaml").write_text(VARIANT)
    (tmp_path / "mediators.yaml").write_text(MATCH)
    return tmp_path


def _run(tiny, question, out, **kw):
    return run_sensitivity(
        str(tiny / "tinyplay.yaml"),
        question=question,
        samples=64,
        method="lhs",
        out=tiny / out,
        plots=kw.pop("plots", False),
        play=kw.pop("play", 10),
        match=str(tiny / "mediators.yaml"),
        **kw,
    )


def test_a_counterfactual_that_removes_every_deal(tiny):
    doc, paths = _run(tiny, "extra_size", "a", plots=True)
    play = doc["play"]
    assert play["calibrations"] == 10 and play["episodes"] == 12
    assert play["counterfactual"]["kind"] == "feature"
    assert play["rate_with"]["q05"] == 1.0 and play["rate_without"]["q95"] == 0.0
    assert play["nominal"] == {
        "rate_with": 1.0,
        "rate_without": 0.0,
        "feature_share": 1.0,
    }
    assert play["higher"]["p"] == 1.0 and play["lower"]["p"] == 0.0
    assert play["mean_difference"] == {"mean": 1.0, "low": 1.0, "high": 1.0}
    assert "higher with extra size in 100.0% of calibrations" in doc["text"]
    assert "play.png" in {p.name for p in paths}
    saved = json.loads((tiny / "a" / "summary.json").read_text())
    assert saved["play"]["higher"]["p"] == 1.0
    chunks = sorted((tiny / "a" / "play" / "chunks").glob("*.npz"))
    assert len(chunks) == 3  # 10 calibrations in chunks of 4


def test_a_counterfactual_that_cannot_change_agreement(tiny):
    from peacegame.analysis.sensitivity.play import Counterfactual
    from peacegame.analysis.sensitivity.question import load_setup

    doc, _ = _run(tiny, "lead_c", "b")
    play = doc["play"]
    assert play["same"]["p"] == 1.0
    assert play["rate_with"]["q05"] == play["rate_without"]["q05"] == 1.0
    assert play["feature_share"]["q95"] == 0.0
    # Not vacuous: the counterfactual does remove feasible outcomes.
    setup = load_setup(str(tiny / "tinyplay.yaml"), "lead_c")
    without = Counterfactual(setup).compile(setup.calibrations.nominal)
    assert setup.compiled.n_outcomes == 9 and without.n_outcomes == 6


def test_a_variant_question_plays_the_variant(tiny):
    doc, _ = _run(tiny, "by_variant", "c", play=5)
    play = doc["play"]
    assert play["counterfactual"]["kind"] == "variant"
    assert play["counterfactual"]["scenario"].endswith("tinyplay-small.yaml")
    assert play["higher"]["p"] == 1.0 and play["rate_without"]["mean"] == 0.0


def test_played_out_is_resumable_and_identical_across_workers(tmp_path):
    kw = {
        "samples": 64,
        "method": "lhs",
        "plots": False,
        "play": 6,
        "episodes": 12,
    }
    a, _ = run_sensitivity("ukraine-2025", out=tmp_path / "a", **kw)
    b, _ = run_sensitivity("ukraine-2025", out=tmp_path / "b", workers=2, **kw)
    strip = ("text",)
    assert {k: v for k, v in a["play"].items() if k not in strip} == {
        k: v for k, v in b["play"].items() if k not in strip
    }
    # The rates vary across calibrations (else equality would prove little).
    assert a["play"]["rate_with"]["q05"] < a["play"]["rate_with"]["q95"]
    chunks = sorted((tmp_path / "a" / "play" / "chunks").glob("*.npz"))
    assert len(chunks) == 2
    chunks[-1].unlink()
    c, _ = run_sensitivity("ukraine-2025", out=tmp_path / "a", resume=True, **kw)
    assert c["play"]["rate_with"] == a["play"]["rate_with"]
    assert c["play"]["difference"] == a["play"]["difference"]
    # --resume without --play continues the recorded played-out run too.
    kw.pop("play"), kw.pop("episodes")
    d, _ = run_sensitivity("ukraine-2025", out=tmp_path / "a", resume=True, **kw)
    assert d["play"]["difference"] == a["play"]["difference"]


def test_nominal_play_equals_the_env_path_of_compare(tmp_path):
    """The batch engine on the nominal calibration, against ``compare``'s
    EpisodePlayer on the shipped baseline and no-china match configs."""
    from peacegame.analysis.compare import compare_matches
    from peacegame.resources import resolve_config

    doc, _ = run_sensitivity(
        "ukraine-2025",
        samples=64,
        method="lhs",
        out=tmp_path / "n",
        plots=False,
        play=1,
        episodes=40,
    )
    play = doc["play"]
    assert play["match_name"] == "baseline"  # the scenario's shipped match
    assert play["counterfactual"]["kind"] == "variant"
    matches = compare_matches(
        resolve_config("baseline", "matches"),
        resolve_config("no-china", "matches"),
        episodes=40,
    )
    assert matches is not None
    rates = [s["agreement_rate"] for s in matches["summaries"]]
    assert [play["nominal"]["rate_with"], play["nominal"]["rate_without"]] == rates


def _cli(tiny, *extra):
    return [
        "sensitivity",
        str(tiny / "tinyplay.yaml"),
        "--samples",
        "32",
        "--method",
        "lhs",
        "--quiet",
        "--no-plots",
        *extra,
    ]


def test_cli_play_json_and_resume_checks(tiny, capsys):
    out = str(tiny / "run")
    match = str(tiny / "mediators.yaml")
    argv = _cli(tiny, "--out", out, "--play", "4", "--match", match)
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["play"]["higher"]["p"] == 1.0 and "text" not in doc["play"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0]
    argv8 = _cli(tiny, "--out", out, "--play", "8", "--match", match, "--resume")
    assert main(argv8) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "played-out run differs" in err[0]
    assert main([*argv, "--resume"]) == 0
    assert "Played out: match mediators" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--match", "MATCH"], "--match needs --play"),
        (["--episodes", "3"], "--episodes needs --play"),
        (["--play", "0", "--match", "MATCH"], "--play 0: expected at least 1"),
        (["--play", "2", "--episodes", "0", "--match", "MATCH"], "--episodes 0"),
        (["--play", "2"], "choose the match config to play with --match"),
    ],
)
def test_cli_play_errors_are_one_line(tiny, capsys, extra, needle):
    extra = [str(tiny / "mediators.yaml") if e == "MATCH" else e for e in extra]
    assert main([*_cli(tiny, "--out", str(tiny / "o")), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not (tiny / "o").exists()


def test_cli_play_refuses_a_match_the_batch_engine_cannot_play(tiny, capsys):
    data = yaml.safe_load(MATCH)
    data["policies"]["y"] = {"policy": "llm", "backend": "transformers"}
    bad = tiny / "llm.yaml"
    bad.write_text(yaml.safe_dump(data))
    argv = _cli(tiny, "--out", str(tiny / "o"), "--play", "2", "--match", str(bad))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(bad) in err[0] and "policies.y" in err[0]
    assert not (tiny / "o").exists()


def test_cli_play_needs_a_question(tiny, capsys):
    data = yaml.safe_load(TINY)
    del data["questions"]
    path = tiny / "noq.yaml"
    path.write_text(yaml.safe_dump(data))
    match = yaml.safe_load(MATCH)
    match["scenario"] = "noq.yaml"
    (tiny / "noq-match.yaml").write_text(yaml.safe_dump(match))
    argv = [
        "sensitivity",
        str(path),
        "--samples",
        "32",
        "--quiet",
        "--out",
        str(tiny / "o"),
        "--play",
        "2",
        "--match",
        str(tiny / "noq-match.yaml"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "questions.counterfactuals" in err[0] and str(path) in err[0]
    assert not (tiny / "o").exists()


def test_sensitivity_answers_a_variant_question(tiny):
    """A question with a variant and no feature: the focus actor's acceptance
    set here against the variant's, each compiled the ordinary way."""
    from peacegame.scenario import compile_scenario, load_scenario

    doc, _ = run_sensitivity(
        str(tiny / "tinyplay.yaml"),
        question="by_variant",
        samples=64,
        method="lhs",
        out=tiny / "v",
        plots=True,
    )
    counts = []
    for name in ("tinyplay.yaml", "tinyplay-small.yaml"):
        sc = compile_scenario(load_scenario(tiny / name))
        x = sc.actor_index("x")
        counts.append(int((sc.utility64[x] >= sc.no_deal64[x]).sum()))
    assert counts[0] > counts[1] > 0
    assert doc["nominal"]["accepts_without"] == counts[1]
    assert doc["nominal"]["accepts_with"] == counts[0] - counts[1]
    assert doc["holds"]["p"] == 1.0
    assert "x accepts more deals than in the tinyplay-small variant" in doc["text"]
