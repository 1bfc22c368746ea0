"""The LLM engine's parts: prompts and variants, tool schemas, token budgets, privacy."""

from __future__ import annotations

import pytest

from agent.engines.llm.budget import count_messages, count_text, trim_history
from agent.engines.llm.engine import for_provider
from agent.engines.llm.schemas import tool_schemas
from agent.privacy import mask_for_provider
from agent.prompts import PromptBook, PromptError, load_prompts
from agent.tools import TOOLS

FACTS = {
    "today": "2026-11-23",
    "timezone": "Asia/Jakarta",
    "verified": False,
    "product": None,
    "third_party": False,
    "distress": False,
    "handoff": False,
    "session_locked": False,
    "accepted_offer_id": None,
    "flags": [],
    "payments_received": [],
    "offers": [],
}


def test_variants_render_differently_and_are_versioned() -> None:
    default, short = load_prompts("default"), load_prompts("ringkas")
    assert default.version != short.version
    rendered = default.render(FACTS)
    assert rendered.messages[0]["role"] == "system"
    assert "BELUM terverifikasi" in rendered.messages[0]["content"]
    verified = default.render({**FACTS, "verified": True, "flags": ["injection"]})
    assert "sudah terverifikasi" in verified.messages[0]["content"]
    assert "injection" in verified.messages[0]["content"]
    assert verified.version != rendered.version  # the hash covers the rendered text
    assert verified.version.split("/")[0] == rendered.version.split("/")[0] == default.version
    assert len(short.render(FACTS).messages) < len(rendered.messages)  # fewer few-shots
    paid = default.render(
        {**FACTS, "payments_received": [{"amount": 2145000, "paid_at": "2026-11-23T03:05:00"}]}
    )
    assert "Rp2.145.000 (2026-11-23)" in paid.messages[0]["content"]


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(PromptError, match=r"unknown prompt variant 'loud'.*default"):
        PromptBook("loud")


def test_tool_schemas_come_from_the_pydantic_models() -> None:
    schemas = {s["function"]["name"]: s["function"] for s in tool_schemas(TOOLS)}
    assert set(schemas) == set(TOOLS)
    assert schemas["verify_identity"]["parameters"]["properties"] == {}
    plans = schemas["list_payment_plans"]["parameters"]["properties"]
    assert {"tenor", "hardship"} <= set(plans)
    assert schemas["accept_plan"]["parameters"]["required"] == ["offer_id"]


def test_token_counts_use_the_bundled_encoding() -> None:
    assert count_text("") == 0
    assert 5 <= count_text("Total tagihan Anda saat ini Rp12.450.000.") <= 20


def test_trimming_keeps_system_prompt_and_this_turn() -> None:
    head = [{"role": "system", "content": "aturan " * 50}]
    history = [
        {"role": role, "content": f"pesan lama nomor {i} " * 20}
        for i in range(10)
        for role in ("user", "assistant")
    ]
    turn = [
        {"role": "user", "content": "berapa tagihan saya"},
        {"role": "tool", "tool_call_id": "c1", "content": '{"total_due": 12450000}'},
    ]
    budget = count_messages(head) + 800
    messages, dropped = trim_history(head, history, turn, budget)
    assert messages[0] == head[0] and messages[-2:] == turn
    assert dropped > 0 and dropped % 2 == 0
    assert messages[1] == history[dropped]  # oldest dropped first
    kept, none_dropped = trim_history(head, history, turn, 10**6)
    assert none_dropped == 0 and len(kept) == 1 + len(history) + 2
    tiny, _ = trim_history(head, history, turn, 1)
    assert tiny == [*head, *turn]  # never drops the system prompt or the turn


def test_personal_data_is_masked_before_the_provider() -> None:
    text = mask_for_provider("kartu 9054, lahir 23/11/1979, hp 0812-3456-7890, a@b.co")
    assert "9054" not in text and "1979" not in text and "7890" not in text and "a@b" not in text
    assert "Rp12.450.000" in mask_for_provider("tagihan Rp12.450.000")
    result = for_provider(
        {"holder_name": "Budi", "card_last4": "9054", "due_date": "2026-11-25", "total": 5}
    )
    assert "Budi" not in result and "9054" not in result and "2026-11-25" in result
