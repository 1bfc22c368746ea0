"""Outreach fixtures: a database with the demo data, a clock that can move, fake channels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from agent.config import Settings
from agent.outreach.channels.base import ChannelError, Delivery, OutboundMessage
from agent.outreach.service import OutreachService, build_outreach
from agent.portfolio import load_portfolio
from agent.storage.database import init_database, make_engine
from agent.storage.repository import Store


class MovableClock:
    """A pinned clock that tests move forward."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass
class FakeChannel:
    """Shows each key once, like a provider that de-duplicates by idempotency key."""

    name: str
    shown: list[OutboundMessage] = field(default_factory=list)
    calls: list[OutboundMessage] = field(default_factory=list)
    fail_next: int = 0
    retryable: bool = True
    crash_after_accept: bool = False

    def send(self, message: OutboundMessage) -> Delivery:
        self.calls.append(message)
        if self.fail_next:
            self.fail_next -= 1
            raise ChannelError("provider unavailable", retryable=self.retryable)
        duplicate = any(m.key == message.key for m in self.shown)
        if not duplicate:
            self.shown.append(message)
        if self.crash_after_accept:
            self.crash_after_accept = False
            raise KeyboardInterrupt("the sender died after the provider accepted")
        return Delivery(provider_id=f"{self.name}-{message.key}", duplicate=duplicate)


@dataclass
class Rig:
    service: OutreachService
    store: Store
    clock: MovableClock
    channels: dict[str, FakeChannel]

    def shown(self) -> list[OutboundMessage]:
        return [m for channel in self.channels.values() for m in channel.shown]


@contextmanager
def open_rig(settings: Settings, now: str) -> Iterator[Rig]:
    """The outreach service over the settings' database, with fake channels and a clock."""
    engine = make_engine(settings.resolved_database_url())
    store = Store(init_database(engine, load_portfolio()))
    clock = MovableClock(datetime.fromisoformat(now))
    channels = {name: FakeChannel(name) for name in ("web", "email", "whatsapp", "sms")}
    service = build_outreach(settings, store, clock=clock, channels=channels)  # type: ignore[arg-type]
    try:
        yield Rig(service, store, clock, channels)
    finally:
        engine.dispose()


@pytest.fixture
def rig(settings: Settings) -> Iterator[Rig]:
    with open_rig(settings, "2026-11-23T07:30:00+07:00") as built:
        yield built
