"""The one module that imports wechaty: it turns the gateway's messages into `Incoming` and `Outgoing` into sends.

Everything else in mulin sees only core.types. Shims for python-wechaty 0.10.7 live here, each with why;
`GentlePuppetService` is python-wechaty-puppet-service's client as the JS 1.x client behaves: TLS with the
wechaty root CA, the token in an `authorization` header, the event stream opened before `start`, and never a
puppet `stop` (on a real gateway that logs the WeChat account out). mulin talks to that client directly, not
through python-wechaty's `Wechaty` facade: importing the facade costs about half a second of CPU at every start
(its plugin web server, GitHub client, link previews and scheduler store), and mulin uses none of it; the payload
calls and the @-mention text are the facade's (Message.ready, Room.say).
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
import logging
import os
import socket
import ssl
import sys
import types
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Mapping


class _OnFirstUse(types.ModuleType):
    """Stands in sys.modules for a module until one of its attributes is read, then imports it and hands it on."""

    def __getattr__(self, attr: str):  # noqa: ANN204 - only for what the stand-in itself lacks
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
            importlib.import_module(name)
        return getattr(sys.modules[name], attr)


def _import_on_first_use(name: str) -> None:
    """`import name` elsewhere gives a stand-in that imports the module when it is first used. python-wechaty-puppet
    imports requests and qrcode (with Pillow) at the top, for file boxes from URLs and QR codes: ~0.1 s of CPU at
    every start (measured 2026-12-06, `python -X importtime`), and mulin uses neither. (importlib's LazyLoader does
    not serve: a second `import` of a lazy module loads it.)"""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _OnFirstUse(name)
    stand_in.__spec__ = spec  # an `import` finds it ready; a submodule import asks for __path__ and loads it
    sys.modules[name] = stand_in


_import_on_first_use("requests")
_import_on_first_use("qrcode")

# Python 3.11 rejects PuppetOptions as a dataclass default (it is unhashable); giving it the
# object hash before wechaty is imported lets `from wechaty import ...` succeed. 3.10 needs nothing.
from wechaty_puppet.schemas import puppet as _puppet_schema

_puppet_schema.PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]

os.environ.setdefault("WECHATY_LOG", "error")  # wechaty logs several INFO lines per message otherwise

import betterproto  # noqa: E402
from grpclib.client import Channel  # noqa: E402
from grpclib.config import Configuration  # noqa: E402
from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError, StreamTerminatedError  # noqa: E402
from wechaty_grpc.wechaty import PuppetStub  # noqa: E402
from wechaty_grpc.wechaty import puppet as pb  # noqa: E402
from wechaty_puppet import ContactPayload, EventErrorPayload, EventLoginPayload, EventMessagePayload, FileBox  # noqa: E402
from wechaty_puppet import MessagePayload, PuppetOptions, RoomPayload  # noqa: E402
from wechaty_puppet_service import PuppetService  # noqa: E402
from wechaty_puppet_service.utils import extract_host_and_port  # noqa: E402

from bot.backoff import Backoff  # noqa: E402
from core.types import Disconnected, FetchedFile, Incoming, Outgoing  # noqa: E402
from bot.wechat.ca import TLS_CA_CERT  # noqa: E402

log = logging.getLogger("mulin.wechaty")

MessageCallback = Callable[[Incoming], Awaitable[None]]
SEND_TIMEOUT_SECONDS = 20
FETCH_TIMEOUT_SECONDS = 60  # one picture through the gateway; a hung fetch must not stall the worker loop
STREAM_PEEK_SECONDS = 5  # the JS client waits this long for the stream's first event before calling start
DEAD_AFTER_DINGS = 3  # no event for this many ding intervals: the link is dead
SEEN_LIMIT = 100_000  # message ids remembered to drop a gateway's repeated events (python-wechaty's bound)
AT_SEPARATOR = "\u2005"  # between @-mentions at the start of a group message, as python-wechaty writes them

# wechaty's message types as our neutral kinds (core.types.KINDS); group notes such as "XX加入了群聊"
# reach python-wechaty as UNSPECIFIED, so anything unknown is a system message.
KIND_OF_TYPE = {
    "TEXT": "text", "IMAGE": "image", "AUDIO": "voice", "VIDEO": "video", "EMOTICON": "sticker",
    "ATTACHMENT": "file", "URL": "link", "MINI_PROGRAM": "mini_program", "CHAT_HISTORY": "chat_history",
    "LOCATION": "location", "CONTACT": "contact_card", "TRANSFER": "money", "RED_ENVELOPE": "money",
    "RECALLED": "recalled", "UNSPECIFIED": "system",
}

TLS_FIXES = ("两种解决办法 (two ways to fix it)：1) 网关开着 TLS：检查令牌前缀或 WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME "
             "（服务器名）与 WECHATY_PUPPET_SERVICE_TLS_CA_CERT（根证书）(the gateway uses TLS: fix the server name or CA)；"
             "2) 网关没开 TLS（WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true）：在 config.yaml 写 wechat.tls: false "
             "或设置 WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true (the gateway runs without TLS: turn TLS off here)")


class GatewayError(RuntimeError):
    """The puppet-service gateway cannot be reached or refused us."""


class TokenError(GatewayError):
    """The gateway rejected our token: retrying cannot help."""


@dataclass(frozen=True)
class TlsSettings:
    server_name: str  # checked against the gateway's certificate (SNI)
    ca_pem: str       # the root it must chain to


def token_sni(token: str) -> str | None:
    """The server name a wechaty token carries, as wechaty-token reads it: `insecure_xxx` -> `insecure`."""
    prefix, underscore, _ = token.rpartition("_")
    return prefix.lower() if underscore and prefix else None


def tls_settings(token: str, *, tls: bool = True, env: Mapping[str, str] | None = None) -> TlsSettings | None:
    """The wechaty conventions of the JS client; None when TLS is off (config wechat.tls: false or the JS client's
    WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true)."""
    env = os.environ if env is None else env
    if not tls or env.get("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT") == "true":
        return None
    server_name = (env.get("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME") or "").strip() or token_sni(token)
    if not server_name:
        raise GatewayError(
            f"令牌 {token!r} 不带服务器名前缀，无法校验网关的 TLS 证书：请用 insecure_{token} 这样的令牌，或设置 "
            "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME (the token carries no TLS server name: prefix it like "
            f"insecure_{token} or set WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME)")
    ca = (env.get("WECHATY_PUPPET_SERVICE_TLS_CA_CERT") or "").replace("\\n", "\n").strip()
    if ca and "-----BEGIN" not in ca:  # a path to a PEM file is accepted too
        try:
            ca = Path(ca).read_text(encoding="ascii")
        except OSError as exc:
            raise GatewayError(f"读不到 WECHATY_PUPPET_SERVICE_TLS_CA_CERT 指向的根证书：{exc}") from exc
    return TlsSettings(server_name=server_name, ca_pem=ca or TLS_CA_CERT)


def ssl_context(settings: TlsSettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=settings.ca_pem)
    except ssl.SSLError as exc:
        raise GatewayError(f"TLS 根证书无法读取 (WECHATY_PUPPET_SERVICE_TLS_CA_CERT): {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["h2"])  # gRPC is HTTP/2: the JS gateway refuses a TLS client without it
    return context


class _EventStub(PuppetStub):
    """The gRPC stub with our token on every call; every event it streams is reported (the stream is open,
    the link is alive), and an `error` event is given the shape python-wechaty-puppet reads."""

    def __init__(self, channel: Channel, *, token: str, on_event: Callable[[], None]) -> None:
        super().__init__(channel, metadata={"authorization": f"Wechaty {token}"})
        self._on_event = on_event

    async def event(self) -> AsyncIterator[pb.EventResponse]:
        async for response in super().event():
            self._on_event()
            if response.type == pb.EventType.EVENT_TYPE_ERROR:  # JS sends {gerror}; Python wants {data}
                response.payload = json.dumps({"data": response.payload})
            yield response

    async def ding_within(self, data: str, timeout: float) -> None:
        """A ding with grpclib's own deadline (no wrapping task that could outlive a closed channel)."""
        await self._unary_unary("/wechaty.Puppet/Ding", pb.DingRequest(data=data), pb.DingResponse, timeout=timeout)


class GentlePuppetService(PuppetService):
    """python-wechaty-puppet-service 0.8.10 connected the way the JS 1.x client connects (see the module doc)."""

    def __init__(self, options: PuppetOptions, *, tls: TlsSettings | None, on_event: Callable[[], None],
                 on_stream_open: Callable[[], None]) -> None:
        super().__init__(options)
        self._tls = tls
        self._on_event = on_event
        self._on_stream_open = on_stream_open
        self._stream_open = asyncio.Event()
        self._listening: asyncio.Task[None] | None = None

    def _init_puppet(self) -> None:
        host, port = extract_host_and_port(self.options.end_point)
        if self._tls is None:
            channel = Channel(host=host, port=port)
        else:
            channel = Channel(host=host, port=port, ssl=ssl_context(self._tls),
                              config=Configuration(ssl_target_name_override=self._tls.server_name))
        channel._authority = self.options.token  # gateways before 1.x read the token from :authority
        self.channel = channel
        self._puppet_stub = _EventStub(channel, token=self.options.token, on_event=self._event_seen)

    def _event_seen(self) -> None:
        if not self._stream_open.is_set():
            self._stream_open.set()
            self._on_stream_open()
        self._on_event()

    async def start(self) -> None:
        """Open the event stream, wait for its first event (at most 5 s, as the JS client), then `start` the
        puppet (a no-op on a gateway that is logged in) and serve the stream until it ends. No `stop` first."""
        self._init_puppet()
        self._listening = asyncio.create_task(self._listen_for_event(), name="wechaty-events")
        opened = asyncio.create_task(self._stream_open.wait())
        try:
            await asyncio.wait({self._listening, opened}, timeout=STREAM_PEEK_SECONDS,
                               return_when=asyncio.FIRST_COMPLETED)
            if self._listening.done():
                return self._listening.result()  # refused (token, TLS) or ended at once
            await self.puppet_stub.start()
            await self._listening
        finally:
            opened.cancel()
            if not self._listening.done():
                self._listening.cancel()

    async def stop(self) -> None:
        """Close the stream and the channel; the gateway's puppet stays logged in for the next client."""
        self._event_stream.remove_all_listeners()
        # wechaty's handlers still fetching a payload fail when the channel closes: nobody is left to tell
        self._event_stream.on("error", lambda exc: log.debug("after close: %r", exc))
        if self._listening is not None and not self._listening.done():
            self._listening.cancel()
            await asyncio.gather(self._listening, return_exceptions=True)
        self._puppet_stub = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None


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
    """Connects to a puppet-service gateway, bridges messages both ways, and reconnects when the link drops.

    A watchdog sends `ding` every `watchdog_seconds`; when no event (dong, heartbeat or any other) arrived
    for three times that, the link is dead though its socket is open (a hung gateway): it is closed and
    reconnected."""

    def __init__(self, *, endpoint: str, token: str, on_message: MessageCallback, tls: bool = True,
                 watchdog_seconds: float = 15.0, on_link: Callable[[bool], None] | None = None) -> None:
        if not endpoint:
            raise GatewayError("未配置微信网关地址：请设置 WECHATY_PUPPET_SERVICE_ENDPOINT 或 config.yaml 的 wechat.endpoint")
        if not token:
            raise GatewayError("未配置网关令牌 (token)：请设置 WECHATY_PUPPET_SERVICE_TOKEN 或 config.yaml 的 "
                               "wechat.token (no puppet-service token configured)")
        self.endpoint = endpoint
        self.token = token
        self.tls = tls_settings(token, tls=tls)
        self.on_message = on_message
        self.watchdog_seconds = watchdog_seconds
        self.on_link = on_link  # told when the link goes down (False) and is restored (True)
        self.self_id: str | None = None
        self.reconnects = 0
        self.dead_links = 0  # links the watchdog found silent and closed
        self._puppet: GentlePuppetService | None = None
        # per connection, as python-wechaty's pools: payloads fetched once, message ids already handled
        self._contacts: dict[str, ContactPayload] = {}
        self._rooms: dict[str, RoomPayload] = {}
        self._seen: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._logged_in = asyncio.Event()
        self._alive_at = 0.0
        self._dead_reason: str | None = None

    async def start(self, timeout: float = 20.0) -> None:
        """Connect once; GatewayError when the gateway is unreachable, refuses us or never logs in."""
        check_endpoint(self.endpoint)
        loop = asyncio.get_running_loop()
        self._alive_at = loop.time()
        puppet = GentlePuppetService(
            PuppetOptions(end_point=self.endpoint, token=self.token), tls=self.tls,
            on_event=self._event_seen, on_stream_open=lambda: log.debug("event stream open"))
        puppet.on("login", self._on_login)
        puppet.on("message", self._on_message)
        puppet.on("error", self._on_error)  # an `error` event nobody listens to would raise in the event stream
        self._puppet = puppet
        self._contacts, self._rooms, self._seen = {}, {}, set()
        self._dead_reason = None
        self._logged_in.clear()
        self._task = asyncio.create_task(puppet.start(), name="wechaty")
        login = asyncio.create_task(self._logged_in.wait())
        await asyncio.wait({login, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not login.done():
            login.cancel()
            reason = self._task.exception() if self._task.done() and not self._task.cancelled() else None
            await self._drop_puppet()
            raise self._start_error(reason, timeout)
        self._watchdog = asyncio.create_task(self._watch(self._task), name="wechaty-watchdog")

    def _start_error(self, reason: BaseException | None, timeout: float) -> GatewayError:
        """Why a connect failed, in words an operator can act on."""
        where = f"微信网关 {self.endpoint}"
        if isinstance(reason, GRPCError) and reason.status == Status.UNAUTHENTICATED:
            return TokenError(f"{where} 拒绝了令牌：令牌 (token) 无效，请检查 WECHATY_PUPPET_SERVICE_TOKEN 或 "
                              f"wechat.token (the gateway rejected the token: {reason.message})")
        if isinstance(reason, ssl.SSLError):
            return GatewayError(f"{where} 的 TLS 握手失败 (TLS handshake failed: {reason})。{TLS_FIXES}")
        if self.tls is None and isinstance(reason, (StreamTerminatedError, ConnectionError)):
            return GatewayError(f"{where} 断开了未加密的连接，它多半开着 TLS (the gateway dropped a plaintext "
                                f"connection; it probably requires TLS: {reason!r})。{TLS_FIXES}")
        if self.tls is not None and isinstance(reason, (StreamTerminatedError, ConnectionError)):
            return GatewayError(f"{where} 在 TLS 握手或 HTTP/2 阶段断开了连接 (connection lost during the TLS "
                                f"handshake or HTTP/2 setup: {reason!r})。{TLS_FIXES}")
        if reason is not None:
            return GatewayError(f"{where} 连接失败 (connect failed): {reason!r}")
        return GatewayError(f"{where} 在 {timeout:.0f} 秒内没有登录 (no login event)")

    def _event_seen(self) -> None:
        self._alive_at = asyncio.get_running_loop().time()

    async def _watch(self, task: asyncio.Task[None]) -> None:
        """Ding every interval; a link silent for DEAD_AFTER_DINGS intervals is closed (keep_connected reconnects)."""
        loop = asyncio.get_running_loop()
        every = self.watchdog_seconds
        dings: set[asyncio.Task[None]] = set()
        try:
            while not task.done():
                await asyncio.sleep(every)
                silent = loop.time() - self._alive_at
                if silent > DEAD_AFTER_DINGS * every:
                    self._dead_reason = f"no dong or heartbeat for {silent:.0f} s"
                    self.dead_links += 1
                    task.cancel()
                    return
                stub = self._puppet._puppet_stub if self._puppet is not None else None
                if isinstance(stub, _EventStub):
                    ding = asyncio.create_task(self._ding(stub, every))
                    dings.add(ding)
                    ding.add_done_callback(dings.discard)
        finally:
            for ding in dings:
                ding.cancel()

    @staticmethod
    async def _ding(stub: _EventStub, timeout: float) -> None:
        try:
            await stub.ding_within("mulin", timeout)
        except Exception as exc:  # noqa: BLE001 - a failed ding is what the watchdog's silence will show
            log.debug("ding failed: %r", exc)

    async def keep_connected(self, stop: asyncio.Event, *, backoff: Backoff, give_up_seconds: float = 0) -> None:
        """Until `stop` is set: when the event stream ends, reconnect with capped exponential backoff.

        give_up_seconds > 0: raise GatewayError after that long without a connection (0 = never give up);
        a rejected token raises TokenError at once.
        """
        while not stop.is_set():
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({stopping, self._task}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if stop.is_set():
                return
            if self._dead_reason:
                why = f"{self._dead_reason}; the link is dead"
            else:
                reason = self._task.exception() if not self._task.cancelled() else None
                why = f"{type(reason).__name__}: {reason}" if reason else "ended by the gateway"
            log.warning("gateway %s: event stream closed (%s); reconnecting", self.endpoint, why)
            self._tell_link(False)
            await self._drop_puppet()
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
            except TokenError:
                raise
            except GatewayError as exc:
                log.warning("gateway %s: reconnect attempt %d failed: %s", self.endpoint, backoff.attempts, exc)
                continue
            self.reconnects += 1
            log.warning("gateway %s: reconnected after %.1f s (attempt %d)", self.endpoint, loop.time() - lost_at,
                        backoff.attempts)
            self._tell_link(True)
            return

    def _tell_link(self, up: bool) -> None:
        if self.on_link is not None:
            try:
                self.on_link(up)
            except Exception:  # noqa: BLE001 - reporting the link must not stop the reconnecting
                log.exception("on_link(%s) failed", up)

    async def _drop_puppet(self) -> None:
        """Close a connection's stream and channel; the gateway's puppet is never stopped."""
        puppet, self._puppet = self._puppet, None
        for task in (self._watchdog, self._task):
            if task is not None and not task.done():
                task.cancel()
        if puppet is not None:
            try:
                await asyncio.wait_for(puppet.stop(), 2)
            except Exception:  # noqa: BLE001 - the link is already gone; closing it may fail too
                log.debug("closing a dead gateway connection failed", exc_info=True)

    async def stop(self) -> None:
        """Shut down: close the event stream and the channel (the gateway stays logged in for the next start)."""
        await self._drop_puppet()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _on_login(self, payload: EventLoginPayload) -> None:
        self.self_id = payload.contact_id
        log.info("logged in as %s", self.self_id)
        self._logged_in.set()

    @staticmethod
    def _on_error(payload: EventErrorPayload) -> None:
        log.info("gateway error event: %s", payload.data)

    async def _on_message(self, payload: EventMessagePayload) -> None:
        if payload.message_id in self._seen:  # some gateways send one message's event two or three times
            return
        if len(self._seen) >= SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(payload.message_id)
        try:
            incoming = await self._to_incoming(payload.message_id)
        except Exception as exc:  # noqa: BLE001 - the link broke mid-message; only a gateway that re-sends brings it back
            log.warning("message %s not read: %r (lost unless the gateway sends it again)", payload.message_id, exc)
            return
        if incoming is not None:
            await self.on_message(incoming)

    async def _contact(self, contact_id: str) -> ContactPayload:
        if contact_id not in self._contacts:
            self._contacts[contact_id] = await self._puppet.contact_payload(contact_id)
        return self._contacts[contact_id]

    async def _room(self, room_id: str) -> RoomPayload:
        if room_id not in self._rooms:
            self._rooms[room_id] = await self._puppet.room_payload(room_id)
        return self._rooms[room_id]

    async def _ready(self, message_id: str) -> MessagePayload:
        """A message read as python-wechaty's Message.ready reads it: its payload, then its talker, room and
        addressee (each fetched once per connection)."""
        payload = await self._puppet.message_payload(message_id)
        if payload.from_id.strip():
            await self._contact(payload.from_id)
        if payload.room_id.strip():
            await self._room(payload.room_id)
        if payload.to_id.strip():
            await self._contact(payload.to_id)
        return payload

    async def _to_incoming(self, message_id: str) -> Incoming | None:
        payload = await self._ready(message_id)
        if payload.from_id == self.self_id:
            return None  # our own messages echo back through some gateways
        talker = self._contacts.get(payload.from_id)
        room_id = payload.room_id if payload.room_id.strip() else None
        topic = self._rooms[room_id].topic if room_id else None
        kind = KIND_OF_TYPE.get(payload.type.name.removeprefix("MESSAGE_TYPE_"), "system")
        at = datetime.fromtimestamp(payload.timestamp / 1000, tz=timezone.utc) if payload.timestamp else datetime.now(timezone.utc)
        return Incoming(
            id=message_id, sender_id=payload.from_id, sender_name=(talker.name if talker else "") or "",
            text=payload.text or "", at=at, room_id=room_id, room_topic=topic,
            kind=kind, mentions=tuple(payload.mention_ids or ()),
            addressed=bool(room_id) and self.self_id is not None and self.self_id in (payload.mention_ids or ()),
        )

    async def fetch_file(self, message_id: str, max_bytes: int) -> FetchedFile:
        """A received picture or file through the gateway's file RPCs: streamed (MessageImageStream /
        MessageFileStream) and cut off past max_bytes, so a big file is never fetched whole; a gateway without
        the stream RPCs is read through the message's FileBox (MessageImage / MessageFile) and checked after."""
        if self._puppet is None or not self.running:
            raise Disconnected(f"gateway {self.endpoint} is not connected")
        return await asyncio.wait_for(self._fetch(message_id, max_bytes), FETCH_TIMEOUT_SECONDS)

    async def _fetch(self, message_id: str, max_bytes: int) -> FetchedFile:
        puppet = self._puppet
        image = (await self._ready(message_id)).type.name == "MESSAGE_TYPE_IMAGE"
        try:
            return await self._fetch_stream(puppet._puppet_stub, message_id, image, max_bytes)
        except GRPCError as exc:
            if exc.status != Status.UNIMPLEMENTED:
                raise
        log.info("gateway %s has no file stream RPC; reading message %s's file box whole", self.endpoint, message_id)
        # as python-wechaty's Message.to_file_box: MessageImage for a picture, MessageFile for anything else
        box = await (puppet.message_image(message_id) if image else puppet.message_file(message_id))
        if box.type().name != "Base64":
            raise ValueError(f"the gateway gave a {box.type().name} file box for message {message_id}, not its bytes")
        data = base64.b64decode(box.base64)
        return FetchedFile(name=box.name or "", size=len(data), data=data if len(data) <= max_bytes else None)

    @staticmethod
    async def _fetch_stream(stub: PuppetStub, message_id: str, image: bool, max_bytes: int) -> FetchedFile:
        """The chunks as the npm gateway packs them: the name first, then the data; stops past max_bytes."""
        chunks = (stub.message_image_stream(id=message_id, type=pb.ImageType.IMAGE_TYPE_ARTWORK) if image
                  else stub.message_file_stream(id=message_id))
        name, size, parts = "", 0, []
        async with contextlib.aclosing(chunks):  # leaving early cancels the call: the rest is never sent
            async for response in chunks:
                field, value = betterproto.which_one_of(response.file_box_chunk, "payload")
                if field == "name":
                    name = value
                elif field == "data":
                    size += len(value)
                    if size > max_bytes:
                        return FetchedFile(name=name, size=size, data=None)
                    parts.append(value)
        return FetchedFile(name=name, size=size, data=b"".join(parts))

    async def send(self, out: Outgoing) -> str | None:
        if self._puppet is None or not self.running:
            raise Disconnected(f"gateway {self.endpoint} is not connected")
        # a gateway that never answers must not stall every later reply; the outbox retries it
        return await asyncio.wait_for(self._say(out), SEND_TIMEOUT_SECONDS)

    async def _say(self, out: Outgoing) -> str | None:
        """What python-wechaty's Room.say and Contact.say do: the room or contact loaded first, a group text led by
        the @-names of the contacts it mentions (an empty text is not sent), and the sent message read back."""
        message_id = await self._send(out)
        if message_id is not None:
            await self._ready(message_id)
        return message_id

    async def _send(self, out: Outgoing) -> str | None:
        puppet = self._puppet
        if out.image is None and not out.text:
            return None
        to = out.room_id if out.room_id is not None else out.to_id
        await (self._room(to) if out.room_id is not None else self._contact(to))
        if out.image is not None:
            box = FileBox.from_base64(base64.b64encode(out.image), name=out.image_name)
            return await puppet.message_send_file(conversation_id=to, file=box)
        if out.room_id is None:
            return await puppet.message_send_text(conversation_id=to, message=out.text)
        mentions = list(out.mentions) or None
        text = out.text
        if mentions:
            names = [f"@{(await self._contact(m)).name}" for m in mentions]
            text = f"{AT_SEPARATOR.join(names)} {text}"
        return await puppet.message_send_text(conversation_id=to, message=text, mention_ids=mentions)
