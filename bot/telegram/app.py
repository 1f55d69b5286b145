"""The Telegram command bot: python-telegram-bot long polling inside the bot's own loop.

`initialize`/`start`/`start_polling` (and the reverse on close), never `run_polling`, which
would own the loop and the signals (Ctrl-C and SIGTERM stay the bot's). Only allowed chats
are answered; any other gets no reply at all, and one log line naming the chat and the
command (never the rest of the message: it may be a reason, or a secret pasted by mistake).
Commands queued while the bot was down are dropped at start: a `/resume` from an hour ago
must not act now. Every action is the desk's, so the ledger names `telegram:<user id>`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import secrets
from bot.api.desk import Desk
from bot.clock import SystemClock
from bot.config import OpsSettings, Settings
from bot.control import Caller
from bot.errors import ConfigError, InputError
from bot.ports import Clock
from bot.telegram import views
from bot.telegram.confirm import Confirmations

log = logging.getLogger("lphedge.telegram")
REPORT_FILE = "lphedge-report.html"
DAILY_DEFAULT, DAILY_MAX = 7, 31
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}")

Reply = str | None  # None: the handler answered itself (a document, a keyboard)
Handler = Callable[[Update, list[str]], Awaitable[Reply]]
Context = ContextTypes.DEFAULT_TYPE


def allowed_chats(ops: OpsSettings) -> frozenset[int]:
    """`ops.telegram_allowed_chats` and the alert chat (`telegram_chat_id`, when numeric)."""
    chats = set(ops.telegram_allowed_chats)
    if ops.telegram_chat_id and re.fullmatch(r"-?\d+", ops.telegram_chat_id.strip()):
        chats.add(int(ops.telegram_chat_id))
    return frozenset(chats)


def command_of(update: Update) -> str:
    """What an update asks, for a log line: the command word only."""
    if update.callback_query is not None:
        return "a button"
    message = update.effective_message
    word = (message.text or "").split(maxsplit=1)[0].split("@")[0] if message else ""
    if not word.startswith("/"):
        return "a message"
    return word if _COMMAND.fullmatch(word) else "/?"


def _caller(update: Update) -> Caller:
    user = update.effective_user
    return Caller("telegram", str(user.id) if user else f"chat{_chat_id(update)}")


def _chat_id(update: Update) -> int:
    return update.effective_chat.id if update.effective_chat else 0


def _user_id(update: Update) -> int:
    return update.effective_user.id if update.effective_user else 0


class TelegramControl:
    """A started command bot; `close()` stops polling (the desk stays the caller's)."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        desk: Desk,
        allowed: frozenset[int],
        confirmations: Confirmations,
    ) -> None:
        self.app = app
        self.desk = desk
        self.allowed = allowed
        self.confirmations = confirmations
        commands: dict[str, Handler] = {
            "status": self._status,
            "exposure": self._exposure,
            "hedges": self._hedges,
            "pnl": self._pnl,
            "daily": self._daily,
            "halt": self._halt,
            "flatten": self._flatten,
            "resume": self._resume,
            "report": self._report,
            "help": self._help,
            "start": self._help,  # what Telegram sends when a chat opens the bot
        }
        new_messages = filters.UpdateType.MESSAGE  # an edited "/halt ..." must not act again
        app.add_handler(TypeHandler(Update, self._gate), group=-1)
        for name, handler in commands.items():
            app.add_handler(CommandHandler(name, self._answer(handler), filters=new_messages))
        app.add_handler(CallbackQueryHandler(self._button, pattern=r"^(flatten|cancel):"))
        app.add_handler(MessageHandler(filters.COMMAND & new_messages, self._unknown))
        app.add_error_handler(self._error)

    async def start(self) -> None:
        await self.app.initialize()
        try:
            await self.app.bot.set_my_commands(
                [BotCommand(c, d) for c, d in _menu()]  # the phone's command menu
            )
        except TelegramError as err:
            log.warning("telegram: command menu not set: %s", secrets.redact(str(err)))
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            allowed_updates=["message", "callback_query"],
            drop_pending_updates=True,
            error_callback=_polling_error,
        )
        log.info("telegram: answering commands from %d chat(s)", len(self.allowed))

    async def close(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    # ---- plumbing ------------------------------------------------------------------------

    async def _gate(self, update: Update, _: Context) -> None:
        chat = _chat_id(update)
        if chat in self.allowed:
            return
        log.warning(
            "telegram: ignored %s from chat %d (not in ops.telegram_allowed_chats)",
            command_of(update),
            chat,
        )
        raise ApplicationHandlerStop

    def _answer(self, handler: Handler) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
        async def run(update: Update, context: Context) -> None:
            try:
                text = await handler(update, list(context.args or []))
            except InputError as err:
                text = f"refused: {' '.join(str(err).split())}"
            if text is not None and update.effective_message is not None:
                await update.effective_message.reply_text(views.fit(text))

        return run

    async def _unknown(self, update: Update, _: Context) -> None:
        if update.effective_message is not None:
            await update.effective_message.reply_text(
                f"unknown command {command_of(update)}: /help"
            )

    async def _error(self, update: object, context: Context) -> None:
        err = context.error
        what = command_of(update) if isinstance(update, Update) else "polling"
        log.warning(
            "telegram: %s failed: %s: %s",
            what,
            type(err).__name__,
            secrets.redact(" ".join(str(err).split())),
        )
        if isinstance(update, Update) and update.effective_message is not None:
            with contextlib.suppress(TelegramError):
                await update.effective_message.reply_text("failed: internal error (see the log)")

    # ---- reads ---------------------------------------------------------------------------

    async def _status(self, _: Update, __: list[str]) -> Reply:
        return views.status(await self.desk.status())

    async def _exposure(self, _: Update, __: list[str]) -> Reply:
        return views.exposure(await self.desk.exposure())

    async def _hedges(self, _: Update, __: list[str]) -> Reply:
        return views.hedges(await self.desk.hedges())

    async def _pnl(self, _: Update, __: list[str]) -> Reply:
        return views.pnl(await self.desk.pnl())

    async def _daily(self, _: Update, args: list[str]) -> Reply:
        days = DAILY_DEFAULT
        if args:
            if not args[0].isdigit() or not 1 <= int(args[0]) <= DAILY_MAX:
                raise InputError(f"days: give a number 1..{DAILY_MAX}, e.g. /daily 14")
            days = int(args[0])
        return views.daily(await self.desk.pnl(), days)

    async def _report(self, update: Update, _: list[str]) -> Reply:
        html = await self.desk.report_html()
        if update.effective_message is not None:
            await update.effective_message.reply_document(
                html.encode("utf-8"), filename=REPORT_FILE, caption="PnL report, whole ledger"
            )
        return None

    async def _help(self, _: Update, __: list[str]) -> Reply:
        return views.HELP

    # ---- actions -------------------------------------------------------------------------

    async def _halt(self, update: Update, args: list[str]) -> Reply:
        seq = await self.desk.halt(_caller(update), " ".join(args), flatten=False)
        return f"halted (ledger seq {seq}): no orders from the next tick; /resume <reason> to go on"

    async def _resume(self, update: Update, args: list[str]) -> Reply:
        seq = await self.desk.resume(_caller(update), " ".join(args))
        return f"resumed (ledger seq {seq}): hedging again from the next tick"

    async def _flatten(self, update: Update, args: list[str]) -> Reply:
        if args[:1] == ["confirm"]:
            return await self._flatten_now(update, args[1] if len(args) > 1 else "")
        reason = " ".join(args).strip()
        if not reason:
            raise InputError("reason: say why, e.g. /flatten venue outage")
        code = self.confirmations.ask(_chat_id(update), _user_id(update), reason)
        buttons = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Flatten now", callback_data=f"flatten:{code}"),
                    InlineKeyboardButton("Cancel", callback_data=f"cancel:{code}"),
                ]
            ]
        )
        ttl = f"{self.confirmations.ttl_s:g}"
        text = (
            f"Flatten closes every hedge and halts the bot ({reason}).\n"
            f"Confirm within {ttl} s: tap Flatten now, or send /flatten confirm {code}"
        )
        if update.effective_message is not None:
            await update.effective_message.reply_text(views.fit(text), reply_markup=buttons)
        return None

    async def _flatten_now(self, update: Update, code: str) -> str:
        pending = self.confirmations.take(code, _chat_id(update), _user_id(update))
        seq = await self.desk.halt(_caller(update), pending.reason, flatten=True)
        return (
            f"halted with flatten (ledger seq {seq}): hedges close at the next tick; "
            "/resume <reason> to hedge again"
        )

    async def _button(self, update: Update, _: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        action, _sep, code = query.data.partition(":")
        await query.answer()
        if action == "cancel":
            done = self.confirmations.cancel(code, _chat_id(update))
            await query.edit_message_text("flatten cancelled" if done else "nothing to cancel")
            return
        try:
            text = await self._flatten_now(update, code)
        except InputError as err:
            text = f"refused: {err}"
        await query.edit_message_text(text)


def _menu() -> list[tuple[str, str]]:
    out = []
    for line in views.HELP.splitlines()[1:]:
        word, _sep, what = line.partition(" - ")
        out.append((word.split()[0].removeprefix("/"), what))
    return out


def _polling_error(err: TelegramError) -> None:
    log.warning("telegram: polling failed, retrying: %s", secrets.redact(str(err)))


async def start_telegram(
    settings: Settings, desk: Desk, *, clock: Clock | None = None
) -> TelegramControl | None:
    """The command bot, polling; None (and one log line why) without `ops.telegram_token`
    or without any allowed chat. A Bot API that cannot be reached at start leaves the bot
    running without commands (it hedges: Telegram is not a reason to stop); a token the
    API refuses is a config error."""
    ops = settings.ops
    if ops.telegram_token is None:
        return None
    allowed = allowed_chats(ops)
    if not allowed:
        log.warning(
            "telegram: no command bot, no chat allowed "
            "(set ops.telegram_allowed_chats or a numeric ops.telegram_chat_id)"
        )
        return None
    token = ops.telegram_token.get_secret_value()
    secrets.register(token)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(ops.telegram_api_url)
        .base_file_url(ops.telegram_file_url)
        .build()
    )
    control = TelegramControl(app, desk, allowed, Confirmations(clock or SystemClock()))
    try:
        await control.start()
    except InvalidToken:
        await control.close()
        raise ConfigError("ops.telegram_token: the Bot API refused it (check the token)") from None
    except TelegramError as err:
        await control.close()
        log.warning("telegram: Bot API unreachable, no commands: %s", secrets.redact(str(err)))
        return None
    return control
