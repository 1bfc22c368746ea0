"""The widget's static files, without a browser: how they are served and what they contain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.config import Settings
from agent.web.app import create_app
from agent.web.static_routes import STATIC_DIR, static_routes

WIDGET_JS = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
TEMPLATES = Path(__file__).resolve().parents[2] / "agent/engines/offline/templates.yaml"


@pytest.fixture(scope="module")
def static_client() -> Iterator[TestClient]:
    """Only the static routes, on a bare app (no service needed)."""
    app = FastAPI()
    static_routes(app)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "media_type", "marker"),
    [
        ("/", "text/html", "Bank Nusantara — Pusat Bantuan"),
        ("/widget.js", "text/javascript", "CHOICE_PHRASES"),
        ("/widget.css", "text/css", ".santun-panel"),
        ("/demo.css", "text/css", ".site-header"),
    ],
)
def test_files_are_served_with_their_types(
    static_client: TestClient, path: str, media_type: str, marker: str
) -> None:
    response = static_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    max_age = int(re.search(r"max-age=(\d+)", response.headers["cache-control"])[1])  # type: ignore[index]
    assert 0 < max_age <= 600
    assert marker in response.text
    etag = response.headers["etag"]
    assert static_client.get(path, headers={"If-None-Match": etag}).status_code == 304


def test_unknown_static_file_is_404(static_client: TestClient) -> None:
    assert static_client.get("/widget.map").status_code == 404
    assert static_client.get("/static/../app.py").status_code == 404


def test_the_app_serves_the_demo_under_a_strict_csp(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        page = client.get("/")
        assert page.status_code == 200 and 'src="/widget.js"' in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert client.get("/widget.js").headers["content-type"].startswith("text/javascript")


def _code(source: str) -> str:
    """JavaScript without its comments (the header comment names what is forbidden)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", source)


@pytest.mark.parametrize(
    "forbidden",
    [
        r"\.innerHTML",
        r"\.outerHTML",
        r"insertAdjacentHTML",
        r"document\.write",
        r"\beval\s*\(",
        r"new\s+Function\b",
        r"setTimeout\(\s*['\"]",
        r"setInterval\s*\(",
        r"createContextualFragment",
        r"DOMParser",
        r"\.style\.",
        r"\.style\s*=",
        r"setAttribute\(\s*['\"](?:on\w+|style|href|src)['\"]",
        r"\.on(?:click|error|load|keydown|submit)\s*=",
        r"javascript:",
    ],
)
def test_widget_js_never_writes_markup_or_runs_strings(forbidden: str) -> None:
    assert not re.search(forbidden, _code(WIDGET_JS)), forbidden


def test_widget_builds_links_only_after_a_protocol_check() -> None:
    code = _code(WIDGET_JS)
    assert code.count(".href =") == 2  # the stylesheet link and the payment button
    assert 'url.protocol === "http:" || url.protocol === "https:"' in code
    assert "link.href = href;" in code and "var href = safeHttpUrl(pay.url);" in code


# The SVG namespace is an identifier, never fetched.
_ALLOWED_URLS = {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("name", ["widget.js", "widget.css", "demo.html", "demo.css"])
def test_static_files_reference_no_other_host(name: str) -> None:
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)) - _ALLOWED_URLS
    assert urls == set(), urls
    assert "@import" not in text and "@font-face" not in text


def test_demo_page_has_no_inline_script_style_or_handlers() -> None:
    html = (STATIC_DIR / "demo.html").read_text(encoding="utf-8")
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/widget.js" data-api="">']
    assert not re.search(r"<style\b|\sstyle=|\son\w+=", html, re.I)
    assert '<html lang="id">' in html and 'name="viewport"' in html


def test_widget_css_is_phone_ready_and_shows_focus() -> None:
    css = (STATIC_DIR / "widget.css").read_text(encoding="utf-8")
    phone = css[css.index("@media (max-width: 480px)") :]
    assert re.search(r"\.santun-panel \{[^}]*inset: 0;[^}]*width: 100%;[^}]*height: 100%", phone)
    assert ":focus-visible" in css and "outline:" in css


def _js_object(name: str) -> dict[str, str]:
    match = re.search(rf"var {name} = (\{{.*?\}});", WIDGET_JS, re.S)
    assert match, name
    body = re.sub(r"(?m)^\s*//.*$", "", match[1])
    body = re.sub(r"(?m)^(\s*)(\w+):", r'\1"\2":', body)  # bare keys -> JSON keys
    return dict(json.loads(body))


CHOICE_PHRASES = _js_object("CHOICE_PHRASES")
FALLBACK_PHRASE = re.search(r'var FALLBACK_PHRASE = "([^"]+)";', WIDGET_JS)[1]  # type: ignore[index]


def test_widget_knows_every_plan_the_agent_can_offer() -> None:
    labels = yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))["plan_labels"]
    assert set(CHOICE_PHRASES) == set(labels)
    assert set(_js_object("PLAN_LABELS")) == set(labels)


def chip_message(offer: dict[str, Any], index: int) -> str:
    """What widget.js sends when this offer's chip is pressed (offerChips in widget.js)."""
    phrase = CHOICE_PHRASES.get(offer["plan"], FALLBACK_PHRASE)
    if "{tenor}" in phrase and not offer.get("tenor_months"):
        phrase = FALLBACK_PHRASE
    text = phrase.replace("{tenor}", str(offer.get("tenor_months"))).replace("{n}", str(index + 1))
    return " ".join(text.split())


# Accounts and questions that, between them, list every plan of the policy.
OFFER_LISTS = [
    ("CC-1002", "saya tidak sanggup bayar"),  # bayar_penuh, bayar_minimum, cicilan_tetap
    ("CC-1004", "pilihan pembayaran apa saja?"),  # restrukturisasi, pelunasan_diskon, penundaan
    ("KTA-2001", "pilihan pembayaran apa saja?"),  # bayar_tunggakan, perpanjangan_tenor
]


def test_every_chip_selects_its_own_offer(settings: Settings) -> None:
    """Each chip's text, read by the offline engine, accepts exactly the offer it shows."""
    seen: set[str] = set()
    with TestClient(create_app(settings)) as client:
        service = client.app.state.service  # type: ignore[attr-defined]

        def turn(sid: str, text: str) -> dict[str, Any]:
            response = client.post(f"/api/sessions/{sid}/messages", json={"text": text})
            assert response.status_code == 200, response.text
            return dict(response.json())

        def listed(account: str, question: str) -> tuple[str, list[dict[str, Any]]]:
            token = service.mint_session_token(account)
            sid = client.post("/api/sessions", json={"auth_token": token}).json()["session_id"]
            calls = turn(sid, question)["tool_calls"]
            plans = [c["result"] for c in calls if c["name"] == "list_payment_plans"]
            return sid, plans[0]["offers"]

        for account, question in OFFER_LISTS:
            _, offers = listed(account, question)
            for index, offer in enumerate(offers):
                sid, again = listed(account, question)
                shape = [(o["plan"], o["tenor_months"]) for o in offers]
                assert [(o["plan"], o["tenor_months"]) for o in again] == shape
                message = chip_message(again[index], index)
                accepted = [
                    c["args"].get("offer_id")
                    for c in turn(sid, message)["tool_calls"]
                    if c["name"] == "accept_plan"
                ]
                assert accepted == [again[index]["offer_id"]], (account, message)
                seen.add(offer["plan"])
    assert seen == set(CHOICE_PHRASES)
