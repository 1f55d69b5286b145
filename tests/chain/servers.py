"""Local HTTP stand-ins between the reader and anvil: a counting proxy and a hung node.

The proxy counts what really goes over the wire (HTTP requests, JSON-RPC calls per
request), independent of the reader's own `RequestStats`. The hung server accepts TCP
connections and never answers, the way a stuck RPC node behaves.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType

import aiohttp
from aiohttp import web


class CountingProxy:
    """Forwards every POST to `upstream`; `requests` and `calls` count what passed.
    With `down` set it answers 503 instead, the way an unreachable provider does."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests = 0
        self.calls = 0
        self.methods: list[str] = []
        self.down = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def _forward(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="service unavailable")
        body = await request.read()
        payload = json.loads(body)
        items = payload if isinstance(payload, list) else [payload]
        self.requests += 1
        self.calls += len(items)
        self.methods += [item["method"] for item in items]
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        async with self._session.post(self.upstream, data=body, headers=headers) as reply:
            return web.Response(body=await reply.read(), content_type="application/json")

    def reset(self) -> None:
        self.requests = self.calls = 0
        self.methods = []

    async def __aenter__(self) -> CountingProxy:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()


class HungServer:
    """Accepts connections, reads nothing, answers nothing; `accepted` counts them."""

    def __init__(self) -> None:
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._held: list[asyncio.StreamWriter] = []
        self.url = ""

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._held.append(writer)

    async def __aenter__(self) -> HungServer:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        # a path that looks like a provider's API key: it must never be printed
        self.url = f"http://127.0.0.1:{port}/v3/SECRETKEY123"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for writer in self._held:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
