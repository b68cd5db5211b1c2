"""Start to ready: `mulin run` from process start to its first reply, next to a bare python-wechaty client.

Both are fresh processes against the same simulator; the clock runs from Popen until the simulator records
the first message the process sent in answer to a resident's message, pushed as soon as the process opened
its event stream. The bare client is stock python-wechaty (its Wechaty facade): it connects and answers the first
message. mulin talks to the same python-wechaty-puppet-service client without the facade, and also loads its config
and a new database, and its classifier on a thread meanwhile (one interpreter lock: it overlaps the waits, not the
work). Rounds are interleaved; the median counts.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from core.config import Config
from bot.sim.simulator import PuppetSimulator

ROOM = "30001@chatroom"
TARGET = 1.5

BARE_CLIENT = """
import asyncio, socket, sys
from wechaty_puppet.schemas import puppet as schema
schema.PuppetOptions.__hash__ = object.__hash__  # python-wechaty 0.10.7 on Python 3.11 needs this to import
from wechaty import Wechaty, WechatyOptions
from wechaty_puppet import PuppetOptions

async def main():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bot = Wechaty(WechatyOptions(puppet="wechaty-puppet-service", host="127.0.0.1", port=port,
                                 puppet_options=PuppetOptions(end_point=sys.argv[1], token="insecure_bare")))
    async def on_message(msg):
        await msg.say("收到")
    bot.on("message", on_message)
    await bot.start()

asyncio.run(main())
"""


async def _time_to_first_reply(sim: PuppetSimulator, argv: list[str], env: dict[str, str], cwd: Path) -> float:
    before = len(sim.sent)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await sim.wait_connected(timeout=120)
        await sim.push_message(sender="wxid_r0", text="3号楼2单元楼道灯不亮了", room=ROOM)
        while len(sim.sent) == before:
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[1:4]} exited with {proc.returncode} before answering")
            await asyncio.sleep(0.005)
        return time.perf_counter() - started
    finally:
        proc.terminate()
        while proc.poll() is None:
            await asyncio.sleep(0.02)
        while sim._streams:  # the closed stream leaves the simulator before the next round connects
            await asyncio.sleep(0.02)


async def _bench(config: Config, config_path: str | None, rounds: int, out: TextIO) -> float:
    root = Path(__file__).resolve().parents[2]  # the checkout, where `python -m bot.cli` and config.yaml are
    sim = PuppetSimulator()
    sim.add_contact("wxid_r0", "居民0")
    sim.add_room(ROOM, config.groups[0].room, ["wxid_r0"])
    await sim.start()
    endpoint = f"127.0.0.1:{sim.port}"
    env = {**os.environ, "WECHATY_LOG": "error", "WECHATY_PUPPET_SERVICE_ENDPOINT": endpoint,
           "WECHATY_PUPPET_SERVICE_TOKEN": "insecure_bench", "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "true"}
    bare, mulin = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(rounds):
                bare.append(await _time_to_first_reply(sim, [sys.executable, "-c", BARE_CLIENT, endpoint], env, root))
                run = [sys.executable, "-m", "bot.cli", "run", *(["--config", str(Path(config_path).resolve())] if config_path else [])]
                mulin.append(await _time_to_first_reply(
                    sim, run, {**env, "MULIN_DATABASE_URL": f"sqlite:///{tmp}/start-{r}.db"}, root))
                print(f"start round {r + 1}: bare python-wechaty {bare[-1]:5.2f} s   mulin run {mulin[-1]:5.2f} s   "
                      f"ratio {mulin[-1] / bare[-1]:.2f}", file=out, flush=True)
    finally:
        await sim.stop()
    ratio = statistics.median(m / b for m, b in zip(mulin, bare))
    print(f"  start to first reply: bare python-wechaty {statistics.median(bare):.2f} s, mulin run "
          f"{statistics.median(mulin):.2f} s (config, new database, connect; classifier on a thread)", file=out)
    print(f"  ratio mulin/bare = {ratio:.2f}   (target <= {TARGET})", file=out)
    return ratio


def bench_start(*, config: Config, config_path: str | None, out: TextIO, rounds: int = 3) -> float:
    return asyncio.run(_bench(config, config_path, rounds, out))
