"""A scripted OpenAI-compatible chat-completions server on loopback.

Tests, evals and benchmarks point the real ``openai`` SDK at it, so the whole HTTP path
(serialisation, streaming, retries, timeouts, error mapping) runs for real while every
answer comes from a script of steps. One step answers one ``/v1/chat/completions``
request; see :class:`ScriptedLLM` for the step forms.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import re
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from evals.server_process import serve_process

__all__ = [
    "REFUSAL_TEXT",
    "Responder",
    "ScriptedLLM",
    "Step",
    "load_responder",
    "serve_scripted",
    "serve_scripted_process",
]

Step = dict[str, Any]
Responder = Callable[[dict[str, Any]], Step]

REFUSAL_TEXT = "I'm sorry, I can't help with that."
HANG_SECONDS = 3600.0
_FAULTS = frozenset({"hang", "status", "malformed_tool_json", "empty", "refusal", "disconnect"})
_MALFORMED_ARGUMENTS = '{"offer_id": "6m"'
_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_POLL_SECONDS = 0.05
_ARGUMENT_PIECE = 16


@dataclass
class _Reply:
    """What the assistant says for one step, before it is shaped as JSON or SSE."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    refusal: str | None = None

    @property
    def finish_reason(self) -> str:
        """The OpenAI finish reason implied by the reply."""
        return "tool_calls" if self.tool_calls else "stop"

    def message(self) -> dict[str, Any]:
        """The assistant message of a non-streaming completion."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        if self.refusal is not None:
            message["refusal"] = self.refusal
        return message

    def completion_tokens(self) -> int:
        """Estimated output tokens: a quarter of the output characters, rounded up."""
        text = (self.content or "") + (self.refusal or "")
        if self.tool_calls:
            text += json.dumps(self.tool_calls)
        return math.ceil(len(text) / 4)


def _check_step(step: Step) -> Step:
    """Reject a malformed step when it is scripted, not when a request meets it."""
    if not isinstance(step, dict):
        raise TypeError(f"a step must be a dict, got {type(step).__name__}")
    fault = step.get("fault")
    if fault is not None and fault not in _FAULTS:
        raise ValueError(f"unknown fault {fault!r}; expected one of {sorted(_FAULTS)}")
    if fault == "status" and not isinstance(step.get("status"), int):
        raise ValueError("a status fault needs an integer 'status'")
    return step


def _error(status: int, message: str, step: Step | None = None) -> JSONResponse:
    """An OpenAI-style error response, with ``Retry-After`` headers when the step asks."""
    step = step or {}
    fallback = "server_error" if status >= 500 else "invalid_request_error"
    kind, code = _ERROR_KINDS.get(status, (fallback, None))
    body = {
        "error": {
            "message": message,
            "type": step.get("type", kind),
            "param": None,
            "code": step.get("code", code),
        }
    }
    headers: dict[str, str] = {}
    if step.get("retry_after") is not None:
        seconds = float(step["retry_after"])
        headers["retry-after"] = f"{seconds:g}"
        headers["retry-after-ms"] = f"{seconds * 1000:g}"
    return JSONResponse(body, status_code=status, headers=headers)


class _DroppedResponse(Response):
    """Starts a 200 response, sends ``prefix``, then returns so uvicorn drops the socket."""

    def __init__(self, media_type: str, prefix: bytes = b"") -> None:
        super().__init__(media_type=media_type)
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send an incomplete response; uvicorn then closes the connection."""
        headers = [(b"content-type", (self.media_type or "").encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if self._prefix:
            await send({"type": "http.response.body", "body": self._prefix, "more_body": True})


def _words(text: str) -> list[str]:
    """Split text into word-sized pieces whose concatenation is exactly ``text``."""
    return re.findall(r"\S+\s*|\s+", text)


def _sse(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event line carrying JSON (or the literal ``[DONE]``)."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


class ScriptedLLM:
    """An OpenAI-compatible chat endpoint that answers from a script of steps.

    Each ``POST /v1/chat/completions`` consumes one step, in order (``cycle=True`` repeats
    the list forever). A step is a dict:

    * ``{"content": "text"}``: an assistant message, finish reason ``stop``.
    * ``{"tool_calls": [{"name": ..., "arguments": {...} | "raw json"}]}``: tool calls
      (ids ``call_<n>``), finish reason ``tool_calls``; may be combined with ``content``.
    * ``"delay": seconds`` on any step: wait before answering.
    * ``{"fault": "hang"}``: never answer (until the server shuts down).
    * ``{"fault": "status", "status": 429, "retry_after": 0.2}``: an HTTP error with an
      OpenAI-style body and ``Retry-After``/``retry-after-ms`` headers when given;
      ``message``, ``type`` and ``code`` override the body fields.
    * ``{"fault": "malformed_tool_json", "name": "accept_plan"}``: a tool call whose
      arguments are truncated JSON.
    * ``{"fault": "empty"}``: content ``""`` and no tool calls.
    * ``{"fault": "refusal"}``: content ``None`` and ``refusal`` set.
    * ``{"fault": "disconnect"}``: the connection drops mid-response.

    An exhausted script answers with ``default`` when given, else with the step that
    ``responder`` (a function of the request body, e.g. :func:`evals.mock_model.respond`)
    returns, else HTTP 500 ``script exhausted``.

    Attributes:
        requests: Every JSON request body received, in order.
        app: The ASGI application; serve it with :func:`serve_scripted`.
    """

    def __init__(
        self,
        steps: Iterable[Step] = (),
        *,
        cycle: bool = False,
        default: Step | None = None,
        responder: Responder | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._steps: list[Step] = []
        self._position = 0
        self._cycle = False
        self._default = None if default is None else _check_step(default)
        self._responder = responder
        self._counter = 0
        self.requests: list[dict[str, Any]] = []
        self.script(steps, cycle=cycle)
        self.app = FastAPI(title="scripted-llm", openapi_url=None, docs_url=None, redoc_url=None)
        self.app.add_api_route("/v1/chat/completions", self._chat, methods=["POST"])
        self.app.add_api_route("/v1/models", self._models, methods=["GET"])

    def script(self, steps: Iterable[Step], *, cycle: bool = False) -> None:
        """Replace the queued steps and restart from the first one.

        Args:
            steps: The new steps.
            cycle: Repeat the steps forever instead of exhausting.
        """
        checked = [_check_step(step) for step in steps]
        with self._lock:
            self._steps, self._position, self._cycle = checked, 0, cycle

    def push(self, *steps: Step) -> None:
        """Append steps to the end of the script."""
        checked = [_check_step(step) for step in steps]
        with self._lock:
            self._steps.extend(checked)

    @property
    def remaining(self) -> int:
        """Steps not yet consumed; when cycling, the length of the cycle."""
        with self._lock:
            if self._cycle:
                return len(self._steps)
            return len(self._steps) - self._position

    def _take(self, body: dict[str, Any]) -> tuple[Step | None, int]:
        """Record the request and pop the next step together with a fresh sequence number."""
        with self._lock:
            self.requests.append(body)
            self._counter += 1
            step: Step | None = self._default
            if self._cycle and self._steps:
                step = self._steps[self._position % len(self._steps)]
                self._position += 1
            elif self._position < len(self._steps):
                step = self._steps[self._position]
                self._position += 1
            return step, self._counter

    def _tool_call(self, name: str, arguments: Any) -> dict[str, Any]:
        """One tool call in OpenAI wire shape, with a unique id."""
        with self._lock:
            self._counter += 1
            number = self._counter
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        return {
            "id": f"call_{number}",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }

    def _reply(self, step: Step) -> _Reply:
        """Turn a non-error step into the assistant's reply."""
        fault = step.get("fault")
        if fault == "empty":
            return _Reply(content="")
        if fault == "refusal":
            return _Reply(refusal=step.get("refusal", REFUSAL_TEXT))
        calls = [
            self._tool_call(call["name"], call.get("arguments", {}))
            for call in step.get("tool_calls", [])
        ]
        if fault == "malformed_tool_json":
            calls.append(self._tool_call(step.get("name", "accept_plan"), _MALFORMED_ARGUMENTS))
        return _Reply(content=step.get("content"), tool_calls=calls)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early when the server is shutting down."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._closing.is_set():
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, _POLL_SECONDS))

    async def _models(self) -> dict[str, Any]:
        """``GET /v1/models``: the one scripted model."""
        return {"object": "list", "data": [{"id": "scripted", "object": "model"}]}

    async def _chat(self, request: Request) -> Response:
        """``POST /v1/chat/completions``: answer with the next scripted step."""
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        step, number = self._take(body)
        if step is None and self._responder is not None:
            try:
                step = _check_step(self._responder(body))
            except Exception as exc:  # the client should see why, not a bare 500
                return _error(500, f"responder failed: {type(exc).__name__}: {exc}")
        if step is None:
            return _error(500, "script exhausted")
        fault = step.get("fault")
        delay = float(step.get("delay", 0.0))
        await self._sleep(max(delay, HANG_SECONDS) if fault == "hang" else delay)
        if fault == "hang":
            return _error(503, "scripted server shutting down")
        if fault == "status":
            return _error(step["status"], step.get("message", "scripted fault"), step)
        streaming = bool(body.get("stream"))
        if fault == "disconnect":
            if streaming:
                return _DroppedResponse("text/event-stream", _sse(self._role_chunk(body, number)))
            return _DroppedResponse("application/json")
        reply = self._reply(step)
        prompt_tokens = math.ceil(len(json.dumps(body.get("messages", []))) / 4)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": reply.completion_tokens(),
            "total_tokens": prompt_tokens + reply.completion_tokens(),
        }
        if streaming:
            events = self._stream(body, number, reply, usage)
            return StreamingResponse(events, media_type="text/event-stream")
        return JSONResponse(
            {
                **self._envelope(body, number, "chat.completion"),
                "choices": [
                    {"index": 0, "message": reply.message(), "finish_reason": reply.finish_reason}
                ],
                "usage": usage,
            }
        )

    @staticmethod
    def _envelope(body: dict[str, Any], number: int, kind: str) -> dict[str, Any]:
        """The fields shared by completions and chunks."""
        return {
            "id": f"chatcmpl-scripted-{number}",
            "object": kind,
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
        }

    def _chunk(
        self, body: dict[str, Any], number: int, delta: dict[str, Any], finish: str | None = None
    ) -> dict[str, Any]:
        """One ``chat.completion.chunk`` with a single choice."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {**self._envelope(body, number, "chat.completion.chunk"), "choices": [choice]}

    def _role_chunk(
        self, body: dict[str, Any], number: int, refusal: bool = False
    ) -> dict[str, Any]:
        """The opening chunk that announces the assistant role."""
        delta: dict[str, Any] = {"role": "assistant", "content": ""}
        if refusal:
            delta = {"role": "assistant", "content": None, "refusal": ""}
        return self._chunk(body, number, delta)

    async def _stream(
        self, body: dict[str, Any], number: int, reply: _Reply, usage: dict[str, int]
    ) -> AsyncIterator[bytes]:
        """Server-sent events for a streamed reply, ending with ``[DONE]``."""
        yield _sse(self._role_chunk(body, number, refusal=reply.refusal is not None))
        for piece in _words(reply.content or ""):
            yield _sse(self._chunk(body, number, {"content": piece}))
        for piece in _words(reply.refusal or ""):
            yield _sse(self._chunk(body, number, {"refusal": piece}))
        for index, call in enumerate(reply.tool_calls):
            head = {**call, "index": index, "function": {**call["function"], "arguments": ""}}
            yield _sse(self._chunk(body, number, {"tool_calls": [head]}))
            arguments = call["function"]["arguments"]
            for start in range(0, len(arguments), _ARGUMENT_PIECE):
                fragment = {"arguments": arguments[start : start + _ARGUMENT_PIECE]}
                delta = {"tool_calls": [{"index": index, "function": fragment}]}
                yield _sse(self._chunk(body, number, delta))
        yield _sse(self._chunk(body, number, {}, reply.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {**self._envelope(body, number, "chat.completion.chunk"), "choices": []}
            yield _sse({**tail, "usage": usage})
        yield _sse("[DONE]")


@contextmanager
def serve_scripted(llm: ScriptedLLM, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``llm`` with uvicorn in a background thread on a free loopback port.

    Args:
        llm: The scripted model to serve.
        host: The interface to bind.

    Yields:
        The base URL for the ``openai`` SDK, e.g. ``http://127.0.0.1:PORT/v1``.

    Raises:
        RuntimeError: If the server does not start within ten seconds.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        llm.app,
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        http="httptools",
        ws="none",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"scripted-llm-{port}", daemon=True
    )
    llm._closing.clear()
    thread.start()
    try:
        deadline = time.monotonic() + 10.0
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("scripted LLM server failed to start")
            time.sleep(0.01)
        netloc = f"[{host}]" if family == socket.AF_INET6 else host
        yield f"http://{netloc}:{port}/v1"
    finally:
        llm._closing.set()
        server.should_exit = True
        thread.join(timeout=5.0)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5.0)
        sock.close()


def load_responder(path: str) -> Responder:
    """Import a responder named ``"package.module:function"``.

    Raises:
        ValueError: If ``path`` is not of that form or does not name a callable.
    """
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"responder must look like 'package.module:function', got {path!r}")
    found = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(found):
        raise ValueError(f"{path!r} is not a callable")
    responder: Responder = found
    return responder


@contextmanager
def serve_scripted_process(
    steps: Iterable[Step], *, cycle: bool = True, responder: str | None = None
) -> Iterator[str]:
    """Serve a script from a separate process, as a real model server would run.

    Benchmarks use it so that the server's own work never competes with the agent's for
    this process's interpreter lock.

    Args:
        steps: The script.
        cycle: Repeat the script forever.
        responder: Import path of a responder that answers once the script is exhausted,
            e.g. ``"evals.mock_model:respond"``.

    Yields:
        The base URL for the ``openai`` SDK.

    Raises:
        RuntimeError: If the server process does not report its address.
    """
    command = [sys.executable, "-m", "evals.scripted_llm", json.dumps(list(steps))]
    if cycle:
        command.append("--cycle")
    if responder is not None:
        command += ["--responder", responder]
    with serve_process(command, "scripted LLM server") as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    """``python -m evals.scripted_llm [STEPS_JSON] [--cycle] [--responder MODULE:FUNC]``.

    Prints the base URL, then serves until standard input closes.
    """
    parser = argparse.ArgumentParser(prog="python -m evals.scripted_llm")
    parser.add_argument("steps", nargs="?", default="[]", help="the script, as a JSON list")
    parser.add_argument("--cycle", action="store_true", help="repeat the script forever")
    parser.add_argument(
        "--responder", help="answers after the script, e.g. evals.mock_model:respond"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    responder = load_responder(args.responder) if args.responder else None
    llm = ScriptedLLM(json.loads(args.steps), cycle=args.cycle, responder=responder)
    with serve_scripted(llm) as url:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    main()
