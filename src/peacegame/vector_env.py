"""One learner against scripted opponents: a Gymnasium vector env on the batch engine.

``peacegame.vector_env(num_envs=B, match=..., learner=...)`` returns a
:class:`NegotiationVectorEnv`: B negotiations advancing in lockstep on
:class:`peacegame.batch.BatchGame`. One actor, the learner, is driven by the
actions passed to :meth:`~NegotiationVectorEnv.step`. Every other actor is
played by the vectorised twin of its scripted policy. No sub-env is stepped
by a Python loop, so single-agent learners such as SB3 are not bound by Python
stepping.

Spaces:

* ``single_observation_space`` is the learner's observation vector from the
  PettingZoo env (``Box(float32)``, the same layout, bounds and values as
  ``peacegame.env`` at the same decision point: see
  ``NegotiationEnv.observation_fields``). ``observation_space`` is its batch,
  ``[B, size]``.
* ``single_action_space`` is ``Discrete(n_outcomes + 3)``, the env's actions.
  ``action_space`` is ``MultiDiscrete``.
* **Masks.** :meth:`~NegotiationVectorEnv.action_masks` returns the learner's
  legal actions as ``bool[B, n_actions]``, which is what sb3-contrib's
  MaskablePPO reads. The same array is in ``infos["action_mask"]``. The
  learner acts only when it has a move, proposing or voting, so every row
  allows either every proposal or ACCEPT and REJECT. WAIT is never legal.

Episodes and rewards:

* A step is one learner decision. The opponents then play until the learner
  has its next move or the episode ends. An episode in which the learner never
  gets a move (agreed before its turn, without its consent) is skipped, as
  ``peacegame.train.sb3_adapter.LearnerEnv`` skips it. ``skipped_episodes``
  counts these.
* The reward is the learner's payoff, given once at the step that ends the
  episode: ``discount ** round * U(outcome)`` on agreement, its no-deal value
  otherwise. ``terminated`` is True then. ``truncated`` is always False,
  because the deadline ends every episode.
* An illegal action raises ``ValueError`` (``illegal_action: raise``). Under
  ``penalize`` it ends that sub-env's episode with ``illegal_penalty`` as the
  reward.

Autoreset: **same step** (``metadata["autoreset_mode"] ==
AutoresetMode.SAME_STEP``). When a sub-env's episode ends, ``step`` returns
its reward and ``terminated=True`` together with the first observation of its
next episode. The last observation of the finished episode is in
``infos["final_obs"]`` (an object array, None for the other sub-envs). Its
``agreement``, ``end_reason``, ``round`` and ``episode`` are in
``infos["final_info"]``. Masks ``infos["_final_obs"]`` and
``infos["_final_info"]`` mark the sub-envs that ended. This is the convention
SB3's ``VecEnv`` follows too (see :func:`sb3_vec_env`).

Seeding: ``reset(seed=s)`` restarts the episode count. Sub-env ``k`` plays
episode ``k``, and each new episode takes the next id. Episode ``i`` is
seeded exactly like ``peacegame.match`` episode ``i`` of a match with base seed
``s``: the env seed is ``episode_seed(s, i)`` and opponent ``a`` uses
``default_rng([seed, a])``. ``reset()`` without a seed keeps the base seed
(the ``seed`` argument, else the match's seed) and continues the count, so it
never replays an episode. ``episode_ids`` holds each sub-env's current
episode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from peacegame.batch.game import END_REASONS, ENDED, PROPOSING, VOTING, BatchGame
from peacegame.env import ObservationTable
from peacegame.match_config import MatchConfig, load_match_config
from peacegame.policies import make_policy
from peacegame.protocol import ProtocolConfig
from peacegame.scenario.compiled import CompiledScenario

MAX_SKIPPED_EPISODES = 1000
"""Episodes in a row that one sub-env may skip (learner without a move)."""

DEFAULT_OPPONENT: dict[str, Any] = {"policy": "linear"}
"""Opponents' policy when no match config names one."""


class LearnerObservations:
    """The learner's observation vectors for many slots, as the env builds them.

    Reproduces ``peacegame.env.ObservationTable`` for one actor, one block of
    fields at a time, from the batch game's state arrays.

    Args:
        game: The batch game.
        actor: The learner's index.
    """

    def __init__(self, game: BatchGame, actor: int) -> None:
        scenario = game.scenario
        table = ObservationTable(game.rules)
        self.fields = table.fields
        self.size = table.size
        self.low = table.low
        self.high = table.high
        self.game = game
        self.actor = actor
        n = scenario.n_actors
        n_outcomes = scenario.n_outcomes
        public = game.config.information == "public"
        fields = self.fields
        utility = np.asarray(scenario.utility, np.float32)
        level_counts = [issue.n_levels for issue in scenario.issues]
        offer_start = fields["offer"].start
        offer_stop = fields["offer_utility"].start
        # Offer block per outcome plus a last all-zero row for "no offer" (-1).
        blocks = np.zeros((n_outcomes + 1, offer_stop - offer_start), np.float32)
        column = 0
        outcomes = np.arange(n_outcomes)
        for issue, count in enumerate(level_counts):
            blocks[outcomes, column + scenario.levels[:, issue]] = 1.0
            column += count
        consent = fields["consent"].start - offer_start
        blocks[:n_outcomes, consent : consent + n] = scenario.required.T
        if public:
            blocks[:n_outcomes, -n:] = utility.T
        self.offer_blocks = blocks
        self.offer_slice = slice(offer_start, offer_stop)
        self.utility_or_zero = np.append(utility[actor], np.float32(0.0))
        self.utility_or_minus_one = np.append(utility[actor], np.float32(-1.0))
        self.vote_values = np.array([-1.0, 1.0, 0.0], np.float32)
        self.inverse_max_rounds = 1.0 / game.max_rounds
        self.constant = np.zeros(self.size, np.float32)
        self.constant[fields["no_deal"]] = np.float32(scenario.no_deal[actor])
        self.constant[fields["discount"]] = np.float32(scenario.discount[actor])
        self.history_length = game.config.history_length
        self.n = n

    def __call__(self, slots: np.ndarray) -> np.ndarray:
        """``float32[len(slots), size]``: the learner's observations."""
        game, f, me = self.game, self.fields, self.actor
        out = np.empty((len(slots), self.size), np.float32)
        out[:] = self.constant
        rows = np.arange(len(slots))
        phase = game.phase[slots]
        phase_block = np.zeros((len(slots), 3), np.float32)
        phase_block[rows, phase] = 1.0
        out[:, f["phase"]] = phase_block
        rounds = game.round[slots].astype(np.float64)
        out[:, f["round_fraction"].start] = rounds * self.inverse_max_rounds
        proposer = game.proposer[slots]
        offer = game.offer[slots]
        # Voters are shown only while an offer is on the table (as voter_order).
        voter = game.voters[slots, me] & (offer >= 0)
        role = np.where(proposer == me, 0, np.where(voter, 1, 2))
        role_block = np.zeros((len(slots), 3 + self.n), np.float32)
        role_block[rows, role] = 1.0
        role_block[rows, 3 + proposer] = 1.0
        out[:, f["role"].start : f["offer"].start] = role_block
        out[:, self.offer_slice] = self.offer_blocks[offer]
        out[:, f["offer_utility"].start] = self.utility_or_zero[offer]
        out[:, f["last_votes"]] = self.vote_values[game.last_votes[slots]]
        h = self.history_length
        if h:
            done = game.rounds_done[slots]
            back = done[:, None] - 1 - np.arange(h)[None, :]
            offers = game.history_offer[slots[:, None], np.maximum(back, 0)]
            offers = np.where(back >= 0, offers, -1)
            out[:, f["history"]] = self.utility_or_minus_one[offers]
        return out


def _match_config(
    match: MatchConfig | str | Path | dict[str, Any] | None,
) -> tuple[MatchConfig | None, Path | None]:
    if match is None:
        return None, None
    if isinstance(match, MatchConfig):
        return match, None
    if isinstance(match, dict):
        return MatchConfig.model_validate(match), None
    config, scenario_file = load_match_config(match)
    return config, scenario_file


class NegotiationVectorEnv(VectorEnv):
    """B negotiations for one learner on the batch engine (see the module doc).

    Args:
        scenario: The compiled scenario.
        protocol: The protocol configuration.
        learner: The learner's actor id.
        opponents: Policy spec of every other actor (each needs a vectorised
            twin: see ``peacegame.batch.supports``).
        num_envs: Number of sub-envs.
        seed: Base seed of the episode seeds.

    Attributes:
        game: The batch engine (state arrays of every sub-env).
        learner: The learner's actor id.
        episode_ids: ``int64[num_envs]``, each sub-env's current episode.
        skipped_episodes: Episodes that ended before the learner moved.
        observation_fields: Field name -> slice of the observation vector.
    """

    metadata: dict[str, Any] = {
        "autoreset_mode": AutoresetMode.SAME_STEP,
        "render_modes": [],
    }

    def __init__(
        self,
        scenario: CompiledScenario,
        protocol: ProtocolConfig,
        learner: str,
        opponents: dict[str, Any],
        num_envs: int = 16,
        seed: int = 0,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.scenario = scenario
        self.learner = learner
        self.learner_index = index = scenario.actor_index(learner)
        policies = [
            None
            if actor == learner
            else make_policy(
                opponents.get(actor, DEFAULT_OPPONENT), field=f"policies.{actor}"
            )
            for actor in scenario.actors
        ]
        self.num_envs = num_envs
        self.game = BatchGame(scenario, protocol, policies, num_envs, base_seed=seed)
        self.observe = LearnerObservations(self.game, index)
        self.observation_fields = dict(self.observe.fields)
        self.single_observation_space = spaces.Box(
            low=self.observe.low,
            high=self.observe.high,
            shape=(self.observe.size,),
            dtype=np.float32,
        )
        rules = self.game.rules
        self.n_actions = rules.n_actions
        self.single_action_space = spaces.Discrete(self.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.penalize = protocol.illegal_action == "penalize"
        self.illegal_penalty = float(protocol.illegal_penalty)
        # Mask by phase code (propose, vote, ended).
        self._mask_rows = np.stack(
            [
                rules.propose_mask.astype(bool),
                rules.vote_mask.astype(bool),
                np.zeros(rules.n_actions, bool),
            ]
        )
        self._slots = np.arange(num_envs)
        self._moved = np.zeros(num_envs, np.bool_)
        self.episode_ids = np.zeros(num_envs, np.int64)
        self._next_episode = 0
        self.skipped_episodes = 0
        self._started = False

    # ------------------------------------------------------------ gym API
    def reset(
        self,
        *,
        seed: int | list[int] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode in every sub-env (see the module doc on seeding).

        Args:
            seed: Base seed of the episode seeds (an int; a list uses its first
                element); None keeps the base seed and continues the count.
            options: Unused.

        Returns:
            Observations ``[num_envs, size]`` and infos (``action_mask``).
        """
        if isinstance(seed, list | tuple):
            seed = seed[0] if seed else None
        if seed is not None:
            super().reset(seed=int(seed))
            self.game.base_seed = int(seed)
            self._next_episode = 0
        self._start(self._slots)
        self._started = True
        return self.observe(self._slots), self._infos()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply one learner action per sub-env, then play the opponents.

        Args:
            actions: ``int[num_envs]``, a legal action per sub-env.

        Returns:
            Observations, rewards (float64), terminations, truncations (all
            False) and infos (see the module doc).

        Raises:
            ValueError: On an illegal action (``illegal_action: raise``), or a
                step before ``reset``.
        """
        if not self._started:
            raise ValueError("call reset() before step()")
        game, me = self.game, self.learner_index
        actions = np.asarray(actions).reshape(-1)
        if actions.shape[0] != self.num_envs:
            raise ValueError(
                f"expected {self.num_envs} actions, got {actions.shape[0]}"
            )
        slots = self._slots
        legal = self._legal(actions)
        if not legal.all():
            bad = int(np.flatnonzero(~legal)[0])
            if not self.penalize:
                raise ValueError(
                    f"illegal action {actions[bad]!r} in sub-env {bad} by "
                    f"{self.learner!r} ({self._expected(bad)})"
                )
            game.end_illegal(
                slots[~legal],
                np.full(int((~legal).sum()), me),
                self.illegal_penalty,
            )
        actions = actions.astype(np.int64)
        self._moved[legal] = True
        proposing = legal & (game.phase == PROPOSING)
        voting = legal & (game.phase == VOTING)
        if proposing.any():
            p_slots = slots[proposing]
            pending = game.propose(p_slots, actions[proposing])
            if pending.size:
                game.resolve(pending, game.scripted_votes(pending))
        if voting.any():
            v_slots = slots[voting]
            votes = game.scripted_votes(v_slots)
            votes[:, me] = actions[voting] == game.rules.accept_action
            game.resolve(v_slots, votes)
        self._advance(slots[game.phase != ENDED])

        ended = game.phase == ENDED
        rewards = np.zeros(self.num_envs, np.float64)
        infos: dict[str, Any] = {}
        if ended.any():
            done = slots[ended]
            rewards[ended] = game.rewards[done, me]
            final_obs = np.full(self.num_envs, None, dtype=object)
            for k, row in zip(done.tolist(), self.observe(done), strict=True):
                final_obs[k] = row
            agreement = np.zeros(self.num_envs, np.bool_)
            agreement[done] = game.end[done] == 1
            reasons = np.full(self.num_envs, None, dtype=object)
            reasons[done] = [END_REASONS[e] for e in game.end[done].tolist()]
            rounds = np.zeros(self.num_envs, np.int64)
            rounds[done] = game.round[done]
            episodes = np.zeros(self.num_envs, np.int64)
            episodes[done] = self.episode_ids[done]
            infos["final_obs"] = final_obs
            infos["_final_obs"] = ended.copy()
            infos["final_info"] = {
                "agreement": agreement,
                "_agreement": ended.copy(),
                "end_reason": reasons,
                "_end_reason": ended.copy(),
                "round": rounds,
                "_round": ended.copy(),
                "episode": episodes,
                "_episode": ended.copy(),
            }
            infos["_final_info"] = ended.copy()
            self._start(done)
        observations = self.observe(slots)
        infos.update(self._infos())
        terminated = ended
        truncated = np.zeros(self.num_envs, np.bool_)
        return observations, rewards, terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        """The learner's legal actions, ``bool[num_envs, n_actions]``."""
        return self._mask_rows[self.game.phase]

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release."""

    # ---------------------------------------------------------- internals
    def _infos(self) -> dict[str, Any]:
        return {
            "action_mask": self.action_masks(),
            "_action_mask": np.ones(self.num_envs, np.bool_),
        }

    def _legal(self, actions: np.ndarray) -> np.ndarray:
        game = self.game
        n_outcomes = game.n_outcomes
        accept = game.rules.accept_action
        try:
            values = actions.astype(np.int64, casting="safe")
        except TypeError:
            return np.zeros(self.num_envs, np.bool_)
        proposing = game.phase == PROPOSING
        propose_ok = (values >= 0) & (values < n_outcomes)
        vote_ok = (values == accept) | (values == accept + 1)
        return np.where(proposing, propose_ok, vote_ok) & (game.phase != ENDED)

    def _expected(self, slot: int) -> str:
        game = self.game
        if game.phase[slot] == PROPOSING:
            return f"expected a proposal 0..{game.n_outcomes - 1}"
        accept = game.rules.accept_action
        return f"expected ACCEPT ({accept}) or REJECT ({accept + 1})"

    def _start(self, slots: np.ndarray) -> None:
        """Start new episodes in ``slots`` and play to the learner's first move."""
        n = len(slots)
        ids = np.arange(self._next_episode, self._next_episode + n, dtype=np.int64)
        self._next_episode += n
        self.game.reset(slots, ids)
        self.episode_ids[slots] = ids
        self._moved[slots] = False
        self._advance(slots)

    def _at_move(self, slots: np.ndarray) -> np.ndarray:
        game, me = self.game, self.learner_index
        phase = game.phase[slots]
        return ((phase == PROPOSING) & (game.proposer[slots] == me)) | (
            (phase == VOTING) & game.voters[slots, me]
        )

    def _advance(self, slots: np.ndarray) -> None:
        """Play the opponents in ``slots`` until the learner's move or the end.

        Episodes that end before the learner moved are replaced by new ones.
        """
        game, me = self.game, self.learner_index
        skips = np.zeros(self.num_envs, np.int64)
        pending = slots[~self._at_move(slots) & (game.phase[slots] != ENDED)]
        while pending.size:
            phase = game.phase[pending]
            proposing = pending[phase == PROPOSING]
            if proposing.size:
                game.propose(proposing, game.scripted_proposals(proposing))
            voting = pending[(phase == VOTING) & ~game.voters[pending, me]]
            if voting.size:
                game.resolve(voting, game.scripted_votes(voting))
            ended = pending[game.phase[pending] == ENDED]
            skipped = ended[~self._moved[ended]]
            if skipped.size:
                skips[skipped] += 1
                self.skipped_episodes += skipped.size
                if skips.max() > MAX_SKIPPED_EPISODES:
                    raise RuntimeError(
                        f"{self.learner} had no move in {MAX_SKIPPED_EPISODES} "
                        "episodes in a row: its consent is never needed and it "
                        "never proposes"
                    )
                n = skipped.size
                ids = np.arange(
                    self._next_episode, self._next_episode + n, dtype=np.int64
                )
                self._next_episode += n
                game.reset(skipped, ids)
                self.episode_ids[skipped] = ids
            live = pending[game.phase[pending] != ENDED]
            pending = live[~self._at_move(live)]


def vector_env(
    num_envs: int = 16,
    match: MatchConfig | str | Path | dict[str, Any] | None = None,
    learner: str | None = None,
    *,
    scenario: CompiledScenario | str | Path | None = None,
    protocol: ProtocolConfig | dict[str, Any] | None = None,
    opponents: dict[str, Any] | None = None,
    seed: int | None = None,
) -> NegotiationVectorEnv:
    """Build the vector env (see the module doc).

    Args:
        num_envs: Number of sub-envs B.
        match: A match config (object, dict, YAML path or shipped name such as
            ``baseline``): its scenario, protocol, policies (opponents) and
            seed. None: the default scenario and protocol.
        learner: The learner's actor id (default: the scenario's first actor).
        scenario: Overrides the match's scenario (a compiled scenario, a YAML
            path or a shipped name).
        protocol: Overrides the match's protocol.
        opponents: Per actor, a policy spec overriding the match's (the
            default for an actor without one is ``linear``).
        seed: Base seed (default: the match's seed, else 0).

    Returns:
        The vector env; call ``reset`` first.
    """
    from peacegame.scenario import load_compiled

    config, scenario_file = _match_config(match)
    if isinstance(scenario, CompiledScenario):
        compiled = scenario
    elif scenario is not None:
        compiled = load_compiled(scenario)
    elif scenario_file is not None:
        compiled = load_compiled(scenario_file)
    else:
        compiled = load_compiled(config.scenario if config is not None else None)
    if isinstance(protocol, dict):
        protocol = ProtocolConfig.model_validate(protocol)
    if protocol is None:
        protocol = config.protocol if config is not None else ProtocolConfig()
    specs: dict[str, Any] = dict(config.policies) if config is not None else {}
    specs.update(opponents or {})
    if learner is None:
        learner = compiled.actors[0]
    compiled.actor_index(learner)  # a clear KeyError for an unknown learner
    if seed is None:
        seed = config.seed if config is not None else 0
    return NegotiationVectorEnv(
        compiled, protocol, learner, specs, num_envs=num_envs, seed=seed
    )


def sb3_vec_env(venv: NegotiationVectorEnv) -> Any:
    """Adapt the vector env to Stable-Baselines3's ``VecEnv`` interface.

    SB3 steps a ``VecEnv``, not a Gymnasium vector env. This adapter passes
    batches straight through (no per-env Python loop). On an episode end it
    puts ``terminal_observation`` in that env's info, as SB3 expects from
    same-step autoreset. ``env_method("action_masks")`` returns the masks
    (MaskablePPO's ``get_action_masks``), and ``seed(s)`` seeds the next
    ``reset``.

    Args:
        venv: The vector env.

    Returns:
        A ``stable_baselines3.common.vec_env.VecEnv``.

    Raises:
        ImportError: If stable-baselines3 is not installed.
    """
    return _sb3_adapter_class()(venv)


_SB3_ADAPTER: type | None = None


def _sb3_adapter_class() -> type:
    global _SB3_ADAPTER
    if _SB3_ADAPTER is not None:
        return _SB3_ADAPTER
    from stable_baselines3.common.vec_env import VecEnv

    class SB3VectorEnv(VecEnv):
        """``NegotiationVectorEnv`` as an SB3 ``VecEnv`` (see `sb3_vec_env`)."""

        render_mode = None

        def __init__(self, venv: NegotiationVectorEnv) -> None:
            self.venv = venv
            self._actions: np.ndarray | None = None
            super().__init__(
                venv.num_envs, venv.single_observation_space, venv.single_action_space
            )

        def reset(self) -> np.ndarray:
            seed = self._seeds[0]
            observations, _ = self.venv.reset(seed=seed)
            self._reset_seeds()
            self._reset_options()
            return observations

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
            assert self._actions is not None
            obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
            dones = terminated | truncated
            infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
            if dones.any():
                final = info["final_info"]
                for k in np.flatnonzero(dones).tolist():
                    infos[k] = {
                        "terminal_observation": info["final_obs"][k],
                        "TimeLimit.truncated": bool(truncated[k]),
                        "agreement": bool(final["agreement"][k]),
                        "end_reason": final["end_reason"][k],
                    }
            return obs, rewards.astype(np.float32), dones, infos

        def close(self) -> None:
            self.venv.close()

        def _indices(self, indices: Any) -> list[int]:
            if indices is None:
                return list(range(self.num_envs))
            if isinstance(indices, int):
                return [indices]
            return list(indices)

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            if attr_name == "action_masks":
                return [self.venv.action_masks] * len(self._indices(indices))
            value = getattr(self.venv, attr_name)
            return [value] * len(self._indices(indices))

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self.venv, attr_name, value)

        def env_method(
            self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any
        ) -> list[Any]:
            chosen = self._indices(indices)
            result = getattr(self.venv, method_name)(*args, **kwargs)
            if method_name == "action_masks":
                return list(result[chosen])
            return [result] * len(chosen)

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list:
            return [False] * len(self._indices(indices))

    _SB3_ADAPTER = SB3VectorEnv
    return SB3VectorEnv


__all__ = [
    "LearnerObservations",
    "NegotiationVectorEnv",
    "sb3_vec_env",
    "vector_env",
]
