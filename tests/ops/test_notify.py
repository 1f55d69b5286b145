"""Alerts through apprise (`ops.notify_urls`) as a channel receives them: a local HTTP sink
behind a real `json://` URL; failures logged without the URL's secrets; LP range crossings
told once each."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.lp import AssetExposure, ExposureBook, PositionExposure
from bot.engine import TickResult
from bot.errors import ConfigError
from bot.hedge.risk import Verdict
from bot.logs import RedactingFilter
from bot.monitor import Monitor
from bot.notify import Notifier

SECRET = "hook-token-9f8e7d6c5b4a39281706"


class Sink:
    """An HTTP endpoint that keeps what is posted to it (or answers `status`)."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.status = 200
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def _post(self, request: web.Request) -> web.Response:
        self.got.append({"path": request.path, **await request.json()})
        return web.json_response({}, status=self.status)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/alerts/{SECRET}"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = Sink()
    await s.start()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    """What the bot's log handler writes (it redacts, as `bot.logs` sets it up), every
    logger at DEBUG, as with `--verbose`."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_a_json_url_receives_the_alert(sink: Sink) -> None:
    notifier = Notifier([sink.url()])
    assert await notifier.send("halted: stale chain data; unhedged ETH 2.5") == 1
    assert len(sink.got) == 1
    got = sink.got[0]
    assert got["path"] == f"/alerts/{SECRET}"
    assert got["title"] == "lphedge"
    assert got["message"] == "halted: stale chain data; unhedged ETH 2.5"
    assert got["type"] == "info"
    assert await notifier.send("margin low", warning=True) == 1
    assert sink.got[1]["type"] == "warning"


async def test_a_failing_url_does_not_raise_and_its_secret_is_not_logged(
    sink: Sink, stderr: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lphedge")
    sink.status = 500
    closed = f"json://user:pw-{SECRET}@127.0.0.1:9/alerts/{SECRET}"  # nothing listens on 9
    notifier = Notifier([sink.url(), closed])
    assert await notifier.send("order filled") == 0
    assert len(sink.got) == 1  # it was tried
    ours = sorted(r.getMessage() for r in caplog.records if r.name == "lphedge.notify")
    assert ours == [  # sent at once, so in either order
        "alert to ops.notify_urls[0] (json) failed (FAILURE): "
        "Failed to send JSON POST notification: Internal server error., error=500.",
        "alert to ops.notify_urls[1] (json) failed (FAILURE): "
        "A Connection error occurred sending JSON notification to ***.",
    ]
    logged = stderr.getvalue()
    assert "alert to ops.notify_urls[1] (json) failed" in logged
    assert '"POST /alerts/*** HTTP/1.1" 500' in logged  # urllib3's debug line, redacted
    assert SECRET not in logged and SECRET not in caplog.text


async def test_a_url_apprise_cannot_use_is_a_config_error_naming_its_index() -> None:
    with pytest.raises(ConfigError) as err:
        Notifier(["json://127.0.0.1/ok", f"nosuchscheme://{SECRET}"])
    assert str(err.value).startswith("ops.notify_urls[1] (nosuchscheme): not a URL apprise")
    assert SECRET not in str(err.value)


def test_notify_urls_are_secrets_of_the_config() -> None:
    settings = Settings.model_validate({"ops": {"notify_urls": [f"slack://{SECRET}/B/C"]}})
    assert f"slack://{SECRET}/B/C" in settings.secret_values()
    assert SECRET not in repr(settings.ops)


def position(in_range: bool, price: str, pid: str = "4242") -> PositionExposure:
    return PositionExposure(
        position_id=pid,
        pool="0xPool",
        base="ETH",
        quote="USDC",
        in_range=in_range,
        amount0=Decimal(1),
        amount1=Decimal(0),
        fees0=Decimal(0),
        fees1=Decimal(0),
        price=Decimal(price),
        value=Decimal(3000),
        delta=Decimal(1),
        gamma=0.0,
        deltas={"ETH": Decimal(1)},
        price_lower=Decimal("2800"),
        price_upper=Decimal("3400"),
    )


def tick(*positions: PositionExposure, alerts: tuple[str, ...] = ()) -> TickResult:
    asset = AssetExposure("ETH", Decimal(1), 0.0, Decimal(3000), len(positions))
    book = ExposureBook(7, 0, {"ETH": asset}, positions)
    return TickResult(7, book, (), (), Verdict(()), (), alerts=alerts, hedges={"ETH": Decimal(-1)})


async def test_range_crossings_and_drift_reach_every_channel_once(sink: Sink) -> None:
    mon = Monitor(
        FixedClock(0),
        stale_after_s=60,
        webhook_url=f"http://127.0.0.1:{sink.port}/webhook/{SECRET}",
        notify_urls=[sink.url()],
    )
    drift = "position drift on ETH/USDT:USDT: ledger -1, venue -2; halting"
    try:
        await mon.observe(tick(position(True, "3000"), position(False, "2500", "77")))
        await mon.observe(tick(position(True, "3100"), position(False, "2400", "77")))
        await mon.observe(tick(position(False, "3500.5"), position(False, "2400", "77")))
        await mon.observe(tick(position(False, "3600")))  # 77 not read this tick
        await mon.observe(tick(position(True, "3300"), position(False, "2450", "77")))
        await mon.observe(tick(position(True, "3300"), alerts=(drift,)))
    finally:
        await mon.close()
    told = [g["message"] for g in sink.got if "message" in g]
    assert told == [
        "position 77 (ETH/USDC) out of range: price 2,500.00 below 2,800.00-3,400.00; "
        "it earns no fees there",
        "position 4242 (ETH/USDC) out of range: price 3,500.50 above 2,800.00-3,400.00; "
        "it earns no fees there",
        "position 4242 (ETH/USDC) back in range: price 3,300.00 in 2,800.00-3,400.00",
        drift,
    ]
    webhook = [g["text"] for g in sink.got if "text" in g]
    assert webhook == [f"lphedge: {t}" for t in told]
