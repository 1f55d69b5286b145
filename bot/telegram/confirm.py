"""Second yes for `/flatten`: a one-time code, for the same person in the same chat, that
expires after a minute.

Flattening closes every hedge, so a slip of the thumb (or a command scrolled back to and
sent again) must not do it: the first message only asks, and the confirmation has to come
from whoever asked, within `ttl_s`, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from secrets import randbelow

from bot.errors import InputError
from bot.ports import Clock

TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Pending:
    chat_id: int
    user_id: int
    reason: str
    expires_ms: int


class Confirmations:
    """Codes asked for and not yet confirmed, cancelled or expired."""

    def __init__(self, clock: Clock, ttl_s: float = TTL_S) -> None:
        self.clock = clock
        self.ttl_s = ttl_s
        self._pending: dict[str, Pending] = {}

    def ask(self, chat_id: int, user_id: int, reason: str) -> str:
        now = self.clock.now_ms()
        self._pending = {c: p for c, p in self._pending.items() if p.expires_ms > now}
        code = f"{randbelow(1_000_000):06d}"
        while code in self._pending:
            code = f"{randbelow(1_000_000):06d}"
        self._pending[code] = Pending(chat_id, user_id, reason, now + int(self.ttl_s * 1000))
        return code

    def take(self, code: str, chat_id: int, user_id: int) -> Pending:
        """The request `code` confirms (used up); InputError when there is none, it expired,
        or someone else asked for it."""
        pending = self._pending.get(code)
        if pending is None or pending.chat_id != chat_id:
            raise InputError("confirmation: no such code pending; send /flatten <reason> again")
        if pending.user_id != user_id:
            raise InputError("confirmation: only who asked can confirm it")
        del self._pending[code]
        if self.clock.now_ms() >= pending.expires_ms:
            raise InputError(
                f"confirmation: expired after {self.ttl_s:g} s; send /flatten <reason> again"
            )
        return pending

    def cancel(self, code: str, chat_id: int) -> bool:
        pending = self._pending.get(code)
        if pending is None or pending.chat_id != chat_id:
            return False
        del self._pending[code]
        return True
