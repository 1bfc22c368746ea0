"""Whole conversations through the real graph, tools, guardrail and checkpointer."""

from __future__ import annotations

import re
from typing import Any

from agent import tokens
from agent.service import ChatService
from agent.tools.payments import PAYMENT_TOKEN_KIND

FIGURE = re.compile(r"Rp\s?\d")


async def talk(service: ChatService, session_id: str, text: str) -> dict[str, Any]:
    return await service.handle_message(session_id, text)


def tools_of(answer: dict[str, Any]) -> list[str]:
    return [c["name"] for c in answer["tool_calls"]]


async def test_done_when_flow(service: ChatService) -> None:
    session = await service.start_session()
    sid = session["session_id"]
    asked = await talk(service, sid, "saya mau cek tagihan")
    assert not asked["verified"] and "4 digit terakhir" in asked["reply"]
    assert not FIGURE.search(asked["reply"]) and tools_of(asked) == []
    verified = await talk(service, sid, "4 digit terakhir 9054, lahir 23 November 1979")
    assert verified["verified"] and tools_of(verified)[0] == "verify_identity"
    balance = await talk(service, sid, "berapa tagihan saya?")
    assert "Rp12.450.000" in balance["reply"] and tools_of(balance) == ["get_balance"]
    plans = await talk(service, sid, "bisa dicicil 6 bulan?")
    assert "6 bulan" in plans["reply"] and "Rp2.145.000 per bulan" in plans["reply"]
    assert tools_of(plans) == ["list_payment_plans"]
    chosen = await talk(service, sid, "oke saya ambil yang 6 bulan")
    assert tools_of(chosen) == ["accept_plan"]
    assert chosen["tool_calls"][0]["result"]["offer"]["installment"] == 2_145_000
    link = await talk(service, sid, "kirim link pembayarannya")
    result = link["tool_calls"][0]["result"]
    assert tools_of(link) == ["create_payment_link"] and result["amount"] == 2_145_000
    assert result["url"] in link["reply"] and "Rp2.145.000" in link["reply"]
    claims = service.verify_token(PAYMENT_TOKEN_KIND, result["url"].rsplit("/", 1)[1])
    assert claims["acc"] == "CC-1003" and claims["amt"] == 2_145_000


async def test_nothing_is_disclosed_before_verification(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    for text in (
        "berapa tagihan saya",
        "bisa dicicil?",
        "kirim link bayar",
        "jatuh tempo kapan",
        "saya bayar 500rb besok",
        "9054",
        "saya mau lunasin, diskon berapa",
    ):
        answer = await talk(service, sid, text)
        assert not FIGURE.search(answer["reply"]), (text, answer["reply"])
        assert not answer["verified"]
        assert all(
            c["name"] in ("verify_identity", "search_knowledge") for c in answer["tool_calls"]
        )


async def test_verification_in_two_messages_then_pending_question(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    await talk(service, sid, "minimal bayar berapa ya")
    first = await talk(service, sid, "kartu saya ujungnya 9054")
    assert "tanggal lahir" in first["reply"] and not first["verified"]
    second = await talk(service, sid, "lahir 23-11-1979")
    assert second["verified"] and "Rp1.245.000" in second["reply"]
    assert "bayar minimum tidak lagi tersedia" in second["reply"]


async def test_three_failures_lock_and_offer_a_human(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    for attempt in range(3):
        answer = await talk(service, sid, f"9054 lahir {attempt + 1} Januari 1980")
        assert not answer["verified"]
    assert "petugas" in answer["reply"]
    blocked = await talk(service, sid, "9054 lahir 23 November 1979")
    assert not blocked["verified"] and tools_of(blocked) == []
    human = await talk(service, sid, "hubungkan ke petugas")
    assert human["handoff"] and tools_of(human) == ["request_handoff"]


async def test_signed_token_session_and_third_party(service: ChatService) -> None:
    token = service.mint_session_token("KTA-2001")
    session = await service.start_session(token)
    assert "Rina Kurniasih" in session["reply"]
    answer = await talk(service, session["session_id"], "tagihan saya berapa?")
    assert answer["verified"] and "Rp3.824.000" in answer["reply"]
    spouse = await talk(service, session["session_id"], "saya suaminya, mau tanya utangnya")
    assert not spouse["verified"] and "pemilik rekening" in spouse["reply"]
    after = await talk(service, session["session_id"], "berapa tagihannya?")
    assert not FIGURE.search(after["reply"])


async def test_invalid_token_is_refused(service: ChatService) -> None:
    forged = tokens.sign(b"other-key", "session", {"acc": "CC-1003"}, service.clock.now())
    try:
        await service.start_session(forged)
    except tokens.TokenError:
        return
    raise AssertionError("a forged token opened a verified session")


async def test_promise_recorded_in_same_turn_and_confirmed(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("CC-1002")))["session_id"]
    answer = await talk(service, sid, "saya bayar 1,5 juta tgl 25")
    assert tools_of(answer) == ["record_promise_to_pay"]
    assert "Rp1.500.000" in answer["reply"] and "25 November 2026" in answer["reply"]


async def test_promise_missing_amount_is_asked_then_recorded(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("CC-1002")))["session_id"]
    first = await talk(service, sid, "saya janji bayar jumat ini")
    assert tools_of(first) == [] and "nominal" in first["reply"]
    second = await talk(service, sid, "500rb")
    assert tools_of(second) == ["record_promise_to_pay"]
    assert "Rp500.000" in second["reply"] and "27 November 2026" in second["reply"]


async def test_dispute_account_gets_existing_reference(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("CC-1008")))["session_id"]
    answer = await talk(service, sid, "ada transaksi yang bukan saya di tagihan")
    assert "SGH-20260925-003" in answer["reply"] and "tidak perlu diajukan ulang" in answer["reply"]
    balance = await talk(service, sid, "total tagihan saya berapa")
    assert "Rp6.526.000" in balance["reply"]


async def test_complaint_gets_reference_and_due_date(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    answer = await talk(service, sid, "saya mau komplain, DC-nya kasar banget")
    assert re.search(r"ADU-20261123-\d{3}", answer["reply"])
    assert "Senin, 7 Desember 2026" in answer["reply"]


async def test_distress_hands_over_with_empathy(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("CC-1005")))["session_id"]
    answer = await talk(service, sid, "saya udah ga kuat, pengen mati aja")
    assert answer["handoff"] and "119" in answer["reply"]
    assert not FIGURE.search(answer["reply"])


async def test_bot_question_and_abuse_stay_polite(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    bot = await talk(service, sid, "kamu bot ya?")
    assert "asisten virtual" in bot["reply"] and "petugas" in bot["reply"]
    abuse = await talk(service, sid, "bank anjing penipu")
    assert abuse["guardrail"]["drafts_blocked"] == 0 and "petugas" in abuse["reply"]


async def test_bad_messages_get_polite_replies(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    assert "kosong" in (await talk(service, sid, "   "))["reply"]
    assert "terlalu panjang" in (await talk(service, sid, "a" * 4001))["reply"]
    assert (
        "tidak dapat saya baca"
        in (await talk(service, sid, "\x00\x01\ufffd\ufffd\x02#$%^"))["reply"]
    )


async def test_repeated_client_message_id_is_answered_once(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("CC-1002")))["session_id"]
    first = await service.handle_message(sid, "saya bayar 500rb besok", "m-1")
    again = await service.handle_message(sid, "saya bayar 500rb besok", "m-1")
    assert first == again
    events = [e for e in service.store.audit_events(sid) if e["kind"] == "turn"]
    assert len(events) == 1


async def test_audit_trail_masks_personal_data(service: ChatService) -> None:
    sid = (await service.start_session())["session_id"]
    await talk(service, sid, "4 digit terakhir 9054, lahir 23 November 1979")
    (event,) = [e for e in service.store.audit_events(sid) if e["kind"] == "turn"]
    flat = str(event)
    assert "1979" not in flat and "23 November" not in flat
    assert event["engine"] == "offline" and event["prompt_version"] and event["latency_ms"] > 0
    assert event["tool_calls"][0]["args"]["birth_date"] == "[disamarkan]"


async def test_link_without_plan_names_the_amount_due(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("CC-1003")))["session_id"]
    answer = await talk(service, sid, "minta link pembayaran")
    assert answer["tool_calls"][0]["result"]["amount"] == 12_450_000
    assert "sebesar Rp12.450.000" in answer["reply"]


async def test_unavailable_plan_is_said_plainly(service: ChatService) -> None:
    sid = (await service.start_session(service.mint_session_token("KTA-2001")))["session_id"]
    answer = await talk(service, sid, "bisa diskon pelunasan?")
    assert "pelunasan dengan diskon belum tersedia" in answer["reply"]
    assert "Rp1.269.000" in answer["reply"]
