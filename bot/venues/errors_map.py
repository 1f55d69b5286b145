"""ccxt exceptions -> the bot's error tree, with secrets scrubbed from every message.

NetworkError and its kin (rate limit, DDoS protection, maintenance, timeouts) may succeed
later: VenueUnavailable (Retryable). Authentication and permission errors need a human:
NeedsOperator. Anything else the venue answered (insufficient margin, bad order, min
notional, unknown order) is the venue saying no: Rejected, with the venue's own message,
narrowed where the caller acts differently: InsufficientFunds, InstrumentUnavailable (unknown
or expired instrument: reload the chain) and PriceOutOfBand (limit outside the venue's band
or tick grid: requote). ccxt's own classes miss some of these (Deribit's 10020/13020 are a
plain ExchangeError), so the venue's error code in the message decides first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
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


def translate(exc: BaseException, action: str) -> LphedgeError:
    """The bot error for a ccxt (or aiohttp/asyncio) exception raised while doing `action`."""
    text = redact(f"{action}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ccxt.NetworkError | TimeoutError | OSError):
        return VenueUnavailable(f"{text} (venue unavailable; retry later or check its status)")
    if isinstance(exc, ccxt.AuthenticationError):
        return NeedsOperator(f"{text} (check the API key, its permissions and IP whitelist)")
    kind = rejection_kind(exc)
    hint = _HINTS.get(kind, "")
    return kind(f"{text}{hint}")


# (ccxt exchange id, the venue's error code) -> the narrower rejection. Deribit codes from its
# API v2 error list (as ccxt's deribit.exceptions names them); Bybit v5 retCodes.
_BY_CODE: dict[tuple[str, str], type[Rejected]] = {
    ("deribit", "10009"): InsufficientFunds,  # not_enough_funds
    ("deribit", "10005"): PriceOutOfBand,  # price_too_low <limit>
    ("deribit", "10006"): PriceOutOfBand,  # price_too_low4idx
    ("deribit", "10007"): PriceOutOfBand,  # price_too_high <limit>
    ("deribit", "10008"): PriceOutOfBand,  # price_too_high4idx
    ("deribit", "10011"): PriceOutOfBand,  # price_not_allowed
    ("deribit", "10043"): PriceOutOfBand,  # price_wrong_tick
    ("deribit", "10012"): InstrumentUnavailable,  # book_closed (expired, settling)
    ("deribit", "10020"): InstrumentUnavailable,  # invalid_or_unsupported_instrument
    ("deribit", "11037"): InstrumentUnavailable,  # outdated_instrument_for_IV_order
    ("deribit", "13019"): InstrumentUnavailable,  # orderbook_closed
    ("deribit", "13020"): InstrumentUnavailable,  # not_found
    ("bybit", "110003"): PriceOutOfBand,  # Order price is out of permissible range
    ("bybit", "110004"): InsufficientFunds,
    ("bybit", "110007"): InsufficientFunds,  # ab not enough for new order
    ("bybit", "110012"): InsufficientFunds,
    ("bybit", "110044"): InsufficientFunds,
    ("bybit", "110045"): InsufficientFunds,
    ("bybit", "170121"): InstrumentUnavailable,  # Invalid symbol.
}
_CODE = re.compile(r'"(?:code|retCode|ret_code)"\s*:\s*"?(-?\d+)')
_HINTS: dict[type[Rejected], str] = {
    InsufficientFunds: " (insufficient funds: top up the account or trade less)",
    InstrumentUnavailable: " (instrument unknown or expired: reload the markets/option chain)",
    PriceOutOfBand: " (limit price outside the venue's band or tick: requote)",
}


def rejection_kind(exc: BaseException) -> type[Rejected]:
    """The Rejected subclass for a venue's refusal: its error code first, then ccxt's class."""
    text = str(exc)
    venue = text.split(" ", 1)[0]
    hit = _CODE.search(text)
    if hit is not None:
        code = hit.group(1)
        if (venue, code) in _BY_CODE:
            return _BY_CODE[(venue, code)]
        if venue == "bybit" and code == "10001" and "symbol" in text.lower():
            return InstrumentUnavailable  # "params error: symbol invalid"
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds
    if isinstance(exc, ccxt.BadSymbol):
        return InstrumentUnavailable
    return Rejected


@contextmanager
def ccxt_errors(action: str) -> Iterator[None]:
    """Re-raise ccxt exceptions inside the block as bot errors (never with secrets)."""
    try:
        yield
    except ccxt.BaseError as exc:
        raise translate(exc, action) from None


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
