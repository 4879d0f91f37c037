"""The negotiation as an RLlib multi-agent env, and scripted actors as RL modules.

:class:`RllibNegotiationEnv` wraps the PettingZoo AEC env (``raw_env``) as a
turn-based ``MultiAgentEnv``: each step returns the observation of the one actor
that moves next, and at the end every actor that has moved gets its final
observation and its payoff (the reward comes at the end only).

Observations are renamed for RLlib's action-masking RL module
(``ray.rllib.examples.rl_modules.classes.action_masking_rlm``), which expects
``Dict(observations=..., action_mask=...)``; the mask is float32 there (the
module takes its log). ``disable_env_checking=True`` must be set: RLlib's env
checker sends unmasked random actions, which this env rejects.

**Scripted actors** (every actor not in ``trainable``) play their configured
policy through :class:`ScriptedRLModule`, a non-trainable RL module. A scripted
strategy reads the public record of offers and votes and the env's info, which
live in the env, not in an observation vector; so when such an actor is to move
the env computes its strategy's action and hands it to the module as the
observation ``Dict(scripted_action=...)``, and the module returns it. The env
checks that the action it gets back is that one.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from peacegame.engine import Rules
from peacegame.engine.actions import ILLEGAL, KIND_OUTCOME, SUBSTEP, SlotTranslator
from peacegame.engine.rules import MASK_NONE
from peacegame.env import NegotiationEnv
from peacegame.policies import make_policy, make_view, reset_policy
from peacegame.protocol import ProtocolConfig
from peacegame.scenario import load_compiled

SCRIPTED_KEY = "scripted_action"
"""Observation key carrying a scripted actor's move to its module."""


class RllibNegotiationEnv(MultiAgentEnv):
    """The negotiation for RLlib (see the module doc).

    Args:
        config: ``scenario`` (a scenario YAML path), ``protocol`` (a
            ``ProtocolConfig`` dict), ``policies`` (actor -> policy spec, used
            for the actors not in ``trainable``), ``trainable`` (actor ids),
            ``config_file`` (the match file, for errors and relative paths).
    """

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        import peacegame.policies.learned  # noqa: F401 (frozen learned opponents)

        super().__init__()
        config = dict(config or {})
        scenario = load_compiled(config.get("scenario"))
        protocol = ProtocolConfig.model_validate(config.get("protocol") or {})
        # Scripted actors act in concrete actions; the trainable actors'
        # interface (protocol.actions) is translated in front by the engine.
        self.game = NegotiationEnv(
            scenario=scenario,
            protocol=protocol.model_copy(update={"actions": "outcome"}),
            max_cycles=protocol.max_rounds + 1,
        )
        learner_rules = Rules(scenario, protocol)
        self.interface = learner_rules.interface
        self._general = self.interface.kind != KIND_OUTCOME
        self.translator = SlotTranslator(
            self.game.rules.game,
            self.interface,
            self.game.state,
            0,
            self.game.rules.observation_size,
        )
        actors = list(scenario.actors)
        self.trainable = list(config.get("trainable") or actors)
        specs = config.get("policies") or {}
        file = config.get("config_file")
        self.scripted = {
            actor: make_policy(specs[actor], file=file, field=f"policies.{actor}")
            for actor in actors
            if actor not in self.trainable
        }
        rules = self.game.rules
        self.views = {
            actor: make_view(rules, actor, self.game.record) for actor in self.scripted
        }
        self._index = {a: i for i, a in enumerate(actors)}
        self.possible_agents = list(actors)
        self.agents = list(actors)
        n_actions = rules.n_actions
        learner_actions = self.interface.n_actions
        inner = gym.spaces.Box(
            learner_rules.interface_low,
            learner_rules.interface_high,
            (learner_rules.interface_observation_size,),
            np.float32,
        )
        self.observation_spaces = {}
        for actor in actors:
            if actor in self.scripted:
                space = gym.spaces.Dict(
                    {SCRIPTED_KEY: gym.spaces.Box(0, n_actions - 1, (1,), np.int64)}
                )
            else:
                space = gym.spaces.Dict(
                    {
                        "observations": inner,
                        "action_mask": gym.spaces.Box(
                            0.0, 1.0, (learner_actions,), np.float32
                        ),
                    }
                )
            self.observation_spaces[actor] = space
        self.action_spaces = {
            a: gym.spaces.Discrete(n_actions if a in self.scripted else learner_actions)
            for a in actors
        }
        self.obs_size = int(inner.shape[0])
        self._masks = rules.masks.astype(np.float32)
        self._expected: int | None = None
        self._moved: set[str] = set()
        self._rng = np.random.default_rng()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start an episode; return the first mover's observation."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        episode_seed = int(self._rng.integers(2**63 - 1))
        self.game.reset(seed=episode_seed)
        self.translator.reset()
        for actor, policy in self.scripted.items():
            reset_policy(
                policy, actor, self.views[actor], episode_seed, self._index[actor]
            )
        self._moved = set()
        agent = self.game.agent_selection
        return {agent: self._observe(agent)}, {}

    def step(
        self, action_dict: dict[str, Any]
    ) -> tuple[
        dict[str, Any], dict[str, float], dict[str, bool], dict[str, bool], dict
    ]:
        """Apply the mover's action; return the next mover's observation."""
        game = self.game
        agent = game.agent_selection
        action = int(action_dict[agent])
        if agent in self.scripted and action != self._expected:
            raise RuntimeError(
                f"the scripted module of {agent} returned {action}, its strategy "
                f"chose {self._expected}"
            )
        self._moved.add(agent)
        if self._general and agent not in self.scripted:
            action = self.translator.translate(self._index[agent], action)
            if action == SUBSTEP:  # an issues sub-step: the same actor again
                done = {"__all__": False}
                return {agent: self._observe(agent)}, {agent: 0.0}, done, dict(done), {}
            if action == ILLEGAL:
                action = -1  # the env raises or ends the episode (penalize)
        game.step(action)
        nxt = game.agent_selection
        if not (game.terminations[nxt] or game.truncations[nxt]):
            # RLlib wants a reward with every next observation of a mover.
            rewards = {nxt: 0.0} if nxt in self._moved else {}
            done = {"__all__": False}
            return {nxt: self._observe(nxt)}, rewards, done, dict(done), {}
        payoffs = game.episodes.rewards[0]
        rewards = {a: float(payoffs[self._index[a]]) for a in self._moved}
        observations = {a: self._observe(a, final=True) for a in self._moved}
        truncated = bool(game.truncations[nxt])
        return (
            observations,
            rewards,
            {"__all__": not truncated},
            {"__all__": truncated},
            {},
        )

    def _observe(self, agent: str, final: bool = False) -> dict[str, np.ndarray]:
        game = self.game
        if agent in self.scripted:
            if final:
                self._expected = None
                return {SCRIPTED_KEY: np.zeros(1, np.int64)}
            action = self.scripted[agent].act(game.observe(agent), game.infos[agent])
            self._expected = int(action)
            return {SCRIPTED_KEY: np.array([action], np.int64)}
        i = self._index[agent]
        if self._general:
            mask = self.translator.mask(i).astype(np.float32)
            if final:
                mask[:] = 0.0
            return {
                "observations": self.translator.observation(game.observations, i),
                "action_mask": mask,
            }
        row = MASK_NONE if final else game.rules.mask_row(game.state, 0, i, False)
        return {
            "observations": game.observations[i].copy(),
            "action_mask": self._masks[row].copy(),
        }


class ScriptedRLModule(RLModule):
    """A non-trainable module that plays the move its env computed (module doc).

    Keep it out of ``policies_to_train``: it has no parameters and no
    ``_forward_train``.
    """

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict:
        actions = batch[Columns.OBS][SCRIPTED_KEY]
        if hasattr(actions, "numpy"):
            actions = actions.numpy()
        return {Columns.ACTIONS: np.asarray(actions, np.int64).reshape(-1)}

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict:
        return self._forward_inference(batch, **kwargs)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict:
        raise NotImplementedError(
            "ScriptedRLModule is not trainable; keep it out of policies_to_train"
        )


__all__ = ["SCRIPTED_KEY", "RllibNegotiationEnv", "ScriptedRLModule"]
