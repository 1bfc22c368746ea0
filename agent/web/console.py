"""The compliance console (``/console``) and the widget's message feed.

Operators sign in with their own accounts; the session is a signed HttpOnly cookie and every
form carries a CSRF token derived from it. Compliance officers and admins read every
conversation with its blocked drafts and audit records, and mark eval cases and
conversations as approved or flagged for the next eval report; collection agents work the
human-handoff queue. Each look at (or mark on) a conversation is written to the access log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader

from agent import tokens
from agent.config import Settings
from agent.privacy import mask_text
from agent.service import ChatService
from agent.storage.console import REVIEW_COMMENT_MAX_CHARS, Filters, Operator, ReviewError
from guardrails import GuardContext
from guardrails.catalogue import load_catalogue

OPERATOR_TOKEN_KIND = "operator"
COOKIE = "santun_console"
LOGIN_COOKIE = "santun_console_login"
SESSION_HOURS = 8
MAX_FAILURES, FAILURE_WINDOW = 5, timedelta(minutes=15)
REVIEWERS = frozenset({"compliance", "admin"})
HANDLERS = frozenset({"agent", "admin"})
EVERYONE = REVIEWERS | HANDLERS
LOCAL_TZ = ZoneInfo("Asia/Jakarta")
UNKNOWN_SESSION = "Sesi tidak ditemukan. Silakan mulai percakapan baru."
RATE_LIMITED = (
    "Mohon maaf, terlalu banyak pesan dalam waktu singkat. Silakan coba lagi sebentar lagi."
)
BAD_LOGIN = "Invalid username or password"
HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Login:
    """The signed-in operator and the CSRF token of their session."""

    operator: Operator
    csrf: str


class Console:
    """What every console route needs: keys, the current operator, rendering."""

    def __init__(self, settings: Settings) -> None:
        """Remember the settings; the key is read on first use."""
        self.settings = settings
        self.secure = (settings.public_url or "").startswith("https://")
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates" / "console"), autoescape=True
        )
        self.env.filters["wib"] = _wib
        self.env.filters["waited"] = _waited
        self.env.filters["pretty"] = _pretty
        self._key: bytes | None = None

    def key(self) -> bytes:
        """The server's HMAC key (read on first use, as the service reads it)."""
        if self._key is None:
            self._key = self.settings.signing_key()
        return self._key

    def mac(self, purpose: str, value: str) -> str:
        """An HMAC of a value for one purpose (CSRF tokens)."""
        return hmac.new(self.key(), f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()

    def login(self, request: Request) -> Login | None:
        """The operator of a valid session cookie, if still active."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        service = _service(request)
        try:
            claims = tokens.verify(self.key(), OPERATOR_TOKEN_KIND, raw, service.clock.now())
        except tokens.TokenError:
            return None
        operator = service.console.operator(str(claims.get("op", "")))
        return Login(operator, self.mac("csrf", raw)) if operator else None

    def require(
        self, request: Request, roles: frozenset[str], *, api: bool = False
    ) -> Login | Response:
        """The login, or the response that refuses the request (303/401, 403)."""
        login = self.login(request)
        if login is None:
            if api:
                return _json(401, "Not signed in")
            return RedirectResponse("/console/login", status_code=303)
        if login.operator.role not in roles:
            if api:
                return _json(403, "Your role may not use this")
            return self.page(request, "error.html", login, 403, message="Not allowed for your role")
        return login

    async def require_post(
        self, request: Request, roles: frozenset[str]
    ) -> tuple[Login, dict[str, str]] | Response:
        """As :meth:`require`, also reading the form and checking its CSRF token."""
        login = self.require(request, roles)
        if not isinstance(login, Login):
            return login
        form = await _form(request)
        if not hmac.compare_digest(form.get("csrf_token", ""), login.csrf):
            return self.page(request, "error.html", login, 403, message="Invalid CSRF token")
        return login, form

    def page(
        self, request: Request, name: str, login: Login | None, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """Render a console template with the security headers."""
        html = self.env.get_template(name).render(login=login, **context)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def start_session(self, request: Request, operator: Operator) -> Response:
        """Sign the operator in: a signed, HttpOnly, SameSite=Strict cookie."""
        expires = _service(request).clock.now() + timedelta(hours=SESSION_HOURS)
        claims = {"op": operator.username, "n": secrets.token_urlsafe(8)}
        token = tokens.sign(self.key(), OPERATOR_TOKEN_KIND, claims, expires)
        home = "/console/queue" if operator.role not in REVIEWERS else "/console"
        response = RedirectResponse(home, status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=SESSION_HOURS * 3600,
            path="/console",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )
        response.delete_cookie(LOGIN_COOKIE, path="/console/login")
        return response


def console_routes(app: FastAPI, settings: Settings) -> None:
    """Add the ``/console`` pages and APIs and ``GET /api/sessions/{id}/messages``."""
    console = Console(settings)
    _auth_routes(app, console)
    _review_routes(app, console)
    _mark_routes(app, console)
    _queue_routes(app, console)
    _feed_routes(app)

    @app.get("/console/static/console.css", include_in_schema=False)
    async def console_css() -> FileResponse:
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return FileResponse(HERE / "static" / "console.css", media_type="text/css", headers=headers)


def _auth_routes(app: FastAPI, console: Console) -> None:
    @app.get("/console/login", include_in_schema=False)
    async def login_page(request: Request) -> Response:
        return _login_form(console, request, None, 200)

    @app.post("/console/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not hmac.compare_digest(
            form.get("csrf_token", ""), console.mac("login", nonce)
        ):
            return _login_form(console, request, "The form expired. Please sign in again.", 403)
        store, now = _service(request).console, _service(request).clock.now()
        username = form.get("username", "").strip().lower()[:64]
        if store.login_failures_since(username, now - FAILURE_WINDOW) >= MAX_FAILURES:
            message = "Too many failed attempts. Please wait 15 minutes and try again."
            return _login_form(console, request, message, 429)
        operator = store.authenticate(username, form.get("password", ""))
        if operator is None:
            store.record_login_failure(username, now)
            return _login_form(console, request, BAD_LOGIN, 401)
        store.clear_login_failures(username)
        return console.start_session(request, operator)

    @app.post("/console/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        checked = await console.require_post(request, EVERYONE)
        if isinstance(checked, Response):
            return checked
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response


def _login_form(console: Console, request: Request, error: str | None, status: int) -> Response:
    nonce = secrets.token_urlsafe(16)
    page = console.page(
        request, "login.html", None, status, error=error, csrf=console.mac("login", nonce)
    )
    page.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/console/login",
        secure=console.secure,
        httponly=True,
        samesite="strict",
    )
    return page


def _review_routes(app: FastAPI, console: Console) -> None:
    @app.get("/console", include_in_schema=False)
    async def conversations(request: Request) -> Response:
        login = console.require(request, EVERYONE)
        if not isinstance(login, Login):
            return login
        if login.operator.role not in REVIEWERS:
            return RedirectResponse("/console/queue", status_code=303)
        filters, error = _filters(request)
        found = _service(request).console.conversations(filters) if error is None else []
        status = 400 if error else 200
        query = dict(request.query_params)
        return console.page(
            request, "conversations.html", login, status, rows=found, q=query, error=error
        )

    @app.get("/console/api/conversations")
    async def conversations_api(request: Request) -> Response:
        login = console.require(request, REVIEWERS, api=True)
        if not isinstance(login, Login):
            return login
        filters, error = _filters(request)
        if error is not None:
            return _json(400, error)
        found = _service(request).console.conversations(filters)
        return JSONResponse(
            {"conversations": [_jsonable(asdict(c)) for c in found]}, headers=_HEADERS
        )

    @app.get("/console/sessions/{session_id}", include_in_schema=False)
    async def transcript_page(session_id: str, request: Request) -> Response:
        login = _may_view(console, request, session_id, api=False)
        if not isinstance(login, Login):
            return login
        context = _transcript_context(request, login, session_id, "view_transcript")
        return console.page(request, "transcript.html", login, **context)

    @app.get("/console/api/sessions/{session_id}")
    async def transcript_api(session_id: str, request: Request) -> Response:
        login = _may_view(console, request, session_id, api=True)
        if not isinstance(login, Login):
            return login
        context = _transcript_context(request, login, session_id, "api_view_transcript")
        body = {
            "conversation": context["summary"],
            "review": context["review"],
            "events": context["events"],
        }
        return JSONResponse(_jsonable(body), headers=_HEADERS)

    @app.get("/console/access-log", include_in_schema=False)
    async def access_log(request: Request) -> Response:
        login = console.require(request, frozenset({"admin"}))
        if not isinstance(login, Login):
            return login
        rows = _service(request).console.access_log()
        return console.page(request, "access_log.html", login, rows=rows)


def _may_view(
    console: Console, request: Request, session_id: str, *, api: bool
) -> Login | Response:
    """Reviewers see every conversation; agents those in the handoff queue."""
    login = console.require(request, EVERYONE, api=api)
    if not isinstance(login, Login):
        return login
    store = _service(request).console
    if store.conversation(session_id) is None:
        return _json(404, "Unknown session") if api else _not_found(console, request, login)
    if login.operator.role in REVIEWERS or store.in_queue(session_id):
        return login
    if api:
        return _json(403, "Your role may not use this")
    return console.page(request, "error.html", login, 403, message="Not in the handoff queue")


def _transcript_context(
    request: Request, login: Login, session_id: str, action: str
) -> dict[str, Any]:
    service = _service(request)
    service.console.log_access(login.operator.username, session_id, action, service.clock.now())
    summary = service.console.conversation(session_id)
    reviewer = login.operator.role in REVIEWERS
    events = transcript(service.store.audit_events(session_id), with_audit=reviewer)
    return {
        "summary": asdict(summary) if summary else {},
        "events": events,
        "reviewer": reviewer,
        "holds": summary is not None and summary.held_by == login.operator.username,
        "in_queue": service.console.in_queue(session_id),
        "review": service.console.review("conversation", session_id),
        "comment_max": REVIEW_COMMENT_MAX_CHARS,
    }


def _mark_routes(app: FastAPI, console: Console) -> None:
    """Eval review marks: compliance officers and admins approve or flag cases and chats."""

    @app.get("/console/reviews", include_in_schema=False)
    async def reviews_page(request: Request) -> Response:
        login = console.require(request, REVIEWERS)
        if not isinstance(login, Login):
            return login
        return _reviews_page(console, request, login, 200, None, {})

    @app.post("/console/reviews", include_in_schema=False)
    async def mark_case(request: Request) -> Response:
        checked = await console.require_post(request, REVIEWERS)
        if isinstance(checked, Response):
            return checked
        login, form = checked
        try:
            _add_review(request, login, "case", form.get("case_id", ""), form)
        except ReviewError as exc:
            return _reviews_page(console, request, login, 400, _sentence(exc), form)
        return RedirectResponse("/console/reviews", status_code=303)

    @app.post("/console/sessions/{session_id}/review", include_in_schema=False)
    async def mark_conversation(session_id: str, request: Request) -> Response:
        checked = await console.require_post(request, REVIEWERS)
        if isinstance(checked, Response):
            return checked
        login, form = checked
        service = _service(request)
        if service.console.conversation(session_id) is None:
            return _not_found(console, request, login)
        try:
            mark = _add_review(request, login, "conversation", session_id, form)
        except ReviewError as exc:
            context = _transcript_context(request, login, session_id, "view_transcript")
            problem = {"review_error": _sentence(exc), "review_form": form}
            return console.page(request, "transcript.html", login, 400, **problem, **context)
        action = f"review_{mark['status']}"
        service.console.log_access(login.operator.username, session_id, action, service.clock.now())
        return RedirectResponse(f"/console/sessions/{session_id}", status_code=303)


def _add_review(
    request: Request, login: Login, kind: str, target_id: str, form: dict[str, str]
) -> dict[str, Any]:
    service = _service(request)
    return service.console.add_review(
        kind,
        target_id,
        form.get("status", ""),
        form.get("comment", ""),
        login.operator.username,
        service.clock.now(),
    )


def _reviews_page(
    console: Console,
    request: Request,
    login: Login,
    status: int,
    error: str | None,
    form: dict[str, str],
) -> Response:
    rows = _service(request).console.reviews()
    return console.page(
        request,
        "reviews.html",
        login,
        status,
        rows=rows,
        error=error,
        form=form,
        comment_max=REVIEW_COMMENT_MAX_CHARS,
    )


def _sentence(error: Exception) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + "."


def _queue_routes(app: FastAPI, console: Console) -> None:
    @app.get("/console/queue", include_in_schema=False)
    async def queue(request: Request) -> Response:
        login = console.require(request, EVERYONE)
        if not isinstance(login, Login):
            return login
        service = _service(request)
        rows = service.console.queue()
        return console.page(request, "queue.html", login, rows=rows, now=service.clock.now())

    @app.get("/console/api/queue")
    async def queue_api(request: Request) -> Response:
        login = console.require(request, EVERYONE, api=True)
        if not isinstance(login, Login):
            return login
        rows = [_jsonable(asdict(e)) for e in _service(request).console.queue()]
        return JSONResponse({"queue": rows}, headers=_HEADERS)

    _action(app, console, "take", _take)
    _action(app, console, "reply", _reply)
    _action(app, console, "release", _release)


Handler = Callable[[Console, Request, Login, str, dict[str, str]], Response]


def _action(app: FastAPI, console: Console, name: str, handler: Handler) -> None:
    """``POST /console/sessions/{id}/{name}`` for agents and admins, CSRF-checked."""

    async def endpoint(session_id: str, request: Request) -> Response:
        checked = await console.require_post(request, HANDLERS)
        if isinstance(checked, Response):
            return checked
        login, form = checked
        service = _service(request)
        if service.console.conversation(session_id) is None:
            return _not_found(console, request, login)
        service.console.log_access(login.operator.username, session_id, name, service.clock.now())
        return handler(console, request, login, session_id, form)

    app.add_api_route(
        f"/console/sessions/{{session_id}}/{name}",
        endpoint,
        methods=["POST"],
        include_in_schema=False,
        name=f"console_{name}",
    )


def _take(
    console: Console, request: Request, login: Login, session_id: str, form: dict[str, str]
) -> Response:
    service = _service(request)
    if not service.console.take(session_id, login.operator, service.clock.now()):
        message = "This conversation is not waiting in the queue or is held by someone else."
        return console.page(request, "error.html", login, 409, message=message)
    return RedirectResponse(f"/console/sessions/{session_id}", status_code=303)


def _reply(
    console: Console, request: Request, login: Login, session_id: str, form: dict[str, str]
) -> Response:
    service = _service(request)
    text = form.get("text", "").strip()[: console.settings.max_message_chars]
    if not text:
        return RedirectResponse(f"/console/sessions/{session_id}", status_code=303)
    summary = service.console.conversation(session_id)
    verified = summary is not None and summary.account_id is not None
    verdict = service.guard.check(text, GuardContext(verified=verified, check_amounts=False))
    if not verdict.allowed:
        problems = [v.to_dict() for v in verdict.violations]
        blocked = {"operator": login.operator.username, "text": mask_text(text)}
        service.store.append_audit(
            session_id,
            "human_reply_blocked",
            {**blocked, "violations": problems},
            service.clock.now(),
        )
        context = _transcript_context(request, login, session_id, "view_transcript")
        return console.page(
            request, "transcript.html", login, 422, draft=text, problems=problems, **context
        )
    if not service.console.add_human_reply(session_id, login.operator, text, service.clock.now()):
        return console.page(request, "error.html", login, 409, message="You do not hold it.")
    return RedirectResponse(f"/console/sessions/{session_id}", status_code=303)


def _release(
    console: Console, request: Request, login: Login, session_id: str, form: dict[str, str]
) -> Response:
    service = _service(request)
    force = login.operator.role == "admin"
    if not service.console.release(session_id, login.operator, service.clock.now(), force=force):
        return console.page(request, "error.html", login, 409, message="You do not hold it.")
    return RedirectResponse("/console/queue", status_code=303)


def _feed_routes(app: FastAPI) -> None:
    @app.get("/api/sessions/{session_id}/messages")
    async def messages(
        session_id: str, request: Request, after: Annotated[int, Query(ge=0)] = 0
    ) -> Any:
        service = _service(request)
        if not service.session_exists(session_id):
            return _json(404, UNKNOWN_SESSION)
        client = request.client.host if request.client else "unknown"
        limiter = getattr(request.app.state, "ip_limiter", None)
        if limiter is not None and not limiter.allow(client):
            return _json(429, RATE_LIMITED)
        return {
            "messages": service.console.messages(session_id, after),
            "held_by_human": service.console.held_by(session_id) is not None,
        }


def _service(request: Request) -> ChatService:
    service: ChatService = request.app.state.service
    return service


def _json(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=_HEADERS)


def _not_found(console: Console, request: Request, login: Login) -> Response:
    return console.page(request, "error.html", login, 404, message="Unknown conversation")


async def _form(request: Request) -> dict[str, str]:
    """An url-encoded form's first values (no multipart: the console's forms are small)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _filters(request: Request) -> tuple[Filters, str | None]:
    query = request.query_params
    try:
        since = _day(query.get("from"))
        until = _day(query.get("to"))
    except ValueError:
        return Filters(), "Dates must be given as YYYY-MM-DD."
    return (
        Filters(
            account_id=(query.get("account") or "").strip().upper() or None,
            since=since,
            until=until + timedelta(days=1) if until else None,
            blocked_only=query.get("blocked") == "1",
            handoff_only=query.get("handoff") == "1",
        ),
        None,
    )


def _day(value: str | None) -> datetime | None:
    """Midnight (WIB) starting a ``YYYY-MM-DD`` day."""
    if not value:
        return None
    return datetime.combine(date.fromisoformat(value), time(0), LOCAL_TZ)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_iso))


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _wib(value: datetime | str | None) -> str:
    if isinstance(value, str):  # review marks carry ISO timestamps
        value = datetime.fromisoformat(value) if value else None
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M WIB") if value else ""


def _waited(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def transcript(events: list[dict[str, Any]], *, with_audit: bool) -> list[dict[str, Any]]:
    """A conversation's audit events as the console shows them.

    Reviewers (``with_audit``) also get each turn's blocked drafts, with every violation's
    rule, message and legal basis, and the audit record itself.
    """
    shown = []
    for event in events:
        kind = event["kind"]
        entry: dict[str, Any] = {"kind": kind, "at": event["at"]}
        if kind == "turn":
            entry |= {
                "turn": event.get("turn"),
                "input": event.get("input", ""),
                "reply": event.get("reply", ""),
                "handoff": bool(event.get("handoff")),
                "blocked": _blocked(event) if with_audit else [],
            }
        elif kind == "turn_held":
            entry["input"] = event.get("input", "")
        elif kind == "session_started":
            entry["reply"] = event.get("reply", "")
        else:
            entry["operator"] = event.get("display_name") or event.get("operator")
            entry["text"] = event.get("text", "")
        if with_audit:
            entry["record"] = event
        shown.append(entry)
    return shown


def _blocked(event: dict[str, Any]) -> list[dict[str, Any]]:
    basis = _rule_basis()
    return [
        {
            "text": draft.get("text", ""),
            "source": draft.get("source", ""),
            "violations": [
                {**v, "basis": v.get("basis") or basis.get(str(v.get("rule")), "")}
                for v in draft.get("violations", [])
            ],
        }
        for draft in event.get("drafts", [])
        if not draft.get("allowed")
    ]


@cache
def _rule_basis() -> dict[str, str]:
    """Each guardrail rule's legal basis, for violations recorded without one."""
    return {rule.id: rule.legal_basis for rule in load_catalogue().rules}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
