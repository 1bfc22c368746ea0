"""Persistence on both databases: a conversation survives a restart and a ``kill -9``."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from agent.config import Settings
from agent.portfolio import load_portfolio
from agent.runtime import open_service
from agent.storage import init_database, make_engine
from agent.storage.models import AuditEventRow, MessageRow
from tests.agent.test_cli import env_for, free_port, post

ADMIN_URL = os.environ.get("SANTUN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: no server here
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    problem = _postgres_available()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {ADMIN_URL} is required in CI: {problem}")
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {problem}")
    import psycopg

    name = f"santun_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_database"))


async def test_conversation_survives_restart(settings: Settings, database_url: str | None) -> None:
    configured = settings.model_copy(update={"database_url": database_url})
    async with open_service(configured) as service:
        sid = (await service.start_session())["session_id"]
        await service.handle_message(sid, "4 digit terakhir 9054, lahir 23 November 1979")
        first = await service.handle_message(sid, "berapa tagihan saya?")
    assert "Rp12.450.000" in first["reply"]
    async with open_service(configured) as service:
        again = await service.handle_message(sid, "bisa dicicil 6 bulan?")
        assert again["verified"] and "Rp2.145.000" in again["reply"]
        turns = [e for e in service.store.audit_events(sid) if e["kind"] == "turn"]
    assert [t["turn"] for t in turns] == [1, 2, 3]


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _counts(url: str, session_id: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        factory = init_database(engine, load_portfolio())
        with factory() as db:
            messages = db.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(MessageRow.session_id == session_id)
            )
            turns = db.scalar(
                select(func.count())
                .select_from(AuditEventRow)
                .where(AuditEventRow.session_id == session_id, AuditEventRow.kind == "turn")
            )
        return int(messages or 0), int(turns or 0)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_kill_9_mid_conversation_loses_nothing(tmp_path: Path, database_url: str | None) -> None:
    env = env_for(tmp_path)
    if database_url:
        env["SANTUN_DATABASE_URL"] = database_url
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["SANTUN_PUBLIC_URL"] = base
    server = _start(env, port)
    try:
        _wait_ready(base, server)
        sid = post(f"{base}/api/sessions", {})["session_id"]

        def say(text: str, message_id: str) -> dict[str, Any]:
            body = {"text": text, "client_message_id": message_id}
            return post(f"{base}/api/sessions/{sid}/messages", body)

        assert say("4 digit terakhir 9054, lahir 23 November 1979", "m1")["verified"]
        balance = say("berapa tagihan saya?", "m2")
        assert "Rp12.450.000" in balance["reply"]
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=20)
    server = _start(env, port)
    try:
        _wait_ready(base, server)
        assert say("berapa tagihan saya?", "m2") == balance  # answered before the kill: kept
        plans = say("bisa dicicil 6 bulan?", "m3")
        assert plans["verified"] and "Rp2.145.000" in plans["reply"]
    finally:
        server.terminate()
        server.wait(timeout=20)
    url = database_url or f"sqlite:///{tmp_path / 'data' / 'santun.db'}"
    messages, turns = _counts(url, sid)
    assert turns == 3 and messages >= 3
