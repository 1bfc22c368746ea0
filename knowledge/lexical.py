"""The lexical half: BM25 over slang-normalised, Sastrawi-stemmed tokens.

Queries are expanded with ``synonyms.yaml`` (debtor words -> corpus words) before they are
tokenised; passages are indexed by field, with the title and tags weighted above the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from agent.engines.offline.normalise import normalise as normalise_slang
from knowledge.passages import Passage

SYNONYMS_FILE = Path(__file__).with_name("synonyms.yaml")

# Function words only: content words such as "boleh", "tidak", "malam" carry the meaning of
# a debtor's question and must stay.
STOPWORDS = frozenset(
    "yang dan di ke dari ini itu atau pada untuk dengan saya kamu anda bapak ibu kak min "
    "apa apakah adalah juga sudah akan ya sih dong deh kok nih tuh lah pun kah mohon tolong "
    "bagaimana gimana berapa kapan siapa mana kalau jika karena agar oleh sebagai dalam "
    "para sang si nya setelah sebelum sebuah seorang seperti saja aja ia kan tersebut "
    "secara doang".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def _stemmer() -> object:
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Sastrawi stem of one lowercase word (cached: stemming is the slow part)."""
    if len(word) <= 3 or word.isdigit():
        return word
    stemmed: str = _stemmer().stem(word)  # type: ignore[attr-defined]
    return stemmed or word


def tokens(text: str) -> list[str]:
    """Normalise slang, split, drop function words, stem."""
    words = _TOKEN.findall(normalise_slang(text))
    return [stem(w) for w in words if w not in STOPWORDS]


@dataclass(frozen=True)
class Expansions:
    """The expansion tables of ``synonyms.yaml``.

    ``spelling``: colloquial word -> standard word (replaced); ``synonyms``: debtor word or
    phrase -> corpus words (appended).
    """

    spelling: dict[str, str]
    synonyms: dict[str, str]
    pattern: re.Pattern[str] | None


def _table(data: dict[str, object], key: str, path: Path) -> dict[str, str]:
    table = data.get(key) or {}
    if not isinstance(table, dict):
        raise ValueError(f"{path.name}: {key!r} must be a mapping")
    return {" ".join(_TOKEN.findall(str(k).lower())): str(v).lower() for k, v in table.items()}


@lru_cache(maxsize=4)
def load_expansions(path: Path = SYNONYMS_FILE) -> Expansions:
    """Read the expansion tables."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    spelling, synonyms = _table(data, "spelling", path), _table(data, "synonyms", path)
    keys = sorted(synonyms, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, keys)) + r")\b") if keys else None
    return Expansions(spelling, synonyms, pattern)


def expand(text: str, path: Path = SYNONYMS_FILE) -> str:
    """The slang-normalised query, respelled, plus the corpus words of its synonyms."""
    table = load_expansions(path)
    words = _TOKEN.findall(normalise_slang(text))
    normal = " ".join(table.spelling.get(w, w) for w in words)
    if table.pattern is None:
        return normal
    extra = [table.synonyms[m.group(0)] for m in table.pattern.finditer(normal)]
    return " ".join([normal, *extra])


@dataclass(frozen=True)
class FieldWeights:
    """How many times each field's tokens are counted (a simple BM25F)."""

    title: int = 3
    tags: int = 3
    source: int = 1
    body: int = 1


def passage_tokens(passage: Passage, weights: FieldWeights = FieldWeights()) -> list[str]:
    """What BM25 indexes for a passage: each field repeated by its weight."""
    return (
        tokens(passage.title) * weights.title
        + tokens(" ".join(passage.tags)) * weights.tags
        + tokens(passage.source) * weights.source
        + tokens(passage.text) * weights.body
    )


class LexicalIndex:
    """BM25 ranking over the corpus."""

    def __init__(
        self,
        passages: list[Passage],
        weights: FieldWeights = FieldWeights(),
        k1: float = 1.5,
        b: float = 0.75,
        synonyms: bool = True,
    ) -> None:
        """Tokenise and index every passage."""
        self.ids = [p.id for p in passages]
        self.synonyms = synonyms
        self._bm25 = BM25Okapi([passage_tokens(p, weights) for p in passages], k1=k1, b=b)

    def query_tokens(self, query: str) -> list[str]:
        """The query's tokens, after synonym expansion."""
        return tokens(expand(query) if self.synonyms else query)

    def rank(self, query: str) -> list[tuple[str, float]]:
        """Passage ids by BM25 score, best first (zero-score passages dropped)."""
        scores = self._bm25.get_scores(self.query_tokens(query))
        ranked = sorted(zip(self.ids, scores, strict=True), key=lambda pair: -pair[1])
        return [(pid, float(score)) for pid, score in ranked if score > 0]
