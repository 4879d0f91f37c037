"""The two ways to reach a model: an OpenAI-compatible server, or in-process.

* :class:`OpenAIBackend` talks to any OpenAI-compatible chat-completions
  server (vLLM, SGLang, Ollama, llama.cpp's server, ``transformers serve``, a
  hosted API) with the ``openai`` client, synchronously or asynchronously.
  With ``structured: auto`` or ``json_schema`` it sends ``response_format``
  with the reply's JSON Schema; a server that refuses it (HTTP 400/422 naming
  ``response_format``) is asked again without, and under ``auto`` is not
  asked with it again. Rate limits (429), timeouts, connection errors and
  server errors (5xx) are retried with exponential backoff
  (``backoff · 2^k`` seconds, at most ``request_retries`` times); other errors
  and exhausted retries are a one-line :class:`~peacegame.errors.UserError`.
* :class:`TransformersBackend` runs a model in-process with ``transformers``
  and constrained decoding (:mod:`peacegame.policies.llm.grammar`): every
  reply it writes is a legal action.

A backend gets a :class:`Request` and returns a :class:`Reply`; the policy
does the rest (prompts, validation, re-asking, fallbacks, cache, transcript).
The API key is read from the environment variable the config names, when the
client is built, and kept only inside the client.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from peacegame.errors import ConfigError, UserError


@dataclass
class Request:
    """One chat-completion request.

    Attributes:
        messages: The chat messages (``role``, ``content``).
        schema: The JSON Schema of a legal reply.
        replies: The canonical replies of the legal actions (constrained
            decoding), or None.
        statement_chars: The longest statement allowed (0: none).
        seed: The request's seed.
    """

    messages: list[dict[str, str]]
    schema: dict[str, Any]
    replies: list[str] | None = None
    statement_chars: int = 0
    seed: int | None = None


@dataclass
class Reply:
    """A model's reply.

    Attributes:
        content: The reply's text.
        finish_reason: Why generation stopped (``stop``, ``length``...).
        prompt_tokens: Tokens in the prompt (0 if the server does not say).
        completion_tokens: Tokens in the reply.
        structured: Whether ``response_format`` was sent.
        latency_s: Seconds the request took.
        retries: Rate-limit or connection retries before it succeeded.
    """

    content: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    structured: bool = False
    latency_s: float = 0.0
    retries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def cached_form(self) -> dict[str, Any]:
        """What the cache keeps of it (deterministic fields and the latency)."""
        return {
            "content": self.content,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "structured": self.structured,
            "latency_s": round(self.latency_s, 6),
        }


class Backend:
    """Completes requests (see the module docstring)."""

    kind = "backend"

    def __init__(self, params: Any) -> None:
        self.params = params

    def sampling(self) -> dict[str, Any]:
        """The parameters that determine a reply (part of the cache key)."""
        p = self.params
        return {
            "backend": self.kind,
            "model": p.model,
            "temperature": p.temperature,
            "top_p": p.top_p,
            "max_tokens": p.max_tokens,
            "structured": p.structured,
        }

    def complete(self, request: Request) -> Reply:
        """Complete one request."""
        raise NotImplementedError

    async def acomplete(self, request: Request) -> Reply:
        """Complete one request without blocking the event loop."""
        return await asyncio.to_thread(self.complete, request)


_RESPONSE_FORMAT_REFUSED = ("response_format", "json_schema", "structured")


class OpenAIBackend(Backend):
    """Any OpenAI-compatible chat-completions server (see the module docstring).

    Raises:
        ConfigError: If ``openai`` is not installed or the named key variable
            is not set.
    """

    kind = "openai"

    def __init__(self, params: Any, *, file: str | None, field: str) -> None:
        super().__init__(params)
        try:
            import openai
        except ImportError:
            raise ConfigError(
                "the openai backend needs the openai package; pip install "
                "'peacegame[llm]'",
                file=file,
                field=f"{field}.backend",
            ) from None
        self.openai = openai
        if params.api_key_env:
            key = os.environ.get(params.api_key_env)
            if not key:
                raise ConfigError(
                    f"environment variable {params.api_key_env} is not set; set it "
                    "to the API key (keys are never read from config files)",
                    file=file,
                    field=f"{field}.api_key_env",
                )
        self._key_env = params.api_key_env
        self._structured = params.structured != "off"
        self._sync: Any = None
        self._async: dict[int, tuple[Any, asyncio.Semaphore]] = {}
        self._lock = threading.Lock()

    def _client_kwargs(self) -> dict[str, Any]:
        key = os.environ.get(self._key_env) if self._key_env else None
        return {
            "base_url": self.params.base_url,
            "api_key": key or "not-needed",
            "timeout": self.params.timeout,
            "max_retries": 0,  # retries with backoff are ours (counted)
        }

    def _body(self, request: Request, structured: bool) -> dict[str, Any]:
        p = self.params
        body: dict[str, Any] = {
            "model": p.model,
            "messages": request.messages,
            "temperature": p.temperature,
            "max_tokens": p.max_tokens,
        }
        if p.top_p is not None:
            body["top_p"] = p.top_p
        if request.seed is not None:
            body["seed"] = request.seed
        if structured:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "action",
                    "schema": request.schema,
                    "strict": True,
                },
            }
        return body

    def _retryable(self, exc: Exception) -> bool:
        o = self.openai
        return isinstance(
            exc,
            o.RateLimitError
            | o.APITimeoutError
            | o.APIConnectionError
            | o.InternalServerError,
        )

    def _refuses_format(self, exc: Exception, structured: bool) -> bool:
        o = self.openai
        if not structured or not isinstance(
            exc, o.BadRequestError | o.UnprocessableEntityError
        ):
            return False
        text = str(exc).lower()
        return any(word in text for word in _RESPONSE_FORMAT_REFUSED)

    def _error(self, exc: Exception) -> UserError:
        where = self.params.base_url or "the OpenAI API"
        detail = " ".join(str(exc).split())[:300]
        return UserError(
            f"LLM request to {where} (model {self.params.model!r}) failed: "
            f"{type(exc).__name__}: {detail}"
        )

    def _reply(self, response: Any, structured: bool, t0: float, retries: int) -> Reply:
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        return Reply(
            content=choice.message.content or "",
            finish_reason=choice.finish_reason,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            structured=structured,
            latency_s=time.perf_counter() - t0,
            retries=retries,
        )

    def complete(self, request: Request) -> Reply:
        """Complete one request (blocking)."""
        with self._lock:
            if self._sync is None:
                self._sync = self.openai.OpenAI(**self._client_kwargs())
        retries = 0
        while True:
            structured = self._structured
            t0 = time.perf_counter()
            try:
                response = self._sync.chat.completions.create(
                    **self._body(request, structured)
                )
                return self._reply(response, structured, t0, retries)
            except Exception as exc:  # noqa: BLE001 (sorted out below)
                if self._refuses_format(exc, structured):
                    self._structured = False
                    continue
                if not self._retryable(exc) or retries >= self.params.request_retries:
                    raise self._error(exc) from None
                time.sleep(self.params.backoff * 2**retries)
                retries += 1

    def _async_client(self) -> tuple[Any, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        entry = self._async.get(id(loop))
        if entry is None or getattr(entry[1], "_peacegame_loop", None) is not loop:
            client = self.openai.AsyncOpenAI(**self._client_kwargs())
            gate = asyncio.Semaphore(self.params.max_in_flight)
            gate._peacegame_loop = loop  # type: ignore[attr-defined]
            entry = self._async[id(loop)] = (client, gate)
        return entry

    async def acomplete(self, request: Request) -> Reply:
        """Complete one request, at most ``max_in_flight`` at once per loop."""
        client, gate = self._async_client()
        retries = 0
        while True:
            structured = self._structured
            async with gate:
                t0 = time.perf_counter()
                try:
                    response = await client.chat.completions.create(
                        **self._body(request, structured)
                    )
                    return self._reply(response, structured, t0, retries)
                except Exception as exc:  # noqa: BLE001 (sorted out below)
                    error = exc
            if self._refuses_format(error, structured):
                self._structured = False
                continue
            if not self._retryable(error) or retries >= self.params.request_retries:
                raise self._error(error) from None
            await asyncio.sleep(self.params.backoff * 2**retries)
            retries += 1


class TransformersBackend(Backend):
    """A model run in-process with constrained decoding (legal replies only).

    Raises:
        ConfigError: If ``transformers`` is missing or the model cannot load.
    """

    kind = "transformers"

    def __init__(self, params: Any, *, file: str | None, field: str) -> None:
        super().__init__(params)
        where = {"file": file, "field": f"{field}.model"}
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ConfigError(
                "the transformers backend needs torch and transformers; pip "
                "install 'peacegame[llm]'",
                **where,
            ) from None
        from peacegame.policies.llm.grammar import TokenIndex

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(params.model)
            self.model = AutoModelForCausalLM.from_pretrained(params.model)
        except Exception as exc:  # noqa: BLE001 (any load failure is a user error)
            raise ConfigError(
                f"cannot load model {params.model!r}: {type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:200]}",
                **where,
            ) from None
        self.model.to(params.device)
        self.model.eval()
        self.torch = torch
        self.index = TokenIndex(self.tokenizer)
        self._lock = threading.Lock()

    def complete(self, request: Request) -> Reply:
        """Generate one reply inside the request's grammar."""
        from transformers import LogitsProcessorList

        from peacegame.policies.llm.grammar import GrammarLogitsProcessor, ReplyGrammar

        torch = self.torch
        p = self.params
        t0 = time.perf_counter()
        encoded = self.tokenizer.apply_chat_template(
            request.messages, add_generation_prompt=True, return_tensors="pt"
        )
        input_ids = encoded["input_ids"] if hasattr(encoded, "keys") else encoded
        input_ids = input_ids.to(p.device)
        length = int(input_ids.shape[1])
        kwargs: dict[str, Any] = {}
        if request.replies is not None:
            grammar = ReplyGrammar(request.replies, request.statement_chars)
            processor = GrammarLogitsProcessor(grammar, self.index, length)
            kwargs["logits_processor"] = LogitsProcessorList([processor])
            budget = max(p.max_tokens, grammar.max_length + 1)
        else:
            processor = None
            budget = p.max_tokens
        sample = p.temperature > 0
        if sample:
            kwargs.update(do_sample=True, temperature=p.temperature)
            if p.top_p is not None:
                kwargs["top_p"] = p.top_p
        else:
            kwargs.update(do_sample=False)
        with self._lock, torch.no_grad():
            if sample:
                torch.manual_seed(int(request.seed or 0))
            output = self.model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=budget,
                eos_token_id=self.tokenizer.eos_token_id,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                **kwargs,
            )
        generated = output[0, length:].tolist()
        finish = "stop" if generated and generated[-1] == self.index.eos else "length"
        if processor is not None:
            texts = self.index.texts
            content = "".join(texts[t] or "" for t in generated)
        else:
            content = self.tokenizer.decode(generated, skip_special_tokens=True)
        return Reply(
            content=content,
            finish_reason=finish,
            prompt_tokens=length,
            completion_tokens=len(generated),
            structured=processor is not None,
            latency_s=time.perf_counter() - t0,
        )


_BACKENDS: dict[tuple[Any, ...], Backend] = {}


def backend_for(params: Any, *, file: str | None, field: str) -> Backend:
    """The process's one backend for these parameters (policies share it).

    Sharing keeps one model in memory and one bound on requests in flight
    however many policies and concurrent episodes use it.
    """
    key = (
        params.backend,
        params.model,
        params.base_url,
        params.api_key_env,
        params.device,
        params.max_in_flight,
        params.structured,
        params.temperature,
        params.top_p,
        params.max_tokens,
        params.timeout,
        params.request_retries,
        params.backoff,
    )
    backend = _BACKENDS.get(key)
    if backend is None:
        cls = OpenAIBackend if params.backend == "openai" else TransformersBackend
        backend = _BACKENDS[key] = cls(params, file=file, field=field)
    return backend
