"""The one module that imports wechaty: it turns wechaty messages into `Incoming` and `Outgoing` into say().

Everything else in mulin sees only bot.types. Shims for python-wechaty 0.10.7 live here, each with why.
"""
from __future__ import annotations

import asyncio
import base64
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
from wechaty_puppet import FileBox, PuppetOptions  # noqa: E402

from bot.backoff import Backoff  # noqa: E402
from bot.types import Disconnected, Incoming, Outgoing  # noqa: E402

log = logging.getLogger("mulin.wechaty")

MessageCallback = Callable[[Incoming], Awaitable[None]]
SEND_TIMEOUT_SECONDS = 20

# wechaty's message types as our neutral kinds (bot.types.KINDS); group notes such as "XX加入了群聊"
# reach python-wechaty as UNSPECIFIED, so anything unknown is a system message.
KIND_OF_TYPE = {
    "TEXT": "text", "IMAGE": "image", "AUDIO": "voice", "VIDEO": "video", "EMOTICON": "sticker",
    "ATTACHMENT": "file", "URL": "link", "MINI_PROGRAM": "mini_program", "CHAT_HISTORY": "chat_history",
    "LOCATION": "location", "CONTACT": "contact_card", "TRANSFER": "money", "RED_ENVELOPE": "money",
    "RECALLED": "recalled", "UNSPECIFIED": "system",
}


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
    """Connects to a puppet-service gateway, bridges messages both ways, and reconnects when the link drops."""

    def __init__(self, *, endpoint: str, token: str, on_message: MessageCallback) -> None:
        if not endpoint:
            raise GatewayError("未配置微信网关地址：请设置 WECHATY_PUPPET_SERVICE_ENDPOINT 或 config.yaml 的 wechat.endpoint")
        # an empty token becomes an empty :authority and start() then fails silently
        self.endpoint = endpoint
        self.token = token or "mulin"
        self.on_message = on_message
        self.self_id: str | None = None
        self.reconnects = 0
        self._bot: Wechaty | None = None
        self._task: asyncio.Task[None] | None = None
        self._logged_in = asyncio.Event()

    async def start(self, timeout: float = 20.0) -> None:
        """Connect once; GatewayError when the gateway is unreachable or never logs in."""
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
        self._logged_in.clear()
        self._task = asyncio.create_task(self._listen(bot), name="wechaty")
        login = asyncio.create_task(self._logged_in.wait())
        await asyncio.wait({login, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not login.done():
            login.cancel()
            reason = self._task.exception() if self._task.done() and not self._task.cancelled() else None
            await self._drop_bot()
            raise GatewayError(f"微信网关 {self.endpoint} 在 {timeout:.0f} 秒内没有登录 (no login event): {reason!r}")

    @staticmethod
    async def _listen(bot: Wechaty) -> None:
        """Wechaty.start() without its catch-all: it sleeps 60 s on a lost link and stops the loop on puppet
        errors; here the event stream returns when the gateway ends it and raises when the link breaks."""
        await bot.init_puppet()
        # the per-bot classes inherit one process-wide pool, so a second account in the same process (the
        # two-account tests) would talk through the first one's contacts and rooms: give each its own
        for user_class in (bot.Contact, bot.ContactSelf, bot.Room, bot.Tag):
            user_class._pool = {}
        await bot.init_puppet_event_bridge(bot.puppet)
        await bot.puppet.start()

    async def keep_connected(self, stop: asyncio.Event, *, backoff: Backoff, give_up_seconds: float = 0) -> None:
        """Until `stop` is set: when the event stream ends, reconnect with capped exponential backoff.

        give_up_seconds > 0: raise GatewayError after that long without a connection (0 = never give up).
        """
        while not stop.is_set():
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({stopping, self._task}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if stop.is_set():
                return
            reason = self._task.exception() if not self._task.cancelled() else None
            log.warning("gateway %s: event stream closed (%s); reconnecting", self.endpoint,
                        f"{type(reason).__name__}: {reason}" if reason else "ended by the gateway")
            await self._drop_bot()
            await self._reconnect(stop, backoff, give_up_seconds)

    async def _reconnect(self, stop: asyncio.Event, backoff: Backoff, give_up_seconds: float) -> None:
        loop = asyncio.get_running_loop()
        lost_at = loop.time()
        backoff.reset()
        while not stop.is_set():
            delay = backoff.next()
            waited = loop.time() - lost_at
            if give_up_seconds and waited + delay > give_up_seconds:
                raise GatewayError(f"微信网关 {self.endpoint} 断开 {waited:.0f} 秒仍未恢复，放弃重连 "
                                   f"(gateway down for {waited:.0f}s; giving up)")
            log.warning("gateway %s: reconnect attempt %d in %.1f s", self.endpoint, backoff.attempts, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return
            except asyncio.TimeoutError:
                pass
            try:
                await self.start(timeout=min(20.0, backoff.cap))
            except GatewayError as exc:
                log.warning("gateway %s: reconnect attempt %d failed: %s", self.endpoint, backoff.attempts, exc)
                continue
            self.reconnects += 1
            log.warning("gateway %s: reconnected after %.1f s (attempt %d)", self.endpoint, loop.time() - lost_at,
                        backoff.attempts)
            return

    async def _drop_bot(self) -> None:
        """Close a dead connection's channel without waiting on it."""
        bot, self._bot = self._bot, None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if bot is not None and bot._puppet is not None:
            try:
                await asyncio.wait_for(bot.puppet.stop(), 2)
            except Exception:  # noqa: BLE001 - the link is already gone; closing it may fail too
                log.debug("closing a dead gateway connection failed", exc_info=True)

    async def stop(self) -> None:
        """Stop after the gateway has closed the event stream, or close it ourselves after a second."""
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 1)
            except asyncio.TimeoutError:
                self._task.cancel()
            except Exception:  # noqa: BLE001 - a stream that broke has nothing left to say
                log.debug("event stream ended with an error", exc_info=True)
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
        try:
            incoming = await self._to_incoming(msg)
        except Exception as exc:  # noqa: BLE001 - the link broke mid-message; the gateway re-sends it on login
            log.warning("message %s not read: %r (the gateway replays it after reconnecting)", msg.message_id, exc)
            return
        if incoming is not None:
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
        kind = KIND_OF_TYPE.get(msg.type().name.removeprefix("MESSAGE_TYPE_"), "system")
        at = datetime.fromtimestamp(payload.timestamp / 1000, tz=timezone.utc) if payload.timestamp else datetime.now(timezone.utc)
        return Incoming(
            id=msg.message_id, sender_id=talker.contact_id, sender_name=talker.name or "",
            text=payload.text or "", at=at, room_id=room.room_id if room else None, room_topic=topic,
            kind=kind, mentions=tuple(payload.mention_ids or ()),
        )

    async def send(self, out: Outgoing) -> str | None:
        if self._bot is None or not self.running:
            raise Disconnected(f"gateway {self.endpoint} is not connected")
        # a gateway that never answers must not stall every later reply; the outbox retries it
        return await asyncio.wait_for(self._say(out), SEND_TIMEOUT_SECONDS)

    async def _say(self, out: Outgoing) -> str | None:
        content = out.text if out.image is None else FileBox.from_base64(
            base64.b64encode(out.image), name=out.image_name)
        if out.room_id is not None:
            room = self._bot.Room.load(out.room_id)
            await room.ready()
            sent = await room.say(content, mention_ids=(list(out.mentions) or None) if out.image is None else None)
        else:
            contact = self._bot.Contact.load(out.to_id)
            await contact.ready()
            sent = await contact.say(content)
        return sent.message_id if sent is not None else None
