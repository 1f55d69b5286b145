"""Operations: Prometheus `/metrics`, `/healthz`, and alerts on halts, fills and errors.

A `Monitor` observes each finished tick. It serves metrics over aiohttp on 127.0.0.1 (or
the given host) and posts alerts to a webhook, Telegram and every apprise URL
(`ops.notify_urls`, `bot.notify`): every alert the tick raises (drift, trades by hand),
every order, LP positions leaving or re-entering their range (`RangeWatch`, once per
crossing), and halts and failures through `Narrator` (when they start, every
`ops.notice_every_s` while they last, and when hedging resumes; a margin guard's halt is one
of them). Alert URLs are secrets: failures are logged with the URL redacted; an alert never
blocks a tick for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from bot import secrets
from bot.engine import TickResult
from bot.narrator import AlertGate, Narrator
from bot.notify import Notifier
from bot.ports import Clock
from bot.range_watch import RangeWatch

log = logging.getLogger("lphedge.monitor")


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.last_tick = Gauge(
            "lphedge_last_tick_timestamp_seconds", "Time of the last tick", registry=r
        )
        self.block = Gauge("lphedge_block_number", "Block of the last tick", registry=r)
        self.lp_delta = Gauge(
            "lphedge_lp_delta", "LP delta per asset (base units)", ["asset"], registry=r
        )
        self.gamma = Gauge(
            "lphedge_lp_gamma", "LP gamma per asset (base per USD)", ["asset"], registry=r
        )
        self.orders = Counter("lphedge_orders_total", "Orders sent", registry=r)
        self.halts = Counter(
            "lphedge_halts_total", "Ticks halted by a guard or operator", registry=r
        )
        self.errors = Counter("lphedge_tick_errors_total", "Ticks that failed", registry=r)


class Monitor:
    """Observes ticks: updates metrics, answers /healthz, sends alerts."""

    def __init__(
        self,
        clock: Clock,
        *,
        stale_after_s: float,
        webhook_url: str | None = None,
        telegram: tuple[str, Sequence[str]] | None = None,  # bot token, chat ids
        notice_every_s: float = 300.0,
        notify_urls: Sequence[str] = (),
        telegram_api_url: str = "https://api.telegram.org/bot",
    ) -> None:
        self.metrics = Metrics()
        self.narrator = Narrator(repeat_s=notice_every_s)  # halts and failures, rate-bounded
        self.gate = AlertGate(repeat_s=notice_every_s)  # a chain's guard: not every tick
        self.ranges = RangeWatch()
        self.notifier = Notifier(notify_urls) if notify_urls else None
        self.clock = clock
        self.stale_after_s = stale_after_s
        self.webhook_url = webhook_url
        self.telegram_api_url = telegram_api_url
        self.telegram = telegram
        self.last_tick_ms: int | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        secrets.register(webhook_url, telegram[0] if telegram else None)

    async def observe(self, result: TickResult) -> None:
        m = self.metrics
        now = self.clock.now_ms()
        self.last_tick_ms = now
        m.last_tick.set(now / 1000)
        for notice in self.narrator.observe(result, now):
            await self.alert(notice.text, warning=notice.bad)
        for note in self.gate.filter(result, now):  # failed ticks' too (a chain outage halt)
            await self.alert(note)
        for line in self.ranges.observe(result.book):
            await self.alert(line)
        if result.error:
            m.errors.inc()
            return
        m.block.set(result.block)
        for asset in result.book.assets.values() if result.book else ():
            m.lp_delta.labels(asset.asset).set(float(asset.delta))
            m.gamma.labels(asset.asset).set(asset.gamma)
        m.orders.inc(len(result.acks))
        if result.verdict and result.verdict.halt:
            m.halts.inc()
        for ack in result.acks:
            await self.alert(
                f"order {ack.client_id} {ack.side.value} {ack.filled}/{ack.amount} {ack.symbol}"
                f" @ {ack.average_price}: {ack.status.value}"
            )

    def health(self) -> tuple[int, dict[str, Any]]:
        if self.last_tick_ms is None:
            return 503, {"status": "starting"}
        age = (self.clock.now_ms() - self.last_tick_ms) / 1000
        ok = age <= self.stale_after_s
        return (200 if ok else 503), {"status": "ok" if ok else "stale", "last_tick_age_s": age}

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def _healthz(self, _: web.Request) -> web.Response:
        status, body = self.health()
        return web.json_response(body, status=status)

    async def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Start the HTTP endpoint; returns the bound port (0 picks a free one)."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses
        return int(addresses[0][1]) if addresses else port

    async def alert(self, text: str, *, warning: bool = False) -> None:
        """Post `text` to every channel at once: webhook, Telegram, apprise URLs (there as
        a warning when `warning`: a halt or a failure)."""
        if self.notifier is None:
            await self._post(text)
        else:
            await asyncio.gather(self._post(text), self.notifier.send(text, warning=warning))

    async def _post(self, text: str) -> None:
        targets: list[tuple[str, Mapping[str, Any]]] = []
        if self.webhook_url:
            targets.append((self.webhook_url, {"text": f"lphedge: {text}"}))
        if self.telegram:
            token, chats = self.telegram
            url = f"{self.telegram_api_url}{token}/sendMessage"
            for chat in chats:  # the alert chat, then the command bot's chats
                targets.append((url, {"chat_id": chat, "text": f"lphedge: {text}"}))
        if not targets:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        for url, body in targets:
            try:
                async with self._session.post(url, json=body) as resp:
                    if resp.status >= 400:
                        log.warning(
                            "alert to %s answered HTTP %s", secrets.safe_url(url), resp.status
                        )
            except (TimeoutError, aiohttp.ClientError) as err:
                log.warning(
                    "alert to %s failed: %s", secrets.safe_url(url), secrets.redact(str(err))
                )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
