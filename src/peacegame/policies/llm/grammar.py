"""Constrained decoding: a reply grammar over the legal actions, as a logits processor.

The in-process ``transformers`` backend lets a model write only the prefixes of
legal replies, so every reply it finishes is a legal action by construction:

* the legal replies are the canonical JSON texts of the legal actions
  (:meth:`peacegame.policies.text.TextView.reply`) without their closing
  brace, kept sorted: a text is a legal prefix when it starts one of them
  (one binary search);
* after a complete action the reply either closes (``}``) or, under
  ``talk: public``, goes on with ``, "statement": "`` and a bounded message of
  plain printable characters (no quote, no backslash) closed by ``"}``;
* :class:`GrammarLogitsProcessor` masks, at every step, every token whose
  text would leave the grammar, and allows the end-of-sequence token only
  once the reply is complete (and then only it).

Token texts are read from the tokenizer's vocabulary: byte-level BPE tokens
(GPT-2, Llama 3, Qwen...) through the byte-to-unicode table, SentencePiece
tokens with ``▁`` as a space. Tokens that are not valid UTF-8 on their own are
never allowed (the grammar is ASCII but for level names).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

STATEMENT_OPEN = ', "statement": "'
"""What follows a complete action when a statement comes with it."""
STATEMENT_CLOSE = '"}'
"""What ends a reply with a statement."""


def _safe(c: str) -> bool:
    return c.isprintable() and c not in '"\\' and c.isascii()


class ReplyGrammar:
    """The replies a model may write for one decision.

    Args:
        replies: The canonical JSON replies of the legal actions (without
            statements).
        statement_chars: The longest statement, or 0 for none.
    """

    def __init__(self, replies: Sequence[str], statement_chars: int = 0) -> None:
        bodies = sorted({r[:-1] for r in replies})
        if not bodies or any(not r.endswith("}") for r in replies):
            raise ValueError("expected JSON object replies")
        self.bodies = bodies
        self.statement_chars = int(statement_chars)
        self.max_length = max(map(len, bodies)) + (
            len(STATEMENT_OPEN) + self.statement_chars + len(STATEMENT_CLOSE)
            if self.statement_chars
            else 1
        )

    def _body_of(self, text: str) -> str | None:
        """The legal body that ``text`` starts with, if any (bodies are prefix-free)."""
        j = bisect.bisect_right(self.bodies, text) - 1
        if j >= 0 and text.startswith(self.bodies[j]):
            return self.bodies[j]
        return None

    def in_body(self, text: str) -> bool:
        """Whether ``text`` is a proper prefix of a legal body."""
        i = bisect.bisect_left(self.bodies, text)
        return i < len(self.bodies) and self.bodies[i].startswith(text)

    def status(self, text: str) -> tuple[bool, bool]:
        """``(legal prefix, complete reply)`` of ``text``."""
        if self.in_body(text) and self._body_of(text) != text:
            return True, False
        body = self._body_of(text)
        if body is None:
            return False, False
        rest = text[len(body) :]
        if "}".startswith(rest):
            return True, rest == "}"
        if not self.statement_chars:
            return False, False
        if len(rest) <= len(STATEMENT_OPEN):
            return STATEMENT_OPEN.startswith(rest), False
        if not rest.startswith(STATEMENT_OPEN):
            return False, False
        said = rest[len(STATEMENT_OPEN) :]
        end = said.find('"')
        if end < 0:
            ok = len(said) <= self.statement_chars and all(map(_safe, said))
            return ok, False
        message, closing = said[:end], said[end:]
        ok = (
            len(message) <= self.statement_chars
            and all(map(_safe, message))
            and STATEMENT_CLOSE.startswith(closing)
        )
        return ok, ok and closing == STATEMENT_CLOSE

    def next_chars(self, text: str) -> tuple[set[str], bool]:
        """The characters that may follow ``text`` and whether any safe one may.

        Returns:
            ``(specific characters, any statement character allowed)``.
        """
        if self.in_body(text) and self._body_of(text) != text:
            lo = bisect.bisect_left(self.bodies, text)
            hi = bisect.bisect_left(self.bodies, text + "\U0010ffff")
            n = len(text)
            return {b[n] for b in self.bodies[lo:hi] if len(b) > n}, False
        body = self._body_of(text)
        if body is None:
            return set(), False
        rest = text[len(body) :]
        if rest == "":
            return ({"}", ","} if self.statement_chars else {"}"}), False
        if rest == "}":
            return set(), False
        if len(rest) < len(STATEMENT_OPEN):
            return {STATEMENT_OPEN[len(rest)]}, False
        if not rest.startswith(STATEMENT_OPEN):
            return set(), False
        said = rest[len(STATEMENT_OPEN) :]
        end = said.find('"')
        if end < 0:
            return {'"'}, len(said) < self.statement_chars
        return ({"}"} if said[end:] == '"' else set()), False


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-to-unicode table (byte-level BPE vocabularies use it)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + n)
            n += 1
    return dict(zip(printable, map(chr, codes), strict=True))


@lru_cache(maxsize=1)
def _unicode_to_byte() -> dict[str, int]:
    return {c: b for b, c in _bytes_to_unicode().items()}


def token_texts(tokenizer: Any) -> list[str | None]:
    """The text each token id adds to a reply (None: never allowed).

    Special tokens and tokens that are not valid UTF-8 by themselves are None.
    """
    vocab = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    table = _unicode_to_byte()
    byte_level = sum(1 for t in vocab if t and all(c in table for c in t)) > 0.9 * len(
        vocab
    )
    out: list[str | None] = []
    for i, token in enumerate(vocab):
        if i in special or not token:
            out.append(None)
            continue
        if byte_level:
            try:
                text = bytes(table[c] for c in token).decode("utf-8")
            except (KeyError, UnicodeDecodeError):
                out.append(None)
                continue
        else:
            if token.startswith("<0x") and token.endswith(">"):
                out.append(None)
                continue
            text = token.replace("▁", " ")
        out.append(text)
    return out


class TokenIndex:
    """A tokenizer's token texts, indexed for :class:`GrammarLogitsProcessor`.

    Args:
        tokenizer: A ``transformers`` tokenizer.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.texts = token_texts(tokenizer)
        self.size = len(self.texts)
        self.by_first: dict[str, list[int]] = {}
        safe = np.zeros(self.size, dtype=bool)
        lengths = np.zeros(self.size, dtype=np.int64)
        for i, text in enumerate(self.texts):
            if not text:
                continue
            self.by_first.setdefault(text[0], []).append(i)
            lengths[i] = len(text)
            safe[i] = all(map(_safe, text))
        self.safe = safe
        self.lengths = lengths
        self.eos = tokenizer.eos_token_id


class GrammarLogitsProcessor:
    """A ``transformers`` logits processor that keeps a reply in its grammar.

    Args:
        grammar: The decision's reply grammar.
        index: The tokenizer's token index.
        prompt_length: The prompt's length in tokens (generation starts after).
    """

    def __init__(
        self, grammar: ReplyGrammar, index: TokenIndex, prompt_length: int
    ) -> None:
        self.grammar = grammar
        self.index = index
        self.prompt_length = prompt_length
        self.text = ""
        self._seen = 0

    def allowed(self, text: str) -> np.ndarray:
        """The token ids that may come next after ``text``."""
        grammar, index = self.grammar, self.index
        ok: list[int] = []
        _, complete = grammar.status(text)
        if complete:
            return np.array([index.eos], dtype=np.int64)
        chars, free = grammar.next_chars(text)
        for c in chars:
            for i in index.by_first.get(c, ()):
                piece = index.texts[i]
                if grammar.status(text + piece)[0]:
                    ok.append(i)
        if free:
            said = text[text.rindex('"') + 1 :] if '"' in text else ""
            room = grammar.statement_chars - len(said)
            ok.extend(np.flatnonzero(index.safe & (index.lengths <= room)).tolist())
        return np.unique(np.array(ok, dtype=np.int64))

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        """Mask every token that would leave the grammar (batch of one)."""
        import torch

        generated = input_ids[0, self.prompt_length :].tolist()
        for token in generated[self._seen :]:
            self.text += self.index.texts[token] or ""
        self._seen = len(generated)
        allowed = self.allowed(self.text)
        if allowed.size == 0:  # a dead end (cannot happen with a full alphabet)
            allowed = np.array([self.index.eos], dtype=np.int64)
        masked = torch.full_like(scores, float("-inf"))
        columns = torch.as_tensor(allowed, dtype=torch.long)
        masked[:, columns] = scores[:, columns]
        return masked
