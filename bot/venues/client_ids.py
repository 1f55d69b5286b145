"""Client order ids in each venue's own form.

The planner makes a 32-lowercase-hex base id per plan, leg and attempt. That one form fits
every venue we support (Binance newClientOrderId <= 36 of `[.A-Z:/a-z0-9_-]`, Bybit
orderLinkId <= 36, OKX clOrdId 1-32 alphanumeric, Deribit label <= 64); Hyperliquid wants
a 16-byte cloid written `0x` + 32 hex.
"""

from __future__ import annotations

import re

from bot.errors import InputError

_BASE_ID = re.compile(r"[0-9a-f]{32}")

_FORMATS: dict[str, re.Pattern[str]] = {
    "binance": re.compile(r"[.A-Z:/a-z0-9_-]{1,36}"),
    "binanceusdm": re.compile(r"[.A-Z:/a-z0-9_-]{1,36}"),
    "bybit": re.compile(r"[A-Za-z0-9_-]{1,36}"),
    "okx": re.compile(r"[A-Za-z0-9]{1,32}"),
    "deribit": re.compile(r".{1,64}"),
    "hyperliquid": re.compile(r"0x[0-9a-f]{32}"),
}


def venue_client_id(exchange_id: str, base_id: str) -> str:
    """The venue's form of `base_id` (32 lowercase hex): `0x`-prefixed for Hyperliquid."""
    if not _BASE_ID.fullmatch(base_id):
        raise InputError(f"client id base {base_id!r}: expected 32 lowercase hex characters")
    client_id = f"0x{base_id}" if exchange_id == "hyperliquid" else base_id
    validate_client_id(exchange_id, client_id)
    return client_id


def validate_client_id(exchange_id: str, client_id: str) -> None:
    """Raise InputError if `client_id` is not a valid client order id on `exchange_id`."""
    pattern = _FORMATS.get(exchange_id, re.compile(r"[A-Za-z0-9]{1,32}"))
    if not pattern.fullmatch(client_id):
        raise InputError(
            f"client order id {client_id!r} is not valid on {exchange_id}: "
            f"expected {pattern.pattern}"
        )
