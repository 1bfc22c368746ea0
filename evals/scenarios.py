"""Multi-turn scenarios as data (``evals/scenarios/*.yaml``) and the checks of each turn."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.formatting import rupiah

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DEFAULT_NOW = "2026-11-23T10:00:00+07:00"
PERSONAS = (
    "cooperative",
    "procrastinator",
    "inconsistent_payer",
    "hardship",
    "angry_abusive",
    "disputing",
    "already_paid",
    "third_party",
    "failed_verification",
    "injection",
    "regulation_question",
    "out_of_hours",
    "distress",
)
CATEGORIES = (
    "verification",
    "balance",
    "plans",
    "payment_link",
    "promise",
    "dispute",
    "complaint",
    "handoff",
    "knowledge",
    "safety",
    "privacy",
)
_RUPIAH = re.compile(r"Rp\s?\d{1,3}(?:\.\d{3})+|Rp\s?\d+")


class ScenarioError(ValueError):
    """A scenario file is malformed (the message names the file and the field)."""


class Expect(BaseModel):
    """What must hold after one turn; every key is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: list[str] | None = None
    tools_include: list[str] = Field(default_factory=list)
    tools_exclude: list[str] = Field(default_factory=list)
    no_tools: bool | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_contains_any: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    amounts: list[int] = Field(default_factory=list)
    no_amounts: bool | None = None
    citation_source_contains: str | None = None
    cited: bool | None = None
    verified: bool | None = None
    handoff: bool | None = None
    blocked_drafts: int | None = None


class Turn(BaseModel):
    """One debtor message and its expectations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: str = Field(min_length=1)
    expect: Expect = Field(default_factory=Expect)


class Scenario(BaseModel):
    """One conversation with a persona, an account and a pinned clock."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,80}$")
    title: str
    persona: Literal[PERSONAS]  # type: ignore[valid-type]
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    account: str
    auth: Literal["none", "token"] = "none"
    now: datetime = Field(default_factory=lambda: datetime.fromisoformat(DEFAULT_NOW))
    rubric: str = ""
    turns: list[Turn] = Field(min_length=1)


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario of every YAML file in the directory, ids unique.

    Raises:
        ScenarioError: a file does not parse or a scenario does not validate.
    """
    scenarios: list[Scenario] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{path.name}: invalid YAML: {exc}") from exc
        for index, raw in enumerate(data.get("scenarios", [])):
            try:
                scenarios.append(Scenario.model_validate(raw))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(map(str, first["loc"]))
                name = raw.get("id", index) if isinstance(raw, dict) else index
                raise ScenarioError(
                    f"{path.name}: scenario {name}: {where}: {first['msg']}"
                ) from exc
    seen: set[str] = set()
    for scenario in scenarios:
        if scenario.id in seen:
            raise ScenarioError(f"duplicate scenario id {scenario.id!r}")
        seen.add(scenario.id)
    return scenarios


def scenarios_hash(directory: Path = SCENARIO_DIR) -> str:
    """A short hash of the scenario files, for the report header."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def check_turn(expect: Expect, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every assertion of one turn against the HTTP-shaped answer, passed or not.

    The implicit assertion ``no_violation_sent`` always runs: the reply that was sent must
    be the draft the guardrail allowed.
    """
    reply = answer.get("reply", "")
    lowered = reply.lower()
    names = [c["name"] for c in answer.get("tool_calls", [])]
    checks: list[dict[str, Any]] = []

    def add(kind: str, expected: Any, actual: Any, passed: bool) -> None:
        checks.append({"kind": kind, "expected": expected, "actual": actual, "passed": passed})

    _tool_checks(expect, names, add)
    for text in expect.reply_contains:
        add("reply_contains", text, reply, text.lower() in lowered)
    if expect.reply_contains_any:
        hit = any(t.lower() in lowered for t in expect.reply_contains_any)
        add("reply_contains_any", expect.reply_contains_any, reply, hit)
    for text in expect.reply_not_contains:
        add("reply_not_contains", text, reply, text.lower() not in lowered)
    for amount in expect.amounts:
        add("amounts", rupiah(amount), reply, rupiah(amount) in reply)
    if expect.no_amounts is not None:
        found = _RUPIAH.findall(reply)
        add("no_amounts", expect.no_amounts, found, (not found) == expect.no_amounts)
    sources = [c.get("source", "") for c in answer.get("citations", [])]
    if expect.citation_source_contains is not None:
        needle = expect.citation_source_contains.lower()
        hit = any(needle in s.lower() for s in sources)
        add("citation_source_contains", expect.citation_source_contains, sources, hit)
    if expect.cited is not None:
        add("cited", expect.cited, sources, bool(sources) == expect.cited)
    if expect.verified is not None:
        add(
            "verified",
            expect.verified,
            answer.get("verified"),
            answer.get("verified") is expect.verified,
        )
    if expect.handoff is not None:
        add(
            "handoff",
            expect.handoff,
            answer.get("handoff"),
            answer.get("handoff") is expect.handoff,
        )
    blocked = answer.get("guardrail", {}).get("drafts_blocked", 0)
    if expect.blocked_drafts is not None:
        add("blocked_drafts", expect.blocked_drafts, blocked, blocked == expect.blocked_drafts)
    return checks


def _tool_checks(expect: Expect, names: list[str], add: Any) -> None:
    """The assertions about which tools ran."""
    if expect.tools is not None:
        add("tools", expect.tools, names, names == expect.tools)
    for name in expect.tools_include:
        add("tools_include", name, names, name in names)
    for name in expect.tools_exclude:
        add("tools_exclude", name, names, name not in names)
    if expect.no_tools is not None:
        add("no_tools", expect.no_tools, names, (not names) == expect.no_tools)
