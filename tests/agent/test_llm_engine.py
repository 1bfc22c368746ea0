"""The LLM engine over real HTTP: the openai SDK talks to a scripted server on loopback."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.web.app import create_app
from evals.scripted_llm import ScriptedLLM, serve_scripted

BLOCKED = "Kalau tidak bayar hari ini, Anda kami laporkan ke polisi."
POLITE = "Mohon maaf, Bapak/Ibu. Kami siap membantu mencari cara pembayaran yang sesuai."


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ScriptedLLM, str]]:
    llm = ScriptedLLM()
    with serve_scripted(llm) as url:
        yield llm, url


@pytest.fixture
def llm(server: tuple[ScriptedLLM, str]) -> ScriptedLLM:
    scripted = server[0]
    scripted.script([])
    scripted.requests.clear()
    return scripted


def llm_settings(settings: Settings, url: str, **extra: Any) -> Settings:
    values = {"engine": "llm", "llm_base_url": url, "llm_model": "scripted", **extra}
    return settings.model_copy(update=values)


@pytest.fixture
def client(settings: Settings, server: tuple[ScriptedLLM, str]) -> Iterator[TestClient]:
    with TestClient(create_app(llm_settings(settings, server[1], llm_timeout=5.0))) as test:
        yield test


def new_session(client: TestClient) -> str:
    return str(client.post("/api/sessions", json={}).json()["session_id"])


def say(client: TestClient, sid: str, text: str) -> dict[str, Any]:
    response = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert response.status_code == 200, response.text
    return dict(response.json())


def turns(client: TestClient, sid: str) -> list[dict[str, Any]]:
    events = client.app.state.service.store.audit_events(sid)  # type: ignore[attr-defined]
    return [e for e in events if e["kind"] == "turn"]


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def verified_session(client: TestClient, llm: ScriptedLLM) -> str:
    sid = new_session(client)
    llm.push(tool("verify_identity"), {"content": "Terima kasih, identitas Anda terverifikasi."})
    assert say(client, sid, "4 digit terakhir 9054, lahir 23 November 1979")["verified"]
    return sid


def test_skeleton_flow_with_the_llm_engine(client: TestClient, llm: ScriptedLLM) -> None:
    sid = new_session(client)
    llm.push({"content": "Baik. Mohon kirim empat digit terakhir kartu dan tanggal lahir Anda."})
    first = say(client, sid, "saya mau cek tagihan")
    assert not first["verified"] and not re.search(r"Rp\s?\d", first["reply"])
    llm.push(tool("verify_identity"), {"content": "Terima kasih, identitas Anda terverifikasi."})
    verify = say(client, sid, "4 digit terakhir 9054, lahir 23 November 1979")
    assert verify["verified"] and verify["tool_calls"][0]["name"] == "verify_identity"
    llm.push(tool("get_balance"), {"content": "Total tagihan Anda saat ini Rp12.450.000."})
    balance = say(client, sid, "berapa tagihan saya?")
    assert "Rp12.450.000" in balance["reply"]
    llm.push(
        tool("list_payment_plans", tenor=6),
        {"content": "Untuk cicilan 6 bulan, angsurannya Rp2.145.000 per bulan."},
    )
    plans = say(client, sid, "bisa dicicil 6 bulan?")
    assert "Rp2.145.000" in plans["reply"] and plans["guardrail"]["drafts_blocked"] == 0
    offers = plans["tool_calls"][0]["result"]["offers"]
    six = next(o["offer_id"] for o in offers if o.get("tenor_months") == 6)
    llm.push(tool("accept_plan", offer_id=six), {"content": "Baik, cicilan 6 bulan kami catat."})
    assert say(client, sid, "oke saya ambil yang 6 bulan")["tool_calls"][0]["result"]["ok"]
    llm.push(
        tool("create_payment_link", offer_id=six),
        {"content": "Tautan pembayaran sudah kami buat; silakan buka tautan di bawah ini."},
    )
    link = say(client, sid, "kirim link pembayarannya")
    url = link["tool_calls"][0]["result"]["url"]
    page = client.get(url.replace("http://testserver", ""))
    assert page.status_code == 200 and "Rp2.145.000" in page.text
    sent = json.dumps(llm.requests)
    assert "9054" not in sent and "1979" not in sent  # verification data never left the box
    assert "Budi" not in sent and "holder_name" not in sent  # nor the debtor's name
    assert llm.requests[0]["tools"] and llm.requests[0]["messages"][0]["role"] == "system"
    audit = turns(client, sid)
    assert all(t["engine"] == "llm" for t in audit)
    assert audit[-1]["prompt_version"].startswith("default+")
    assert audit[-1]["llm_usage"]["calls"] == 2 and audit[-1]["llm_usage"]["total_tokens"] > 0


def test_several_tool_calls_in_one_step(client: TestClient, llm: ScriptedLLM) -> None:
    sid = verified_session(client, llm)
    llm.push(
        {
            "tool_calls": [
                {"name": "get_balance", "arguments": {}},
                {"name": "search_knowledge", "arguments": {"query": "denda keterlambatan"}},
            ]
        },
        {"content": "Total tagihan Anda Rp12.450.000."},
    )
    answer = say(client, sid, "tagihan saya berapa dan dendanya gimana")
    assert [c["name"] for c in answer["tool_calls"]] == ["get_balance", "search_knowledge"]
    tool_messages = [m for m in llm.requests[-1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 2


def test_tools_refuse_unknown_names_bad_arguments_and_unverified_use(
    client: TestClient, llm: ScriptedLLM
) -> None:
    sid = new_session(client)
    llm.push(
        {
            "tool_calls": [
                {"name": "delete_account", "arguments": {}},
                {"name": "get_balance", "arguments": {}},
                {"name": "record_promise_to_pay", "arguments": {"amount": "banyak"}},
            ]
        },
        {"content": "Mohon verifikasi identitas Anda terlebih dahulu."},
    )
    answer = say(client, sid, "tagihan saya berapa")
    results = [c["result"] for c in answer["tool_calls"]]
    assert [r["error"] for r in results] == ["unknown_tool", "not_verified", "invalid_arguments"]
    assert not re.search(r"Rp\s?\d", answer["reply"])
    fed_back = [m["content"] for m in llm.requests[-1]["messages"] if m["role"] == "tool"]
    assert "unknown_tool" in fed_back[0] and "not_verified" in fed_back[1]


def test_blocked_draft_is_regenerated_and_audited(client: TestClient, llm: ScriptedLLM) -> None:
    sid = new_session(client)
    llm.push({"content": BLOCKED}, {"content": POLITE})
    answer = say(client, sid, "saya belum bisa bayar hari ini")
    assert answer["reply"] == POLITE
    assert answer["guardrail"]["drafts_blocked"] == 1
    audit = turns(client, sid)[0]
    assert [d["allowed"] for d in audit["drafts"]] == [False, True]
    assert audit["drafts"][0]["text"] == BLOCKED
    rules = {v["rule"] for v in audit["drafts"][0]["violations"]}
    assert rules & {"G02", "G03"}
    feedback = llm.requests[-1]["messages"][-1]["content"]
    assert "diblokir" in feedback and any(rule in feedback for rule in rules)


def test_a_model_that_keeps_threatening_gets_the_approved_template(
    client: TestClient, llm: ScriptedLLM
) -> None:
    sid = new_session(client)
    llm.push({"content": BLOCKED}, {"content": BLOCKED}, {"content": BLOCKED})
    answer = say(client, sid, "saya belum bisa bayar hari ini")
    assert "polisi" not in answer["reply"] and answer["guardrail"]["drafts_blocked"] == 3
    assert turns(client, sid)[0]["drafts"][-1]["source"] == "template:fallback"


def test_a_model_that_never_answers_is_replaced_within_the_budget(
    settings: Settings, server: tuple[ScriptedLLM, str], llm: ScriptedLLM
) -> None:
    llm.script([{"fault": "hang"}], cycle=True)
    app = create_app(llm_settings(settings, server[1], llm_timeout=1.0, llm_call_timeout=0.6))
    with TestClient(app) as client:
        sid = new_session(client)
        started = time.monotonic()
        answer = say(client, sid, "halo, saya mau tanya tagihan")
        elapsed = time.monotonic() - started
        audit = turns(client, sid)[0]
    assert elapsed < 2.5
    assert answer["reply"] and answer["guardrail"]["drafts_blocked"] == 0
    assert audit["engine"] == "offline"
    assert audit["llm_events"][-1]["event"] == "fallback"


FAULTS = [
    ("status_429", {"fault": "status", "status": 429, "retry_after": 0.05}),
    ("status_500", {"fault": "status", "status": 500}),
    ("status_503", {"fault": "status", "status": 503}),
    ("malformed_tool_call", {"fault": "malformed_tool_json"}),
    ("empty", {"fault": "empty"}),
    ("refusal", {"fault": "refusal"}),
    ("connection", {"fault": "disconnect"}),
    ("timeout", {"fault": "hang"}),
]


@pytest.mark.parametrize(("reason", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_one_fault_is_retried(
    settings: Settings,
    server: tuple[ScriptedLLM, str],
    llm: ScriptedLLM,
    reason: str,
    fault: dict[str, Any],
) -> None:
    llm.script([fault, {"content": POLITE}])
    app = create_app(llm_settings(settings, server[1], llm_call_timeout=0.5))
    with TestClient(app) as client:
        sid = new_session(client)
        answer = say(client, sid, "halo")
        audit = turns(client, sid)[0]
    assert answer["reply"] == POLITE
    assert audit["engine"] == "llm"
    assert [e["reason"] for e in audit["llm_events"] if e["event"] == "retry"] == [reason]


@pytest.mark.parametrize(("reason", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_persistent_fault_falls_back_to_the_offline_engine(
    settings: Settings,
    server: tuple[ScriptedLLM, str],
    llm: ScriptedLLM,
    reason: str,
    fault: dict[str, Any],
) -> None:
    llm.script([fault], cycle=True)
    app = create_app(llm_settings(settings, server[1], llm_call_timeout=0.3, llm_max_retries=1))
    with TestClient(app) as client:
        sid = new_session(client)
        answer = say(client, sid, "4 digit terakhir 9054, lahir 23 November 1979")
        again = say(client, sid, "berapa tagihan saya?")
        audit = turns(client, sid)
    assert answer["verified"] and "Rp12.450.000" in again["reply"]  # the offline engine answered
    assert [t["engine"] for t in audit] == ["offline", "offline"]
    fallback = audit[0]["llm_events"][-1]
    assert fallback == {**fallback, "event": "fallback", "reason": reason, "engine": "offline"}
    assert len(audit) == 2 and all(t["reply"] for t in audit)  # nothing lost


def test_connection_refused_falls_back(settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with TestClient(create_app(llm_settings(settings, url, llm_max_retries=1))) as client:
        sid = new_session(client)
        answer = say(client, sid, "halo")
        audit = turns(client, sid)[0]
    assert answer["reply"] and audit["engine"] == "offline"
    assert audit["llm_events"][-1]["reason"] == "connection"


def test_distress_is_handed_over_before_the_model_speaks(
    client: TestClient, llm: ScriptedLLM
) -> None:
    sid = new_session(client)
    llm.push({"content": "Kami turut prihatin. Petugas kami akan segera menghubungi Anda."})
    answer = say(client, sid, "saya udah gak kuat lagi, rasanya pengen mati aja")
    assert answer["handoff"] and answer["tool_calls"][0]["name"] == "request_handoff"


def stream(client: TestClient, sid: str, text: str) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    name = ""
    with client.stream(
        "POST", f"/api/sessions/{sid}/messages/stream", json={"text": text}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((name, json.loads(line.split(":", 1)[1])))
    return events


def test_streamed_reply_is_released_sentence_by_sentence(
    client: TestClient, llm: ScriptedLLM
) -> None:
    sid = new_session(client)
    text = "Tidak, Bapak/Ibu. Utang adalah perkara perdata. Anda tidak akan dipenjara karena utang."
    llm.push({"content": text})
    events = stream(client, sid, "kalo gak bayar bisa dipenjara?")
    sentences = [data["text"] for name, data in events if name == "sentence"]
    assert sentences == [
        "Tidak, Bapak/Ibu.",
        "Utang adalah perkara perdata.",
        "Anda tidak akan dipenjara karena utang.",
    ]
    assert events[-1][0] == "final" and events[-1][1]["reply"] == text
    assert llm.requests[-1]["stream"] is True


def test_a_blocked_sentence_is_never_streamed(client: TestClient, llm: ScriptedLLM) -> None:
    sid = new_session(client)
    llm.push({"content": f"Baik, Bapak/Ibu. {BLOCKED} Terima kasih."}, {"content": POLITE})
    events = stream(client, sid, "saya belum bisa bayar hari ini")
    shown = " ".join(data["text"] for name, data in events if name == "sentence")
    assert "polisi" not in shown and "Terima kasih." not in shown
    final = events[-1][1]
    assert final["reply"] == POLITE and final["guardrail"]["drafts_blocked"] == 1


def test_offline_engine_streams_the_approved_reply(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        sid = new_session(client)
        events = stream(client, sid, "kalau nggak bayar bisa dipenjara nggak?")
    sentences = [data["text"] for name, data in events if name == "sentence"]
    final = events[-1][1]
    assert len(sentences) >= 2 and " ".join(sentences) == final["reply"]
    assert final["citations"]
