"""Outreach strategy per segment and risk band, read from data (strategy.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_STRATEGY_PATH = Path(__file__).parent.parent / "data" / "outreach" / "strategy.yaml"

Segment = Literal[
    "on_time", "procrastinator", "inconsistent_payer", "hardship", "disputing", "not_reachable"
]
SEGMENTS: tuple[Segment, ...] = (
    "on_time",
    "procrastinator",
    "inconsistent_payer",
    "hardship",
    "disputing",
    "not_reachable",
)
ChannelChoice = Literal["preferred", "web", "email", "whatsapp", "sms"]
Hour = Annotated[int, Field(ge=0, le=23)]
Days = Annotated[int, Field(ge=1, le=60)]


class StrategyError(ValueError):
    """The strategy file is missing, malformed or incomplete."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RiskBand(_Model):
    """A named range of default probability: scores below ``below`` (and above the last)."""

    id: str
    below: Annotated[float, Field(gt=0, le=1.01)]


class Reminders(_Model):
    """When reminders go out, relative to the due date and to a promised date."""

    before_due_days: list[Days]
    on_due: bool
    after_due_days: list[Days]
    overdue_every_days: Annotated[int, Field(ge=0, le=60)]
    promise: bool


class Strategy(_Model):
    """How one segment (in some risk bands) is reminded."""

    segment: Segment
    risk_bands: list[str]
    tone: str
    channels: Annotated[list[ChannelChoice], Field(min_length=1)]
    send_hour: Hour
    lead_plans: list[str]
    reminders: Reminders
    offer_human: Literal["never", "always", "after_unanswered"]
    unanswered_limit: Annotated[int, Field(ge=1)] = 3
    max_per_week: Annotated[int, Field(ge=1, le=14)]


class SendTime(_Model):
    """How the send hour is learned from the debtor's past replies."""

    learn_from_replies: Annotated[int, Field(ge=1)]
    reply_hours_window: Annotated[int, Field(ge=0, le=3)]


class StrategyBook(_Model):
    """The whole strategy file."""

    version: str
    risk_bands: Annotated[list[RiskBand], Field(min_length=1)]
    send_time: SendTime
    strategies: list[Strategy]

    @model_validator(mode="after")
    def _check(self) -> Self:
        bands = [band.id for band in self.risk_bands]
        if [b.below for b in self.risk_bands] != sorted(b.below for b in self.risk_bands):
            raise ValueError("risk_bands must be in increasing order of 'below'")
        for index, strategy in enumerate(self.strategies):
            unknown = set(strategy.risk_bands) - set(bands)
            if unknown:
                raise ValueError(f"strategies[{index}]: unknown risk band(s) {sorted(unknown)}")
        for segment in SEGMENTS:
            for band in bands:
                if not any(s.segment == segment and band in s.risk_bands for s in self.strategies):
                    raise ValueError(f"no strategy for segment {segment!r} in risk band {band!r}")
        return self

    def band(self, probability: float) -> str:
        """The risk band a calibrated probability falls in."""
        for band in self.risk_bands:
            if probability < band.below:
                return band.id
        return self.risk_bands[-1].id

    def strategy(self, segment: Segment, band: str) -> Strategy:
        """The first strategy for a segment and risk band (the file covers every pair)."""
        for strategy in self.strategies:
            if strategy.segment == segment and band in strategy.risk_bands:
                return strategy
        raise KeyError(f"no strategy for {segment}/{band}")


def load_strategy(path: Path | None = None) -> StrategyBook:
    """Read and validate the strategy file.

    Raises:
        StrategyError: the file is missing, is not YAML, or does not validate.
    """
    path = path or DEFAULT_STRATEGY_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return StrategyBook.model_validate(data)
    except OSError as exc:
        raise StrategyError(f"cannot read strategy file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise StrategyError(f"{path} is not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise StrategyError(f"{path}: {problems}") from exc
