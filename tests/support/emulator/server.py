"""The HTTP side of the emulator: an aiohttp.web server on 127.0.0.1 with a request log and
per-test fault injection. The venue dialect (binance.py, bybit.py) supplies the routes,
the signature check and the venue's own error JSON.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs

from aiohttp import web

from .account import Account, Market, VenueReject

FaultKind = Literal["http429", "http5xx", "timeout_after_accept", "margin", "min_notional"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Fault:
    """Answer the next `times` matching requests with `kind` instead of the normal reply.

    `timeout_after_accept` runs the handler (the order is stored) and then holds the
    response for `delay_s`, past the client's timeout; `on_accept` runs once it is stored
    (e.g. to start an outage: `emu.down = True`). `also`: more paths that match (Deribit
    places buys and sells on two).
    """

    kind: FaultKind
    method: str = "POST"
    path: str = "/fapi/v1/order"
    times: int = 1
    delay_s: float = 3.0
    also: tuple[str, ...] = ()
    on_accept: Callable[[], None] | None = None


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: str
    status: int = 0
    response: str = ""  # the body we answered (for the recorded-JSON conformance tests)


@dataclass
class Override:
    """Answer the next `times` requests to `method path` with `body` as it is (JSON), e.g. a
    venue's recorded response, instead of the dialect's own answer."""

    method: str
    path: str
    body: Any
    times: int = 1
    status: int = 200


class Dialect(Protocol):
    def routes(self, emu: Emulator) -> list[web.RouteDef]: ...

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None: ...

    def error(self, reason: str, detail: str = "") -> web.Response: ...

    def ccxt_id(self) -> str: ...


def default_markets() -> dict[str, Market]:
    """ETHUSDT and BTCUSDT with Binance's real filter values (tick, step, min notional)."""
    return {
        "ETHUSDT": Market("ETHUSDT", "ETH", "USDT", Decimal("3000.00")),
        "BTCUSDT": Market(
            "BTCUSDT",
            "BTC",
            "USDT",
            Decimal("60000.0"),
            tick=Decimal("0.10"),
            max_qty=Decimal(1000),
            min_notional=Decimal(100),
        ),
    }


@dataclass
class Emulator:
    """One venue account served over HTTP. Use `async with Emulator(dialect, ...)`."""

    dialect: Dialect
    api_key: str
    secret: str
    account: Account = field(default_factory=lambda: Account(default_markets()))
    requests: list[LoggedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    now_ms: Callable[[], int] | None = None
    down: bool = False  # every request answered 503, as a venue in an outage
    _runner: web.AppRunner | None = None
    _port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def clock_ms(self) -> int:
        import time

        return self.now_ms() if self.now_ms else time.time_ns() // 1_000_000

    def count(self, path: str, since: int = 0, **query: str) -> int:
        """Logged requests to `path` after the first `since` whose query has every `query`
        item, e.g. `emu.count("/v5/market/tickers", n, category="option")`."""
        return sum(
            1
            for r in self.requests[since:]
            if r.path == path and all(v in parse_qs(r.query).get(k, []) for k, v in query.items())
        )

    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    def override(self, method: str, path: str, body: Any, times: int = 1) -> None:
        self.overrides.append(Override(method, path, body, times))

    def _take_override(self, request: web.Request) -> Override | None:
        for o in self.overrides:
            if o.method == request.method and o.path == request.path and o.times > 0:
                o.times -= 1
                return o
        return None

    def ccxt_urls(self, exchange_urls_api: Any) -> Any:
        """`exchange.urls['api']` with every scheme+host replaced by this server."""
        if isinstance(exchange_urls_api, str):
            return re.sub(r"^https?://[^/]+", self.base_url, exchange_urls_api)
        if isinstance(exchange_urls_api, Mapping):
            return {k: self.ccxt_urls(v) for k, v in exchange_urls_api.items()}
        return exchange_urls_api

    async def __aenter__(self) -> Emulator:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.dialect.routes(self))
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _take_fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            paths = (fault.path, *fault.also)
            if fault.method == request.method and request.path in paths and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.text()
        logged = LoggedRequest(
            request.method, request.path, request.query_string, dict(request.headers), body
        )
        self.requests.append(logged)
        response = await self._answer(request, handler, body)
        if isinstance(response, web.Response):
            logged.status = response.status
            logged.response = response.text or ""
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, body: str
    ) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503, text="Service Unavailable")
        recorded = self._take_override(request)
        if recorded is not None:
            return web.json_response(recorded.body, status=recorded.status)
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "http429":
            return self.dialect.error("rate_limit")
        if fault is not None and fault.kind == "http5xx":
            return web.Response(status=503, text="Service Unavailable")
        if fault is not None and fault.kind in ("margin", "min_notional"):
            return self.dialect.error(fault.kind)
        bad = self.dialect.verify(self, request, body)
        if bad is not None:
            return bad
        try:
            response = await handler(request)
        except VenueReject as reject:
            return self.dialect.error(reject.reason, reject.detail)
        if fault is not None and fault.kind == "timeout_after_accept":
            if fault.on_accept is not None:
                fault.on_accept()
            await asyncio.sleep(fault.delay_s)
        return response
