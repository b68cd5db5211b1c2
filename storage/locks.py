"""Cluster-wide locks: work that must happen once (the due-scan and its digests) runs in one process at a time.

PostgreSQL advisory locks are held by a connection, so a process that dies releases its lock with its
connection and the next process to try takes over at once. SQLite serves one process: always granted.
"""
from __future__ import annotations

import zlib
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """A stable 32-bit key (Python's hash() differs between processes)."""
    return zlib.crc32(name.encode("utf-8"))


@contextmanager
def cluster_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Try to take the lock without waiting: yields True when this process holds it, False when another does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()


def wait_in_transaction(executor: Connection | Session, name: str) -> None:
    """Wait until no other process's transaction holds the lock `name`, and hold it until this transaction ends
    (commit or rollback). For work every process may start at once: `mulin db upgrade`, seeding rows from the
    config. SQLite serves one process: no-op."""
    bind = executor if isinstance(executor, Connection) else executor.get_bind()
    if bind.dialect.name == "postgresql":
        executor.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
