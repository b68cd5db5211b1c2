"""`mulin sim`: the simulator alone, so `mulin run` in another process connects to it like to a real gateway.

For the crash test it outlives the bot: --sent-log appends every message the bot sent as a JSON line
(flushed at once, so it survives bot restarts), --replay re-sends recent message events to a new
connection, and SIGUSR1 cuts the bot's connection as a network failure would.
"""
from __future__ import annotations

import asyncio
import json
import signal
import sys

from bot.clock import SystemClock
from bot.exitcodes import EXIT_CONFIG
from bot.scenario import ScenarioError, load_scenario
from bot.simulator import PuppetSimulator


async def serve_simulator(*, port: int, scenario_path: str | None, step_pause: float, sent_log: str | None = None,
                          replay: float = 0, quiet: bool = False) -> int:
    try:
        scenario = load_scenario(scenario_path) if scenario_path else None
    except ScenarioError as exc:
        print(f"场景文件错误 (scenario error): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    sim = PuppetSimulator(clock=SystemClock(), **({"self_id": scenario.self_.id, "self_name": scenario.self_.name}
                                                  if scenario else {}))
    names = {}
    if scenario:
        for person in scenario.contacts:
            sim.add_contact(person.id, person.name)
            names[person.id] = person.name
        for room in scenario.rooms:
            sim.add_room(room.id, room.topic, list(room.members))
    sim.replay_seconds = replay
    if not quiet:
        sim.on_sent.append(lambda s: print(f"{s.at} bot → {s.room or names.get(s.to, s.to)}: {s.text}", flush=True))
    log_file = open(sent_log, "a", encoding="utf-8") if sent_log else None
    if log_file is not None:
        sim.on_sent.append(lambda s: (log_file.write(json.dumps({"id": s.id, **s.as_record()}, ensure_ascii=False)
                                                     + "\n"), log_file.flush()))
    await sim.start(port=port)
    print(f"模拟网关监听 127.0.0.1:{sim.port}；请在另一个终端运行："
          f"WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:{sim.port} mulin run", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, sim.drop_connections)
    if scenario:
        await sim.wait_connected(timeout=3600)
        for step in scenario.steps:
            if step.rename is not None:
                sim.rename(step.rename, step.to)
            elif step.wait is None:
                sender = step.sender or step.dm
                if not quiet:
                    print(f"{names.get(sender, sender)} → {step.room or 'bot'}: {step.text}", flush=True)
                await sim.push_message(sender=sender, text=step.text, room=step.room, message_id=step.id,
                                       kind=step.kind)
            await asyncio.sleep(step_pause)  # a real clock: waits are not simulated here
        print("场景播放完毕；Ctrl+C 退出。", flush=True)
    await stop.wait()
    await sim.stop()
    if log_file is not None:
        log_file.close()
    return 0
