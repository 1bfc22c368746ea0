"""Questions about rules are answered from cited passages, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.web.app import create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def ask(client: TestClient, text: str, token: str | None = None) -> dict:
    body = {"auth_token": token} if token else {}
    sid = client.post("/api/sessions", json=body).json()["session_id"]
    answer = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert answer.status_code == 200
    return dict(answer.json())


def test_jail_question_is_answered_no_with_the_human_rights_law(client: TestClient) -> None:
    answer = ask(client, "apakah saya bisa dipenjara kalau tidak bayar kartu kredit?")
    assert "perdata" in answer["reply"] and "bukan tindak pidana" in answer["reply"]
    assert any("UU 39/1999" in c["source"] for c in answer["citations"])
    assert "Sumber:" in answer["reply"]
    assert answer["guardrail"]["drafts_blocked"] == 0


def test_collection_hours_cite_pojk_22(client: TestClient) -> None:
    answer = ask(client, "boleh nggak DC datang malam-malam?")
    assert "08.00" in answer["reply"] and "20.00" in answer["reply"]
    assert answer["citations"][0]["id"] == "pojk22-62-waktu-penagihan"


def test_expired_relaxation_is_not_presented_as_current(client: TestClient) -> None:
    token = client.app.state.service.mint_session_token("CC-1002")  # type: ignore[attr-defined]
    answer = ask(client, "relaksasi pembayaran minimum kartu kredit dari BI masih berlaku?", token)
    assert "30 Juni 2026" in answer["reply"] and "dikonfirmasi" in answer["reply"]
    assert "petugas" in answer["reply"]


def test_answers_to_bank_debtors_never_cite_p2p_rules(client: TestClient) -> None:
    token = client.app.state.service.mint_session_token("KTA-2001")  # type: ignore[attr-defined]
    answer = ask(client, "aturan AFPI soal jam penagihan pinjol gimana?", token)
    assert all(
        "AFPI" not in c["source"] and "SEOJK 19" not in c["source"] for c in answer["citations"]
    )
