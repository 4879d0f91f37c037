# ruff: noqa: D212, D415
"""
# Peace negotiation (peacegame_v0)

| Creation     | `make("aec", "peacegame/negotiation-v0")` or `peacegame.env()` |
|--------------|----------------------------------------------------------------|
| Parallel API | native: `make("parallel", ...)` or `peacegame.parallel_env()`  |
| Agents       | the scenario's actor ids (default russia china ukraine us eu)  |
| Actions      | Discrete(n_outcomes + 3)                                       |
| Observation  | Dict(observation=Box(float32), action_mask=Box(int8))          |
| Rewards      | at the end only: δ_i^r·U_i(o) on agreement in round r, else d_i |

Actors bargain over a multi-issue outcome (by default the composition of a
peacekeeping force for Ukraine, `configs/scenarios/ukraine-2025.yaml`). The rules
live in `peacegame.protocol`; this module is a thin adapter that serves them as a
PettingZoo AEC env (`raw_env`, `env()` with PettingZoo's usual wrappers) and as a
native parallel env (`parallel_env()`). Both drive the same `Protocol`, so they
produce identical episodes from the same seed and the same per-actor policies.

### Rounds

Rounds are numbered from 0. Each round is a proposal step then a vote step:

1. The round's proposer (rotating order, or drawn from the recognition
   probabilities with `proposer="random"`) proposes an outcome.
2. Every actor whose consent that outcome requires, other than the proposer,
   votes ACCEPT or REJECT, simultaneously: no observation shows a vote of the
   current round before all of the round's votes are in. All accept: agreement,
   the episode ends. A proposal that needs nobody else's consent is agreed at
   once. Any reject: after the last round (`max_rounds`) the episode ends in
   disagreement; else, with `breakdown_prob > 0`, talks break down with that
   probability; else the next round starts.

In the **AEC env** only the actor with a move is selected: the proposer, then the
voters one by one in the scenario's actor order. In the **parallel env** every
live actor acts at every step; an actor with nothing to do has only WAIT legal.

### Action space

`Discrete(n_outcomes + 3)`:

| action                 | meaning                                                   |
|------------------------|-----------------------------------------------------------|
| `0 .. n_outcomes - 1`  | propose outcome `k` (`env.unwrapped.scenario.decode(k)`)  |
| `n_outcomes`           | ACCEPT                                                    |
| `n_outcomes + 1`       | REJECT                                                    |
| `n_outcomes + 2`       | WAIT (parallel env only, for an actor with nothing to do) |

The legal moves are in the `action_mask` (int8, 1 = legal). In the AEC env it is
all zeros for every agent but the one to move; in both envs it is all zeros once
the episode has ended.

An illegal action raises `ValueError` naming the agent, the action and the phase
(`illegal_action="raise"`, the default), or, with `illegal_action="penalize"`,
ends the episode: the offender gets `illegal_penalty` (default -1), every other
actor 0 (PettingZoo's TerminateIllegal convention). In the parallel env, a mover
that sends no action has acted illegally; an actor without a move may leave its
WAIT out.

### Observation space

`observation` is a float32 vector; with `n` actors, `L` issue levels in all and
`h = history_length` it holds, in order (the fields that change together are
adjacent, so a proposal rewrites one block):

| field              | size | values                                              |
|--------------------|------|-----------------------------------------------------|
| `phase`            | 3    | one-hot: propose, vote, done                        |
| `round_fraction`   | 1    | round / max_rounds, in [0, 1)                       |
| `role`             | 3    | my role this round, one-hot: proposer, voter, idle  |
| `proposer`         | n    | one-hot: the round's proposer                       |
| `offer`            | L    | the offer on the table, one-hot per issue (or 0)    |
| `consent`          | n    | 1 for each actor whose consent the offer requires   |
| `public_utilities` | n    | `information="public"` only (absent otherwise): the |
|                    |      | offer's utility to every actor                      |
| `offer_utility`    | 1    | the offer's utility to me (0 if none)               |
| `no_deal`          | 1    | my no-deal value d                                  |
| `discount`         | 1    | my per-round discount δ                             |
| `last_votes`       | n    | last round's votes: +1 accept, -1 reject, 0 none    |
| `history`          | h    | past offers' utility to me, latest first; -1: none  |

"My role" is the round's: the proposer keeps the proposer role during the vote
step; a voter is an actor whose consent the offer on the table requires. The
history holds the offers of the last h completed rounds.

`env.unwrapped.observation_fields` maps each field name to its slice. The
`action_mask` is described above. Observation and action spaces are created once
per agent and the same object is returned on every call.

### Info

Every agent's info holds `phase`, `round` and `offer` (the outcome index on the
table, -1 if none). Once the episode has ended it also holds `outcome` (the
agreed outcome index, -1 without agreement), `decoded` (the agreed outcome as
`{issue: level}`, or None), `agreement` (bool) and `end_reason` (`agreement`,
`deadline`, `breakdown`, `illegal` or `truncated`).

### Rewards

Rewards come once, at the end: on agreement on outcome `o` in round `r` actor
`i` gets `discount_i ** r * U_i(o)`; on disagreement (deadline or breakdown) its
no-deal value `d_i`. Utilities lie in [0, 1]. A `max_cycles` truncation gives 0.

### Arguments

`scenario` (a `CompiledScenario`, a path to a scenario YAML, or None for the
default scenario), `render_mode` (`"ansi"`: `render()` returns the transcript;
`"human"`: prints it), `max_cycles` (truncation limit: AEC cycles are rounds, in
which every actor with a move moves once; parallel cycles are steps; default
100,000), `protocol` (a `ProtocolConfig` or dict), and every `ProtocolConfig`
field as a keyword (`max_rounds=20`, `proposer="rotating"`, `order=None`,
`breakdown_prob=0.0`, `information="private"`, `illegal_action="raise"`,
`illegal_penalty=-1.0`, `history_length=3`), which override `protocol`.

### Version history

* v0: initial release.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import numpy as np
import pettingzoo
from gymnasium import logger, spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import wrappers

from peacegame.protocol import (
    DONE,
    PHASES,
    PROPOSE,
    VOTE,
    Protocol,
    ProtocolConfig,
    ProtocolState,
)
from peacegame.record import PublicRecord
from peacegame.scenario.compiled import CompiledScenario

__all__ = [
    "ENV_ID",
    "NegotiationEnv",
    "NegotiationParallelEnv",
    "env",
    "parallel_env",
    "raw_env",
    "register_envs",
]

ENV_ID = "peacegame/negotiation-v0"
"""The id under which `register_envs` registers both envs with PettingZoo."""

DEFAULT_MAX_CYCLES = 100_000
"""Default truncation limit, far beyond any sensible ``max_rounds``."""

METADATA: dict[str, Any] = {
    "name": "peacegame_v0",
    "render_modes": ["ansi", "human"],
    "is_parallelizable": True,
}

_PHASE_CODE = {phase: code for code, phase in enumerate(PHASES)}


def _load_scenario(scenario: CompiledScenario | str | Path | None) -> CompiledScenario:
    """Return a compiled scenario from a scenario, a YAML path or None (default)."""
    if isinstance(scenario, CompiledScenario):
        return scenario
    if scenario is not None and not isinstance(scenario, str | Path):
        raise TypeError(
            "scenario must be a CompiledScenario, a path to a scenario YAML or "
            f"None (the default scenario), got {type(scenario).__name__}"
        )
    from peacegame.scenario import load_compiled

    return load_compiled(scenario)


def _protocol_config(
    protocol: ProtocolConfig | dict[str, Any] | None, overrides: dict[str, Any]
) -> ProtocolConfig:
    """Merge a base protocol config with keyword overrides (validated)."""
    if isinstance(protocol, ProtocolConfig):
        base = protocol.model_dump()
    elif protocol is None:
        base = {}
    elif isinstance(protocol, dict):
        base = dict(protocol)
    else:
        raise TypeError(
            f"protocol must be a ProtocolConfig, a dict or None, got "
            f"{type(protocol).__name__}"
        )
    return ProtocolConfig.model_validate({**base, **overrides})


def _action_index(action: Any) -> int | None:
    """Return an action as a Python int, or None if it is not an integer."""
    try:
        return operator.index(action)
    except TypeError:
        return None


class ActionSpace(spaces.Discrete):
    """``Discrete(n)`` whose ``contains`` answers Python ints without numpy.

    ``AssertOutOfBoundsWrapper`` calls ``contains`` on every step; gymnasium's
    version converts the action to ``np.int64`` first (about 2 µs, a third of
    this env's step). Every other input takes gymnasium's path unchanged.
    """

    def __init__(self, n: int, seed: int | np.random.Generator | None = None) -> None:
        """Create the space of actions ``0 .. n - 1``."""
        super().__init__(n, seed=seed)
        self._size = int(n)

    def contains(self, x: Any) -> bool:
        """Return whether ``x`` is a valid action."""
        if type(x) is int:
            return 0 <= x < self._size
        return super().contains(x)


class ObservationTable:
    """All actors' observation vectors, kept in one preallocated matrix.

    The env rewrites the matrix only when the state changes in a way an actor
    can see (a proposal, the end of a round). Each write is a few vectorised
    assignments of blocks precomputed per outcome (or per proposer and voter
    set), with no loop over outcomes; ``observe`` copies one row.

    Attributes:
        fields: Field name -> slice of the observation vector.
        size: Length of the observation vector.
        matrix: ``float32[n_actors, size]``, row ``i`` is actor ``i``'s
            observation.
        rows: The rows of ``matrix``, as views.
        low: Lower bounds of the observation vector.
        high: Upper bounds of the observation vector.
    """

    def __init__(self, protocol: Protocol) -> None:
        """Lay out the vector and precompute the per-outcome blocks.

        Args:
            protocol: The protocol (its scenario and config fix the layout).
        """
        scenario = protocol.scenario
        config = protocol.config
        n = scenario.n_actors
        n_outcomes = scenario.n_outcomes
        public = config.information == "public"
        level_counts = [issue.n_levels for issue in scenario.issues]
        sizes = [
            ("phase", 3),
            ("round_fraction", 1),
            ("role", 3),
            ("proposer", n),
            ("offer", sum(level_counts)),
            ("consent", n),
            ("public_utilities", n if public else 0),
            ("offer_utility", 1),
            ("no_deal", 1),
            ("discount", 1),
            ("last_votes", n),
            ("history", config.history_length),
        ]
        self.fields: dict[str, slice] = {}
        start = 0
        for name, size in sizes:
            if size or name != "public_utilities":
                self.fields[name] = slice(start, start + size)
            start += size
        self.size = start
        self._protocol = protocol
        self._inverse_max_rounds = 1.0 / config.max_rounds
        fields = self.fields

        no_deal = np.asarray(scenario.no_deal, np.float32)
        discount = np.asarray(scenario.discount, np.float32)
        self.low = np.zeros(self.size, np.float32)
        self.high = np.ones(self.size, np.float32)
        for name in ("last_votes", "history"):
            self.low[fields[name]] = -1.0
        self.low[fields["no_deal"]] = min(0.0, float(no_deal.min()))
        self.high[fields["no_deal"]] = max(1.0, float(no_deal.max()))

        # Blocks per outcome, with one extra last row for "no offer" (index -1).
        # Offer block: offer one-hot per issue | consent | [public utilities].
        utility = np.asarray(scenario.utility, np.float32)
        offer_start = fields["offer"].start
        offer_stop = fields["offer_utility"].start
        offer_blocks = np.zeros((n_outcomes + 1, offer_stop - offer_start), np.float32)
        outcomes = np.arange(n_outcomes)
        column = 0
        for issue, count in enumerate(level_counts):
            offer_blocks[outcomes, column + scenario.levels[:, issue]] = 1.0
            column += count
        consent = slice(fields["consent"].start - offer_start, None)
        offer_blocks[:n_outcomes, consent][:, :n] = scenario.required.T
        if public:
            offer_blocks[:n_outcomes, -n:] = utility.T
        self._offer_blocks = offer_blocks
        self._utility_or_zero = np.zeros((n, n_outcomes + 1), np.float32)
        self._utility_or_zero[:, :n_outcomes] = utility
        self._utility_or_minus_one = np.full((n, n_outcomes + 1), -1.0, np.float32)
        self._utility_or_minus_one[:, :n_outcomes] = utility
        self._phase_rows = np.eye(3, dtype=np.float32)
        # votes are int8 -1/0/1 (none/reject/accept); index -1 is the last entry.
        self._vote_values = np.array([-1.0, 1.0, 0.0], np.float32)
        self._role_blocks: dict[tuple[tuple[int, ...], int], np.ndarray] = {}

        self.matrix = np.zeros((n, self.size), np.float32)
        self.matrix[:, fields["no_deal"]] = no_deal[:, None]
        self.matrix[:, fields["discount"]] = discount[:, None]
        self.rows: list[np.ndarray] = list(self.matrix)
        matrix = self.matrix
        self._phase = matrix[:, fields["phase"]]
        self._round = matrix[:, fields["round_fraction"].start]
        self._role_and_proposer = matrix[:, fields["role"].start : offer_start]
        self._offer_block = matrix[:, offer_start:offer_stop]
        self._offer_utility = matrix[:, offer_stop]
        self._last_votes = matrix[:, fields["last_votes"]]
        self._history = matrix[:, fields["history"]]

    def _role_block(self, voters: tuple[int, ...], proposer: int) -> np.ndarray:
        """Role one-hot and proposer one-hot of every actor, cached."""
        key = (voters, proposer)
        block = self._role_blocks.get(key)
        if block is None:
            n = len(self.rows)
            block = np.zeros((n, 3 + n), np.float32)
            block[:, 2] = 1.0
            block[list(voters), 1:3] = (1.0, 0.0)
            block[proposer, 0:3] = (1.0, 0.0, 0.0)
            block[:, 3 + proposer] = 1.0
            self._role_blocks[key] = block
        return block

    def write_offer(self, state: ProtocolState) -> None:
        """Rewrite what a proposal changes: phase, roles and the offer fields."""
        offer = state.offer
        self._phase[:] = self._phase_rows[_PHASE_CODE[state.phase]]
        self._role_and_proposer[:] = self._role_block(
            self._protocol.voter_order(state), state.proposer
        )
        self._offer_block[:] = self._offer_blocks[offer]
        self._offer_utility[:] = self._utility_or_zero[:, offer]

    def write(self, state: ProtocolState) -> None:
        """Rewrite every field that can change."""
        self.write_offer(state)
        self._round[:] = state.round * self._inverse_max_rounds
        self._last_votes[:] = self._vote_values[state.last_votes]
        if state.history.size:
            self._history[:] = self._utility_or_minus_one[:, state.history]


class _Transcript:
    """A readable record of an episode, kept only when a render mode is set."""

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self.lines: list[str] = []

    def start(self) -> None:
        protocol = self._protocol
        scenario = protocol.scenario
        config = protocol.config
        self.lines = [
            f"{scenario.name}: {scenario.n_actors} actors "
            f"({', '.join(scenario.actors)}), {scenario.n_outcomes} outcomes; "
            f"{config.proposer} proposer, at most {config.max_rounds} rounds"
        ]

    def proposal(self, state: ProtocolState, round_index: int, proposer: int) -> None:
        protocol = self._protocol
        actors = protocol.actors
        offer = state.offer
        self.lines.append(
            f"Round {round_index}: {actors[proposer]} proposes #{offer}: "
            f"{protocol.scenario.describe(offer)}"
        )
        voters = [actors[i] for i in np.flatnonzero(state.voters)]
        if voters:
            self.lines.append(f"  needs the consent of: {', '.join(voters)}")
        else:
            self.lines.append("  needs nobody else's consent")

    def votes(self, state: ProtocolState) -> None:
        actors = self._protocol.actors
        cast = [
            f"{actors[i]} {'ACCEPT' if vote == 1 else 'REJECT'}"
            for i, vote in enumerate(state.last_votes.tolist())
            if vote >= 0
        ]
        if cast:
            verdict = "rejected" if 0 in state.last_votes.tolist() else "accepted"
            self.lines.append(f"  votes: {', '.join(cast)} -> {verdict}")

    def illegal(self, message: str) -> None:
        self.lines.append(f"Illegal action: {message}")

    def end(self, state: ProtocolState, reason: str) -> None:
        protocol = self._protocol
        if reason == "agreement":
            self.lines.append(
                f"Agreement in round {state.round} on #{state.outcome}: "
                f"{protocol.scenario.describe(state.outcome)}"
            )
        elif reason == "deadline":
            self.lines.append(
                f"Deadline: no agreement after {protocol.max_rounds} rounds"
            )
        elif reason == "breakdown":
            self.lines.append(f"Breakdown: talks collapsed after round {state.round}")
        elif reason == "illegal":
            self.lines.append("The episode ends after an illegal action")
        else:
            self.lines.append("Truncated (max_cycles reached)")
        rewards = (
            state.rewards if reason != "truncated" else np.zeros(len(state.rewards))
        )
        self.lines.append(
            "Rewards: "
            + ", ".join(
                f"{actor} {reward:.3f}"
                for actor, reward in zip(protocol.actors, rewards.tolist(), strict=True)
            )
        )

    def text(self, state: ProtocolState | None, to_move: str | None) -> str:
        lines = list(self.lines)
        if state is not None and state.phase != DONE and to_move:
            lines.append(f"(round {state.round}, {state.phase} step: {to_move})")
        return "\n".join(lines)


class _NegotiationBase:
    """Construction, spaces, observations, infos and rendering shared by both envs."""

    metadata = METADATA

    def _setup(
        self,
        scenario: CompiledScenario | str | Path | None,
        render_mode: str | None,
        max_cycles: int,
        protocol: ProtocolConfig | dict[str, Any] | None,
        protocol_options: dict[str, Any],
    ) -> None:
        if render_mode is not None and render_mode not in METADATA["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {METADATA['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        if isinstance(max_cycles, bool) or _action_index(max_cycles) is None:
            raise TypeError(f"max_cycles must be an int, got {max_cycles!r}")
        if max_cycles < 1:
            raise ValueError(f"max_cycles must be >= 1, got {max_cycles}")
        self.scenario = _load_scenario(scenario)
        self.config = _protocol_config(protocol, protocol_options)
        self.protocol = Protocol(self.scenario, self.config)
        self.render_mode = render_mode
        self.max_cycles = int(max_cycles)
        self.possible_agents: list[str] = list(self.scenario.actors)
        self.agent_name_mapping = {a: i for i, a in enumerate(self.possible_agents)}
        self._index = self.agent_name_mapping
        self.table = ObservationTable(self.protocol)
        self._rows = self.table.rows
        self.observation_fields = dict(self.table.fields)
        n_actions = self.protocol.n_actions
        self.observation_spaces = {
            agent: spaces.Dict(
                {
                    "observation": spaces.Box(
                        low=self.table.low,
                        high=self.table.high,
                        shape=(self.table.size,),
                        dtype=np.float32,
                    ),
                    "action_mask": spaces.Box(
                        low=0, high=1, shape=(n_actions,), dtype=np.int8
                    ),
                }
            )
            for agent in self.possible_agents
        }
        self.action_spaces = {
            agent: ActionSpace(n_actions) for agent in self.possible_agents
        }
        self.np_random: np.random.Generator | None = None
        self.np_random_seed: int | None = None
        self.game: ProtocolState | None = None
        self.record = PublicRecord(self.protocol.n_actors, self.config.max_rounds)
        self._transcript = _Transcript(self.protocol) if render_mode else None

    def observation_space(self, agent: str) -> spaces.Space:
        """Return the agent's observation space (the same object every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """Return the agent's action space (the same object every call)."""
        return self.action_spaces[agent]

    def _seed(self, seed: int | None) -> np.random.Generator:
        if seed is not None or self.np_random is None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        return self.np_random

    def _running_info(self, state: ProtocolState) -> dict[str, Any]:
        return {"phase": state.phase, "round": state.round, "offer": state.offer}

    def _final_info(self, state: ProtocolState, reason: str) -> dict[str, Any]:
        outcome = state.outcome if reason != "truncated" else -1
        return {
            "phase": state.phase,
            "round": state.round,
            "offer": state.offer,
            "outcome": outcome,
            "decoded": self.scenario.decode(outcome) if outcome >= 0 else None,
            "agreement": bool(state.agreement) and reason != "truncated",
            "end_reason": reason,
        }

    def _to_move(self) -> str | None:
        return None

    def render(self) -> str | None:
        """Render the transcript: who proposed what, each vote, the result.

        Returns:
            The transcript (``"ansi"``), or None (``"human"`` prints it).
        """
        if self._transcript is None:
            logger.warn(
                "You are calling render method without specifying any render mode."
            )
            return None
        text = self._transcript.text(self.game, self._to_move())
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Release resources (there are none to release)."""


class NegotiationEnv(_NegotiationBase, AECEnv):
    """The negotiation as a PettingZoo AEC env (``raw_env``; see the module doc).

    Attributes:
        scenario: The compiled scenario.
        config: The protocol configuration.
        protocol: The rules.
        game: The protocol state of the current episode.
        record: The public record of the episode's completed rounds (offers,
            proposers, votes), filled as each round ends.
        observation_fields: Observation field name -> slice.
    """

    metadata = METADATA

    def __init__(
        self,
        scenario: CompiledScenario | str | Path | None = None,
        render_mode: str | None = None,
        max_cycles: int = DEFAULT_MAX_CYCLES,
        protocol: ProtocolConfig | dict[str, Any] | None = None,
        **protocol_options: Any,
    ) -> None:
        """Build the env.

        Args:
            scenario: A compiled scenario, a path to a scenario YAML, or None
                for the default scenario.
            render_mode: None, ``"ansi"`` or ``"human"``.
            max_cycles: Truncate after this many rounds.
            protocol: Base protocol configuration.
            **protocol_options: ``ProtocolConfig`` fields, overriding
                ``protocol``.
        """
        super().__init__()
        self._setup(scenario, render_mode, max_cycles, protocol, protocol_options)
        self._voter_queue: tuple[int, ...] = ()
        self._queue_position = 0
        self._selected_mask: np.ndarray | None = None

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> None:
        """Start a new episode (fully determined by ``seed`` when given)."""
        rng = self._seed(seed)
        self.game = game = self.protocol.reset(rng)
        agents = list(self.possible_agents)
        self.agents = agents
        self.rewards = dict.fromkeys(agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(agents, 0.0)
        self.terminations = dict.fromkeys(agents, False)
        self.truncations = dict.fromkeys(agents, False)
        self.infos = dict.fromkeys(agents, self._running_info(game))
        self.record.reset()
        self.table.write(game)
        self.agent_selection = agents[game.proposer]
        self._selected_mask = self.protocol.propose_mask
        self._voter_queue = ()
        self._queue_position = 0
        if self._transcript is not None:
            self._transcript.start()

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """Return ``agent``'s observation and action mask."""
        return {
            "observation": self._rows[self._index[agent]].copy(),
            "action_mask": self.action_mask(agent),
        }

    def last(
        self, observe: bool = True
    ) -> tuple[dict[str, np.ndarray] | None, float, bool, bool, dict[str, Any]]:
        """Return the selected agent's observation, cumulative reward, flags, info."""
        agent = self.agent_selection
        return (
            self.observe(agent) if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def action_mask(self, agent: str) -> np.ndarray:
        """Return ``agent``'s action mask (shared, read-only).

        Only the agent to move has legal actions; every other agent's mask, and
        every mask once the episode has ended, is all zeros.
        """
        if agent == self.agent_selection and self._selected_mask is not None:
            return self._selected_mask
        return self.protocol.empty_mask

    def _to_move(self) -> str | None:
        if self.game is None or not self.agents:
            return None
        return f"{self.agent_selection} to move"

    def step(self, action: Any) -> None:
        """Apply the selected agent's action (see the module doc)."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        game = self.game
        protocol = self.protocol
        self._cumulative_rewards[agent] = 0.0
        value = action if type(action) is int else _action_index(action)
        proposer, offer = game.proposer, game.offer
        if game.phase == VOTE:
            if value == protocol.accept_action:
                protocol.vote(game, self._index[agent], True, self.np_random)
            elif value == protocol.reject_action:
                protocol.vote(game, self._index[agent], False, self.np_random)
            else:
                self._illegal(agent, action)
                return
            if game.phase == VOTE:  # more votes to come
                self._queue_position += 1
                self.agent_selection = self.possible_agents[
                    self._voter_queue[self._queue_position]
                ]
                return
        else:
            if value is None or not 0 <= value < protocol.n_outcomes:
                self._illegal(agent, action)
                return
            round_index, offer = game.round, value
            protocol.propose(game, value, self.np_random)
            if self._transcript is not None:
                self._transcript.proposal(game, round_index, proposer)
            if game.phase == VOTE:
                self._voter_queue = voters = protocol.voter_order(game)
                self._queue_position = 0
                self.agent_selection = self.possible_agents[voters[0]]
                self._selected_mask = protocol.vote_mask
                self.table.write_offer(game)
                self.infos = dict.fromkeys(self.agents, self._running_info(game))
                return
        # The round was resolved: agreement, end of talks, or a new round.
        self.record.record(proposer, offer, game.last_votes)
        if self._transcript is not None:
            self._transcript.votes(game)
        if game.phase == DONE:
            self._finish(game.end_reason)
            return
        self.table.write(game)
        if game.round >= self.max_cycles:
            self._finish("truncated")
            return
        self.agent_selection = self.possible_agents[game.proposer]
        self._selected_mask = protocol.propose_mask
        self.infos = dict.fromkeys(self.agents, self._running_info(game))

    def _illegal(self, agent: str, action: Any) -> None:
        i = self._index[agent]
        error = self.protocol.illegal_action_error(self.game, i, action)
        if self.config.illegal_action == "raise":
            raise error
        if self._transcript is not None:
            self._transcript.illegal(str(error))
        self.protocol.end_illegal(self.game, [i])
        self._finish("illegal")

    def _finish(self, reason: str) -> None:
        game = self.game
        self._selected_mask = None
        self.table.write(game)
        if reason == "truncated":
            for name in self.agents:
                self.truncations[name] = True
        else:
            for name, reward in zip(self.agents, game.rewards.tolist(), strict=True):
                self.rewards[name] = reward
                self._cumulative_rewards[name] += reward
                self.terminations[name] = True
        info = self._final_info(game, reason)
        for name in self.agents:
            self.infos[name] = dict(info)
        if self._transcript is not None:
            self._transcript.end(game, reason)


class NegotiationParallelEnv(_NegotiationBase, ParallelEnv):
    """The negotiation as a native PettingZoo parallel env (see the module doc).

    Every live actor acts at every step: the proposer proposes while the others
    WAIT; then every voter votes at once while the others WAIT.

    Attributes:
        scenario: The compiled scenario.
        config: The protocol configuration.
        protocol: The rules.
        game: The protocol state of the current episode.
        record: The public record of the episode's completed rounds (offers,
            proposers, votes), filled as each round ends.
        observation_fields: Observation field name -> slice.
    """

    metadata = METADATA

    def __init__(
        self,
        scenario: CompiledScenario | str | Path | None = None,
        render_mode: str | None = None,
        max_cycles: int = DEFAULT_MAX_CYCLES,
        protocol: ProtocolConfig | dict[str, Any] | None = None,
        **protocol_options: Any,
    ) -> None:
        """Build the env.

        Args:
            scenario: A compiled scenario, a path to a scenario YAML, or None
                for the default scenario.
            render_mode: None, ``"ansi"`` or ``"human"``.
            max_cycles: Truncate after this many steps.
            protocol: Base protocol configuration.
            **protocol_options: ``ProtocolConfig`` fields, overriding
                ``protocol``.
        """
        self._setup(scenario, render_mode, max_cycles, protocol, protocol_options)
        self.agents: list[str] = []
        self._steps = 0

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        """Start a new episode (fully determined by ``seed`` when given).

        Returns:
            Observations and infos of every agent.
        """
        rng = self._seed(seed)
        self.game = game = self.protocol.reset(rng)
        self.agents = list(self.possible_agents)
        self._steps = 0
        self.record.reset()
        self.table.write(game)
        if self._transcript is not None:
            self._transcript.start()
        info = self._running_info(game)
        return self._observations(game), {agent: info for agent in self.agents}

    def action_mask(self, agent: str) -> np.ndarray:
        """Return ``agent``'s current action mask (shared, read-only)."""
        if self.game is None or agent not in self.agents:
            return self.protocol.empty_mask
        return self.protocol.legal_mask(self.game, self._index[agent], allow_wait=True)

    def _to_move(self) -> str | None:
        game = self.game
        if game is None or not self.agents:
            return None
        if game.phase == PROPOSE:
            return f"{self.possible_agents[game.proposer]} to propose"
        names = [self.possible_agents[i] for i in self.protocol.voter_order(game)]
        return f"{', '.join(names)} to vote"

    def _observations(self, game: ProtocolState) -> dict[str, dict[str, np.ndarray]]:
        protocol = self.protocol
        rows = self.table.rows
        phase = game.phase
        if phase == PROPOSE:
            masks = [protocol.wait_mask] * protocol.n_actors
            masks[game.proposer] = protocol.propose_mask
        elif phase == VOTE:
            masks = [protocol.wait_mask] * protocol.n_actors
            for voter in protocol.voter_order(game):
                masks[voter] = protocol.vote_mask
        else:
            masks = [protocol.empty_mask] * protocol.n_actors
        # No actor leaves before the end, so every step observes all of them.
        return {
            agent: {"observation": rows[i].copy(), "action_mask": masks[i]}
            for i, agent in enumerate(self.possible_agents)
        }

    def _offenders(self, game: ProtocolState, actions: dict[str, Any]) -> list[int]:
        """Return the indices of actors whose action is illegal, in actor order."""
        protocol = self.protocol
        index = self._index
        wait = protocol.wait_action
        if game.phase == PROPOSE:
            movers: tuple[int, ...] = (game.proposer,)
        else:
            movers = protocol.voter_order(game)
        offenders = []
        for agent, action in actions.items():
            i = index.get(agent)
            if i is None:
                raise ValueError(
                    f"unknown agent {agent!r} in actions; agents are {self.agents}"
                )
            value = _action_index(action)
            if i in movers:
                legal = value is not None and protocol.is_legal(game, i, value)
            else:
                legal = value == wait
            if not legal:
                offenders.append(i)
        for mover in movers:
            if self.possible_agents[mover] not in actions:
                offenders.append(mover)
        return sorted(offenders)

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, dict[str, np.ndarray]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Apply every live agent's action at once (see the module doc).

        Returns:
            Observations, rewards, terminations, truncations and infos.

        Raises:
            ValueError: On an illegal or missing action (``illegal_action=
                "raise"``), an unknown agent, or a step after the episode ended.
        """
        game = self.game
        if game is None or not self.agents:
            raise ValueError("the episode has ended (or not started): call reset()")
        protocol = self.protocol
        rng = self.np_random
        offenders = self._offenders(game, actions)
        proposer, offer = game.proposer, game.offer
        reason: str | None = None
        if offenders:
            first = offenders[0]
            error = protocol.illegal_action_error(
                game,
                first,
                actions.get(self.possible_agents[first], "no action"),
                allow_wait=True,
            )
            if self.config.illegal_action == "raise":
                raise error
            if self._transcript is not None:
                self._transcript.illegal(str(error))
            protocol.end_illegal(game, offenders)
            reason = "illegal"
        elif game.phase == PROPOSE:
            round_index = game.round
            offer = operator.index(actions[self.possible_agents[proposer]])
            protocol.propose(game, offer, rng)
            if self._transcript is not None:
                self._transcript.proposal(game, round_index, proposer)
        else:
            accept = protocol.accept_action
            for voter in protocol.voter_order(game):
                protocol.vote(
                    game, voter, actions[self.possible_agents[voter]] == accept, rng
                )
        self._steps += 1

        if game.phase == VOTE:
            self.table.write_offer(game)
        else:
            if reason is None:  # the round was resolved
                self.record.record(proposer, offer, game.last_votes)
                if self._transcript is not None:
                    self._transcript.votes(game)
            self.table.write(game)
            if game.phase == DONE:
                reason = game.end_reason
        if reason is None and self._steps >= self.max_cycles:
            reason = "truncated"

        agents = self.agents
        observations = self._observations(game)
        if reason is None:
            info = self._running_info(game)
            return (
                observations,
                dict.fromkeys(agents, 0.0),
                dict.fromkeys(agents, False),
                dict.fromkeys(agents, False),
                {agent: info for agent in agents},
            )
        if reason == "truncated":
            rewards = dict.fromkeys(agents, 0.0)
            terminations = dict.fromkeys(agents, False)
            truncations = dict.fromkeys(agents, True)
            masks = protocol.empty_mask
            for observation in observations.values():
                observation["action_mask"] = masks
        else:
            rewards = dict(zip(agents, game.rewards.tolist(), strict=True))
            terminations = dict.fromkeys(agents, True)
            truncations = dict.fromkeys(agents, False)
        info = self._final_info(game, reason)
        infos = {agent: dict(info) for agent in agents}
        if self._transcript is not None:
            self._transcript.end(game, reason)
        self.agents = []
        return observations, rewards, terminations, truncations, infos


raw_env = NegotiationEnv
"""PettingZoo's conventional name for the unwrapped AEC env class."""


_STEP_ATTRIBUTES = (
    "agent_selection",
    "agents",
    "rewards",
    "terminations",
    "truncations",
    "infos",
)
"""Attributes the AEC loop reads on every step; ``OrderEnforcingWrapper`` guards
them before ``reset``."""


def _forwarded(name: str) -> property:
    """A read-only property for the wrapped env's attribute ``name`` (C speed)."""
    return property(operator.attrgetter(f"env.{name}"), doc=f"``env.{name}``.")


def _forwarded_after_reset(name: str) -> property:
    """Like `_forwarded`, raising OrderEnforcingWrapper's error before reset."""

    def read(self: wrappers.OrderEnforcingWrapper) -> Any:
        if not self._has_reset:
            raise AttributeError(f"{name} cannot be accessed before reset")
        return getattr(self.env, name)

    return property(read, doc=f"``env.{name}``, after reset.")


class AssertOutOfBoundsWrapper(wrappers.AssertOutOfBoundsWrapper):
    """PettingZoo's ``AssertOutOfBoundsWrapper``, reading step attributes directly.

    ``BaseWrapper`` reaches the wrapped env's attributes through ``__getattr__``
    (a failed lookup and a Python call per wrapper and attribute), which made
    PettingZoo's two wrappers cost three times this env's own step. This
    subclass and the next read the same attributes through properties and pass
    ``last()`` straight down; checks, errors and results are unchanged.
    """

    def last(
        self, observe: bool = True
    ) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Return the wrapped env's ``last()``."""
        return self.env.last(observe)


class OrderEnforcingWrapper(wrappers.OrderEnforcingWrapper):
    """PettingZoo's ``OrderEnforcingWrapper``, reading step attributes directly.

    Same checks and errors as the original (an ``AttributeError`` for the step
    attributes before ``reset``), without a ``__getattr__`` round trip.
    """

    def last(
        self, observe: bool = True
    ) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Return the wrapped env's ``last()`` (an error before reset)."""
        if not self._has_reset:
            raise AttributeError("agent_selection cannot be accessed before reset")
        return self.env.last(observe)

    def __str__(self) -> str:
        """Return the env's name, as the original does."""
        return str(self.env)


for _name in (*_STEP_ATTRIBUTES, "_cumulative_rewards"):
    setattr(AssertOutOfBoundsWrapper, _name, _forwarded(_name))
for _name in _STEP_ATTRIBUTES:
    setattr(OrderEnforcingWrapper, _name, _forwarded_after_reset(_name))
OrderEnforcingWrapper._cumulative_rewards = _forwarded("_cumulative_rewards")
del _name


def env(**kwargs: Any) -> AECEnv:
    """Return the AEC env with PettingZoo's usual wrappers.

    The wrappers are PettingZoo's ``AssertOutOfBoundsWrapper`` and
    ``OrderEnforcingWrapper`` (the subclasses below only read the per-step
    attributes directly). ``TerminateIllegalWrapper`` is not used: illegal
    actions are handled by the env itself (``illegal_action``).

    Args:
        **kwargs: See :class:`NegotiationEnv`.

    Returns:
        The wrapped env.
    """
    wrapped: AECEnv = NegotiationEnv(**kwargs)
    wrapped = AssertOutOfBoundsWrapper(wrapped)
    return OrderEnforcingWrapper(wrapped)


def parallel_env(**kwargs: Any) -> NegotiationParallelEnv:
    """Return the native parallel env.

    Args:
        **kwargs: See :class:`NegotiationParallelEnv`.

    Returns:
        The parallel env.
    """
    return NegotiationParallelEnv(**kwargs)


def register_envs() -> None:
    """Register both envs with PettingZoo under :data:`ENV_ID` (idempotent).

    Afterwards ``pettingzoo.make("aec", "peacegame/negotiation-v0", **kwargs)``
    and ``pettingzoo.make("parallel", "peacegame/negotiation-v0", **kwargs)``
    build them.
    """
    if ENV_ID not in pettingzoo.aec_registry:
        pettingzoo.register("aec", ENV_ID, entry_point="peacegame.env:env")
    if ENV_ID not in pettingzoo.parallel_registry:
        pettingzoo.register(
            "parallel", ENV_ID, entry_point="peacegame.env:parallel_env"
        )


register_envs()
