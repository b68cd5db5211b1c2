"""`mulin run` connects while its classifier still loads: what arrives meanwhile is stored at once, handled later."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future

from sqlmodel import select

from bot.exitcodes import EXIT_CONFIG
from bot.run import serve
from bot.sim.simulator import PuppetSimulator
from storage.db import new_session
from storage.models import IncomingMessage, MessageState

ROOM = "30001@chatroom"


async def _until(condition, timeout: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def _states(engine) -> list[MessageState]:  # noqa: ANN001
    with new_session(engine) as session:
        return list(session.exec(select(IncomingMessage.state)))


async def _with_gateway(config, database_url, loading: Future, story) -> int | None:  # noqa: ANN001
    """Serve a simulated gateway while `story` runs; serve's exit code, or None when it was still serving."""
    sim = PuppetSimulator()
    sim.add_contact("wxid_r0", "居民0")
    sim.add_room(ROOM, config.groups[0].room, ["wxid_r0"])
    await sim.start()
    plain = config.model_copy(update={"wechat": config.wechat.model_copy(update={"tls": False})})
    serving = asyncio.create_task(serve(config=plain, endpoint=f"127.0.0.1:{sim.port}", token="insecure_test",
                                        database_url=database_url, classifier=loading))
    try:
        await sim.wait_connected()
        await story(sim, serving)
        await asyncio.wait({serving}, timeout=30)
        return None if serving.cancelled() else serving.result()
    finally:
        if not serving.done():
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
        await sim.stop()


def test_a_message_that_arrives_while_the_classifier_loads_is_stored_at_once_and_answered_once_it_is_there(
        config, engine, database_url, classifier):
    loading: Future = Future()

    async def story(sim: PuppetSimulator, serving: asyncio.Task) -> None:
        await sim.push_message(sender="wxid_r0", text="3号楼2单元楼道灯不亮了", room=ROOM)
        await _until(lambda: _states(engine) == [MessageState.RECEIVED])  # durable before anything can handle it
        assert sim.sent == [] and not serving.done()
        loading.set_result(classifier)
        await _until(lambda: _states(engine) == [MessageState.PROCESSED] and bool(sim.sent))
        assert sim.sent[0].room == ROOM
        assert not serving.done()  # still serving: the story ends it

    assert asyncio.run(_with_gateway(config, database_url, loading, _then_stop(story))) is None


def _then_stop(story):  # noqa: ANN001,ANN202
    async def run(sim: PuppetSimulator, serving: asyncio.Task) -> None:
        await story(sim, serving)
        serving.cancel()  # as Ctrl+C would, without a signal to this test process
        await asyncio.gather(serving, return_exceptions=True)
    return run


def test_a_classifier_that_fails_to_load_stops_mulin_run_with_the_config_exit_code(
        config, engine, database_url, capsys):
    loading: Future = Future()

    async def story(sim: PuppetSimulator, serving: asyncio.Task) -> None:
        loading.set_exception(ValueError("rules.yaml:3: broken"))

    code = asyncio.run(_with_gateway(config, database_url, loading, story))
    assert code == EXIT_CONFIG
    assert "分类器加载失败 (classifier failed to load): ValueError('rules.yaml:3: broken')" in capsys.readouterr().err


def test_the_sweeps_after_a_restart_wait_until_the_waiting_message_is_answered(
        config, engine, database_url, classifier, monkeypatch):
    """`mulin run` answers first and catches up (what fell due while it was down, a missed digest) a moment later."""
    from bot import run
    from storage.models import Node

    monkeypatch.setattr(run, "CATCH_UP_SECONDS", 1.0)
    loading: Future = Future()
    loading.set_result(classifier)

    def scanned() -> bool:
        with new_session(engine) as session:
            return any(n.scan_at is not None for n in session.exec(select(Node)))

    async def story(sim: PuppetSimulator, serving: asyncio.Task) -> None:
        await sim.push_message(sender="wxid_r0", text="3号楼2单元楼道灯不亮了", room=ROOM)
        await _until(lambda: bool(sim.sent))
        assert not scanned()  # answered before the catch-up sweep
        await _until(scanned, timeout=15)

    assert asyncio.run(_with_gateway(config, database_url, loading, _then_stop(story))) is None


def test_once_ready_the_start_is_frozen_out_of_garbage_collection_and_collection_is_on_again():
    """`mulin run` starts with the collector off (bot.cli); a fresh interpreter, as that process is."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = ("import gc, json; gc.disable()\n"
            "from bot.run import _start_done\n"
            "frozen = _start_done()\n"
            "print(json.dumps([frozen, gc.isenabled(), gc.get_freeze_count() > 1000, _start_done()]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == [True, True, True, False]  # with collection on (tests), nothing is frozen
