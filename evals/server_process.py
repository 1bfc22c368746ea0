"""Run a loopback test server in its own process: it prints its URL, stops when stdin closes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serve_process(command: list[str], name: str) -> Iterator[str]:
    """Start ``command``, yield the base URL it prints first, and stop it afterwards.

    The server process outlives whatever happens to the caller's workers (a benchmark's
    interpreter lock, a sender killed with ``kill -9``).

    Raises:
        RuntimeError: If the process does not report its address.
    """
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdin is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"{name} process did not start")
        yield url
    finally:
        if process.stdin is not None:
            process.stdin.close()  # the server exits when its stdin closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
