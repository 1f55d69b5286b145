"""Farm rewards in the report: per reward token, the growth of each staked position's
pending reward over the window (all of it after a harvest), in the token's units and out
of `net`; a ledger without staked positions gets the report it always got."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from bot import report as review
from bot.domain import events as ev
from bot.domain.events import to_payload
from bot.domain.orders import LedgerEvent
from bot.errors import InputError
from tests.report.ledger_data import MemoryLedger, small_ledger, tick

CAKE = "0x0E09FaBB73Bd3Ade0a17ECC321fD13a19e81cE82"
DAY = 86_400_000


def farmed(pending: dict[str, str], block: int) -> dict[str, Any]:
    """A TICK payload whose position 4242 (and 4243, a copy) is staked with `pending` Cake."""
    payload = to_payload(tick(block, "2000", "1", "2000", "0", "0", "0", "2000"))
    rows = payload["positions"]
    rows.append({**rows[0], "position_id": "4243"})
    for row in rows:
        if row["position_id"] in pending:
            row["staked_in"] = "0xMasterChef"
            amount = pending[row["position_id"]]
            row["rewards"] = [
                {"token": CAKE, "symbol": "Cake", "amount_raw": "0", "amount": amount}
            ]
    return payload


def ledger(*pendings: dict[str, str]) -> MemoryLedger:
    led = MemoryLedger()
    for i, pending in enumerate(pendings):
        payload = farmed(pending, i + 1)
        led.rows.append(LedgerEvent(len(led.rows) + 1, i * DAY, "run1", ev.TICK, payload))
    return led


def test_earned_is_the_growth_and_all_of_it_after_a_harvest() -> None:
    # 4242: 1 -> 3 -> harvested, 0.5 accrued since -> 2; 4243 staked from the second tick
    led = ledger(
        {"4242": "1"},
        {"4242": "3", "4243": "7"},
        {"4242": "0.5", "4243": "9"},
        {
            "4242": "2",
            "4243": "9",
        },
    )
    rep = review.build(led)
    (row,) = rep.to_json()["farm_rewards"]
    earned = D(2) + D("0.5") + D("1.5") + D(2)  # 4242: +2, +0.5, +1.5; 4243: +2 (its first: 0)
    assert row == {"symbol": "Cake", "token": CAKE, "earned": "6", "positions": 2}
    assert earned == 6
    assert "net" in rep.to_json()["total"]  # rewards stay out of the USD identity
    window = review.build(led, since_ms=2 * DAY)  # the last two ticks: +0.5 +1.5 +2, +0
    assert window.to_json()["farm_rewards"][0]["earned"] == "4"
    html = rep.to_html()
    assert 'id="table-farm_rewards"' in html and "not in net" in html


def test_a_ledger_without_staked_positions_has_no_farm_table(tmp_path: Path) -> None:
    rep = review.build(small_ledger())
    assert "farm_rewards" not in rep.to_json()
    assert "farm_rewards" not in {p.stem for p in rep.write_csv(tmp_path)}


def test_a_reward_that_does_not_parse_names_the_event() -> None:
    led = ledger({"4242": "1"})
    led.rows[0].payload["positions"][0]["rewards"][0]["amount"] = "lots"  # type: ignore[index]
    with pytest.raises(InputError, match=r"^ledger event seq 1 \(tick\): a staked position's re"):
        review.build(led)
