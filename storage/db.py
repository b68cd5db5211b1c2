"""Engines and sessions. Nothing is created at import time: callers build an engine from a URL."""
from __future__ import annotations

import importlib
import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from storage import models  # noqa: F401 - registers the tables on SQLModel.metadata


class DatabaseError(RuntimeError):
    """The database cannot be used; the message names the (masked) URL."""


def mask_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):([^@]+)@", r"://\1:***@", url)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            path = url.split("sqlite:///", 1)[-1]
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL keeps commits atomic; fsync at checkpoints
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def run(session: Session, statement, params: dict):  # noqa: ANN001,ANN201
    """A statement built once (of columns, not entities) run with `params` on the session's connection: a fraction
    of an ORM query's cost. The session's pending changes are flushed first, as before an ORM query."""
    session.flush()
    return session.connection().execute(statement, params)


def make_engine_in_schema(url: str, schema: str) -> Engine:
    """An engine whose tables live in `schema` of a PostgreSQL database (benchmarks use throwaway schemas)."""
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@contextmanager
def throwaway_schema(url: str, prefix: str = "mulin_bench") -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards, so a benchmark can use any database without harm."""
    name = f"{prefix}_{secrets.randbelow(10**9)}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    try:
        yield name
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
        admin.dispose()


def dialect_insert(dialect: str):
    """sqlite's or postgresql's insert (with ON CONFLICT), imported on first use: a SQLite start need not import
    the PostgreSQL dialect (~0.03 s)."""
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
