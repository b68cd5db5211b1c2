"""`mulin run` as a real process against the real npm gateway: wechaty-puppet-service's PuppetServer with TLS on,
wrapping wechaty-puppet-mock (gateway.mjs). Installed here with `npm ci --ignore-scripts` from package-lock.json;
skipped only when node or npm is missing."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from PIL import Image

from bot.sim.chaos import _Process, paced_config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOKEN = "insecure_mulin-interop-4c1d"  # server name "insecure": the certificate every gateway ships with
ROOM, OTHER_ROOM = "20001@chatroom", "20009@chatroom"


def _install() -> None:
    """npm ci once per package-lock.json (a stamp in node_modules remembers which)."""
    lock = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    stamp = HERE / "node_modules" / ".mulin-lock-sha256"
    if stamp.exists() and stamp.read_text() == lock:
        return
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                   timeout=900, stdout=subprocess.DEVNULL)
    stamp.write_text(lock)


@pytest.fixture(scope="module")
def npm_gateway():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the real npm gateway (wechaty-puppet-service)")
    _install()
    return HERE / "gateway.mjs"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gateway:
    """gateway.mjs as a child process: residents post through stdin; what the bot sends comes back as JSON lines."""

    def __init__(self, script: Path, port: int, log: Path) -> None:
        self.events: list[dict] = []
        self._log = open(log, "a", encoding="utf-8")
        self.proc = subprocess.Popen(["node", str(script), str(port), TOKEN], cwd=HERE, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True, encoding="utf-8")
        threading.Thread(target=self._read, daemon=True).start()
        self.wait(lambda e: e["event"] == "ready", 60, "the gateway to listen")

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._log.write(line)
            self._log.flush()
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def post(self, sender: str, text: str, room: str | None = None, mentions: list[str] | None = None) -> None:
        self._write({"from": sender, "room": room, "text": text, "mentions": mentions or []})

    def post_image(self, sender: str, name: str, data: bytes, room: str | None = None) -> None:
        self._write({"from": sender, "room": room, "image": base64.b64encode(data).decode(), "name": name})

    def _write(self, line: dict) -> None:
        self.proc.stdin.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()

    def wait(self, predicate, timeout: float, what: str, since: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events[since:]:
                if predicate(event):
                    return event
            assert self.proc.poll() is None, f"the gateway exited while waiting for {what}"
            time.sleep(0.05)
        raise AssertionError(f"no {what} within {timeout:.0f} s; gateway saw {self.events[since:]}")

    def sent(self, to: str, contains: str, timeout: float, since: int = 0) -> dict:
        return self.wait(lambda e: e["event"] == "sent" and e["to"] == to and contains in e["text"], timeout,
                         f"message to {to} with {contains!r}", since)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _env(tmp_path: Path, port: int, token: str = TOKEN) -> dict[str, str]:
    env = {**os.environ, "MULIN_DATABASE_URL": f"sqlite:///{tmp_path}/mulin.db", "PYTHONUNBUFFERED": "1",
           "WECHATY_LOG": "error", "WECHATY_PUPPET_SERVICE_ENDPOINT": f"127.0.0.1:{port}",
           "WECHATY_PUPPET_SERVICE_TOKEN": token}
    for name in ("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT", "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME",
                 "WECHATY_PUPPET_SERVICE_TLS_CA_CERT"):
        env.pop(name, None)
    return env


def _config(tmp_path: Path) -> Path:
    """The shipped config with fast pacing and no quiet hours, and a quick reconnect."""
    path = paced_config(ROOT / "config.yaml", tmp_path, 0.5)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["wechat"] = {**(data.get("wechat") or {}), "reconnect_max_seconds": 2}  # config.yaml has a wechat: already
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.slow
def test_mulin_run_serves_a_group_through_the_npm_gateway_with_tls(npm_gateway, tmp_path):
    port = _free_port()
    gateway = Gateway(npm_gateway, port, tmp_path / "gateway.log")
    bot = _Process(["run", "--config", str(_config(tmp_path))], tmp_path / "mulin.log", _env(tmp_path, port), ROOT)
    gateways = [gateway]
    try:
        bot.wait_for("睦邻已连接", 90)
        gateway.wait(lambda e: e["event"] == "start", 10, "the client's start call")

        gateway.post("wxid_zhang", "A1楼道灯不亮了，晚上黑乎乎的", ROOM)
        ack = gateway.sent(ROOM, "工单#1", 30)
        assert ack["mentions"] == ["wxid_zhang"] and "@张阿姨" in ack["text"]
        gateway.sent("wxid_wangfang", "新工单#1", 30)
        gateway.post("wxid_li", "今天天气不错", OTHER_ROOM)  # not a configured group: ignored

        mark = len(gateway.events)
        gateway.post("wxid_wangfang", "接 1")  # the grid worker, privately
        gateway.sent("wxid_wangfang", "已接单#1", 30, since=mark)
        gateway.sent(ROOM, "已接单", 30, since=mark)

        gateway.kill()  # the gateway process dies and comes back on the same port
        gateway = Gateway(npm_gateway, port, tmp_path / "gateway.log")
        gateways.append(gateway)
        gateway.wait(lambda e: e["event"] == "start", 60, "mulin to reconnect")
        bot.wait_for("reconnected after", 30)
        gateway.post("wxid_li", "A2单元门坏了关不上", ROOM)
        gateway.sent(ROOM, "工单#2", 30)

        # a resident @-mentions the bot: the gateway's mention ids say so, and a vent told to the bot is filed
        mark = len(gateway.events)
        gateway.post("wxid_zhang", "@睦邻助手\u2005A1停车场好多油渍啊", ROOM, mentions=["wxid_mulin"])
        gateway.sent(ROOM, "工单#3", 30, since=mark)
        gateway.post("wxid_li", "@睦邻助手\u2005你好", ROOM, mentions=["wxid_mulin"])
        gateway.sent(ROOM, "没看出要登记的问题", 30, since=mark)

        bot.signal(signal.SIGTERM)
        assert bot.proc.wait(20) == 0
        time.sleep(0.5)
        assert not [e for g in gateways for e in g.events if e["event"] == "stop"], "mulin stopped the puppet"
        assert not [e for g in gateways for e in g.events if e["event"] == "sent" and e["to"] == OTHER_ROOM]
        log = bot.log.read_text(encoding="utf-8")
        assert "Unclosed" not in log and "Traceback" not in log
    finally:
        bot.finish()
        gateway.stop()


@pytest.mark.slow
def test_a_wrong_token_stops_mulin_run_within_seconds_with_a_clear_error(npm_gateway, tmp_path):
    port = _free_port()
    gateway = Gateway(npm_gateway, port, tmp_path / "gateway.log")
    try:
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--config", str(_config(tmp_path))],
                             env=_env(tmp_path, port, token="insecure_not-the-token"), cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
        assert run.returncode == 3, run.stderr
        assert "令牌 (token) 无效" in run.stderr
        assert elapsed < 15, f"took {elapsed:.1f} s"
    finally:
        gateway.stop()


@pytest.mark.slow
def test_a_photo_sent_through_the_npm_gateway_joins_the_ticket_and_reaches_the_worker(npm_gateway, tmp_path):
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 110, 140)).save(picture, "JPEG")
    photo = picture.getvalue()
    port = _free_port()
    gateway = Gateway(npm_gateway, port, tmp_path / "gateway.log")
    bot = _Process(["-v", "run", "--config", str(_config(tmp_path))], tmp_path / "mulin.log", _env(tmp_path, port), ROOT)
    try:
        bot.wait_for("睦邻已连接", 90)
        gateway.post_image("wxid_zhang", "puddle.jpg", photo, ROOM)
        gateway.wait(lambda e: e["event"] == "image_fetched", 30, "mulin to fetch the picture")
        time.sleep(1)  # stored before the words come
        gateway.post("wxid_zhang", "A2和百意中间路面存在积水", ROOM)
        notice = gateway.sent("wxid_wangfang", "新工单#1", 30)
        assert "现场照片1张" in notice["text"]
        sent = gateway.wait(lambda e: e["event"] == "sent_file" and e["to"] == "wxid_wangfang", 30,
                            "the photo to the worker")
        assert sent["size"] == len(photo) and sent["md5"] == hashlib.md5(photo).hexdigest()
        bot.signal(signal.SIGTERM)
        assert bot.proc.wait(20) == 0
        log = bot.log.read_text(encoding="utf-8")
        assert "from wxid_zhang in 20001@chatroom stored" in log and "Traceback" not in log
        assert "no file stream RPC" not in log  # read through MessageImageStream, cut off past photos.max_mb
    finally:
        bot.finish()
        gateway.stop()
    with sqlite3.connect(tmp_path / "mulin.db") as db:
        rows = db.execute("SELECT ticket_id, role, state, size, sha256 FROM attachment").fetchall()
    assert rows == [(1, "before", "STORED", len(photo), hashlib.sha256(photo).hexdigest())]
