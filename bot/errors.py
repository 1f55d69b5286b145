"""One error tree, so callers can decide by kind: retry, skip the item, halt, or exit.

Messages name the item and, where there is one, the fix. They never carry secrets:
use `bot.secrets.redact` on anything that may hold an RPC URL or an API key.
"""

from __future__ import annotations


class LphedgeError(Exception):
    """Root of every error lphedge raises on purpose."""


class ConfigError(LphedgeError):
    """The configuration is invalid; the message names the field path."""


class InputError(LphedgeError):
    """An input (CLI flag, CSV, position id, address) is invalid; the message names it."""


class Retryable(LphedgeError):
    """A transient failure: the same idempotent call may succeed later."""


class ChainUnavailable(Retryable):
    """No configured RPC endpoint answered."""


class VenueUnavailable(Retryable):
    """The venue timed out, rate-limited us or answered 5xx."""


class LedgerUnavailable(Retryable):
    """The ledger's database refused or dropped the connection."""


class NotTheWriter(LphedgeError):
    """This process does not hold the account's writer lease now (`bot.ledger.lease`):
    it must neither trade nor write, since another bot may be the writer."""


class Rejected(LphedgeError):
    """The venue refused a request (insufficient margin, min notional, bad params)."""


class InsufficientFunds(Rejected):
    """The account cannot pay for the order (premium, fee or margin): top up or size down."""


class InstrumentUnavailable(Rejected):
    """The venue does not trade that instrument (unknown, expired, book closed): reload the
    markets / option chain before planning it again."""


class PriceOutOfBand(Rejected):
    """The order's limit price is outside the venue's allowed band or tick grid: requote."""


class NeedsOperator(LphedgeError):
    """A state the bot must not act on by itself; it halts and waits for an operator."""
