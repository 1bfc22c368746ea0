"""Text normalisation for the offline NLU: slang, elongation, spacing tricks and leetspeak."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = ["normalise", "tokens"]

_DATA = yaml.safe_load((Path(__file__).with_name("slang.yaml")).read_text(encoding="utf-8"))
_SLANG: dict[str, str] = {str(k): str(v) for k, v in _DATA["slang"].items()}
_LEXICON: frozenset[str] = frozenset(str(w) for w in _DATA["lexicon"])

_LEET = str.maketrans({"4": "a", "@": "a", "1": "i", "!": "i", "3": "e", "0": "o", "5": "s"})
_LEET.update(str.maketrans({"7": "t", "$": "s", "9": "g"}))
_MASK_CHARS = "*#"
_APOSTROPHES = re.compile(r"['’‘`´]")
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z][ .\-_]){2,}[a-z](?![a-z0-9])")
_REDUP = re.compile(r"\b([a-z]{3,})2(?!\w|[.,/:\-]\d)")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_TRAIL_VOWEL = re.compile(r"\b([a-z]*?)([aiueo])\2\b")
_KEEP_DOUBLE = frozenset({"fee", "free", "too", "see", "coffee"})
_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_LOOSE_SEP = re.compile(r"(?<!\d)[.,/:\-]|[.,/:\-](?!\d)")
_NOISE = re.compile(r"[^a-z0-9.,/:\-% ]+")
_RAW_TOKEN = re.compile(r"\S+")
_OBFUSCATED = re.compile(r"[a-z][0-9*#@$!]|[0-9*#@$][a-z]")


def _resolve_obfuscated(token: str) -> str:
    """Resolve a leetspeak or masked token against the lexicon, if it matches exactly one."""
    core = token.strip('.,!?;:"()[]')
    has_mask = any(ch in core for ch in _MASK_CHARS)
    has_alpha = any(ch.isalpha() for ch in core)
    has_digit = any(ch.isdigit() or ch in "@$" for ch in core)
    if not has_alpha or not (has_mask or has_digit):
        return token
    decoded = core.translate(_LEET)
    if not has_mask:
        return token.replace(core, decoded) if decoded in _LEXICON else token
    pattern = re.compile("".join("[a-z]" if ch in _MASK_CHARS else re.escape(ch) for ch in decoded))
    hits = sorted(word for word in _LEXICON if pattern.fullmatch(word))
    return token.replace(core, hits[0]) if len(hits) == 1 else token


def _collapse(text: str) -> str:
    """Collapse elongated letters ("tolongggg" -> "tolong", "berapaa" -> "berapa")."""
    text = _ELONGATED.sub(r"\1", text)

    def _trail(match: re.Match[str]) -> str:
        word = match.group(0)
        return word if word in _KEEP_DOUBLE else word[:-1]

    return _TRAIL_VOWEL.sub(_trail, text)


def _expand(token: str) -> str:
    """Map one token through the slang dictionary (also with a "-nya" suffix)."""
    if token in _SLANG:
        return _SLANG[token]
    if token.endswith("nya") and len(token) > 4:
        stem = _SLANG.get(token[:-3])
        if stem is not None and " " not in stem:
            return stem + "nya"
    return token


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Normalise a chat message into lowercase, standardised Indonesian.

    Digits and the separators inside numbers (``1,5``, ``750.000``, ``23/11/79``,
    ``04-04-1987``) and ``%`` are kept so that slots can be parsed from the result.

    Args:
        text: The raw user message.

    Returns:
        The normalised text, tokens separated by single spaces.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _APOSTROPHES.sub("", text)
    if _OBFUSCATED.search(text):
        text = _RAW_TOKEN.sub(lambda m: _resolve_obfuscated(m.group(0)), text)
    text = _SPACED.sub(lambda m: re.sub(r"[ .\-_]", "", m.group(0)), text)
    text = _REDUP.sub(r"\1", text)
    text = _collapse(text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _LOOSE_SEP.sub(" ", text)
    text = _NOISE.sub(" ", text)
    text = text.replace("%", " % ")
    return " ".join(_expand(tok) for tok in text.split())


def tokens(text: str) -> list[str]:
    """Return the normalised tokens of a message.

    Args:
        text: The raw user message.

    Returns:
        The list of normalised tokens (multi-word slang expansions are split).
    """
    return normalise(text).split()
