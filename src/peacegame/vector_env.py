"""One learner against scripted opponents: a Gymnasium vector env on the kernel.

``peacegame.vector_env(num_envs=B, match=..., learner=...)`` returns a
:class:`NegotiationVectorEnv`: B negotiations advancing in lockstep in B slots
of one :class:`peacegame.engine.Episodes`. One actor, the learner, is the
slots' only external actor (strategy None), driven by the actions passed to
:meth:`~NegotiationVectorEnv.step`. Every other actor plays the engine
strategy of its scripted policy (``policy.strategy()``). This module is an
adapter: legality, turns, the opponents' moves and the observations are the
kernel's, and a batch step is a few compiled loops over the slots
(:mod:`peacegame.engine.vector`), so single-agent learners such as SB3 are not
bound by Python stepping.

Spaces:

* ``single_observation_space`` is the learner's observation vector of the
  PettingZoo env (``Box(float32)``, the same layout, bounds and values as
  ``peacegame.env`` at the same decision point, encoded by the same kernel
  function: see ``NegotiationEnv.observation_fields``). ``observation_space``
  is its batch, ``[B, size]``.
* ``single_action_space`` is ``Discrete(n_outcomes + 3)``, the env's actions.
  ``action_space`` is ``MultiDiscrete``.
* **Masks.** :meth:`~NegotiationVectorEnv.action_masks` returns the learner's
  legal actions as ``bool[B, n_actions]`` (rows of ``Rules.masks``), which is
  what sb3-contrib's MaskablePPO reads. The same array is in
  ``infos["action_mask"]``. The learner acts only when it has a move,
  proposing or voting, so every row allows either every proposal or ACCEPT and
  REJECT. WAIT is never legal.

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
* An illegal action raises ``IllegalActionError`` (a ``ValueError``;
  ``illegal_action: raise``) and changes nothing. Under ``penalize`` it ends
  that sub-env's episode with ``illegal_penalty`` as the reward.

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
episode ``k``, and each new episode (a skipped one included) takes the next
id. Episode ``i`` is keyed exactly like ``peacegame.match`` episode ``i`` of a
match with base seed ``s``: its seed is ``peacegame.engine.episode_seed(s,
i)``, the seed the AEC env gets in ``reset(seed=...)``, and every random draw
of the episode (proposers, breakdown, random opponents) is a hash of that seed
(:mod:`peacegame.engine.randomness`). ``reset()`` without a seed keeps the
base seed (the ``seed`` argument, else the match's seed) and continues the
count, so it never replays an episode. ``episode_ids`` holds each sub-env's
current episode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from peacegame.engine import Episodes, Rules, episode_seeds
from peacegame.engine.actions import KIND_OUTCOME
from peacegame.engine.config import (
    AGREEMENT,
    END_REASONS,
    ENDED,
    IllegalActionError,
    ProtocolConfig,
)
from peacegame.engine.rules import (
    C_END,
    C_PHASE,
    C_ROUND,
)
from peacegame.engine.vector import (
    advance,
    observe,
    observe_in,
    step_external,
    step_external_in,
)
from peacegame.errors import ConfigError
from peacegame.match_config import MatchConfig, load_match_config
from peacegame.policies import make_policy, policy_label
from peacegame.scenario.compiled import CompiledScenario

MAX_SKIPPED_EPISODES = 1000
"""Episodes in a row that one sub-env may skip (learner without a move)."""

DEFAULT_OPPONENT: dict[str, Any] = {"policy": "linear"}
"""Opponents' policy when no match config names one."""


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


def _opponent(spec: Any, actor: str, rules: Rules) -> Any:
    """The opponent's engine strategy (its policy must be a scripted one)."""
    field = f"policies.{actor}"
    policy = make_policy(spec, field=field)
    strategy = getattr(policy, "strategy", None)
    if strategy is None:
        raise ConfigError(
            f"the vector env plays scripted opponents only; {policy_label(policy)} "
            "has no engine strategy (use peacegame.train.sb3_adapter for other "
            "policies)",
            field=field,
        )
    if getattr(policy, "requires_public", False) and not rules.public:
        raise ConfigError(
            f"{policy_label(policy)} needs protocol.information: public",
            field=field,
        )
    return strategy()


class NegotiationVectorEnv(VectorEnv):
    """B negotiations for one learner in B kernel slots (see the module doc).

    Args:
        scenario: The compiled scenario.
        protocol: The protocol configuration.
        learner: The learner's actor id.
        opponents: Policy spec of every other actor (a scripted policy: its
            ``strategy()`` is what the kernel plays; default ``linear``).
        num_envs: Number of sub-envs.
        seed: Base seed of the episode seeds.

    Attributes:
        rules: The game's tables (:class:`peacegame.engine.Rules`).
        config: The protocol configuration.
        episodes: The kernel's slots, one per sub-env.
        state: The kernel's state matrix (``episodes.state``).
        base_seed: Base seed of the episode seeds.
        learner: The learner's actor id.
        learner_index: Its index.
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
        self.config = protocol
        self.rules = rules = Rules(scenario, protocol)
        self.learner = learner
        self.learner_index = scenario.actor_index(learner)
        strategies = [
            None
            if actor == learner
            else _opponent(opponents.get(actor, DEFAULT_OPPONENT), actor, rules)
            for actor in scenario.actors
        ]
        self.num_envs = num_envs
        self.episodes = Episodes(rules, strategies, num_envs)
        self.state = self.episodes.state
        self.base_seed = int(seed)
        self.interface = interface = rules.interface
        self._general = interface.kind != KIND_OUTCOME
        self._drafts = interface.new_drafts(num_envs)
        self._fresh_draft = interface.new_drafts(1)[0]
        self.observation_fields = dict(rules.interface_fields)
        size = rules.interface_observation_size
        self._size = size
        self.single_observation_space = spaces.Box(
            low=rules.interface_low,
            high=rules.interface_high,
            shape=(size,),
            dtype=np.float32,
        )
        self.n_actions = interface.n_actions
        self._mask_values = np.zeros((num_envs, self.n_actions), np.int8)
        self.single_action_space = spaces.Discrete(self.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.penalize = protocol.illegal_action == "penalize"
        self._masks = rules.masks.astype(bool)
        self._slots = np.arange(num_envs, dtype=np.int64)
        self._observations = np.zeros((num_envs, size), np.float32)
        self._scratch = np.zeros((rules.n_actors, size), np.float32)
        self._mask_rows = np.zeros(num_envs, np.int64)
        self._legal = np.zeros(num_envs, np.bool_)
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
            self.base_seed = int(seed)
            self._next_episode = 0
        self._start(self._slots)
        self._started = True
        self._observe()
        return self._observations.copy(), self._infos()

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
            IllegalActionError: On an illegal action (``illegal_action:
                raise``); nothing is applied then.
            ValueError: On a step before ``reset`` or a wrong number of
                actions.
        """
        if not self._started:
            raise ValueError("call reset() before step()")
        me = self.learner_index
        actions = np.asarray(actions).reshape(-1)
        if actions.shape[0] != self.num_envs:
            raise ValueError(
                f"expected {self.num_envs} actions, got {actions.shape[0]}"
            )
        if actions.dtype.kind in "iub":
            values = actions.astype(np.int64)
        else:  # not integers: illegal everywhere
            values = np.full(self.num_envs, -1, np.int64)
        legal = self._legal
        if self._general:
            illegal = step_external_in(
                self.episodes, self._drafts, me, values, self.penalize, legal
            )
        else:
            illegal = step_external(self.episodes, me, values, self.penalize, legal)
        if illegal and not self.penalize:  # nothing was applied
            bad = int(np.flatnonzero(~legal)[0])
            error = self.rules.illegal_action_error(self.state, bad, me, actions[bad])
            if self._general:
                legal_now = np.flatnonzero(self._mask_values[bad]).tolist()
                error = IllegalActionError(
                    f"illegal action {actions[bad]!r} by {error.actor!r} "
                    f"({self.interface.name!r} actions); expected one of "
                    f"{legal_now}",
                    actor=error.actor,
                    action=actions[bad],
                    phase=error.phase,
                )
            raise IllegalActionError(
                f"sub-env {bad}: {error}",
                actor=error.actor,
                action=error.action,
                phase=error.phase,
            )

        state = self.state
        ended = state[:, C_PHASE] == ENDED
        rewards = np.zeros(self.num_envs, np.float64)
        infos: dict[str, Any] = {}
        if ended.any():
            done = self._slots[ended]
            rewards[ended] = self.episodes.rewards[done, me]
            final = np.empty((done.size, self._size), np.float32)
            if self._general:
                masks = np.empty((done.size, self.n_actions), np.int8)
                observe_in(
                    self.episodes, self._drafts, done, me, self._scratch, final, masks
                )
            else:
                rows = np.empty(done.size, np.int64)
                observe(self.episodes, done, me, self._scratch, final, rows)
            final_obs = np.full(self.num_envs, None, dtype=object)
            for k, row in zip(done.tolist(), final, strict=True):
                final_obs[k] = row
            ends = state[done, C_END]
            agreement = np.zeros(self.num_envs, np.bool_)
            agreement[done] = ends == AGREEMENT
            reasons = np.full(self.num_envs, None, dtype=object)
            reasons[done] = [END_REASONS[e] for e in ends.tolist()]
            rounds = np.zeros(self.num_envs, np.int64)
            rounds[done] = state[done, C_ROUND]
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
        self._observe()
        infos.update(self._infos())
        truncated = np.zeros(self.num_envs, np.bool_)
        return self._observations.copy(), rewards, ended, truncated, infos

    def action_masks(self) -> np.ndarray:
        """The learner's legal actions, ``bool[num_envs, n_actions]``."""
        if self._general:
            return self._mask_values.astype(bool)
        return self._masks[self._mask_rows]

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release."""

    # ---------------------------------------------------------- internals
    def _infos(self) -> dict[str, Any]:
        return {
            "action_mask": self.action_masks(),
            "_action_mask": np.ones(self.num_envs, np.bool_),
        }

    def _observe(self) -> None:
        """Encode every sub-env's learner observation and move kind."""
        if self._general:
            observe_in(
                self.episodes,
                self._drafts,
                self._slots,
                self.learner_index,
                self._scratch,
                self._observations,
                self._mask_values,
            )
            return
        observe(
            self.episodes,
            self._slots,
            self.learner_index,
            self._scratch,
            self._observations,
            self._mask_rows,
        )

    def _new_episodes(self, slots: np.ndarray) -> None:
        n = len(slots)
        ids = np.arange(self._next_episode, self._next_episode + n, dtype=np.int64)
        self._next_episode += n
        self.episodes.start(slots, episode_seeds(self.base_seed, ids))
        self._drafts[slots] = self._fresh_draft
        self.episode_ids[slots] = ids

    def _start(self, slots: np.ndarray) -> None:
        """Start new episodes in ``slots`` and play to the learner's first move.

        Episodes that end before the learner moved are replaced by new ones.
        """
        skips = np.zeros(self.num_envs, np.int64)
        pending = np.asarray(slots, np.int64)
        self._new_episodes(pending)
        while advance(self.episodes, pending):
            pending = pending[self.state[pending, C_PHASE] == ENDED]
            skips[pending] += 1
            self.skipped_episodes += pending.size
            if skips.max() > MAX_SKIPPED_EPISODES:
                raise RuntimeError(
                    f"{self.learner} had no move in {MAX_SKIPPED_EPISODES} "
                    "episodes in a row: its consent is never needed and it "
                    "never proposes"
                )
            self._new_episodes(pending)


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
    "NegotiationVectorEnv",
    "sb3_vec_env",
    "vector_env",
]
