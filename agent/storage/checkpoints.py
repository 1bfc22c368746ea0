"""LangGraph checkpoints: SQLite written inline from async code, or PostgreSQL.

``AsyncSqliteSaver`` hops to a worker thread for every read and write; for a local SQLite
file in WAL mode each operation takes well under a millisecond, so the hop costs more than
the work (measured: ~4 ms per turn). This saver runs the synchronous ``SqliteSaver``
methods directly, the same way the rest of the storage layer uses SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver


class InlineSqliteSaver(SqliteSaver):
    """A SQLite checkpointer whose async API calls the sync one in place."""

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[InlineSqliteSaver]:
        """Open (and create) the checkpoint database at ``path`` in WAL mode."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(str(path), check_same_thread=False, timeout=30)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            saver = cls(conn)
            saver.setup()
            yield saver

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Read the latest (or the given) checkpoint."""
        return self.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """List checkpoints."""
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Write a checkpoint."""
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Write pending writes of a task."""
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete a conversation's checkpoints (retention)."""
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        """Delta-channel history, through the sync fast path."""
        return self.get_delta_channel_history(config=config, channels=channels)


def postgres_url(database_url: str | None) -> str | None:
    """The libpq URL of a PostgreSQL ``SANTUN_DATABASE_URL``, or None for SQLite."""
    if not database_url:
        return None
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url.removeprefix(prefix)
    return None


@asynccontextmanager
async def open_checkpointer(
    database_url: str | None, sqlite_path: Path
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Checkpoints next to the data: PostgreSQL when the database is, else a SQLite file."""
    url = postgres_url(database_url)
    if url is None:
        with InlineSqliteSaver.open(sqlite_path) as saver:
            yield saver
        return
    async with AsyncPostgresSaver.from_conn_string(url) as postgres:
        await postgres.setup()
        yield postgres


def delete_threads(database_url: str | None, sqlite_path: Path, thread_ids: list[str]) -> None:
    """Delete conversations' checkpoints (retention purge), wherever they are kept."""
    url = postgres_url(database_url)
    if url is None:
        with InlineSqliteSaver.open(sqlite_path) as saver:
            for thread_id in thread_ids:
                saver.delete_thread(thread_id)
        return
    with PostgresSaver.from_conn_string(url) as postgres:
        postgres.setup()
        for thread_id in thread_ids:
            postgres.delete_thread(thread_id)
