"""The one module that imports wechaty: it turns wechaty messages into `Incoming` and `Outgoing` into say().

Everything else in mulin sees only bot.types. Shims for python-wechaty 0.10.7 live here, each with why.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timezone
from typing import Awaitable, Callable

# Python 3.11 rejects PuppetOptions as a dataclass default (it is unhashable); giving it the
# object hash before wechaty is imported lets `from wechaty import ...` succeed. 3.10 needs nothing.
from wechaty_puppet.schemas import puppet as _puppet_schema

_puppet_schema.PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]

os.environ.setdefault("WECHATY_LOG", "error")  # wechaty logs several INFO lines per message otherwise

from wechaty import Contact, Message, Room, Wechaty, WechatyOptions  # noqa: E402
from wechaty.utils.async_helper import SingleIdContainer  # noqa: E402
from wechaty_puppet import PuppetOptions  # noqa: E402

from bot.types import Incoming, Outgoing  # noqa: E402

log = logging.getLogger("mulin.wechaty")

MessageCallback = Callable[[Incoming], Awaitable[None]]


class GatewayError(RuntimeError):
    """The puppet-service gateway cannot be reached or refused us."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reset_wechaty_globals() -> None:
    """wechaty keeps contact/room pools and the seen-message set per process; a new bot starts clean."""
    Contact._pool.clear()
    Room._pool.clear()
    SingleIdContainer._instance = None


def check_endpoint(endpoint: str, timeout: float = 3.0) -> None:
    """Fail early with a clear message instead of wechaty's silent retry loop."""
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        raise GatewayError(f"网关地址格式应为 host:port，收到 {endpoint!r} (endpoint must be host:port)")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise GatewayError(f"无法连接微信网关 {endpoint}：{exc} (puppet service unreachable)") from exc


class WechatyTransport:
    """Connects to a puppet-service gateway and bridges messages both ways."""

    def __init__(self, *, endpoint: str, token: str, on_message: MessageCallback) -> None:
        if not endpoint:
            raise GatewayError("未配置微信网关地址：请设置 WECHATY_PUPPET_SERVICE_ENDPOINT 或 config.yaml 的 wechat.endpoint")
        # an empty token becomes an empty :authority and start() then fails silently
        self.endpoint = endpoint
        self.token = token or "mulin"
        self.on_message = on_message
        self.self_id: str | None = None
        self._bot: Wechaty | None = None
        self._task: asyncio.Task[None] | None = None
        self._logged_in = asyncio.Event()

    async def start(self, timeout: float = 20.0) -> None:
        check_endpoint(self.endpoint)
        _reset_wechaty_globals()
        # fresh option objects: wechaty's defaults are shared and mutated; its plugin server wants port 5000
        options = WechatyOptions(
            puppet="wechaty-puppet-service",
            puppet_options=PuppetOptions(end_point=self.endpoint, token=self.token),
            host="127.0.0.1", port=_free_port(),
        )
        bot = Wechaty(options)
        bot.on("login", self._on_login)
        bot.on("message", self._on_message)
        self._bot = bot
        self._task = asyncio.create_task(bot.start(), name="wechaty")  # start() blocks while the stream is open
        try:
            await asyncio.wait_for(self._logged_in.wait(), timeout)
        except asyncio.TimeoutError as exc:
            raise GatewayError(f"微信网关 {self.endpoint} 在 {timeout:.0f} 秒内没有登录 (no login event)") from exc

    async def stop(self) -> None:
        """Stop after the gateway has closed the event stream; the other order sleeps 60 s to reconnect."""
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except asyncio.TimeoutError:
                self._task.cancel()
        if self._bot is not None:
            try:
                await self._bot.stop()
            except Exception:  # noqa: BLE001 - stopping a dead connection must not mask the reason we stop
                log.exception("error while stopping wechaty")
        self._bot = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _on_login(self, contact: Contact) -> None:
        self.self_id = contact.contact_id
        log.info("logged in as %s", self.self_id)
        self._logged_in.set()

    async def _on_message(self, msg: Message) -> None:
        incoming = await self._to_incoming(msg)
        if incoming is None:
            return
        await self.on_message(incoming)

    async def _to_incoming(self, msg: Message) -> Incoming | None:
        payload = msg.payload
        if payload is None or payload.from_id == self.self_id:
            return None  # our own messages echo back through some gateways
        talker = msg.talker()
        room = msg.room()
        topic = None
        if room is not None:
            await room.ready()
            topic = room.payload.topic if room.payload else None
        kind = msg.type().name.removeprefix("MESSAGE_TYPE_").lower()
        at = datetime.fromtimestamp(payload.timestamp / 1000, tz=timezone.utc) if payload.timestamp else datetime.now(timezone.utc)
        return Incoming(
            id=msg.message_id, sender_id=talker.contact_id, sender_name=talker.name or "",
            text=payload.text or "", at=at, room_id=room.room_id if room else None, room_topic=topic,
            kind=kind, mentions=tuple(payload.mention_ids or ()),
        )

    async def send(self, out: Outgoing) -> str | None:
        if self._bot is None:
            raise GatewayError("bot is not connected")
        if out.room_id is not None:
            room = self._bot.Room.load(out.room_id)
            await room.ready()
            sent = await room.say(out.text, mention_ids=list(out.mentions) or None)
        else:
            contact = self._bot.Contact.load(out.to_id)
            await contact.ready()
            sent = await contact.say(out.text)
        return sent.message_id if sent is not None else None
