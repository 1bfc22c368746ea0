"""The chat service: sessions, one guarded turn per message, idempotency and the audit trail."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from agent import tokens
from agent.clock import Clock
from agent.engines.base import Engine
from agent.privacy import mask_text, mask_value
from agent.protocols import Guard
from agent.storage import PaymentBook, Store
from agent.storage.console import ConsoleStore
from agent.streaming import split_sentences
from guardrails import GuardContext

SESSION_TOKEN_KIND = "session"


class UnknownSessionError(LookupError):
    """The session id is not known to this server."""


class ChatService:
    """Runs turns through the graph and keeps what must not be lost."""

    def __init__(
        self,
        *,
        graph: CompiledStateGraph[Any, Any, Any, Any],
        engine: Engine,
        guard: Guard,
        store: Store,
        clock: Clock,
        signing_key: bytes,
        payments: PaymentBook | None = None,
    ) -> None:
        """Assemble the service from already-built parts."""
        self.payments = payments
        self.graph, self.engine, self.guard = graph, engine, guard
        self.store, self.clock, self._key = store, clock, signing_key
        self.console = ConsoleStore.for_store(store)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._session_facts: dict[str, dict[str, Any]] = {}
        self._verified: dict[str, str | None] = {}  # each session's account after its last turn
        # told (session id, account id, time) after every turn of a verified session
        self.turn_listeners: list[Callable[[str, str, datetime], None]] = []

    def mint_session_token(self, account_id: str, hours: int = 24) -> str:
        """Sign a token that marks a new session verified for an account."""
        if self.store.get_account(account_id) is None:
            raise ValueError(f"unknown account {account_id!r}")
        expires = self.clock.now() + timedelta(hours=hours)
        return tokens.sign(self._key, SESSION_TOKEN_KIND, {"acc": account_id}, expires)

    def verify_token(self, kind: str, token: str) -> dict[str, Any]:
        """Check a signed token of a kind against the clock; raises ``TokenError``."""
        return tokens.verify(self._key, kind, token, self.clock.now())

    async def start_session(self, auth_token: str | None = None) -> dict[str, Any]:
        """Open a session (verified when a valid token is given) and greet.

        Raises:
            tokens.TokenError: the token is invalid or expired.
        """
        now = self.clock.now()
        account_id = None
        if auth_token:
            account_id = str(tokens.verify(self._key, SESSION_TOKEN_KIND, auth_token, now)["acc"])
        account = self.store.get_account(account_id) if account_id else None
        session_id = secrets.token_urlsafe(18)
        self.store.create_session(session_id, now, account.account_id if account else None)
        greeting = self.engine.greeting(account.holder_name if account else None)
        verdict = self.guard.check(greeting, GuardContext(verified=account is not None))
        if not verdict.allowed:
            greeting = self.engine.greeting(None)
        self.store.append_audit(
            session_id,
            "session_started",
            {
                "verified_by_token": account is not None,
                "reply": greeting,
                "engine": self.engine.name,
                "prompt_version": self.engine.version,
            },
            now,
        )
        return {"session_id": session_id, "reply": greeting}

    async def handle_message(
        self, session_id: str, text: str, client_message_id: str | None = None
    ) -> dict[str, Any]:
        """Answer one debtor message; a repeated client message id gets the first answer."""
        final: dict[str, Any] = {}
        async for event, data in self.stream_message(
            session_id, text, client_message_id, stream=False
        ):
            if event == "final":
                final = data
        return final

    async def stream_message(
        self,
        session_id: str,
        text: str,
        client_message_id: str | None = None,
        *,
        stream: bool = True,
    ) -> AsyncIterator[tuple[str, Any]]:
        """Answer one message as events: sentences as they are released, then the final answer.

        Events are ``("sentence", text)`` and, last, ``("final", response)``. With a
        streaming model each sentence is released as soon as the guardrail passed it;
        otherwise the approved reply's sentences follow once the turn is done. The final
        response is authoritative: when a streamed draft was blocked part-way, its reply
        replaces what was shown.

        Raises:
            UnknownSessionError: no such session.
        """
        if not self.session_exists(session_id):
            raise UnknownSessionError(session_id)
        async with self._locks[session_id]:
            if client_message_id:
                previous = self.store.find_message(session_id, client_message_id)
                if previous is not None:
                    yield "final", previous
                    return
            if self.console.held_by(session_id):  # a human holds the conversation: bot silent
                now, masked = self.clock.now(), mask_text(text)
                held = self.console.record_held_message(session_id, client_message_id, masked, now)
                yield "final", held
                return
            started = time.perf_counter()
            out: dict[str, Any] = {}
            released: list[str] = []
            config: Any = {"configurable": {"thread_id": session_id}}
            received = await self._payments_to_confirm(session_id, config)
            chunk: Any
            async for mode, chunk in self.graph.astream(
                {
                    **self._turn_input(session_id, text),
                    "stream": stream,
                    "payments_received": received,
                },
                config,
                stream_mode=["custom", "values"],
                durability="exit",
            ):
                if mode == "values":
                    out = dict(chunk)
                elif stream and isinstance(chunk, dict) and "sentence" in chunk:
                    released.append(chunk["sentence"])
                    yield "sentence", chunk["sentence"]
            latency_ms = (time.perf_counter() - started) * 1000
            response = build_response(out)
            self.store.save_turn(
                session_id,
                client_message_id,
                response,
                self._audit(out, latency_ms),
                self.clock.now(),
            )
            self._verified[session_id] = out.get("verified_account")
            if out.get("verified_account"):
                for listener in self.turn_listeners:
                    listener(session_id, str(out["verified_account"]), self.clock.now())
            if received and self.payments is not None and out.get("verified_account"):
                references = [p["reference"] for p in received]
                self.payments.mark_announced(references, session_id, self.clock.now())
            if stream:
                for sentence in _unreleased(response["reply"], released):
                    yield "sentence", sentence
            yield "final", response

    async def _payments_to_confirm(self, session_id: str, config: Any) -> list[dict[str, Any]]:
        """Gateway payments of the session's verified account not yet confirmed to the debtor.

        The account is the one the session was verified for after its last turn, remembered
        here; only a session this process has not served yet reads it from its checkpoint.
        """
        if self.payments is None:
            return []
        account = await self.verified_account(session_id)
        return self.payments.unannounced(account) if account else []

    async def verified_account(self, session_id: str) -> str | None:
        """The account a session is verified for after its last turn (or by its token)."""
        if session_id not in self._verified:
            config: Any = {"configurable": {"thread_id": session_id}}
            snapshot = await self.graph.aget_state(config)
            account = snapshot.values.get("verified_account") if snapshot.values else None
            self._verified[session_id] = account or self.store.session_account(session_id)
        return self._verified[session_id]

    def session_exists(self, session_id: str) -> bool:
        """Tell whether a session id is known (remembered once seen)."""
        if session_id in self._session_facts:
            return True
        return self.store.session_exists(session_id)

    def _turn_input(self, session_id: str, text: str) -> dict[str, Any]:
        facts = self._session_facts.get(session_id)
        if facts is None:
            facts = {}
            auth = self.store.session_account(session_id)
            account = self.store.get_account(auth) if auth else None
            if account is not None:
                facts = {
                    "auth_account": account.account_id,
                    "timezone": account.timezone,
                    "product": account.product,
                    "kol": account.kol,
                }
            self._session_facts[session_id] = facts
        return {"user_text": text, "session_id": session_id, "stream": False, **facts}

    def _audit(self, out: dict[str, Any], latency_ms: float) -> dict[str, Any]:
        return {
            "turn": out.get("turn"),
            "input": mask_text(out.get("user_text", "")),
            "flags": out.get("flags", []),
            "intent": out.get("intent"),
            "slots": mask_value(out.get("slots", {})),
            "nlu_rules": out.get("nlu_rules", []),
            "tool_calls": mask_value(out.get("tool_calls", [])),
            "drafts": [{**d, "text": mask_text(d["text"])} for d in out.get("drafts", [])],
            "reply": mask_text(out.get("reply", "")),
            "citations": [c["id"] for c in out.get("citations", [])],
            "verified": bool(out.get("verified_account")),
            "handoff": bool(out.get("handoff")),
            "engine": out.get("engine_used") or self.engine.name,
            "prompt_version": out.get("prompt_version") or self.engine.version,
            "guard_version": self.guard.version,
            "latency_ms": round(latency_ms, 2),
            **_model_facts(out),
        }


def _model_facts(out: dict[str, Any]) -> dict[str, Any]:
    """What the model did this turn: retries, fallbacks, trimming and tokens (LLM engine)."""
    if not out.get("llm_usage") and not out.get("llm_events"):
        return {}
    usage = dict(out.get("llm_usage", {}))
    usage["total_tokens"] = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
    return {"llm_events": out.get("llm_events", []), "llm_usage": usage}


def _unreleased(reply: str, released: list[str]) -> list[str]:
    """The reply's sentences not yet shown, when what was shown is the reply's beginning."""
    sentences = split_sentences(reply)
    if sentences[: len(released)] != released:
        return []  # a streamed draft was replaced; the final event carries the reply
    return sentences[len(released) :]


def build_response(out: dict[str, Any]) -> dict[str, Any]:
    """The HTTP answer of one turn, as DESIGN.md fixes it."""
    blocked = [d for d in out.get("drafts", []) if not d["allowed"]]
    return {
        "reply": out.get("reply", ""),
        "verified": bool(out.get("verified_account")) and not out.get("third_party"),
        "tool_calls": [
            {
                "name": c["name"],
                "args": mask_value(c["args"]) if c["name"] == "verify_identity" else c["args"],
                "result": c["result"],
            }
            for c in out.get("tool_calls", [])
        ],
        "citations": out.get("citations", []),
        "guardrail": {
            "drafts_blocked": len(blocked),
            "violations": [v for d in blocked for v in d["violations"]],
        },
        "handoff": bool(out.get("handoff")),
    }
