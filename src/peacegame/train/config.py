"""Train configs (``configs/train/*.yaml``) and sweep configs, validated by pydantic.

A train config names a match config (the scenario, the protocol and every
actor's policy), a trainer and its hyper-parameters. The ``trainer`` key picks
the model:

* ``maskable_ppo`` (default): one learner actor against the match's other
  policies, SB3 + sb3-contrib :class:`MaskablePPO` (:class:`MaskablePPOConfig`);
* ``self_play``: iterated best response: each listed actor in turn trains
  against frozen snapshots of the others (:class:`SelfPlayConfig`);
* ``rllib``: every listed actor trains at once, one RL module each, with RLlib
  PPO; the others play their match policy (:class:`RllibConfig`);
* ``marl``: every actor trains at once on one machine, B kernel slots per call,
  TorchRL PPO (:class:`MarlConfig`, :mod:`peacegame.train.marl`); the match
  config gives the scenario and the protocol (``actions:`` included);
* ``psro``: PSRO (Lanctot et al., 2017): per actor a population, each
  generation a MaskablePPO best response to the others' meta-Nash mixture,
  and NashConv (:class:`PsroConfig`, :mod:`peacegame.train.psro`).

A sweep config (:class:`SweepConfig`) maps dotted fields of a train config to
search spaces for Ray Tune.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacegame.errors import ConfigError, UserError
from peacegame.match_config import MatchConfig, apply_override, load_match_config
from peacegame.resources import resolve_config
from peacegame.yamlio import read_yaml, validate

NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SB3PPOParams(_Strict):
    """MaskablePPO hyper-parameters (SB3 names; see the SB3 PPO docs).

    Attributes:
        learning_rate: Adam step size.
        n_steps: Steps per env per rollout (the rollout is ``n_steps * n_envs``).
        batch_size: Minibatch size.
        n_epochs: Passes over each rollout.
        gamma: Discount of the RL objective. The game's own per-round discount
            is already in the reward, so 1.0 optimises the reward itself.
        gae_lambda: GAE lambda.
        clip_range: PPO clip range.
        ent_coef: Entropy bonus.
        vf_coef: Value loss weight.
        max_grad_norm: Gradient clipping.
        net_arch: Hidden layer sizes of the policy and value networks.
        normalize_advantage: Normalise advantages per minibatch.
        target_kl: Early-stop an update past this KL (None: never).
    """

    learning_rate: float = Field(default=3e-4, gt=0)
    n_steps: int = Field(default=256, ge=2)
    batch_size: int = Field(default=256, ge=2)
    n_epochs: int = Field(default=5, ge=1)
    gamma: float = Field(default=1.0, ge=0, le=1)
    gae_lambda: float = Field(default=0.95, ge=0, le=1)
    clip_range: float = Field(default=0.2, gt=0)
    ent_coef: float = Field(default=0.01, ge=0)
    vf_coef: float = Field(default=0.5, ge=0)
    max_grad_norm: float = Field(default=0.5, gt=0)
    net_arch: list[int] = Field(default_factory=lambda: [64, 64], min_length=1)
    normalize_advantage: bool = True
    target_kl: float | None = Field(default=None, gt=0)


class _TrainBase(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    match: str = Field(
        default="baseline",
        description="match config: a file relative to this one, or a shipped name",
    )
    seed: int = Field(default=0, ge=0, lt=2**31)
    output: str | None = Field(
        default=None, description="run folder; default runs/train/<name>"
    )

    def run_dir(self) -> Path:
        """The run folder (``output`` or ``runs/train/<name>``)."""
        return Path(self.output or Path("runs") / "train" / self.name)


class _SB3Base(_TrainBase):
    n_envs: int = Field(default=4, ge=1, le=256)
    vec_env: Literal["dummy", "subproc"] = "dummy"
    torch_threads: int = Field(default=1, ge=1)
    ppo: SB3PPOParams = Field(default_factory=SB3PPOParams)


class MaskablePPOConfig(_SB3Base):
    """One learner against the match's other policies (MaskablePPO).

    Attributes:
        learner: The actor that learns; every other actor plays its policy from
            the match config.
        total_timesteps: Learner decisions to train for.
        n_envs: Parallel envs (SB3 vec env).
        vec_env: ``dummy`` (one process) or ``subproc`` (one process per env).
        checkpoint_every: Save a checkpoint every this many timesteps.
        torch_threads: ``torch.set_num_threads``.
        ppo: Hyper-parameters.
    """

    trainer: Literal["maskable_ppo"] = "maskable_ppo"
    learner: str
    total_timesteps: int = Field(ge=1)
    checkpoint_every: int = Field(default=20_000, ge=1)


class SelfPlayConfig(_SB3Base):
    """Iterated best response with SB3: each actor in turn, others frozen.

    Attributes:
        actors: Who learns, in training order (default: every actor in the
            scenario's order). The others keep their match policy throughout.
        rounds: Passes over ``actors``.
        timesteps_per_turn: Timesteps of one actor's turn.
        warm_start: Continue from the actor's previous snapshot (else start
            each turn from scratch).
        eval_episodes: Held-out episodes to score each snapshot against the
            opponents it was trained against (0: skip).
    """

    trainer: Literal["self_play"]
    actors: list[str] | None = Field(default=None, min_length=1)
    rounds: int = Field(default=2, ge=1)
    timesteps_per_turn: int = Field(ge=1)
    warm_start: bool = True
    eval_episodes: int = Field(default=200, ge=0)


class RllibPPOParams(_Strict):
    """RLlib PPO hyper-parameters (RLlib names).

    Attributes:
        lr: Learning rate.
        gamma: Discount of the RL objective (1.0: the reward itself).
        gae_lambda: GAE lambda (RLlib's ``lambda_``).
        clip_param: PPO clip.
        entropy_coeff: Entropy bonus.
        vf_loss_coeff: Value loss weight.
        vf_clip_param: Value clip (rewards lie in [-1, 1]).
        train_batch_size: Env steps per iteration (per learner).
        minibatch_size: SGD minibatch size.
        num_epochs: Passes over each batch.
        hidden: Hidden layer sizes (RLlib's ``fcnet_hiddens``).
    """

    lr: float = Field(default=3e-4, gt=0)
    gamma: float = Field(default=1.0, ge=0, le=1)
    gae_lambda: float = Field(default=0.95, ge=0, le=1)
    clip_param: float = Field(default=0.2, gt=0)
    entropy_coeff: float = Field(default=0.01, ge=0)
    vf_loss_coeff: float = Field(default=0.5, ge=0)
    vf_clip_param: float = Field(default=10.0, gt=0)
    train_batch_size: int = Field(default=2000, ge=1)
    minibatch_size: int = Field(default=256, ge=1)
    num_epochs: int = Field(default=5, ge=1)
    hidden: list[int] = Field(default_factory=lambda: [64, 64], min_length=1)


class RllibConfig(_TrainBase):
    """All listed actors at once: RLlib PPO, one RL module per actor.

    Attributes:
        trainable: The actors whose modules learn (``policies_to_train``);
            default every actor. The others play their match policy through a
            non-trainable module.
        iterations: ``Algorithm.train()`` calls.
        num_env_runners: Remote env runners (0: sample in the driver).
        envs_per_runner: Envs per env runner.
        rollout_fragment_length: Env steps per ``sample()`` call of an env
            runner. Kept small: RLlib 2.60 re-converts every episode finished
            within one call at each step, which is quadratic in the number of
            (short) episodes per call.
        sample_timeout_s: How long the driver waits for a runner's samples.
        checkpoint_every: Save a checkpoint every this many iterations (and
            after the last).
        ppo: Hyper-parameters.
    """

    trainer: Literal["rllib"]
    trainable: list[str] | None = Field(default=None, min_length=1)
    iterations: int = Field(ge=1)
    num_env_runners: int = Field(default=1, ge=0)
    envs_per_runner: int = Field(default=1, ge=1)
    rollout_fragment_length: int = Field(default=200, ge=1)
    sample_timeout_s: float = Field(default=600.0, gt=0)
    checkpoint_every: int = Field(default=10, ge=1)
    ppo: RllibPPOParams = Field(default_factory=RllibPPOParams)


class MarlPPOParams(_Strict):
    """Hyper-parameters of the kernel + TorchRL trainer (``trainer: marl``).

    Attributes:
        epochs: PPO passes over a rollout.
        minibatch: Minibatch size (decisions).
        learning_rate: Adam step size.
        clip: PPO clip epsilon.
        entropy: Entropy bonus.
        gamma: RL discount (the game's discount is already in the payoff).
        lmbda: GAE lambda.
        hidden: Hidden layer width (two layers).
        anneal_until: Lower the learning rate linearly, iteration by
            iteration, to 0 at this iteration (CleanRL's ``anneal_lr``; a
            function of the iteration alone, so a resume goes on exactly);
            0: constant.
        anneal_entropy: Lower the entropy bonus on the same schedule (needs
            ``anneal_until``).
    """

    epochs: int = Field(default=4, ge=1)
    minibatch: int = Field(default=4096, ge=1)
    learning_rate: float = Field(default=3e-4, gt=0)
    clip: float = Field(default=0.2, gt=0)
    entropy: float = Field(default=0.01, ge=0)
    gamma: float = Field(default=1.0, ge=0, le=1)
    lmbda: float = Field(default=0.95, ge=0, le=1)
    hidden: int = Field(default=64, ge=1)
    anneal_until: int = Field(default=0, ge=0)
    anneal_entropy: bool = False

    @model_validator(mode="after")
    def _anneal(self) -> MarlPPOParams:
        if self.anneal_entropy and not self.anneal_until:
            raise ValueError(
                "anneal_entropy lowers the entropy bonus on the anneal_until "
                "schedule; set anneal_until to the iteration where it reaches 0"
            )
        return self


class MarlOpponents(_Strict):
    """Scripted opponents in a share of the ``marl`` trainer's slots.

    The opponent slots are split into ``groups`` opponent assignments. In
    each, one role is the focal learner (group ``g``: role ``g mod n``) and
    every other role is drawn uniformly from the ``pool`` and the learner of
    that role, as a ``role_rotation`` tournament draws its opponents with the
    learned policy among the competitors. The draws come from the run's seed
    (and the redraw count), so a resumed run draws the same.

    Attributes:
        share: Share of the ``num_envs`` slots that play against the pool.
        pool: Built-in scripted strategies, as policy specs in matches and
            tournaments (``{policy: boulware, e: 0.2}`` or ``linear``).
        groups: Opponent assignments in play at once.
        redraw_every: Draw new assignments every this many iterations (their
            slots start new episodes); 0 keeps the first draw.
    """

    share: float = Field(gt=0.0, le=1.0)
    pool: list[Any] = Field(min_length=1)
    groups: int = Field(default=10, ge=1)
    redraw_every: int = Field(default=0, ge=0)


class MarlPastSelves(_Strict):
    """Fictitious self-play in a share of the ``marl`` trainer's slots.

    In each of those slots one actor, drawn per episode, plays its learner and
    learns; every other actor is played by one of its own past policy
    networks, drawn among its newest ``keep`` snapshots (one is taken at the
    start and one every ``every`` iterations): uniformly, or (``weights:
    nash``) by the meta-Nash mixture of the snapshots' empirical game, solved
    at every snapshot, PSRO's way (Lanctot et al., 2017; each solve reports
    the previous mixture's NashConv in ``progress.jsonl``'s
    ``extra.past_game``). The draws come from the run's seed and the episode
    ids, so a resumed run draws the same.

    Attributes:
        share: Share of the ``num_envs`` slots.
        every: Snapshot every this many iterations.
        keep: Draw among each actor's newest this many snapshots.
        weights: ``uniform`` or ``nash``.
        games: ``nash``: episodes per profile of snapshots in the meta-game
            (``(keep + 1) ** n_actors`` profiles at most).
    """

    share: float = Field(gt=0.0, le=1.0)
    every: int = Field(default=5, ge=1)
    keep: int = Field(default=8, ge=1)
    weights: Literal["uniform", "nash"] = "uniform"
    games: int = Field(default=32, ge=1)


class MarlConfig(_TrainBase):
    """Every actor at once on one machine: kernel slots + TorchRL PPO.

    Attributes:
        iterations: Rollout-and-update iterations.
        num_envs: Kernel slots stepped per call (B).
        rollout_steps: Calls per rollout.
        eval_every: Held-out evaluation every this many iterations (0: never).
        exploring_starts: Share of training episodes started in a uniformly
            drawn round (every subgame visited); evaluations start in round 0.
        exploring_curriculum: Backward curriculum over this many training
            episodes: the first start in the last rounds, then ever earlier
            (:func:`peacegame.engine.rules.backward_curriculum`); 0: none.
        exploring_offers: Share of training episodes started at their round's
            vote step with a uniformly drawn outcome proposed (the voters
            meet offers the proposers' play avoids).
        exploring_proposer: Who proposes first in an exploring start (a
            moved round or an offer start): ``protocol`` (that round's
            proposer under the protocol) or ``uniform`` (an actor drawn
            uniformly, so rarely recognised proposers get as many proposal
            samples as the others; needs ``exploring_starts`` or
            ``exploring_offers`` above 0).
        exploring_drafts: ``issues`` actions only: share of training
            episodes whose first proposal starts part-drafted, its first
            levels those of a uniformly drawn outcome (the proposer learns
            what to choose after first levels its own play avoids;
            :func:`peacegame.engine.actions.exploring_drafts`).
        accepting_voters: For the first this many iterations every vote in
            training is ACCEPT (not sampled, not learned from): the proposers
            first learn the game in which voters take anything, then the
            voters learn their thresholds from there, which selects the
            grid's equilibrium next to Baron-Ferejohn's prediction
            (docs/training.md, "Theory"); 0: none.
        start_round_units: Learn from each episode's payoffs in units of the
            round it started in (:func:`peacegame.engine.rules.
            start_round_units`): late starts weigh as much as early ones.
        average_from: Evaluate and export each policy network's weights
            averaged (equal weights, ``torch.optim.swa_utils.AveragedModel``)
            over the iterations from this one to the last; 0: the last
            iteration's weights.
        opponents: Scripted opponents in a share of the slots (default none:
            every actor of every slot learns, by self-play).
        past_selves: Fictitious self-play in a share of the slots: one actor
            learns against the others' past policies (default none).
        ppo: Hyper-parameters.
    """

    trainer: Literal["marl"]
    iterations: int = Field(ge=1)
    num_envs: int = Field(default=1024, ge=1, le=65536)
    rollout_steps: int = Field(default=16, ge=1)
    eval_every: int = Field(default=10, ge=0)
    exploring_starts: float = Field(default=0.0, ge=0.0, le=1.0)
    exploring_curriculum: int = Field(default=0, ge=0)
    exploring_offers: float = Field(default=0.0, ge=0.0, le=1.0)
    exploring_proposer: Literal["protocol", "uniform"] = "protocol"
    exploring_drafts: float = Field(default=0.0, ge=0.0, le=1.0)
    accepting_voters: int = Field(default=0, ge=0)
    start_round_units: bool = False
    average_from: int = Field(default=0, ge=0)
    opponents: MarlOpponents | None = None
    past_selves: MarlPastSelves | None = None
    ppo: MarlPPOParams = Field(default_factory=MarlPPOParams)

    @model_validator(mode="after")
    def _consistent(self) -> MarlConfig:
        if self.exploring_proposer == "uniform" and not (
            self.exploring_starts > 0.0 or self.exploring_offers > 0.0
        ):
            raise ValueError(
                "exploring_proposer: uniform draws the proposer of the exploring "
                "starts; set exploring_starts or exploring_offers above 0"
            )
        if self.past_selves is not None and self.opponents is not None:
            raise ValueError(
                "past_selves and opponents both take a share of the slots; "
                "use one of them"
            )
        if self.average_from > self.iterations:
            raise ValueError(
                f"average_from {self.average_from} is after the last iteration "
                f"({self.iterations}): nothing would be averaged"
            )
        return self


class PsroConfig(_SB3Base):
    """PSRO with NashConv: populations, meta-Nash, SB3 best responses.

    Every actor of the match gets a population, started from its match policy
    (:mod:`peacegame.train.psro`).

    Attributes:
        match_overrides: ``dotted.key=value`` overrides of the match config, as
            ``peacegame run --set`` (for example ``protocol.max_rounds=10``).
        generations: Generations (each adds one best response per actor; the
            meta-game after the last is solved, not extended).
        timesteps_per_response: MaskablePPO timesteps of one best response.
        episodes_per_profile: Episodes played per profile of the meta-game
            (the same seeds for every profile).
        n_envs: Parallel envs of a best response's training.
        ppo: Hyper-parameters of the best responses.
    """

    trainer: Literal["psro"]
    match_overrides: list[str] = Field(default_factory=list)
    generations: int = Field(default=4, ge=1)
    timesteps_per_response: int = Field(ge=1)
    episodes_per_profile: int = Field(default=100, ge=1)


TrainConfig = MaskablePPOConfig | SelfPlayConfig | RllibConfig | MarlConfig | PsroConfig
"""Any train config."""

TRAINERS: dict[str, type[_TrainBase]] = {
    "maskable_ppo": MaskablePPOConfig,
    "self_play": SelfPlayConfig,
    "rllib": RllibConfig,
    "marl": MarlConfig,
    "psro": PsroConfig,
}
"""Train config model by ``trainer`` value."""


class SearchSpace(_Strict):
    """One parameter's search space: exactly one of the fields.

    Attributes:
        choice: Sample uniformly from these values.
        grid: Try every value (a grid search axis).
        uniform: ``[low, high]``, uniform.
        loguniform: ``[low, high]``, log-uniform (both > 0).
        randint: ``[low, high)``, uniform integers.
    """

    choice: list[Any] | None = Field(default=None, min_length=1)
    grid: list[Any] | None = Field(default=None, min_length=1)
    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    randint: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SearchSpace:
        given = [k for k, v in self.model_dump().items() if v is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one of choice, grid, uniform, loguniform, randint"
            )
        bounds = self.uniform or self.loguniform or self.randint
        if bounds is not None and not bounds[0] < bounds[1]:
            raise ValueError(f"expected [low, high] with low < high, got {bounds}")
        if self.loguniform is not None and self.loguniform[0] <= 0:
            raise ValueError("loguniform bounds must be > 0")
        return self


class SweepConfig(_Strict):
    """A Ray Tune sweep over fields of a train config.

    Attributes:
        name: Sweep name; results go to ``<train run folder>/sweep-<name>``.
        param_space: Dotted train-config field (``ppo.learning_rate``) ->
            search space.
        num_samples: Samples of the space (each grid point this many times).
        metric: Reported metric to rank trials by: ``reward`` (mean episode
            reward of the learners over the last report).
        mode: ``max`` or ``min``.
        max_concurrent_trials: Trials at once (default: Tune's, bounded by CPUs).
        cpus_per_trial: CPUs Tune reserves per trial.
    """

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    param_space: dict[str, SearchSpace] = Field(min_length=1)
    num_samples: int = Field(default=1, ge=1)
    metric: Literal["reward"] = "reward"
    mode: Literal["max", "min"] = "max"
    max_concurrent_trials: int | None = Field(default=None, ge=1)
    cpus_per_trial: float = Field(default=1.0, gt=0)


def parse_train_config(data: Any, file: str | Path) -> TrainConfig:
    """Validate train config data (the ``trainer`` key picks the model).

    Raises:
        ConfigError: Naming the file, the field and what was expected.
    """
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of train config fields", file=file)
    trainer = data.get("trainer", "maskable_ppo")
    model = TRAINERS.get(trainer) if isinstance(trainer, str) else None
    if model is None:
        raise ConfigError(
            f"unknown trainer {trainer!r}; expected one of {sorted(TRAINERS)}",
            file=file,
            field="trainer",
        )
    return validate(model, data, file=file)  # type: ignore[return-value]


def load_train_config(
    path: str | Path, overrides: list[str] | None = None
) -> tuple[TrainConfig, Path]:
    """Read, override (``--set a.b=value``) and validate a train config.

    Args:
        path: A file, or the name of a shipped config under ``configs/train``.
        overrides: ``dotted.key=value`` assignments (values parsed as YAML).

    Returns:
        The config and the resolved file path.
    """
    file = resolve_config(str(path), "train")
    data = read_yaml(file)
    if not isinstance(data, dict):
        raise ConfigError("expected a mapping of train config fields", file=file)
    for assignment in overrides or []:
        data = apply_override(data, assignment)
    return parse_train_config(data, file), file


def match_path(config: TrainConfig, config_file: Path | None) -> Path:
    """Resolve the train config's ``match``: relative to its file, or shipped."""
    if config_file is not None:
        relative = config_file.parent / config.match
        if relative.is_file():
            return relative
    try:
        return resolve_config(config.match, "matches")
    except UserError:
        raise ConfigError(
            f"no match config {config.match!r} (looked next to this file and "
            "among the shipped matches)",
            file=config_file,
            field="match",
        ) from None


def load_match(
    config: TrainConfig, config_file: Path | None
) -> tuple[MatchConfig, Path, Path]:
    """Load the match a train config names (with its ``match_overrides``, if any).

    Returns:
        The match config, its file and its scenario file.
    """
    file = match_path(config, config_file)
    overrides = config.match_overrides if isinstance(config, PsroConfig) else None
    match, scenario_file = load_match_config(file, overrides)
    return match, file, scenario_file


def check_actors(
    names: list[str], actors: tuple[str, ...], *, file: Path | None, field: str
) -> None:
    """Every name must be one of the scenario's actors, without repeats.

    Raises:
        ConfigError: Naming the unknown or repeated actor.
    """
    from peacegame.errors import suggest

    seen: set[str] = set()
    for i, name in enumerate(names):
        where = field if len(names) == 1 and field == "learner" else f"{field}[{i}]"
        if name not in actors:
            raise ConfigError(
                f"unknown actor {name!r}{suggest(name, actors)}; the scenario's "
                f"actors are {list(actors)}",
                file=file,
                field=where,
            )
        if name in seen:
            raise ConfigError(f"actor {name!r} is listed twice", file=file, field=where)
        seen.add(name)


def load_sweep_config(path: str | Path) -> tuple[SweepConfig, Path]:
    """Read and validate a sweep config (a file or a shipped name)."""
    file = resolve_config(str(path), "train")
    return validate(SweepConfig, read_yaml(file), file=file), file


def with_overrides(config: TrainConfig, values: dict[str, Any]) -> TrainConfig:
    """Return ``config`` with dotted fields replaced (re-validated).

    Raises:
        ConfigError: If a key is not a field or a value does not validate.
    """
    data = config.model_dump(mode="json")
    for key, value in values.items():
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"no field {key!r} in the train config", field=key)
            node = node[part]
        if parts[-1] not in node:
            raise ConfigError(f"no field {key!r} in the train config", field=key)
        node[parts[-1]] = value
    return parse_train_config(data, "<sweep>")


def describe_file(path: Path) -> str:
    """Validate a train or sweep config file; return a one-line description.

    For ``peacegame validate``: a file with ``param_space`` is a sweep config,
    any other a train config (its match config and actors are checked too).

    Raises:
        ConfigError: If the file does not validate.
    """
    data = read_yaml(path)
    if isinstance(data, dict) and "param_space" in data:
        sweep = validate(SweepConfig, data, file=path)
        return f"sweep {sweep.name!r}: {len(sweep.param_space)} parameters"
    config = parse_train_config(data, path)
    match, match_file, scenario_file = load_match(config, path)
    from peacegame.match_config import check_policies_cover_actors
    from peacegame.scenario import load_compiled

    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(match, scenario.actors, match_file)
    if isinstance(config, MaskablePPOConfig):
        check_actors([config.learner], scenario.actors, file=path, field="learner")
        who = f"learner {config.learner!r}"
    elif isinstance(config, SelfPlayConfig):
        actors = list(config.actors or scenario.actors)
        check_actors(actors, scenario.actors, file=path, field="actors")
        who = f"actors {actors}"
    elif isinstance(config, MarlConfig):
        who = f"every actor ({match.protocol.actions} actions)"
    elif isinstance(config, PsroConfig):
        who = f"a population per actor {list(scenario.actors)}"
    else:
        actors = list(config.trainable or scenario.actors)
        check_actors(actors, scenario.actors, file=path, field="trainable")
        who = f"trainable {actors}"
    return f"train {config.name!r} ({config.trainer}): match {match.name!r}, {who}"


__all__ = [
    "TRAINERS",
    "MarlConfig",
    "MarlPPOParams",
    "MaskablePPOConfig",
    "PsroConfig",
    "RllibConfig",
    "RllibPPOParams",
    "SB3PPOParams",
    "SearchSpace",
    "SelfPlayConfig",
    "SweepConfig",
    "TrainConfig",
    "check_actors",
    "describe_file",
    "load_match",
    "load_sweep_config",
    "load_train_config",
    "match_path",
    "parse_train_config",
    "with_overrides",
]
