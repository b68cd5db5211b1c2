"""`mulin run`: serve the configured groups through a real puppet-service gateway until stopped."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.app import App
from bot.clock import SHANGHAI, SystemClock
from bot.config import Config
from bot.exitcodes import EXIT_DATABASE, EXIT_GATEWAY
from bot.schedule import start_scheduler
from storage.db import DatabaseError, make_engine, mask_url

log = logging.getLogger("mulin.run")
OUTBOX_RETRY_SECONDS = 10


async def serve(*, config: Config, endpoint: str, token: str, database_url: str, classifier) -> int:
    from bot.wechaty_transport import GatewayError, WechatyTransport

    engine = make_engine(database_url)
    app = App(config=config, engine=engine, clock=SystemClock(), classifier=classifier)
    try:
        app.prepare()
    except DatabaseError as exc:
        print(f"数据库错误 (database error): {exc}", file=sys.stderr)
        return EXIT_DATABASE
    try:
        transport = WechatyTransport(endpoint=endpoint, token=token, on_message=app.on_message)
        app.sender = transport
        await transport.start()
    except GatewayError as exc:
        print(f"微信网关错误 (gateway error): {exc}", file=sys.stderr)
        return EXIT_GATEWAY
    print(f"睦邻已连接 {endpoint}（账号 {transport.self_id}），数据库 {mask_url(database_url)}；Ctrl+C 退出。", flush=True)
    await app.start()
    scheduler = start_scheduler(config, SHANGHAI, app.tick)  # due-scan each minute, digest at its time
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set() and transport.running:
            try:
                await asyncio.wait_for(stop.wait(), OUTBOX_RETRY_SECONDS)
            except asyncio.TimeoutError:
                await app.retry_unfinished()  # messages that failed are retried, then parked
                await app.flush_outbox()  # retries sends that failed earlier
    finally:
        scheduler.shutdown(wait=False)
        await app.stop()
        await transport.stop()
        engine.dispose()
    if not stop.is_set():
        print("微信网关断开了连接 (gateway closed the event stream)", file=sys.stderr)
        return EXIT_GATEWAY
    return 0
