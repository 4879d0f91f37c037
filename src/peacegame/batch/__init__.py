"""A vectorised batch engine: many scripted matches in lockstep, as numpy arrays.

The batch engine reproduces the env path exactly. For the same match config and
episode ids, :func:`run_episodes` returns the records that
``peacegame.match.EpisodePlayer.play(i)`` returns (equal dicts with the same key
order): outcome, round, rewards, end reason, last proposer and, if logged,
every round's events. The tests hold the two equal over many seeds, every
strategy, public and private information, rotating and random proposers, and
breakdowns.

How it stays exact:

* **Rules.** :class:`~peacegame.batch.game.BatchGame` applies
  ``peacegame.protocol``'s rules to arrays of match slots. Payoffs multiply
  ``Protocol.discount_powers`` by the float64 utilities, as the protocol does.
* **Randomness.** The env's per-episode generator
  (``gymnasium.utils.seeding.np_random(seed)``), the random policy's
  ``default_rng([seed, actor])`` and the episode seeds themselves
  (``SeedSequence([base_seed, i])``) are re-implemented as array code over all
  slots (:mod:`peacegame.batch.rng`): SeedSequence hashing and PCG64 in
  ``uint64`` arithmetic, bit for bit. A slot draws only when the protocol says
  it draws, so there is no Python loop over matches even at setup.
* **Strategies.** Each scripted strategy has a twin
  (:mod:`peacegame.batch.strategies`) that is built from the real policy
  object. Whatever depends on the round alone (aspirations, the Nash
  mediator's proposal) is read from the policy's own methods. Whatever depends
  on the match's history is kept per slot, with the policy's float64
  operations. Under public information a proposal is a table lookup by
  candidate count. Under private information the frequency model is
  vectorised (:mod:`peacegame.batch.model`): an approximate BLAS pass, then an
  exact pass over near-ties that reproduces the policy's BLAS arithmetic
  (:mod:`peacegame.batch.arith`). That arithmetic is probed on this machine,
  and the batch engine declines (:func:`supports` is False) if neither twin
  matches it.

Entry points: :func:`run_episodes`, :func:`supports`, :class:`BatchEngine`
(``play`` returns the outcome arrays without building records) and
:class:`BatchGame` (the stepwise engine under ``peacegame.vector_env``).
"""

from peacegame.batch.game import END_REASONS, BatchGame, UnsupportedError
from peacegame.batch.runner import (
    DEFAULT_BATCH_SIZE,
    BatchEngine,
    BatchResult,
    run_episodes,
    supports,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "END_REASONS",
    "BatchEngine",
    "BatchGame",
    "BatchResult",
    "UnsupportedError",
    "run_episodes",
    "supports",
]
