"""What the operator is told is unhedged right after the bot traded: the hedge read at the
tick's start plus the tick's own fills, not the stale read."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.lp import AssetExposure, ExposureBook
from bot.domain.orders import HedgeTarget, OrderAck, OrderIntent, OrderStatus, Side
from bot.engine import TickResult
from bot.hedge.risk import Verdict
from bot.narrator import AlertGate, Narrator


def _intent(cid: str, contracts: str, base: str) -> OrderIntent:
    return OrderIntent(
        "p",
        0,
        "okx",
        "ETH/USDT:USDT",
        Side.SELL,
        Decimal(contracts),
        Decimal(base),
        False,
        cid,
        "",
        Decimal(3000),
    )


def test_a_failure_after_a_fill_names_what_is_unhedged_after_that_fill() -> None:
    book = ExposureBook(
        7, 0, {"ETH": AssetExposure("ETH", Decimal("12.5"), -0.01, Decimal(3000), 1)}
    )
    target = HedgeTarget("ETH", "ETH/USDT:USDT", Decimal("-12.5"), "band")
    # 100 OKX contracts of 0.1 ETH: 10 ETH sold of the 12.5 wanted
    ack = OrderAck(
        "c1",
        "v1",
        "ETH/USDT:USDT",
        Side.SELL,
        OrderStatus.FILLED,
        Decimal(125),
        Decimal(100),
        Decimal(3000),
    )
    traded = TickResult(
        7,
        book,
        (target,),
        (_intent("c1", "125", "12.5"),),
        Verdict(()),
        (ack,),
        hedges={"ETH": Decimal(0)},
    )
    failed = TickResult(8, None, (), (), None, (), error="ledger down")
    n = Narrator(repeat_s=300)
    assert n.observe(traded, 1_000) == []
    [notice] = n.observe(failed, 2_000)
    assert notice.text.endswith("unhedged ETH 2.5"), notice.text  # 12.5 - 10, not 12.5


def _alerting(*alerts: str, error: str | None = None) -> TickResult:
    return TickResult(1, None, (), (), None, (), error=error, alerts=alerts)


def test_a_chains_guard_alert_is_told_when_it_starts_every_repeat_and_when_it_ends() -> None:
    """The per-chain guard says `not trading ETH` every tick it lasts: once a block on a
    webhook is noise. Event alerts (trades by hand) pass every time."""
    gate = AlertGate(repeat_s=300)
    stale = "not trading ETH: chain base stale (block 130 s old)"
    staler = "not trading ETH: chain base stale (block 142 s old)"
    by_hand = "trade by hand on ETH/USDT:USDT: +1.5"
    assert gate.filter(_alerting(stale), 0) == [stale]
    assert gate.filter(_alerting(staler, by_hand), 12_000) == [by_hand]  # same state, new figures
    assert gate.filter(
        _alerting(by_hand),
        13_000,
    ) == [
        by_hand,
        "trading ETH again: its chains are read",
    ]
    assert gate.filter(_alerting(stale), 20_000) == [stale]  # a new spell is told again
    assert gate.filter(_alerting(stale), 319_000) == []
    assert gate.filter(_alerting(staler), 320_000) == [staler]  # the reminder
    assert gate.filter(_alerting(error="ledger down"), 321_000) == []  # a failed tick: unknown
    assert gate.filter(_alerting(), 322_000) == ["trading ETH again: its chains are read"]


def test_an_unhedgeable_asset_is_told_at_start_and_every_repeat_but_its_end_is_not() -> None:
    gate = AlertGate(repeat_s=300)
    btc = "not hedging BTC: no venue symbol for it in venue.symbols (has ETH); its LP delta 4.66"
    assert gate.filter(_alerting(btc), 0) == [btc]
    assert gate.filter(_alerting(btc), 12_000) == []
    assert gate.filter(_alerting(btc), 300_000) == [btc]
    assert gate.filter(_alerting(), 312_000) == []  # gone (the position closed): not news
