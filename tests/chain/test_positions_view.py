"""`lphedge positions` tables on the dev world: USD columns in USD, only assets held, and
readable at 80 and 120 columns.

The WETH/WBTC pool quotes in WBTC, so its positions' `value` is in BTC; the tables convert
it at the pools' prices (ETH/USD from USDC/WETH, then BTC/USD through WETH/WBTC).
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from rich.console import Console

from bot import exposure
from bot.commands.positions_view import pool_usd_prices, print_table, snapshot_json
from bot.domain.lp import ChainSnapshot, ExposureBook
from bot.domain.market import AssetMap
from bot.report import readable
from tests.chain.test_v3_positions import read
from tests.support.anvil import ChainWorld

pytestmark = pytest.mark.chain

USDC_WETH_IN, WBTC_IN, WBTC_BELOW, WBTC_ABOVE = 1, 9, 10, 11


async def _book(cw: ChainWorld, *ids: int) -> tuple[ChainSnapshot, ExposureBook]:
    snap = await read(cw, token_ids=ids)
    return snap, exposure.book(snap, AssetMap())


def _lines(snap: ChainSnapshot, ex: ExposureBook, width: int) -> list[str]:
    buf = io.StringIO()
    print_table(snap, ex, Console(file=buf, width=width, color_system=None))
    return buf.getvalue().splitlines()


async def test_a_btc_quoted_value_is_converted_to_usd(chain_world: ChainWorld) -> None:
    snap, ex = await _book(chain_world, USDC_WETH_IN, WBTC_IN, WBTC_BELOW)
    eth_usd, btc_per_eth = ex.positions[0].price, ex.positions[2].price
    below = snapshot_json(snap, ex)["positions"][2]
    value_btc = Decimal(below["value"])
    assert below["quote"] == "BTC" and round(value_btc, 6) == Decimal("1.5")  # all in WBTC
    expected = value_btc * eth_usd / btc_per_eth
    assert abs(Decimal(below["value_usd"]) - expected) < Decimal("0.000001")
    assert pool_usd_prices(ex.positions)["BTC"] == pytest.approx(eth_usd / btc_per_eth)
    rows = [line for line in _lines(snap, ex, 120) if line.startswith("│ 10 ")]
    (row,) = rows
    assert readable.usd(Decimal(below["value_usd"])) in row  # 88,8xx.xx, not "1.5"


async def test_the_asset_table_shows_only_assets_held(chain_world: ChainWorld) -> None:
    snap, ex = await _book(chain_world, USDC_WETH_IN, WBTC_ABOVE)
    assert ex.assets["BTC"].delta == 0  # the pool above the range holds WETH only
    assert not any(line.startswith("│ BTC") for line in _lines(snap, ex, 120))
    snap, ex = await _book(chain_world, USDC_WETH_IN, WBTC_BELOW)
    (btc,) = [line for line in _lines(snap, ex, 120) if line.startswith("│ BTC")]
    assert btc.split("│")[-2].strip() == "1"  # held in one position, though not its base


@pytest.mark.parametrize("width", [80, 120])
async def test_positions_tables_fit_one_line_per_row(chain_world: ChainWorld, width: int) -> None:
    ids = (1, 2, 5, 9, 10, 11, 13, 14)
    snap, ex = await _book(chain_world, *ids)
    lines = _lines(snap, ex, width)
    assert max(len(line) for line in lines) <= width
    held = sum(1 for a in ex.assets.values() if a.delta != 0 or a.positions)
    assert sum(1 for line in lines if line.startswith("│")) == len(ids) + held
    text = "\n".join(lines)
    for e in ex.positions:
        assert f"{readable.qty(e.delta)} {e.base}" in text  # every delta whole, with its unit
