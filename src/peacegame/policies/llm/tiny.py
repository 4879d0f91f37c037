"""A tiny causal language model with random weights, built locally (no download).

Tests, benchmarks and the README's offline demo use it: a tokenizer trained on
the fly with ``tokenizers`` on text like the game's prompts and replies, a
two-layer Llama-style model with random weights, and a chat template, saved to
a folder that ``transformers`` (in-process) and ``transformers serve`` both
load. It plays badly on purpose: its replies exercise validation, re-asking,
fallbacks and constrained decoding.

Run ``python -m peacegame.policies.llm.tiny FOLDER`` to build one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n"
    "{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
"""A minimal chat template (role markers, then the content)."""

SPECIAL = ["<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]


def _corpus() -> list[str]:
    """Text resembling the game's prompts and replies (for the tokenizer)."""
    from peacegame.resources import resolve_config
    from peacegame.scenario import load_compiled

    scenario = load_compiled(resolve_config("ukraine-2025", "scenarios"))
    lines = [
        '{"propose": {' + ", ".join(f'"{k}": "{v}"' for k, v in o.items()) + "}}"
        for o in (scenario.decode(k) for k in range(0, scenario.n_outcomes, 7))
    ]
    lines += ['{"vote": "accept"}', '{"vote": "reject"}', '"statement": "']
    lines += [
        "You are the negotiator for Ukraine. Propose an outcome or vote.",
        "We accept this offer. We reject this offer; it crosses our red line.",
        "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?'-",
    ]
    return lines


def build_tiny_model(
    folder: str | Path, *, vocab_size: int = 600, seed: int = 0
) -> Path:
    """Build and save a tiny random-weight chat model and its tokenizer.

    Args:
        folder: Where to save it (created).
        vocab_size: The tokenizer's vocabulary size.
        seed: The seed of the random weights.

    Returns:
        The folder.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(_corpus() * 3, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="</s>",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.max_new_tokens = 64
    model.save_pretrained(folder)
    (folder / "peacegame-tiny.json").write_text(
        json.dumps({"vocab_size": len(fast), "seed": seed}) + "\n"
    )
    return folder


if __name__ == "__main__":  # pragma: no cover (a command-line convenience)
    if len(sys.argv) != 2:
        sys.exit("usage: python -m peacegame.policies.llm.tiny FOLDER")
    print(build_tiny_model(sys.argv[1]))
