"""Retention: conversations older than the retention period are purged, business records kept."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from agent.config import Settings
from agent.runtime import open_service
from tests.conftest import DEMO_NOW


async def test_purge_removes_old_conversations_and_keeps_recent(settings: Settings) -> None:
    async with open_service(settings) as service:
        old = (await service.start_session(service.mint_session_token("CC-1002")))["session_id"]
        await service.handle_message(old, "saya bayar 500rb besok")
        ids, counts = service.store.purge_before(DEMO_NOW + timedelta(days=1))
        assert ids == [old] and counts["messages"] == 1 and counts["audit_events"] == 2
        assert not service.store.session_exists(old)
        account = service.store.get_account("CC-1002")
        assert account is not None and account.promise_to_pay is not None
        fresh = (await service.start_session())["session_id"]
        assert service.store.purge_before(DEMO_NOW - timedelta(days=1)) == (
            [],
            {"sessions": 0, "messages": 0, "audit_events": 0, "verification_attempts": 0},
        )
        assert service.store.session_exists(fresh)


def test_purge_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANTUN_")}
    env.update(SANTUN_DATA_DIR=str(tmp_path), SANTUN_NOW="2026-11-23T10:00:00+07:00")
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "purge", "--days", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Purged conversations inactive since 2026-10-24: 0 sessions" in result.stdout
