"""The fake's gateway: HELLO, IDENTIFY/RESUME, READY, GUILD_CREATE, heartbeats, dispatches.

Frames are plain JSON TEXT frames. discord.py asks for `compress=zlib-stream` in the URL and
`compress: true` in IDENTIFY, but only decompresses BINARY frames, so text frames need neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_models import FakeGuild, FakeUser

HELLO, HEARTBEAT, IDENTIFY, RESUME, REQUEST_MEMBERS = 10, 1, 2, 6, 8
DISPATCH, HEARTBEAT_ACK, INVALID_SESSION = 0, 11, 9
HEARTBEAT_INTERVAL_MS = 41_250
#: Seconds before a heartbeat is acknowledged: about a round trip to Discord. An ACK sent at once
#: can reach discord.py before its keep-alive thread has recorded the heartbeat as sent; it then
#: takes the whole interval for latency and warns "Can't keep up ... 41.3s behind".
HEARTBEAT_ACK_DELAY = 0.1
AUTHENTICATION_FAILED = 4004


def shard_of(guild_id: int, count: int) -> int:
    """The shard that receives a guild's events, as Discord computes it."""
    return (guild_id >> 22) % count


def owns(shard: list[int] | None, guild_id: int) -> bool:
    """Whether a session identified with `shard` ([id, count], or None) gets the guild."""
    return not shard or shard_of(guild_id, shard[1]) == shard[0]


@dataclass
class GatewayConnection:
    """One websocket session as the fake saw it."""

    query: dict[str, str]
    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    identify: dict[str, Any] | None = None
    resumed: bool = False
    ready: bool = False
    heartbeats: int = 0
    closed: bool = False
    close_code: int | None = None
    seq: int = 0
    ws: web.WebSocketResponse | None = field(default=None, repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    acks: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    @property
    def shard(self) -> list[int] | None:
        """`[shard_id, shard_count]` as identified, None for an unsharded session."""
        return None if self.identify is None else self.identify.get("shard")

    @property
    def intents(self) -> int | None:
        return None if self.identify is None else self.identify.get("intents")

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        """Send one frame; dispatches (op 0) carry the session's next sequence number."""
        assert self.ws is not None
        async with self.lock:
            seq = None
            if op == DISPATCH:
                self.seq += 1
                seq = self.seq
            await self.ws.send_str(json.dumps({"op": op, "d": data, "s": seq, "t": event}))

    def acknowledge_heartbeat(self) -> None:
        """Answer a heartbeat a round trip later, as Discord does, without holding up the
        frames that follow it."""
        ack = asyncio.get_running_loop().create_task(self._ack_later())
        self.acks.add(ack)
        ack.add_done_callback(self.acks.discard)

    async def _ack_later(self) -> None:
        await asyncio.sleep(HEARTBEAT_ACK_DELAY)
        if not self.closed:
            with contextlib.suppress(ConnectionResetError):  # closed while it waited
                await self.send(HEARTBEAT_ACK, None)


class Gateway:
    """Serves `/gateway` websockets for one bot user and the guilds it is in."""

    def __init__(
        self,
        *,
        token: str,
        bot: FakeUser,
        guilds: Callable[[], list[FakeGuild]],
        resume_url: Callable[[], str],
        on_change: Callable[[], None],
    ) -> None:
        self._token = token
        self._bot = bot
        self._guilds = guilds
        self._resume_url = resume_url
        self._on_change = on_change
        self.connections: list[GatewayConnection] = []
        #: The most sessions that were ever live at once for one shard (two: two processes
        #: on one shard, each getting every interaction of its guilds).
        self.most_live_per_shard = 0

    @property
    def live(self) -> list[GatewayConnection]:
        """Sessions that are READY (or RESUMED) and still open."""
        return [c for c in self.connections if c.ready and not c.closed]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = GatewayConnection(query=dict(request.query), ws=ws)
        self.connections.append(conn)
        await conn.send(HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._receive(conn, json.loads(msg.data))
        finally:
            conn.closed, conn.close_code = True, ws.close_code
            for ack in list(conn.acks):
                ack.cancel()
            self._on_change()
        return ws

    async def _receive(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == HEARTBEAT:
            conn.heartbeats += 1
            conn.acknowledge_heartbeat()
        elif op == IDENTIFY:
            await self._identify(conn, data)
        elif op == RESUME:
            await self._resume(conn, data)
        elif op == REQUEST_MEMBERS:
            await self._send_members(conn, data)

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if data.get("token") != self._token:
            assert conn.ws is not None
            await conn.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        conn.identify = data
        guilds = self._shard_guilds(data.get("shard"))
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self._bot.payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": conn.session_id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(self._bot.id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await conn.send(DISPATCH, ready, "READY")
        for guild in guilds:
            await conn.send(DISPATCH, guild.payload(), "GUILD_CREATE")
        conn.ready = True
        self._count_live(conn)
        self._on_change()

    def _count_live(self, conn: GatewayConnection) -> None:
        together = [c for c in self.live if c.shard == conn.shard]
        self.most_live_per_shard = max(self.most_live_per_shard, len(together))

    def _shard_guilds(self, shard: list[int] | None) -> list[FakeGuild]:
        return [g for g in self._guilds() if owns(shard, g.id)]

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        previous = next(
            (c for c in self.connections if c.session_id == data.get("session_id") and c.ready),
            None,
        )
        if previous is None or data.get("token") != self._token:
            await conn.send(INVALID_SESSION, False)
            return
        conn.session_id, conn.seq, conn.identify = (
            previous.session_id,
            previous.seq,
            previous.identify,
        )
        conn.resumed = True
        await conn.send(DISPATCH, {}, "RESUMED")
        conn.ready = True
        self._count_live(conn)
        self._on_change()

    async def _send_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        guild = next(g for g in self._guilds() if g.id == int(data["guild_id"]))
        chunk = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in guild.members],
            "chunk_index": 0,
            "chunk_count": 1,
            "nonce": data.get("nonce"),
        }
        await conn.send(DISPATCH, chunk, "GUILD_MEMBERS_CHUNK")

    async def dispatch(self, event: str, data: dict[str, Any], guild_id: int | None = None) -> int:
        """Send an event to every live session (of a guild: those whose shard owns it);
        returns how many got it."""
        sessions = [c for c in self.live if guild_id is None or owns(c.shard, guild_id)]
        for conn in sessions:
            await conn.send(DISPATCH, data, event)
        return len(sessions)

    async def disconnect(self, code: int = 4000) -> None:
        """Drop every open session from the server side (the bot should RESUME)."""
        for conn in self.connections:
            if conn.ws is not None and not conn.ws.closed:
                await conn.ws.close(code=code)
