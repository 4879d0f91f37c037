"""The policy interface and what a policy may see of the game.

Every policy, scripted, learned or user-written, implements two methods::

    reset(agent, view, rng)      # once per episode
    act(observation, info) -> int

``observation`` is the env's observation dict (``observation`` vector and
``action_mask``) and ``info`` the env's info dict (``phase``, ``round``,
``offer``). ``view`` is a :class:`PolicyView`: the actor's own utilities, the
public structure of the game, and the live public record of offers and votes.
Under ``information: private`` the view carries no one else's utilities or
no-deal values; under ``public`` it carries the whole compiled scenario.

A policy that moves from its view alone may say so with the class attribute
``reads_observation = False`` (the scripted strategies do): the match runner
then passes ``observation=None`` and the env builds no observation for it
(about a quarter of an env-path agent-step). Without the attribute a policy
gets the observation.

Likewise ``uses_rng = False`` (the scripted strategies again: their random
draws come from the engine's counter-based streams) makes the runners pass
``rng=None`` instead of building a generator that is never drawn from
(:func:`reset_policy`; five generators cost about 5% of an env-path match).
Every other policy gets ``numpy.random.default_rng([episode_seed, index])``,
``index`` being its actor's position in the scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from peacegame.engine.actions import SlotTranslator
from peacegame.engine.record import PublicRecord
from peacegame.engine.tables import Rules
from peacegame.engine.talk import Statements
from peacegame.scenario.compiled import CompiledScenario, IssueInfo
from peacegame.scenario.consent import ConsentTables


class ActionTranslators:
    """The engine's action interfaces in front of the slot a view watches.

    A policy trained under another action interface (a ``utility`` or
    ``issues`` checkpoint) plays in an env of concrete actions by asking for
    a :class:`~peacegame.engine.actions.SlotTranslator`: the engine's masks,
    observations (with the ``issues`` draft) and translation of its actions,
    built from the game's own :class:`~peacegame.engine.tables.Rules`, so no
    rule is restated in a policy. The translator works on the engine's tables;
    under private information its proposals still follow the documented
    private rule (the proposer's own utilities only).

    Args:
        rules: The game's tables (the env's).
        state: The live state matrix.
        slot: The slot.
    """

    def __init__(self, rules: Rules, state: np.ndarray, slot: int) -> None:
        self._rules = rules
        self._state = state
        self._slot = slot
        self._interfaces: dict[tuple[str, int, str, bool], Any] = {}

    def translator(
        self,
        actions: str,
        utility_bins: int,
        utility_ties: str = "first",
        utility_snap: bool = False,
    ) -> SlotTranslator:
        """A fresh translator (its own draft) for interface ``actions``.

        Raises:
            ValueError: On an unknown interface or tie rule, or
                ``utility_bins < 1``.
        """
        key = (actions, int(utility_bins), utility_ties, bool(utility_snap))
        interface = self._interfaces.get(key)
        if interface is None:
            rules = self._rules
            config = rules.config
            ours = (
                config.actions,
                config.utility_bins,
                config.utility_ties,
                config.utility_snap,
            )
            if ours == key:
                interface = rules.interface
            else:
                config = rules.config.model_copy(
                    update={
                        "actions": actions,
                        "utility_bins": int(utility_bins),
                        "utility_ties": utility_ties,
                        "utility_snap": bool(utility_snap),
                    }
                )
                interface = Rules(rules.scenario, config).interface
            self._interfaces[key] = interface
        rules = self._rules
        return SlotTranslator(
            rules.game, interface, self._state, self._slot, rules.observation_size
        )


@dataclass(frozen=True)
class PolicyView:
    """What one actor may know of the game.

    Attributes:
        agent: The actor's id.
        index: The actor's index in ``actors``.
        actors: All actor ids.
        issues: The issues and their levels (public).
        levels: ``[n_outcomes, n_issues]`` level indices (public).
        required: ``bool[n_actors, n_outcomes]``, who votes on each outcome
            (public).
        consent: The voting rules: which coalitions carry an outcome (public).
        recognition: Recognition probabilities (public).
        utility: ``float32[n_outcomes]``, this actor's utilities.
        order: This actor's outcomes, best first.
        no_deal: This actor's no-deal value.
        discount: This actor's per-round discount.
        max_rounds: The deadline.
        information: ``"private"`` or ``"public"``.
        record: The live public record of completed rounds.
        public: The whole compiled scenario under public information, else None.
        talk: ``"none"`` or ``"public"`` (whether moves may carry statements).
        statements: The live statements of the episode under ``talk: public``
            (read what is public with ``statements.visible(round)``), else None.
        scenario_name: The scenario's name (public).
        fields: Observation field name -> slice of the observation vector.
        translators: The engine's action interfaces over this slot (for
            policies that act in another interface), or None.
    """

    agent: str
    index: int
    actors: tuple[str, ...]
    issues: tuple[IssueInfo, ...]
    levels: np.ndarray
    required: np.ndarray
    consent: ConsentTables
    recognition: np.ndarray
    utility: np.ndarray
    order: np.ndarray
    no_deal: float
    discount: float
    max_rounds: int
    information: str
    record: PublicRecord
    public: CompiledScenario | None
    talk: str = "none"
    statements: Statements | None = None
    scenario_name: str = ""
    fields: dict[str, slice] | None = None
    translators: ActionTranslators | None = None

    @property
    def n_outcomes(self) -> int:
        """Number of outcomes (proposal actions are ``0 .. n_outcomes - 1``)."""
        return int(self.levels.shape[0])

    @property
    def accept_action(self) -> int:
        """The ACCEPT action."""
        return self.n_outcomes

    @property
    def reject_action(self) -> int:
        """The REJECT action."""
        return self.n_outcomes + 1

    @property
    def wait_action(self) -> int:
        """The WAIT action (parallel env, nothing to do)."""
        return self.n_outcomes + 2


def make_view(
    rules: Rules,
    agent: str,
    record: PublicRecord,
    statements: Statements | None = None,
) -> PolicyView:
    """Build ``agent``'s view of a game played under ``rules``.

    Args:
        rules: The game's tables.
        agent: The actor.
        record: The live public record of the episode.
        statements: The live statements of the episode (``talk: public``).
    """
    scenario = rules.scenario
    i = scenario.actor_index(agent)
    public = rules.config.information == "public"
    return PolicyView(
        agent=agent,
        index=i,
        actors=scenario.actors,
        issues=scenario.issues,
        levels=scenario.levels,
        required=scenario.required,
        consent=scenario.consent,
        recognition=scenario.recognition,
        utility=scenario.utility[i],
        order=scenario.order[i],
        no_deal=float(scenario.no_deal[i]),
        discount=float(scenario.discount[i]),
        max_rounds=rules.max_rounds,
        information=rules.config.information,
        record=record,
        public=scenario if public else None,
        talk=rules.config.talk,
        statements=statements if rules.config.talk == "public" else None,
        scenario_name=scenario.name,
        fields=dict(rules.fields),
        translators=ActionTranslators(rules, record.state, record.slot),
    )


def reset_policy(
    policy: Any, agent: str, view: PolicyView, episode_seed: int, index: int
) -> None:
    """Reset ``policy`` for an episode, with its generator if it draws from one.

    The one place that says which generator a policy gets: ``default_rng(
    [episode_seed, index])``, or None for a policy whose class declares
    ``uses_rng = False``.

    Args:
        policy: The policy.
        agent: The actor it plays.
        view: Its view of the game.
        episode_seed: The episode's seed.
        index: The actor's position in the scenario.
    """
    if getattr(policy, "uses_rng", True):
        policy.reset(agent, view, np.random.default_rng([episode_seed, index]))
    else:
        policy.reset(agent, view, None)


@runtime_checkable
class Policy(Protocol):
    """The interface every policy implements."""

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Prepare for a new episode as ``agent``."""
        ...

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Return a legal action for the current observation."""
        ...
