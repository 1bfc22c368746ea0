"""One sender at a time: a lock held for a whole ``outreach run`` pass.

A second pass started while one runs would pick up the first one's messages in flight and
send them again; WhatsApp, SMS and the web inbox drop a repeated key, SMTP cannot. The lock
dies with its process (a file lock, or a PostgreSQL session lock), so a killed sender never
leaves it behind.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

ADVISORY_KEY = 0x5A_4E_75_6E  # "SNun": the outreach sender's PostgreSQL advisory lock


class SenderBusy(RuntimeError):
    """Another outreach pass holds the sender lock."""


@contextmanager
def sender_lock(engine: Engine, data_dir: Path) -> Iterator[None]:
    """Hold the sender lock for the duration of the block.

    Raises:
        SenderBusy: another pass holds it.
    """
    if engine.dialect.name == "postgresql":
        with _advisory(engine):
            yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "outreach-sender.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SenderBusy("another outreach run is in progress") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory(engine: Engine) -> Iterator[None]:
    with engine.connect() as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if not taken.scalar():
            raise SenderBusy("another outreach run is in progress")
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            connection.commit()
