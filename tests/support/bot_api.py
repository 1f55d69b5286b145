"""A local server that speaks the Telegram Bot API (long polling with offsets, messages,
documents, inline buttons), for python-telegram-bot pointed at it by base URL; it records
every call so a test reads what the bot said, and to whom."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token-for-the-fake-bot-api"
CHAT, USER = 111, 42  # the operator's chat
OTHER_USER = 43  # someone else in that chat
STRANGER = 999
OUTGOING = ("sendMessage", "sendDocument", "editMessageText")


class FakeBotApi:
    """The Bot API methods the bot uses; records every call but getUpdates."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._new = asyncio.Event()
        self._update_id = 1000
        self._message_id = 1
        self._runner: web.AppRunner | None = None
        self._closed = False
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        self._closed = True
        self._new.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- what a user does ----------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        self._update_id += 1
        self.updates.append({"update_id": self._update_id, **update})
        self._new.set()

    def send(self, text: str, chat: int = CHAT, user: int = USER, kind: str = "message") -> None:
        word = text.split()[0]
        entities = [{"type": "bot_command", "offset": 0, "length": len(word)}]
        self._push({kind: {**self._message(chat, text), "from": _user(user)}})
        self.updates[-1][kind]["entities"] = entities if word.startswith("/") else []

    def press(self, message: dict[str, Any], data: str, user: int = USER) -> None:
        query = {
            "id": f"q{self._update_id}",
            "from": _user(user),
            "chat_instance": "ci",
            "data": data,
            "message": message,
        }
        self._push({"callback_query": query})

    async def reply_to(self, text: str, chat: int = CHAT, user: int = USER) -> dict[str, Any]:
        """Send `text` and wait for the bot's next message, document or edit."""
        before = len(self.outgoing())
        self.send(text, chat, user)
        return await self.next_outgoing(before)

    def outgoing(self) -> list[dict[str, Any]]:
        return [{"method": m, **f} for m, f in self.calls if m in OUTGOING]

    async def next_outgoing(self, before: int) -> dict[str, Any]:
        deadline = time.monotonic() + 15
        while len(self.outgoing()) <= before:
            assert time.monotonic() < deadline, f"no answer; calls: {self.calls}"
            await asyncio.sleep(0.02)
        return self.outgoing()[before]

    # ---- the server side -----------------------------------------------------------------

    def _message(self, chat: int, text: str) -> dict[str, Any]:
        self._message_id += 1
        return {
            "message_id": self._message_id,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "text": text,
        }

    async def _fields(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        out: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                out[key] = {"filename": value.filename, "content": value.file.read()}
            elif key == "reply_markup":
                out[key] = json.loads(value)
            else:
                out[key] = value
        return out

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401}, status=401)
        method, fields = request.match_info["method"], await self._fields(request)
        if method == "getUpdates":
            return _ok(await self._get_updates(fields))
        self.calls.append((method, fields))
        if method == "getMe":
            return _ok({"id": 1, "is_bot": True, "first_name": "lphedge", "username": "lph_bot"})
        if method == "deleteWebhook":
            if str(fields.get("drop_pending_updates")).lower() == "true":
                self.updates.clear()
            return _ok(True)
        if method in ("setMyCommands", "answerCallbackQuery"):
            return _ok(True)
        if method in ("sendMessage", "editMessageText"):
            return _ok(self._message(int(fields.get("chat_id") or CHAT), fields["text"]))
        if method == "sendDocument":
            doc = fields["document"]
            message = self._message(int(fields["chat_id"]), "")
            message["document"] = {
                "file_id": "f1",
                "file_unique_id": "u1",
                "file_name": doc["filename"],
            }
            return _ok(message)
        return web.json_response({"ok": False, "description": f"no fake {method}"}, status=400)

    async def _get_updates(self, fields: dict[str, Any]) -> list[dict[str, Any]]:
        """Updates from `offset` on (which confirms those before), waiting up to `timeout`
        (at most 1 s here) for one to come."""
        offset = int(fields.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(fields.get("timeout") or 0), 1.0)
        while not self.updates and not self._closed and time.monotonic() < deadline:
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return list(self.updates)


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _user(user: int) -> dict[str, Any]:
    return {"id": user, "is_bot": False, "first_name": f"op{user}"}
