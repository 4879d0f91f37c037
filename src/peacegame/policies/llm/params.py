"""Parameters of an ``llm`` policy spec (validated like every config)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LLMParams(BaseModel):
    """``{policy: llm, ...}``: which model, how to ask it, how to replay it.

    Attributes:
        backend: ``openai`` (any OpenAI-compatible server) or ``transformers``
            (in-process, constrained decoding).
        model: The model name the server knows, or (``transformers``) a local
            folder (relative to the config file, else to the working
            directory) or a hub id already in the local cache.
        base_url: The server, for example ``http://localhost:8000/v1``; None
            is the OpenAI API.
        api_key_env: The environment variable that holds the API key (never
            the key itself); default ``OPENAI_API_KEY`` without ``base_url``,
            none with one (local servers).
        temperature: Sampling temperature (0: greedy).
        top_p: Nucleus sampling, or None for the server's default.
        max_tokens: The longest reply, in tokens.
        seed: The seed sent with every request (servers that honour it are
            reproducible without the cache).
        system_prompt: A text file with the system prompt (relative to the
            config file), or None for the built-in one.
        max_retries: How many times an invalid reply is answered with its
            error and asked again before the fallback.
        structured: ``auto`` sends ``response_format`` with the reply's JSON
            Schema and stops if the server refuses it; ``json_schema`` always
            sends it; ``off`` never does.
        statements: Ask for statements when the protocol has ``talk: public``.
        history: How many past rounds the prompt describes.
        request_retries: Retries of rate-limited, timed-out or failed requests.
        backoff: The first retry's wait in seconds (doubled each time).
        timeout: Seconds before a request times out.
        max_in_flight: Requests in flight at once (concurrent episodes).
        cache: The reply cache file; None is ``llm-cache.jsonl`` in the run
            folder (or memory only outside a run).
        offline: Replay from the cache only: a miss is an error.
        device: The torch device of the ``transformers`` backend.
    """

    model_config = ConfigDict(extra="forbid")

    backend: Literal["openai", "transformers"] = "openai"
    model: str = Field(min_length=1)
    base_url: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int = Field(default=256, ge=1, le=32768)
    seed: int | None = Field(default=0, ge=0, lt=2**31)
    system_prompt: str | None = None
    max_retries: int = Field(default=2, ge=0, le=10)
    structured: Literal["auto", "json_schema", "off"] = "auto"
    statements: bool = True
    history: int = Field(default=5, ge=0, le=1000)
    request_retries: int = Field(default=5, ge=0, le=20)
    backoff: float = Field(default=0.5, ge=0.0, le=60.0)
    timeout: float = Field(default=120.0, gt=0.0)
    max_in_flight: int = Field(default=8, ge=1, le=1024)
    cache: str | None = None
    offline: bool = False
    device: str = "cpu"

    @model_validator(mode="after")
    def _default_key_variable(self) -> LLMParams:
        if (
            self.backend == "openai"
            and self.base_url is None
            and self.api_key_env is None
        ):
            self.api_key_env = "OPENAI_API_KEY"
        return self
