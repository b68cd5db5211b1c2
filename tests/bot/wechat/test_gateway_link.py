"""The link to the gateway: TLS settings by the wechaty conventions, clear errors, no puppet `stop`, the ding
watchdog, and a simulator that drops what arrives while no bot is connected (as the real gateway does)."""
from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.backoff import Backoff
from bot.cli.main import main
from bot.sim.simulator import PuppetSimulator
from bot.wechat.ca import TLS_CA_CERT
from bot.wechat.transport import GatewayError, TokenError, WechatyTransport, tls_settings, token_sni

ROOM = "20001@chatroom"


@pytest.mark.parametrize("token, sni", [("insecure_2f8c1d3e-aa", "insecure"), ("Puppet_Pad_xyz", "puppet_pad"),
                                        ("nounderscore", None), ("_leading", None)])
def test_the_server_name_is_the_token_before_its_last_underscore(token, sni):
    assert token_sni(token) == sni


def test_tls_is_on_by_default_with_the_wechaty_root_ca():
    settings = tls_settings("insecure_abc", env={})
    assert settings.server_name == "insecure" and settings.ca_pem == TLS_CA_CERT


def test_tls_settings_follow_the_js_client_environment(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(TLS_CA_CERT, encoding="ascii")
    env = {"WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME": "gateway.example", "WECHATY_PUPPET_SERVICE_TLS_CA_CERT": str(ca)}
    assert tls_settings("plain", env=env).server_name == "gateway.example"
    inline = {"WECHATY_PUPPET_SERVICE_TLS_CA_CERT": TLS_CA_CERT.replace("\n", "\\n")}  # one-line env, as in JS
    assert tls_settings("insecure_x", env=inline).ca_pem.strip() == TLS_CA_CERT.strip()
    assert tls_settings("insecure_x", env={"WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "true"}) is None
    assert tls_settings("insecure_x", tls=False, env={}) is None


def test_a_token_without_a_server_name_is_refused_with_the_fix():
    with pytest.raises(GatewayError, match="insecure_plain"):
        tls_settings("plain", env={})


async def _noop(_incoming) -> None:
    return None


async def _simulator(**faults) -> PuppetSimulator:
    sim = PuppetSimulator()
    sim.add_contact("wxid_zhang", "张阿姨")
    sim.add_room(ROOM, "奎星楼社区A1A2号居民群", ["wxid_zhang"])
    for name, value in faults.items():
        setattr(sim, name, value)
    await sim.start()
    return sim


def test_a_wrong_token_fails_at_once_and_names_the_token():
    async def story() -> None:
        sim = await _simulator(token="insecure_right")
        try:
            transport = WechatyTransport(endpoint=f"127.0.0.1:{sim.port}", token="insecure_wrong", on_message=_noop,
                                         tls=False)
            started = time.monotonic()
            with pytest.raises(TokenError, match=r"令牌 \(token\) 无效"):
                await transport.start()
            assert time.monotonic() - started < 3
        finally:
            await sim.stop()
    asyncio.run(story())


def test_tls_to_a_plaintext_gateway_names_tls_and_both_fixes():
    async def story() -> None:
        sim = await _simulator()
        try:
            transport = WechatyTransport(endpoint=f"127.0.0.1:{sim.port}", token="insecure_x", on_message=_noop)
            started = time.monotonic()
            with pytest.raises(GatewayError) as error:
                await transport.start()
            assert time.monotonic() - started < 5
            assert "TLS" in str(error.value) and "wechat.tls: false" in str(error.value)
            assert "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME" in str(error.value)
        finally:
            await sim.stop()
    asyncio.run(story())


def test_mulin_run_without_a_token_refuses_to_start(monkeypatch, capsys):
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:1")
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN", raising=False)
    assert main(["run"]) == 3
    assert "未配置网关令牌 (token)" in capsys.readouterr().err


def test_connect_reconnect_and_shutdown_never_stop_the_puppet(make):
    async def story() -> None:
        async with make() as c:
            stop = asyncio.Event()
            keeper = asyncio.create_task(c.transport.keep_connected(stop, backoff=Backoff(initial=0.2, cap=1)))
            await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了")
            c.sim.drop_connections()
            deadline = time.monotonic() + 15
            while not (c.transport.reconnects == 1 and c.transport.running):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await c.post(ROOM, "wxid_zhang", "A2单元门坏了关不上")
            stop.set()
            await keeper
            sim = c.sim
        assert sim.stops == 0
    asyncio.run(story())


def test_what_residents_post_while_no_bot_is_connected_is_dropped_by_default(make, stored_tickets):
    async def story() -> None:
        async with make() as c:
            c.sim.drop_connections()
            await asyncio.sleep(0.2)
            await c.sim.push_message(sender="wxid_zhang", text="A1楼道灯不亮了", room=ROOM, message_id="wx-lost")
            assert c.sim.dropped == 1
    asyncio.run(story())
    assert stored_tickets() == []


def test_the_watchdog_finds_a_hung_gateway_and_reconnects_when_it_answers_again(caplog):
    caplog.set_level(logging.WARNING, logger="mulin.wechaty")

    async def story() -> None:
        sim = await _simulator()
        transport = WechatyTransport(endpoint=f"127.0.0.1:{sim.port}", token="insecure_x", on_message=_noop,
                                     tls=False, watchdog_seconds=0.2)
        stop = asyncio.Event()
        try:
            await transport.start()
            keeper = asyncio.create_task(transport.keep_connected(stop, backoff=Backoff(initial=0.2, cap=1)))
            await asyncio.sleep(1)  # dings are answered with dongs: the link stays
            assert transport.dead_links == 0 and transport.reconnects == 0
            sim.hung = True  # like SIGSTOP: the socket stays open, nothing comes back
            deadline = time.monotonic() + 10
            while transport.dead_links == 0:
                assert time.monotonic() < deadline, "a silent link went unnoticed"
                await asyncio.sleep(0.05)
            sim.hung = False
            while not (transport.reconnects == 1 and transport.running):
                assert time.monotonic() < deadline + 10, "no reconnect after the gateway answered again"
                await asyncio.sleep(0.05)
            stop.set()
            await keeper
        finally:
            await transport.stop()
            await sim.stop()
        assert sim.stops == 0
    asyncio.run(story())
    assert "no dong or heartbeat for" in caplog.text and "the link is dead" in caplog.text
