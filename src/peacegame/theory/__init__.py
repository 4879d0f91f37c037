"""Textbook bargaining theory: closed-form predictions and the ``theory`` command.

A scenario declares the textbook model it is with an optional ``theory`` block
(:class:`~peacegame.scenario.model.TheoryDeclaration`). Every parameter comes
from the scenario itself: the discounts delta_i, the recognition probabilities
p_i and the no-deal values d_i from the actors, and the shares of the pie from
their utilities. The protocol the game is played with (who proposes, the
breakdown risk b, the deadline) comes from a match config when the command is
given one, else from the model and the ``theory`` block.

What is implemented (rho_i = delta_i (1 - b) is the factor by which waiting one
round shrinks actor i's agreement payoff):

* **Rubinstein (1982)**, two actors, alternating (rotating) proposers, no-deal
  values 0: the first proposer gets x* = (1 - delta2)/(1 - delta1 delta2),
  agreed at once. With a breakdown risk b and d != 0 (allowed only without a
  time discount, see below) the same recursion gives
  x* = (1 - rho2 + rho2 b d1 - b d2)/(1 - rho1 rho2) (Binmore, Rubinstein &
  Wolinsky 1986).
* **Baron & Ferejohn (1989) under unanimity**, random recognition p: the
  stationary subgame-perfect equilibrium (unique in payoffs, Eraslan 2002).
  Every proposer offers each other actor j its continuation value
  c_j = rho_j v_j + b d_j and keeps the rest; agreement is immediate, and the
  expected shares solve v_i = p_i (1 - sum_j c_j) + c_i. In closed form:

  - d = 0: v_i = (p_i/(1 - rho_i)) / sum_j (p_j/(1 - rho_j)); with a common
    delta, v_i = p_i and the proposer keeps 1 - delta (1 - v_i);
  - no time discount (delta_i = 1) and a breakdown risk b, so that
    rho = 1 - b plays the role of delta: v_i = d_i + p_i (1 - sum d), the
    asymmetric Nash bargaining solution with weights p (Britz, Herings &
    Predtetchinski 2010 show the limit; with a divisible pie it holds for
    every b), and the proposer keeps 1 - rho (1 - v_i) - (1 - rho)(sum d - d_i).
    The same formulas hold when d_i is a per-round status-quo payoff
    (Banks & Duggan 2000).

  The engine pays d_i undiscounted at breakdown or the deadline, so a scenario
  with both a time discount (delta_i < 1) and d != 0 is not stationary: the
  closed form does not apply, and the command refuses it.
* **Nash (1950)**: the (weighted) Nash bargaining solution, which on a pie is
  x_i = d_i + w_i (1 - sum d), with w the recognition probabilities (the
  weights :func:`peacegame.solutions.nash_point` uses).

On the grid the command also gives the nearest grid outcome of each predicted
split, and the subgame-perfect equilibrium of the *finite* game the engine
plays (the deadline, the grid, the engine's payoff rule) by backward induction,
with voters that accept when indifferent (:func:`grid_equilibrium`). The
:class:`SubgamePerfect` policy plays that equilibrium in matches.

Modules:

- :mod:`~peacegame.theory.closed_form`: the closed forms (Rubinstein,
  Baron-Ferejohn's stationary split, the Nash split) and their references;
- :mod:`~peacegame.theory.textbook`: :class:`TextbookGame`, its checks and its
  predictions (:func:`predict`, :func:`nearest_outcome`);
- :mod:`~peacegame.theory.grid`: the finite grid game by backward induction
  and the :class:`SubgamePerfect` policy;
- :mod:`~peacegame.theory.play`: loading a game (:func:`load_game`) and
  playing a match on held-out seeds (:func:`play`);
- :mod:`~peacegame.theory.commands`: rendering and the ``theory`` subcommand.

Every public name is re-exported here: configs name the policy
``peacegame.theory:SubgamePerfect``.
"""

from __future__ import annotations

from peacegame.theory.closed_form import (
    SOURCES,
    StationarySplit,
    baron_ferejohn,
    baron_ferejohn_majority,
    nash_split,
    rubinstein_share,
)
from peacegame.theory.commands import (
    add_theory_commands,
    cmd_theory,
    theory_json,
    theory_text,
)
from peacegame.theory.grid import (
    TOLERANCE,
    GridEquilibrium,
    InterfaceGame,
    StationaryProfile,
    SubgamePerfect,
    SubgamePerfectParams,
    game_equilibrium,
    grid_equilibrium,
    interface_game,
    interface_proposals,
    stationary_grid_proposals,
    stationary_recognition_equilibria,
)
from peacegame.theory.play import (
    DEFAULT_MAX_ROUNDS,
    HELD_OUT_SEED_OFFSET,
    LoadedGame,
    load_game,
    play,
)
from peacegame.theory.textbook import (
    TITLES,
    Prediction,
    Quantity,
    TextbookGame,
    check_textbook,
    nearest_outcome,
    predict,
)

__all__ = [
    "DEFAULT_MAX_ROUNDS",
    "HELD_OUT_SEED_OFFSET",
    "SOURCES",
    "TITLES",
    "TOLERANCE",
    "GridEquilibrium",
    "LoadedGame",
    "Prediction",
    "Quantity",
    "StationaryProfile",
    "StationarySplit",
    "SubgamePerfect",
    "SubgamePerfectParams",
    "TextbookGame",
    "add_theory_commands",
    "baron_ferejohn",
    "baron_ferejohn_majority",
    "check_textbook",
    "cmd_theory",
    "game_equilibrium",
    "grid_equilibrium",
    "interface_game",
    "interface_proposals",
    "InterfaceGame",
    "load_game",
    "nash_split",
    "nearest_outcome",
    "play",
    "predict",
    "rubinstein_share",
    "stationary_grid_proposals",
    "stationary_recognition_equilibria",
    "theory_json",
    "theory_text",
]
