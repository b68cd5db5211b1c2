"""`mulin bench schema`: what a fresh database at head costs, built three ways, side by side.

create_all alone (what tests did before migrations), create_all + stamp (schema.build, what tests do now), and
the real migrations (schema.upgrade). Rounds are interleaved; SQLite files in a temporary directory and, with
--pg URL, PostgreSQL in a schema of its own per build, dropped afterwards.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import schema
from storage.db import make_engine, make_engine_in_schema, throwaway_schema

WAYS: dict[str, Callable[[Engine], object]] = {
    "create_all": SQLModel.metadata.create_all,
    "build": schema.build,
    "upgrade": schema.upgrade,
}


def _sqlite_once(build: Callable[[Engine], object]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        build(engine)
        took = time.perf_counter() - start
        engine.dispose()
    return took


def _pg_once(url: str, build: Callable[[Engine], object]) -> float:
    with throwaway_schema(url) as name:
        engine = make_engine_in_schema(url, name)
        try:
            start = time.perf_counter()
            build(engine)
            return time.perf_counter() - start
        finally:
            engine.dispose()


def bench_schema(*, pg_url: str | None, rounds: int, out: TextIO) -> int:
    backends: dict[str, Callable[[Callable[[Engine], object]], float]] = {"SQLite": _sqlite_once}
    if pg_url:
        backends["PostgreSQL"] = lambda build: _pg_once(pg_url, build)
    print(f"a fresh database at head ({schema.head()}), median of {rounds} interleaved rounds, ms", file=out)
    print(f"{'backend':<11} " + " ".join(f"{way:>11}" for way in WAYS)
          + f" {'build/c_a':>10} {'upgrade/c_a':>12}", file=out)
    for backend, once in backends.items():
        times: dict[str, list[float]] = {way: [] for way in WAYS}
        for _ in range(rounds):
            for way, build in WAYS.items():
                times[way].append(once(build))
        ms = {way: statistics.median(t) * 1000 for way, t in times.items()}
        print(f"{backend:<11} " + " ".join(f"{ms[way]:11.1f}" for way in WAYS)
              + f" {ms['build'] / ms['create_all']:10.2f} {ms['upgrade'] / ms['create_all']:12.2f}", file=out)
    return 0
