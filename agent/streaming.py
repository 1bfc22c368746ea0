"""Releasing a streamed reply sentence by sentence, each sentence checked before release."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# A sentence ends at . ! ? (or a run of them) followed by white space; "Rp12.450.000" and
# "tgl. 25" keep going because no space follows the dot inside a figure.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """Cut finished text into sentences (the tail without an end mark is the last one)."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return [s for s in sentences if s]


class SentenceGate:
    """Buffers streamed text and releases each whole sentence the check allows.

    After the first sentence the check blocks, nothing more is released in this draft: the
    whole draft then goes through the guardrail as usual, and the final answer carries the
    reply that was actually approved.
    """

    def __init__(self, allowed: Callable[[str], bool], emit: Callable[[Any], None]) -> None:
        """Check with ``allowed``; release through ``emit`` (a LangGraph stream writer)."""
        self._allowed, self._emit = allowed, emit
        self._buffer = ""
        self.released: list[str] = []
        self.blocked = False

    def feed(self, piece: str) -> None:
        """Take the next piece of streamed text; release the sentences it completes."""
        self._buffer += piece
        last_end = None
        for match in _SENTENCE_END.finditer(self._buffer):
            last_end = match.end()
        if last_end is None:
            return
        done, self._buffer = self._buffer[:last_end], self._buffer[last_end:]
        for sentence in split_sentences(done):
            self._release(sentence)

    def close(self, final: bool) -> list[str]:
        """End of the stream: release the tail when it is the reply; return what was released."""
        if final and self._buffer.strip():
            self._release(self._buffer.strip())
        self._buffer = ""
        return list(self.released)

    def _release(self, sentence: str) -> None:
        if self.blocked:
            return
        if not self._allowed(sentence):
            self.blocked = True
            return
        self.released.append(sentence)
        self._emit({"sentence": sentence})
