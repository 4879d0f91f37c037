"""The public record of an episode: who proposed what, and how everyone voted.

Offers and votes are public in this game once a round is over (votes are
simultaneous, so a round's votes appear only when the round has ended). The env
keeps one :class:`PublicRecord` per episode and fills it as rounds end; scripted
policies read it to model their opponents, and the match runner logs it as the
episode's events. It holds preallocated arrays, so recording is O(n_actors).
"""

from __future__ import annotations

import numpy as np


class PublicRecord:
    """Per-round public events of one episode, in preallocated arrays.

    Attributes:
        offers: ``int64[max_rounds]``, the offer of each completed round (-1 after).
        proposers: ``int64[max_rounds]``, each completed round's proposer index.
        votes: ``int8[max_rounds, n_actors]``, each completed round's votes
            (-1 did not vote, 0 reject, 1 accept).
        rounds_done: Number of completed rounds recorded.
    """

    def __init__(self, n_actors: int, max_rounds: int) -> None:
        self.n_actors = n_actors
        self.max_rounds = max_rounds
        self.offers = np.full(max_rounds, -1, np.int64)
        self.proposers = np.full(max_rounds, -1, np.int64)
        self.votes = np.full((max_rounds, n_actors), -1, np.int8)
        self.rounds_done = 0

    def reset(self) -> None:
        """Clear the record for a new episode."""
        done = self.rounds_done
        self.offers[:done] = -1
        self.proposers[:done] = -1
        self.votes[:done] = -1
        self.rounds_done = 0

    def record(self, proposer: int, offer: int, votes: np.ndarray) -> None:
        """Append one completed round."""
        r = self.rounds_done
        self.offers[r] = offer
        self.proposers[r] = proposer
        self.votes[r] = votes
        self.rounds_done = r + 1

    def events(self, actors: tuple[str, ...]) -> list[dict[str, object]]:
        """Return the rounds as JSON-ready dicts (the log's ``events``)."""
        names = {-1: None, 0: "reject", 1: "accept"}
        out: list[dict[str, object]] = []
        for r in range(self.rounds_done):
            row = self.votes[r]
            out.append(
                {
                    "round": r,
                    "proposer": actors[int(self.proposers[r])],
                    "offer": int(self.offers[r]),
                    "votes": {
                        actors[i]: names[int(v)] for i, v in enumerate(row) if v >= 0
                    },
                }
            )
        return out
