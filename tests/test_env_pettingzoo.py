"""PettingZoo's own conformance tests, on the default and a 3-actor scenario.

Two of PettingZoo 1.27's tests sample actions *without* the action mask:

* ``parallel_seed_test`` samples every live agent's action unmasked. Its
  factories here use ``illegal_action="penalize"``, so an unmasked (illegal)
  action ends the episode with a penalty instead of raising. (In 1.27 the test
  stops after one step anyway: ``test_parallel_determinism_over_episodes`` in
  ``test_env.py`` checks whole episodes.)
* ``max_cycles_test`` samples unmasked actions and needs an episode that lasts
  ``max_cycles`` cycles. Its factories wrap the env so that an unmasked
  ``action_space(agent).sample()`` draws a *legal* action other than ACCEPT (a
  random proposer facing voters who always reject): the episode can then only
  end by the ``max_cycles`` truncation, which is what the test measures. In the
  parallel env a cycle is a step; in the AEC env a cycle is a round (every actor
  with a move moves once), so the actors that move every round (those whose
  consent every outcome needs) make exactly ``max_cycles`` moves.

``bombardment_test`` is broken in PettingZoo 1.27.0 and is not run.
"""

from __future__ import annotations

import functools
import types
import warnings
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from pettingzoo.utils.wrappers import BaseParallelWrapper, BaseWrapper

from peacegame.env import env as aec_env
from peacegame.env import parallel_env
from peacegame.scenario import load_compiled

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pettingzoo.test as pz_test

THREE_ACTORS = Path(__file__).parent / "data" / "three_actors.yaml"

# api_test warns about conventions this env departs from on purpose: agent ids
# are actor names (not "player_0"), and observations are Dicts holding the
# action mask (its list of classic envs that may do so is hard-coded).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pettingzoo.test.api_test")


@functools.cache
def _scenario(name: str) -> Any:
    if name == "security_council":  # quota, weights and vetoes (9 of 15)
        return load_compiled("security-council")
    return load_compiled(None if name == "default" else THREE_ACTORS)


SCENARIOS = ["default", "three_actors", "security_council"]


def _aec_factory(name: str, **kwargs: Any) -> Any:
    return functools.partial(aec_env, scenario=_scenario(name), **kwargs)


def _parallel_factory(name: str, **kwargs: Any) -> Any:
    return functools.partial(parallel_env, scenario=_scenario(name), **kwargs)


@pytest.mark.parametrize("name", SCENARIOS)
def test_api(name: str) -> None:
    pz_test.api_test(_aec_factory(name)(), num_cycles=1000)


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("information", ["private", "public"])
def test_parallel_api(name: str, information: str) -> None:
    pz_test.parallel_api_test(
        _parallel_factory(name, information=information)(), num_cycles=1000
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_seed(name: str) -> None:
    pz_test.seed_test(_aec_factory(name, proposer="random", breakdown_prob=0.1))


@pytest.mark.parametrize("name", SCENARIOS)
def test_parallel_seed(name: str) -> None:
    pz_test.parallel_seed_test(
        _parallel_factory(name, illegal_action="penalize", proposer="random")
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_render(name: str) -> None:
    pz_test.render_test(_aec_factory(name))


class _LegalRejectingSpace(gymnasium.spaces.Discrete):
    """A Discrete space whose unmasked ``sample()`` is legal and never ACCEPT."""

    def __init__(self, n: int, current_mask: Any) -> None:
        super().__init__(n)
        self._current_mask = current_mask

    def sample(self, mask: Any = None, probability: Any = None) -> np.int64:
        if mask is None and probability is None:
            mask = np.array(self._current_mask(), dtype=np.int8)
            mask[self.n - 3] = 0  # ACCEPT; REJECT stays legal for a voter
        return super().sample(mask=mask, probability=probability)


class _LegalRejectingAEC(BaseWrapper):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._spaces = {
            agent: _LegalRejectingSpace(
                env.action_space(agent).n,
                functools.partial(env.unwrapped.action_mask, agent),
            )
            for agent in env.possible_agents
        }

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        return self._spaces[agent]


class _LegalRejectingParallel(BaseParallelWrapper):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._spaces = {
            agent: _LegalRejectingSpace(
                env.action_space(agent).n, functools.partial(env.action_mask, agent)
            )
            for agent in env.possible_agents
        }

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        return self._spaces[agent]


# max_cycles_test asserts that the median actor moved max_cycles + 1 times in
# the AEC env; in the Security Council scenario three of the eight actors (the
# elected blocs) never propose and vote only on mandates, so the median actor
# moves less by design. Its max_cycles behaviour is the same code path, tested
# on the two other scenarios.
@pytest.mark.parametrize("name", [s for s in SCENARIOS if s != "security_council"])
def test_max_cycles(name: str) -> None:
    module = types.SimpleNamespace(
        env=lambda **kw: _LegalRejectingAEC(aec_env(scenario=_scenario(name), **kw)),
        parallel_env=lambda **kw: _LegalRejectingParallel(
            parallel_env(scenario=_scenario(name), **kw)
        ),
    )
    pz_test.max_cycles_test(module)
