"""A wechaty puppet-service gateway simulator: a grpclib server speaking the `wechaty.Puppet` gRPC service.

python-wechaty connects to it over real loopback TCP exactly as to a real gateway. It keeps a tiny
WeChat world (contacts, rooms, messages), pushes residents' messages as events, and records
everything the bot sends. Message classes come from the `wechaty-grpc` package.

Like the real npm gateway (wechaty-puppet-service's PuppetServer), it drops events while no bot is
connected, opens each event stream with a heartbeat, answers a ding with a dong event, and can check the
token (`token`). Faults: the connection can be dropped (`drop_connections`), the gateway can hang (`hung`:
no events, no answers, the socket stays open), answers delayed (`delay`), sends failed (`fail_next_sends`).

Buffering is an explicit option for tests that want a kinder gateway than the real one: with `buffer`,
events pushed while no bot is connected wait for the next connection; with `replay_seconds`, the message
events a stream carried that recently are sent again to the next one, so a bot killed with messages read
but not yet stored gets them again, and must not file them twice.
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Callable

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server, Stream
from wechaty_grpc.wechaty import puppet as pb

from core.clock import FakeClock, SystemClock

log = logging.getLogger("mulin.simulator")

# wechaty's TypeScript MessageType numbering, which the puppet-service client expects on the wire.
TS_MESSAGE_TYPES = {
    "unknown": 0, "attachment": 1, "audio": 2, "contact": 3, "chat_history": 4, "emoticon": 5,
    "image": 6, "text": 7, "location": 8, "mini_program": 9, "group_note": 10, "transfer": 11,
    "red_envelope": 12, "recalled": 13, "url": 14, "video": 15,
    # our neutral kinds (core.types.KINDS) for scenario files; a system line travels as a group note
    "voice": 2, "sticker": 5, "file": 1, "link": 14, "contact_card": 3, "money": 12, "system": 10,
}
FILE_CHUNK = 64 * 1024


@dataclass
class SimContact:
    id: str
    name: str


@dataclass
class SimRoom:
    id: str
    topic: str
    members: list[str] = field(default_factory=list)


@dataclass
class Sent:
    """One message the bot sent through the gateway."""

    id: str
    by: str                        # the bot account (self id) that sent it
    at: str
    room: str | None
    to: str | None
    mentions: list[str]
    text: str
    file_name: str | None = None   # a file or picture the bot sent (MessageSendFile)
    file_data: bytes | None = None

    def as_record(self) -> dict[str, Any]:
        record = {"type": "send", "at": self.at, "room": self.room, "to": self.to,
                  "mentions": self.mentions, "text": self.text}
        if self.file_name is not None:
            record["file"] = self.file_name
        return record


class SimWorld:
    """What several gateways share: the people, the groups, every message, and what all bot accounts sent.

    Each bot account has its own gateway (`PuppetSimulator`) in the world. A group message reaches every
    account in the group, each copy under its own message id, as WeChat delivers it to each account."""

    def __init__(self, clock: FakeClock | SystemClock | None = None) -> None:
        self.clock = clock or SystemClock(timezone.utc)
        self.contacts: dict[str, SimContact] = {}
        self.rooms: dict[str, SimRoom] = {}
        self.messages: dict[str, pb.MessagePayloadResponse] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # a picture or file message's (name, bytes), by message id
        self.sent: list[Sent] = []
        self.on_sent: list[Callable[[Sent], None]] = []
        self.gateways: dict[str, PuppetSimulator] = {}
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def add_contact(self, contact_id: str, name: str) -> None:
        self.contacts[contact_id] = SimContact(contact_id, name)

    def add_room(self, room_id: str, topic: str, members: list[str]) -> None:
        """Members may include bot accounts (their self ids); each account in the room receives its messages."""
        self.rooms[room_id] = SimRoom(room_id, topic, list(dict.fromkeys(members)))

    async def push_message(self, *, sender: str, text: str, room: str | None = None, to: str | None = None,
                           message_id: str | None = None, kind: str = "text",
                           file: tuple[str, bytes] | None = None, mentions: list[str] | None = None) -> dict[str, str]:
        """A contact posts in a room (or privately `to` one account): {account self id: its copy's message id}.
        `file` (name, bytes): a picture or file the gateways serve through their file RPCs."""
        ids = self.copy_ids(message_id or self.new_id("msg-in-"), room=room, to=to)
        sent_at = int(self.clock.now().timestamp() * 1000)  # WeChat stamps a message once, on its server
        for self_id, copy_id in ids.items():
            await self.gateways[self_id].push_message(sender=sender, text=text, room=room, kind=kind, message_id=copy_id,
                                                      timestamp=sent_at, file=file, mentions=mentions)
        return ids

    def copy_ids(self, message_id: str, *, room: str | None, to: str | None) -> dict[str, str]:
        """Which accounts receive the message and each copy's id: the first keeps `message_id`."""
        if room is not None and room not in self.rooms:
            raise KeyError(f"unknown room {room!r}")
        receivers = [g.self_id for g in self.gateways.values()
                     if (room is not None and g.self_id in self.rooms[room].members) or (room is None and g.self_id == to)]
        return {self_id: message_id if n == 0 else f"{message_id}-{self_id}" for n, self_id in enumerate(receivers)}


class PuppetSimulator:
    """The gateway side of the wire. Methods named like the gRPC routes serve python-wechaty."""

    def __init__(self, *, self_id: str = "wxid_mulin", self_name: str = "睦邻助手",
                 clock: FakeClock | SystemClock | None = None, world: SimWorld | None = None) -> None:
        self.self_id = self_id
        self.world = world or SimWorld(clock)
        self.world.gateways[self_id] = self
        self.world.add_contact(self_id, self_name)
        self.fail_next_sends = 0  # fault injection: the next N MessageSendText calls fail
        self.file_streams = True  # serve MessageImageStream/MessageFileStream (False: only the unary file RPCs)
        self.file_fetches = 0  # file RPC calls answered, and the bytes sent by them
        self.file_bytes_served = 0
        self.delay = 0.0  # fault injection: seconds before each event and each send answer
        self.buffer = False  # keep events pushed while no bot is connected (the real gateway drops them)
        self.replay_seconds = 0.0  # message events a stream carried this recently are re-sent to the next one
        self.token: str | None = None  # set: a client with another token is refused (UNAUTHENTICATED)
        self.hung = False  # fault injection: like a SIGSTOPped gateway, nothing is answered or sent
        self.dropped = 0  # events lost because no bot was connected
        self.stops = 0  # puppet Stop calls: a real gateway logs the WeChat account out on each
        self._backlog: list[pb.EventResponse] = []  # events pushed while no bot was connected (with `buffer`)
        self._protocols: list[Any] = []  # server-side HTTP/2 connections, so they can be cut
        self._streams: list[asyncio.Queue[pb.EventResponse | None]] = []
        self._stream_opened = asyncio.Event()
        self._server: Server | None = None
        self.port: int | None = None

    # ---- the simulated world -------------------------------------------------------------
    @property
    def clock(self) -> FakeClock | SystemClock:
        return self.world.clock

    @property
    def contacts(self) -> dict[str, SimContact]:
        return self.world.contacts

    @property
    def rooms(self) -> dict[str, SimRoom]:
        return self.world.rooms

    @property
    def messages(self) -> dict[str, pb.MessagePayloadResponse]:
        return self.world.messages

    @property
    def sent(self) -> list[Sent]:
        return self.world.sent

    @property
    def on_sent(self) -> list[Callable[[Sent], None]]:
        return self.world.on_sent

    def add_contact(self, contact_id: str, name: str) -> None:
        self.world.add_contact(contact_id, name)

    def rename(self, contact_id: str, name: str) -> None:
        """Anyone can rename themselves; identity must never follow the display name."""
        self.contacts[contact_id].name = name

    def add_room(self, room_id: str, topic: str, members: list[str]) -> None:
        """A group with this gateway's account in it."""
        self.world.add_room(room_id, topic, [self.self_id, *members])

    def _timestamp(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def new_id(self, prefix: str) -> str:
        return self.world.new_id(prefix)

    async def push_message(self, *, sender: str, text: str, room: str | None = None,
                           message_id: str | None = None, kind: str = "text",
                           mentions: list[str] | None = None, timestamp: int | None = None,
                           file: tuple[str, bytes] | None = None) -> str:
        """A contact posts a message (in a room, or privately to the bot); emit it as an event. `file`: the
        (name, bytes) of a picture or file, served by the file RPCs as the gateway serves WeChat's media."""
        if sender not in self.contacts:
            raise KeyError(f"unknown contact {sender!r}")
        if room is not None and room not in self.rooms:
            raise KeyError(f"unknown room {room!r}")
        message_id = message_id or self.new_id("msg-in-")
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=text, timestamp=timestamp or self._timestamp(), type=TS_MESSAGE_TYPES[kind],
            from_id=sender, room_id=room or "", to_id="" if room else self.self_id,
            mention_ids=list(mentions or []), filename=file[0] if file else "",
        )
        if file is not None:
            self.world.files[message_id] = file
        await self.emit(pb.EventType.EVENT_TYPE_MESSAGE, {"messageId": message_id})
        return message_id

    async def emit(self, kind: pb.EventType, payload: dict[str, Any]) -> None:
        """Send an event to the connected bot; with none connected it is lost (or kept, with `buffer`)."""
        event = pb.EventResponse(type=kind, payload=json.dumps(payload))
        if not self._streams:
            if self.buffer:
                self._backlog.append(event)
            else:
                self.dropped += 1
                log.info("no bot connected: %s event dropped (%d so far)", kind.name, self.dropped)
        for queue in self._streams:
            queue.put_nowait(event)

    def drop_connections(self) -> int:
        """Cut every client's TCP connection, as a network failure would; returns how many were cut."""
        cut = 0
        for protocol in self._protocols:
            connection = getattr(protocol, "connection", None)
            transport = getattr(connection, "_transport", None)  # grpclib keeps the socket private
            if transport is not None and not transport.is_closing():
                transport.abort()
                cut += 1
        self._protocols.clear()  # cut ones are dead; new connections are tracked afresh
        log.info("simulator dropped %d connection(s)", cut)
        return cut

    def end_streams(self) -> None:
        """Close open event streams: the bot's start() returns. Do this before the bot stops."""
        for queue in self._streams:
            queue.put_nowait(None)

    async def wait_connected(self, timeout: float = 20.0) -> None:
        await asyncio.wait_for(self._stream_opened.wait(), timeout)

    # ---- the server ----------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = Server([self])
        factory = self._server._protocol_factory

        def tracked():  # noqa: ANN202 - remember each connection so drop_connections can cut it
            protocol = factory()
            self._protocols.append(protocol)
            return protocol

        self._server._protocol_factory = tracked  # type: ignore[method-assign]
        await self._server.start(host, port)
        sockets = self._server._server.sockets  # grpclib keeps the asyncio server private
        self.port = sockets[0].getsockname()[1]
        log.info("puppet simulator listening on %s:%s", host, self.port)
        return self.port

    async def stop(self) -> None:
        self.end_streams()
        if self._server is not None:
            self._server.close()
            await asyncio.sleep(0)  # let ended streams say goodbye, then cut whoever is still connected
            self.drop_connections()
            await self._server.wait_closed()
            self._server = None

    def __mapping__(self) -> dict[str, Handler]:
        unary = Cardinality.UNARY_UNARY
        routes: dict[str, Handler] = {
            "/wechaty.Puppet/Start": Handler(self._empty(pb.StartResponse), unary, pb.StartRequest, pb.StartResponse),
            "/wechaty.Puppet/Stop": Handler(self.stop_puppet, unary, pb.StopRequest, pb.StopResponse),
            "/wechaty.Puppet/Logout": Handler(self._empty(pb.LogoutResponse), unary, pb.LogoutRequest, pb.LogoutResponse),
            "/wechaty.Puppet/Ding": Handler(self.ding, unary, pb.DingRequest, pb.DingResponse),
            "/wechaty.Puppet/Version": Handler(self.version, unary, pb.VersionRequest, pb.VersionResponse),
            "/wechaty.Puppet/Event": Handler(self.event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse),
            "/wechaty.Puppet/ContactPayload": Handler(self.contact_payload, unary, pb.ContactPayloadRequest, pb.ContactPayloadResponse),
            "/wechaty.Puppet/ContactList": Handler(self.contact_list, unary, pb.ContactListRequest, pb.ContactListResponse),
            "/wechaty.Puppet/MessagePayload": Handler(self.message_payload, unary, pb.MessagePayloadRequest, pb.MessagePayloadResponse),
            "/wechaty.Puppet/MessageImage": Handler(self.message_image, unary, pb.MessageImageRequest, pb.MessageImageResponse),
            "/wechaty.Puppet/MessageFile": Handler(self.message_image, unary, pb.MessageFileRequest, pb.MessageFileResponse),
            "/wechaty.Puppet/MessageImageStream": Handler(self.message_file_stream, Cardinality.UNARY_STREAM,
                                                          pb.MessageImageStreamRequest, pb.MessageImageStreamResponse),
            "/wechaty.Puppet/MessageFileStream": Handler(self.message_file_stream, Cardinality.UNARY_STREAM,
                                                         pb.MessageFileStreamRequest, pb.MessageFileStreamResponse),
            "/wechaty.Puppet/MessageSendText": Handler(self.message_send_text, unary, pb.MessageSendTextRequest, pb.MessageSendTextResponse),
            "/wechaty.Puppet/MessageSendFile": Handler(self.message_send_file, unary, pb.MessageSendFileRequest, pb.MessageSendFileResponse),
            "/wechaty.Puppet/RoomPayload": Handler(self.room_payload, unary, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "/wechaty.Puppet/RoomList": Handler(self.room_list, unary, pb.RoomListRequest, pb.RoomListResponse),
            "/wechaty.Puppet/RoomMemberList": Handler(self.room_member_list, unary, pb.RoomMemberListRequest, pb.RoomMemberListResponse),
            "/wechaty.Puppet/RoomMemberPayload": Handler(self.room_member_payload, unary, pb.RoomMemberPayloadRequest, pb.RoomMemberPayloadResponse),
        }
        return {route: self._guarded(handler) for route, handler in routes.items()}

    def _guarded(self, handler: Handler) -> Handler:
        """Every call checks the token, as the real gateway's authImplToken does, and hangs while `hung`."""
        serve = handler.func

        async def guarded(stream: Stream) -> None:
            while self.hung:
                await asyncio.sleep(0.05)
            if self.token is not None:
                authorization = (stream.metadata or {}).get("authorization", "")
                if authorization != f"Wechaty {self.token}":
                    raise GRPCError(Status.UNAUTHENTICATED, f"Invalid Wechaty TOKEN {authorization[8:]!r}")
            await serve(stream)
        return handler._replace(func=guarded)

    @staticmethod
    def _empty(response_type: type) -> Callable[[Stream], Any]:
        async def handler(stream: Stream) -> None:
            await stream.recv_message()
            await stream.send_message(response_type())
        return handler

    async def stop_puppet(self, stream: Stream) -> None:
        await stream.recv_message()
        self.stops += 1
        log.warning("a client stopped the puppet (a real gateway logs the account out)")
        await stream.send_message(pb.StopResponse())

    async def ding(self, stream: Stream) -> None:
        request = await stream.recv_message()
        await stream.send_message(pb.DingResponse())
        await self.emit(pb.EventType.EVENT_TYPE_DONG, {"data": request.data})

    async def version(self, stream: Stream) -> None:
        await stream.recv_message()
        await stream.send_message(pb.VersionResponse(version="mulin-simulator"))

    async def event(self, stream: Stream) -> None:
        await stream.recv_message()
        queue: asyncio.Queue[pb.EventResponse | None] = asyncio.Queue()
        for event in self._backlog:
            queue.put_nowait(event)
        log.info("event stream opened (%d open) with a backlog of %d", len(self._streams) + 1, len(self._backlog))
        self._backlog.clear()
        clock = asyncio.get_running_loop().time
        delivered: list[tuple[float, pb.EventResponse]] = []
        self._streams.append(queue)
        event: pb.EventResponse | None = None
        try:
            await stream.send_message(pb.EventResponse(
                type=pb.EventType.EVENT_TYPE_HEARTBEAT, payload=json.dumps({"data": "stream connected"})))
            await stream.send_message(pb.EventResponse(
                type=pb.EventType.EVENT_TYPE_LOGIN, payload=json.dumps({"contactId": self.self_id})))
            self._stream_opened.set()
            while (event := await queue.get()) is not None:
                while self.hung:
                    await asyncio.sleep(0.05)
                if self.delay:
                    await asyncio.sleep(self.delay)
                await stream.send_message(event)
                if self.replay_seconds and event.type == pb.EventType.EVENT_TYPE_MESSAGE:
                    delivered.append((clock(), event))
                event = None
        finally:
            self._streams.remove(queue)
            since = clock() - self.replay_seconds
            unsent = [e for at, e in delivered if at >= since] + ([event] if event is not None else [])
            while not queue.empty():
                unsent.append(queue.get_nowait())
            if not self._streams:
                self._stream_opened.clear()
                # the next bot gets what this one may not have read, then what was never sent
                self._backlog[:0] = [e for e in unsent if e is not None]
            log.info("event stream closed (%d open): %d recent or unsent events kept", len(self._streams), len(unsent))

    @staticmethod
    def _require(table: dict[str, Any], key: str, what: str) -> Any:
        """Unknown ids answer NOT_FOUND, as a real gateway does."""
        if key not in table:
            raise GRPCError(Status.NOT_FOUND, f"no {what} {key}")
        return table[key]

    async def contact_payload(self, stream: Stream) -> None:
        request = await stream.recv_message()
        contact = self._require(self.contacts, request.id, "contact")
        await stream.send_message(pb.ContactPayloadResponse(
            id=contact.id, name=contact.name, type=pb.ContactType.CONTACT_TYPE_PERSONAL, friend=True))

    async def contact_list(self, stream: Stream) -> None:
        await stream.recv_message()
        await stream.send_message(pb.ContactListResponse(ids=list(self.contacts)))

    async def message_payload(self, stream: Stream) -> None:
        request = await stream.recv_message()
        payload = self._require(self.messages, request.id, "message")
        await stream.send_message(payload)

    def _file_of(self, message_id: str) -> tuple[str, bytes]:
        return self._require(self.world.files, message_id, "file of message")

    async def message_image(self, stream: Stream) -> None:
        """MessageImage / MessageFile: the whole file as a Base64 FileBox in JSON, as the npm gateway answers."""
        request = await stream.recv_message()
        name, data = self._file_of(request.id)
        box = {"name": name, "metadata": {}, "size": len(data), "type": 1, "boxType": 1,
               "base64": base64.b64encode(data).decode()}
        self.file_fetches += 1
        self.file_bytes_served += len(data)
        response = pb.MessageImageResponse if isinstance(request, pb.MessageImageRequest) else pb.MessageFileResponse
        await stream.send_message(response(filebox=json.dumps(box)))

    async def message_file_stream(self, stream: Stream) -> None:
        """MessageImageStream / MessageFileStream: a chunk with the name, then the data in 64 KiB chunks (the npm
        gateway's packFileBoxToPb). A client that stops reading cancels the call and the rest is not sent."""
        request = await stream.recv_message()
        if not self.file_streams:
            raise GRPCError(Status.UNIMPLEMENTED, "Method not found!")
        name, data = self._file_of(request.id)
        response = (pb.MessageImageStreamResponse if isinstance(request, pb.MessageImageStreamRequest)
                    else pb.MessageFileStreamResponse)
        self.file_fetches += 1
        await stream.send_message(response(file_box_chunk=pb.FileBoxChunk(name=name)))
        for start in range(0, len(data), FILE_CHUNK):
            await stream.send_message(response(file_box_chunk=pb.FileBoxChunk(data=data[start:start + FILE_CHUNK])))
            self.file_bytes_served += len(data[start:start + FILE_CHUNK])

    async def message_send_text(self, stream: Stream) -> None:
        request = await stream.recv_message()
        message_id = await self._deliver_out(request.conversation_id, text=request.text,
                                             mentions=list(request.mentonal_ids))
        await stream.send_message(pb.MessageSendTextResponse(id=message_id))

    async def message_send_file(self, stream: Stream) -> None:
        """A picture or file: the FileBox arrives as JSON with its content in base64."""
        request = await stream.recv_message()
        box = json.loads(request.filebox)
        data = base64.b64decode(box.get("base64") or "")
        message_id = await self._deliver_out(request.conversation_id, text=f"[文件] {box.get('name', '')}",
                                             mentions=[], kind="image", file_name=box.get("name"), file_data=data)
        await stream.send_message(pb.MessageSendFileResponse(id=message_id))

    async def _deliver_out(self, conversation: str, *, text: str, mentions: list[str], kind: str = "text",
                           file_name: str | None = None, file_data: bytes | None = None) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next_sends > 0:
            self.fail_next_sends -= 1
            raise GRPCError(Status.UNAVAILABLE, "simulated send failure")
        in_room = conversation in self.rooms
        if not in_room and conversation not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"no conversation {conversation}")
        message_id = self.new_id("msg-out-")
        self.messages[message_id] = pb.MessagePayloadResponse(
            id=message_id, text=text, timestamp=self._timestamp(), type=TS_MESSAGE_TYPES[kind],
            from_id=self.self_id, room_id=conversation if in_room else "",
            to_id="" if in_room else conversation, mention_ids=mentions,
        )
        sent = Sent(id=message_id, by=self.self_id, at=self.clock.now().isoformat(), room=conversation if in_room else None,
                    to=None if in_room else conversation, mentions=mentions, text=text, file_name=file_name,
                    file_data=file_data)
        self.sent.append(sent)
        for listener in self.on_sent:
            listener(sent)
        return message_id

    async def room_payload(self, stream: Stream) -> None:
        request = await stream.recv_message()
        room = self._require(self.rooms, request.id, "room")
        await stream.send_message(pb.RoomPayloadResponse(
            id=room.id, topic=room.topic, owner_id=room.members[0], member_ids=list(room.members)))

    async def room_list(self, stream: Stream) -> None:
        await stream.recv_message()
        await stream.send_message(pb.RoomListResponse(ids=list(self.rooms)))

    async def room_member_list(self, stream: Stream) -> None:
        request = await stream.recv_message()
        room = self.rooms.get(request.id)
        await stream.send_message(pb.RoomMemberListResponse(member_ids=list(room.members) if room else []))

    async def room_member_payload(self, stream: Stream) -> None:
        request = await stream.recv_message()
        contact = self._require(self.contacts, request.member_id, "member")
        await stream.send_message(pb.RoomMemberPayloadResponse(id=contact.id, name=contact.name))
