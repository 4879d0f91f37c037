"""The ``llm`` policy: a language model negotiates through the shared text view.

Each decision:

1. the prompt is the system prompt (``system_prompt: FILE`` or
   :data:`DEFAULT_SYSTEM_PROMPT`) and the actor's state in words
   (:meth:`~peacegame.policies.text.TextView.state`, the view ``peacegame
   play`` shows a person);
2. the model replies with a JSON object: structured output with the reply's
   JSON Schema where the server supports it, and constrained decoding in the
   ``transformers`` backend;
3. the reply is parsed and checked against the action mask
   (:meth:`~peacegame.policies.text.TextView.parse`). An invalid reply is
   counted and the model is asked again, with the error message, up to
   ``max_retries`` times;
4. after that the policy plays the **fallback** (counted): as proposer its own
   best outcome; as voter, accept if the offer agreed now pays at least its
   no-deal value (δ^r·U(offer) ≥ d), else reject. No statement comes with a
   fallback.

Every request and reply goes into the run's ``transcripts.jsonl`` (with token
counts, latency and whether it came from the cache), and every reply into the
reply cache (:mod:`peacegame.policies.llm.cache`): the same config and cache
replay a run offline, byte-identical (``offline: true`` makes a cache miss an
error instead of a request). Per episode the log line gets an ``llm`` object
per LLM actor: requests, invalid replies, fallbacks, tokens.

The decision itself is written once, as a generator that yields requests and
receives replies (:meth:`LLMPolicy.decide`); :meth:`LLMPolicy.act` drives it
with blocking calls, :meth:`LLMPolicy.act_async` with awaited ones, so
episodes can run concurrently.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import ValidationError

from peacegame.engine.config import VOTE
from peacegame.errors import ConfigError, UserError
from peacegame.logs import LLM_CACHE
from peacegame.policies.base import PolicyView
from peacegame.policies.llm.backends import Backend, Reply, Request, backend_for
from peacegame.policies.llm.cache import ReplyCache, cache_key, open_cache
from peacegame.policies.llm.params import LLMParams
from peacegame.policies.text import ReplyError, TextView
from peacegame.yamlio import pydantic_error

DEFAULT_SYSTEM_PROMPT = (
    "You are a diplomat in a multilateral negotiation. You act for one actor and "
    "want the best outcome for it: a deal worth more to you than your no-deal "
    "value, soon, because later deals are discounted. You answer every turn with "
    "one JSON object and nothing else."
)
"""The system prompt when the config names no file."""


class LLMPolicy:
    """A language model behind the ordinary policy interface (module docstring).

    Args:
        params: The validated parameters.
        file: The config file that names it (errors, relative paths).
        field: The config field that names it (errors).
    """

    name: ClassVar[str] = "llm"

    def __init__(
        self, params: LLMParams, *, file: str | None = None, field: str = "policy"
    ) -> None:
        self.file = file
        self.field = field
        if params.backend == "transformers" and file:
            beside = Path(file).parent / params.model
            if beside.exists() and not Path(params.model).is_absolute():
                params = params.model_copy(update={"model": str(beside)})
        self.params = params
        self.system_prompt = self._system_prompt()
        self.backend: Backend = backend_for(params, file=file, field=field)
        self.cache: ReplyCache = (
            open_cache(self._path(params.cache)) if params.cache else ReplyCache()
        )
        self.view: PolicyView | None = None
        self.text: TextView | None = None
        self._statement: str | None = None
        self._transcript: list[dict[str, Any]] = []
        self._stats = self._zero_stats()
        self._replies: dict[bytes, list[str]] = {}

    # -------------------------------------------------------------- building
    @classmethod
    def from_spec(
        cls, *, file: str | None = None, field: str = "policy", **params: Any
    ) -> LLMPolicy:
        """Build from a spec's parameters (see :class:`LLMParams`).

        Raises:
            ConfigError: On unknown, missing or bad parameters, a missing
                prompt file or key variable, or a model that cannot load.
        """
        if "api_key" in params:
            raise ConfigError(
                "API keys are never read from configs; name the environment "
                "variable that holds it with api_key_env: VARIABLE",
                file=file,
                field=f"{field}.api_key",
            )
        try:
            parsed = LLMParams(**params)
        except ValidationError as exc:
            raise pydantic_error(
                exc, file=file or "<config>", prefix=field, model=LLMParams
            ) from None
        return cls(parsed, file=file, field=field)

    def _path(self, name: str) -> Path:
        path = Path(name).expanduser()
        if not path.is_absolute() and self.file:
            beside = Path(self.file).parent / path
            if beside.exists() or not path.exists():
                return beside
        return path

    def _system_prompt(self) -> str:
        if self.params.system_prompt is None:
            return DEFAULT_SYSTEM_PROMPT
        path = self._path(self.params.system_prompt)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the system prompt {path}: {exc.strerror}; expected a "
                "text file (relative to the config file)",
                file=self.file,
                field=f"{self.field}.system_prompt",
            ) from None

    def label(self) -> str:
        """A short label for logs, such as ``llm(openai:tiny)``."""
        model = Path(self.params.model).name or self.params.model
        return f"llm({self.params.backend}:{model})"

    def open_run(self, run_dir: Path) -> None:
        """Use the run folder's reply cache unless the config names one."""
        if self.params.cache is None:
            self.cache = open_cache(Path(run_dir) / LLM_CACHE)

    # -------------------------------------------------------------- episodes
    @staticmethod
    def _zero_stats() -> dict[str, int]:
        return {
            "decisions": 0,
            "requests": 0,
            "invalid": 0,
            "fallbacks": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
        }

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        """Start an episode as ``agent``."""
        if self.view is not view:
            self.text = TextView(view, history=self.params.history)
            self._replies.clear()
        self.view = view
        self._statement = None
        self._transcript = []
        self._stats = self._zero_stats()

    def statement(self) -> str | None:
        """The statement of the last move (``talk: public``), then forgotten."""
        said, self._statement = self._statement, None
        return said

    def episode_stats(self) -> dict[str, int]:
        """This episode's counts (the log line's ``llm`` object)."""
        return dict(self._stats)

    def take_transcript(self) -> list[dict[str, Any]]:
        """This episode's exchanges (then forgotten)."""
        out, self._transcript = self._transcript, []
        return out

    # ------------------------------------------------------------- decisions
    def _legal_replies(self, mask: np.ndarray) -> list[str]:
        key = mask.tobytes()
        replies = self._replies.get(key)
        if replies is None:
            assert self.text is not None
            replies = [self.text.reply(int(a)) for a in np.flatnonzero(mask[:-1])]
            self._replies[key] = replies
        return replies

    def fallback(self, info: dict[str, Any]) -> int:
        """The documented fallback action (see the module docstring)."""
        view = self.view
        assert view is not None
        if info.get("phase") == VOTE:
            offer = int(info["offer"])
            worth = float(view.utility[offer]) * view.discount ** int(info["round"])
            return view.accept_action if worth >= view.no_deal else view.reject_action
        return int(view.order[0])

    def decide(
        self, observation: dict[str, np.ndarray], info: dict[str, Any]
    ) -> Generator[Request, Reply, int]:
        """One decision: yields requests, receives replies, returns the action."""
        view, text, p = self.view, self.text, self.params
        assert view is not None and text is not None, "reset() before act()"
        mask = observation["action_mask"]
        if not mask[: view.wait_action].any():  # parallel env, nothing to do
            return view.wait_action
        self._stats["decisions"] += 1
        phase = str(info["phase"])
        talk = view.talk == "public" and p.statements
        chars = view.statements.max_chars if talk and view.statements else 0
        messages = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": text.state(observation, info)},
        ]
        replies = self._legal_replies(mask) if p.backend == "transformers" else None
        schema = text.schema(phase)
        for attempt in range(p.max_retries + 1):
            request = Request(
                messages=[dict(m) for m in messages],
                schema=schema,
                replies=replies,
                statement_chars=chars,
                seed=self._seed(),
            )
            reply = yield request
            entry: dict[str, Any] = {
                "round": int(info["round"]),
                "phase": phase,
                "attempt": attempt,
                "messages": request.messages,
                "reply": reply.content,
                "finish_reason": reply.finish_reason,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "latency_s": round(reply.latency_s, 6),
                "cached": bool(reply.extra.get("cached")),
                "structured": reply.structured,
            }
            self._transcript.append(entry)
            self._stats["requests"] += 1
            self._stats["prompt_tokens"] += reply.prompt_tokens
            self._stats["completion_tokens"] += reply.completion_tokens
            try:
                move = text.parse(reply.content, phase, mask)
            except ReplyError as error:
                self._stats["invalid"] += 1
                entry["error"] = str(error)
                messages += [
                    {"role": "assistant", "content": reply.content},
                    {
                        "role": "user",
                        "content": f"That reply is not a legal move: {error}. "
                        "Reply again with the JSON object only.",
                    },
                ]
                continue
            entry["action"] = move.action
            self._statement = move.statement if talk else None
            return move.action
        self._stats["fallbacks"] += 1
        action = self.fallback(info)
        self._transcript[-1]["fallback"] = action
        self._statement = None
        return action

    def _seed(self) -> int | None:
        """The request seed.

        ``seed`` itself when greedy, else mixed with the episode's key and the
        actor, so sampled episodes differ (and do not share cache entries)
        while each stays reproducible.
        """
        p, view = self.params, self.view
        if p.seed is None or p.temperature == 0 or view is None:
            return p.seed
        mixed = (p.seed * 1_000_003 + view.record.seed * 7919 + view.index) % 2**31
        return int(mixed)

    def _key(self, request: Request) -> str:
        return cache_key(
            {
                **self.backend.sampling(),
                "messages": request.messages,
                "schema": request.schema,
                "seed": request.seed,
                "constrained": request.replies is not None,
                "statement_chars": request.statement_chars,
            }
        )

    def _cached(self, key: str) -> Reply | None:
        hit = self.cache.get(key)
        if hit is None:
            if self.params.offline:
                raise UserError(
                    "offline: no cached reply for this request (the run differs "
                    "from the cached one, or the cache is incomplete)",
                    file=str(self.cache.path) if self.cache.path else None,
                    field=f"{self.field}.offline",
                )
            return None
        return Reply(
            content=hit["content"],
            finish_reason=hit.get("finish_reason"),
            prompt_tokens=int(hit.get("prompt_tokens", 0)),
            completion_tokens=int(hit.get("completion_tokens", 0)),
            structured=bool(hit.get("structured", False)),
            latency_s=0.0,
            extra={"cached": True},
        )

    def _ask(self, request: Request) -> Reply:
        key = self._key(request)
        reply = self._cached(key)
        if reply is None:
            t0 = time.perf_counter()
            reply = self.backend.complete(request)
            reply.latency_s = time.perf_counter() - t0
            self.cache.put(key, reply.cached_form())
        return reply

    async def _ask_async(self, request: Request) -> Reply:
        key = self._key(request)
        reply = self._cached(key)
        if reply is None:
            t0 = time.perf_counter()
            reply = await self.backend.acomplete(request)
            reply.latency_s = time.perf_counter() - t0
            self.cache.put(key, reply.cached_form())
        return reply

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        """Decide with blocking requests."""
        steps = self.decide(observation, info)
        try:
            request = next(steps)
            while True:
                request = steps.send(self._ask(request))
        except StopIteration as done:
            return int(done.value)

    async def act_async(
        self, observation: dict[str, np.ndarray], info: dict[str, Any]
    ) -> int:
        """Decide with awaited requests (concurrent episodes)."""
        steps = self.decide(observation, info)
        try:
            request = next(steps)
            while True:
                request = steps.send(await self._ask_async(request))
        except StopIteration as done:
            return int(done.value)
