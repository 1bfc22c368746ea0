"""The scripted OpenAI-compatible server, as the real ``openai`` SDK sees it over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from evals.scripted_llm import REFUSAL_TEXT, ScriptedLLM, Step, serve_scripted

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Berapa tagihan saya?"}]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ScriptedLLM, str]]:
    """One server for the module; each test gets it with an empty script."""
    shared = ScriptedLLM()
    with serve_scripted(shared) as base_url:
        yield shared, base_url


@pytest.fixture
def llm(served: tuple[ScriptedLLM, str]) -> ScriptedLLM:
    shared, _ = served
    shared.script([])
    shared.requests.clear()
    return shared


@pytest.fixture
def url(served: tuple[ScriptedLLM, str], llm: ScriptedLLM) -> str:
    return served[1]


@pytest.fixture
async def client(url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    sdk = openai.AsyncOpenAI(api_key="test", base_url=url, max_retries=0, timeout=5.0)
    yield sdk
    await sdk.close()


async def ask(client: openai.AsyncOpenAI, **kwargs: Any) -> Any:
    return await client.chat.completions.create(model="santun-test", messages=USER, **kwargs)


async def test_content_step_is_a_proper_chat_completion(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push({"content": "Tagihan Bapak Rp12.450.000."})

    reply = await ask(client)

    assert reply.object == "chat.completion"
    assert reply.model == "santun-test"
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Tagihan Bapak Rp12.450.000."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens == 7  # ceil(27 chars / 4)
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 7


async def test_tool_calls_with_dict_and_string_arguments(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push(
        {
            "content": "Sebentar, saya cek dulu.",
            "tool_calls": [
                {"name": "get_balance", "arguments": {"account": "A-1", "nominal": 12_450_000}},
                {"name": "list_offers", "arguments": '{"months": 6}'},
            ],
        }
    )

    message = (await ask(client)).choices[0].message
    reply_calls = message.tool_calls

    assert message.content == "Sebentar, saya cek dulu."
    assert [call.function.name for call in reply_calls] == ["get_balance", "list_offers"]
    assert json.loads(reply_calls[0].function.arguments) == {
        "account": "A-1",
        "nominal": 12_450_000,
    }
    assert reply_calls[1].function.arguments == '{"months": 6}'
    assert all(call.type == "function" for call in reply_calls)
    assert all(call.id.startswith("call_") for call in reply_calls)
    assert reply_calls[0].id != reply_calls[1].id


async def test_tool_call_reply_finishes_with_tool_calls(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push({"tool_calls": [{"name": "get_balance", "arguments": {}}]})

    choice = (await ask(client)).choices[0]

    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {}


async def test_steps_are_consumed_in_order_and_requests_recorded(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.script([{"content": "satu"}, {"content": "dua"}])
    llm.push({"content": "tiga"})
    assert llm.remaining == 3

    answers = []
    for turn in range(3):
        reply = await client.chat.completions.create(
            model=f"m{turn}", messages=[{"role": "user", "content": f"pesan {turn}"}]
        )
        answers.append(reply.choices[0].message.content)

    assert answers == ["satu", "dua", "tiga"]
    assert llm.remaining == 0
    assert [body["model"] for body in llm.requests] == ["m0", "m1", "m2"]
    assert llm.requests[2]["messages"] == [{"role": "user", "content": "pesan 2"}]


async def test_script_replaces_the_queue(llm: ScriptedLLM, client: openai.AsyncOpenAI) -> None:
    llm.script([{"content": "lama"}, {"content": "tidak terpakai"}])
    assert (await ask(client)).choices[0].message.content == "lama"

    llm.script([{"content": "baru"}])

    assert llm.remaining == 1
    assert (await ask(client)).choices[0].message.content == "baru"


async def test_cycle_repeats_the_steps(client: openai.AsyncOpenAI, llm: ScriptedLLM) -> None:
    llm.script([{"content": "a"}, {"content": "b"}], cycle=True)

    answers = [(await ask(client)).choices[0].message.content for _ in range(5)]

    assert answers == ["a", "b", "a", "b", "a"]
    assert llm.remaining == 2


async def test_exhausted_script_is_a_server_error(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        await ask(client)

    assert caught.value.status_code == 500
    assert "script exhausted" in caught.value.message
    assert len(llm.requests) == 1


async def test_default_step_answers_after_the_script() -> None:
    llm = ScriptedLLM([{"content": "pertama"}], default={"content": "bawaan"})
    with serve_scripted(llm) as url:
        sdk = openai.AsyncOpenAI(api_key="test", base_url=url, max_retries=0, timeout=5.0)
        answers = [(await ask(sdk)).choices[0].message.content for _ in range(3)]
        await sdk.close()

    assert answers == ["pertama", "bawaan", "bawaan"]


async def test_rate_limit_carries_retry_after(llm: ScriptedLLM, client: openai.AsyncOpenAI) -> None:
    llm.push({"fault": "status", "status": 429, "retry_after": 0.2})

    with pytest.raises(openai.RateLimitError) as caught:
        await ask(client)

    headers = caught.value.response.headers
    assert headers["retry-after"] == "0.2"
    assert headers["retry-after-ms"] == "200"
    assert caught.value.code == "rate_limit_exceeded"


async def test_sdk_waits_for_retry_after_then_retries(url: str, llm: ScriptedLLM) -> None:
    llm.script([{"fault": "status", "status": 429, "retry_after": 0.3}, {"content": "akhirnya"}])
    sdk = openai.AsyncOpenAI(api_key="test", base_url=url, max_retries=1, timeout=5.0)

    started = time.monotonic()
    reply = await ask(sdk)
    elapsed = time.monotonic() - started
    await sdk.close()

    assert reply.choices[0].message.content == "akhirnya"
    assert len(llm.requests) == 2
    assert 0.3 <= elapsed < 2.0


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors(llm: ScriptedLLM, client: openai.AsyncOpenAI, status: int) -> None:
    llm.push({"fault": "status", "status": status, "message": "upstream sedang gangguan"})

    with pytest.raises(openai.InternalServerError) as caught:
        await ask(client)

    assert caught.value.status_code == status
    assert "upstream sedang gangguan" in caught.value.message
    assert caught.value.type == "server_error"


async def test_hang_times_out_and_server_still_stops_fast() -> None:
    llm = ScriptedLLM([{"fault": "hang"}])
    started = time.monotonic()
    with serve_scripted(llm) as url:
        sdk = openai.AsyncOpenAI(api_key="test", base_url=url, max_retries=0, timeout=0.3)
        with pytest.raises(openai.APITimeoutError):
            await ask(sdk)
        await sdk.close()
        closing = time.monotonic()

    assert time.monotonic() - closing < 1.0
    assert time.monotonic() - started < 3.0


async def test_delay_postpones_the_answer(llm: ScriptedLLM, client: openai.AsyncOpenAI) -> None:
    llm.push({"content": "pelan", "delay": 0.25})

    started = time.monotonic()
    reply = await ask(client)

    assert reply.choices[0].message.content == "pelan"
    assert time.monotonic() - started >= 0.25


@pytest.mark.parametrize(
    ("step", "name"),
    [
        ({"fault": "malformed_tool_json"}, "accept_plan"),
        ({"fault": "malformed_tool_json", "name": "x"}, "x"),
    ],
)
async def test_malformed_tool_json(
    llm: ScriptedLLM, client: openai.AsyncOpenAI, step: Step, name: str
) -> None:
    llm.push(step)

    choice = (await ask(client)).choices[0]
    call = choice.message.tool_calls[0]

    assert choice.finish_reason == "tool_calls"
    assert call.function.name == name
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.function.arguments)


async def test_empty_reply(llm: ScriptedLLM, client: openai.AsyncOpenAI) -> None:
    llm.push({"fault": "empty"})

    choice = (await ask(client)).choices[0]

    assert not choice.message.content
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"


async def test_refusal(llm: ScriptedLLM, client: openai.AsyncOpenAI) -> None:
    llm.push({"fault": "refusal"})

    message = (await ask(client)).choices[0].message

    assert message.content is None
    assert message.refusal == REFUSAL_TEXT


async def test_disconnect_is_a_connection_error(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push({"fault": "disconnect"}, {"content": "tersambung lagi"})

    with pytest.raises(openai.APIConnectionError) as caught:
        await ask(client)

    assert not isinstance(caught.value, openai.APITimeoutError)
    assert (await ask(client)).choices[0].message.content == "tersambung lagi"


async def test_streaming_disconnect_breaks_the_stream(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push({"fault": "disconnect"})

    stream = await ask(client, stream=True)
    with pytest.raises(openai.APIConnectionError):
        async for _ in stream:
            pass


async def test_streaming_content_reassembles_with_usage(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    text = "  Mohon maaf Bapak,\nterima kasih  atas kesabarannya. "
    llm.push({"content": text})

    stream = await ask(client, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]

    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    assert deltas[0].role == "assistant"
    assert "".join(delta.content or "" for delta in deltas) == text
    assert sum(1 for delta in deltas if delta.content) > 3
    finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 14  # ceil(54 chars / 4)
    assert llm.requests[0]["stream"] is True


async def test_streaming_without_usage_option_sends_no_usage(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push({"content": "halo"})

    chunks = [chunk async for chunk in await ask(client, stream=True)]

    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


async def test_streaming_tool_calls_reassemble(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    arguments = {"offer_id": "6m", "first_payment": 2_075_000, "note": "cicilan enam bulan"}
    llm.push(
        {
            "tool_calls": [
                {"name": "accept_plan", "arguments": arguments},
                {"name": "get_balance", "arguments": "{}"},
            ]
        }
    )

    calls: dict[int, dict[str, str]] = {}
    argument_pieces = 0
    finish = None
    async for chunk in await ask(client, stream=True):
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            assert delta.function is not None
            call["name"] += delta.function.name or ""
            call["arguments"] += delta.function.arguments or ""
            argument_pieces += bool(delta.function.arguments)

    assert finish == "tool_calls"
    assert [calls[i]["name"] for i in sorted(calls)] == ["accept_plan", "get_balance"]
    assert json.loads(calls[0]["arguments"]) == arguments
    assert calls[1]["arguments"] == "{}"
    assert calls[0]["id"].startswith("call_")
    assert argument_pieces > 2


async def test_streaming_status_fault_raises_before_the_stream(
    llm: ScriptedLLM, client: openai.AsyncOpenAI
) -> None:
    llm.push({"fault": "status", "status": 503, "retry_after": 1})

    with pytest.raises(openai.InternalServerError) as caught:
        await ask(client, stream=True)

    assert caught.value.response.headers["retry-after"] == "1"


async def test_streaming_refusal(llm: ScriptedLLM, client: openai.AsyncOpenAI) -> None:
    llm.push({"fault": "refusal"})

    deltas = [chunk.choices[0].delta async for chunk in await ask(client, stream=True)]

    assert "".join(delta.refusal or "" for delta in deltas) == REFUSAL_TEXT
    assert not any(delta.content for delta in deltas)


async def test_models_endpoint(client: openai.AsyncOpenAI) -> None:
    models = await client.models.list()

    assert [model.id for model in models.data] == ["scripted"]


@pytest.mark.parametrize("step", [{"fault": "explode"}, {"fault": "status"}, "text"])
def test_bad_steps_are_rejected_when_scripted(step: Any) -> None:
    llm = ScriptedLLM()

    with pytest.raises((ValueError, TypeError)):
        llm.push(step)
    with pytest.raises((ValueError, TypeError)):
        ScriptedLLM([step])
