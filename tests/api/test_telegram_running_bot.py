"""Telegram against a running bot: `lphedge run` with a bot token and an allowed chat,
python-telegram-bot pointed at a local Bot API server. A phone's /halt reaches the engine
and the ledger (naming the Telegram user), its alerts arrive in the same chat, and a
stranger's /halt does nothing and gets nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from bot.ledger.store import Ledger
from tests.api.conftest import RunningBot, start_bot, stop_bot
from tests.support.anvil import ChainWorld
from tests.support.bot_api import CHAT, STRANGER, TOKEN, USER, FakeBotApi


def _halts(db: Path) -> list[Any]:
    with Ledger.open(f"sqlite:///{db}", create=False) as ledger:
        return [e for e in ledger.events(["halt"]) if e.payload.get("source") == "operator"]


def _ticks_after(db: Path, seq: int) -> list[Any]:
    with Ledger.open(f"sqlite:///{db}", create=False) as ledger:
        return ledger.events(["tick"], since_seq=seq)


async def _until(check: Any, what: str, within_s: float = 15) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(check)
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} within {within_s} s")


@pytest.mark.slow
async def test_a_phone_halts_the_running_bot_and_hears_its_alerts(
    api_world: ChainWorld, tmp_path: Path
) -> None:
    api = FakeBotApi()
    await api.start()
    ops = (
        f'telegram_token = "{TOKEN}"\ntelegram_allowed_chats = [{CHAT}]\n'
        f'telegram_api_url = "{api.url}/bot"\ntelegram_file_url = "{api.url}/file/bot"'
    )
    bot: RunningBot = await asyncio.to_thread(start_bot, api_world, tmp_path, "delta_band", ops)
    try:
        await _until(lambda: any(m == "getMe" for m, _ in api.calls), "the bot never called getMe")
        before = len(api.outgoing())
        api.send("/halt from a stranger", chat=STRANGER, user=STRANGER)
        reply = await api.reply_to("/halt phone says stop")
        assert reply["chat_id"] == str(CHAT) and "halt" in reply["text"].lower(), reply
        assert not [m for m in api.outgoing()[before:] if m["chat_id"] == str(STRANGER)]

        [halt] = await _until(lambda: _halts(bot.db), "no HALT in the ledger")
        assert halt.payload["by"] == f"telegram:{USER}" and halt.payload["flatten"] is False
        assert halt.payload["reason"] == "phone says stop"
        await _until(lambda: _ticks_after(bot.db, halt.seq), "the engine never ticked after it")

        def alerted() -> list[dict[str, Any]]:
            return [
                m
                for m in api.outgoing()
                if m["method"] == "sendMessage"
                and m["chat_id"] == str(CHAT)
                and m["text"].startswith("lphedge: ")
                and "halted" in m["text"]
            ]

        [alert] = (await _until(alerted, "no halt alert reached the chat"))[:1]
        assert "phone says stop" in alert["text"]
        status = await api.reply_to("/status")
        assert "HALTED" in status["text"].upper() and "phone says stop" in status["text"]
        assert TOKEN not in bot.stderr()
    finally:
        code = await asyncio.to_thread(stop_bot, bot)
        await api.close()
    assert code == 0, bot.stderr()
    assert "ignored /halt from chat 999" in bot.stderr()
