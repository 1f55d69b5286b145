"""ccxt exceptions -> the bot's error tree, with secrets scrubbed from every message.

NetworkError and its kin (rate limit, DDoS protection, maintenance, timeouts) may succeed
later: VenueUnavailable (Retryable). Authentication and permission errors need a human:
NeedsOperator. Anything else the venue answered (insufficient margin, bad order, min
notional, unknown order) is the venue saying no: Rejected, with the venue's own message,
narrowed where the caller acts differently: InsufficientFunds, InstrumentUnavailable (unknown
or expired instrument: reload the chain) and PriceOutOfBand (limit outside the venue's band
or tick grid: requote). ccxt's own classes miss some of these (Deribit's 10020/13020 are a
plain ExchangeError), so the venue's error code in the message decides first, by the table
in the venue's profile.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import ccxt

from bot.errors import (
    InstrumentUnavailable,
    InsufficientFunds,
    LphedgeError,
    NeedsOperator,
    PriceOutOfBand,
    Rejected,
    VenueUnavailable,
)
from bot.secrets import redact


def translate(
    exc: BaseException,
    action: str,
    codes: Mapping[str, type[Rejected]] | None = None,
    auth_words: tuple[str, ...] = (),
) -> LphedgeError:
    """The bot error for a ccxt (or aiohttp/asyncio) exception raised while doing `action`;
    `codes`: the venue profile's error codes -> narrower rejections; `auth_words`: all of
    them in the venue's answer mean the credentials are wrong."""
    text = redact(f"{action}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ccxt.NetworkError | TimeoutError | OSError):
        return VenueUnavailable(f"{text} (venue unavailable; retry later or check its status)")
    wrong_key = bool(auth_words) and all(w in str(exc) for w in auth_words)
    if isinstance(exc, ccxt.AuthenticationError) or wrong_key:
        return NeedsOperator(f"{text} (check the API key, its permissions and IP whitelist)")
    kind = rejection_kind(exc, codes or {})
    hint = _HINTS.get(kind, "")
    return kind(f"{text}{hint}")


# OKX puts the order's own code (sCode) beside a generic "code": "1"; it decides.
_CODES = (
    re.compile(r'"sCode"\s*:\s*"?(-?\d+)'),
    re.compile(r'"(?:code|retCode|ret_code)"\s*:\s*"?(-?\d+)'),
)
_HINTS: dict[type[Rejected], str] = {
    InsufficientFunds: " (insufficient funds: top up the account or trade less)",
    InstrumentUnavailable: " (instrument unknown or expired: reload the markets/option chain)",
    PriceOutOfBand: " (limit price outside the venue's band or tick: requote)",
}


def error_code(exc: BaseException) -> str | None:
    """The venue's own error code in a ccxt exception's message (its JSON body), if any."""
    text = str(exc)
    for pattern in _CODES:
        hit = pattern.search(text)
        if hit is not None and hit.group(1) not in ("0", "1"):
            return hit.group(1)
    return None


def rejection_kind(exc: BaseException, codes: Mapping[str, type[Rejected]]) -> type[Rejected]:
    """The Rejected subclass for a venue's refusal: its error code first (`code` or
    `code|words in the message`), then ccxt's class."""
    code = error_code(exc)
    if code is not None:
        text = str(exc).lower()
        for key, kind in codes.items():
            want, _, words = key.partition("|")
            if want == code and words.lower() in text:
                return kind
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds
    if isinstance(exc, ccxt.BadSymbol):
        return InstrumentUnavailable
    return Rejected


@contextmanager
def ccxt_errors(
    action: str,
    codes: Mapping[str, type[Rejected]] | None = None,
    auth_words: tuple[str, ...] = (),
) -> Iterator[None]:
    """Re-raise ccxt exceptions inside the block as bot errors (never with secrets)."""
    try:
        yield
    except ccxt.BaseError as exc:
        raise translate(exc, action, codes, auth_words) from None


class RedactFilter(logging.Filter):
    """Scrub registered secrets from a log record (ccxt logs request headers at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


_FILTER = RedactFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to ccxt's loggers (idempotent)."""
    for name in ("ccxt", "ccxt.base.exchange"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
