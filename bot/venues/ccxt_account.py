"""What a ccxt account reports beyond our orders: fills with fees, funding, option
settlements, liquidations, and its set-up (position mode, leverage, margin mode, balances).

Each stream is read the way the venue's profile says (`StreamRule`): a ccxt unified call
per symbol or for all, paged forward from `since` (a full page is followed by another from
its last row's time; a venue that caps a request's span is walked window by window), rows
de-duplicated by id, or the profile's own hook where ccxt has no unified call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import ccxt

from bot.domain.account import AccountState, Liquidation, SymbolSetup
from bot.domain.events import OptionSettlement
from bot.domain.orders import Fill, FundingPayment
from bot.errors import ConfigError
from bot.ports import Clock
from bot.venues.ccxt_options import is_option, option_instrument
from bot.venues.ccxt_parse import dec, fill, funding_payment, liquidation
from bot.venues.errors_map import ccxt_errors, error_code
from bot.venues.paper_options import settlement
from bot.venues.profiles.base import StreamRule, VenueProfile

MAX_PAGES = 60  # per symbol and variant per read; the next read continues from the cursor


@dataclass(frozen=True, slots=True)
class Reader:
    """What the readers need of a CcxtVenue: its name, ccxt object, profile and clock."""

    name: str
    ex: Any
    profile: VenueProfile
    clock: Clock
    markets: Callable[[], Awaitable[Mapping[str, Any]]]

    def errors(self, action: str) -> Any:
        return ccxt_errors(
            f"{self.name}: {action}", self.profile.error_codes, self.profile.auth_error_words
        )


def _key(row: Mapping[str, Any]) -> str:
    """One row's identity: its id with its time and symbol (Hyperliquid gives every funding
    row the same all-zero hash as its id)."""
    ident = row.get("id") or (row.get("info") or {}).get("tid") or ""
    return f"{ident}|{row.get('timestamp')}|{row.get('symbol')}"


async def _rows(
    r: Reader, rule: StreamRule, symbols: Sequence[str], since_ms: int, what: str
) -> list[dict[str, Any]]:
    """Every row of `rule` from `since_ms`, oldest first, once each."""
    targets: list[str | None] = list(symbols) if rule.per_symbol else [None]
    seen: dict[str, dict[str, Any]] = {}
    now = r.clock.now_ms()
    method = getattr(r.ex, rule.method)
    if rule.history_ms is not None:
        since_ms = max(since_ms, now - rule.history_ms)
    for symbol in targets:
        for variant in rule.variants:
            start = since_ms
            for _ in range(MAX_PAGES):
                params: dict[str, Any] = {**rule.params, **variant}
                # a span cap applies only to spans wholly in the past: the last request is
                # open-ended, so a venue clock ahead of ours loses nothing
                capped = rule.window_ms is not None and start + rule.window_ms < now
                end = start + rule.window_ms if capped and rule.window_ms else now
                if capped:
                    params["until"] = end
                with r.errors(f"{what} {symbol or ''} since {start}".replace("  ", " ")):
                    rows = list(await method(symbol, start, rule.page, params))
                for row in rows:
                    if rule.keep is None or rule.keep(row.get("info") or {}):
                        seen.setdefault(f"{symbol}|{_key(row)}", row)
                if len(rows) >= rule.page:
                    start = max(int(x.get("timestamp") or start) for x in rows)
                elif capped:
                    start = end + 1
                else:
                    break
    return sorted(seen.values(), key=lambda x: int(x.get("timestamp") or 0))


async def fills(r: Reader, symbols: Sequence[str], since_ms: int) -> list[Fill]:
    rule = r.profile.fills
    if rule.hook is not None:
        return list(await rule.hook(r.ex, await r.markets(), since_ms, r.name, list(symbols)))
    markets = await r.markets()
    rows = await _rows(r, rule, symbols, since_ms, "fetch fills")
    cid = r.profile.client_id
    field = cid.trade_field or cid.param
    usd = r.profile.usd_amount_inverse
    return [
        fill(
            r.name,
            t,
            cid.from_venue(t.get("clientOrderId") or (t.get("info") or {}).get(field)),
            markets.get(str(t["symbol"]), {}),
            usd,
        )
        for t in rows
        if t.get("symbol")
    ]


async def funding(r: Reader, symbols: Sequence[str], since_ms: int) -> list[FundingPayment]:
    rule = r.profile.funding
    markets = await r.markets()
    if rule.hook is not None:
        return list(await rule.hook(r.ex, markets, since_ms, r.name, list(symbols)))
    rows = await _rows(r, rule, symbols, since_ms, "fetch funding history")
    sign = r.profile.funding_sign
    return [funding_payment(r.name, x, markets.get(str(x.get("symbol")), {}), sign) for x in rows]


async def settlements(r: Reader, symbols: Sequence[str], since_ms: int) -> list[OptionSettlement]:
    rule = r.profile.settlements
    if rule is None:
        return []
    markets = await r.markets()
    if not any(is_option(m) for m in markets.values()):
        return []
    if rule.hook is not None:
        return list(await rule.hook(r.ex, markets, since_ms, r.name, list(symbols)))
    out = []
    for row in await _rows(r, rule, symbols, since_ms, "fetch settlement history"):
        parsed = _settlement(r, row, markets)
        if parsed is not None:
            out.append(parsed)
    return out


def _settlement(
    r: Reader, row: Mapping[str, Any], markets: Mapping[str, Any]
) -> OptionSettlement | None:
    """A ccxt settlement row (the venue's delivery record) of an option we can name."""
    market = markets.get(str(row.get("symbol")))
    info = row.get("info") or {}
    size = dec(info.get("position") or info.get("size"))
    price = dec(row.get("price") or info.get("deliveryPrice"))
    if market is None or not is_option(market) or not size or price is None:
        return None
    side = str(info.get("side") or "Buy").lower()
    contracts = size if side in ("buy", "long") else -size
    inst = option_instrument(r.name, market, r.ex.precisionMode)
    return settlement(r.name, inst, contracts, price)


async def liquidations(r: Reader, symbols: Sequence[str], since_ms: int) -> list[Liquidation]:
    rule = r.profile.liquidations
    if rule is None:
        return []
    await r.markets()
    out = []
    for variant in rule.variants:
        one = replace(rule, variants=(variant,))
        kind = "adl" if "ADL" in str(variant.get("autoCloseType", "")).upper() else "liquidation"
        for row in await _rows(r, one, symbols, since_ms, "fetch liquidations"):
            info = row.get("info") or {}
            if "adl" in str(info.get("execType", "")).lower():
                kind = "adl"
            out.append(liquidation(r.name, row, kind))
    return out


async def account_state(r: Reader, symbols: Sequence[str]) -> AccountState:
    """Position mode, balances and, where the venue reports them, each symbol's leverage and
    margin mode."""
    rules = r.profile.account
    await r.markets()
    notes: list[str] = []
    with r.errors("read account state"):
        if rules.one_way_only:
            mode = "one_way"
        elif rules.position_mode is not None:
            mode = await rules.position_mode(r.ex, list(symbols))
        else:
            mode = "one_way"
            notes.append("position mode not readable through the API; assumed one-way")
        balance = await r.ex.fetch_balance()
        setups = [await _setup(r, s) for s in symbols]
    total = {c: dec(v) for c, v in (balance.get("total") or {}).items() if v}
    free = {c: dec(v) for c, v in (balance.get("free") or {}).items() if v}
    return AccountState(
        venue=r.name,
        position_mode="hedge" if mode == "hedge" else "one_way",
        balances={c: v for c, v in total.items() if v is not None},
        free={c: v for c, v in free.items() if v is not None},
        symbols=tuple(setups),
        ts_ms=r.clock.now_ms(),
        notes=tuple(notes),
    )


async def _setup(r: Reader, symbol: str) -> SymbolSetup:
    leverage: Decimal | None = None
    margin: str | None = None
    if r.ex.has.get("fetchLeverage"):  # True or "emulated"
        got = await r.ex.fetch_leverage(symbol)
        leverage = dec(got.get("longLeverage") or got.get("shortLeverage"))
        margin = got.get("marginMode") or None
    if margin is None and r.ex.has.get("fetchMarginMode"):
        margin = (await r.ex.fetch_margin_mode(symbol)).get("marginMode") or None
    if leverage is None and margin is None:  # what an open position says (Hyperliquid)
        for p in await r.ex.fetch_positions([symbol]):
            if p.get("symbol") == symbol:
                leverage = dec(p.get("leverage"))
                margin = p.get("marginMode") or None
    return SymbolSetup(symbol, leverage, margin)


async def configure(
    r: Reader, symbol: str, leverage: Decimal | None, margin_mode: str | None
) -> None:
    rules = r.profile.account
    if margin_mode is not None and not rules.set_margin_mode:
        raise ConfigError(
            f"venue.margin_mode: {r.name} sets margin mode for the whole account, not per "
            "symbol through the API; remove it and set it on the venue"
        )
    if leverage is not None and not rules.set_leverage:
        raise ConfigError(
            f"venue.leverage: {r.name} has no per-symbol leverage to set through the API; "
            "remove it (the account's margin settings apply)"
        )
    await r.markets()
    if rules.margin_with_leverage and margin_mode is not None and leverage is None:
        raise ConfigError(
            f"venue.leverage: {r.name} sets the margin mode together with the leverage; "
            f"give venue.leverage for {symbol} too"
        )
    if margin_mode is not None and not rules.margin_with_leverage:
        await _already_ok(
            r,
            f"set margin mode {margin_mode} on {symbol}",
            r.ex.set_margin_mode(margin_mode, symbol, dict(rules.leverage_params(margin_mode))),
        )
    if leverage is not None:
        await _already_ok(
            r,
            f"set leverage {leverage} on {symbol}",
            r.ex.set_leverage(
                int(leverage), symbol, dict(rules.leverage_params(margin_mode or ""))
            ),
        )


async def _already_ok(r: Reader, what: str, call: Awaitable[Any]) -> None:
    """Run a set-up call; the venue's "already so" answers (its codes, or ccxt's
    MarginModeAlreadySet) count as success."""
    with r.errors(what):
        try:
            await call
        except ccxt.MarginModeAlreadySet:
            return
        except ccxt.ExchangeError as exc:
            if error_code(exc) not in r.profile.already_set_codes:
                raise
