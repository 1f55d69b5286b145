"""Option legs: planned by symbol, sized in contracts rounded toward zero, limit IOC prices
beyond the touch by the slippage, reduce-only when closing, and each skip with its reason.

Market rules: Deribit ETH options (inverse, 1 ETH per contract, min 1 contract, tick
0.0001 ETH); a USD-settled market with 0.1 contract steps and tick 0.1 USDC; and an
OKX-style one of 0.1 ETH per contract to show contracts = base / contract size.
"""

from __future__ import annotations

from decimal import Decimal as D

from bot.domain.market import Instrument, InstrumentKind, OptionType, Quote
from bot.domain.orders import HedgeTarget, Side
from bot.hedge.planner import Plan, client_id, plan, plan_options

CALL = "ETH/USD:ETH-240329-3600-C"
USD_PUT = "ETH/USDC:USDC-240329-3400-P"
OKX_CALL = "ETH/USD:ETH-240329-4000-C"
PERP = Instrument("deribit", "ETH/USD:ETH", "ETH", contract_size=D(1), inverse=True)


def option(symbol: str, **kw: object) -> Instrument:
    args: dict[str, object] = dict(
        venue="paper",
        symbol=symbol,
        asset="ETH",
        kind=InstrumentKind.OPTION,
        amount_step=D(1),
        min_amount=D(1),
        price_step=D("0.0001"),
        inverse=True,
        settle="ETH",
        strike=D(3600),
        expiry_ms=1_711_699_200_000,
        option_type=OptionType.CALL,
    )
    args.update(kw)
    return Instrument(**args)  # type: ignore[arg-type]


INSTRUMENTS = {
    CALL: option(CALL),
    USD_PUT: option(
        USD_PUT,
        amount_step=D("0.1"),
        min_amount=D("0.5"),
        price_step=D("0.1"),
        inverse=False,
        settle="USDC",
        strike=D(3400),
        option_type=OptionType.PUT,
    ),
    OKX_CALL: option(OKX_CALL, contract_size=D("0.1"), amount_step=D(1), min_amount=D(1)),
}
QUOTES = {
    CALL: Quote(CALL, 0, D("0.0213"), bid=D("0.0207"), ask=D("0.0220")),
    USD_PUT: Quote(USD_PUT, 0, D("41.3"), bid=D("40.1"), ask=D("42.6")),
    OKX_CALL: Quote(OKX_CALL, 0, D("0.0050"), bid=None, ask=D("0.0052")),
}
PRICES = {"ETH": D("3512.5")}


def want(symbol: str, base: str, act: bool = True) -> HedgeTarget:
    return HedgeTarget("ETH", symbol, D(base), "overlay", act)


def run(
    targets: list[HedgeTarget],
    held: dict[str, D] | None = None,
    *,
    max_slippage: D = D("0.05"),
    first_leg: int = 0,
) -> Plan:
    return plan_options(
        targets,
        held or {},
        INSTRUMENTS,
        QUOTES,
        PRICES,
        "p1",
        max_slippage=max_slippage,
        first_leg=first_leg,
    )


def test_buy_is_a_limit_ioc_at_ask_plus_slippage_rounded_down_to_the_tick() -> None:
    p = run([want(CALL, "3.9")], max_slippage=D("0.05"))
    (i,) = p.intents
    assert (i.symbol, i.side, i.amount, i.amount_base) == (CALL, Side.BUY, D(3), D(3))
    assert i.order_type == "limit" and not i.reduce_only
    assert i.limit_price == D("0.0231")  # 0.0220 x 1.05 = 0.0231
    assert i.decision_price == D("3512.5")  # the underlying's USD price, not the premium
    assert i.venue == "paper" and i.reason == "overlay"
    tight = run([want(CALL, "1")], max_slippage=D("0.03")).intents[0]
    assert tight.limit_price == D("0.0226")  # 0.02266 rounded down: never crosses more


def test_sell_limit_is_bid_minus_slippage_rounded_up() -> None:
    (i,) = run([want(USD_PUT, "-2.37")], max_slippage=D("0.05")).intents
    assert (i.side, i.amount, i.amount_base) == (Side.SELL, D("2.3"), D("2.3"))  # toward zero
    assert i.limit_price == D("38.1")  # 40.1 x 0.95 = 38.095 -> 38.1


def test_contracts_are_base_over_contract_size() -> None:
    (i,) = run([want(OKX_CALL, "1.27")]).intents
    assert i.amount == D(12) and i.amount_base == D("1.2")  # 12.7 contracts of 0.1 ETH -> 12


def test_closing_is_reduce_only_and_a_flip_is_split() -> None:
    close = run([want(CALL, "0")], {CALL: D(5)}).intents
    assert [(i.side, i.amount, i.reduce_only) for i in close] == [(Side.SELL, D(5), True)]
    flip = run([want(CALL, "2")], {CALL: D(-3)}).intents
    assert [(i.side, i.amount, i.reduce_only) for i in flip] == [
        (Side.BUY, D(3), True),
        (Side.BUY, D(2), False),
    ]
    assert [i.leg for i in flip] == [0, 1]


def test_skips_name_the_reason() -> None:
    p = run(
        [
            want(CALL, "0.6"),  # below one 1-ETH contract
            want(USD_PUT, "0.3"),  # 0.3 contracts < min 0.5
            want(OKX_CALL, "-2"),  # selling needs a bid; there is none
            want("ETH/USD:ETH-240329-9999-C", "1"),  # not listed
            want(CALL, "7", act=False),  # strategy holds: no leg, no skip
        ]
    )
    assert p.intents == ()
    reasons = [s.reason for s in p.skipped]
    assert reasons == [
        "0.6 contracts rounds to 0 at step 1",
        "0.3 contracts below the venue minimum 0.5",
        f"no bid for {OKX_CALL}",
        "no option instrument for ETH/USD:ETH-240329-9999-C",
    ]
    no_quote = plan_options([want(CALL, "1")], {}, INSTRUMENTS, {}, PRICES, "p1")
    assert no_quote.skipped[0].reason == f"no quote for {CALL}"
    perp_as_option = plan_options(
        [want("ETH/USD:ETH", "1")], {}, {"ETH/USD:ETH": PERP}, QUOTES, PRICES, "p1"
    )
    assert "no option instrument" in perp_as_option.skipped[0].reason


def test_option_legs_continue_the_perp_legs_of_the_plan() -> None:
    perp = Instrument("paper", "ETH/USDT:USDT", "ETH", min_amount=D("0.001"))
    perps = plan([HedgeTarget("ETH", "", D(-2), "perp")], {}, {"ETH": perp}, PRICES, "p1")
    opts = run([want(CALL, "2"), want(USD_PUT, "1")], first_leg=len(perps.intents))
    legs = [i.leg for i in perps.intents + opts.intents]
    assert legs == [0, 1, 2]
    cids = [i.client_id for i in perps.intents + opts.intents]
    assert len(set(cids)) == 3 and opts.intents[0].client_id == client_id("p1", 1)
