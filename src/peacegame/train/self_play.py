"""Iterated best response with SB3: each actor in turn, against frozen snapshots.

A :class:`~peacegame.train.config.SelfPlayConfig` lists the actors that learn
(``actors``, in training order) and how many ``rounds`` to make over them. Each
turn trains one actor with MaskablePPO (:func:`peacegame.train.sb3_train.learn`)
for ``timesteps_per_turn`` against the *current* policies of all the others:
their latest snapshot if they have one, else their policy from the match
config. The snapshot is then frozen and becomes that actor's current policy.
So all listed actors learn without a multi-agent library; actors not listed
keep their scripted match policy throughout.

Run folder (default ``runs/train/<name>``):

* ``snapshots/round<r>_<actor>.zip`` with ``.json`` metadata beside it: the
  usual checkpoint metadata plus ``round``, ``turn``, the ``opponents`` it was
  trained against (their specs, snapshots included), and, unless
  ``eval_episodes`` is 0, ``evaluation``: its mean reward against those
  opponents on held-out seeds next to the mean reward of the policy it
  replaced, on the same seeds;
* ``snapshots/round<r>_<actor>_curve.csv``: that turn's learning curve;
* ``tb/round<r>_<actor>_1``: TensorBoard files;
* ``final-match.yaml``: a match config playing every actor's latest policy
  (``peacegame run`` it, or ``peacegame evaluate`` a snapshot against it);
* ``self_play.json``: the turns done so far. ``--resume`` skips the turns whose
  snapshot exists and reruns the one that was interrupted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.match import EpisodePlayer
from peacegame.match_config import MatchConfig
from peacegame.policies.learned import metadata_path, write_metadata
from peacegame.scenario import load_compiled
from peacegame.scenario.compiled import CompiledScenario
from peacegame.train.checkpoints import (
    FINAL_MATCH,
    check_resumable,
    keep_planned_count,
    learned_spec,
    library_versions,
    prepare_run_dir,
    write_final_match,
    write_json,
    write_run_file,
)
from peacegame.train.config import SelfPlayConfig, check_actors, load_match
from peacegame.train.evaluate import HELD_OUT_OFFSET
from peacegame.train.sb3_train import SB3_VERSIONS, learn, learner_spec

SNAPSHOTS = "snapshots"
"""The run folder's snapshot subfolder."""
STATE_FILE = "self_play.json"
"""The turns done so far."""
"""A match config with every actor's latest policy."""


@dataclass
class Turn:
    """One actor's turn.

    Attributes:
        round: The round (pass over the actors), from 0.
        actor: The actor that learned.
        snapshot: Its snapshot.
        timesteps: Timesteps trained.
        seconds: Wall time.
        reward_before: Held-out mean reward of the policy it replaced.
        reward_after: Held-out mean reward of the snapshot.
    """

    round: int
    actor: str
    snapshot: str
    timesteps: int
    seconds: float
    reward_before: float | None = None
    reward_after: float | None = None


@dataclass
class SelfPlayResult:
    """What :func:`train_self_play` did.

    Attributes:
        run_dir: The run folder.
        turns: Every turn, resumed ones included.
        interrupted: True if stopped by Ctrl-C.
    """

    run_dir: Path
    turns: list[Turn] = field(default_factory=list)
    interrupted: bool = False

    def summary(self) -> str:
        """A table of the turns."""
        lines = [
            f"{'round':>5}  {'actor':<10}{'steps':>9}{'before':>9}{'after':>9}",
        ]
        for t in self.turns:
            before = "-" if t.reward_before is None else f"{t.reward_before:.4f}"
            after = "-" if t.reward_after is None else f"{t.reward_after:.4f}"
            lines.append(
                f"{t.round:>5}  {t.actor:<10}{t.timesteps:>9}{before:>9}{after:>9}"
            )
        lines.append(f"run folder: {self.run_dir}")
        lines.append(f"final policies: {self.run_dir / FINAL_MATCH}")
        return "\n".join(lines)


def _held_out_reward(
    match: MatchConfig,
    match_file: Path,
    scenario: CompiledScenario,
    policies: dict[str, Any],
    actor: str,
    episodes: int,
) -> float:
    """Mean reward of ``actor`` with ``policies`` on held-out seeds."""
    config = match.model_copy(
        update={
            "policies": policies,
            "seed": match.seed + HELD_OUT_OFFSET,
            "log_events": "none",
        }
    )
    player = EpisodePlayer(config, scenario, config_file=str(match_file))
    return float(np.mean([player.play(i)["reward"][actor] for i in range(episodes)]))


def _rounds_done(snapshots: Path, order: list[str]) -> int:
    """Self-play rounds whose every turn has a snapshot with its metadata."""
    done = 0
    while all(
        metadata_path(snapshots / f"round{done}_{actor}.zip").is_file()
        for actor in order
    ):
        done += 1
    return done


def train_self_play(
    config: SelfPlayConfig,
    config_file: Path | None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> SelfPlayResult:
    """Run iterated best response (see the module doc).

    Returns:
        The turns and the run folder.

    Raises:
        UserError: On a bad config or folder.
    """
    match, match_file, scenario_file = load_match(config, config_file)
    scenario = load_compiled(scenario_file)
    order = list(config.actors or scenario.actors)
    check_actors(order, scenario.actors, file=config_file, field="actors")
    run_dir = config.run_dir()
    prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    config_data = config.model_dump(mode="json")
    if resume:
        check_resumable(run_dir, config_data)
        keep_planned_count(
            run_dir,
            "rounds",
            config.rounds,
            lambda: _rounds_done(run_dir / SNAPSHOTS, order),
            unit="rounds",
            file=run_dir / SNAPSHOTS,
        )
    write_run_file(
        run_dir,
        config=config,
        config_file=config_file,
        match=match,
        match_file=match_file,
        scenario=scenario,
        scenario_file=scenario_file,
        order=order,
        versions=library_versions(*SB3_VERSIONS),
    )
    snapshots = run_dir / SNAPSHOTS
    snapshots.mkdir(exist_ok=True)
    current: dict[str, Any] = dict(match.policies)
    result = SelfPlayResult(run_dir)
    turn_index = 0
    for round_index in range(config.rounds):
        for actor in order:
            stem = f"round{round_index}_{actor}"
            snapshot = snapshots / f"{stem}.zip"
            if resume and snapshot.is_file() and metadata_path(snapshot).is_file():
                meta = json.loads(metadata_path(snapshot).read_text())
                evaluation = meta.get("evaluation", {})
                result.turns.append(
                    Turn(
                        round_index,
                        actor,
                        str(snapshot),
                        int(meta.get("timesteps", 0)),
                        0.0,
                        evaluation.get("reward_before"),
                        evaluation.get("reward_after"),
                    )
                )
                current[actor] = learned_spec(snapshot)
                turn_index += 1
                continue
            opponents = {a: s for a, s in current.items() if a != actor}
            spec = learner_spec(
                match,
                match_file,
                scenario_file,
                actor,
                train_file=config_file,
                opponents=opponents,
            )
            previous = current[actor]
            warm = None
            if (
                config.warm_start
                and isinstance(previous, dict)
                and previous.get("policy") == "learned"
            ):
                warm = Path(previous["checkpoint"])
            if progress:
                print(f"round {round_index}, {actor}: training", flush=True)
            trained = learn(
                spec=spec,
                ppo=config.ppo,
                total_timesteps=config.timesteps_per_turn,
                n_envs=config.n_envs,
                vec_env=config.vec_env,
                seed=config.seed + turn_index,
                torch_threads=config.torch_threads,
                out_dir=run_dir,
                model_name=f"{SNAPSHOTS}/{stem}",
                curve_name=f"{SNAPSHOTS}/{stem}_curve.csv",
                warm_start=warm,
                extra_metadata={
                    "round": round_index,
                    "turn": turn_index,
                    "train_config": config_data,
                    "match_path": str(match_file),
                },
                tb_name=stem,
                progress=progress,
            )
            if trained.interrupted:
                result.interrupted = True
                return result
            turn = Turn(
                round_index, actor, str(snapshot), trained.steps, trained.seconds
            )
            if config.eval_episodes:
                before = {**current}
                after = {**current, actor: learned_spec(snapshot)}
                turn.reward_before = _held_out_reward(
                    match, match_file, scenario, before, actor, config.eval_episodes
                )
                turn.reward_after = _held_out_reward(
                    match, match_file, scenario, after, actor, config.eval_episodes
                )
                meta = json.loads(metadata_path(snapshot).read_text())
                meta["evaluation"] = {
                    "episodes": config.eval_episodes,
                    "base_seed": match.seed + HELD_OUT_OFFSET,
                    "reward_before": turn.reward_before,
                    "reward_after": turn.reward_after,
                    "replaced": previous,
                }
                for key in ("format", "version"):
                    meta.pop(key, None)
                write_metadata(snapshot, meta)
            result.turns.append(turn)
            current[actor] = learned_spec(snapshot)
            turn_index += 1
            write_final_match(
                run_dir, match, scenario_file, current, config.name, "self-play"
            )
            write_json(
                run_dir / STATE_FILE,
                {"turns": [t.__dict__ for t in result.turns], "current": current},
            )
    write_final_match(run_dir, match, scenario_file, current, config.name, "self-play")
    write_json(
        run_dir / STATE_FILE,
        {"turns": [t.__dict__ for t in result.turns], "current": current},
    )
    return result


__all__ = ["SelfPlayResult", "Turn", "train_self_play"]
