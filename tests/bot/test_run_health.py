"""`mulin run` as a real process next to `mulin sim`: its Prometheus endpoint answers, and `mulin status` (another
process, the real clock) reads it healthy, then degraded once the gateway is gone."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from bot.sim.chaos import _Process

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(config: Path, env: dict[str, str]) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "status", "--config", str(config), "--json"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_mulin_run_serves_metrics_and_status_follows_the_gateway(database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the process wiring is the same on PostgreSQL; the status queries run on both in test_status.py")
    metrics_port = _free_port()
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["health"] = {"metrics_port": metrics_port}
    data["wechat"] = {**(data.get("wechat") or {}), "reconnect_max_seconds": 1}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = {**os.environ, "MULIN_DATABASE_URL": database_url, "WECHATY_LOG": "error", "PYTHONUNBUFFERED": "1",
           "WECHATY_PUPPET_SERVICE_TOKEN": "insecure_sim", "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "true"}
    sim = _Process(["sim", "--port", "0"], tmp_path / "sim.log", env, ROOT)
    bot = None
    try:
        port = re.search(r"127\.0\.0\.1:(\d+)", sim.wait_for("模拟网关监听", 60)).group(1)
        bot = _Process(["run", "--config", str(config)], tmp_path / "run.log",
                       {**env, "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{port}"}, ROOT)
        bot.wait_for("睦邻已连接", 90)
        scraped = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        assert 'mulin_gateway_up{account="(default)"} 1.0' in scraped
        assert "mulin_messages_received_total 0.0" in scraped and "mulin_sends_total" in scraped

        deadline = time.monotonic() + 30
        while (result := _status(config, env))[0] != 0 and time.monotonic() < deadline:
            time.sleep(0.5)  # the first due-scan runs right after the start
        code, report = result
        assert (code, report["status"]) == (0, "healthy"), report
        assert report["accounts"][0]["gateway"] == "connected"

        sim.finish()  # the gateway goes away
        deadline = time.monotonic() + 30
        while (result := _status(config, env))[0] != 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        code, report = result
        assert code == 1 and report["accounts"][0]["gateway"] == "disconnected", report
        assert any("微信网关断开" in p for p in report["problems"])
    finally:
        if bot is not None:
            bot.finish()
        sim.finish()
