"""One learner against configured opponents, as a single-agent gymnasium env.

:class:`LearnerEnv` drives the PettingZoo AEC env (``raw_env``): on ``reset``
and after each learner action it plays every other actor with its configured
policy (scripted, or a frozen learned snapshot) until it is the learner's turn
again or the episode is over. The learner sees only its observation vector; its
legal actions come from :meth:`LearnerEnv.action_masks`, which sb3-contrib's
MaskablePPO reads through the vec env. The reward is the learner's payoff, once,
at the end (the game's own per-round discount is already in it).

Seeding: each episode's env seed is drawn from the env's ``np_random`` (seeded
by SB3's ``VecEnv.seed``), and opponent ``a`` gets ``default_rng([seed, a])``
as in :mod:`peacegame.match`, so a run is reproducible from its seed.

:func:`make_vec_env` builds SB3's own ``DummyVecEnv`` or ``SubprocVecEnv`` of
these envs, wrapped in ``VecMonitor`` for episode statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from peacegame.engine import Rules
from peacegame.engine.actions import ILLEGAL, KIND_OUTCOME, SUBSTEP, SlotTranslator
from peacegame.engine.config import IllegalActionError
from peacegame.env import NegotiationEnv
from peacegame.policies import Policy, make_policy, make_view, reset_policy
from peacegame.protocol import ProtocolConfig
from peacegame.scenario.compiled import CompiledScenario

MAX_SKIPPED_EPISODES = 1000
"""Episodes in a row that may end before the learner moves (then an error)."""


@dataclass(frozen=True)
class LearnerSpec:
    """Everything needed to build a :class:`LearnerEnv` (picklable).

    Attributes:
        scenario: The compiled scenario.
        protocol: The protocol config.
        learner: The learning actor.
        opponents: Policy spec of every other actor.
        config_file: The file that names the specs (errors, relative paths).
    """

    scenario: CompiledScenario
    protocol: ProtocolConfig
    learner: str
    opponents: dict[str, Any] = field(default_factory=dict)
    config_file: str | None = None


class LearnerEnv(gym.Env):
    """The negotiation seen by one learner (see the module doc).

    Args:
        spec: Scenario, protocol, learner and opponent policies.

    Attributes:
        game: The underlying AEC env.
        learner: The learner's actor id.
        skipped_episodes: Episodes that ended before the learner moved.
    """

    metadata = {"render_modes": []}

    def __init__(self, spec: LearnerSpec) -> None:
        super().__init__()
        scenario = spec.scenario
        self.spec = spec
        self.learner = spec.learner
        # Opponents act in concrete actions; the learner's interface
        # (protocol.actions) is translated in front of it by the engine.
        self.game = NegotiationEnv(
            scenario=scenario,
            protocol=spec.protocol.model_copy(update={"actions": "outcome"}),
            max_cycles=spec.protocol.max_rounds + 1,
        )
        self._learner_index = scenario.actor_index(spec.learner)
        self.policies: dict[str, Policy] = {
            actor: make_policy(
                spec.opponents[actor],
                file=spec.config_file,
                field=f"policies.{actor}",
            )
            for actor in scenario.actors
            if actor != spec.learner
        }
        rules = self.game.rules
        record = self.game.record
        self.views = {actor: make_view(rules, actor, record) for actor in self.policies}
        self._actor_index = {a: i for i, a in enumerate(scenario.actors)}
        learner_rules = Rules(scenario, spec.protocol)
        self.interface = learner_rules.interface
        self.translator = SlotTranslator(
            rules.game, self.interface, self.game.state, 0, rules.observation_size
        )
        self._general = self.interface.kind != KIND_OUTCOME
        self.observation_space = spaces.Box(
            low=learner_rules.interface_low,
            high=learner_rules.interface_high,
            shape=(learner_rules.interface_observation_size,),
            dtype=np.float32,
        )
        self.action_space = spaces.Discrete(self.interface.n_actions)
        self._masks = rules.masks.astype(bool)
        self.skipped_episodes = 0

    # ----------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode and play the opponents up to the learner's first move.

        Returns:
            The learner's observation vector and an empty info dict.

        Raises:
            RuntimeError: If the learner gets no move in many episodes in a row.
        """
        super().reset(seed=seed)
        game = self.game
        for _ in range(MAX_SKIPPED_EPISODES):
            episode_seed = int(self.np_random.integers(2**63 - 1))
            game.reset(seed=episode_seed)
            self.translator.reset()
            for actor, policy in self.policies.items():
                reset_policy(
                    policy,
                    actor,
                    self.views[actor],
                    episode_seed,
                    self._actor_index[actor],
                )
            if self._advance():
                return self._observation(), {}
            self.skipped_episodes += 1
        raise RuntimeError(
            f"{self.learner} had no move in {MAX_SKIPPED_EPISODES} episodes in a "
            "row: its consent is never needed and it never proposes"
        )

    def step(
        self, action: int | np.integer
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply the learner's action, then play the opponents.

        Returns:
            Observation, reward (the payoff at the end, else 0), terminated,
            truncated (always False: the deadline ends episodes) and info
            (at the end: ``agreement``, ``round``, ``end_reason``).
        """
        game = self.game
        concrete = int(action)
        if self._general:
            concrete = self.translator.translate(self._learner_index, concrete)
            if concrete == SUBSTEP:
                return self._observation(), 0.0, False, False, {}
            if concrete == ILLEGAL:
                if game.config.illegal_action == "raise":
                    legal = np.flatnonzero(self.action_masks()).tolist()
                    raise IllegalActionError(
                        f"illegal action {int(action)} by {self.learner!r} "
                        f"({self.interface.name!r} actions); expected one of "
                        f"{legal}",
                        actor=self.learner,
                        action=action,
                        phase=game.infos[self.learner]["phase"],
                    )
                concrete = -1  # the env ends the episode with the penalty
        game.step(concrete)
        if self._advance():
            return self._observation(), 0.0, False, False, {}
        final = game.infos[self.learner]
        info = {
            "agreement": bool(final["agreement"]),
            "round": int(final["round"]),
            "end_reason": final["end_reason"],
        }
        reward = float(game.episodes.rewards[0, self._learner_index])
        return self._observation(), reward, True, False, info

    def action_masks(self) -> np.ndarray:
        """The learner's legal actions now (bool; MaskablePPO reads this)."""
        game = self.game
        if self._general:
            return self.translator.mask(self._learner_index).astype(bool)
        return self._masks[
            game.rules.mask_row(game.state, 0, self._learner_index, False)
        ]

    # -------------------------------------------------------------- internals
    def _observation(self) -> np.ndarray:
        if self._general:
            return self.translator.observation(
                self.game.observations, self._learner_index
            )
        return self.game.observations[self._learner_index].copy()

    def _advance(self) -> bool:
        """Play opponents until the learner must move (True) or the end (False)."""
        game = self.game
        learner = self.learner
        policies = self.policies
        terminations = game.terminations
        truncations = game.truncations
        infos = game.infos
        while True:
            agent = game.agent_selection
            if terminations[agent] or truncations[agent]:
                return False
            if agent == learner:
                return True
            game.step(policies[agent].act(game.observe(agent), infos[agent]))


def _build_env(spec: LearnerSpec) -> LearnerEnv:
    import peacegame.policies.learned  # noqa: F401 (registers 'learned' here too)

    return LearnerEnv(spec)


def make_vec_env(
    spec: LearnerSpec, n_envs: int, vec_env: str = "dummy", seed: int | None = None
) -> Any:
    """SB3's own vec env of ``n_envs`` learner envs, with ``VecMonitor``.

    Args:
        spec: What each env plays.
        n_envs: Number of envs.
        vec_env: ``dummy`` (in this process) or ``subproc`` (a process each).
        seed: Seeds env ``i`` with ``seed + i`` (None: leave unseeded).

    Returns:
        The ``VecMonitor``-wrapped vec env.
    """
    from functools import partial

    from stable_baselines3.common.vec_env import (
        DummyVecEnv,
        SubprocVecEnv,
        VecMonitor,
    )

    import peacegame.policies.learned  # noqa: F401 (registers 'learned')

    factories = [partial(_build_env, spec) for _ in range(n_envs)]
    if vec_env == "subproc" and n_envs > 1:
        venv = SubprocVecEnv(factories)
    else:
        venv = DummyVecEnv(factories)
    if seed is not None:
        venv.seed(seed)
    return VecMonitor(venv, info_keywords=("agreement",))


__all__ = ["LearnerEnv", "LearnerSpec", "make_vec_env"]
