"""The OKX dialect held to OKX's own JSON as the ccxt repository records it
(recorded/okx.json): per recorded method, the same ccxt call (a) against the dialect, whose
raw answer must carry every key the venue sends with the same JSON type, and (b) against the
recorded answer served as it is, whose unified result must not hold a value ours lacks.

The recordings are of LTC-USDT-SWAP and BTC-USDT-SWAP, so the account lists LTC too and holds
a 1-contract LTC long (and the trade, order and bills behind it) before each call. ccxt's
file records no fetchFundingHistory, fetchLeverage or fetchPositionMode: fetchLedger (the
bills row that funding bills share) and fetchAccounts (the account config fetchPositionMode
reads) stand in for them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.emulator.test_okx_dialect import Clock, make_okx, okx_emulator
from tests.support.emulator import Emulator, recorded

RECORDED = recorded.load("okx")
# ccxt method -> the OKX endpoint it calls (ccxt okx 4.5.90 defaults)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "createOrder": ("POST", "/api/v5/trade/batch-orders"),
    "fetchBalance": ("GET", "/api/v5/account/balance"),
    "fetchAccounts": ("GET", "/api/v5/account/config"),
    "fetchClosedOrders": ("GET", "/api/v5/trade/orders-history"),
    "fetchMyTrades": ("GET", "/api/v5/trade/fills-history"),
    "fetchPositions": ("GET", "/api/v5/account/positions"),
    "fetchPosition": ("GET", "/api/v5/account/positions"),
    "fetchLedger": ("GET", "/api/v5/account/bills"),
    "fetchOrderBook": ("GET", "/api/v5/market/books"),
    "fetchTime": ("GET", "/api/v5/public/time"),
}


def _snake(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


def test_the_fixture_names_its_source_and_covers_every_endpoint() -> None:
    assert RECORDED["source"].startswith("ccxt/ccxt ts/src/test/static/response/okx.json @ ")
    assert RECORDED["license"] == "MIT (ccxt)"
    assert set(RECORDED["methods"]) == set(ENDPOINTS)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with okx_emulator(Clock(), ltc=True) as e:
        yield e


@pytest.fixture
async def okx(emu: Emulator) -> AsyncIterator[Any]:
    ex = make_okx(emu)
    await ex.load_markets()
    await ex.create_order("LTC/USDT:USDT", "market", "buy", 1, None, {"clOrdId": "ltcopen1"})
    yield ex
    await ex.close()


@pytest.mark.parametrize("method", sorted(ENDPOINTS))
async def test_dialect_answers_in_the_recorded_shape(emu: Emulator, okx: Any, method: str) -> None:
    example = RECORDED["methods"][method]
    http_method, path = ENDPOINTS[method]
    call = getattr(okx, _snake(method))
    ours = await call(*example["input"])
    assert (
        recorded.shape_mismatches(recorded.last_json(emu.requests, path), example["httpResponse"])
        == []
    )
    emu.override(http_method, path, example["httpResponse"])
    theirs = await call(*example["input"])
    ignore: tuple[str, ...] = ()
    if method == "fetchBalance":  # the recorded balance holds 13 coins; our account USDT only
        ignore = tuple(k for k in theirs if k.isupper() and k not in ours)
    assert recorded.unified_mismatches(ours, theirs, ignore) == []


async def test_recorded_answers_parse_as_ccxt_recorded_them(emu: Emulator, okx: Any) -> None:
    """The fixture is ccxt's own: served back, ccxt 4.5.90 parses it to the recorded ids,
    sides and amounts (so the conformance above compares against real venue JSON)."""
    checks = {
        "fetchMyTrades": ("id", "side", "amount", "price"),
        "fetchClosedOrders": ("id", "clientOrderId", "status", "filled"),
        "fetchPositions": ("symbol", "side", "contracts", "entryPrice"),
        "createOrder": ("id", "clientOrderId", "symbol"),
    }
    for method, keys in checks.items():
        example = RECORDED["methods"][method]
        http_method, path = ENDPOINTS[method]
        emu.override(http_method, path, example["httpResponse"])
        parsed = await getattr(okx, _snake(method))(*example["input"])
        mine = parsed[0] if isinstance(parsed, list) else parsed
        want = example["parsedResponse"]
        want = want[0] if isinstance(want, list) else want
        assert {k: mine[k] for k in keys} == {k: want[k] for k in keys}, method
