"""Bearer tokens with scopes, compared in constant time, failures rate-limited per client.

A token is `read` (every GET) or `control` (also halt, resume, params). Each request's
token is compared with every configured token by `hmac.compare_digest`, without stopping at
a match, so timing says nothing about which token or how much of it was right. A client
(its IP) that fails `failures_per_minute` times is refused with 429 for the rest of that
minute, even with a good token: guessing costs a minute per few tries.
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.config_sections import ApiToken


class Scope(StrEnum):
    READ = "read"
    CONTROL = "control"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a good token says is calling."""

    name: str
    scope: Scope

    def may(self, need: Scope) -> bool:
        return need is Scope.READ or self.scope is Scope.CONTROL


class AuthFailed(Exception):
    """`status` 401 (no or unknown token), 403 (read token, control call) or 429."""

    def __init__(self, status: int, detail: str, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.retry_after_s = status, detail, retry_after_s


class TokenBook:
    """The configured tokens and the failure counts per client."""

    WINDOW_S = 60.0

    def __init__(
        self,
        tokens: Sequence[ApiToken],
        failures_per_minute: int = 5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tokens = [
            (t.token.get_secret_value().encode("utf-8"), Principal(t.name, Scope(t.scope)))
            for t in tokens
        ]
        self._limit = failures_per_minute
        self._now = monotonic
        self._failures: dict[str, deque[float]] = {}

    def check(self, authorization: str | None, client: str, need: Scope) -> Principal:
        """The caller of a request with this `Authorization` header, or AuthFailed."""
        recent = self._recent(client)
        if len(recent) >= self._limit:
            retry = max(1, int(self.WINDOW_S - (self._now() - recent[0])) + 1)
            raise AuthFailed(429, "too many failed logins; try again later", retry)
        principal = self._match(authorization)
        if principal is None:
            recent.append(self._now())
            raise AuthFailed(401, "a valid bearer token is required")
        if not principal.may(need):
            raise AuthFailed(403, f"token {principal.name!r} is read-only; this needs control")
        return principal

    def _match(self, authorization: str | None) -> Principal | None:
        scheme, _, given = (authorization or "").partition(" ")
        candidate = given.strip().encode("utf-8")
        found = None
        for secret, principal in self._tokens:  # no early exit: same work for every token
            if hmac.compare_digest(candidate, secret) and scheme.lower() == "bearer":
                found = principal
        return found

    def _recent(self, client: str) -> deque[float]:
        now = self._now()
        recent = self._failures.setdefault(client, deque())
        while recent and now - recent[0] >= self.WINDOW_S:
            recent.popleft()
        if not recent and len(self._failures) > 10_000:  # forget idle clients
            self._failures = {c: q for c, q in self._failures.items() if q}
            self._failures[client] = recent
        return recent
