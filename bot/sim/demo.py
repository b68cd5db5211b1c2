"""`mulin demo`: play a scenario through the simulator and real wechaty, printing the chat readably."""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from core.config import Config
from bot.sim.harness import Community
from bot.sim.scenario import Scenario

DEMO_DATABASE = Path("data/demo.db")
EVENT_NAMES = {"created": "登记", "assigned": "派单", "accepted": "接单", "resolved": "办结", "closed": "关闭",
               "transferred": "转办", "returned": "退回", "extended": "延期", "reopened": "重办",
               "merged": "合并", "supervised": "督办", "located": "补充地点", "chased": "催办", "voided": "撤销"}


class Printer:
    """Turns transcript records into lines a person can follow in a terminal."""

    def __init__(self, community: Community, out: TextIO) -> None:
        self.names = {p.id: p.name for p in community.scenario.contacts}
        self.names[community.scenario.self_.id] = community.scenario.self_.name
        self.topics = {r.id: r.topic for r in community.scenario.rooms}
        self.bot_name = community.scenario.self_.name
        self.tz = community.config.tz
        self.out = out

    def __call__(self, record: dict[str, Any]) -> None:
        at = datetime.fromisoformat(record["at"]).astimezone(self.tz).strftime("%m-%d %H:%M:%S")
        if record["type"] == "receive":
            where = f"[{self.topics.get(record['room'], record['room'])}]" if record["room"] else f"[私聊 → {self.bot_name}]"
            text = f"[图片] {record['file']}" if record.get("file") else record["text"]
            line = f"{at} {where} {self.names.get(record['from'], record['from'])}：{text}"
        elif record["type"] == "send":
            if record["room"]:
                where = f"[{self.topics.get(record['room'], record['room'])}]"
            else:
                where = f"[私聊 → {self.names.get(record['to'], record['to'])}]"
            text = record["text"].replace("\n", "\n" + " " * 16)
            line = f"{at} {where} {self.bot_name}：{text}"
        else:
            who = self.names.get(record["assignee"], record["assignee"] or "—")
            flag = " 紧急" if record["urgent"] else ""
            line = (f"{at}   ◆ 工单#{record['ticket']} {EVENT_NAMES.get(record['event'], record['event'])}"
                    f" → {record['status']}（{record['category']}{flag}，{record['location'] or '地点未知'}，负责：{who}）")
        print(line, file=self.out, flush=True)


async def run_demo(*, config: Config, scenario: Scenario, database_url: str, classifier, out: TextIO,
                   transcript: TextIO | None = None) -> Community:
    from storage import schema
    from storage.db import make_engine

    engine = make_engine(database_url)
    try:
        schema.upgrade(engine)
        async with Community(config=config, scenario=scenario, engine=engine, classifier=classifier) as community:
            community.listeners.append(Printer(community, out))
            await community.play()
        if transcript is not None:
            community.write_transcript(transcript)
        return community
    finally:
        engine.dispose()


def fresh_demo_database() -> str:
    """The demo starts from an empty SQLite file each run so ticket numbers read #1, #2..."""
    DEMO_DATABASE.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{DEMO_DATABASE}"


def play(**kwargs: Any) -> Community:
    return asyncio.run(run_demo(**kwargs))
