"""`mulin bench e2e`: messages/s through real wechaty + the simulator, the real bot beside a bot that only echoes.

Both run in the same process, interleaved round by round, so a noisy machine slows both alike; the
ratio is the number to read.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from typing import TextIO

from core.config import Config
from bot.sim.harness import Community
from bot.sim.scenario import parse_scenario
from core.types import Incoming, Outgoing

ROOM = "30001@chatroom"
STREAM = ["A2和百意中间路面存在积水", "好的谢谢", "3号楼2单元楼道灯不亮了", "今晚几点停电通知看到了吗",
          "[红包]恭喜发财，大吉大利", "暖气不热，屋里才十五度", "收到", "东苑小区北门垃圾好几天没人清了",
          "明天几点开会", "辛苦了👍"]


def _scenario(config: Config):
    topic = config.groups[0].room
    return parse_scenario({
        "start": datetime(2026, 11, 23, 9, 0, tzinfo=config.tz),
        "contacts": [{"id": f"wxid_r{i}", "name": f"居民{i}"} for i in range(10)]
        + [{"id": s.wechat_id, "name": s.name} for s in config.staff if s.wechat_id],
        "rooms": [{"id": ROOM, "topic": topic, "members": [f"wxid_r{i}" for i in range(10)]}],
    })


async def _echo_round(community: Community, n: int) -> float:
    """The same simulator and wechaty path; the handler only sends the text back."""
    transport = community.transport
    done: asyncio.Queue[str] = asyncio.Queue()

    async def echo(msg: Incoming) -> None:
        await transport.send(Outgoing(text=msg.text, room_id=msg.room_id))
        done.put_nowait(msg.id)

    transport.on_message = echo
    start = time.perf_counter()
    for i in range(n):
        await community.sim.push_message(sender=f"wxid_r{i % 10}", text=STREAM[i % len(STREAM)], room=ROOM)
        await asyncio.wait_for(done.get(), 30)
    return n / (time.perf_counter() - start)


async def _bot_round(community: Community, n: int) -> float:
    community.transport.on_message = community.app.on_message
    start = time.perf_counter()
    for i in range(n):
        await community.post(ROOM, f"wxid_r{i % 10}", STREAM[i % len(STREAM)])
    return n / (time.perf_counter() - start)


async def _bench(config: Config, classifier, messages: int, rounds: int, out: TextIO) -> float:
    from storage.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        async with Community(config=config, scenario=_scenario(config), engine=engine,
                             classifier=classifier) as community:
            community.records.clear()
            community.app.ticket_observers.clear()
            echo, bot = [], []
            for r in range(rounds):
                echo.append(await _echo_round(community, messages))
                bot.append(await _bot_round(community, messages))
                print(f"round {r + 1}: echo {echo[-1]:7.1f} msg/s   mulin {bot[-1]:7.1f} msg/s   "
                      f"ratio {bot[-1] / echo[-1]:.2f}", file=out, flush=True)
            replies = len(community.sim.sent)
        engine.dispose()
    ratio = statistics.median(b / e for b, e in zip(bot, echo))
    print(f"\nmedian over {rounds} rounds of {messages} messages (10-message mix, 50% complaints):", file=out)
    print(f"  echo bot   {statistics.median(echo):7.1f} msg/s  (wechaty + simulator, 1 reply per message)", file=out)
    print(f"  mulin bot  {statistics.median(bot):7.1f} msg/s  (store, classify, ticket, outbox, replies + DMs)", file=out)
    print(f"  ratio mulin/echo = {ratio:.2f}   (target >= 0.70)   messages sent by the gateway: {replies}", file=out)
    return ratio


def bench_e2e(*, config: Config, classifier, messages: int, out: TextIO, rounds: int = 3,
              config_path: str | None = None) -> int:
    """Throughput next to an echo bot, then start-to-ready next to a bare python-wechaty client, in one run."""
    from bot.bench.start import TARGET, bench_start

    ratio = asyncio.run(_bench(config, classifier, messages, rounds, out))
    print(file=out)
    start_ratio = bench_start(config=config, config_path=config_path, out=out, rounds=rounds)
    print(f"\nside by side: throughput {ratio:.2f}x the echo bot (target >= 0.70), "
          f"start to ready {start_ratio:.2f}x bare python-wechaty (target <= {TARGET})", file=out)
    return 0 if ratio >= 0.7 and start_ratio <= TARGET else 1
