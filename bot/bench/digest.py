"""`mulin bench digest`: the daily digest over 100k tickets next to one aggregate SQL scan of the same table.

Both run on the same database, interleaved round by round, on SQLite and (with --pg URL) on PostgreSQL.
PostgreSQL runs in a schema of its own that is dropped afterwards, so any database can be used.
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from typing import TextIO

from sqlalchemy import case, func, insert, select, text

from core.config import Config
from core.workcalendar import WorkCalendar
from handlers.digest import Period, render_daily
from storage import schema
from storage.db import make_engine, make_engine_in_schema, new_session, throwaway_schema
from storage.models import Ticket, TicketEvent

NOW = (2026, 11, 24, 8, 0)  # the digest morning, in the community's zone
CATEGORIES = [("water", "供水"), ("drainage", "排水"), ("lighting", "照明"), ("elevator", "电梯"),
              ("sanitation", "环境卫生"), ("parking", "停车与充电"), ("noise", "噪音扰民"), ("property", "物业服务")]
CHUNK = 5000


def _rows(config: Config, n: int, seed: int = 7):  # noqa: ANN202
    rng = random.Random(seed)
    buildings = [(b.name, g.id, g.worker) for g in config.grids for b in g.buildings]
    tickets, events = [], []
    for i in range(1, n + 1):
        created = datetime(*NOW, tzinfo=config.tz) - timedelta(minutes=rng.randrange(60 * 24 * 90))
        building, grid, worker = rng.choice(buildings)
        category, name = rng.choice(CATEGORIES)
        fate = rng.random()
        status = "closed" if fate < 0.6 else "resolved" if fate < 0.7 else "accepted" if fate < 0.85 else "assigned"
        accepted = created + timedelta(hours=rng.uniform(0.1, 40)) if status != "assigned" else None
        resolved = accepted + timedelta(hours=rng.uniform(1, 150)) if status in ("closed", "resolved") else None
        due = created + timedelta(days=7) if status in ("accepted", "assigned") else None
        tickets.append(dict(
            id=i, status=status.upper(), category=category, category_name=name, urgent=rng.random() < 0.05,
            text=f"{building}{name}问题{i}", building=building, grid_id=grid, assignee_staff_id=worker,
            reporter_id=f"wxid_r{i % 3000}", reporter_name="居民", source_message_id=f"m{i}", keywords="",
            reopen_count=int(rng.random() < 0.03), return_count=int(rng.random() < 0.05), transfer_count=0,
            extension_days=0, follower_count=int(rng.random() < 0.2),
            rating=rng.choice(["satisfied", "satisfied", "basically", "dissatisfied", "unrated"]) if status == "closed" else None,
            assigned_at=created, accept_due_at=created + timedelta(days=1), resolve_due_at=created + timedelta(days=7),
            due_at=due, escalation_level=0, created_at=created, updated_at=resolved or accepted or created,
            accepted_at=accepted, resolved_at=resolved, closed_at=resolved if status == "closed" else None))
        events.append(dict(ticket_id=i, kind="created", actor_id="r", at=created, to_status="new"))
        events.append(dict(ticket_id=i, kind="assigned", actor_id="mulin", at=created, to_status="assigned"))
        if accepted:
            events.append(dict(ticket_id=i, kind="accepted", actor_id=worker, at=accepted, to_status="accepted"))
        if resolved:
            events.append(dict(ticket_id=i, kind="resolved", actor_id=worker, at=resolved, to_status="resolved"))
    return tickets, events


def _fill(engine, tickets: list[dict], events: list[dict]) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        for table, rows in ((Ticket.__table__, tickets), (TicketEvent.__table__, events)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[start:start + CHUNK])


def _scan(session) -> tuple:  # noqa: ANN001
    """One pass over the table with a handful of aggregates: the floor any digest query set is measured against."""
    return session.exec(select(func.count(Ticket.id), func.sum(case((Ticket.status == "CLOSED", 1), else_=0)),
                               func.max(Ticket.created_at), func.sum(Ticket.follower_count))).one()


def _measure(engine, config: Config, rounds: int) -> tuple[float, float]:  # noqa: ANN001
    calendar = WorkCalendar(tz=config.tz)
    now = datetime(*NOW, tzinfo=config.tz)
    end = now.replace(hour=0)
    period = Period(start=end - timedelta(days=1), end=end)
    digest_times, scan_times = [], []
    with new_session(engine) as session:
        render_daily(session=session, config=config, calendar=calendar, period=period, now=now)  # warm caches
        _scan(session)
        for _ in range(rounds):
            start = time.perf_counter()
            render_daily(session=session, config=config, calendar=calendar, period=period, now=now)
            digest_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            _scan(session)
            scan_times.append(time.perf_counter() - start)
    return statistics.median(digest_times), statistics.median(scan_times)


def bench_digest(*, config: Config, tickets: int, pg_url: str | None, rounds: int, out: TextIO) -> int:
    rows = _rows(config, tickets)
    print(f"{tickets} tickets, {len(rows[1])} events; median of {rounds} interleaved rounds", file=out)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        results.append(("SQLite", *_run(engine, config, rows, rounds)))
        engine.dispose()
    if pg_url:
        with throwaway_schema(pg_url) as schema:
            engine = make_engine_in_schema(pg_url, schema)
            try:
                results.append(("PostgreSQL", *_run(engine, config, rows, rounds)))
            finally:
                engine.dispose()
    print(f"{'backend':<11} {'fill s':>8} {'digest ms':>10} {'scan ms':>9} {'digest/scan':>12}", file=out)
    for name, fill, digest, scan in results:
        print(f"{name:<11} {fill:8.1f} {digest * 1000:10.1f} {scan * 1000:9.1f} {digest / scan:12.1f}", file=out)
    return 0


def _run(engine, config: Config, rows, rounds: int) -> tuple[float, float, float]:  # noqa: ANN001
    schema.build(engine)
    start = time.perf_counter()
    _fill(engine, *rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    fill = time.perf_counter() - start
    return (fill, *_measure(engine, config, rounds))
