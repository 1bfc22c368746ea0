"""The console script as a newcomer uses it: chat, token, serve over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from evals.scripted_llm import ScriptedLLM, serve_scripted

NOW = "2026-11-23T10:00:00+07:00"


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANTUN_")}
    env.pop("OPENAI_API_KEY", None)
    env.update(
        SANTUN_DATA_DIR=str(tmp_path / "data"),
        SANTUN_NOW=NOW,
        SANTUN_SECRET_KEY="cli-test",
        SANTUN_ENGINE="offline",
    )
    return env


def santun(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env_for(tmp_path),
        timeout=120,
        check=False,
    )


def test_chat_flow_in_terminal(tmp_path: Path) -> None:
    lines = [
        "saya mau cek tagihan",
        "4 digit terakhir 9054, lahir 23 November 1979",
        "berapa tagihan saya?",
        "bisa dicicil 6 bulan?",
        "oke saya ambil yang 6 bulan",
        "kirim link pembayarannya",
        "",
    ]
    result = santun(tmp_path, "chat", stdin="\n".join(lines))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Rp12.450.000" in out and "Rp2.145.000" in out and "/pay/" in out
    assert "verify_identity" in out and "create_payment_link" in out


def test_chat_with_account_starts_verified(tmp_path: Path) -> None:
    result = santun(tmp_path, "chat", "--account", "KTA-2001", stdin="berapa tunggakan saya\n")
    assert result.returncode == 0, result.stderr
    assert "Rp3.824.000" in " ".join(result.stdout.split())


def test_unknown_account_is_a_clear_error(tmp_path: Path) -> None:
    result = santun(tmp_path, "token", "CC-9999")
    assert result.returncode == 2 and "unknown account" in result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


@contextmanager
def served(env: dict[str, str]) -> Iterator[str]:
    """``santun serve`` in a subprocess; yields its base URL once ``/healthz`` answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.slow
def test_serve_over_real_http(tmp_path: Path) -> None:
    with served(env_for(tmp_path)) as base:
        sid = post(f"{base}/api/sessions", {})["session_id"]
        say = lambda text: post(f"{base}/api/sessions/{sid}/messages", {"text": text})  # noqa: E731
        assert not say("saya mau cek tagihan")["verified"]
        assert say("4 digit terakhir 9054, lahir 23 November 1979")["verified"]
        assert "Rp12.450.000" in say("berapa tagihan saya?")["reply"]
        assert "Rp2.145.000" in say("bisa dicicil 6 bulan?")["reply"]
        say("oke saya ambil yang 6 bulan")
        link = say("kirim link pembayarannya")["tool_calls"][0]["result"]
        assert link["url"].startswith(f"{base}/pay/")
        with urllib.request.urlopen(link["url"], timeout=5) as page:
            assert "Rp2.145.000" in page.read().decode()


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


@pytest.mark.slow
def test_serve_with_the_llm_engine_over_real_http(tmp_path: Path) -> None:
    llm = ScriptedLLM()
    with serve_scripted(llm) as llm_url:
        env = {**env_for(tmp_path), "SANTUN_ENGINE": "llm", "SANTUN_LLM_BASE_URL": llm_url}
        with served(env) as base:
            health = urllib.request.urlopen(f"{base}/healthz", timeout=5)
            assert json.load(health)["engine"] == "llm"
            sid = post(f"{base}/api/sessions", {})["session_id"]
            say = lambda text: post(f"{base}/api/sessions/{sid}/messages", {"text": text})  # noqa: E731
            llm.push({"content": "Mohon kirim 4 digit terakhir kartu dan tanggal lahir Anda."})
            assert not say("saya mau cek tagihan")["verified"]
            llm.push(tool("verify_identity"), {"content": "Terima kasih, Anda terverifikasi."})
            assert say("4 digit terakhir 9054, lahir 23 November 1979")["verified"]
            llm.push(tool("get_balance"), {"content": "Total tagihan Anda Rp12.450.000."})
            assert "Rp12.450.000" in say("berapa tagihan saya?")["reply"]
            llm.push(tool("list_payment_plans", tenor=6), {"content": "Cicilan Rp2.145.000/bulan."})
            plans = say("bisa dicicil 6 bulan?")
            assert "Rp2.145.000" in plans["reply"]
            offer = next(
                o["offer_id"]
                for o in plans["tool_calls"][0]["result"]["offers"]
                if o.get("tenor_months") == 6
            )
            llm.push(tool("accept_plan", offer_id=offer), {"content": "Baik, kami catat."})
            say("oke saya ambil yang 6 bulan")
            llm.push(tool("create_payment_link", offer_id=offer), {"content": "Tautan siap."})
            link = say("kirim link pembayarannya")["tool_calls"][0]["result"]
            with urllib.request.urlopen(link["url"], timeout=5) as page:
                assert "Rp2.145.000" in page.read().decode()
    assert "9054" not in json.dumps(llm.requests)
