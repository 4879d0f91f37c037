"""``peacegame play``: a person negotiates in the terminal against policies.

The person plays one actor of a match config; every other actor plays its
configured policy. Proposals are built by editing issue levels (never by
typing an index among thousands of outcomes). Input is read line by line, so a
session can be scripted through stdin, for example
``yes accept | peacegame play baseline --as ukraine``. The commands are listed
in :data:`HELP` (``play --help`` and ``help`` print them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TextIO

import numpy as np

from peacegame.engine.talk import Statements
from peacegame.env import NegotiationEnv
from peacegame.errors import UserError
from peacegame.match import episode_seed
from peacegame.match_config import (
    MatchConfig,
    check_policies_cover_actors,
    load_match_config,
)
from peacegame.policies import make_policy, make_view, reset_policy
from peacegame.policies.base import PolicyView
from peacegame.policies.scripted import Linear
from peacegame.policies.text import TextView
from peacegame.scenario import CompiledScenario, load_compiled

HELP = """\
When you propose:
  ISSUE=LEVEL         change one issue of the draft, e.g. troops=25k
                      (spaces around '=' and any letter case are fine; several
                      edits on one line: troops=25k zone=rear)
  set ISSUE LEVEL     the same (set troops 25k zone rear also works)
  show                the draft, its worth to you and who must consent
  best                load your best outcome
  offer               load the last offer on the table
  suggest             load what a linear concession strategy would propose now
  propose             put the draft on the table
  say MESSAGE         (talk: public) a public statement sent with your next move
  status              the whole state as you know it (the text view an LLM
                      negotiator reads)
When you vote:
  accept (a, yes)     accept the offer; offers worth less to you than your
                      no-deal value ask you to confirm
  reject (r, no)      reject it
Always:
  help (h, ?)         this list
  quit (q, exit)      leave the game (exit code 0)"""
"""The commands of ``play``, as plain text."""

_QUIT = ("quit", "q", "exit")
_ACCEPT = ("accept", "a", "yes", "y")
_REJECT = ("reject", "r", "no", "n")
_HELP = ("help", "h", "?")
_ASSIGNMENT = re.compile(r"([^\s=,;]+)\s*=\s*([^\s=,;]+)")


class QuitGameError(Exception):
    """The input ended before the episode did."""


class PlayerQuitError(Exception):
    """The player typed ``quit``."""


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
        self.proposer: str | None = None
        self.text: TextView | None = None
        self._said: str | None = None
        self._last: tuple[dict[str, np.ndarray], dict[str, Any]] = ({}, {})

    def bind(self, scenario: CompiledScenario) -> None:
        """Give the policy the scenario, to decode and encode outcomes."""
        self.scenario = scenario

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Start an episode: the draft is the player's best outcome."""
        assert self.scenario is not None
        self.view = view
        self.text = TextView(view)
        self._said = None
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
        if line.lower() in _QUIT:
            raise PlayerQuitError("quit")
        return line

    def _utility(self, outcome: int) -> float:
        assert self.view is not None
        return float(self.view.utility[outcome])

    def _describe(self, outcome: int) -> str:
        assert self.text is not None
        u = self._utility(outcome)
        return f"{self.text.describe(outcome)}  (worth {u:.3f} to you)"

    def statement(self) -> str | None:
        """The message typed with ``say`` for this move (then forgotten)."""
        said, self._said = self._said, None
        return said

    def _common(self, line: str) -> bool:
        """Handle ``say`` and ``status``; True if the line was one of them."""
        command, _, rest = line.partition(" ")
        command = command.lower()
        assert self.view is not None and self.text is not None
        if command == "status":
            self.say(self.text.state(*self._last))
            return True
        if command == "say":
            if self.view.talk != "public":
                self.say("statements need protocol.talk: public")
            elif not rest.strip():
                self.say("usage: say MESSAGE")
            else:
                self._said = rest.strip()
                self.say("your statement goes with your next move")
            return True
        return False

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Ask the player for a proposal or a vote."""
        view = self.view
        assert view is not None and self.scenario is not None
        mask = observation["action_mask"]
        self._last = (observation, info)
        round_index = int(info["round"])
        if mask[view.accept_action]:
            return self._vote(int(info["offer"]), round_index)
        if mask[0]:
            return self._propose(round_index)
        return view.wait_action

    def _vote(self, offer: int, round_index: int) -> int:
        view = self.view
        assert view is not None
        by = f"{self.proposer} proposes" if self.proposer else "on the table"
        self.say(f"\nround {round_index}: {by}: {self._describe(offer)}")
        worth = self._utility(offer) * view.discount**round_index
        self.say(
            f"accepted now it pays you {worth:.3f}; your no-deal value is "
            f"{view.no_deal:.3f}"
        )
        confirming = False
        while True:
            line = self._read("vote [accept/reject] > ")
            if self._common(line):
                continue
            line = line.lower()
            if line in _ACCEPT:
                if worth >= view.no_deal or confirming:
                    return view.accept_action
                self.say(
                    f"warning: this offer pays you {worth:.3f}, less than your "
                    f"no-deal value {view.no_deal:.3f}; type 'accept' again to "
                    "accept it anyway, or 'reject'"
                )
                confirming = True
            elif line in _REJECT:
                return view.reject_action
            elif line in _HELP:
                self.say(HELP)
            else:
                self.say("expected 'accept' or 'reject' (or 'help')")

    def _propose(self, round_index: int) -> int:
        view, scenario = self.view, self.scenario
        assert view is not None and scenario is not None
        final = view.max_rounds - 1
        self.say(f"\nround {round_index}: you propose (the last round is {final}).")
        self._show_draft()
        while True:
            line = self._read("propose > ")
            command, _, rest = line.partition(" ")
            command = command.lower()
            if self._common(line):
                continue
            if "=" in line:
                self._edit(_parse_assignments(line))
            elif command == "set":
                parts = rest.split()
                if not parts or len(parts) % 2:
                    self.say("usage: set ISSUE LEVEL [ISSUE LEVEL ...]")
                    continue
                self._edit(list(zip(parts[::2], parts[1::2], strict=True)))
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
                self.draft = scenario.decode(self.adviser.act({}, {}))
                self._show_draft()
            elif command == "propose":
                try:
                    return scenario.encode(self.draft)
                except ValueError:
                    self.say("that combination is not feasible; change an issue")
            elif command in _HELP:
                self.say(HELP)
            elif command in _ACCEPT + _REJECT:
                self.say("you are proposing, not voting: edit the draft, then propose")
            else:
                self.say(f"unknown command {line!r}; type 'help'")

    def _edit(self, edits: list[tuple[str, str]] | None) -> None:
        """Apply several ``(issue, level)`` edits at once, or none if one is bad."""
        scenario = self.scenario
        assert scenario is not None
        if not edits:
            self.say("expected ISSUE=LEVEL, e.g. troops=25k; type 'help'")
            return
        issues = {i.name.lower(): i for i in scenario.issues}
        chosen: dict[str, str] = {}
        for issue_name, level_name in edits:
            issue = issues.get(issue_name.lower())
            if issue is None:
                names = ", ".join(i.name for i in scenario.issues)
                self.say(f"unknown issue {issue_name!r}; issues: {names}")
                return
            levels = {lv.lower(): lv for lv in issue.levels}
            level = levels.get(level_name.lower())
            if level is None:
                shown = " | ".join(issue.levels)
                self.say(
                    f"unknown level {level_name!r} of {issue.name}; levels: {shown}"
                )
                return
            chosen[issue.name] = level
        self.draft.update(chosen)
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
    human.say(
        f"You are {actor} in {scenario.name} ({scenario.n_outcomes} outcomes, "
        f"{config.protocol.max_rounds} rounds numbered 0 to "
        f"{config.protocol.max_rounds - 1}, {config.protocol.proposer} proposer, "
        f"{config.protocol.information} information). Type 'help' for commands."
    )
    statements = Statements(config.protocol.statement_max_chars)
    views = {
        a: make_view(env.protocol, a, env.record, statements) for a in scenario.actors
    }
    for i, a in enumerate(scenario.actors):
        reset_policy(policies[a], a, views[a], seed, i)
    shown = 0
    try:
        while True:
            agent = env.agent_selection
            if env.terminations[agent] or env.truncations[agent]:
                break
            action = policies[agent].act(env.observe(agent), env.infos[agent])
            if 0 <= int(action) < scenario.n_outcomes:
                human.proposer = agent
            info = env.infos[agent]
            speak = getattr(policies[agent], "statement", None)
            said = speak() if callable(speak) else None
            if said and config.protocol.talk == "public":
                statements.add(int(info["round"]), agent, info["phase"], said)
                if agent != actor and info["phase"] == "propose":
                    human.say(f'{agent} says: "{statements.items[-1].text}"')
            env.step(action)
            shown = _show_rounds(env, scenario, human, shown)
    except QuitGameError as stop:
        raise UserError(f"game stopped: {stop}") from None
    except PlayerQuitError:
        human.say("\nyou left the game; nothing was agreed.")
        return {"agreement": False, "end_reason": "quit"}
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
        f"your reward: {env.episodes.rewards[0, i]:.3f} "
        f"(no-deal value {scenario.no_deal[i]:.3f})"
    )
    return info


def _parse_assignments(line: str) -> list[tuple[str, str]] | None:
    """``troops = 25k, zone=rear`` -> ``[("troops", "25k"), ("zone", "rear")]``.

    Returns None when the line holds anything but assignments.
    """
    pairs = _ASSIGNMENT.findall(line)
    rest = _ASSIGNMENT.sub(" ", line)
    if not pairs or rest.replace(",", " ").replace(";", " ").strip():
        return None
    return [(issue, level) for issue, level in pairs]


def _show_rounds(
    env: NegotiationEnv, scenario: CompiledScenario, human: HumanPolicy, shown: int
) -> int:
    """Tell the player about rounds completed since the last call.

    The lines are the shared text view's (:meth:`TextView.round_lines`), the
    history an LLM negotiator reads.
    """
    assert human.text is not None
    for line in human.text.round_lines(shown):
        human.say(line)
    return env.record.rounds_done


def play_config_file(
    path: str, actor: str, lines: Iterator[str], out: TextIO, **kwargs: Any
) -> dict[str, Any]:
    """Load a match config and play it as ``actor``."""
    config, scenario_file = load_match_config(path, kwargs.pop("overrides", None))
    return play(
        config, str(scenario_file), actor, lines, out, config_path=path, **kwargs
    )
