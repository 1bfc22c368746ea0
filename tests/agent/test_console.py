"""The compliance console and the human-handoff queue, through the real app."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.clock import Clock
from agent.config import Settings
from agent.engines.base import Draft, TextSink
from agent.engines.offline.engine import OfflineEngine
from agent.state import AgentState
from agent.web.app import create_app
from agent.web.console import console_routes
from guardrails.catalogue import load_catalogue
from tests.agent.test_cli import santun

THREAT = "Kalau tidak bayar hari ini, Anda akan dipenjara."
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ThreatOnCueEngine(OfflineEngine):
    """Drafts a threat first when the debtor writes "ancam"; regenerates honestly."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.drafts = 0

    async def draft(self, state: AgentState, on_text: TextSink | None = None) -> Draft:
        self.drafts += 1
        blocked = sum(1 for d in state.get("drafts", []) if not d["allowed"])
        if "ancam" in state.get("user_text", "") and blocked == 0:
            return Draft(text=THREAT, source="test:threat")
        return await super().draft({**state, "feedback": []})  # type: ignore[typeddict-item]


def console_app(settings: Settings) -> FastAPI:
    app = create_app(settings, ThreatOnCueEngine)
    if not any(getattr(r, "path", None) == "/console/login" for r in app.routes):
        console_routes(app, settings)
    return app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(console_app(settings), follow_redirects=False) as test_client:
        store = test_client.app.state.service.console  # type: ignore[attr-defined]
        now = test_client.app.state.service.clock.now()  # type: ignore[attr-defined]
        for username, role in (("cora", "compliance"), ("agus", "agent"), ("adi", "admin")):
            store.add_operator(username, role, PASSWORD, username.title(), now)
        store.add_operator("budi", "agent", PASSWORD, "Budi Santoso", now)
        yield test_client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/console/login")
    token = CSRF.search(page.text)
    assert token is not None
    form = {"username": username, "password": password, "csrf_token": token.group(1)}
    return client.post("/console/login", data=form)


def csrf_of(client: TestClient) -> str:
    page = client.get("/console/queue")
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def second_browser(client: TestClient) -> TestClient:
    """Another browser (its own cookie jar) on the same running app."""
    return TestClient(client.app, follow_redirects=False)


def new_session(client: TestClient, token: str | None = None) -> str:
    body = {"auth_token": token} if token else {}
    return str(client.post("/api/sessions", json=body).json()["session_id"])


def say(client: TestClient, sid: str, text: str) -> dict[str, Any]:
    answer = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def feed(client: TestClient, sid: str, after: int = 0) -> dict[str, Any]:
    response = client.get(f"/api/sessions/{sid}/messages", params={"after": after})
    assert response.status_code == 200, response.text
    return dict(response.json())


def audit_kinds(client: TestClient, sid: str) -> list[str]:
    events = client.app.state.service.store.audit_events(sid)  # type: ignore[attr-defined]
    return [e["kind"] for e in events]


def test_login_and_logout(client: TestClient) -> None:
    assert client.get("/console").status_code == 303
    assert client.get("/console").headers["location"] == "/console/login"
    assert client.get("/console/queue").headers["location"] == "/console/login"
    assert client.get("/console/api/conversations").status_code == 401
    signed_in = sign_in(client, "cora")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "santun_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/console")
    assert page.status_code == 200 and "Cora (compliance)" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/console/static/console.css").status_code == 200
    out = client.post("/console/logout", data={"csrf_token": csrf_of(client)})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert client.get("/console").status_code == 303
    assert client.get("/console/api/conversations").status_code == 401


def test_failed_logins_are_generic_and_throttled(client: TestClient) -> None:
    unknown = sign_in(client, "nobody", "whatever-password")
    wrong = sign_in(client, "agus", "wrong-password")
    for response in (unknown, wrong):
        assert response.status_code == 401
        assert "Invalid username or password" in response.text
    for _ in range(4):
        assert sign_in(client, "agus", "wrong-password").status_code == 401
    throttled = sign_in(client, "agus")  # the right password no longer helps
    assert throttled.status_code == 429 and "santun_console=" not in throttled.headers.get(
        "set-cookie", ""
    )
    assert sign_in(client, "budi").status_code == 303  # other users are not affected


def test_posts_need_the_csrf_token(client: TestClient) -> None:
    no_form = client.post(
        "/console/login", data={"username": "cora", "password": PASSWORD, "csrf_token": "x"}
    )
    assert no_form.status_code == 403
    sign_in(client, "agus")
    sid = new_session(client)
    say(client, sid, "hubungkan ke petugas")
    assert client.post(f"/console/sessions/{sid}/take").status_code == 403
    assert (
        client.post(f"/console/sessions/{sid}/take", data={"csrf_token": "0" * 64}).status_code
        == 403
    )
    assert client.post("/console/logout", data={}).status_code == 403
    assert client.get("/console/queue").status_code == 200  # still signed in
    assert feed(client, sid)["held_by_human"] is False


def test_roles(client: TestClient) -> None:
    sid = new_session(client)
    say(client, sid, "halo")
    sign_in(client, "agus")
    assert client.get("/console/access-log").status_code == 403
    assert client.get("/console").headers["location"] == "/console/queue"
    assert client.get("/console/api/conversations").status_code == 403
    assert client.get(f"/console/sessions/{sid}").status_code == 403  # not in the queue
    assert client.get(f"/console/api/sessions/{sid}").status_code == 403
    compliance = second_browser(client)
    sign_in(compliance, "cora")
    assert compliance.get("/console/access-log").status_code == 403
    assert compliance.get(f"/console/sessions/{sid}").status_code == 200
    say(compliance, sid, "hubungkan ke petugas")
    taking = compliance.post(f"/console/sessions/{sid}/take", data={"csrf_token": "x"})
    assert taking.status_code == 403  # compliance reviews; it does not chat
    assert client.get(f"/console/sessions/{sid}").status_code == 200  # now in the queue


def test_conversation_filters(client: TestClient) -> None:
    token = client.app.state.service.mint_session_token("CC-1003")  # type: ignore[attr-defined]
    verified = new_session(client, token)
    say(client, verified, "tagihan saya berapa")
    plain = new_session(client)
    say(client, plain, "halo")
    threatened = new_session(client)
    say(client, threatened, "tolong jangan ancam saya")
    handed = new_session(client)
    say(client, handed, "hubungkan ke petugas")
    sign_in(client, "cora")

    def listed(**query: str) -> set[str]:
        response = client.get("/console/api/conversations", params=query)
        assert response.status_code == 200, response.text
        return {c["session_id"] for c in response.json()["conversations"]}

    everyone = {verified, plain, threatened, handed}
    assert listed() == everyone
    assert listed(account="cc-1003") == {verified}
    assert listed(blocked="1") == {threatened}
    assert listed(handoff="1") == {handed}
    assert listed(**{"from": "2026-11-23", "to": "2026-11-23"}) == everyone
    assert listed(**{"from": "2026-11-24"}) == set()
    assert listed(to="2026-11-22") == set()
    assert client.get("/console/api/conversations", params={"from": "kemarin"}).status_code == 400
    page = client.get("/console", params={"blocked": "1"})
    assert threatened in page.text and plain not in page.text


def test_transcript_shows_blocked_draft_next_to_sent_reply(client: TestClient) -> None:
    sid = new_session(client)
    answer = say(client, sid, "tolong jangan ancam saya")
    assert answer["guardrail"]["drafts_blocked"] == 1
    sign_in(client, "cora")
    page = client.get(f"/console/sessions/{sid}")
    assert page.status_code == 200
    rule = next(r for r in load_catalogue().rules if r.id == "G02")
    text = page.text
    assert "G02" in text and html.escape(rule.legal_basis) in text
    assert html.escape(answer["guardrail"]["violations"][0]["message"]) in text
    assert html.escape(THREAT) in text and html.escape(answer["reply"]) in text
    assert "<details" in text and "&#34;guard_version&#34;" in text  # the audit record
    api = client.get(f"/console/api/sessions/{sid}").json()
    turn = next(e for e in api["events"] if e["kind"] == "turn")
    assert turn["reply"] == answer["reply"]
    assert turn["blocked"][0]["violations"][0]["basis"] == rule.legal_basis
    client.post("/console/logout", data={"csrf_token": csrf_of(client)})
    sign_in(client, "adi")
    log = client.get("/console/access-log")
    assert log.status_code == 200
    assert log.text.count(sid) == 2
    assert "view_transcript" in log.text and "api_view_transcript" in log.text
    assert "cora" in log.text


def test_debtor_html_is_escaped_in_the_console(client: TestClient) -> None:
    sid = new_session(client)
    say(client, sid, "<script>alert('x')</script> <b>halo</b>")
    sign_in(client, "cora")
    page = client.get(f"/console/sessions/{sid}").text
    assert "<script>alert" not in page and "<b>halo" not in page
    assert "&lt;script&gt;alert" in page


def taken_by_agus(client: TestClient) -> tuple[str, str]:
    """A conversation handed over and taken by agent Agus; returns (session id, CSRF token)."""
    sid = new_session(client)
    asked = say(client, sid, "hubungkan ke petugas")
    assert asked["handoff"] and not feed(client, sid)["held_by_human"]
    sign_in(client, "agus")
    queue = client.get("/console/queue")
    assert sid in queue.text and "waiting since" in queue.text and "0 min" in queue.text
    assert client.get("/console/api/queue").json()["queue"][0]["session_id"] == sid
    token = csrf_of(client)
    taken = client.post(f"/console/sessions/{sid}/take", data={"csrf_token": token})
    assert taken.status_code == 303 and feed(client, sid)["held_by_human"]
    return sid, token


def test_human_agent_takes_and_replies(client: TestClient) -> None:
    sid, token = taken_by_agus(client)
    other = second_browser(client)
    sign_in(other, "budi")
    other_token = csrf_of(other)
    stolen = other.post(f"/console/sessions/{sid}/take", data={"csrf_token": other_token})
    assert stolen.status_code == 409
    barged = other.post(
        f"/console/sessions/{sid}/reply", data={"csrf_token": other_token, "text": "halo"}
    )
    assert barged.status_code == 409

    human = "Selamat siang Bapak/Ibu, saya Agus dari Bank Nusantara. Ada yang bisa saya bantu?"
    sent = client.post(f"/console/sessions/{sid}/reply", data={"csrf_token": token, "text": human})
    assert sent.status_code == 303
    threat = client.post(
        f"/console/sessions/{sid}/reply", data={"csrf_token": token, "text": THREAT}
    )
    assert threat.status_code == 422 and "G02" in threat.text  # the guardrail checks humans too
    messages = feed(client, sid)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "agent"]
    assert messages[-1]["text"] == human and THREAT not in str(messages)
    assert [m["seq"] for m in messages] == sorted({m["seq"] for m in messages})
    kinds = audit_kinds(client, sid)
    assert "human_taken" in kinds and "human_reply" in kinds and "human_reply_blocked" in kinds
    page = client.get(f"/console/sessions/{sid}").text
    assert "Agus (human agent)" in page and html.escape(human) in page


def test_bot_is_silent_while_held_and_resumes_after_release(client: TestClient) -> None:
    sid, token = taken_by_agus(client)
    seen = feed(client, sid)["messages"][-1]["seq"]
    turns_before = audit_kinds(client, sid).count("turn")
    drafts_before = client.app.state.service.engine.drafts  # type: ignore[attr-defined]
    text = "baik, saya mau tanya soal tagihan"
    quiet = client.post(
        f"/api/sessions/{sid}/messages", json={"text": text, "client_message_id": "m1"}
    ).json()
    assert quiet["reply"] == "" and quiet["handoff"] is True
    assert set(quiet) == {"reply", "verified", "tool_calls", "citations", "guardrail", "handoff"}
    again = client.post(
        f"/api/sessions/{sid}/messages", json={"text": text, "client_message_id": "m1"}
    ).json()
    assert again == quiet and audit_kinds(client, sid).count("turn_held") == 1
    assert audit_kinds(client, sid).count("turn") == turns_before
    assert client.app.state.service.engine.drafts == drafts_before  # type: ignore[attr-defined]
    newer = feed(client, sid, after=seen)["messages"]
    assert [(m["role"], m["text"]) for m in newer] == [("user", text)]

    released = client.post(f"/console/sessions/{sid}/release", data={"csrf_token": token})
    assert released.status_code == 303 and not feed(client, sid)["held_by_human"]
    assert sid not in client.get("/console/queue").text
    back = say(client, sid, "halo")
    assert back["reply"] and audit_kinds(client, sid).count("turn") == turns_before + 1
    assert feed(client, sid)["messages"][-1] == {
        **feed(client, sid)["messages"][-1],
        "role": "assistant",
        "text": back["reply"],
    }


def test_messages_feed_of_unknown_session(client: TestClient) -> None:
    response = client.get("/api/sessions/nope/messages")
    assert response.status_code == 404 and "Sesi" in response.json()["detail"]


def test_operator_cli(tmp_path: Path) -> None:
    added = santun(
        tmp_path, "operator", "add", "sari", "--role", "compliance", stdin=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    duplicate = santun(tmp_path, "operator", "add", "sari", "--role", "agent", stdin=PASSWORD)
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    short = santun(tmp_path, "operator", "add", "tono", "--role", "agent", stdin="pendek\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    role = santun(tmp_path, "operator", "add", "tono", "--role", "boss", stdin=PASSWORD)
    assert role.returncode == 2 and "unknown role" in role.stderr
    listed = santun(tmp_path, "operator", "list")
    assert listed.returncode == 0 and listed.stdout.split("\t")[:2] == ["sari", "compliance"]
    assert "tono" not in listed.stdout


def review_csrf(client: TestClient) -> str:
    page = client.get("/console/reviews")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def test_compliance_flags_a_conversation(client: TestClient, settings: Settings) -> None:
    sid = new_session(client)
    say(client, sid, "halo")
    sign_in(client, "cora")
    page = client.get(f"/console/sessions/{sid}")
    assert "not reviewed" in page.text and f'action="/console/sessions/{sid}/review"' in page.text
    comment = "Reply repeats the amount twice;\r\nplease check the template."
    form = {"csrf_token": csrf_of(client), "status": "flagged", "comment": comment}
    marked = client.post(f"/console/sessions/{sid}/review", data=form)
    assert marked.status_code == 303 and marked.headers["location"] == f"/console/sessions/{sid}"
    page = client.get(f"/console/sessions/{sid}")
    assert "not reviewed" not in page.text
    assert "flagged</span> by cora" in page.text
    assert "Reply repeats the amount twice;\nplease check the template." in page.text
    api = client.get(f"/console/api/sessions/{sid}").json()
    assert api["review"]["status"] == "flagged" and api["review"]["reviewer"] == "cora"
    store = client.app.state.service.console  # type: ignore[attr-defined]
    log = [(r["operator"], r["action"]) for r in store.access_log() if r["session_id"] == sid]
    assert ("cora", "review_flagged") in log
    listing = client.get("/console/reviews")
    assert sid in listing.text and "conversation" in listing.text
    assert 'href="/console/reviews"' in listing.text  # the nav link
    assert client.post("/console/sessions/nope/review", data=form).status_code == 404


def test_agents_may_not_review(client: TestClient) -> None:
    sid = new_session(client)
    say(client, sid, "hubungkan ke petugas")  # in the queue, so Agus may read it
    sign_in(client, "agus")
    token = csrf_of(client)
    assert 'href="/console/reviews"' not in client.get("/console/queue").text
    page = client.get(f"/console/sessions/{sid}")
    assert page.status_code == 200 and "/review" not in page.text
    assert client.get("/console/reviews").status_code == 403
    case = {"csrf_token": token, "case_id": "offline:x-1", "status": "approved", "comment": ""}
    assert client.post("/console/reviews", data=case).status_code == 403
    chat = {"csrf_token": token, "status": "approved", "comment": ""}
    assert client.post(f"/console/sessions/{sid}/review", data=chat).status_code == 403
    assert client.app.state.service.console.reviews() == []  # type: ignore[attr-defined]


def test_review_input_is_checked(client: TestClient) -> None:
    sid = new_session(client)
    say(client, sid, "halo")
    sign_in(client, "adi")
    token = review_csrf(client)
    store = client.app.state.service.console  # type: ignore[attr-defined]
    for case_id in ("", "ab", "offline:case one", "x" * 121, "offline:<b>"):
        form = {"csrf_token": token, "case_id": case_id, "status": "approved", "comment": ""}
        bad = client.post("/console/reviews", data=form)
        assert bad.status_code == 400, case_id
        assert "Invalid eval case id: use 3-120 characters" in bad.text
    form = {"csrf_token": token, "case_id": "offline:a-1", "status": "ok", "comment": ""}
    assert (
        "Choose a status: approved or flagged." in client.post("/console/reviews", data=form).text
    )
    long = {"csrf_token": token, "status": "approved", "comment": "x" * 2001}
    too_long = client.post(f"/console/sessions/{sid}/review", data=long)
    assert too_long.status_code == 400 and "at most 2000 are allowed" in too_long.text
    assert "x" * 2001 in too_long.text  # the officer's text is kept for editing
    assert store.reviews() == []
    fits = {**long, "comment": "y\r\n" * 1000}  # CRLF counts as one character, as in the form
    assert client.post(f"/console/sessions/{sid}/review", data=fits).status_code == 303


def test_review_posts_need_the_csrf_token(client: TestClient) -> None:
    sid = new_session(client)
    say(client, sid, "halo")
    sign_in(client, "cora")
    case = {"case_id": "offline:coop-cc1003-cicilan-6", "status": "approved", "comment": ""}
    assert client.post("/console/reviews", data=case).status_code == 403
    wrong = client.post("/console/reviews", data={**case, "csrf_token": "0" * 64})
    assert wrong.status_code == 403 and "Invalid CSRF token" in wrong.text
    chat = {"status": "flagged", "comment": "x"}
    assert client.post(f"/console/sessions/{sid}/review", data=chat).status_code == 403
    assert client.app.state.service.console.reviews() == []  # type: ignore[attr-defined]


def test_review_comments_are_escaped(client: TestClient) -> None:
    sid = new_session(client)
    say(client, sid, "halo")
    sign_in(client, "cora")
    comment = "<script>alert(1)</script> & <b>bold</b>"
    token = csrf_of(client)
    chat = {"csrf_token": token, "status": "flagged", "comment": comment}
    assert client.post(f"/console/sessions/{sid}/review", data=chat).status_code == 303
    case = {"csrf_token": token, "case_id": "offline:a-1", "status": "approved", "comment": comment}
    assert client.post("/console/reviews", data=case).status_code == 303
    for page in (client.get(f"/console/sessions/{sid}").text, client.get("/console/reviews").text):
        assert "<script>alert" not in page and "<b>bold" not in page
        assert html.escape(comment) in page


def test_export_reviews_gives_the_latest_mark_per_target(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    from agent.storage.console import export_reviews

    url = settings.resolved_database_url()
    assert export_reviews(url) == []  # the table exists, no rows
    sid = new_session(client)
    say(client, sid, "halo")
    sign_in(client, "cora")
    token = review_csrf(client)
    case_id = "offline:coop-cc1003-cicilan-6"
    for status, comment in (("approved", "fine"), ("flagged", "Hubungi 081234567890 lagi")):
        form = {"csrf_token": token, "case_id": case_id, "status": status, "comment": comment}
        assert client.post("/console/reviews", data=form).status_code == 303
    chat = {"csrf_token": token, "status": "approved", "comment": ""}
    assert client.post(f"/console/sessions/{sid}/review", data=chat).status_code == 303
    exported = export_reviews(url)
    assert [(m["target_kind"], m["target_id"], m["status"]) for m in exported] == [
        ("conversation", sid, "approved"),
        ("case", case_id, "flagged"),
    ]
    case = exported[1]
    assert case["reviewer"] == "cora" and case["comment"] == "Hubungi [telepon] lagi"
    assert datetime.fromisoformat(case["at"]) == settings.now
    store = client.app.state.service.console  # type: ignore[attr-defined]
    assert [m["target_id"] for m in store.reviews("case")] == [case_id]
    later = settings.now + timedelta(minutes=5)
    store.add_review("case", "offline:b-2", "approved", "", "adi", later)
    assert [m["target_id"] for m in export_reviews(url)][:1] == ["offline:b-2"]  # newest first

    missing = tmp_path / "elsewhere" / "none.db"
    assert export_reviews(f"sqlite:///{missing}") == [] and not missing.exists()
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).close()  # a database without the console's tables
    assert export_reviews(f"sqlite:///{bare}") == []


def test_purged_conversations_lose_their_marks(client: TestClient, settings: Settings) -> None:
    store = client.app.state.service.console  # type: ignore[attr-defined]
    now = settings.now
    store.add_review("conversation", "sess-old-1", "flagged", "quoted the debtor", "cora", now)
    store.add_review("conversation", "sess-new-2", "approved", "", "cora", now)
    store.add_review("case", "sess-old-1", "approved", "same id, other kind", "cora", now)
    assert store.purge_sessions(["sess-old-1"])["reviews"] == 1
    left = {(m["target_kind"], m["target_id"]) for m in store.reviews()}
    assert left == {("conversation", "sess-new-2"), ("case", "sess-old-1")}
