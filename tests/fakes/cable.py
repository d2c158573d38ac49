"""A network cable to a loopback server, plugged in only when the test says so.

`Cable(target_port)` reserves a port of its own; until `plug_in()` nothing listens there, so a
client dialling it meets "connection refused", as with a server that is down. Once plugged in,
every connection is piped byte for byte to the target (HTTP and websockets alike). `freeze()`
stops every byte, and every close, either way: the connections stay open and silent, as over a
link that broke without either end noticing.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Self

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Cable:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def plug_in(self) -> None:
        self._server = await asyncio.start_server(self._connect, HOST, self.port)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(HOST, self.target_port)
        pipes = {
            asyncio.create_task(_pipe(reader, upstream_writer, self._flowing)),
            asyncio.create_task(_pipe(upstream_reader, writer, self._flowing)),
        }
        self._pipes |= pipes
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
        self._pipes -= pipes
        for stream in (writer, upstream_writer):
            stream.close()

    def freeze(self) -> None:
        """Hold every byte and every close from now on, either way."""
        self._flowing.clear()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for pipe in self._pipes:
            pipe.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            await flowing.wait()
            writer.write(data)
            await writer.drain()
        await flowing.wait()  # a close passes only while the cable carries
