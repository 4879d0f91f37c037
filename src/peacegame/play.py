"""``peacegame play``: a person negotiates in the terminal against policies.

The person plays one actor of a match config; every other actor plays its
configured policy. Proposals are built by editing issue levels (never by
typing an index among thousands of outcomes). Input is read line by line, so a
session can be scripted through stdin::

    yes accept | peacegame play baseline --as ukraine

Commands at a proposal:
    ISSUE=LEVEL (or ``set ISSUE LEVEL``)  change one issue of the draft
    show      the draft, its utility to you and who must consent
    best      load your best outcome          offer  load the last offer
    suggest   load what a linear concession strategy would propose now
    propose   put the draft on the table
Commands at a vote: ``accept`` (``a``) or ``reject`` (``r``).
Always: ``help``, ``quit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

import numpy as np

from peacegame.env import NegotiationEnv
from peacegame.errors import UserError
from peacegame.match import episode_seed
from peacegame.match_config import (
    MatchConfig,
    check_policies_cover_actors,
    load_match_config,
)
from peacegame.policies import make_policy, make_view
from peacegame.policies.base import PolicyView
from peacegame.policies.scripted import Linear
from peacegame.scenario import CompiledScenario, load_compiled

HELP = __doc__.split("Commands at a proposal:")[1].strip()


class QuitGameError(Exception):
    """The player typed ``quit`` or the input ended."""


class HumanPolicy:
    """A policy that asks a person, through text streams, what to do.

    Args:
        lines: An iterator over input lines (for example ``sys.stdin``).
        out: Where prompts and messages go.
        echo: Echo each input line (useful when input is piped).
    """

    def __init__(self, lines: Iterator[str], out: TextIO, echo: bool = False) -> None:
        self.lines = lines
        self.out = out
        self.echo = echo
        self.view: PolicyView | None = None
        self.draft: dict[str, str] = {}
        self.scenario: CompiledScenario | None = None

    def bind(self, scenario: CompiledScenario) -> None:
        """Give the policy the scenario, to decode and encode outcomes."""
        self.scenario = scenario

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Start an episode: the draft is the player's best outcome."""
        assert self.scenario is not None
        self.view = view
        self.adviser = Linear()
        self.adviser.reset(agent, view, rng)
        self.draft = self.scenario.decode(int(view.order[0]))

    def say(self, text: str = "") -> None:
        """Write one line to the player."""
        print(text, file=self.out)

    def _read(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        try:
            line = next(self.lines)
        except StopIteration:
            raise QuitGameError("the input ended before the episode did") from None
        line = line.strip()
        if self.echo:
            self.say(line)
        if line in ("quit", "q", "exit"):
            raise QuitGameError("quit")
        return line

    def _utility(self, outcome: int) -> float:
        assert self.view is not None
        return float(self.view.utility[outcome])

    def _describe(self, outcome: int) -> str:
        assert self.scenario is not None
        u = self._utility(outcome)
        return f"{self.scenario.describe(outcome)}  (worth {u:.3f} to you)"

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Ask the player for a proposal or a vote."""
        view = self.view
        assert view is not None and self.scenario is not None
        mask = observation["action_mask"]
        round_index = int(info["round"])
        if mask[view.accept_action]:
            return self._vote(int(info["offer"]), round_index)
        if mask[0]:
            return self._propose(round_index)
        return view.wait_action

    def _vote(self, offer: int, round_index: int) -> int:
        view = self.view
        assert view is not None
        self.say(f"\nround {round_index}: on the table: {self._describe(offer)}")
        self.say(f"your no-deal value is {view.no_deal:.3f}")
        while True:
            line = self._read("vote [accept/reject] > ").lower()
            if line in ("accept", "a", "yes", "y"):
                return view.accept_action
            if line in ("reject", "r", "no", "n"):
                return view.reject_action
            if line in ("help", "h", "?"):
                self.say(HELP)
            else:
                self.say("expected 'accept' or 'reject' (or 'help')")

    def _propose(self, round_index: int) -> int:
        view, scenario = self.view, self.scenario
        assert view is not None and scenario is not None
        self.say(f"\nround {round_index}: you propose (rounds: {view.max_rounds}).")
        self._show_draft()
        while True:
            line = self._read("propose > ")
            command, _, rest = line.partition(" ")
            if "=" in line and " " not in line.strip():
                issue, _, level = line.partition("=")
                self._set(issue, level)
            elif command == "set":
                parts = rest.split()
                if len(parts) != 2:
                    self.say("usage: set ISSUE LEVEL")
                    continue
                self._set(*parts)
            elif command == "show":
                self._show_draft()
            elif command == "best":
                self.draft = scenario.decode(int(view.order[0]))
                self._show_draft()
            elif command == "offer":
                last = view.record.rounds_done - 1
                if last < 0:
                    self.say("no offer has been made yet")
                    continue
                self.draft = scenario.decode(int(view.record.offers[last]))
                self._show_draft()
            elif command == "suggest":
                self.draft = scenario.decode(self.adviser.propose(round_index))
                self._show_draft()
            elif command == "propose":
                try:
                    return scenario.encode(self.draft)
                except ValueError:
                    self.say("that combination is not feasible; change an issue")
            elif command in ("help", "h", "?"):
                self.say(HELP)
            elif command in ("accept", "a", "reject", "r"):
                self.say("you are proposing, not voting: edit the draft, then propose")
            else:
                self.say(f"unknown command {line!r}; type 'help'")

    def _set(self, issue: str, level: str) -> None:
        scenario = self.scenario
        assert scenario is not None
        names = {i.name: i for i in scenario.issues}
        if issue not in names:
            self.say(f"unknown issue {issue!r}; issues: {', '.join(names)}")
            return
        if level not in names[issue].levels:
            levels = " | ".join(names[issue].levels)
            self.say(f"unknown level {level!r} of {issue}; levels: {levels}")
            return
        self.draft[issue] = level
        self._show_draft()

    def _show_draft(self) -> None:
        view, scenario = self.view, self.scenario
        assert view is not None and scenario is not None
        width = max(len(i.name) for i in scenario.issues)
        for issue in scenario.issues:
            chosen = self.draft[issue.name]
            others = " ".join(lv if lv != chosen else f"[{lv}]" for lv in issue.levels)
            self.say(f"  {issue.name:<{width}}  {others}")
        try:
            k = scenario.encode(self.draft)
        except ValueError:
            self.say("  (this combination is not feasible)")
            return
        needed = [a for i, a in enumerate(scenario.actors) if scenario.required[i, k]]
        self.say(
            f"  worth {self._utility(k):.3f} to you; needs the consent of "
            f"{', '.join(needed)}"
        )


def play(
    config: MatchConfig,
    scenario_file: str,
    actor: str,
    lines: Iterator[str],
    out: TextIO,
    *,
    episode: int = 0,
    echo: bool = False,
    config_path: str | None = None,
) -> dict[str, Any]:
    """Play one episode with a person as ``actor``; return the final info.

    Raises:
        UserError: Unknown actor, bad config, or input that ended early.
    """
    scenario = load_compiled(scenario_file)
    check_policies_cover_actors(config, scenario.actors, config_path or "<config>")
    if actor not in scenario.actors:
        raise UserError(
            f"unknown actor {actor!r} for --as; expected one of {list(scenario.actors)}"
        )
    env = NegotiationEnv(
        scenario=scenario,
        protocol=config.protocol,
        max_cycles=config.protocol.max_rounds + 1,
    )
    human = HumanPolicy(lines, out, echo=echo)
    human.bind(scenario)
    policies: dict[str, Any] = {
        a: human
        if a == actor
        else make_policy(config.policies[a], file=config_path, field=f"policies.{a}")
        for a in scenario.actors
    }
    seed = episode_seed(config.seed, episode)
    env.reset(seed=seed)
    for i, a in enumerate(scenario.actors):
        policies[a].reset(
            a, make_view(env.protocol, a, env.record), np.random.default_rng([seed, i])
        )
    human.say(
        f"You are {actor} in {scenario.name} ({scenario.n_outcomes} outcomes, "
        f"{config.protocol.max_rounds} rounds, {config.protocol.proposer} proposer, "
        f"{config.protocol.information} information). Type 'help' for commands."
    )
    shown = 0
    try:
        while True:
            agent = env.agent_selection
            if env.terminations[agent] or env.truncations[agent]:
                break
            action = policies[agent].act(env.observe(agent), env.infos[agent])
            env.step(action)
            shown = _show_rounds(env, scenario, human, shown)
    except QuitGameError as stop:
        raise UserError(f"game stopped: {stop}") from None
    info = env.infos[actor]
    i = scenario.actor_index(actor)
    if info.get("agreement"):
        human.say(
            f"\nAGREEMENT in round {info['round']}: "
            f"{scenario.describe(info['outcome'])}"
        )
    else:
        human.say(f"\nNO AGREEMENT ({info.get('end_reason')}).")
    human.say(
        f"your reward: {env.game.rewards[i]:.3f} "
        f"(no-deal value {scenario.no_deal[i]:.3f})"
    )
    return info


def _show_rounds(
    env: NegotiationEnv, scenario: CompiledScenario, human: HumanPolicy, shown: int
) -> int:
    """Tell the player about rounds completed since the last call."""
    record = env.record
    for r in range(shown, record.rounds_done):
        proposer = scenario.actors[int(record.proposers[r])]
        offer = int(record.offers[r])
        votes = ", ".join(
            f"{scenario.actors[j]} {'accepts' if v == 1 else 'rejects'}"
            for j, v in enumerate(record.votes[r])
            if v >= 0
        )
        human.say(f"round {r}: {proposer} proposed {scenario.describe(offer)}")
        human.say(f"         votes: {votes or 'none needed'}")
    return record.rounds_done


def play_config_file(
    path: str, actor: str, lines: Iterator[str], out: TextIO, **kwargs: Any
) -> dict[str, Any]:
    """Load a match config and play it as ``actor``."""
    config, scenario_file = load_match_config(path, kwargs.pop("overrides", None))
    return play(
        config, str(scenario_file), actor, lines, out, config_path=path, **kwargs
    )
