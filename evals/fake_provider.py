"""A fake WhatsApp Cloud API and SMS provider on loopback, for tests, evals and demos.

``POST /{phone_number_id}/messages`` takes a Cloud API text message and ``POST /sms`` a
generic SMS (``{"to", "text", "reference"}``). Both de-duplicate by the ``Idempotency-Key``
header as a careful gateway does: a repeated key is answered with the first message's id
(WhatsApp: header ``Idempotent-Replayed: true``; SMS: ``"duplicate": true``) and is not
recorded again. Two control routes let another process steer it: ``POST /_fake/fail``
(``{"count": n, "status": 503, "accept": false}``), ``POST /_fake/slow``
(``{"count": n, "seconds": s}``: accept, then hold the answer) and ``GET /_fake/received``.

Run it in a thread with :func:`serve_fake_provider`, or as its own process (it then
outlives a crashing sender) with :func:`serve_fake_provider_process` or
``python -m evals.fake_provider --port N --log FILE``; every accepted message is appended to
the log as one JSON line, which :func:`read_log` reads back.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from evals.server_process import serve_process

__all__ = [
    "FakeProvider",
    "read_log",
    "serve_fake_provider",
    "serve_fake_provider_process",
]

Answer = tuple[int, dict[str, str], dict[str, Any]]
_DIGITS = re.compile(r"\d{6,15}")


def read_log(path: Path) -> list[dict[str, Any]]:
    """The messages a provider process accepted, in order (a torn last line is skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def _graph_error(status: int, message: str, code: int = 100) -> Answer:
    return status, {}, {"error": {"message": message, "type": "OAuthException", "code": code}}


class FakeProvider:
    """The provider's state: what it accepted, every request, and the faults to inject.

    Attributes:
        received: Every accepted message, once per idempotency key: dicts with
            ``channel``, ``to``, ``text``, ``key`` and ``id``.
        requests: Every request, duplicates and failures included: ``method``, ``path``,
            ``headers`` (lower-case names), ``body`` (JSON or None) and ``status``.
    """

    def __init__(
        self,
        *,
        phone_number_id: str = "santun-demo",
        token: str | None = None,
        sms_api_key: str | None = None,
        log_path: Path | None = None,
    ) -> None:
        """Configure the fake.

        Args:
            phone_number_id: The WhatsApp sender id in the message path.
            token: When given, WhatsApp requests must carry ``Bearer <token>``.
            sms_api_key: When given, SMS requests must carry ``Bearer <key>``.
            log_path: Append each accepted message here as a JSON line; keys already in
                the file count as accepted, so a restarted provider still de-duplicates.
        """
        self.phone_number_id = phone_number_id
        self._auth = {"whatsapp": token, "sms": sms_api_key}
        self._log_path = log_path
        self._lock = threading.Lock()
        self._failures: list[tuple[int, bool]] = []
        self._delays: list[float] = []
        self.received: list[dict[str, Any]] = read_log(log_path) if log_path else []
        self.requests: list[dict[str, Any]] = []
        self._by_key = {r["key"]: r for r in self.received if r.get("key")}

    def fail_next(self, count: int, status: int = 503, *, accept: bool = False) -> None:
        """Answer the next ``count`` message requests with ``status``.

        With ``accept=True`` each message is accepted first and only the answer fails, as
        when a response is lost on the way back: the sender cannot tell it was delivered.
        """
        with self._lock:
            self._failures.extend([(status, accept)] * count)

    def slow_next(self, count: int, seconds: float) -> None:
        """Accept the next ``count`` messages at once but answer each ``seconds`` later.

        A sender killed while it waits has handed the message over without learning so.
        """
        with self._lock:
            self._delays.extend([seconds] * count)

    def delay_for(self, path: str) -> float:
        """How long to hold the answer to a message request that was just handled."""
        with self._lock:
            is_message = path.endswith("/messages") or path.split("?", 1)[0] == "/sms"
            return self._delays.pop(0) if is_message and self._delays else 0.0

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Answer one request: status, extra headers and a JSON body."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            answer = self._route(method, path.split("?", 1)[0], headers, body)
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "headers": headers,
                    "body": body,
                    "status": answer[0],
                }
            )
            return answer

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> Answer:
        if (method, path) == ("GET", "/_fake/received"):
            return 200, {}, {"received": self.received}
        if (method, path) == ("POST", "/_fake/fail") and isinstance(body, dict):
            fault = (int(body.get("status", 503)), bool(body.get("accept", False)))
            self._failures.extend([fault] * int(body.get("count", 1)))
            return 200, {}, {"failing": len(self._failures)}
        if (method, path) == ("POST", "/_fake/slow") and isinstance(body, dict):
            self._delays.extend([float(body.get("seconds", 1))] * int(body.get("count", 1)))
            return 200, {}, {"slow": len(self._delays)}
        channel = {f"/{self.phone_number_id}/messages": "whatsapp", "/sms": "sms"}.get(path)
        if method != "POST" or channel is None:
            return _graph_error(404, f"Unknown path components: {path}", 2500)
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None and not failure[1]:
            return _graph_error(failure[0], "Injected failure", 2)
        expected = self._auth[channel]
        if expected and headers.get("authorization") != f"Bearer {expected}":
            return _graph_error(401, "Invalid OAuth access token.", 190)
        message = _whatsapp(body) if channel == "whatsapp" else _sms(body)
        if isinstance(message, str):
            return _graph_error(400, message)
        answer = self._accept(channel, message, headers.get("idempotency-key"))
        return answer if failure is None else _graph_error(failure[0], "Injected failure", 2)

    def _accept(self, channel: str, message: dict[str, Any], key: str | None) -> Answer:
        """Record a new key (or a message without one); answer a known key as before."""
        record = self._by_key.get(key) if key else None
        duplicate = record is not None
        if record is None:
            prefix = "wamid.FAKE" if channel == "whatsapp" else "sms-"
            number = len(self.received) + 1
            record = {"channel": channel, **message, "id": f"{prefix}{number}"}
            record["key"] = key or message["key"]  # the echoed key, when no header came
            self.received.append(record)
            if key:
                self._by_key[key] = record
            if self._log_path is not None:
                with self._log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(record, ensure_ascii=False) + "\n")
        if channel == "sms":
            return 200, {}, {"id": record["id"], "duplicate": duplicate}
        replayed = {"Idempotent-Replayed": "true"} if duplicate else {}
        to = record["to"]
        body = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": record["id"]}],
        }
        return 200, replayed, body


def _whatsapp(body: Any) -> dict[str, Any] | str:
    """The recipient and text of a Cloud API text message, or why it is refused."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required."
    if body.get("type") != "text":
        return "(#100) Only text messages are supported by this fake."
    text = body.get("text")
    to = body.get("to")
    if not isinstance(to, str) or not _DIGITS.fullmatch(to):
        return "(#100) Invalid parameter: to"
    if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
        return "(#100) The parameter text['body'] is required."
    return {"to": to, "text": text["body"], "key": body.get("biz_opaque_callback_data")}


def _sms(body: Any) -> dict[str, Any] | str:
    """The recipient and text of a generic SMS request, or why it is refused."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    to, text = body.get("to"), body.get("text")
    if not isinstance(to, str) or not _DIGITS.fullmatch(to):
        return "to must be 6 to 15 digits"
    if not isinstance(text, str) or not text:
        return "text is required"
    return {"to": to, "text": text, "key": body.get("reference")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: FakeProvider


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms stalls on small responses
    timeout = 10
    server: _Server

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; the requests are recorded on the provider."""

    def _answer(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, body = self.server.provider.handle(method, self.path, headers, raw)
        time.sleep(self.server.provider.delay_for(self.path))
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        for name, value in {**extra, "Content-Type": "application/json"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve_fake_provider(
    provider: FakeProvider, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve ``provider`` in a background thread; yield its base URL.

    Use the URL as ``whatsapp_api_url`` and the URL plus ``/sms`` as ``sms_api_url``.
    """
    server = _Server((host, port), _Handler)
    server.provider = provider
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_fake_provider_process(
    log_path: Path, *, port: int = 0, phone_number_id: str = "santun-demo"
) -> Iterator[str]:
    """Serve a fake provider from its own process; yield its base URL.

    The process survives whatever happens to the caller's workers (``kill -9`` of a
    sender); read what it accepted with :func:`read_log` on ``log_path``.

    Raises:
        RuntimeError: If the process does not report its address.
    """
    command = [sys.executable, "-m", "evals.fake_provider", "--port", str(port)]
    command += ["--log", str(log_path), "--phone-number-id", phone_number_id]
    with serve_process(command, "fake provider") as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    """``python -m evals.fake_provider [--port N] [--log FILE] [--phone-number-id ID]``.

    Prints the base URL, then serves until standard input closes.
    """
    parser = argparse.ArgumentParser(prog="python -m evals.fake_provider")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--log", type=Path, help="append accepted messages as JSON lines")
    parser.add_argument("--phone-number-id", default="santun-demo")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    provider = FakeProvider(phone_number_id=args.phone_number_id, log_path=args.log)
    with serve_fake_provider(provider, port=args.port) as url:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        sys.stdin.read()


if __name__ == "__main__":
    main()
