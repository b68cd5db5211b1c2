"""`mulin bench scale`: complaints handled per second by one process and by two processes on one PostgreSQL.

Each process is a real `App` for its own bot account (own engine, own connections) running the real intake
path for every message: the inbox insert, classification, the ticket with its events and deadlines, the
outbox rows, one commit each. Only the wechaty link is left out, so the figure is what the shared database
lets through. In the two-process run each process takes half of the groups' messages (a street splits its
groups among accounts). Rounds alternate one and two processes, each in a fresh throwaway schema.
"""
from __future__ import annotations

import multiprocessing
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import yaml

from storage.db import make_engine_in_schema, throwaway_schema
from storage.schema import build as build_schema

TEMPLATES = ["{b}楼道灯不亮了", "{b}门口垃圾没人清，味道很大", "{b}下水道堵了污水冒出来", "{b}电梯又坏了",
             "{b}楼下路面积水好几天了", "{b}有人飞线充电太危险", "{b}楼上装修噪音太大", "{b}暖气不热"]
CHATTER = ["好的谢谢", "收到", "明天几点开会", "大家早上好", "辛苦了"]


def _messages(config_data: dict, n: int, seed: int = 11) -> list[dict]:
    """Half complaints about varied buildings, half chatter, spread over the configured groups."""
    rng = random.Random(seed)
    buildings = [b if isinstance(b, str) else b["name"] for g in config_data["grids"] for b in g.get("buildings", [])]
    rooms = [g["room"] for g in config_data["groups"]]
    start = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        room = rooms[i % len(rooms)]
        body = rng.choice(TEMPLATES).format(b=rng.choice(buildings)) if i % 2 == 0 else rng.choice(CHATTER)
        out.append(dict(id=f"bench-{i}", room=room, sender=f"wxid_r{rng.randrange(500)}", text=body,
                        at=(start + timedelta(seconds=i)).isoformat()))
    return out


def _worker(config_path: str, account: str, pg_url: str, schema: str, messages: list[dict], barrier, results) -> None:
    """One process: load everything, wait for the others, then handle its share and report its timing."""
    import classifier as clf
    from bot.app import App
    from core.clock import SystemClock
    from core.config import load_config
    from core.types import Incoming
    from storage import inbox
    from storage.db import new_session

    config = load_config(config_path)
    engine = make_engine_in_schema(pg_url, schema)
    app = App(config=config, engine=engine, clock=SystemClock(config.tz), classifier=clf.load(config), account=account)
    app.prepare()
    incoming = [Incoming(id=m["id"], sender_id=m["sender"], sender_name="居民", text=m["text"],
                         at=datetime.fromisoformat(m["at"]), room_id=f"{m['room']}@chatroom", room_topic=m["room"])
                for m in messages]
    barrier.wait()
    began = time.perf_counter()
    for msg in incoming:
        with new_session(engine) as session:
            inbox.record_incoming(session=session, msg=msg, now=app.clock.now(), owner=account)
        app.process(msg)
    results.put((account, began, time.perf_counter()))
    engine.dispose()


def _round(config_path: str, pg_url: str, messages: list[dict], processes: int) -> float:
    """Messages per second over the wall time from the first start to the last finish."""
    with throwaway_schema(pg_url, "mulin_scale") as schema:
        engine = make_engine_in_schema(pg_url, schema)
        build_schema(engine)
        engine.dispose()
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(processes), ctx.Queue()
        shares = [messages[i::processes] for i in range(processes)]
        workers = [ctx.Process(target=_worker, args=(config_path, f"bench{i}", pg_url, schema, share, barrier, results))
                   for i, share in enumerate(shares)]
        for w in workers:
            w.start()
        timings = [results.get(timeout=600) for _ in workers]
        for w in workers:
            w.join()
        return len(messages) / (max(t[2] for t in timings) - min(t[1] for t in timings))


def bench_scale(*, config_path: Path, pg_url: str, messages: int, rounds: int, out: TextIO, tmp: Path) -> int:
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data["accounts"] = [{"name": "bench0"}, {"name": "bench1"}]  # both serve every group; each gets half the stream
    bench_config = tmp / "bench-scale.yaml"
    bench_config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    stream = _messages(data, messages)
    one, two = [], []
    for _ in range(rounds):
        one.append(_round(str(bench_config), pg_url, stream, 1))
        two.append(_round(str(bench_config), pg_url, stream, 2))
    m1, m2 = statistics.median(one), statistics.median(two)
    print(f"{messages} messages (half complaints) through the full intake path on PostgreSQL; "
          f"median of {rounds} interleaved rounds", file=out)
    print(f"{'processes':<10} {'msg/s':>8}  rounds", file=out)
    print(f"{'1':<10} {m1:8.1f}  {' '.join(f'{r:.0f}' for r in one)}", file=out)
    print(f"{'2':<10} {m2:8.1f}  {' '.join(f'{r:.0f}' for r in two)}", file=out)
    print(f"two/one: {m2 / m1:.2f}x (this machine has {multiprocessing.cpu_count()} cores)", file=out)
    return 0
