"""Run configured matches: seeding, workers, crash-safe logs, progress, summary.

One episode is played through the PettingZoo AEC env (``raw_env``) with one
policy per actor. Episode ``i`` is reproducible alone: its seed derives from the
base seed and ``i`` only (see ``docs/log-schema.md``), the env is reset with it
and each policy gets its own generator seeded from it. With ``--workers N`` the
episodes are played in contiguous chunks by a process pool and written in
episode order, so ``episodes.jsonl`` is byte-identical for any N.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import sys
import time
from collections import Counter
from collections.abc import Generator, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from peacegame import __version__
from peacegame.engine import OutcomeMetrics, episode_record, episode_seed
from peacegame.engine.talk import Statements
from peacegame.env import NegotiationEnv
from peacegame.errors import ConfigError, UserError
from peacegame.logs import (
    EPISODES,
    LLM_CACHE,
    MANIFEST,
    RESUME_CONFLICT,
    SCHEMA_VERSION,
    SUMMARY,
    TRANSCRIPTS,
    EpisodeWriter,
    LogError,
    TranscriptWriter,
    config_differences,
    describe_differences,
    dumps_record,
    ensure_folder,
    merge_overrides,
    override_key,
    read_episodes,
    read_manifest,
    resolve_planned,
    with_defaults,
    write_json,
)
from peacegame.match_config import (
    MatchConfig,
    apply_override,
    check_policies_cover_actors,
    load_match_config,
)
from peacegame.policies import make_policy, make_view, policy_label, reset_policy
from peacegame.resources import resolve_config
from peacegame.scenario import (
    CompiledScenario,
    compile_scenario,
    load_compiled,
    load_scenario,
)
from peacegame.solutions import Solution
from peacegame.yamlio import validate

Turn = tuple[Any, dict[str, np.ndarray], dict[str, Any]]
"""One move to make: the mover's policy, its observation and its info.

A plain tuple: one is built per move, and a named tuple's constructor alone
cost 200 ns, about 6% of a move of the match benchmark (2026-12-01).
"""


class EpisodePlayer:
    """Plays episodes of one match config through the AEC env.

    Args:
        config: The validated match config.
        scenario: The compiled scenario.
        metrics: Precomputed outcome metrics (computed if None).
    """

    def __init__(
        self,
        config: MatchConfig,
        scenario: CompiledScenario,
        metrics: OutcomeMetrics | None = None,
        config_file: str | None = None,
    ) -> None:
        self.config = config
        self.scenario = scenario
        check_policies_cover_actors(config, scenario.actors, config_file or "<config>")
        self.metrics = metrics or OutcomeMetrics.of(scenario)
        # Policies act in concrete actions; ``protocol.actions`` is a learners'
        # interface, which a learned policy translates itself (the engine's
        # translation, ``policies.learned``), as the training adapters do.
        self.env = NegotiationEnv(
            scenario=scenario,
            protocol=config.protocol.model_copy(update={"actions": "outcome"}),
            max_cycles=config.protocol.max_rounds + 1,
        )
        self.actors = scenario.actors
        self.policies = {
            actor: make_policy(
                config.policies[actor], file=config_file, field=f"policies.{actor}"
            )
            for actor in self.actors
        }
        for actor, policy in self.policies.items():
            if getattr(policy, "requires_public", False) and (
                config.protocol.information != "public"
            ):
                raise ConfigError(
                    f"{policy_label(policy)} needs protocol.information: public",
                    file=config_file,
                    field=f"policies.{actor}",
                )
        self.labels = {a: policy_label(p) for a, p in self.policies.items()}
        self.observes: dict[str, bool] = {}
        """Per actor, whether its policy reads the observation (``policies.base``):
        the others get None, and the env builds no observation for them. Set
        per episode (a tournament swaps the policies between episodes)."""
        protocol = config.protocol
        self.talk = protocol.talk == "public"
        self.statements = Statements(protocol.statement_max_chars)
        self.views = {
            actor: make_view(self.env.rules, actor, self.env.record, self.statements)
            for actor in self.actors
        }
        self.transcripts: TranscriptWriter | None = None
        """Where the policies' transcripts go (set by :func:`run_match`)."""
        self.run_dir: Path | None = None
        self.config_file = config_file
        self.asynchronous = any(hasattr(p, "act_async") for p in self.policies.values())
        """True if a policy acts asynchronously (an LLM): episodes then run
        concurrently on an event loop instead of in worker processes."""

    def _begin(self, seed: int) -> NegotiationEnv:
        """Reset the env and every policy for the episode keyed ``seed``."""
        env = self.env
        env.reset(seed=seed)
        self.statements.clear()
        for a, actor in enumerate(self.actors):
            policy = self.policies[actor]
            reset_policy(policy, actor, self.views[actor], seed, a)
            self.observes[actor] = bool(getattr(policy, "reads_observation", True))
        return env

    def _speak(self, policy: Any, agent: str, info: dict[str, Any]) -> None:
        """Under ``talk: public``, publish the mover's statement, if it made one."""
        speak = getattr(policy, "statement", None)
        text = speak() if callable(speak) else None
        if text:
            self.statements.add(int(info["round"]), agent, info["phase"], text)

    def _turns(self, seed: int) -> Generator[Turn, int, None]:
        """The episode's moves: yields each turn, receives the action taken.

        The env applies every action (the rules are the engine's); under
        ``talk: public`` the mover's statement, if its policy made one, is
        published with its move. :meth:`play` runs the same loop without the
        generator (a resumption per move cost 5% of a move, 2026-12-01).
        """
        env = self._begin(seed)
        policies = self.policies
        terminations = env.terminations
        truncations = env.truncations
        observe, step, talk = env.observe, env.step, self.talk
        observes = self.observes
        while True:
            agent = env.agent_selection
            if terminations[agent] or truncations[agent]:
                return
            info = env.infos[agent]
            policy = policies[agent]
            observation = observe(agent) if observes[agent] else None
            action = yield policy, observation, info
            if talk:
                self._speak(policy, agent, info)
            step(action)

    def play(self, episode: int, seed: int | None = None) -> dict[str, Any]:
        """Play episode ``episode`` and return its log record.

        The moves are :meth:`_turns`', each policy acting at once.

        Args:
            episode: The episode id.
            seed: The episode seed; by default derived from the config's base
                seed and ``episode`` (tournaments pass their own paired seeds).
        """
        if seed is None:
            seed = episode_seed(self.config.seed, episode)
        env = self._begin(seed)
        terminations = env.terminations
        truncations = env.truncations
        observe, step, talk = env.observe, env.step, self.talk
        # One lookup per move: the policy's act, whether it reads, the policy.
        movers = {
            agent: (policy.act, self.observes[agent], policy)
            for agent, policy in self.policies.items()
        }
        while True:
            agent = env.agent_selection
            if terminations[agent] or truncations[agent]:
                break
            act, observes, policy = movers[agent]
            info = env.infos[agent]
            action = act(observe(agent) if observes else None, info)
            if talk:
                self._speak(policy, agent, info)
            step(action)
        return self.record(episode, seed)

    async def play_async(self, episode: int, seed: int | None = None) -> dict[str, Any]:
        """:meth:`play`, awaiting policies that act asynchronously (``act_async``).

        Several players (each its own env and policies) play episodes
        concurrently on one event loop this way; the records are the same as
        :meth:`play`'s.
        """
        if seed is None:
            seed = episode_seed(self.config.seed, episode)
        turns = self._turns(seed)
        try:
            policy, observation, info = next(turns)
            while True:
                act_async = getattr(policy, "act_async", None)
                if act_async is not None:
                    action = await act_async(observation, info)
                else:
                    action = policy.act(observation, info)
                policy, observation, info = turns.send(action)
        except StopIteration:
            pass
        return self.record(episode, seed)

    def record(self, episode: int, seed: int) -> dict[str, Any]:
        """Build the log record of the episode that just ended.

        Policies that report per-episode statistics (``episode_stats()``: the
        ``llm`` policy's requests, invalid replies, fallbacks and tokens) add an
        ``llm`` object; policies that keep a transcript (``take_transcript()``)
        hand it to :attr:`transcripts`, written before the episode's line.
        """
        env = self.env
        line = episode_record(
            env.rules,
            env.state,
            0,
            env.episodes.rewards[0],
            episode=episode,
            seed=seed,
            labels=self.labels,
            metrics=self.metrics,
            events=self.config.log_events == "rounds",
            statements=self.statements if self.talk else None,
        )
        stats: dict[str, Any] = {}
        exchanges: dict[str, list[dict[str, Any]]] = {}
        for actor, policy in self.policies.items():
            report = getattr(policy, "episode_stats", None)
            if callable(report):
                stats[actor] = report()
            take = getattr(policy, "take_transcript", None)
            if callable(take):
                exchanges[actor] = take()
        if stats:
            line["llm"] = stats
        if exchanges and self.transcripts is not None:
            self.transcripts.write(episode, seed, exchanges)
        return line


# --------------------------------------------------------------------------- #
# Workers: each process builds its own player once and plays chunks.
# --------------------------------------------------------------------------- #

_WORKER_PLAYER: EpisodePlayer | None = None


def _worker_init(config_data: dict[str, Any], scenario_file: str) -> None:
    global _WORKER_PLAYER
    # Ctrl-C reaches the whole process group: the parent decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = MatchConfig.model_validate(config_data)
    _WORKER_PLAYER = EpisodePlayer(config, load_compiled(scenario_file))


def _worker_chunk(episodes: range) -> list[str]:
    assert _WORKER_PLAYER is not None
    return [dumps_record(_WORKER_PLAYER.play(i)) for i in episodes]


def _chunks(start: int, stop: int, size: int) -> list[range]:
    return [range(i, min(i + size, stop)) for i in range(start, stop, size)]


# --------------------------------------------------------------------------- #
# Running a configured match into a run folder.
# --------------------------------------------------------------------------- #


@dataclass
class RunResult:
    """What :func:`run_match` did.

    Attributes:
        run_dir: The run folder.
        records: Every episode record of the run (resumed ones included).
        played: Episodes played by this call.
        seconds: Wall time of this call's episodes.
        interrupted: True if stopped early by SIGINT/SIGTERM.
        planned: Episodes planned for the whole run.
        already_complete: True if a resumed run had every planned episode
            logged already (nothing was played).
        scenario: The run's compiled scenario (the plots reuse it).
        solution: Its solution (the plots reuse it).
        plot_pairs: The scenario's ``questions.plot_pairs``.
    """

    run_dir: Path
    records: list[dict[str, Any]]
    played: int
    seconds: float
    interrupted: bool = False
    planned: int = 0
    already_complete: bool = False
    scenario: CompiledScenario | None = None
    solution: Solution | None = None
    plot_pairs: list[list[str]] = field(default_factory=list)

    @property
    def resume_command(self) -> str:
        """The command that continues exactly this run (no other flag needed)."""
        return resume_command("run", self.run_dir)


def resume_command(command: str, run_dir: str | Path) -> str:
    """``peacegame COMMAND --resume --out RUN_DIR``, shell-quoted.

    It reads everything else (the effective config, overrides included, and the
    planned count) from the run folder.
    """
    return f"peacegame {command} --resume --out {shlex.quote(str(run_dir))}"


class StopRequests:
    """Turns SIGINT and SIGTERM into a flag checked between episodes.

    A line is therefore never half-written by an interruption: the run stops
    after the episode in progress. A second SIGINT raises KeyboardInterrupt.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequests:
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Outside the main thread signals cannot be handled: leave them.
            with contextlib.suppress(ValueError):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def prepare_folder(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Check and create a run folder (refusing to overwrite results silently).

    Raises:
        UserError: If it is a file, holds results without --resume or
            --overwrite, cannot be written, or both flags are given.
    """
    if resume and overwrite:
        raise UserError(RESUME_CONFLICT)
    if run_dir.exists() and not run_dir.is_dir():
        ensure_folder(run_dir)  # raises: the output folder is a file
    has_results = (run_dir / EPISODES).exists() or (run_dir / MANIFEST).exists()
    if has_results and not (resume or overwrite):
        raise UserError(
            "the run folder already has results; pass --resume to continue it "
            "or --overwrite to replace it",
            file=run_dir,
        )
    if overwrite and has_results:
        for name in (EPISODES, MANIFEST, SUMMARY, TRANSCRIPTS, LLM_CACHE):
            (run_dir / name).unlink(missing_ok=True)
        for png in run_dir.glob("*.png"):
            png.unlink()
    ensure_folder(run_dir)


def manifest_for(
    config: MatchConfig,
    scenario: CompiledScenario,
    config_path: str | None,
    scenario_file: str,
    overrides: list[str] | None = None,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    """The run folder's ``manifest.json`` content.

    Args:
        config: The effective config (overrides applied): ``--resume`` reads it.
        scenario: The compiled scenario.
        config_path: The config file, if any.
        scenario_file: The scenario file.
        overrides: The ``key=value`` overrides applied to the config file.
        run_dir: The run folder (for ``resume_command``).
    """
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "match",
        "peacegame_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config_path": config_path,
        "config": config.model_dump(mode="json"),
        "config_given": config.model_dump(mode="json", exclude_unset=True),
        "overrides": list(overrides or []),
        "scenario": {
            "name": scenario.name,
            "hash": scenario.scenario_hash,
            "path": scenario_file,
            "file": str(Path(scenario_file).resolve()),
            "actors": list(scenario.actors),
            "n_outcomes": scenario.n_outcomes,
        },
        "base_seed": config.seed,
        "episodes": config.episodes,
    }
    if run_dir is not None:
        manifest["resume_command"] = resume_command("run", run_dir)
    return manifest


def _check_resumable(
    run_dir: Path, manifest: dict[str, Any], config: MatchConfig, scenario_hash: str
) -> None:
    """A resume must continue the recorded run: same config but for its length.

    Raises:
        UserError: Naming what differs and the command that continues the
            recorded run.
    """
    where = run_dir / MANIFEST
    hint = resume_command("run", run_dir)
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise UserError(
            f"cannot resume: the run was written with schema_version "
            f"{manifest.get('schema_version')!r} and this peacegame draws episodes "
            f"for version {SCHEMA_VERSION}; its log stays readable (peacegame "
            "analyze); start the remaining episodes in a new --out folder",
            file=where,
        )
    kind = manifest.get("kind", "match")
    if kind != "match":
        raise UserError(
            f"cannot resume: the folder holds a {kind} run, not a match; continue "
            f"it with: {resume_command(str(kind), run_dir)}",
            file=where,
        )
    # Both engines write identical lines, so switching engine keeps a run valid;
    # the planned count is checked by the caller (it may grow, never silently
    # shrink).
    ignored = ("episodes", "output", "engine", "description")
    differences = config_differences(
        with_defaults(MatchConfig, manifest["config"]),
        config.model_dump(mode="json"),
        ignored,
    )
    if differences:
        raise UserError(
            "cannot resume: the config differs from the recorded run in "
            f"{describe_differences(differences)}; to continue the recorded run "
            f"as it was, use: {hint} (or start a new run with another --out)",
            file=where,
        )
    if manifest["scenario"]["hash"] != scenario_hash:
        raise UserError(
            "cannot resume: the scenario changed since the run started (scenario "
            f"hash differs); restore {manifest['scenario'].get('path')} to continue "
            "the recorded run, or start a new run with another --out",
            file=where,
        )


BATCH_POLICIES = (
    "random, the time-dependent family, hardliner, tit_for_tat and nash_mediator"
)


def choose_engine(config: MatchConfig, scenario: CompiledScenario) -> str:
    """``env`` or ``batch``: the engine a match config runs on.

    Raises:
        UserError: If ``engine: batch`` is asked for policies without a
            vectorised form.
    """
    if config.engine == "env":
        return "env"
    from peacegame.batch import supports

    if supports(config, scenario):
        return "batch"
    if config.engine == "batch":
        raise UserError(
            f"engine: batch needs every policy to be one of {BATCH_POLICIES}; "
            "use engine: auto or env"
        )
    return "env"


def run_match(
    config: MatchConfig,
    scenario_file: str | Path,
    *,
    config_path: str | None = None,
    run_dir: str | Path | None = None,
    workers: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    fsync: bool = True,
    overrides: list[str] | None = None,
) -> RunResult:
    """Play a configured match into a run folder (see the module docstring).

    With ``resume``, the folder's recorded run continues: ``config`` must equal
    the recorded one but for ``episodes`` and ``engine``. ``config.episodes`` is
    the planned count: larger than the recorded one extends the run, smaller
    lowers it (both with a note on stderr), and fewer than the episodes already
    logged is an error. A run that is complete plays nothing.

    Args:
        config: The effective config (overrides applied).
        scenario_file: Its scenario file.
        config_path: The config file, if any.
        run_dir: The run folder (default: the config's output or
            ``runs/<name>``).
        workers: Local processes (the env engine).
        resume: Continue the run folder.
        overwrite: Replace the run folder.
        progress: Show a progress bar on stderr.
        fsync: fsync the log every :data:`~peacegame.logs.FSYNC_INTERVAL`
            seconds and at the end (turn off only in tests and benchmarks).
        overrides: The ``key=value`` overrides of the config file, recorded in
            the manifest.

    Raises:
        UserError: On a bad folder, a non-resumable folder, conflicting flags
            or bad policies.
    """
    if resume and overwrite:
        raise UserError(RESUME_CONFLICT)
    loaded = load_scenario(resolve_config(scenario_file, "scenarios"))
    scenario = compile_scenario(loaded)
    check_policies_cover_actors(config, scenario.actors, config_path or "<config>")
    player = EpisodePlayer(config, scenario, config_file=config_path)
    engine = choose_engine(config, scenario)
    run_dir = Path(run_dir or config.output or Path("runs") / config.name)
    prepare_folder(run_dir, resume, overwrite)
    episodes_file = run_dir / EPISODES
    records: list[dict[str, Any]] = []
    truncate_to: int | None = None
    old: dict[str, Any] | None = None
    if resume and (run_dir / MANIFEST).exists():
        old = read_manifest(run_dir)
        _check_resumable(run_dir, old, config, scenario.scenario_hash)
    if resume and episodes_file.exists():
        found = read_episodes(episodes_file)
        for w in found.warnings:
            print(f"warning: {w}", file=sys.stderr)
        records = found.records
        ids = [r["episode"] for r in records]
        if ids != list(range(len(ids))):
            raise LogError(
                "episode ids are not 0..n-1 in order; the log was not written by "
                "this runner",
                file=episodes_file,
            )
        truncate_to = found.good_bytes
    planned = config.episodes
    if old is not None:
        recorded = int(old.get("episodes", planned))
        planned, note = resolve_planned(
            recorded,
            planned,
            len(records),
            unit="episodes",
            flag="--episodes ",
            file=episodes_file,
            done_word="logged",
        )
        if note:
            print(f"note: {note}", file=sys.stderr)
    already_complete = old is not None and len(records) >= planned
    manifest = manifest_for(
        config, scenario, config_path, str(scenario_file), overrides, run_dir
    )
    if old is not None:
        manifest["created"] = old.get("created")
        if old.get("scenario", {}).get("file"):
            manifest["scenario"]["file"] = old["scenario"]["file"]
    write_json(run_dir / MANIFEST, manifest)

    start = len(records)
    todo = range(start, planned)
    transcripts = _open_run(player, run_dir, start)
    bar = _progress(progress and bool(todo), planned, start, records)
    stop = StopRequests()
    t0 = time.perf_counter()
    played = 0
    try:
        with stop, EpisodeWriter(episodes_file, truncate_to, fsync=fsync) as out:
            lines = (
                _lines(player, config, str(scenario_file), todo, workers, engine)
                if todo
                else iter(())
            )
            for line in lines:
                out.write_line(line)
                records.append(json.loads(line))
                played += 1
                if bar is not None:
                    bar.update(1)
                    _postfix(bar, records)
                if stop.requested:
                    break
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once
        stop.requested = True
    finally:
        if bar is not None:
            bar.close()
        if transcripts is not None:
            transcripts.close()
    interrupted = stop.requested and played < len(todo)
    seconds = time.perf_counter() - t0
    write_json(run_dir / SUMMARY, summarise(records, scenario))
    return RunResult(
        run_dir,
        records,
        played,
        seconds,
        interrupted,
        planned,
        already_complete,
        scenario,
        player.metrics.solution,
        [list(pair) for pair in loaded.spec.questions.plot_pairs],
    )


def _lines(
    player: EpisodePlayer,
    config: MatchConfig,
    scenario_file: str,
    todo: range,
    workers: int,
    engine: str = "env",
) -> Iterator[str]:
    if engine == "batch":  # one process: the batch engine is vectorised instead
        from peacegame.batch import BatchEngine

        batch = BatchEngine(config, player.scenario, player.metrics)
        size = batch.batch_size
        for start in range(todo.start, todo.stop, size):
            for record in batch.run(range(start, min(start + size, todo.stop))):
                yield dumps_record(record)
        return
    if player.asynchronous:
        yield from _async_lines(player, todo, max(1, workers))
        return
    if workers <= 1 or len(todo) < 2:
        for i in todo:
            yield dumps_record(player.play(i))
        return
    size = max(1, min(256, len(todo) // (workers * 8) or 1))
    ctx = get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(config.model_dump(mode="json"), scenario_file),
    ) as pool:
        try:
            # map() yields chunks in submission order: lines stay in episode order.
            for chunk in pool.map(_worker_chunk, _chunks(todo.start, todo.stop, size)):
                yield from chunk
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _open_run(
    player: EpisodePlayer, run_dir: Path, start: int
) -> TranscriptWriter | None:
    """Tell run-aware policies (``open_run``) their run folder; open transcripts.

    Returns:
        The transcript writer when a policy keeps transcripts, else None.
    """
    writer: TranscriptWriter | None = None
    for policy in player.policies.values():
        open_run = getattr(policy, "open_run", None)
        if callable(open_run):
            open_run(run_dir)
        if writer is None and callable(getattr(policy, "take_transcript", None)):
            writer = TranscriptWriter(run_dir / TRANSCRIPTS, keep_below=start)
    player.transcripts = writer
    player.run_dir = run_dir
    return writer


def _async_lines(player: EpisodePlayer, todo: range, concurrency: int) -> Iterator[str]:
    """Play ``todo`` with up to ``concurrency`` episodes at once on one event loop.

    Each concurrent episode has its own player (env and policies); the lines
    come out in episode order, so the log is the same for any concurrency.
    Requests in flight are bounded by each LLM backend's ``max_in_flight``.
    """
    import asyncio  # here: scripted matches never need an event loop

    players = [player]
    for _ in range(min(concurrency, len(todo)) - 1):
        twin = EpisodePlayer(
            player.config, player.scenario, player.metrics, player.config_file
        )
        if player.run_dir is not None:
            _open_run(twin, player.run_dir, todo.start)
            twin.transcripts = player.transcripts
        players.append(twin)
    loop = asyncio.new_event_loop()
    free = list(reversed(players))
    pending: dict[int, asyncio.Task[dict[str, Any]]] = {}

    async def one(p: EpisodePlayer, episode: int) -> dict[str, Any]:
        try:
            return await p.play_async(episode)
        finally:
            free.append(p)

    upcoming = iter(todo)
    try:
        for episode in todo:
            for i in upcoming:
                pending[i] = loop.create_task(one(free.pop(), i))
                if not free:
                    break
            record = loop.run_until_complete(pending.pop(episode))
            yield dumps_record(record)
    finally:
        for task in pending.values():
            task.cancel()
        if pending:
            loop.run_until_complete(
                asyncio.gather(*pending.values(), return_exceptions=True)
            )
        loop.close()


def _progress(enabled: bool, total: int, done: int, records: list[dict[str, Any]]):
    if not enabled:
        return None
    from tqdm import tqdm

    class Bar(tqdm):
        """A bar without tqdm's monitor thread (``monitor_interval = 0``).

        The monitor only refreshes bars whose dynamic ``miniters`` hold back a
        slow stretch; with ``miniters=1`` every update may refresh (at most
        every ``mininterval``). No thread outlives the bar, so the plots can
        be rendered in a forked process (:func:`peacegame.analysis.plots.render_jobs`).
        """

        monitor_interval = 0

    bar = Bar(
        total=total,
        initial=done,
        unit="ep",
        dynamic_ncols=True,
        file=sys.stderr,
        mininterval=0.2,
        miniters=1,
    )
    if records:
        _postfix(bar, records)
    return bar


def _postfix(bar: Any, records: list[dict[str, Any]]) -> None:
    agreed = sum(1 for r in records if r["agreement"])
    bar.set_postfix_str(f"agreement {agreed / len(records):.0%}", refresh=False)


# --------------------------------------------------------------------------- #
# Summary (plain Python; the analysis extra gives the full one with CIs).
# --------------------------------------------------------------------------- #


def summarise(
    records: list[dict[str, Any]], scenario: CompiledScenario
) -> dict[str, Any]:
    """Agreement rate, mean rounds played, utility and reward per actor, top outcomes.

    ``mean_rounds`` and ``mean_rounds_to_agreement`` are means of the log's
    ``rounds``, a count (the last round + 1), not round numbers.
    """
    n = len(records)
    agreed = [r for r in records if r["agreement"]]
    actors = list(scenario.actors)
    top = Counter(r["outcome"] for r in agreed).most_common(5)

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 6) if values else None

    return {
        "episodes": n,
        "agreements": len(agreed),
        "agreement_rate": round(len(agreed) / n, 6) if n else None,
        "mean_rounds": mean([r["rounds"] for r in records]),
        "mean_rounds_to_agreement": mean([r["rounds"] for r in agreed]),
        "mean_reward": {a: mean([r["reward"][a] for r in records]) for a in actors},
        "mean_utility_agreed": {
            a: mean([r["utility"][a] for r in agreed]) for a in actors
        },
        "share_in_zone": mean([1.0 if r["in_zone"] else 0.0 for r in agreed]),
        "top_outcomes": [
            {"outcome": k, "count": c, "decoded": scenario.decode(k)} for k, c in top
        ],
        "end_reasons": dict(Counter(r["end"] for r in records)),
    }


def summary_text(summary: dict[str, Any], actors: list[str]) -> str:
    """The summary printed at the end of ``peacegame run``."""
    n = summary["episodes"]
    rate = summary["agreement_rate"]
    lines = [
        f"episodes: {n}   agreements: {summary['agreements']} "
        f"({0 if rate is None else rate:.1%})   mean rounds played: "
        f"{summary['mean_rounds'] or 0:.2f} (to agreement: "
        f"{summary['mean_rounds_to_agreement'] or 0:.2f})",
        f"ends: {', '.join(f'{k} {v}' for k, v in summary['end_reasons'].items())}",
        "",
        f"{'actor':<10}{'mean reward':>12}{'mean utility (agreed)':>23}",
    ]
    for a in actors:
        u = summary["mean_utility_agreed"][a]
        r = summary["mean_reward"][a]
        lines.append(
            f"{a:<10}{'-' if r is None else f'{r:.3f}':>12}"
            f"{'-' if u is None else f'{u:.3f}':>23}"
        )
    if summary["top_outcomes"]:
        lines += ["", "most frequent agreed outcomes:"]
        for item in summary["top_outcomes"]:
            decoded = ", ".join(f"{k}={v}" for k, v in item["decoded"].items())
            lines.append(f"  {item['count']:>5}x  {decoded}")
    return "\n".join(lines)


def run_config_file(
    path: str | Path | None,
    overrides: list[str] | None = None,
    **kwargs: Any,
) -> RunResult:
    """Load a match config file (with ``--set`` overrides) and run it.

    With ``resume=True`` and a run folder that has a manifest, the recorded run
    continues: without ``path`` its effective config is read from the manifest;
    with ``path`` the file is read with the recorded overrides first, so no flag
    of the first command needs repeating. ``overrides`` given now apply on top;
    the planned count stays the recorded one unless ``episodes=`` is among them.

    Args:
        path: The match config file or shipped name; None to resume the run in
            ``run_dir`` from its manifest.
        overrides: ``key=value`` overrides (``--set``, ``--episodes``...).
        **kwargs: Passed to :func:`run_match` (``run_dir``, ``resume``...).

    Raises:
        UserError: On a bad config, a missing run folder to resume, or any
            error of :func:`run_match`.
    """
    new = list(overrides or [])
    resume = bool(kwargs.get("resume"))
    if resume and kwargs.get("overwrite"):
        raise UserError(RESUME_CONFLICT)
    run_dir = kwargs.pop("run_dir", None)
    config: MatchConfig | None = None
    scenario_file: Path | None = None
    if path is None:
        if not resume:
            raise UserError(
                "no match config given; name one (file or shipped name), or pass "
                "--resume --out RUN_FOLDER to continue a run"
            )
        if run_dir is None:
            raise UserError(
                "--resume without a config needs --out RUN_FOLDER: the run "
                "folder to continue"
            )
    else:
        config, scenario_file = load_match_config(path, new)
        run_dir = run_dir or config.output or Path("runs") / config.name
    run_dir = Path(run_dir)
    config_path = None if path is None else str(path)
    applied = new
    if resume and (run_dir / MANIFEST).exists():
        manifest = read_manifest(run_dir)
        applied = merge_overrides(list(manifest.get("overrides") or []), new)
        if path is None:
            config_path = manifest.get("config_path")
            config, scenario_file = _recorded_config(run_dir, manifest, new)
        else:
            config, scenario_file = load_match_config(path, applied)
        if "episodes" not in {override_key(o) for o in new}:
            recorded = int(manifest.get("episodes", config.episodes))
            config = config.model_copy(update={"episodes": recorded})
    elif path is None:
        raise UserError(
            "nothing to resume: no manifest.json in the run folder; start the run "
            "with: peacegame run CONFIG --out " + shlex.quote(str(run_dir)),
            file=run_dir,
        )
    assert config is not None and scenario_file is not None
    return run_match(
        config,
        scenario_file,
        config_path=config_path,
        run_dir=run_dir,
        overrides=applied,
        **kwargs,
    )


def _recorded_config(
    run_dir: Path, manifest: dict[str, Any], overrides: list[str]
) -> tuple[MatchConfig, Path]:
    """The effective config recorded in a manifest, ``overrides`` applied on top.

    Raises:
        UserError: If the recorded config does not validate or its scenario
            file is gone.
    """
    where = run_dir / MANIFEST
    # ``config_given`` is the effective config without unset defaults: it
    # validates again whatever a model's "only if given" rules are.
    data = manifest.get("config_given", manifest.get("config"))
    if not isinstance(data, dict):
        raise LogError("no recorded config; expected a match run folder", file=where)
    for assignment in overrides:
        data = apply_override(data, assignment)
    config = validate(MatchConfig, data, file=where)
    recorded = manifest.get("scenario") or {}
    for candidate in (recorded.get("file"), recorded.get("path")):
        if candidate and Path(candidate).is_file():
            return config, Path(candidate)
    raise UserError(
        f"cannot resume: the run's scenario file {recorded.get('path')!r} is gone; "
        "restore it, or resume with the config file: peacegame run CONFIG --resume "
        "--out " + shlex.quote(str(run_dir)),
        file=where,
    )


__all__ = [
    "EpisodePlayer",
    "OutcomeMetrics",
    "RunResult",
    "episode_seed",
    "run_config_file",
    "run_match",
    "summarise",
    "summary_text",
]
