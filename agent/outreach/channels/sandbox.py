"""The stand-in for a channel without an endpoint: messages go to a file, never to a person."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from agent.clock import Clock, SystemClock
from agent.outreach.channels.base import ChannelName, Delivery, OutboundMessage


class SandboxChannel:
    """Appends one JSON line per new key to ``{directory}/{name}.jsonl``.

    A repeated key (a retry, or a rerun after a crash) is answered as a duplicate and not
    written again; the keys already in the file are read back, so this holds across
    restarts too.
    """

    def __init__(self, name: ChannelName, directory: Path, *, clock: Clock | None = None) -> None:
        """Write to ``directory / f"{name}.jsonl"`` (created on first send)."""
        self.name: ChannelName = name
        self.path = directory / f"{name}.jsonl"
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._read_to = 0  # bytes of the file already scanned for keys

    def send(self, message: OutboundMessage) -> Delivery:
        """Record the message unless its key is already in the file."""
        provider_id = f"sandbox-{self.name}-{hashlib.sha256(message.key.encode()).hexdigest()[:16]}"
        with self._lock:
            self._scan()
            if message.key in self._keys:
                return Delivery(provider_id=provider_id, duplicate=True)
            record = {
                "key": message.key,
                "id": provider_id,
                "account_id": message.account_id,
                "channel": self.name,
                "address": message.address,
                "subject": message.subject,
                "text": message.text,
                "at": self._clock.now().isoformat(),
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A torn last line (a crash mid-write) must not swallow this record.
            prefix = b"" if self._ends_with_newline() else b"\n"
            with self.path.open("ab") as out:
                out.write(prefix + json.dumps(record, ensure_ascii=False).encode() + b"\n")
            self._keys.add(message.key)
            self._read_to = self.path.stat().st_size
            return Delivery(provider_id=provider_id)

    def _scan(self) -> None:
        """Learn the keys written since the last scan (by this or another process)."""
        if not self.path.exists():
            self._keys.clear()
            self._read_to = 0
            return
        with self.path.open("rb") as source:
            source.seek(self._read_to)
            chunk = source.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        for line in complete.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn line: its message counts as never sent
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                self._keys.add(record["key"])
        self._read_to += len(complete)

    def _ends_with_newline(self) -> bool:
        """True for a missing or empty file, or one whose last byte ends a line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return True
        with self.path.open("rb") as source:
            source.seek(-1, 2)
            return source.read(1) == b"\n"
