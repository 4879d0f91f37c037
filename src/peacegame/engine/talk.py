"""Statements (cheap talk): short public messages attached to proposals and votes.

With ``protocol.talk: public`` an actor may attach one message to its proposal
or to its vote. A statement is public and logged in the episode's events; it
never changes payoffs or legality (the kernel never reads it). Who sees what
follows the protocol's timing: a proposal's statement is public as soon as the
proposal is on the table; votes are simultaneous, so a vote's statement
becomes public only when the round is over, with the votes themselves.

Statements are bounded: :func:`clean_statement` strips control characters,
folds whitespace and cuts a message at ``statement_max_chars`` characters.
Policies that send none (every scripted and learned policy) leave the log and
every observation exactly as without talk.
"""

from __future__ import annotations

from dataclasses import dataclass

from peacegame.engine.config import PROPOSE, VOTE


def clean_statement(text: object, max_chars: int) -> str | None:
    """A message as it is published: printable, one line, at most ``max_chars``.

    Returns:
        The cleaned text, or None for no message (None, not a string, or
        nothing left after cleaning).
    """
    if not isinstance(text, str):
        return None
    printable = "".join(c if c.isprintable() else " " for c in text)
    folded = " ".join(printable.split())
    return folded[:max_chars].rstrip() or None


@dataclass(frozen=True)
class Statement:
    """One published statement.

    Attributes:
        round: The round it was made in.
        actor: Who made it.
        move: ``"propose"`` or ``"vote"``: the move it came with.
        text: The message (cleaned).
    """

    round: int
    actor: str
    move: str
    text: str


class Statements:
    """The statements of one episode, in the order they were made.

    Args:
        max_chars: The longest message (longer ones are cut).
    """

    def __init__(self, max_chars: int = 280) -> None:
        self.max_chars = int(max_chars)
        self.items: list[Statement] = []

    def clear(self) -> None:
        """Forget every statement (a new episode)."""
        self.items.clear()

    def add(self, round_index: int, actor: str, move: str, text: object) -> str | None:
        """Publish ``actor``'s message with its ``move`` of ``round_index``.

        Returns:
            The text as published, or None if there was nothing to publish.
        """
        if move not in (PROPOSE, VOTE):
            raise ValueError(f"a statement comes with a proposal or a vote, not {move}")
        cleaned = clean_statement(text, self.max_chars)
        if cleaned is not None:
            self.items.append(Statement(int(round_index), actor, move, cleaned))
        return cleaned

    def visible(self, round_index: int) -> list[Statement]:
        """What everyone may read while ``round_index`` is being played.

        Every statement of the completed rounds, and the current round's
        proposal statement; never a vote statement of the current round.
        """
        return [
            s
            for s in self.items
            if s.round < round_index or (s.round == round_index and s.move == PROPOSE)
        ]

    def of_round(self, round_index: int) -> dict[str, dict[str, str]]:
        """``{actor: {move: text}}`` for one round (the log's events)."""
        out: dict[str, dict[str, str]] = {}
        for s in self.items:
            if s.round == round_index:
                out.setdefault(s.actor, {})[s.move] = s.text
        return out

    def __len__(self) -> int:
        return len(self.items)
