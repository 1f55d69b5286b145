"""A TCP proxy in front of PostgreSQL that tests can cut and stall: the network faults a
bot meets (an idle-connection killer, a half-dead link), with the real server behind it.

It runs its own asyncio loop in a thread, so sync tests, async tests and subprocess bots
can all use it. `stall()` keeps every connection open but forwards nothing (new ones too)
until `resume()`; `kill_all()` resets every open connection; `down()` also refuses new
ones until `up()`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PgProxy:
    """Forwards 127.0.0.1:<port> to `upstream`; see the module."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> PgProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, database: str = "test", query: str = "") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}{query}"

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, server_w}
        await asyncio.gather(
            self._pipe(client_r, server_w), self._pipe(server_r, client_w), return_exceptions=True
        )
        for w in (client_w, server_w):
            self._writers.discard(w)
            w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def _call(self, fn: object) -> None:
        async def run() -> None:
            fn()  # type: ignore[operator]

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def kill_all(self) -> None:
        """Reset every open connection (both sides see the link drop)."""

        def kill() -> None:
            for w in list(self._writers):
                w.transport.abort()

        self._call(kill)

    def down(self) -> None:
        """The server gone: every connection reset and new ones refused until `up()`."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
            for w in list(self._writers):
                w.transport.abort()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)

    def up(self) -> None:
        """Listen again, on the same port."""

        async def start() -> None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)

    def stall(self) -> None:
        self._call(self._flowing.clear)

    def resume(self) -> None:
        self._call(self._flowing.set)

    def close(self) -> None:
        def stop() -> None:
            self._flowing.set()
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.transport.abort()

        self._call(stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@contextmanager
def pg_proxy() -> Iterator[PgProxy]:
    proxy = PgProxy().start()
    try:
        yield proxy
    finally:
        proxy.close()
