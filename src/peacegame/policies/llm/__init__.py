"""LLM negotiators: a language model plays an actor through the shared text view.

``{policy: llm, backend: openai, base_url: ..., model: ...}`` talks to any
OpenAI-compatible server; ``backend: transformers`` runs a model in-process with
constrained decoding. See :mod:`peacegame.policies.llm.policy` for a decision,
:mod:`~peacegame.policies.llm.params` for the parameters,
:mod:`~peacegame.policies.llm.backends`, :mod:`~peacegame.policies.llm.grammar`
and :mod:`~peacegame.policies.llm.cache`, and the README's "LLM negotiators".

The registry imports this package on first use of the ``llm`` kind, so
``openai``, ``torch`` and ``transformers`` load only for LLM matches.
"""

from peacegame.policies.llm.params import LLMParams
from peacegame.policies.llm.policy import DEFAULT_SYSTEM_PROMPT, LLMPolicy

__all__ = ["DEFAULT_SYSTEM_PROMPT", "LLMParams", "LLMPolicy"]
