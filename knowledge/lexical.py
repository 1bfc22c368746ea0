"""The lexical half: BM25 over slang-normalised, Sastrawi-stemmed tokens."""

from __future__ import annotations

import re
from functools import lru_cache

from rank_bm25 import BM25Okapi
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

from agent.engines.offline.normalise import normalise as normalise_slang
from knowledge.passages import Passage

# Function words only: content words such as "boleh", "tidak", "malam" carry the meaning of
# a debtor's question and must stay.
STOPWORDS = frozenset(
    "yang dan di ke dari ini itu atau pada untuk dengan saya kamu anda bapak ibu kak min "
    "apa apakah adalah juga sudah akan ya sih dong deh kok nih tuh lah pun kah mohon tolong "
    "bagaimana gimana berapa kapan siapa mana kalau jika karena agar oleh sebagai dalam "
    "para sang si nya".split()
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


def passage_tokens(passage: Passage) -> list[str]:
    """What BM25 indexes for a passage: title and tags twice (they name the topic), body once."""
    head = " ".join([passage.title, " ".join(passage.tags)])
    return tokens(head) * 2 + tokens(f"{passage.source} {passage.text}")


class LexicalIndex:
    """BM25 ranking over the corpus."""

    def __init__(self, passages: list[Passage]) -> None:
        """Tokenise and index every passage."""
        self.ids = [p.id for p in passages]
        self._bm25 = BM25Okapi([passage_tokens(p) for p in passages])

    def rank(self, query: str) -> list[tuple[str, float]]:
        """Passage ids by BM25 score, best first (zero-score passages dropped)."""
        scores = self._bm25.get_scores(tokens(query))
        ranked = sorted(zip(self.ids, scores, strict=True), key=lambda pair: -pair[1])
        return [(pid, float(score)) for pid, score in ranked if score > 0]
