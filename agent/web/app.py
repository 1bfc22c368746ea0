"""The FastAPI application: lifespan builds the service once; routes stay thin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse

from agent import tokens
from agent.clock import Clock
from agent.config import Settings, get_settings
from agent.engines.base import Engine
from agent.outreach.service import build_outreach
from agent.runtime import open_service
from agent.service import ChatService, UnknownSessionError
from agent.web.console import console_routes
from agent.web.console_outreach import outreach_console_routes
from agent.web.limits import BodySizeLimit, RateLimiter
from agent.web.outreach import router as outreach_router
from agent.web.payments import payment_routes
from agent.web.schemas import ErrorOut, MessageIn, MessageOut, SessionCreate, SessionCreated
from agent.web.security import SecurityHeaders
from agent.web.static_routes import static_routes

RATE_LIMITED = (
    "Mohon maaf, terlalu banyak pesan dalam waktu singkat. Silakan coba lagi sebentar lagi."
)
UNKNOWN_SESSION = "Sesi tidak ditemukan. Silakan mulai percakapan baru."
BAD_TOKEN = "Token sesi tidak valid atau sudah kedaluwarsa. Silakan masuk kembali."


def create_app(
    settings: Settings | None = None, engine_factory: Callable[[Clock], Engine] | None = None
) -> FastAPI:
    """Create the app; the service is built in the lifespan from the settings."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_service(
            settings, engine_factory=engine_factory, eager_retriever=True
        ) as service:
            app.state.service = service
            outreach = build_outreach(settings, service.store, clock=service.clock, chat=service)
            app.state.outreach = app.state.outreach_events = outreach
            service.turn_listeners.append(outreach.replies.chat_turn)
            app.state.settings = settings
            app.state.session_limiter = RateLimiter(settings.rate_limit_session_per_minute)
            app.state.ip_limiter = RateLimiter(settings.rate_limit_ip_per_minute)
            yield

    app = FastAPI(title="Santun", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    _routes(app, settings)
    _stream_routes(app)
    payment_routes(app, settings)
    app.include_router(outreach_router)
    console_routes(app, settings)
    outreach_console_routes(app, settings)
    static_routes(app)
    return app


def get_service(request: Request) -> ChatService:
    """The service built by the lifespan."""
    service: ChatService = request.app.state.service
    return service


Service = Annotated[ChatService, Depends(get_service)]


def _limited(request: Request, session_id: str | None) -> bool:
    client = request.client.host if request.client else "unknown"
    if not request.app.state.ip_limiter.allow(client):
        return True
    return session_id is not None and not request.app.state.session_limiter.allow(session_id)


def _turn_refused(request: Request, service: ChatService, session_id: str) -> JSONResponse | None:
    """404 for an unknown session, 429 past a rate limit; None when the turn may run."""
    if not service.session_exists(session_id):
        return _error(404, UNKNOWN_SESSION)
    if _limited(request, session_id):
        return _error(429, RATE_LIMITED)
    return None


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _routes(app: FastAPI, settings: Settings) -> None:
    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorOut},
        401: {"model": ErrorOut},
        429: {"model": ErrorOut},
    }

    @app.get("/healthz")
    async def healthz(service: Service) -> dict[str, str]:
        return {"status": "ok", "engine": service.engine.name}

    @app.post("/api/sessions", response_model=SessionCreated, responses=errors)
    async def create_session(body: SessionCreate, request: Request, service: Service) -> Any:
        if _limited(request, None):
            return _error(429, RATE_LIMITED)
        try:
            return await service.start_session(body.auth_token)
        except tokens.TokenError:
            return _error(401, BAD_TOKEN)

    @app.get("/api/sessions/{session_id}/inbox", responses=errors)
    async def inbox(session_id: str, request: Request, service: Service) -> Any:
        """Reminders waiting in the widget inbox of the session's verified debtor (once)."""
        if _limited(request, session_id):
            return _error(429, RATE_LIMITED)
        if not service.session_exists(session_id):
            return _error(404, UNKNOWN_SESSION)
        account_id = await service.verified_account(session_id)
        outreach = getattr(request.app.state, "outreach", None)
        if account_id is None or outreach is None:
            return {"messages": []}
        return {"messages": outreach.read_inbox(account_id)}

    @app.post("/api/sessions/{session_id}/messages", response_model=MessageOut, responses=errors)
    async def post_message(
        session_id: str, body: MessageIn, request: Request, service: Service
    ) -> Any:
        refused = _turn_refused(request, service, session_id)
        if refused is not None:
            return refused
        try:
            return await service.handle_message(session_id, body.text, body.client_message_id)
        except UnknownSessionError:
            return _error(404, UNKNOWN_SESSION)


def _stream_routes(app: FastAPI) -> None:
    """``POST /api/sessions/{id}/messages/stream``: Server-Sent Events of one turn."""

    @app.post(
        "/api/sessions/{session_id}/messages/stream",
        responses={404: {"model": ErrorOut}, 429: {"model": ErrorOut}},
    )
    async def post_message_stream(
        session_id: str, body: MessageIn, request: Request, service: Service
    ) -> Any:
        refused = _turn_refused(request, service, session_id)
        if refused is not None:
            return refused

        async def events() -> AsyncIterator[dict[str, str]]:
            async for event, data in service.stream_message(
                session_id, body.text, body.client_message_id
            ):
                payload = {"text": data} if event == "sentence" else data
                yield {"event": event, "data": json.dumps(payload, ensure_ascii=False)}

        return EventSourceResponse(events(), ping=15)
