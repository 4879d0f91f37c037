"""Helpers of the LLM tests: a talking scripted policy, the tiny model, a server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from peacegame.policies.base import PolicyView
from peacegame.policies.scripted import Linear


class Talker:
    """A linear concession strategy that comments on every move (user policy).

    Args:
        words: How long its statements are (characters, before the protocol's
            bound cuts them).
    """

    def __init__(self, words: int = 20) -> None:
        self.inner = Linear()
        self.words = int(words)
        self.moves = 0

    def label(self) -> str:
        return "talker"

    def reset(self, agent: str, view: PolicyView, rng: np.random.Generator) -> None:
        self.agent = agent
        self.inner.reset(agent, view, rng)

    def act(self, observation: dict[str, np.ndarray], info: dict[str, Any]) -> int:
        self.moves += 1
        self.last = info
        return self.inner.act(observation, info)

    def statement(self) -> str:
        text = f"{self.agent} move {self.moves} in {self.last['phase']} " + "x" * 400
        return text[: self.words]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def transformers_server(
    model: Path, timeout: float = 120, extra: tuple[str, ...] = ()
) -> Iterator[str]:
    """Run ``transformers serve MODEL`` on a free local port; yield its base URL.

    Args:
        model: The model folder.
        timeout: Seconds to wait for the server to answer.
        extra: More ``transformers serve`` options (``--continuous-batching``).
    """
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    exe = Path(sys.executable).with_name("transformers")
    cmd = [str(exe), "serve", str(model), "--port", str(port), "--host", "127.0.0.1"]
    cmd += ["--device", "cpu", "--log-level", "warning", *extra]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {proc.stderr.read()}")
            try:
                with urllib.request.urlopen(url + "/v1/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield url + "/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
