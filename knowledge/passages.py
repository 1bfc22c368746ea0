"""Corpus passages: Markdown files with YAML front matter, validated on load."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CORPUS_DIR = Path(__file__).parent / "corpus"
Product = Literal["kartu_kredit", "kta", "p2p", "all"]


class CorpusError(ValueError):
    """A passage file that cannot be read, named with the reason."""


class Passage(BaseModel):
    """One passage: a rule, an article, a policy item or an FAQ answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,80}$")
    title: str = Field(min_length=3)
    source: str = Field(min_length=3)
    kind: Literal["regulation", "policy", "faq"]
    applies_to: tuple[Product, ...] = Field(min_length=1)
    effective_from: date
    effective_to: date | None = None
    confidence: Literal["V1", "V2", "R"]
    tags: tuple[str, ...] = ()
    notes: str | None = None
    text: str = Field(min_length=20)

    def applies(self, product: str | None) -> bool:
        """Whether the passage may be cited to a debtor of ``product`` (None: any bank debtor)."""
        if product is None:
            return "p2p" not in self.applies_to or "all" in self.applies_to
        return "all" in self.applies_to or product in self.applies_to

    def in_force(self, day: date) -> bool:
        """Whether the rule applies on ``day``."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    @property
    def digest(self) -> str:
        """A content hash: unchanged passages are not re-embedded."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def summary(self, sentences: int = 2) -> str:
        """The first sentences of the body: the plain answer the offline engine quotes."""
        parts = [p.strip() for p in self.text.replace("\n", " ").split(". ") if p.strip()]
        text = ". ".join(parts[:sentences])
        return text if text.endswith((".", "?", "!")) else text + "."


@dataclass(frozen=True)
class _Split:
    front: str
    body: str


def _split(raw: str, name: str) -> _Split:
    if not raw.startswith("---"):
        raise CorpusError(f"{name}: missing front matter (expected a leading '---' line)")
    parts = raw.split("---", 2)
    if len(parts) < 3:
        raise CorpusError(f"{name}: front matter is not closed by a '---' line")
    return _Split(parts[1], parts[2].strip())


def load_passage(path: Path) -> Passage:
    """Read and validate one passage file."""
    split = _split(path.read_text(encoding="utf-8"), path.name)
    try:
        meta = yaml.safe_load(split.front) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path.name}: front matter is not valid YAML: {exc}") from exc
    if isinstance(meta.get("applies_to"), str):
        meta["applies_to"] = [meta["applies_to"]]
    try:
        passage = Passage.model_validate({**meta, "text": split.body})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CorpusError(f"{path.name}: {field}: {first['msg']}") from exc
    if passage.id != path.stem:
        raise CorpusError(f"{path.name}: id {passage.id!r} does not match the file name")
    return passage


def load_corpus(directory: Path = CORPUS_DIR) -> list[Passage]:
    """Read every ``*.md`` passage of a directory, sorted by id."""
    passages = [load_passage(p) for p in sorted(directory.glob("*.md"))]
    if not passages:
        raise CorpusError(f"no passages found in {directory}")
    return passages
