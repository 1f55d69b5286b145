"""ccxt exceptions -> the bot's error tree, with secrets scrubbed from every message.

NetworkError and its kin (rate limit, DDoS protection, maintenance, timeouts) may succeed
later: VenueUnavailable (Retryable). Authentication and permission errors need a human:
NeedsOperator. Anything else the venue answered (insufficient margin, bad order, min
notional, unknown order) is the venue saying no: Rejected, with the venue's own message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import ccxt

from bot.errors import LphedgeError, NeedsOperator, Rejected, VenueUnavailable
from bot.secrets import redact


def translate(exc: BaseException, action: str) -> LphedgeError:
    """The bot error for a ccxt (or aiohttp/asyncio) exception raised while doing `action`."""
    text = redact(f"{action}: {type(exc).__name__}: {exc}")
    if isinstance(exc, ccxt.NetworkError | TimeoutError | OSError):
        return VenueUnavailable(f"{text} (venue unavailable; retry later or check its status)")
    if isinstance(exc, ccxt.AuthenticationError):
        return NeedsOperator(f"{text} (check the API key, its permissions and IP whitelist)")
    return Rejected(text)


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
