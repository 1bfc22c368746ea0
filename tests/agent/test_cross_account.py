"""Cross-account attempts: a debtor (or a model) cannot touch another account's records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.web.app import create_app
from evals.scripted_llm import ScriptedLLM, serve_scripted


@pytest.fixture
def scripted(settings: Settings) -> Iterator[tuple[ScriptedLLM, TestClient]]:
    llm = ScriptedLLM()
    with serve_scripted(llm) as url:
        configured = settings.model_copy(
            update={"engine": "llm", "llm_base_url": url, "llm_model": "scripted"}
        )
        with TestClient(create_app(configured)) as client:
            yield llm, client


def session_for(client: TestClient, account_id: str) -> str:
    service = client.app.state.service  # type: ignore[attr-defined]
    token = service.mint_session_token(account_id)
    return str(client.post("/api/sessions", json={"auth_token": token}).json()["session_id"])


def say(client: TestClient, sid: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def test_another_accounts_offer_cannot_be_accepted_or_paid(
    scripted: tuple[ScriptedLLM, TestClient],
) -> None:
    llm, client = scripted
    victim = session_for(client, "CC-1004")
    llm.push(tool("list_payment_plans"), {"content": "Berikut pilihan pembayaran Anda."})
    offers = say(client, victim, "ada pilihan cicilan?")["tool_calls"][0]["result"]["offers"]
    foreign = offers[0]["offer_id"]

    attacker = session_for(client, "CC-1003")
    llm.push(
        {
            "tool_calls": [
                {"name": "accept_plan", "arguments": {"offer_id": foreign}},
                {"name": "create_payment_link", "arguments": {"offer_id": foreign}},
            ]
        },
        {"content": "Mohon maaf, pilihan tersebut tidak tersedia untuk rekening Anda."},
    )
    answer = say(client, attacker, f"saya ambil penawaran {foreign}")
    errors = [c["result"].get("error") for c in answer["tool_calls"]]
    assert errors == ["unknown_offer", "unknown_offer"]
    llm.push(tool("accept_plan", offer_id=foreign), {"content": "Baik, sudah kami catat."})
    own = say(client, victim, "saya ambil yang pertama")
    assert own["tool_calls"][0]["result"]["ok"]  # untouched: still open for its owner


def test_unverified_model_cannot_read_any_account(
    scripted: tuple[ScriptedLLM, TestClient],
) -> None:
    llm, client = scripted
    sid = str(client.post("/api/sessions", json={}).json()["session_id"])
    llm.push(
        {
            "tool_calls": [
                {"name": "get_balance", "arguments": {}},
                {"name": "list_payment_plans", "arguments": {}},
                {"name": "create_payment_link", "arguments": {"amount": 1000}},
            ]
        },
        {"content": "Mohon verifikasi identitas Anda terlebih dahulu."},
    )
    answer = say(client, sid, "tagihan saya berapa")
    assert {c["result"]["error"] for c in answer["tool_calls"]} == {"not_verified"}
    assert not answer["verified"]


def test_html_in_a_message_is_treated_as_text(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        sid = str(client.post("/api/sessions", json={}).json()["session_id"])
        answer = say(client, sid, "<script>alert('x')</script><img src=x onerror=alert(1)>")
        assert "<script" not in answer["reply"] and "<img" not in answer["reply"]
        events = client.app.state.service.store.audit_events(sid)  # type: ignore[attr-defined]
        turn = [e for e in events if e["kind"] == "turn"][0]
        assert turn["input"].startswith("<script>")  # recorded as written, never executed
