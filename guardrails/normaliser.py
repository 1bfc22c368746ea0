"""Normalise bot-voice Indonesian for matching, keeping a map back to the original text.

Handles case, leetspeak and masking ("p3nj4r4", "b*ngsat"), spaced or dotted letters
("a n j i n g", "p.e.n.j.a.r.a"), stretched letters ("tololll") and slang
("lo", "gak", "bakal"), so one standard-Indonesian pattern catches the variants. Every
character of the normalised text remembers where it came from, so a violation's span
points at the words the author actually wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

SLANG_FILE = Path(__file__).parent / "slang.yaml"

_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
}
_SPACED = re.compile(r"(?<![\w*@$])(?:[a-z0-9*@$][ .\-_]){2,}[a-z0-9*@$](?![\w*@$])")
_WORD = re.compile(r"[a-z0-9@$*]+")
# a word (as _WORD delimits it) with a letter and a leet character: only these can change
_LEETY = re.compile(r"[a-z][a-z0-9@$*]*[0134578-9@$]|[0134578-9@$][a-z0-9@$*]*[a-z]")
_STRETCH = re.compile(r"([a-z])\1{2,}")
# digits followed by a unit ("10rb", "50k", "2x", "4g", "24jam"): numbers, not leetspeak
_UNIT = re.compile(r"\d+(?:[.,]\d+)?(?:rb|k|jt|m|x|g|an|h|jam|hari|bln|thn|am|pm|wib|wita|wit)?")
_URL = re.compile(r"https?://\S+")
_SLANG_TOKEN = re.compile(r"(?<![0-9])[a-z]+(?![0-9])")


@dataclass(frozen=True)
class Normalised:
    """Normalised text plus, for each of its characters, the index it came from."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text back to the original text."""
        if not self.origin or end <= start:
            return (0, 0)
        return (self.origin[start], self.origin[min(end, len(self.origin)) - 1] + 1)


@lru_cache(maxsize=1)
def slang_table() -> dict[str, str]:
    """The slang-to-standard dictionary (data, reviewed with the rules)."""
    data = yaml.safe_load(SLANG_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in (data.get("slang") or {}).items()}


def _lower(text: str) -> tuple[list[str], list[int]]:
    lowered_text = text.lower()
    if len(lowered_text) == len(text) and "\u03a3" not in text:  # one char per char: fast path
        return list(lowered_text), list(range(len(text)))
    chars, origin = [], []
    for index, char in enumerate(text):
        lowered = char.lower()
        chars.append(lowered[0] if lowered else char)
        origin.append(index)
    return chars, origin


def _deleet(chars: list[str]) -> None:
    """Turn digits and symbols inside letter words into letters, in place (same length)."""
    text = "".join(chars)
    if _LEETY.search(text) is None:  # no word holds both a letter and a leet character
        return
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isalpha() or word.isdigit() or word.startswith("rp"):
            continue  # fast path: nothing to repair (same outcome as the test below)
        letters = sum(c.isalpha() for c in word)
        if letters < 1 or not any(c in _LEET for c in word) or _UNIT.fullmatch(word):
            continue
        if letters == 1 and ("x" in word or word[-1].isalpha() and word[:-1].isdigit()):
            continue  # "1x24", "3g": a count or a unit, not a masked word
        for offset, char in enumerate(word):
            if char in _LEET:
                chars[match.start() + offset] = _LEET[char]
            elif char == "2" and offset == len(word) - 1 and offset >= 2:
                chars[match.start() + offset] = " "  # "s14p2" (siap-siap): reduplication mark


def _drop(chars: list[str], origin: list[int], keep: list[bool]) -> tuple[list[str], list[int]]:
    if all(keep):  # nothing to remove (the usual case): skip the copies
        return chars, origin
    return (
        [c for c, k in zip(chars, keep, strict=True) if k],
        [o for o, k in zip(origin, keep, strict=True) if k],
    )


def _join_spaced(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """Remove the separators of spaced-out words: "a n j i n g" -> "anjing".

    Only the separator used inside the word is removed, so a space between two dotted words
    stays: "f.o.t.o k.t.p" -> "foto ktp". Leet characters count as letters ("0-J-K"), but a
    run needs at least two real letters, so "1 2 3" or "a. 1." stay apart.
    """
    keep = [True] * len(chars)
    for match in _SPACED.finditer("".join(chars)):
        if sum(c.isalpha() and c != "x" for c in match.group()) < 2:
            continue
        separator = chars[match.start() + 1]
        for index in range(match.start(), match.end()):
            if chars[index] == separator:
                keep[index] = False
    return _drop(chars, origin, keep)


def _unstretch(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """Collapse three or more repeated letters to one: "tololll" -> "tolol"."""
    keep = [True] * len(chars)
    for match in _STRETCH.finditer("".join(chars)):
        for index in range(match.start() + 1, match.end()):
            keep[index] = False
    return _drop(chars, origin, keep)


def _standardise(chars: list[str], origin: list[int]) -> tuple[str, tuple[int, ...]]:
    """Replace slang tokens by standard words; replaced characters map onto the token."""
    table = slang_table()
    text = "".join(chars)
    out: list[str] = []
    out_origin: list[int] = []
    cursor = 0
    for match in _SLANG_TOKEN.finditer(text):
        replacement = table.get(match.group())
        if replacement is None:
            continue
        out.append(text[cursor : match.start()])
        out_origin.extend(origin[cursor : match.start()])
        first, last = origin[match.start()], origin[match.end() - 1]
        out.append(replacement)
        out_origin.extend(min(first + i, last) for i in range(len(replacement)))
        cursor = match.end()
    out.append(text[cursor:])
    out_origin.extend(origin[cursor:])
    return "".join(out), tuple(out_origin)


def normalise(text: str) -> Normalised:
    """Normalise a draft for rule matching (see the module docstring)."""
    chars, origin = _lower(_URL.sub(lambda m: " " * len(m.group()), text))
    chars, origin = _join_spaced(chars, origin)
    _deleet(chars)
    chars, origin = _unstretch(chars, origin)
    standard, mapping = _standardise(chars, origin)
    return Normalised(standard, mapping)
