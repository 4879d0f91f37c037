"""Evaluate a learned actor against the scripted strategies in the same role.

``peacegame evaluate CHECKPOINT --against MATCH.yaml --episodes N``:

* reads the checkpoint's metadata to find its actor;
* plays N episodes of the match with that actor's policy replaced by
  ``{policy: learned, checkpoint: CHECKPOINT}``, and again with each scripted
  strategy (random, boulware, linear, conceder, hardliner, tit_for_tat) in the
  same role, against the same opponents on the same episode seeds (common
  random numbers, so differences are not seed luck);
* the seeds are **held out**: episode ``i`` uses ``episode_seed(S, i)`` with
  ``S = match seed + 1,000,000,000`` by default (``--seed`` overrides), a
  different stream from the seeds the training envs drew;
* prints each policy's mean reward with a 95% Student t interval and its
  agreement rate, writes ``evaluation.json`` (and the learning curve PNG) into
  the checkpoint's run folder when it has one.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.analysis.stats import mean_interval
from peacegame.match import EpisodePlayer
from peacegame.match_config import (
    MatchConfig,
    check_policies_cover_actors,
    load_match_config,
)
from peacegame.policies.learned import read_metadata, resolve_checkpoint
from peacegame.scenario import load_compiled
from peacegame.train.checkpoints import CURVE, CURVE_PNG, RUN_FILE

SCRIPTED_STRATEGIES = (
    "random",
    "boulware",
    "linear",
    "conceder",
    "hardliner",
    "tit_for_tat",
)
"""The scripted strategies a learned actor is compared with."""

HELD_OUT_OFFSET = 1_000_000_000
"""Added to the match seed to get the default held-out evaluation base seed."""


@dataclass
class PolicyScore:
    """One policy's evaluation in the learner's role.

    Attributes:
        label: ``learned`` or the strategy name.
        mean: Mean reward.
        low: Lower bound of the 95% interval.
        high: Upper bound of the 95% interval.
        episodes: Episodes played.
        agreement_rate: Share of episodes that ended in agreement.
    """

    label: str
    mean: float
    low: float
    high: float
    episodes: int
    agreement_rate: float


@dataclass
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes:
        actor: The learner's actor.
        checkpoint: The checkpoint evaluated.
        match: The match config file.
        base_seed: The held-out base seed.
        scores: The learned policy first, then each scripted strategy.
    """

    actor: str
    checkpoint: str
    match: str
    base_seed: int
    scores: list[PolicyScore]

    @property
    def learned(self) -> PolicyScore:
        """The learned policy's score."""
        return self.scores[0]

    def best_scripted(self) -> PolicyScore:
        """The scripted strategy with the highest mean reward."""
        return max(self.scores[1:], key=lambda s: s.mean)

    def beats_best(self) -> bool:
        """Whether the learned interval lies wholly above the best scripted one."""
        best = self.best_scripted()
        learned = self.learned
        low = learned.low if not math.isnan(learned.low) else learned.mean
        high = best.high if not math.isnan(best.high) else best.mean
        return low > high

    def table(self) -> str:
        """The printed table (Markdown-compatible)."""
        lines = [
            f"{self.actor} on {Path(self.match).name}, held-out base seed "
            f"{self.base_seed}, {self.learned.episodes} episodes per policy",
            "",
            "| policy | mean reward | 95% CI | agreement rate |",
            "|---|---:|---|---:|",
        ]
        for s in self.scores:
            lines.append(
                f"| {s.label} | {s.mean:.4f} | [{s.low:.4f}, {s.high:.4f}] | "
                f"{s.agreement_rate:.1%} |"
            )
        best = self.best_scripted()
        verdict = "above" if self.beats_best() else "not above"
        lines += [
            "",
            f"learned CI is {verdict} the best scripted strategy's ({best.label})",
        ]
        return "\n".join(lines)


def _score(
    label: str,
    config: MatchConfig,
    config_file: str,
    scenario: Any,
    actor: str,
    episodes: int,
    progress: Any,
) -> PolicyScore:
    player = EpisodePlayer(config, scenario, config_file=config_file)
    rewards = np.empty(episodes)
    agreements = 0
    for i in range(episodes):
        record = player.play(i)
        rewards[i] = record["reward"][actor]
        agreements += bool(record["agreement"])
        if progress is not None:
            progress.update(1)
    mean, low, high, n = mean_interval(rewards)
    if n >= 2 and not np.isfinite(low):  # zero variance: a point interval
        low = high = mean
    return PolicyScore(label, mean, low, high, n, agreements / episodes)


def evaluate(
    checkpoint: str | Path,
    against: str | Path,
    *,
    episodes: int = 1000,
    seed: int | None = None,
    strategies: tuple[str, ...] = SCRIPTED_STRATEGIES,
    sample: bool = False,
    progress: bool = True,
) -> Evaluation:
    """Play the learned actor and each scripted strategy in its role.

    Args:
        checkpoint: An SB3 ``.zip`` or RLlib module folder with metadata.
        against: The match config giving the opponents and the protocol.
        episodes: Episodes per policy.
        seed: Held-out base seed (default: match seed + 1,000,000,000).
        strategies: Scripted strategies to compare with.
        sample: Let the learned policy sample instead of acting greedily.
        progress: Show a progress bar.

    Returns:
        The evaluation.

    Raises:
        ConfigError: On a missing or incompatible checkpoint or a bad match.
    """
    path = resolve_checkpoint(checkpoint, field="CHECKPOINT")
    actor = read_metadata(path)["actor"]
    match, scenario_file = load_match_config(against)
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(match, scenario.actors, against)
    base_seed = match.seed + HELD_OUT_OFFSET if seed is None else seed
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=episodes * (1 + len(strategies)),
            unit="ep",
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.5,
        )
    scores = []
    candidates: list[tuple[str, Any]] = [
        ("learned", {"policy": "learned", "checkpoint": str(path.resolve())})
    ]
    if sample:
        candidates[0][1]["sample"] = True
    candidates += [(name, {"policy": name}) for name in strategies]
    try:
        for label, spec in candidates:
            config = match.model_copy(
                update={
                    "policies": {**match.policies, actor: spec},
                    "seed": base_seed,
                    "log_events": "none",
                    "episodes": episodes,
                }
            )
            scores.append(
                _score(label, config, str(against), scenario, actor, episodes, bar)
            )
    finally:
        if bar is not None:
            bar.close()
    return Evaluation(actor, str(path), str(against), base_seed, scores)


def run_folder_of(checkpoint: Path) -> Path | None:
    """The train run folder a checkpoint belongs to (with ``run.json``), or None."""
    for folder in (checkpoint.parent, *checkpoint.parents):
        if (folder / RUN_FILE).is_file():
            return folder
    return None


def write_evaluation(evaluation: Evaluation, folder: Path) -> Path:
    """Write ``evaluation.json`` into ``folder``."""
    path = folder / "evaluation.json"
    data = asdict(evaluation)
    data["beats_best_scripted"] = evaluation.beats_best()
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def plot_learning_curve(
    curve: Path, out: Path, title: str | None = None, window: int = 10
) -> Path | None:
    """Plot a ``learning_curve.csv`` (mean episode reward per rollout) as PNG.

    Args:
        curve: The CSV written by training.
        out: The PNG to write.
        title: Figure title (default: the run folder's name).
        window: Rolling-mean window over rollouts, drawn over the raw curve.

    Returns:
        The PNG path, or None if matplotlib is missing or the curve is empty.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    if not curve.is_file():
        return None
    rows = curve.read_text().splitlines()[1:]
    data = np.array(
        [[float(x) for x in row.split(",")[:5]] for row in rows if row], dtype=float
    )
    if data.size == 0:
        return None
    steps, reward, agreement = data[:, 0], data[:, 2], data[:, 4]
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(steps, reward, color="0.7", lw=0.8, label="mean episode reward")
    if len(reward) >= window:
        smooth = np.convolve(reward, np.ones(window) / window, mode="valid")
        ax.plot(
            steps[window - 1 :],
            smooth,
            color="C0",
            lw=2,
            label=f"{window}-rollout mean",
        )
    ax.set_xlabel("timesteps (learner decisions)")
    ax.set_ylabel("learner reward")
    ax.grid(alpha=0.3)
    twin = ax.twinx()
    twin.plot(steps, agreement, color="C1", lw=1, alpha=0.7, label="agreement rate")
    twin.set_ylabel("agreement rate")
    twin.set_ylim(-0.02, 1.02)
    handles = ax.get_legend_handles_labels()
    other = twin.get_legend_handles_labels()
    ax.legend(handles[0] + other[0], handles[1] + other[1], loc="lower right")
    ax.set_title(title or f"Learning curve: {curve.parent.name}")
    fig.savefig(out, dpi=110)
    return out


def plot_run_curve(run_dir: Path) -> Path | None:
    """Plot ``learning_curve.png`` in a run folder from its CSV."""
    return plot_learning_curve(run_dir / CURVE, run_dir / CURVE_PNG)


__all__ = [
    "HELD_OUT_OFFSET",
    "SCRIPTED_STRATEGIES",
    "Evaluation",
    "PolicyScore",
    "evaluate",
    "plot_learning_curve",
    "plot_run_curve",
    "run_folder_of",
    "write_evaluation",
]
