"""`mulin sim`: the simulator alone, so `mulin run` in another process connects to it like to a real gateway."""
from __future__ import annotations

import asyncio
import signal
import sys

from bot.clock import SystemClock
from bot.exitcodes import EXIT_CONFIG
from bot.scenario import ScenarioError, load_scenario
from bot.simulator import PuppetSimulator


async def serve_simulator(*, port: int, scenario_path: str | None, step_pause: float) -> int:
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
    sim.on_sent.append(lambda s: print(f"{s.at} bot → {s.room or names.get(s.to, s.to)}: {s.text}", flush=True))
    await sim.start(port=port)
    print(f"模拟网关监听 127.0.0.1:{sim.port}；请在另一个终端运行："
          f"WECHATY_PUPPET_SERVICE_ENDPOINT=127.0.0.1:{sim.port} mulin run", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if scenario:
        await sim.wait_connected(timeout=3600)
        for step in scenario.steps:
            if step.rename is not None:
                sim.rename(step.rename, step.to)
            elif step.wait is None:
                sender = step.sender or step.dm
                print(f"{names.get(sender, sender)} → {step.room or 'bot'}: {step.text}", flush=True)
                await sim.push_message(sender=sender, text=step.text, room=step.room, message_id=step.id,
                                       kind=step.kind)
            await asyncio.sleep(step_pause)  # a real clock: waits are not simulated here
        print("场景播放完毕；Ctrl+C 退出。", flush=True)
    await stop.wait()
    await sim.stop()
    return 0
