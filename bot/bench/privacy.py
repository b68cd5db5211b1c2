"""`mulin bench privacy`: the database's size per 100k group messages (80 % chatter), without and with the
retention purge, side by side.

Each complaint is a ticket with its events, an acknowledgement in the group and a notice to the grid worker; chatter
gets no reply. The purge runs as the due-scan would 31 days after the last message (chatter and sent texts past
their windows; tickets are young). Sizes after VACUUM (SQLite: the file; PostgreSQL, with --pg: every table and
index of a throwaway schema, after VACUUM FULL).
"""
from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from handlers.texts import mask
from storage import privacy, schema
from storage.db import make_engine, make_engine_in_schema, new_session, throwaway_schema
from storage.models import IncomingMessage, MessageState, OutboxMessage, OutboxState, Ticket, TicketEvent

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
CHATTER = ["今天天气真不错，下午带孩子去公园转转", "谢谢网格员，辛苦了！", "有没有人知道附近哪家菜市场的菜新鲜一点",
           "收到", "明天早上八点社区有义诊，需要的可以去看看", "哈哈哈哈", "晚上一起去跳广场舞吧，老地方见",
           "谁家的快递放错了？我这多了一个", "周末小区门口有卖草莓的，挺甜的", "好的好的，知道了"]
COMPLAINTS = ["A2和百意中间路面存在积水，下雨天根本走不了", "3号楼2单元楼道灯不亮好几天了，晚上太黑",
              "小区西门一直不开，出入很不方便，希望能开一下", "7号楼电梯又坏了，老人上下楼太难了",
              "单元门口的垃圾三天没人清了，味道很大", "下水道堵了，污水流了一地"]
BATCH = 5000


def _build(engine: Engine, messages: int, seed: int) -> None:
    rng = random.Random(seed)
    inbox, tickets, events, replies = [], [], [], []
    for n in range(messages):
        at = START + timedelta(seconds=n * 8)  # 100k messages over about nine days
        complaint = rng.random() < 0.2
        sender = f"wxid_resident{rng.randrange(3000)}"
        words = rng.choice(COMPLAINTS if complaint else CHATTER)
        ticket_id = len(tickets) + 1 if complaint else None
        inbox.append(dict(message_id=f"m{n}", fingerprint=f"{n:040x}", room_id=f"{20000 + n % 50}@chatroom",
                          room_topic=f"奎星楼社区{n % 50}号居民群", sender_id=sender, sender_name="张阿姨",
                          kind="text", text=words, sent_at=at, received_at=at, state=MessageState.PROCESSED,
                          attempts=0, ticket_id=ticket_id))
        if complaint:
            tickets.append(dict(id=ticket_id, status="closed", category="other", category_name="其他", urgent=False,
                                text=words, keywords="", reporter_id=sender, reporter_name="张阿姨",
                                source_message_id=f"m{n}", created_at=at, updated_at=at, closed_at=at,
                                room_id=f"{20000 + n % 50}@chatroom", reopen_count=0, return_count=0,
                                transfer_count=0, extension_days=0, follower_count=0, escalation_level=0))
            for kind in ("created", "assigned", "accepted", "resolved", "closed"):
                events.append(dict(ticket_id=ticket_id, kind=kind, actor_id=sender, at=at))
            for room, to in ((f"{20000 + n % 50}@chatroom", None), (None, "wxid_wangfang")):
                replies.append(dict(room_id=room, to_id=to, mentions=sender if room else "", ticket_id=ticket_id,
                                    text=f"您反映的问题已登记为工单#{ticket_id}（其他），已转第一网格网格员王芳处理，请耐心等候。",
                                    urgent=False, created_at=at, sent_at=at, state=OutboxState.SENT, attempts=1,
                                    resent=0))
    with engine.begin() as connection:
        for table, rows in ((Ticket, tickets), (IncomingMessage, inbox), (TicketEvent, events),
                            (OutboxMessage, replies)):
            for start in range(0, len(rows), BATCH):
                connection.execute(insert(table), rows[start:start + BATCH])


def _purge(engine: Engine, now: datetime) -> None:
    with new_session(engine) as session:
        for purge in (privacy.purge_chatter, privacy.purge_sent):
            while purge(session=session, before=now - timedelta(days=30), now=now, limit=BATCH):
                session.commit()
        privacy.pseudonymise_closed(session=session, before=now - timedelta(days=3 * 365), now=now, limit=BATCH,
                                    mask=mask)
        session.commit()


def _sqlite_size(engine: Engine, path: Path) -> int:
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _pg_size(engine: Engine, name: str) -> int:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM FULL"))
        return int(connection.execute(text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind = 'r'"),
            {"schema": name}).scalar())


def _measure(engine: Engine, size, messages: int, seed: int) -> tuple[int, int]:  # noqa: ANN001
    schema.build(engine)
    _build(engine, messages, seed)
    before = size(engine)
    _purge(engine, START + timedelta(seconds=messages * 8) + timedelta(days=31))
    return before, size(engine)


def bench_privacy(*, messages: int, pg_url: str | None, out: TextIO, seed: int = 7) -> int:
    per = 100_000 / messages
    rows: list[tuple[str, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="mulin-bench-privacy-") as tmp:
        path = Path(tmp) / "bench.db"
        engine = make_engine(f"sqlite:///{path}")
        rows.append(("SQLite", *_measure(engine, lambda e: _sqlite_size(e, path), messages, seed)))
        engine.dispose()
    if pg_url:
        with throwaway_schema(pg_url) as name:
            engine = make_engine_in_schema(pg_url, name)
            try:
                rows.append(("PostgreSQL", *_measure(engine, lambda e: _pg_size(e, name), messages, seed)))
            finally:
                engine.dispose()
    print(f"database size per 100,000 group messages (80 % chatter; {messages:,} built), 31 days after the last "
          "one, MB", file=out)
    print(f"{'backend':<11} {'no purge':>9} {'purged':>9} {'purged/no purge':>16}", file=out)
    for backend, before, after in rows:
        print(f"{backend:<11} {before * per / 1e6:9.1f} {after * per / 1e6:9.1f} {after / before:16.2f}", file=out)
    return 0
