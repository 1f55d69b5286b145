"""Telegram: the operator's commands from a phone (`start_telegram`); alerts go through
`bot.monitor`. See `bot.telegram.app` for how it runs inside the bot's loop."""

from bot.telegram.app import TelegramControl, allowed_chats, start_telegram

__all__ = ["TelegramControl", "allowed_chats", "start_telegram"]
