"""LLM negotiators: the policy's own overhead, and throughput against a local server.

Two measurements (issue 18), on this machine:

* **overhead**: the ``llm`` policy's time per decision apart from the model,
  over complete episodes of the default scenario (``EpisodePlayer.play``):
  building the text view's state, the schema, the messages and the cache key,
  parsing and checking the reply, the transcript entry. The model is replaced
  by a backend that answers at once with a legal reply (the policy's
  fallback action, as canonical JSON), and that backend's own time is
  subtracted. Target: at most 1 ms per decision.
* **throughput**: requests/s of the ``openai`` backend (``acomplete``, the
  path of concurrent episodes) against a real ``transformers serve`` process
  on localhost serving a tiny random-weight model (built locally), for
  1 to 16 requests in flight, with the game's real prompts. It grows with
  concurrency until the server saturates; the plot is written to
  ``docs/img/llm-throughput.png``.

    python benchmarks/llm.py              # both; writes benchmarks/results-llm.json
    python benchmarks/llm.py --quick      # smaller, writes nothing
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peacegame.match import EpisodePlayer  # noqa: E402
from peacegame.match_config import MatchConfig  # noqa: E402
from peacegame.policies.llm.backends import Backend, Reply, Request  # noqa: E402
from peacegame.policies.llm.tiny import build_tiny_model  # noqa: E402
from peacegame.scenario import load_compiled  # noqa: E402

from llm_helpers import transformers_server  # noqa: E402

SCENARIO = str(ROOT / "configs" / "scenarios" / "ukraine-2025.yaml")


class InstantBackend(Backend):
    """Answers every request at once with the policy's fallback, as JSON."""

    kind = "instant"

    def __init__(self, params: Any, policy: Any) -> None:
        super().__init__(params)
        self.policy = policy
        self.seconds = 0.0
        self.info: dict[str, Any] = {}

    def complete(self, request: Request) -> Reply:
        t0 = time.perf_counter()
        text = self.policy.text
        action = self.policy.fallback(self.info)
        reply = Reply(text.reply(action), "stop", 100, 10)
        self.seconds += time.perf_counter() - t0
        return reply


def overhead(episodes: int) -> dict[str, Any]:
    spec = {"policy": "llm", "base_url": "http://127.0.0.1:9/v1", "model": "none"}
    config = MatchConfig(
        name="bench-llm",
        scenario=SCENARIO,
        protocol={"max_rounds": 30, "talk": "public", "information": "public"},
        policies={a: spec for a in ("russia", "china", "ukraine", "us", "eu")},
        episodes=episodes,
        engine="env",
    )
    player = EpisodePlayer(config, load_compiled(SCENARIO))
    timed = {"act": 0.0, "decisions": 0}
    backends = []
    for policy in player.policies.values():
        backend = InstantBackend(policy.params, policy)
        policy.backend = backend
        backends.append(backend)
        act = policy.act

        def wrapped(observation, info, act=act, backend=backend):
            backend.info = info
            t0 = time.perf_counter()
            action = act(observation, info)
            timed["act"] += time.perf_counter() - t0
            timed["decisions"] += 1
            return action

        policy.act = wrapped
    player.asynchronous = False
    t0 = time.perf_counter()
    for i in range(episodes):
        player.play(i)
    wall = time.perf_counter() - t0
    model = sum(b.seconds for b in backends)
    per = (timed["act"] - model) / timed["decisions"]
    return {
        "episodes": episodes,
        "decisions": timed["decisions"],
        "policy_ms_per_decision": round(per * 1e3, 4),
        "backend_ms_per_decision": round(model / timed["decisions"] * 1e3, 4),
        "episode_wall_s": round(wall / episodes, 4),
    }


async def _burst(backend: Backend, requests: list[Request]) -> float:
    t0 = time.perf_counter()
    await asyncio.gather(*(backend.acomplete(r) for r in requests))
    return time.perf_counter() - t0


def throughput(
    levels: list[int], per_level: int, model: Path, extra: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    from peacegame.policies.llm.backends import OpenAIBackend
    from peacegame.policies.llm.params import LLMParams
    from peacegame.policies.text import TextView

    config = MatchConfig(
        name="bench-llm",
        scenario=SCENARIO,
        policies={a: "linear" for a in ("russia", "china", "ukraine", "us", "eu")},
        engine="env",
    )
    player = EpisodePlayer(config, load_compiled(SCENARIO))
    player.play(0)
    text = TextView(player.views["ukraine"])
    info = {"round": 0, "phase": "propose"}
    prompt = [
        {"role": "system", "content": "You negotiate."},
        {"role": "user", "content": text.state({}, info)},
    ]
    out = []
    with transformers_server(model, extra=extra) as url:
        for level in levels:
            params = LLMParams(
                base_url=url, model=str(model), max_tokens=8, max_in_flight=level
            )
            backend = OpenAIBackend(params, file=None, field="bench")
            requests = [
                Request(messages=prompt, schema=text.schema("propose"), seed=i)
                for i in range(per_level)
            ]
            asyncio.run(_burst(backend, requests[: max(2, level)]))  # warm up
            seconds = asyncio.run(_burst(backend, requests))
            out.append(
                {
                    "in_flight": level,
                    "requests": per_level,
                    "seconds": round(seconds, 3),
                    "requests_per_s": round(per_level / seconds, 2),
                }
            )
            print(f"  {level:>3} in flight: {per_level / seconds:8.2f} requests/s")
    return out


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([r["in_flight"] for r in rows], [r["requests_per_s"] for r in rows], "o-")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("requests in flight (max_in_flight)")
    ax.set_ylabel("requests/s")
    ax.set_title("transformers serve, tiny model, 2 CPU cores")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--continuous-batching",
        action="store_true",
        help="start transformers serve with --continuous-batching",
    )
    args = parser.parse_args()
    episodes, levels, per_level = (
        (3, [1, 4], 16)
        if args.quick
        else (
            20,
            [1, 2, 4, 8, 16, 32],
            96,
        )
    )
    result: dict[str, Any] = {"overhead": overhead(episodes)}
    print("overhead:", json.dumps(result["overhead"]))
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "tiny")
        extra = ("--continuous-batching",) if args.continuous_batching else ()
        result["server_options"] = list(extra)
        result["throughput"] = throughput(levels, per_level, model, extra)
    if not args.quick:
        (ROOT / "benchmarks" / "results-llm.json").write_text(
            json.dumps(result, indent=2) + "\n"
        )
        plot(result["throughput"], ROOT / "docs" / "img" / "llm-throughput.png")


if __name__ == "__main__":
    main()
