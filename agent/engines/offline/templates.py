"""Approved templates: loaded once from YAML, rendered with Jinja2, versioned by hash."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

from agent.formatting import hari_tanggal, rupiah, tanggal

TEMPLATES_FILE = Path(__file__).parent / "templates.yaml"
_SPACES = re.compile(r"\s+")


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


class TemplateBook:
    """The approved response templates of the offline engine."""

    def __init__(self, path: Path = TEMPLATES_FILE) -> None:
        """Load and compile every template once."""
        raw_text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(raw_text)
        self.version = f"{data['version']}+{hashlib.sha256(raw_text.encode()).hexdigest()[:12]}"
        env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        env.filters.update(
            rupiah=rupiah,
            tanggal=lambda v: tanggal(_as_date(v)),
            hari_tanggal=lambda v: hari_tanggal(_as_date(v)),
        )
        self._templates: dict[str, Template] = {
            key: env.from_string(text) for key, text in data["templates"].items()
        }
        self.purposes: dict[str, str] = dict(data.get("purposes", {}))
        self.plan_names: dict[str, str] = dict(data.get("plan_names", {}))
        self._labels: dict[str, Template] = {
            key: env.from_string(text) for key, text in data["plan_labels"].items()
        }

    def render(self, key: str, **values: Any) -> str:
        """Render one template; whitespace is folded to single spaces."""
        return _SPACES.sub(" ", self._templates[key].render(**values)).strip()

    def label(self, offer: dict[str, Any]) -> str:
        """The Indonesian name of an offered plan, e.g. ``Cicilan tetap 6 bulan``."""
        return self._labels[offer["plan"]].render(tenor=offer.get("tenor_months")).strip()

    def has(self, key: str) -> bool:
        """Tell whether a template exists."""
        return key in self._templates


@lru_cache(maxsize=1)
def default_templates() -> TemplateBook:
    """The packaged template book, loaded once per process."""
    return TemplateBook()
