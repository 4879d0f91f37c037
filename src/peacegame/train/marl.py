"""Every actor learning at once on one machine: B kernel episodes, TorchRL PPO.

Reads top to bottom, like a CleanRL script, but the pieces are libraries':

* **Environment**: B slots of :class:`peacegame.engine.Episodes`, every actor
  external. One call of :func:`peacegame.engine.vector.step_all` applies the
  movers' actions in every slot (the proposer's, or every voter's at once, as
  the parallel env) and :func:`~peacegame.engine.vector.observe_all` encodes
  every actor's observation and interface mask; ended slots restart with the
  next episode seed. Actions go through the protocol's action interface
  (:mod:`peacegame.engine.actions`; ``utility`` is the one that scales).
* **Learning**: one policy and one value network per actor. Advantages come
  from TorchRL's ``vec_generalized_advantage_estimate`` over each actor's own
  sequence of decisions in each slot (the reward, the payoff, arrives at the
  actor's last decision of the episode); the update is TorchRL's
  ``ClipPPOLoss`` with a ``ProbabilisticActor`` over ``MaskedCategorical``
  (masked actions have probability 0). Nothing of PPO is written here.
* **Opponents** (optional): scripted strategies in a share of the slots
  (``opponents``), or the actors' own past policy networks (``past_selves``,
  fictitious self-play: one learner per such slot and episode, the others'
  snapshots sampling their moves, outside every batch).

Why TorchRL and not RLlib on one machine: measured on 2 cores (see
docs/training.md), RLlib's multi-agent env runners step one Python env per
episode, about 160 env steps/s with five learners, while this loop steps the
compiled kernel for all slots per call. RLlib stays the cluster path
(``trainer: rllib``, ``RAY_ADDRESS``).

**Checkpoints and resume.** After every iteration the run folder's
``marl.pt`` (networks, optimisers, counters, the episode counter) is replaced
atomically (written to ``marl.pt.tmp``, then ``os.replace``), so a run killed
at any moment resumes from its last whole iteration with the same seeds and
the episodes in flight (the slots' arrays are in ``marl.pt``), so a resumed run
equals an uninterrupted one. ``progress.jsonl`` lines past the checkpoint (a
kill between the line and ``marl.pt``) are dropped on resume, with a note, and
written again.
``marl.pt`` is a ``torch.save`` file: loading it unpickles, so load only runs
you trust (``torch.load(..., weights_only=True)`` is used here: tensors and
plain containers only).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule
from torch import nn
from torch.optim.swa_utils import AveragedModel
from torchrl.modules import MaskedCategorical, ProbabilisticActor, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value.functional import vec_generalized_advantage_estimate

from peacegame.engine import Episodes, ProtocolConfig, Rules, episode_seeds
from peacegame.engine.actions import exploring_drafts
from peacegame.engine.config import AGREEMENT, ENDED
from peacegame.engine.rules import (
    C_END,
    C_OFFER,
    C_PHASE,
    G_INTS,
    I_ROUNDS,
    backward_curriculum,
    exploring_starts,
    start_round_units,
)
from peacegame.engine.strategies import Strategy
from peacegame.engine.tables import nash_of
from peacegame.engine.vector import advance, observe_all, step_all_in
from peacegame.errors import UserError
from peacegame.policies.learned import policy_network, write_metadata
from peacegame.scenario.compiled import CompiledScenario
from peacegame.solutions import zone_of_agreement
from peacegame.tournament.game import meta_nash


@dataclass
class MarlSettings:
    """Hyper-parameters of :class:`MultiAgentTrainer`.

    Attributes:
        num_envs: Slots B stepped per call.
        rollout_steps: Calls per rollout (T); a rollout is about
            ``B * T * 2.5`` decisions on the default scenario.
        epochs: PPO passes over a rollout.
        minibatch: Minibatch size (decisions).
        learning_rate: Adam step size.
        clip: PPO clip epsilon.
        entropy: Entropy bonus.
        gamma: RL discount (the game's discount is already in the payoff).
        lmbda: GAE lambda.
        hidden: Hidden layer width (two layers).
        seed: Base seed of the episode seeds and of torch.
        exploring_starts: Share of training episodes that start in a
            uniformly drawn round instead of round 0
            (:func:`peacegame.engine.rules.exploring_starts`); held-out
            evaluations always start in round 0.
        exploring_curriculum: Backward curriculum of the exploring starts
            over this many training episodes
            (:func:`peacegame.engine.rules.backward_curriculum`: the first
            episodes start in the last rounds, then ever earlier); 0: none.
        exploring_offers: Share of training episodes that start at their
            round's vote step with an outcome drawn uniformly on the table
            (:func:`peacegame.engine.rules.exploring_starts`).
        exploring_drafts: ``issues`` actions: share of training episodes
            whose first proposal (by a learner or past self) starts
            part-drafted, its first levels those of a uniformly drawn outcome
            (:func:`peacegame.engine.actions.exploring_drafts`).
        accepting_voters: For the first this many iterations every vote in
            training is ACCEPT, neither sampled nor learned from: the
            proposers first learn the game in which voters take anything,
            so the voters' continuations start from what greedy proposers
            leave them instead of from random play's (an equilibrium
            selection device; docs/training.md, "Theory"). Evaluations and
            the past selves' meta-game play the policies as they are.
        exploring_proposer: ``uniform``: an exploring start's first proposer
            is drawn uniformly among the actors; ``protocol``: the protocol's
            (:func:`peacegame.engine.rules.exploring_starts`).
        average_from: From this iteration on, keep the equal-weight average
            of each policy network's weights after every iteration
            (``torch.optim.swa_utils.AveragedModel``, stochastic weight
            averaging); :meth:`MultiAgentTrainer.use_average` puts it in
            place for the final evaluation and export. 0: no average.
        start_round_units: Learn from each training episode's payoffs in
            units of its start round
            (:func:`peacegame.engine.rules.start_round_units`); reported
            rewards stay the game's.
        anneal_until: The update of iteration ``i`` (0-based) uses
            ``learning_rate`` times ``max(0, 1 - i / anneal_until)``
            (:func:`anneal_factor`); 0: constant.
        anneal_entropy: Lower ``entropy`` by the same factor.
        past_share: Share of the slots in which one actor, drawn per episode,
            learns against the other actors' past selves (fictitious
            self-play; docs/training.md, "Past selves"); 0: none.
        past_every: Keep a snapshot of every policy network every this many
            iterations (and the initial one).
        past_keep: Each past self is drawn among its actor's newest this
            many snapshots.
        past_weights: How: ``uniform``, or ``nash``: by the meta-Nash mixture
            of the empirical game between those snapshots (PSRO's meta-solver,
            :meth:`MultiAgentTrainer.solve_past`), solved again at every
            snapshot.
        past_games: ``nash``: episodes played per profile of snapshots.
    """

    num_envs: int = 1024
    rollout_steps: int = 16
    epochs: int = 4
    minibatch: int = 4096
    learning_rate: float = 3e-4
    clip: float = 0.2
    entropy: float = 0.01
    gamma: float = 1.0
    lmbda: float = 0.95
    hidden: int = 64
    seed: int = 0
    exploring_starts: float = 0.0
    exploring_curriculum: int = 0
    exploring_offers: float = 0.0
    exploring_proposer: str = "protocol"
    exploring_drafts: float = 0.0
    accepting_voters: int = 0
    start_round_units: bool = False
    average_from: int = 0
    anneal_until: int = 0
    anneal_entropy: bool = False
    past_share: float = 0.0
    past_every: int = 5
    past_keep: int = 8
    past_weights: str = "uniform"
    past_games: int = 32


def anneal_factor(iteration: int, anneal_until: int) -> float:
    """The learning rate's (and entropy bonus's) multiplier in ``iteration``'s update.

    Linear from 1 at iteration 0 to 0 at ``anneal_until`` (and after); 1
    throughout when ``anneal_until`` is 0.
    """
    if anneal_until <= 0:
        return 1.0
    return max(0.0, 1.0 - iteration / anneal_until)


PAST_STREAM = 0x0FA5_7E1F
"""Mixed into the seed for drawing the past selves of an episode's actors."""
PAST_GAME_SEED = 7 * 10**6
"""Base seed (plus the iteration) of the past selves' meta-game episodes,
apart from the evaluations' (10**6)."""

OPPONENT_STREAM = 0x0990_9E17
"""Mixed into the seed for drawing the opponent assignments."""


@dataclass(frozen=True)
class Opponents:
    """Scripted opponents in a share of the slots (:class:`~.config.MarlOpponents`).

    Attributes:
        share: Share of the slots that play against the pool.
        pool: The pool's strategies.
        groups: Opponent assignments in play at once.
        redraw_every: Iterations between draws of new assignments (0: never).
    """

    share: float
    pool: tuple[Strategy, ...]
    groups: int = 10
    redraw_every: int = 0

    def slots(self, num_envs: int) -> int:
        """How many of ``num_envs`` slots play against the pool."""
        return round(self.share * num_envs)

    def draw(self, seed: int, n_actors: int, epoch: int) -> list[tuple[int, ...]]:
        """The assignments of draw ``epoch``: per group, a pool index per role.

        Group ``g``'s focal role ``g mod n_actors`` learns (-1); every other
        role is drawn uniformly from the pool and the learner (-1).
        """
        rng = np.random.default_rng([seed, OPPONENT_STREAM, epoch])
        size = len(self.pool)
        out = []
        for g in range(self.groups):
            picks = rng.integers(size + 1, size=n_actors)
            out.append(
                tuple(
                    -1 if i == g % n_actors or picks[i] == size else int(picks[i])
                    for i in range(n_actors)
                )
            )
        return out


MODULES = "modules"
"""The run folder's subfolder of exported policies (``<actor>.pt`` + ``.json``)."""
TORCH_VERSIONS = ("torch", "torchrl", "tensordict", "numpy", "numba")
"""Libraries whose versions the exported metadata records."""


def _hidden(s: MarlSettings) -> list[int]:
    return [s.hidden, s.hidden]


@dataclass
class _Learner:
    """One actor's networks, TorchRL modules, loss and optimiser."""

    policy_net: nn.Module
    value_net: nn.Module
    actor: ProbabilisticActor
    critic: ValueOperator
    loss: ClipPPOLoss
    optimizer: torch.optim.Optimizer


def _learner(obs_size: int, n_actions: int, s: MarlSettings) -> _Learner:
    policy_net = policy_network(obs_size, n_actions, _hidden(s))
    value_net = policy_network(obs_size, 1, _hidden(s))
    actor = ProbabilisticActor(
        TensorDictModule(policy_net, in_keys=["observation"], out_keys=["logits"]),
        in_keys={"logits": "logits", "mask": "action_mask"},
        distribution_class=MaskedCategorical,
        return_log_prob=True,
    )
    critic = ValueOperator(value_net, in_keys=["observation"])
    loss = ClipPPOLoss(
        actor_network=actor,
        critic_network=critic,
        clip_epsilon=s.clip,
        entropy_coeff=s.entropy,
        normalize_advantage=True,
    )
    loss.set_keys(sample_log_prob="logp")
    optimizer = torch.optim.Adam(loss.parameters(), lr=s.learning_rate)
    return _Learner(policy_net, value_net, actor, critic, loss, optimizer)


_SLOT_ARRAYS = ("state", "rewards", "memory", "counts", "seen")
"""The :class:`Episodes` arrays a checkpoint keeps (with the drafts)."""


@dataclass
class IterationStats:
    """What one iteration measured (a line of ``progress.jsonl``)."""

    iteration: int
    decisions: int
    episodes: int
    agreement: float
    mean_reward: list[float]
    seconds_collect: float
    seconds_update: float
    steps_per_second: float
    extra: dict[str, Any] = field(default_factory=dict)


class MultiAgentTrainer:
    """Every actor learns at once (see the module doc).

    Args:
        scenario: The compiled scenario.
        protocol: The protocol (its ``actions`` is the learners' interface).
        settings: Hyper-parameters.
        opponents: Scripted opponents in a share of the slots (None: every
            actor of every slot learns).

    Attributes:
        episodes: All ``num_envs`` slots (every actor external).
        groups: ``(start, stop, Episodes)`` per group of slots: the whole of
            ``episodes`` without opponents; else the learners-only rows, then
            one group per opponent assignment (:meth:`Episodes.rows`: views of
            ``episodes``' rows with the assignment's scripted actors).
        assignments: Per opponent group, the pool index per role (-1: learns).
    """

    def __init__(
        self,
        scenario: CompiledScenario,
        protocol: ProtocolConfig,
        settings: MarlSettings | None = None,
        opponents: Opponents | None = None,
    ) -> None:
        self.settings = s = settings or MarlSettings()
        self.opponents = opponents
        torch.manual_seed(s.seed)
        self.scenario = scenario
        self.protocol = protocol
        self.rules = rules = Rules(scenario, protocol)
        self.n = n = rules.n_actors
        self.iface = rules.interface
        self.episodes = Episodes(rules, [None] * n, s.num_envs)
        self.assignments: list[tuple[int, ...]] = []
        self.groups: list[tuple[int, int, Episodes]] = []
        self.learning = np.ones((s.num_envs, n), np.bool_)
        self._assign(0)
        self.drafts = self.iface.new_drafts(s.num_envs)
        self._fresh = self.iface.new_drafts(1)[0]
        size = rules.interface_observation_size
        self.obs = np.zeros((s.num_envs, n, size), np.float32)
        self.masks = np.zeros((s.num_envs, n, self.iface.n_actions), np.int8)
        self.moved = np.zeros((s.num_envs, n), np.bool_)
        self.offenders = np.zeros((s.num_envs, n), np.uint8)
        self.learners = [_learner(size, self.iface.n_actions, s) for _ in range(n)]
        self.averages = (
            [AveragedModel(learner.policy_net) for learner in self.learners]
            if s.average_from
            else []
        )
        self.next_episode = 0
        self.iteration = 0
        self.decisions = 0
        # Past selves: per slot and actor the snapshot that plays it (-1: the
        # learner), per actor its snapshots (networks, oldest first).
        self.driver = np.full((s.num_envs, n), -1, np.int64)
        self.first_past = s.num_envs - int(round(s.past_share * s.num_envs))
        self.snapshots: list[list[nn.Module]] = [[] for _ in range(n)]
        # ``nash`` weights: per actor the mixture over its newest snapshots,
        # and one report per solve of the meta-game.
        self.past_sigma: list[np.ndarray] = [np.ones(1) for _ in range(n)]
        self.past_reports: list[dict[str, Any]] = []
        self.past_tables: list[np.ndarray] = []  # the last solve's payoffs
        if self.has_past_selves:
            self._snapshot()
        self._slots = np.arange(s.num_envs, dtype=np.int64)
        self._start(self._slots)
        self._observe()

    # ------------------------------------------------------------ episodes
    def _assign(self, epoch: int) -> None:
        """Set :attr:`groups` to draw ``epoch`` of the opponent assignments."""
        size, n = self.settings.num_envs, self.n
        if self.opponents is None:
            self.groups = [(0, size, self.episodes)]
            return
        pooled = self.opponents.slots(size)
        first = size - pooled
        self.assignments = self.opponents.draw(self.settings.seed, n, epoch)
        self.groups = [(0, first, self.episodes.rows(0, first, [None] * n))]
        bounds = first + np.arange(len(self.assignments) + 1) * pooled // len(
            self.assignments
        )
        self.learning[:] = True
        for g, assignment in enumerate(self.assignments):
            lo, hi = int(bounds[g]), int(bounds[g + 1])
            strategies = [None if k < 0 else self.opponents.pool[k] for k in assignment]
            self.groups.append((lo, hi, self.episodes.rows(lo, hi, strategies)))
            self.learning[lo:hi] = np.asarray(assignment) < 0

    @property
    def has_past_selves(self) -> bool:
        """Whether some slots play past selves (``past_share`` above 0)."""
        return self.first_past < self.settings.num_envs

    def _snapshot(self) -> None:
        """Keep a frozen copy of every actor's policy network."""
        for i, learner in enumerate(self.learners):
            net = copy.deepcopy(learner.policy_net).eval()
            for parameter in net.parameters():
                parameter.requires_grad_(False)
            self.snapshots[i].append(net)

    def _draw_past(self, slots: np.ndarray, first_id: int) -> None:
        """Per new episode in a past-self slot: one learner, the others' selves.

        From the seed and the batch's first episode id, so a resume draws the
        same.
        """
        past = slots[slots >= self.first_past]
        self.driver[slots] = -1
        self.learning[slots] = True
        if past.size == 0:
            return
        s, n = self.settings, self.n
        rng = np.random.default_rng([s.seed, PAST_STREAM, first_id])
        focal = rng.integers(n, size=past.size)
        for i in range(n):
            kept = len(self.snapshots[i])
            newest = min(kept, s.past_keep)
            if s.past_weights == "nash":
                drawn = (
                    kept
                    - newest
                    + rng.choice(newest, size=past.size, p=self.past_sigma[i])
                )
            else:
                drawn = kept - newest + rng.integers(newest, size=past.size)
            self.driver[past, i] = np.where(focal == i, -1, drawn)
        self.learning[past] = self.driver[past] < 0

    def _start(self, slots: np.ndarray) -> None:
        ids = np.arange(self.next_episode, self.next_episode + slots.size)
        if self.has_past_selves:
            self._draw_past(slots, self.next_episode)
        self.next_episode += slots.size
        keys = episode_seeds(self.settings.seed, ids)
        inside = []
        for lo, hi, episodes in self.groups:
            part = (slots >= lo) & (slots < hi)
            inside.append(part)
            if part.any():
                episodes.start(slots[part] - lo, keys[part])
        s = self.settings
        if s.exploring_starts > 0.0 or s.exploring_offers > 0.0:
            earliest = backward_curriculum(
                ids, int(self.rules.game[G_INTS][I_ROUNDS]), s.exploring_curriculum
            )
            exploring_starts(
                self.rules.game,
                self.episodes.state,
                self.episodes.rewards,
                slots.astype(np.int64),
                s.exploring_starts,
                earliest,
                s.exploring_offers,
                s.exploring_proposer == "uniform",
            )
        self.drafts[slots] = self._fresh
        if s.exploring_drafts > 0.0:
            proposes = np.ones((slots.size, self.n), np.bool_)
            for (_, _, episodes), part in zip(self.groups, inside, strict=True):
                proposes[part] = np.asarray(episodes.external, np.bool_)
            exploring_drafts(
                self.rules.game,
                self.iface.tables,
                self.episodes.state,
                self.drafts,
                slots.astype(np.int64),
                s.exploring_drafts,
                proposes,
            )
        for (lo, _, episodes), part in zip(self.groups, inside, strict=True):
            if part.any() and not all(episodes.external):  # scripted first movers
                advance(episodes, slots[part] - lo)

    def _observe(self) -> None:
        observe_all(
            self.rules.game,
            self.iface.tables,
            self.episodes.state,
            self.drafts,
            self.obs,
            self.masks,
            self.rules.observation_size,
        )

    def _act(
        self, deterministic: bool = False, accepting: bool = False
    ) -> tuple[np.ndarray, list[Any]]:
        """Every mover's action; per actor (slots, obs, mask, action, logp, value).

        With ``accepting``, every vote is ACCEPT and is not recorded
        (``accepting_voters``).
        """
        actions = np.zeros((self.settings.num_envs, self.n), np.int64)
        movers = self.masks.any(axis=2)
        accept = self.iface.accept_action
        records = []
        with torch.no_grad():
            for i, learner in enumerate(self.learners):
                slots = np.flatnonzero(movers[:, i])
                if accepting:
                    voting = self.masks[slots, i, accept] != 0
                    actions[slots[voting], i] = accept
                    slots = slots[~voting]
                drivers = self.driver[slots, i]
                for k in np.unique(drivers[drivers >= 0]):  # past selves
                    mine = slots[drivers == k]
                    obs = torch.from_numpy(self.obs[mine, i])
                    mask = torch.from_numpy(self.masks[mine, i].astype(np.bool_))
                    logits = self.snapshots[i][k](obs)
                    past = MaskedCategorical(logits=logits, mask=mask).sample()
                    actions[mine, i] = past.numpy()
                slots = slots[drivers < 0]
                if slots.size == 0:
                    records.append(None)
                    continue
                obs = torch.from_numpy(self.obs[slots, i])
                mask = torch.from_numpy(self.masks[slots, i].astype(np.bool_))
                logits = learner.policy_net(obs)
                dist = MaskedCategorical(logits=logits, mask=mask)
                action = dist.mode if deterministic else dist.sample()
                actions[slots, i] = action.numpy()
                if deterministic:
                    records.append(None)
                    continue
                logp = dist.log_prob(action)
                value = learner.value_net(obs).squeeze(-1)
                records.append((slots, obs, mask, action, logp, value))
        return actions, records

    def _step(self, actions: np.ndarray) -> np.ndarray:
        """Apply the movers' actions (then the scripted turns). Returns ended slots."""
        for lo, hi, episodes in self.groups:
            step_all_in(
                episodes,
                self.drafts[lo:hi],
                actions[lo:hi],
                self.moved[lo:hi],
                self.offenders[lo:hi],
            )
        ended = np.flatnonzero(self.episodes.state[:, C_PHASE] == ENDED)
        return ended

    # ------------------------------------------------------------ training
    def collect(self) -> tuple[list[TensorDict | None], dict[str, Any]]:
        """One rollout: per actor a TensorDict of its decisions with advantages."""
        s = self.settings
        steps = s.rollout_steps
        per_actor: list[list[Any]] = [[] for _ in range(self.n)]
        end_step = np.full((steps + 1, s.num_envs), steps, np.int64)
        end_reward = np.zeros((steps, s.num_envs, self.n), np.float64)
        episodes = agreements = 0
        reward_sum = np.zeros(self.n)
        played = np.zeros(self.n, np.int64)  # episodes each actor learned in
        first_pooled = self.groups[0][1]  # the learner-only rows come first
        pool_sum = np.zeros(self.n)
        pool_played = np.zeros(self.n, np.int64)
        pool_agreements = pool_episodes = 0
        accepting = self.iteration < s.accepting_voters
        for t in range(steps):
            actions, records = self._act(accepting=accepting)
            for i, rec in enumerate(records):
                if rec is not None:
                    per_actor[i].append((t, *rec))
            ended = self._step(actions)
            if ended.size:
                end_step[t, ended] = t
                if s.start_round_units:
                    units = np.empty((ended.size, self.n), np.float64)
                    start_round_units(
                        self.rules.game,
                        self.episodes.state,
                        self.episodes.rewards,
                        ended.astype(np.int64),
                        units,
                    )
                    end_reward[t, ended] = units
                else:
                    end_reward[t, ended] = self.episodes.rewards[ended]
                episodes += ended.size
                agreements += int(
                    (self.episodes.state[ended, C_END] == AGREEMENT).sum()
                )
                learned = self.learning[ended]
                reward_sum += (self.episodes.rewards[ended] * learned).sum(axis=0)
                played += learned.sum(axis=0)
                against = ended[ended >= first_pooled]  # slots with scripted opponents
                if against.size:
                    learned = self.learning[against]
                    rewards = self.episodes.rewards[against]
                    pool_sum += (rewards * learned).sum(axis=0)
                    pool_played += learned.sum(axis=0)
                    pool_episodes += against.size
                    pool_agreements += int(
                        (self.episodes.state[against, C_END] == AGREEMENT).sum()
                    )
                self._start(ended)
            self._observe()
        for t in range(steps - 1, -1, -1):  # first end at or after t
            end_step[t] = np.minimum(end_step[t], end_step[t + 1])
        batches = [
            self._advantages(per_actor[i], i, end_step, end_reward)
            for i in range(self.n)
        ]
        stats: dict[str, Any] = {
            "episodes": episodes,
            "agreement": agreements / max(episodes, 1),
            "mean_reward": (reward_sum / np.maximum(played, 1)).tolist(),
        }
        if self.opponents is not None:
            stats["pool"] = {
                "episodes": pool_episodes,
                "agreement": pool_agreements / max(pool_episodes, 1),
                "mean_reward": (pool_sum / np.maximum(pool_played, 1)).tolist(),
            }
        return batches, stats

    def _advantages(
        self,
        records: list[Any],
        actor: int,
        end_step: np.ndarray,
        end_reward: np.ndarray,
    ) -> TensorDict | None:
        if not records:
            return None
        times = np.concatenate([np.full(r[1].size, r[0]) for r in records])
        slots = np.concatenate([r[1] for r in records])
        obs = torch.cat([r[2] for r in records])
        mask = torch.cat([r[3] for r in records])
        action = torch.cat([r[4] for r in records])
        logp = torch.cat([r[5] for r in records])
        value = torch.cat([r[6] for r in records]).numpy()
        m = slots.size
        order = np.lexsort((times, slots))
        s_sorted, t_sorted = slots[order], times[order]
        same_next = np.zeros(m, np.bool_)
        same_next[:-1] = s_sorted[1:] == s_sorted[:-1]
        next_t = np.where(same_next, np.roll(t_sorted, -1), self.settings.rollout_steps)
        first_end = end_step[t_sorted, s_sorted]
        terminal = first_end < next_t
        reward = np.zeros(m, np.float32)
        reward[terminal] = end_reward[first_end[terminal], s_sorted[terminal], actor]
        v_sorted = value[order]
        next_value = np.where(same_next, np.roll(v_sorted, -1), v_sorted)
        next_value = np.where(terminal, 0.0, next_value).astype(np.float32)
        # Lay each slot's decisions out as a row: [slots, L, 1], padding done.
        uniq, starts, counts = np.unique(
            s_sorted, return_index=True, return_counts=True
        )
        row = np.repeat(np.arange(uniq.size), counts)
        col = np.arange(m) - np.repeat(starts, counts)
        shape = (uniq.size, int(counts.max()), 1)

        def grid(values: np.ndarray, fill: float | bool) -> torch.Tensor:
            out = np.full(shape, fill, dtype=np.asarray(values).dtype)
            out[row, col, 0] = values
            return torch.from_numpy(out)

        done = grid(terminal, True)
        advantage, target = vec_generalized_advantage_estimate(
            self.settings.gamma,
            self.settings.lmbda,
            grid(v_sorted.astype(np.float32), 0.0),
            grid(next_value, 0.0),
            grid(reward, 0.0),
            done,
            done,
        )
        inverse = np.empty(m, np.int64)
        inverse[order] = np.arange(m)
        adv = advantage[row, col, 0][inverse]
        tgt = target[row, col, 0][inverse]
        return TensorDict(
            {
                "observation": obs,
                "action_mask": mask,
                "action": action,
                "logp": logp,
                "advantage": adv.unsqueeze(-1),
                "value_target": tgt.unsqueeze(-1),
            },
            batch_size=[m],
        )

    def update(self, batches: list[TensorDict | None]) -> None:
        """PPO epochs on each actor's decisions (TorchRL ``ClipPPOLoss``)."""
        s = self.settings
        factor = anneal_factor(self.iteration, s.anneal_until)
        for learner, batch in zip(self.learners, batches, strict=True):
            if batch is None:
                continue
            if s.anneal_until:
                for group in learner.optimizer.param_groups:
                    group["lr"] = s.learning_rate * factor
                if s.anneal_entropy:
                    learner.loss.entropy_coeff.fill_(s.entropy * factor)
            size = batch.batch_size[0]
            for _ in range(s.epochs):
                perm = torch.randperm(size)
                for start in range(0, size, s.minibatch):
                    part = batch[perm[start : start + s.minibatch]]
                    losses = learner.loss(part)
                    total = (
                        losses["loss_objective"]
                        + losses["loss_critic"]
                        + losses["loss_entropy"]
                    )
                    learner.optimizer.zero_grad()
                    total.backward()
                    nn.utils.clip_grad_norm_(learner.loss.parameters(), 0.5)
                    learner.optimizer.step()

    def train_iteration(self) -> IterationStats:
        """One rollout and one update."""
        t0 = time.perf_counter()
        batches, stats = self.collect()
        t1 = time.perf_counter()
        self.update(batches)
        t2 = time.perf_counter()
        decisions = sum(b.batch_size[0] for b in batches if b is not None)
        self.decisions += decisions
        self.iteration += 1
        s = self.settings
        extra: dict[str, Any] = {}
        if self.has_past_selves and self.iteration % s.past_every == 0:
            self._snapshot()
            if s.past_weights == "nash":
                extra["past_game"] = self.solve_past()
        if self.averages and self.iteration >= self.settings.average_from:
            for average, learner in zip(self.averages, self.learners, strict=True):
                average.update_parameters(learner.policy_net)
        o = self.opponents
        if o is not None and o.redraw_every and self.iteration % o.redraw_every == 0:
            self._assign(self.iteration // o.redraw_every)  # new opponents:
            self._start(np.arange(self.groups[0][1], self.settings.num_envs))
            self._observe()
        if "pool" in stats:
            extra["pool"] = stats["pool"]
        return IterationStats(
            iteration=self.iteration,
            decisions=decisions,
            episodes=stats["episodes"],
            agreement=stats["agreement"],
            mean_reward=stats["mean_reward"],
            seconds_collect=t1 - t0,
            seconds_update=t2 - t1,
            steps_per_second=decisions / (t2 - t0),
            extra=extra,
        )

    # ---------------------------------------------------------- evaluation
    def evaluate(
        self, episodes: int = 2048, seed: int = 10**6, sample: bool = False
    ) -> dict[str, Any]:
        """Play the current policies on held-out seeds (episode ids from ``seed``).

        Greedy play (the default) takes each policy's most likely legal action.
        Under a rotating proposer without breakdown the game has no chance
        move, so every greedy episode is the same and the report is that one
        episode's; it changes only when some argmax along it changes, however
        much the probabilities move. ``sample=True`` plays the stochastic
        policies PPO trains (torch's generator forked and seeded from ``seed``,
        so the training run's random stream is untouched and the report is
        reproducible).

        Returns:
            Agreement rate, share of agreements in the zone of agreement, mean
            reward per actor against its no-deal value, the mean Nash product
            of the agreements over the Nash point's, and ``distinct_outcomes``
            (how many different ends the episodes had: 1 means one trajectory).
        """
        ep = self.play(episodes, seed, sample=sample)
        report = outcome_report(self.scenario, self.rules, ep.state, ep.rewards)
        ends = ep.state[:, C_OFFER] * (ep.state[:, C_END] == AGREEMENT) - (
            ep.state[:, C_END] != AGREEMENT
        )
        report["distinct_outcomes"] = int(np.unique(ends).size)
        report["sample"] = sample
        return report

    def play(
        self,
        episodes: int,
        seed: int,
        sample: bool = False,
        strategies: list[Strategy | None] | None = None,
        drivers: np.ndarray | None = None,
    ) -> Episodes:
        """Play ``episodes`` whole episodes (ids ``0 ..``, keys from ``seed``).

        The training slots, drafts and buffers are set aside and restored, so
        training goes on where it was. ``strategies`` (per actor, None for the
        learner) puts scripted actors in the episodes, as in a match;
        ``drivers`` (``int64[episodes, n_actors]``) has a snapshot play an
        actor in a slot (its index; -1: the learner).

        Returns:
            The finished slots (``state``, ``rewards``), slot ``k`` episode ``k``.
        """
        ep = Episodes(self.rules, strategies or [None] * self.n, episodes)
        saved = (self.episodes, self.drafts, self.obs, self.masks, self.moved)
        saved_offenders, settings = self.offenders, self.settings
        saved_groups, saved_driver = self.groups, self.driver
        saved_past = self.first_past
        self.driver = (
            np.full((episodes, self.n), -1, np.int64)
            if drivers is None
            else np.asarray(drivers, np.int64)
        )
        self.first_past = episodes  # no new draws of past selves
        self.groups = [(0, episodes, ep)]
        self.episodes, self.drafts = ep, self.iface.new_drafts(episodes)
        self.obs = np.zeros((episodes, *saved[2].shape[1:]), np.float32)
        self.masks = np.zeros((episodes, *saved[3].shape[1:]), np.int8)
        self.moved = np.zeros((episodes, self.n), np.bool_)
        self.offenders = np.zeros((episodes, self.n), np.uint8)
        try:
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                self.settings = MarlSettings(
                    **{**asdict(settings), "num_envs": episodes}
                )
                slots = np.arange(episodes, dtype=np.int64)
                ep.start(slots, episode_seeds(seed, slots))
                if not all(ep.external):
                    advance(ep, slots)
                self._observe()
                while not (ep.state[:, C_PHASE] == ENDED).all():
                    actions, _ = self._act(deterministic=not sample)
                    self._step(actions)
                    self._observe()
            return ep
        finally:
            self.settings = settings
            self.episodes, self.drafts, self.obs, self.masks, self.moved = saved
            self.offenders, self.groups = saved_offenders, saved_groups
            self.driver, self.first_past = saved_driver, saved_past

    def solve_past(self) -> dict[str, Any]:
        """Weigh the newest snapshots by the meta-Nash of their empirical game.

        The members are each actor's newest ``past_keep`` snapshots, and the
        one before them if there is one (the previous solve's oldest member).
        Every profile of members (one per actor) plays ``past_games``
        episodes with sampled moves, every profile on the same episode keys
        (keys from :data:`PAST_GAME_SEED` plus the iteration); an
        actor's payoff at a profile is its mean reward. Before the new
        mixture is solved, the previous one is scored on this table: its
        **NashConv** is the sum over actors of how much the best member
        (the newest snapshot, the learner's latest, among them) gains
        against the others' previous mixtures (PSRO's exploitability, from
        below: the members are the only deviations tried). The new mixture
        (:func:`peacegame.tournament.game.meta_nash`, replicator dynamics
        from the uniform mix) over the newest ``past_keep`` then weighs the
        past-self draws until the next snapshot.

        Returns:
            The report appended to :attr:`past_reports` (iteration, members,
            NashConv of the previous mixture, the new mixture and its values).
        """
        s, n = self.settings, self.n
        kept = [len(nets) for nets in self.snapshots]
        window = [min(k, s.past_keep + 1) for k in kept]
        profiles = list(itertools.product(*(range(w) for w in window)))
        games = s.past_games
        drivers = np.empty((len(profiles) * games, n), np.int64)
        for p, profile in enumerate(profiles):
            drivers[p * games : (p + 1) * games] = [
                kept[i] - window[i] + profile[i] for i in range(n)
            ]
        ep = self.play(
            drivers.shape[0],
            PAST_GAME_SEED + self.iteration,
            sample=True,
            drivers=drivers,
        )
        means = ep.rewards.reshape(len(profiles), games, n).mean(axis=1)
        tables = [np.zeros(window) for _ in range(n)]
        for p, profile in enumerate(profiles):
            for i in range(n):
                tables[i][profile] = means[p, i]
        self.past_tables = tables
        report: dict[str, Any] = {
            "iteration": self.iteration,
            "members": [int(w) for w in window],
        }
        # The previous mixtures cover the window but its newest member.
        previous = [np.append(sigma, 0.0) for sigma in self.past_sigma]
        if all(x.size == w for x, w in zip(previous, window, strict=True)):
            gains = []
            for i in range(n):
                values = tables[i]
                for q in reversed(range(n)):  # the higher axes first
                    if q != i:
                        values = np.tensordot(values, previous[q], axes=([q], [0]))
                now = float(values @ previous[i])
                gains.append(max(0.0, float(values.max()) - now))
            report["nash_conv"] = round(float(sum(gains)), 4)
        newest = [min(k, s.past_keep) for k in kept]
        inner = [
            table[tuple(slice(w - m, w) for w, m in zip(window, newest, strict=True))]
            for table in tables
        ]
        sigma, values = meta_nash(inner, newest)
        self.past_sigma = [np.asarray(x, np.float64) / np.sum(x) for x in sigma]
        report["sigma"] = [x.round(4).tolist() for x in self.past_sigma]
        report["meta_nash_value"] = [round(float(v), 4) for v in values]
        self.past_reports.append(report)
        return report

    # ---------------------------------------------------------- checkpoints
    def save(self, path: Path) -> None:
        """Write the trainer's state atomically (see the module doc)."""
        state = {
            "iteration": self.iteration,
            "decisions": self.decisions,
            "next_episode": self.next_episode,
            "learners": [
                {
                    "policy": learner.policy_net.state_dict(),
                    "value": learner.value_net.state_dict(),
                    "optimizer": learner.optimizer.state_dict(),
                }
                for learner in self.learners
            ],
            "torch_rng": torch.get_rng_state(),
            **(
                {
                    "past": [
                        [net.state_dict() for net in nets] for nets in self.snapshots
                    ],
                    "driver": torch.from_numpy(self.driver.copy()),
                    "past_sigma": [torch.from_numpy(x.copy()) for x in self.past_sigma],
                    "past_reports": json.dumps(self.past_reports),
                }
                if self.has_past_selves
                else {}
            ),
            **(
                {"averages": [average.state_dict() for average in self.averages]}
                if self.averages
                else {}
            ),
            "slots": {
                name: torch.from_numpy(np.array(getattr(self.episodes, name)))
                for name in _SLOT_ARRAYS
            }
            | {"drafts": torch.from_numpy(self.drafts.copy())},
        }
        own = [  # opponent models' counts not held in the rows of ``episodes``
            torch.from_numpy(episodes.counts.copy())
            for _, _, episodes in self.groups
            if not np.shares_memory(episodes.counts, self.episodes.counts)
        ]
        if own:
            state["group_counts"] = own
        tmp = path.with_name(path.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        """Resume from :meth:`save`'s file (the episodes in flight go on)."""
        state = torch.load(path, weights_only=True)
        self.iteration = int(state["iteration"])
        self.decisions = int(state["decisions"])
        for learner, saved in zip(self.learners, state["learners"], strict=True):
            learner.policy_net.load_state_dict(saved["policy"])
            learner.value_net.load_state_dict(saved["value"])
            learner.optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if self.has_past_selves and "past" in state:
            self.snapshots = [[] for _ in range(self.n)]
            for g in range(len(state["past"][0])):
                self._snapshot()  # the networks' shapes; the weights follow
                for i in range(self.n):
                    self.snapshots[i][g].load_state_dict(state["past"][i][g])
            self.driver[...] = state["driver"].numpy()
            self.learning[...] = self.driver < 0
            if "past_sigma" in state:
                self.past_sigma = [x.numpy().copy() for x in state["past_sigma"]]
                self.past_reports = json.loads(state["past_reports"])
        for average, saved in zip(
            self.averages, state["averages"] if self.averages else [], strict=True
        ):
            average.load_state_dict(saved)
        self.next_episode = int(state["next_episode"])
        o = self.opponents
        if o is not None and o.redraw_every:
            self._assign(self.iteration // o.redraw_every)
        slots = state.get("slots")
        if slots is None:  # written before the slots were saved: restart them
            self._start(self._slots)
        else:  # the episodes in flight go on, as in an uninterrupted run
            for name in _SLOT_ARRAYS:
                getattr(self.episodes, name)[...] = slots[name].numpy()
            self.drafts[...] = slots["drafts"].numpy()
            own = iter(state.get("group_counts", []))
            for _, _, episodes in self.groups:
                if not np.shares_memory(episodes.counts, self.episodes.counts):
                    episodes.counts[...] = next(own).numpy()
        self._observe()

    def use_average(self) -> None:
        """Put each policy's weight average (``average_from``) in its place.

        For the final evaluation and export: the averaged networks are what
        :meth:`evaluate` and :meth:`export` then see. An average that has not
        been updated yet (the run ended before ``average_from``) leaves the
        policy as it is. Training should not go on after it (the policies
        would be updated from the average; :meth:`load` restores the last
        iteration's weights).
        """
        if not self.averages:  # no average_from: the last weights stay
            return
        for average, learner in zip(self.averages, self.learners, strict=True):
            if int(average.n_averaged) > 0:
                learner.policy_net.load_state_dict(average.module.state_dict())

    def export(self, folder: Path, extra: dict[str, Any] | None = None) -> list[Path]:
        """Write every actor's policy network as a learned-policy checkpoint.

        ``folder/<actor>.pt`` holds the policy network's state dict (tensors
        only: it loads with ``torch.load(weights_only=True)``), and
        ``<actor>.json`` beside it the metadata a match checks
        (:func:`peacegame.train.checkpoints.actor_metadata`, backend
        ``torch``) with the layer widths (``network.hidden``), the iteration
        and ``extra``. Play one with ``{policy: learned, checkpoint: PATH}``.

        Returns:
            The checkpoint paths, in actor order.
        """
        from peacegame.train.checkpoints import actor_metadata, library_versions, now

        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for actor, learner in zip(self.rules.actors, self.learners, strict=True):
            path = folder / f"{actor}.pt"
            tmp = path.with_name(path.name + ".tmp")
            torch.save(learner.policy_net.state_dict(), tmp)
            os.replace(tmp, path)
            write_metadata(
                path,
                {
                    **actor_metadata(
                        self.scenario,
                        self.protocol,
                        actor,
                        backend="torch",
                        algorithm="PPO (TorchRL ClipPPOLoss)",
                    ),
                    "network": {"hidden": _hidden(self.settings), "activation": "tanh"},
                    "iteration": self.iteration,
                    "decisions": self.decisions,
                    "settings": asdict(self.settings),
                    "versions": library_versions(*TORCH_VERSIONS),
                    "created": now(),
                    **(extra or {}),
                },
            )
            paths.append(path)
        return paths


def outcome_report(
    scenario: CompiledScenario, rules: Rules, state: np.ndarray, rewards: np.ndarray
) -> dict[str, Any]:
    """Quality of finished episodes: agreement, zone, rewards, Nash product."""
    agreed = state[:, C_END] == AGREEMENT
    offers = state[agreed, C_OFFER]
    zone = zone_of_agreement(scenario)
    utility = np.asarray(scenario.utility, np.float64)
    no_deal = np.asarray(scenario.no_deal, np.float64)
    nash = nash_of(scenario)

    def product(k: np.ndarray) -> np.ndarray:
        return np.prod(np.clip(utility[:, k] - no_deal[:, None], 0, None), axis=0)

    nash_value = float(product(np.array([nash]))[0]) if nash is not None else 0.0
    mean_reward = rewards.mean(axis=0)
    return {
        "episodes": int(state.shape[0]),
        "agreement": float(agreed.mean()),
        "in_zone": float(zone[offers].mean()) if offers.size else 0.0,
        "mean_reward": dict(
            zip(rules.actors, mean_reward.round(4).tolist(), strict=True)
        ),
        "no_deal": dict(zip(rules.actors, no_deal.round(4).tolist(), strict=True)),
        "above_no_deal": bool((mean_reward >= no_deal - 1e-9).all()),
        "nash_product_ratio": (
            float(product(offers).mean() / nash_value)
            if offers.size and nash_value > 0
            else 0.0
        ),
    }


def plot_progress(
    progress: Path, out: Path, actors: tuple[str, ...], no_deal: np.ndarray
) -> Path | None:
    """Plot ``progress.jsonl``: rewards per actor, and the held-out evaluations.

    Left: each actor's mean training reward per iteration against the
    decisions trained, its no-deal value dashed. Right: the held-out greedy
    evaluations (agreement, share of agreements in the zone of agreement,
    mean Nash product over the Nash point's). None without matplotlib.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    lines = [json.loads(line) for line in progress.read_text().splitlines() if line]
    if not lines:
        return None
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    rewards, quality = fig.subplots(1, 2)
    decisions = np.cumsum([line["decisions"] for line in lines])
    for i, actor in enumerate(actors):
        values = [line["mean_reward"][i] for line in lines]
        (drawn,) = rewards.plot(decisions, values, lw=1.5, label=actor)
        rewards.axhline(no_deal[i], color=drawn.get_color(), lw=0.8, ls="--")
    rewards.set_xlabel("decisions trained (all actors)")
    rewards.set_ylabel("mean episode reward (dashed: no-deal value)")
    rewards.grid(alpha=0.3)
    rewards.legend(loc="lower right", fontsize=8)
    evals = [
        (line["iteration"], line["extra"]["eval"])
        for line in lines
        if "eval" in line.get("extra", {})
    ]
    for key, label in (
        ("agreement", "agreement"),
        ("in_zone", "agreements in the zone"),
        ("nash_product_ratio", "Nash product / Nash point's"),
    ):
        quality.plot(
            [i for i, _ in evals], [e[key] for _, e in evals], "o-", label=label
        )
    quality.axhline(0.9, color="grey", lw=0.8, ls=":")
    quality.set_ylim(-0.02, 1.05)
    quality.set_xlabel("iteration")
    quality.set_ylabel("held-out greedy play")
    quality.grid(alpha=0.3)
    quality.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"five learners, kernel + TorchRL PPO: {progress.parent.name}")
    fig.savefig(out, dpi=110)
    return out


def train(
    scenario: CompiledScenario,
    protocol: ProtocolConfig,
    settings: MarlSettings,
    iterations: int,
    run_dir: Path,
    eval_every: int = 0,
    log: Any = print,
    opponents: Opponents | None = None,
) -> MultiAgentTrainer:
    """Train for ``iterations`` (resuming from ``run_dir/marl.pt`` if present).

    Writes ``progress.jsonl`` (one :class:`IterationStats` per iteration, and
    evaluations) and ``marl.pt`` after every iteration, and
    ``learning_curve.png`` (:func:`plot_progress`) at the end.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    trainer = MultiAgentTrainer(scenario, protocol, settings, opponents)
    checkpoint = run_dir / "marl.pt"
    progress = run_dir / "progress.jsonl"
    if checkpoint.exists():
        trainer.load(checkpoint)
        log(f"resumed at iteration {trainer.iteration}")
    _keep_progress_until(progress, trainer.iteration, log)
    with progress.open("a") as out:
        while trainer.iteration < iterations:
            stats = trainer.train_iteration()
            line = asdict(stats)
            if eval_every and trainer.iteration % eval_every == 0:
                line["extra"]["eval"] = trainer.evaluate()
                line["extra"]["eval_sample"] = trainer.evaluate(sample=True)
            out.write(json.dumps(line) + "\n")
            out.flush()
            trainer.save(checkpoint)
            log(
                f"iter {stats.iteration}: {stats.decisions} decisions, "
                f"{stats.steps_per_second:,.0f}/s, agreement {stats.agreement:.2f}"
            )
    plot_progress(
        progress,
        run_dir / "learning_curve.png",
        trainer.rules.actors,
        np.asarray(scenario.no_deal, np.float64),
    )
    return trainer


def _keep_progress_until(path: Path, iteration: int, log: Any) -> None:
    """Drop ``progress.jsonl`` lines past ``iteration`` (they are trained again).

    A kill between an iteration's line and its ``marl.pt`` leaves one line
    ahead of the checkpoint, or half of one; the note says what was dropped.
    """
    if not path.is_file():
        return
    lines = path.read_bytes().splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            whole = line.endswith(b"\n") and json.loads(line)["iteration"] <= iteration
        except (ValueError, KeyError, TypeError):
            whole = False
        if not whole:
            break
        kept.append(line)
    if len(kept) < len(lines):
        log(
            f"note: dropped {len(lines) - len(kept)} progress.jsonl line(s) past "
            f"the checkpoint (iteration {iteration}); they are trained again"
        )
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(b"".join(kept))
        os.replace(tmp, path)


def opponents_from_config(
    config: Any, protocol: ProtocolConfig, config_file: Path | None
) -> Opponents | None:
    """The ``opponents:`` block of a ``marl`` config, checked, as strategies.

    Raises:
        ConfigError: A pool entry that is not a built-in scripted strategy
            (or needs public information under private), or more groups than
            opponent slots; each names its field.
    """
    from peacegame.batch.runner import supported_spec
    from peacegame.errors import ConfigError
    from peacegame.policies import make_policy, policy_label
    from peacegame.policies.registry import LAZY_KINDS, REGISTRY, normalise_spec

    block = config.opponents
    if block is None:
        return None
    strategies = []
    for k, spec in enumerate(block.pool):
        field = f"opponents.pool[{k}]"
        if not supported_spec(spec):
            name = normalise_spec(spec, file=str(config_file), field=field)["policy"]
            if name in LAZY_KINDS or ":" in name:
                raise ConfigError(
                    f"{name!r} is not a built-in scripted strategy; the pool "
                    f"takes those only ({', '.join(sorted(REGISTRY))})",
                    file=config_file,
                    field=f"{field}.policy",
                )
        policy = make_policy(spec, file=config_file, field=field)  # bad names, params
        if policy.requires_public and protocol.information != "public":
            raise ConfigError(
                f"{policy_label(policy)} needs protocol.information: public",
                file=config_file,
                field=field,
            )
        strategies.append(policy.strategy())
    opponents = Opponents(
        block.share, tuple(strategies), block.groups, block.redraw_every
    )
    slots = opponents.slots(config.num_envs)
    if block.groups > slots:
        raise ConfigError(
            f"{block.groups} groups do not fit in the {slots} opponent slots "
            f"(opponents.share {block.share} x num_envs {config.num_envs})",
            file=config_file,
            field="opponents.groups",
        )
    return opponents


def train_from_config(
    config: Any, config_file: Path | None, *, resume: bool, overwrite: bool
) -> tuple[MultiAgentTrainer, dict[str, Any]]:
    """``peacegame train`` with ``trainer: marl`` (:class:`~.config.MarlConfig`).

    The match config gives the scenario and the protocol; every actor learns.
    The run folder gets ``run.json``, ``progress.jsonl``, ``marl.pt`` (after
    every iteration), ``evaluation.json`` (greedy and sampled held-out play),
    ``modules/<actor>.pt`` + ``.json`` (:meth:`MultiAgentTrainer.export`) and
    ``final-match.yaml`` (the match with every actor's learned policy).
    ``--resume`` continues from ``marl.pt`` and never lowers the planned
    iterations below those trained.

    Returns:
        The trainer and the final evaluation.

    Raises:
        UserError: On a run folder that has a run (without ``--resume`` or
            ``--overwrite``), or a resume that would lower the planned count.
    """
    from peacegame.scenario import load_compiled
    from peacegame.train.checkpoints import (
        check_resumable,
        keep_planned_count,
        learned_spec,
        prepare_run_dir,
        write_final_match,
        write_json,
        write_run_file,
    )
    from peacegame.train.config import load_match

    match, match_file, scenario_file = load_match(config, config_file)
    scenario = load_compiled(scenario_file)
    opponents = opponents_from_config(config, match.protocol, config_file)
    if config.exploring_drafts > 0.0 and match.protocol.actions != "issues":
        raise UserError(
            f"exploring_drafts starts issues proposals part-drafted, but the match "
            f"plays actions: {match.protocol.actions}; set exploring_drafts: 0 or "
            "use a match with actions: issues",
            file=config_file,
            field="exploring_drafts",
        )
    run_dir = config.run_dir()
    prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    checkpoint = run_dir / "marl.pt"
    if overwrite:
        checkpoint.unlink(missing_ok=True)
        (run_dir / "progress.jsonl").unlink(missing_ok=True)
    elif not resume and checkpoint.exists():
        raise UserError(
            "the run folder already has a marl.pt; pass --resume to continue it or "
            "--overwrite to start again",
            file=run_dir,
        )
    if resume:
        check_resumable(run_dir, config.model_dump(mode="json"))

        def trained() -> int:
            if not checkpoint.exists():
                return 0
            return int(torch.load(checkpoint, weights_only=True)["iteration"])

        keep_planned_count(
            run_dir,
            "iterations",
            config.iterations,
            trained,
            unit="iterations",
            file=checkpoint,
        )
    write_run_file(
        run_dir,
        config=config,
        config_file=config_file,
        match=match,
        match_file=match_file,
        scenario=scenario,
        scenario_file=scenario_file,
    )
    torch.set_num_threads(1)
    settings = MarlSettings(
        num_envs=config.num_envs,
        rollout_steps=config.rollout_steps,
        seed=config.seed,
        exploring_starts=config.exploring_starts,
        exploring_curriculum=config.exploring_curriculum,
        exploring_offers=config.exploring_offers,
        exploring_proposer=config.exploring_proposer,
        exploring_drafts=config.exploring_drafts,
        accepting_voters=config.accepting_voters,
        start_round_units=config.start_round_units,
        average_from=config.average_from,
        **(
            {
                "past_share": config.past_selves.share,
                "past_every": config.past_selves.every,
                "past_keep": config.past_selves.keep,
                "past_weights": config.past_selves.weights,
                "past_games": config.past_selves.games,
            }
            if config.past_selves is not None
            else {}
        ),
        **config.ppo.model_dump(),
    )
    trainer = train(
        scenario,
        match.protocol,
        settings,
        config.iterations,
        run_dir,
        eval_every=config.eval_every,
        opponents=opponents,
    )
    trainer.use_average()
    report = {"greedy": trainer.evaluate(), "sample": trainer.evaluate(sample=True)}
    write_json(run_dir / "evaluation.json", report)
    paths = trainer.export(
        run_dir / MODULES,
        {
            "train_config": config.model_dump(mode="json"),
            "match_path": str(match_file),
            "seed": config.seed,
        },
    )
    write_final_match(
        run_dir,
        match,
        scenario_file,
        {
            actor: learned_spec(path)
            for actor, path in zip(trainer.rules.actors, paths, strict=True)
        },
        config.name,
        "marl",
    )
    return trainer, report


def main(argv: list[str] | None = None) -> int:
    """``python -m peacegame.train.marl``: train every actor, then evaluate.

    Returns:
        The exit code.
    """
    import argparse

    from peacegame.scenario import load_compiled

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=None, help="scenario YAML or name")
    parser.add_argument("--actions", default="utility", help="action interface")
    parser.add_argument("--information", default="public")
    parser.add_argument("--max-rounds", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--rollout-steps", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--out", default="runs/train/marl")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    protocol = ProtocolConfig(
        actions=args.actions,
        information=args.information,
        max_rounds=args.max_rounds,
    )
    settings = MarlSettings(
        num_envs=args.num_envs, rollout_steps=args.rollout_steps, seed=args.seed
    )
    trainer = train(
        load_compiled(args.scenario),
        protocol,
        settings,
        args.iterations,
        Path(args.out),
        eval_every=args.eval_every,
    )
    report = {
        "greedy": trainer.evaluate(),
        "sample": trainer.evaluate(sample=True),
    }
    trainer.export(Path(args.out) / MODULES, {"seed": args.seed})
    print(json.dumps(report, indent=2))
    return 0


__all__ = [
    "IterationStats",
    "MarlSettings",
    "MultiAgentTrainer",
    "Opponents",
    "anneal_factor",
    "outcome_report",
    "train",
]


if __name__ == "__main__":
    raise SystemExit(main())
