"""Serve the API and dashboard inside the bot's own event loop (uvicorn).

uvicorn's own signal handling is turned off: Ctrl-C and SIGTERM stay the bot's, which stops
the engine and then this server. The socket is bound here, so a port in use is a clear
error at start-up (naming `ops.api_port`) instead of uvicorn exiting the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from bot.api.app import create_app
from bot.api.auth import TokenBook
from bot.api.desk import Desk
from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger("lphedge.api")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the bot's handlers stay in place


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ConfigError(f"ops.api_port {port}: cannot listen on {host}: {err.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


class ApiServer:
    """`start()` binds and serves; `port` is the bound port (useful with port 0)."""

    def __init__(self, desk: Desk, tokens: TokenBook, host: str, port: int) -> None:
        self.desk = desk
        config = uvicorn.Config(
            create_app(desk, tokens),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[Any] | None = None
        self.host = host
        self.port = port

    async def start(self) -> ApiServer:
        sock = _bind(self.host, self.port)
        self.port = int(sock.getsockname()[1])
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()
        log.info("API and dashboard on http://%s:%d/", self.host, self.port)
        return self

    async def close(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self.desk.close()


class Surface:
    """A running bot's control surface: the REST API and dashboard (`ops.api_port`) and the
    Telegram command bot (`ops.telegram_token` with allowed chats), on one desk."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.api: ApiServer | None = None
        self.telegram: Any = None

    async def close(self) -> None:
        if self.telegram is not None:
            await self.telegram.close()
            self.telegram = None
        if self.api is not None:
            await self.api.close()  # closes the desk too
            self.api = None
        else:
            self.desk.close()


async def serve_bot(settings: Settings, engine: Any | None) -> Surface | None:
    """Start what `[ops]` asks for; None when it asks for neither. Refuses an API port
    without any token: an API that answers nobody is a mistake, one that answers everybody
    a hole."""
    ops = settings.ops
    if ops.api_port is None and ops.telegram_token is None:
        return None
    if ops.api_port is not None and not ops.api_tokens:
        raise ConfigError(
            "ops.api_tokens: ops.api_port is set but no token is; add one "
            '(LPHEDGE_OPS__API_TOKENS=\'[{"name": "me", "token": "...", "scope": "control"}]\')'
        )
    from bot import wiring
    from bot.clock import SystemClock

    surface = Surface(Desk(settings, wiring.ledger(settings), SystemClock(), engine))
    try:
        if ops.api_port is not None:
            tokens = TokenBook(ops.api_tokens, ops.api_auth_failures_per_minute)
            server = ApiServer(surface.desk, tokens, ops.api_host, ops.api_port)
            surface.api = await server.start()
        if ops.telegram_token is not None:
            from bot.telegram import start_telegram

            surface.telegram = await start_telegram(settings, surface.desk)
    except BaseException:
        await surface.close()
        raise
    return surface


async def serve_ledger(settings: Settings, host: str, port: int, token: str) -> ApiServer:
    """The API and dashboard on a ledger no bot in this process writes (`demo --serve`):
    reads as for a running bot; halt and resume are recorded for the next bot to read; one
    control token, `token`, named `demo`."""
    from pydantic import SecretStr

    from bot import wiring
    from bot.clock import SystemClock
    from bot.config_sections import ApiToken

    desk = Desk(settings, wiring.ledger(settings), SystemClock(), None)
    tokens = TokenBook([ApiToken(name="demo", token=SecretStr(token), scope="control")])
    server = ApiServer(desk, tokens, host, port)
    try:
        return await server.start()
    except BaseException:
        desk.close()
        raise


async def serve_forever(server: ApiServer) -> None:
    """Until Ctrl-C or SIGTERM, then close."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()
