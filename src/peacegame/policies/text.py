"""The game as text: one actor's state in words, the action schema, reply parsing.

Shared by ``peacegame play`` (a person) and the ``llm`` policy (a model), so
both read the same description of the game and are held to the same rules:

* :meth:`TextView.state` describes the state as one actor knows it under the
  information mode: its role, the issues and their levels in words, its own
  utilities (its best outcomes, the best worth it can reach with each level,
  the offer's worth now and discounted), the offer on the table and who must
  consent, the recent history of offers, votes and public statements;
* :meth:`TextView.schema` is the JSON Schema of a reply in the current phase,
  derived from the scenario: ``{"propose": {issue: level, ...}}`` or
  ``{"vote": "accept" | "reject"}``, with an optional ``"statement"`` under
  ``talk: public``;
* :meth:`TextView.parse` turns a reply into a legal action or raises
  :class:`ReplyError` with a one-line message that says what was expected
  (the ``llm`` policy sends it back to the model);
* :meth:`TextView.reply` writes an action as its canonical JSON reply (the
  grammar of the in-process constrained decoder is the set of these strings).

Nothing here decides a rule: legality comes from the env's action mask and
feasibility from the outcome grid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from peacegame.engine.config import PROPOSE, VOTE
from peacegame.engine.talk import clean_statement
from peacegame.policies.base import PolicyView

VOTES = ("accept", "reject")
"""The vote words of a reply."""


class ReplyError(ValueError):
    """A reply that is not a legal action (the message says what was expected)."""


@dataclass(frozen=True)
class Move:
    """A parsed reply.

    Attributes:
        action: The env action (a proposal index, ACCEPT or REJECT).
        statement: The public message, if any (cleaned and bounded).
    """

    action: int
    statement: str | None = None


class TextView:
    """One actor's game in words (see the module docstring).

    Args:
        view: The actor's policy view.
        history: How many past rounds :meth:`state` describes.
    """

    def __init__(self, view: PolicyView, history: int = 5) -> None:
        self.view = view
        self.history = int(history)
        self.issue_names = tuple(issue.name for issue in view.issues)
        radix = [issue.n_levels for issue in view.issues]
        weights = np.ones(len(radix), dtype=np.int64)
        for j in range(len(radix) - 2, -1, -1):
            weights[j] = weights[j + 1] * radix[j + 1]
        flat = view.levels.astype(np.int64) @ weights
        self._flat_index = {int(f): k for k, f in enumerate(flat.tolist())}
        self._weights = weights
        self._lower = [
            {level.lower(): i for i, level in enumerate(issue.levels)}
            for issue in view.issues
        ]
        utility = view.utility.astype(np.float64)
        self._level_best: list[list[float]] = []
        for j, issue in enumerate(view.issues):
            column = view.levels[:, j]
            best = np.full(issue.n_levels, -np.inf)
            np.maximum.at(best, column, utility)
            self._level_best.append(best.tolist())
        self._intro = self._introduction()

    # ------------------------------------------------------------------ words
    def decode(self, outcome: int) -> dict[str, str]:
        """``{issue: level}`` of an outcome."""
        row = self.view.levels[int(outcome)]
        return {
            issue.name: issue.levels[int(level)]
            for issue, level in zip(self.view.issues, row, strict=True)
        }

    def describe(self, outcome: int) -> str:
        """``troops=25k, zone=rear, ...``: an outcome on one line."""
        return ", ".join(f"{k}={v}" for k, v in self.decode(outcome).items())

    def worth(self, outcome: int) -> float:
        """The outcome's utility to this actor."""
        return float(self.view.utility[int(outcome)])

    def consent(self, outcome: int) -> list[str]:
        """Whose consent the outcome needs."""
        column = self.view.required[:, int(outcome)]
        return [a for a, needed in zip(self.view.actors, column, strict=True) if needed]

    def _introduction(self) -> str:
        view = self.view
        lines = [
            f"You negotiate for {view.agent} in {view.scenario_name or 'the game'} "
            f"with {', '.join(a for a in view.actors if a != view.agent)}.",
            "Each round one actor proposes an outcome (one level of every issue); "
            "then every other actor whose consent it needs votes accept or reject "
            "at the same time. If all of them accept, the outcome is agreed and "
            "the negotiation ends.",
            f"Rounds are numbered 0 to {view.max_rounds - 1}; after the last one "
            "there is no deal.",
            f"Without a deal you get your no-deal value {view.no_deal:.3f}. A deal "
            f"agreed in round r pays you {view.discount:.3f}^r times its worth to "
            "you (worths lie in [0, 1]).",
            (
                "Information is public: you see every actor's worth of the offer."
                if view.public is not None
                else "Information is private: you know only your own worths."
            ),
        ]
        if view.talk == "public":
            lines.append(
                "With your move you may add a short public statement that every "
                "actor reads (it changes no payoff and no rule)."
            )
        lines.append("Issues and their levels (with the best worth to you that an")
        lines.append("outcome with that level can have):")
        for j, issue in enumerate(view.issues):
            best = self._level_best[j]
            levels = ", ".join(
                f"{level} {best[i]:.2f}" if np.isfinite(best[i]) else f"{level} -"
                for i, level in enumerate(issue.levels)
            )
            lines.append(f"  {issue.name}: {levels}")
        top = [int(k) for k in view.order[:3]]
        lines.append("Your best outcomes:")
        lines += [f"  {self.describe(k)} (worth {self.worth(k):.3f})" for k in top]
        return "\n".join(lines)

    # ------------------------------------------------------------------ state
    def round_lines(self, start: int = 0, stop: int | None = None) -> list[str]:
        """Completed rounds ``start .. stop - 1`` in words, with their statements.

        One line per round for the offer, one for the votes, one per statement.
        """
        view = self.view
        record = view.record
        stop = record.rounds_done if stop is None else min(stop, record.rounds_done)
        said = view.statements.items if view.statements is not None else []
        lines: list[str] = []
        for r in range(max(0, start), stop):
            proposer = view.actors[int(record.proposers[r])]
            offer = int(record.offers[r])
            votes = ", ".join(
                f"{view.actors[j]} {'accepts' if v == 1 else 'rejects'}"
                for j, v in enumerate(record.votes[r])
                if v >= 0
            )
            lines.append(f"round {r}: {proposer} proposed {self.describe(offer)}")
            lines.append(f"         votes: {votes or 'none needed'}")
            lines += [
                f'         {s.actor} said: "{s.text}"' for s in said if s.round == r
            ]
        return lines

    def state(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> str:
        """The state as this actor knows it, and what it must do now."""
        view = self.view
        round_index = int(info.get("round", 0))
        phase = str(info.get("phase", PROPOSE))
        done = view.record.rounds_done
        lines = [self._intro, ""]
        if done:
            first = max(0, done - self.history)
            lines.append(
                f"History (rounds {first} to {done - 1}; worth to you in brackets):"
            )
            for r in range(first, done):
                worth = self.worth(int(view.record.offers[r]))
                described = self.round_lines(r, r + 1)
                described[0] += f"  [{worth:.3f}]"
                lines += ["  " + line for line in described]
        else:
            lines.append("No round has been played yet.")
        lines.append("")
        left = view.max_rounds - 1 - round_index
        lines.append(f"Now: round {round_index} ({left} round(s) after this one).")
        if phase == VOTE:
            offer = int(info["offer"])
            proposer = self.proposer(observation)
            now = self.worth(offer) * view.discount**round_index
            lines.append(
                f"{proposer or 'The proposer'} proposes {self.describe(offer)}."
            )
            lines.append(
                f"Its worth to you is {self.worth(offer):.3f}; agreed now it pays "
                f"you {now:.3f} (your no-deal value is {view.no_deal:.3f})."
            )
            if view.public is not None:
                k = offer
                worths = ", ".join(
                    f"{a} {float(view.public.utility[i, k]):.3f}"
                    for i, a in enumerate(view.actors)
                )
                lines.append(f"Its worth to each actor: {worths}.")
            lines.append(f"It needs the consent of {', '.join(self.consent(offer))}.")
            if view.statements is not None:
                lines += [
                    f'{s.actor} said with the proposal: "{s.text}"'
                    for s in view.statements.visible(round_index)
                    if s.round == round_index
                ]
            lines.append('Vote: reply {"vote": "accept"} or {"vote": "reject"}.')
        else:
            lines.append(
                'You propose. Reply {"propose": {ISSUE: LEVEL, ...}} naming one '
                "level of every issue; the combination must be feasible."
            )
        if view.talk == "public":
            lines.append(
                f'You may add "statement": "..." (public, at most '
                f"{self._max_chars()} characters)."
            )
        lines.append("Reply with the JSON object only.")
        return "\n".join(lines)

    def proposer(self, observation: dict[str, np.ndarray]) -> str | None:
        """The round's proposer, read from the observation's ``proposer`` field."""
        fields = self.view.fields
        vector = observation.get("observation") if observation else None
        if not fields or "proposer" not in fields or vector is None:
            return None
        onehot = vector[fields["proposer"]]
        if not onehot.any():
            return None
        return self.view.actors[int(np.argmax(onehot))]

    # ----------------------------------------------------------------- replies
    def _max_chars(self) -> int:
        statements = self.view.statements
        return statements.max_chars if statements is not None else 280

    def schema(self, phase: str) -> dict[str, Any]:
        """The JSON Schema of a reply in ``phase`` (``"propose"`` or ``"vote"``)."""
        if phase == VOTE:
            properties: dict[str, Any] = {"vote": {"type": "string", "enum": [*VOTES]}}
            required = ["vote"]
        else:
            properties = {
                "propose": {
                    "type": "object",
                    "properties": {
                        issue.name: {"type": "string", "enum": list(issue.levels)}
                        for issue in self.view.issues
                    },
                    "required": list(self.issue_names),
                    "additionalProperties": False,
                }
            }
            required = ["propose"]
        if self.view.talk == "public":
            properties["statement"] = {
                "type": "string",
                "maxLength": self._max_chars(),
            }
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    def reply(self, action: int, statement: str | None = None) -> str:
        """The canonical JSON reply of an action (and statement)."""
        view = self.view
        data: dict[str, Any]
        if 0 <= action < view.n_outcomes:
            data = {"propose": self.decode(action)}
        elif action == view.accept_action:
            data = {"vote": "accept"}
        elif action == view.reject_action:
            data = {"vote": "reject"}
        else:
            raise ValueError(f"action {action} has no reply")
        if statement is not None and view.talk == "public":
            data["statement"] = statement
        return json.dumps(data, ensure_ascii=False)

    def encode(self, chosen: dict[str, str]) -> int:
        """The outcome of ``{issue: level}`` (any letter case of the levels).

        Raises:
            ReplyError: Missing or unknown issues or levels, or an infeasible
                combination.
        """
        names = {name.lower(): j for j, name in enumerate(self.issue_names)}
        picked: dict[int, int] = {}
        for key, value in chosen.items():
            j = names.get(str(key).lower())
            if j is None:
                raise ReplyError(
                    f"unknown issue {key!r}; the issues are {list(self.issue_names)}"
                )
            level = self._lower[j].get(str(value).lower())
            if level is None:
                raise ReplyError(
                    f"unknown level {value!r} of {self.issue_names[j]}; expected one "
                    f"of {list(self.view.issues[j].levels)}"
                )
            picked[j] = level
        missing = [n for j, n in enumerate(self.issue_names) if j not in picked]
        if missing:
            raise ReplyError(f"missing issue(s) {missing}: name a level of each")
        flat = sum(int(self._weights[j]) * level for j, level in picked.items())
        outcome = self._flat_index.get(flat)
        if outcome is None:
            described = ", ".join(
                f"{self.issue_names[j]}={self.view.issues[j].levels[picked[j]]}"
                for j in sorted(picked)
            )
            raise ReplyError(
                f"the combination {described} is not feasible; change an issue"
            )
        return outcome

    def parse(self, text: str, phase: str, mask: np.ndarray) -> Move:
        """Turn a reply into a legal action.

        Args:
            text: The reply (a JSON object, possibly with text around it).
            phase: ``"propose"`` or ``"vote"``.
            mask: The env's action mask (the legal actions).

        Raises:
            ReplyError: Naming what is wrong and what was expected.
        """
        data = _json_object(text)
        statement = None
        if self.view.talk == "public" and "statement" in data:
            if not isinstance(data["statement"], str):
                raise ReplyError("statement must be a string")
            statement = clean_statement(data["statement"], self._max_chars())
        if phase == VOTE:
            vote = data.get("vote")
            if vote is None:
                raise ReplyError(
                    'you are voting: expected {"vote": "accept"} or {"vote": "reject"}'
                )
            if str(vote).lower() not in VOTES:
                raise ReplyError(f"vote must be 'accept' or 'reject', not {vote!r}")
            view = self.view
            action = (
                view.accept_action
                if str(vote).lower() == "accept"
                else view.reject_action
            )
        else:
            chosen = data.get("propose")
            if not isinstance(chosen, dict):
                raise ReplyError(
                    'you are proposing: expected {"propose": {ISSUE: LEVEL, ...}}'
                )
            action = self.encode(chosen)
        if not mask[action]:
            raise ReplyError(f"that move is not legal now ({phase} phase)")
        return Move(int(action), statement)


def _json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text``.

    Raises:
        ReplyError: If there is none.
    """
    if not isinstance(text, str) or not text.strip():
        raise ReplyError("the reply is empty; expected one JSON object")
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        value = None
        decoder = json.JSONDecoder()
        start = stripped.find("{")
        while start >= 0 and value is None:
            try:
                value, _ = decoder.raw_decode(stripped, start)
            except ValueError:
                start = stripped.find("{", start + 1)
    if not isinstance(value, dict):
        raise ReplyError("no JSON object found in the reply; expected one JSON object")
    return value
