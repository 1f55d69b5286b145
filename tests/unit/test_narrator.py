"""What the operator is told is unhedged right after the bot traded: the hedge read at the
tick's start plus the tick's own fills, not the stale read."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.lp import AssetExposure, ExposureBook
from bot.domain.orders import HedgeTarget, OrderAck, OrderIntent, OrderStatus, Side
from bot.engine import TickResult
from bot.hedge.risk import Verdict
from bot.narrator import Narrator


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
