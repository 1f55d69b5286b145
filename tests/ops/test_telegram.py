"""The Telegram command bot as an operator's phone sees it: python-telegram-bot, pointed by
base URL at a local server that speaks the Bot API (long polling with offsets, messages,
documents, inline buttons), answering from a desk on a real SQLite ledger."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.api.desk import Desk
from bot.clock import FixedClock, SystemClock
from bot.config import Settings
from bot.domain import events as ev
from bot.ledger.store import Ledger
from bot.telegram import TelegramControl, start_telegram
from tests.report.ledger_data import small_ledger
from tests.support.bot_api import CHAT, OTHER_USER, STRANGER, TOKEN, USER, FakeBotApi


@dataclass
class Phone:
    api: FakeBotApi
    ledger: Ledger
    clock: FixedClock
    control: TelegramControl

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [e.payload for e in self.ledger.events([kind])]


def settings_for(api: FakeBotApi, **ops: Any) -> Settings:
    return Settings.model_validate(
        {
            "ops": {
                "telegram_token": TOKEN,
                "telegram_api_url": f"{api.url}/bot",
                "telegram_file_url": f"{api.url}/file/bot",
                "telegram_allowed_chats": [CHAT],
                **ops,
            }
        }
    )


def filled_ledger(path: Path) -> Ledger:
    """Three ticks over two UTC days, two fills, one funding payment and a guard halt."""
    ledger = Ledger.open("sqlite:///" + str(path))
    for e in small_ledger().rows:
        ledger.append(e.kind, e.payload, ts_ms=e.ts_ms)
    return ledger


@pytest.fixture
async def phone(tmp_path: Path) -> AsyncIterator[Phone]:
    api = FakeBotApi()
    await api.start()
    ledger = filled_ledger(tmp_path / "ledger.db")
    desk = Desk(settings_for(api), ledger, SystemClock())
    clock = FixedClock(SystemClock().now_ms())
    control = await start_telegram(settings_for(api), desk, clock=clock)
    assert control is not None
    try:
        yield Phone(api, ledger, clock, control)
    finally:
        await control.close()
        desk.close()
        await api.close()


async def test_an_allowed_chat_gets_short_answers_and_the_report(phone: Phone) -> None:
    api = phone.api
    status = await api.reply_to("/status")
    assert status["chat_id"] == str(CHAT)
    lines = status["text"].splitlines()
    assert lines[0] == "paper on binanceusdm, delta_band"
    assert lines[1].startswith("last tick ") and lines[1].endswith("ago, block 3")
    assert "hedging" in lines
    assert "ETH net 0.602 (~$1,144): LP 1.102, hedge -0.500" in lines

    pnl = (await api.reply_to("/pnl"))["text"].splitlines()
    assert pnl[:4] == [
        "PnL in USD, whole ledger",
        "net -106.66",
        "LP -101.20: fees 9.00, IL -30.00, hold -80.20",
        "hedge -3.50: realised -52.00, unrealised 48.50",
    ]
    assert "funding -1.25, trading fees -0.71" in pnl

    daily = (await api.reply_to("/daily")).get("text", "")
    assert daily.splitlines() == [
        "PnL per UTC day in USD, last 2 of 2",
        "2024-01-01: net -3.40",
        "  LP 99.10, hedge -102.00, funding 0.00, trading fees -0.50",
        "2024-01-02: net -103.26",
        "  LP -200.30, hedge 98.50, funding -1.25, trading fees -0.21",
    ]
    assert (await api.reply_to("/daily 1"))["text"].splitlines()[1] == "2024-01-02: net -103.26"
    assert (await api.reply_to("/daily 0"))["text"] == (
        "refused: days: give a number 1..31, e.g. /daily 14"
    )

    exposure = (await api.reply_to("/exposure"))["text"]
    assert "#4242 ETH/USD in range, price 1,900.00, value 3,890 USD, delta 1.100" in exposure
    assert "ETH net 0.602" in (await api.reply_to("/hedges"))["text"]

    report = await api.reply_to("/report")
    assert report["method"] == "sendDocument"
    assert report["document"]["filename"] == "lphedge-report.html"
    html = report["document"]["content"].decode()
    assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html

    assert "/flatten <reason>" in (await api.reply_to("/help"))["text"]
    assert (await api.reply_to("/nope"))["text"] == "unknown command /nope: /help"
    menu = next(f for m, f in api.calls if m == "setMyCommands")
    assert "status" in menu["commands"]


async def test_flatten_asks_first_and_only_the_confirmation_halts(phone: Phone) -> None:
    api, halts = phone.api, len(phone.kinds(ev.HALT))
    ask = await api.reply_to("/flatten venue looks wrong")
    assert "Confirm within 60 s" in ask["text"]
    assert len(phone.kinds(ev.HALT)) == halts  # asking changes nothing

    buttons = ask["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["Flatten now", "Cancel"]
    message = {"message_id": 7, "date": 0, "chat": {"id": CHAT, "type": "private"}, "text": "?"}
    before = len(api.outgoing())
    api.press(message, buttons[0]["callback_data"])
    done = await api.next_outgoing(before)
    assert done["method"] == "editMessageText"
    assert done["text"].startswith("halted with flatten (ledger seq ")
    assert any(m == "answerCallbackQuery" for m, _ in api.calls)

    halt = phone.kinds(ev.HALT)[-1]
    assert len(phone.kinds(ev.HALT)) == halts + 1
    assert halt["flatten"] is True and halt["by"] == f"telegram:{USER}"
    assert halt["reason"] == "venue looks wrong" and halt["source"] == "operator"
    status = (await api.reply_to("/status"))["text"]
    assert "HALTED, flattening" in status and "venue looks wrong" in status

    # a code confirms once
    before = len(api.outgoing())
    api.press(message, buttons[0]["callback_data"])
    assert (await api.next_outgoing(before))["text"].startswith("refused: confirmation: no such")
    assert len(phone.kinds(ev.HALT)) == halts + 1


async def test_a_typed_confirmation_is_the_askers_own_and_expires(phone: Phone) -> None:
    api, halts = phone.api, len(phone.kinds(ev.HALT))
    code = (await api.reply_to("/flatten gas spike"))["text"].rsplit(" ", 1)[1]
    other = await api.reply_to(f"/flatten confirm {code}", user=OTHER_USER)
    assert other["text"] == "refused: confirmation: only who asked can confirm it"
    wrong = await api.reply_to("/flatten confirm 000000x")
    assert wrong["text"].startswith("refused: confirmation: no such code pending")
    assert (await api.reply_to("/flatten"))["text"].startswith("refused: reason: say why")

    phone.clock.advance(61)
    late = await api.reply_to(f"/flatten confirm {code}")
    assert late["text"] == (
        "refused: confirmation: expired after 60 s; send /flatten <reason> again"
    )
    assert len(phone.kinds(ev.HALT)) == halts

    code = (await api.reply_to("/flatten gas spike")).get("text", "").rsplit(" ", 1)[1]
    phone.clock.advance(59)
    ok = await api.reply_to(f"/flatten confirm {code}")
    assert ok["text"].startswith("halted with flatten")
    assert phone.kinds(ev.HALT)[-1]["flatten"] is True


async def test_halt_and_resume_are_recorded_with_who_and_why(phone: Phone) -> None:
    api, halts = phone.api, len(phone.kinds(ev.HALT))
    refused = await api.reply_to("/halt")
    assert refused["text"] == "refused: reason: say why (it goes into the ledger with your name)"
    assert len(phone.kinds(ev.HALT)) == halts

    halted = await api.reply_to("/halt rolling the   RPC node")
    assert halted["text"].startswith("halted (ledger seq ")
    halt = phone.kinds(ev.HALT)[-1]
    assert halt["reason"] == "rolling the RPC node" and halt["flatten"] is False
    assert halt["by"] == f"telegram:{USER}"
    assert "HALTED" in (await api.reply_to("/status"))["text"]
    api.send("/halt rolling the RPC node", kind="edited_message")  # an edit does not act again
    await api.reply_to("/help")
    assert len(phone.kinds(ev.HALT)) == halts + 1

    resumed = await api.reply_to("/resume node is back", user=OTHER_USER)
    assert resumed["text"].startswith("resumed (ledger seq ")
    resume = phone.kinds(ev.RESUME)[-1]
    assert resume["reason"] == "node is back" and resume["by"] == f"telegram:{OTHER_USER}"
    assert "hedging" in (await api.reply_to("/status"))["text"].splitlines()


async def test_an_unknown_chat_gets_no_reply_and_one_log_line(
    phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lphedge")
    api, halts = phone.api, len(phone.kinds(ev.HALT))
    api.send("/halt my secret plan", chat=STRANGER, user=STRANGER)
    api.send("/status", chat=STRANGER, user=STRANGER)
    await api.reply_to("/help")  # updates are handled in order: the stranger's came first
    assert all(f.get("chat_id") != str(STRANGER) for _, f in api.calls)
    assert len(phone.kinds(ev.HALT)) == halts
    ignored = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert ignored == [
        f"telegram: ignored /halt from chat {STRANGER} (not in ops.telegram_allowed_chats)",
        f"telegram: ignored /status from chat {STRANGER} (not in ops.telegram_allowed_chats)",
    ]
    assert "secret" not in caplog.text


async def test_no_command_bot_without_a_token_or_an_allowed_chat(tmp_path: Path) -> None:
    api = FakeBotApi()
    ledger = Ledger.open("sqlite:///" + str(tmp_path / "l.db"))
    desk = Desk(Settings.model_validate({}), ledger, SystemClock())
    try:
        assert await start_telegram(Settings.model_validate({}), desk) is None
        alone = settings_for(api, telegram_allowed_chats=[])
        assert await start_telegram(alone, desk) is None
        assert api.calls == []
    finally:
        desk.close()
