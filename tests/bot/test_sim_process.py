"""`mulin sim` + `mulin run` as two real processes, as the README shows: the demo scenario plays to its end,
and a second run against the same database is handled, not dropped as already received."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.chaos import _Process, paced_config
from bot.scenario import load_scenario
from storage.db import make_engine, new_session
from storage.models import IncomingMessage, MessageState

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "demo.yaml"


def _play_once(tmp_path: Path, run: int, env: dict[str, str], config: Path) -> str:
    sim = _Process(["sim", "--port", "0", "--scenario", str(DEMO), "--pause", "0.05"], tmp_path / f"sim{run}.log",
                   env, ROOT)
    bot = None
    try:
        port = re.search(r"127\.0\.0\.1:(\d+)", sim.wait_for("模拟网关监听", 60)).group(1)
        bot = _Process(["run", "--config", str(config)], tmp_path / f"run{run}.log",
                       {**env, "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{port}"}, ROOT)
        bot.wait_for("睦邻已连接", 90)
        return sim.wait_for("场景播放完毕", 90)
    finally:
        if bot is not None:
            bot.finish()
        sim.finish()


@pytest.mark.slow
def test_mulin_sim_plays_the_demo_to_its_end_and_a_second_run_is_not_dropped(database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the processes and the ids are the same on PostgreSQL; once is enough")
    env = {**os.environ, "MULIN_DATABASE_URL": database_url, "WECHATY_LOG": "error", "PYTHONUNBUFFERED": "1",
           # mulin run needs a token and the simulator speaks plaintext (README: the simulator's recipe)
           "WECHATY_PUPPET_SERVICE_TOKEN": "insecure_sim", "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "true"}
    config = paced_config(ROOT / "config.yaml", tmp_path, 0.5)
    messages = sum(1 for s in load_scenario(DEMO).steps if s.room is not None or s.dm is not None)
    out = _play_once(tmp_path, 1, env, config)
    assert "Traceback" not in out and "KeyError" not in out
    assert "跳过第" in out and "{offline: 12h}" in out and "mulin demo" in out  # said, not crashed
    _play_once(tmp_path, 2, env, config)
    engine = make_engine(database_url)
    try:
        with new_session(engine) as session:
            stored = session.exec(select(func.count()).select_from(IncomingMessage)).one()
            handled = session.exec(select(func.count()).select_from(IncomingMessage)
                                   .where(IncomingMessage.state == MessageState.PROCESSED)).one()
    finally:
        engine.dispose()
    assert stored == 2 * messages and handled == stored
