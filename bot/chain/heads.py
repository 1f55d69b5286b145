"""Pushed blocks: `eth_subscribe newHeads` over WebSocket, so a tick starts when a block
arrives instead of up to `poll_seconds` later.

One `HeadStream` per chain with a `ws_url` (web3.py's `WebSocketProvider` and its
subscription manager), reconnecting with backoff; `HeadWatch` merges them. The engine
waits on `HeadWatch.next_head(timeout)`: it returns at the next block on any chain, or
after `timeout` (polling is the fallback while a stream is down). Fast chains (0.25-2 s
blocks) are debounced by the engine's `min_tick_seconds`, not here: a block that arrives
during a tick is not lost, it wakes the next wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from web3 import AsyncWeb3, WebSocketProvider
from web3.utils.subscriptions import NewHeadsSubscription, NewHeadsSubscriptionContext

from bot.secrets import redact

log = logging.getLogger("lphedge.chain.heads")

FIRST_RETRY_S = 0.5
MAX_RETRY_S = 30.0


class HeadStream:
    """newHeads of one chain; `latest` is the newest block number seen (None: none yet)."""

    def __init__(self, name: str, ws_url: str, wake: asyncio.Event) -> None:
        self.name = name
        self._url = ws_url
        self._wake = wake
        self.latest: int | None = None
        self.connected = False
        self.reconnects = 0
        self.arrived_at: float | None = None  # perf_counter of the newest head, for latency
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        wait = FIRST_RETRY_S
        while True:
            try:
                await self._follow()
                wait = FIRST_RETRY_S  # a clean end (server closed): reconnect at once
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any transport failure: back off and reconnect
                log.warning(
                    "chain %s: newHeads stream lost (%s); polling until it is back, retry in %.1fs",
                    self.name,
                    redact(str(exc)) or type(exc).__name__,
                    wait,
                )
            self.connected = False
            self.reconnects += 1
            await asyncio.sleep(wait)
            wait = min(MAX_RETRY_S, wait * 2)

    async def _follow(self) -> None:
        async with AsyncWeb3(WebSocketProvider(self._url)) as w3:
            await w3.subscription_manager.subscribe(
                NewHeadsSubscription(label=f"heads-{self.name}", handler=self._on_head)
            )
            self.connected = True
            log.info("chain %s: following newHeads", self.name)
            await w3.subscription_manager.handle_subscriptions(run_forever=True)

    async def _on_head(self, ctx: NewHeadsSubscriptionContext) -> None:
        number = ctx.result.get("number")
        if isinstance(number, int):
            self.latest = number
            self.arrived_at = time.perf_counter()
            self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


class HeadWatch:
    """Every chain's newHeads stream; see the module."""

    def __init__(self, urls: Sequence[tuple[str, str]]) -> None:
        self._wake = asyncio.Event()
        self.streams = [HeadStream(name, url, self._wake) for name, url in urls]
        self.seen = 0  # heads seen on any chain: what `block_number` compares tick to tick

    def start(self) -> HeadWatch:
        for s in self.streams:
            s.start()
        return self

    @property
    def live(self) -> bool:
        """Every stream connected (else the engine also polls, at `poll_seconds`)."""
        return all(s.connected for s in self.streams)

    async def next_head(self, timeout_s: float) -> None:
        """Return at the next head on any chain, or after `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout_s)
        if self._wake.is_set():
            self._wake.clear()
            self.seen += 1

    def block_probe(self, polled: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
        """The engine's block probe: the heads counter while every stream is live, the
        polled block number otherwise (a stream down must not stop ticks on new blocks)."""

        async def block_number() -> int:
            return self.seen if self.live else int(await polled())

        return block_number

    async def close(self) -> None:
        for s in self.streams:
            await s.close()
