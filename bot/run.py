"""`mulin run`: serve the configured groups through a real puppet-service gateway until stopped.

A lost gateway link is reconnected with capped exponential backoff (config wechat.reconnect_max_seconds);
by default the bot never gives up, and with wechat.give_up_minutes > 0 it exits with code 3 after that
long without a link, so a supervisor (systemd, docker) restarts it and an operator is alerted.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from concurrent.futures import Future
from dataclasses import replace

from bot.app import App
from bot.backoff import Backoff
from core.clock import SystemClock
from core.config import Config
from bot.exitcodes import EXIT_CONFIG, EXIT_DATABASE, EXIT_GATEWAY, EXIT_SCHEMA
from storage.db import DatabaseError, make_engine, mask_url
from storage.schema import SchemaError

log = logging.getLogger("mulin.run")
OUTBOX_RETRY_SECONDS = 10
# the sweeps after a restart (what fell due while down, a missed digest) wait this long: the messages that arrived
# during the restart are handled first (measured 2026-12-06: the start-up sweep was ~0.08 s of the 0.9 s to the
# first reply)
CATCH_UP_SECONDS = 3.0


async def serve(*, config: Config, endpoint: str, token: str, database_url: str, classifier,
                account: str | None = None) -> int:
    """`classifier`: the classifier, or a Future of it still loading; then messages that arrive while it loads
    are stored at once and handled when it is there."""
    from bot.wechat.transport import GatewayError, WechatyTransport

    loading = classifier if isinstance(classifier, Future) else None
    engine = make_engine(database_url)
    app = App(config=config, engine=engine, clock=SystemClock(config.tz), classifier=None if loading else classifier,
              account=account)
    try:
        app.prepare()
    except DatabaseError as exc:
        print(f"数据库错误 (database error): {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except SchemaError as exc:
        print(exc, file=sys.stderr)
        return EXIT_SCHEMA
    try:
        transport = WechatyTransport(endpoint=endpoint, token=token, on_message=app.on_message,
                                     tls=config.wechat.tls, watchdog_seconds=config.wechat.watchdog_seconds,
                                     on_link=app.link_changed)
        app.sender = transport
        await transport.start()
        app.link_changed(True, wechat_id=transport.self_id)
    except GatewayError as exc:
        print(f"微信网关错误 (gateway error): {exc}", file=sys.stderr)
        return EXIT_GATEWAY
    metrics = _serve_metrics(config, app)
    serving = f"，服务账号 {account}" if account else ""
    print(f"睦邻已连接 {endpoint}（账号 {transport.self_id}{serving}），数据库 {mask_url(database_url)}；Ctrl+C 退出。",
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # watched from the start: the link may drop while a long backlog is handled below
    gateway = asyncio.create_task(transport.keep_connected(
        stop, backoff=Backoff(cap=config.wechat.reconnect_max_seconds),
        give_up_seconds=config.wechat.give_up_minutes * 60), name="gateway")
    catch_up = None
    schedulers: list = []  # the scheduler, once the catch-up started it
    stopping = asyncio.ensure_future(stop.wait())
    try:
        if loading is not None:
            try:
                app.deps = replace(app.deps, classifier=await asyncio.wrap_future(loading))
            except Exception as exc:  # noqa: BLE001 - e.g. a broken rules file: nothing can be handled
                print(f"分类器加载失败 (classifier failed to load): {exc!r}", file=sys.stderr)
                return EXIT_CONFIG
        frozen = _start_done()
        await app.start(catch_up=False)
        catch_up = asyncio.create_task(_catch_up(app, config, schedulers, frozen), name="mulin-catch-up")
        while not stop.is_set() and not gateway.done():
            await asyncio.wait({gateway, stopping}, timeout=OUTBOX_RETRY_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set() or gateway.done():
                break
            try:
                app.heartbeat()  # the other processes take over this account's work when it stops
                await app.retry_unfinished()  # messages that failed are retried, then parked
                await app.flush_outbox()  # retries sends that failed earlier
            except Exception:  # noqa: BLE001 - e.g. the database is down: log, keep serving, try again next round
                log.exception("periodic work failed; retrying in %s s", OUTBOX_RETRY_SECONDS)
    finally:
        stop.set()
        await asyncio.wait({gateway}, timeout=1)
        gateway.cancel()  # a reconnect in progress is abandoned
        if catch_up is not None:
            catch_up.cancel()
        for scheduler in schedulers:
            scheduler.shutdown(wait=False)
        await app.stop()
        await transport.stop()
        if metrics is not None:
            metrics.close()
        engine.dispose()
    error = gateway.exception() if gateway.done() and not gateway.cancelled() else None
    if error is not None:
        print(f"微信网关错误 (gateway error): {error}", file=sys.stderr)
        return EXIT_GATEWAY
    return 0


def _start_done() -> bool:
    """`mulin run` starts with Python's cyclic garbage collector off (bot.cli): its collections over the growing
    heap were ~0.2 s of the start's CPU (measured 2026-12-06). Once the classifier is loaded, what the start built
    (modules, config, classifier) is frozen out of later collections, as it lives as long as the process, and
    collection is on again. True when it was frozen."""
    if gc.isenabled():
        return False
    gc.freeze()
    gc.enable()
    return True


async def _catch_up(app: App, config: Config, schedulers: list, frozen: bool) -> None:
    """CATCH_UP_SECONDS after the start: the start's own cyclic garbage (frozen with the rest) is collected, the
    scheduler starts (APScheduler is imported only now) and the sweeps run once for whatever fell due meanwhile; a
    scan or digest due before that is sent by this first one."""
    await asyncio.sleep(CATCH_UP_SECONDS)
    if frozen:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    from bot.schedule import start_scheduler

    schedulers.append(start_scheduler(config, config.tz, app.tick))  # due-scan each minute, digest at its time
    await app.tick()


def _serve_metrics(config: Config, app: App):  # noqa: ANN202
    """Prometheus metrics on `health.metrics_host:metrics_port` (off at port 0)."""
    if not config.health.metrics_port:
        return None
    from bot.metrics import Metrics

    metrics = Metrics(app.engine)
    try:
        port = metrics.serve(config.health.metrics_host, config.health.metrics_port)
    except OSError as exc:  # the bot serves residents without its metrics rather than not at all
        print(f"指标端口无法监听 (metrics port unavailable): {config.health.metrics_host}:{config.health.metrics_port}: "
              f"{exc}", file=sys.stderr)
        return None
    app.metrics = metrics
    app.ticket_observers.append(metrics.on_ticket_event)
    log.info("Prometheus metrics on http://%s:%d/metrics", config.health.metrics_host, port)
    return metrics
