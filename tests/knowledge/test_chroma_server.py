"""With SANTUN_CHROMA_URL set, the index lives in a Chroma server (here: one on loopback)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from knowledge.index import open_retriever


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.fail("the chroma server command is not installed with chromadb")
    port = free_port()
    server = subprocess.Popen(
        [executable, "run", "--path", str(tmp_path / "server"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("chroma server did not start")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_ingest_and_search_against_a_chroma_server(chroma_url: str, tmp_path: Path) -> None:
    retriever = open_retriever(tmp_path, chroma_url, lambda: date(2026, 11, 23))
    hits = retriever.search("debt collector boleh datang jam 9 malam?", k=3)
    assert hits[0].id == "pojk22-62-waktu-penagihan"
    assert not (tmp_path / "chroma").exists()
