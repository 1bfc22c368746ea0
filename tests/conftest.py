"""Shared fixtures: a pinned clock, a fresh data dir per test, and no network."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.service import ChatService

DEMO_NOW = datetime.fromisoformat("2026-11-23T10:00:00+07:00")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise RuntimeError(f"tests must not reach the network (tried {host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection to a non-loopback address fails the test."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One vector index for the whole test session (ingest is idempotent)."""
    return tmp_path_factory.mktemp("index")


@pytest.fixture
def settings(tmp_path: Path, index_dir: Path) -> Settings:
    """Settings with a private data dir, a pinned clock and a fixed secret."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        engine="offline",
        data_dir=tmp_path / "data",
        now=DEMO_NOW,
        secret_key="test-secret-key",  # type: ignore[arg-type]
        public_url="http://testserver",
        index_dir=index_dir,
    )


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[ChatService]:
    """A real service over a fresh SQLite database with the demo portfolio."""
    from agent.runtime import open_service

    async with open_service(settings) as svc:
        yield svc
