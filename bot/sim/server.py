"""`mulin sim`: the simulator alone, so `mulin run` in another process connects to it like to a real gateway.

Like a real gateway it drops what residents post while no bot is connected. For the crash test it outlives
the bot: --sent-log appends every message the bot sent as a JSON line (flushed at once, so it survives bot
restarts), --buffer keeps events for the next connection and --replay re-sends recent message events to a new
connection (a kinder gateway than the real one, explicitly), and SIGUSR1 cuts the bot's connection as a
network failure would. It serves plaintext gRPC: `mulin run` against it needs wechat.tls: false or
WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true, and any token.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import signal
import sys
from datetime import datetime, timedelta, timezone

from core.clock import SystemClock
from bot.exitcodes import EXIT_CONFIG
from bot.sim.scenario import ScenarioError, Step, load_scenario
from bot.sim.simulator import PuppetSimulator, SimWorld


REAL_WAIT_MAX = timedelta(minutes=1)  # longer waits are only played by `mulin demo`, on a simulated clock
SKIP_REASON = "真实时钟不能快进，也不能让另一个进程里的机器人停机；要完整播放请用 mulin demo"


def _unplayable(step: Step) -> str | None:
    """The step as written in the scenario, when a real clock and a separate bot process cannot play it."""
    if step.offline is not None:
        return f"{{offline: {step.offline}}}"
    if step.wait is not None and step.delay > REAL_WAIT_MAX:
        return f"{{wait: {step.wait}}}"
    return None


async def serve_simulator(*, port: int, scenario_path: str | None, step_pause: float, sent_log: str | None = None,
                          replay: float = 0, quiet: bool = False, accounts: int = 1, buffer: bool = False) -> int:
    """accounts > 1: that many bot accounts, each with its own gateway (port, port+1, ... or random ports
    for 0), all in every scenario group, as several `mulin run --account` processes would connect."""
    try:
        scenario = load_scenario(scenario_path) if scenario_path else None
    except ScenarioError as exc:
        print(f"场景文件错误 (scenario error): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    self_id, self_name = (scenario.self_.id, scenario.self_.name) if scenario else ("wxid_mulin", "睦邻助手")
    world = SimWorld(SystemClock(timezone.utc))
    gateways = [PuppetSimulator(self_id=self_id if n == 0 else f"{self_id}_{n + 1}", self_name=self_name, world=world)
                for n in range(accounts)]
    sim = gateways[0]
    names = {}
    if scenario:
        for person in scenario.contacts:
            sim.add_contact(person.id, person.name)
            names[person.id] = person.name
        for room in scenario.rooms:
            world.add_room(room.id, room.topic, [*(g.self_id for g in gateways), *room.members])
    for gateway in gateways:
        gateway.replay_seconds = replay
        gateway.buffer = buffer
    if not quiet:
        sim.on_sent.append(lambda s: print(f"{s.at} {s.by} → {s.room or names.get(s.to, s.to)}: {s.text}", flush=True))
    log_file = open(sent_log, "a", encoding="utf-8") if sent_log else None
    if log_file is not None:
        sim.on_sent.append(lambda s: (log_file.write(json.dumps({"id": s.id, "by": s.by, **s.as_record()},
                                                                ensure_ascii=False)
                                                     + "\n"), log_file.flush()))
    for n, gateway in enumerate(gateways):
        await gateway.start(port=port + n if port else 0)
        if accounts > 1:
            print(f"账号 {gateway.self_id} 的网关：127.0.0.1:{gateway.port}", flush=True)
    print(f"模拟网关监听 127.0.0.1:{sim.port}；请在另一个终端运行："
          f"WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:{sim.port} WECHATY_PUPPET_SERVICE_TOKEN=insecure_sim "
          "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true mulin run", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, lambda: [g.drop_connections() for g in gateways])
    if scenario:
        skipped = {n: why for n, step in enumerate(scenario.steps, 1) if (why := _unplayable(step))}
        if skipped:
            print(f"提示：mulin sim 按真实时间播放，跳过以下 {len(skipped)} 步（{SKIP_REASON}）："
                  + "；".join(f"第{n}步 {why}" for n, why in skipped.items()), flush=True)
        run = f"{datetime.now():%Y%m%d%H%M%S}{secrets.token_hex(2)}"  # ids unique per run, on any database
        for gateway in gateways:
            await gateway.wait_connected(timeout=3600)
        for n, step in enumerate(scenario.steps, 1):
            if n in skipped:
                print(f"跳过第{n}步 {skipped[n]}", flush=True)
            elif step.rename is not None:
                sim.rename(step.rename, step.to)
            elif step.wait is not None:
                await asyncio.sleep(step.delay.total_seconds())
            else:
                sender, file = step.sender or step.dm, step.file
                text = file[0] if file else step.text
                if not quiet:
                    print(f"{names.get(sender, sender)} → {step.room or 'bot'}: {'[图片] ' if file else ''}{text}",
                          flush=True)
                await world.push_message(sender=sender, text=text, room=step.room,
                                         message_id=step.id or world.new_id(f"msg-in-{run}-"),
                                         kind="image" if file else step.kind, to=None if step.room else sim.self_id,
                                         file=file)
            await asyncio.sleep(step_pause)
        print("场景播放完毕；Ctrl+C 退出。", flush=True)
    await stop.wait()
    for gateway in gateways:
        await gateway.stop()
    if log_file is not None:
        log_file.close()
    return 0
