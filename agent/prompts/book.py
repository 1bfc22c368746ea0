"""Loads the prompt files, renders the system prompt for a turn and hashes what was rendered."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined
from pydantic import BaseModel, Field, ValidationError

PROMPTS_DIR = Path(__file__).parent
LENDER = "Bank Nusantara"


class PromptError(ValueError):
    """A prompt file or variant is missing or malformed (message in English, for operators)."""


class Variant(BaseModel):
    """One named variant: how long replies are, which few-shots and extra instructions."""

    max_sentences: int = Field(default=4, ge=1, le=12)
    fewshot: list[str] | str = "all"
    extra: str = ""


@dataclass(frozen=True)
class RenderedPrompt:
    """The messages that open every model call of a turn, and their version hash."""

    messages: list[dict[str, Any]]
    version: str


class PromptBook:
    """The prompt files of one variant, loaded once; renders a turn's system prompt."""

    def __init__(self, variant: str = "default", directory: Path = PROMPTS_DIR) -> None:
        """Load the files of ``directory`` and select a variant.

        Raises:
            PromptError: a file is missing or the variant is unknown.
        """
        try:
            parts = {
                name: (directory / f"{name}.md").read_text(encoding="utf-8")
                for name in ("persona", "compliance", "tool_rules")
            }
            system = (directory / "system.md.j2").read_text(encoding="utf-8")
            variants = yaml.safe_load((directory / "variants.yaml").read_text(encoding="utf-8"))
            shots = yaml.safe_load((directory / "fewshot.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PromptError(f"cannot load prompts from {directory}: {exc}") from exc
        known = sorted((variants or {}).get("variants", {}))
        if variant not in known:
            raise PromptError(f"unknown prompt variant {variant!r}; known: {', '.join(known)}")
        try:
            self.variant = Variant.model_validate(variants["variants"][variant])
        except ValidationError as exc:
            raise PromptError(f"variants.yaml: variant {variant!r}: {exc}") from exc
        self.name = variant
        env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        values = {"lender": LENDER, "max_sentences": self.variant.max_sentences}
        self._parts = {k: env.from_string(v).render(**values).strip() for k, v in parts.items()}
        self._system = env.from_string(system)
        self._shots = self._select_shots(shots.get("dialogues", []))
        source = "\n".join([system, *parts.values(), yaml.safe_dump(shots), variant])
        self.version = f"{variant}+{hashlib.sha256(source.encode()).hexdigest()[:12]}"

    def _select_shots(self, dialogues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = self.variant.fewshot
        if wanted == "none":
            return []
        by_name = {d["name"]: d for d in dialogues}
        names = list(by_name) if wanted == "all" else list(wanted)
        missing = [n for n in names if n not in by_name]
        if missing:
            raise PromptError(f"variant {self.name!r} names unknown few-shots: {missing}")
        return [dict(m) for n in names for m in by_name[n]["messages"]]

    def render(self, facts: dict[str, Any]) -> RenderedPrompt:
        """Render the system prompt and few-shots from the conversation's facts."""
        system = self._system.render(**self._parts, extra=self.variant.extra, **facts).strip()
        digest = hashlib.sha256(system.encode()).hexdigest()[:12]
        messages = [{"role": "system", "content": system}, *self._shots]
        return RenderedPrompt(messages=messages, version=f"{self.version}/{digest}")


@lru_cache(maxsize=8)
def load_prompts(variant: str = "default") -> PromptBook:
    """The packaged prompts of a variant, loaded once per process."""
    return PromptBook(variant)
