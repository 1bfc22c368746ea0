"""``kill -9`` of the sender mid-send, then a restart: every message arrives, none twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from evals.fake_provider import read_log, serve_fake_provider_process

NOW = "2026-11-26T19:30:00+07:00"  # CC-1005 and KTA-2001 are due by WhatsApp


def env_for(tmp_path: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANTUN_")}
    env.update(
        SANTUN_DATA_DIR=str(tmp_path / "data"),
        SANTUN_NOW=NOW,
        SANTUN_SECRET_KEY="crash-test",
        SANTUN_WHATSAPP_API_URL=url,
        SANTUN_SMS_API_URL=url + "/sms",
    )
    return env


def statuses(tmp_path: Path) -> dict[str, str]:
    with sqlite3.connect(tmp_path / "data" / "santun.db") as db:
        return dict(db.execute("select key, status from outreach_messages").fetchall())


@pytest.mark.slow
def test_sender_killed_mid_send_delivers_everything_once_after_restart(tmp_path: Path) -> None:
    log = tmp_path / "provider.jsonl"
    with serve_fake_provider_process(log) as url:
        env = env_for(tmp_path, url)
        slow = json.dumps({"count": 1, "seconds": 60}).encode()
        request = urllib.request.Request(url + "/_fake/slow", data=slow, method="POST")
        urllib.request.urlopen(request, timeout=5).close()
        command = [sys.executable, "-m", "agent.cli", "outreach", "run", "--json"]
        sender = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while not read_log(log) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert read_log(log), "the provider never got the first message"
        os.kill(sender.pid, signal.SIGKILL)  # the provider has it; the sender never heard back
        sender.communicate(timeout=30)
        assert list(statuses(tmp_path).values()).count("sending") == 1

        restarted = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        report = json.loads(restarted.stdout)
        received = read_log(log)

    final = statuses(tmp_path)
    whatsapp = {k for k in final if k.startswith(("CC-1005", "KTA-2001"))}
    assert len(whatsapp) == 2 and all(final[k] == "sent" for k in whatsapp)
    assert report["duplicates"] == 1  # the resent first message was recognised by its key
    keys = [r["key"] for r in received]
    assert sorted(keys) == sorted(whatsapp)  # every due message, each exactly once
    per_debtor = [(r["to"], r["text"]) for r in received]
    assert len(per_debtor) == len(set(per_debtor))
