"""A blocked draft never reaches the debtor; the audit trail records every verdict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.clock import Clock
from agent.config import Settings
from agent.engines.base import Draft, TextSink
from agent.engines.offline.engine import OfflineEngine
from agent.state import AgentState
from agent.web.app import create_app

THREAT = "Kalau tidak bayar hari ini, Anda akan dipenjara."


class ThreateningEngine(OfflineEngine):
    """Drafts a threat first, as a misbehaving model might; regenerates honestly."""

    def __init__(self, clock: Clock, bad_drafts: int) -> None:
        super().__init__(clock)
        self.bad_drafts = bad_drafts

    async def draft(self, state: AgentState, on_text: TextSink | None = None) -> Draft:
        blocked = sum(1 for d in state.get("drafts", []) if not d["allowed"])
        if blocked < self.bad_drafts:
            return Draft(text=THREAT, source="test:threat")
        return await super().draft({**state, "feedback": []})  # type: ignore[typeddict-item]


def client_with(settings: Settings, bad_drafts: int) -> TestClient:
    return TestClient(create_app(settings, lambda clock: ThreateningEngine(clock, bad_drafts)))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with client_with(settings, 1) as test_client:
        yield test_client


def say(client: TestClient, text: str) -> tuple[str, dict[str, Any]]:
    sid = client.post("/api/sessions", json={}).json()["session_id"]
    answer = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert answer.status_code == 200
    return sid, answer.json()


def test_blocked_draft_is_regenerated_and_audited(client: TestClient) -> None:
    sid, answer = say(client, "halo")
    assert "penjara" not in answer["reply"] and "Santun" in answer["reply"]
    assert answer["guardrail"]["drafts_blocked"] == 1
    assert answer["guardrail"]["violations"][0]["rule"] == "G02"
    events = client.app.state.service.store.audit_events(sid)  # type: ignore[attr-defined]
    turn = [e for e in events if e["kind"] == "turn"][0]
    assert [d["allowed"] for d in turn["drafts"]] == [False, True]
    assert turn["drafts"][0]["violations"][0]["rule"] == "G02"
    assert turn["reply"] == answer["reply"]


def test_repeated_blocks_fall_back_to_the_safe_reply(settings: Settings) -> None:
    with client_with(settings, 10) as client:
        _, answer = say(client, "halo")
    assert "penjara" not in answer["reply"] and "petugas" in answer["reply"]
    assert answer["guardrail"]["drafts_blocked"] == 3
