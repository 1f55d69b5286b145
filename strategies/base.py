"""The strategy interface (version 1): context in, targets and new state out.

A strategy is pure: no I/O, no clock. Everything it may know comes in a `StrategyContext`,
and everything it wants to remember goes out in `Decision.state`, so the engine can persist
it and the backtester can replay it. Quantities are signed base units of the asset
(negative = short); prices are USD per unit of the asset.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, ClassVar, Protocol, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.domain.lp import ExposureBook
from bot.domain.market import USD, Instrument, MarketSnapshot
from bot.domain.orders import HedgeTarget
from bot.errors import ConfigError, InputError, LphedgeError

INTERFACE_VERSION = 1

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def amount_text(value: Decimal) -> str:
    """An amount for a reason: 6 significant digits, not the 24 an exact Decimal carries
    (the exact figure is the target itself)."""
    return f"{value:.6g}"


def parse_duration(value: object) -> object:
    """'24h', '30m', '7d', '90s' or a number of seconds -> seconds (float)."""
    if isinstance(value, str):
        hit = _DURATION.match(value)
        if hit is None:
            raise ValueError(f"{value!r} is not a duration; use e.g. 30m, 24h, 7d or seconds")
        return float(hit.group(1)) * _UNIT_S[hit.group(2) or "s"]
    return value


def parse_fraction(value: object) -> object:
    """'5%' -> 0.05; '0.05' and numbers pass through to the float validator."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100.0
        except ValueError:
            raise ValueError(f"{value!r} is not a fraction; use e.g. 0.05 or 5%") from None
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration)]
Fraction = Annotated[float, BeforeValidator(parse_fraction)]


def _numeric(annotation: Any) -> bool:
    """True for a float/int field (optional too): pydantic would read `true` as 1."""
    if get_origin(annotation) is Annotated:
        return _numeric(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return any(_numeric(a) for a in get_args(annotation))
    return annotation in (int, float)


MAX_DURATION_S = 365 * 86400.0
MAX_USD = 1e12
HedgeRatio = Annotated[Fraction, Field(gt=0, le=1.5)]
"""Of the LP's delta: 1 = the full hedge; over-hedging beyond 150 % is refused."""
RebalanceTo = Annotated[Fraction, Field(ge=0, lt=1)]
"""Where inside the band a trade lands, of the half-width from the centre (0 = centre)."""
MinNotionalUsd = Annotated[float, Field(ge=0, le=MAX_USD)]
Duration = Annotated[Seconds, Field(gt=0, le=MAX_DURATION_S)]


class StrategyParams(BaseModel):
    """Base of every strategy's `Params`: unknown keys, NaN and infinities are errors
    naming the key."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and _numeric(field.annotation):
            raise ValueError(f"expected a number, got {str(value).lower()}")
        return value


@dataclass(frozen=True, slots=True)
class AssetState:
    """What a strategy remembers about one asset between ticks.

    `variance_per_s` is an EWMA of squared log returns per second (volatility estimate),
    updated from `last_price` / `last_price_ms`; `first_price_ms` when it started (how much
    history the estimate has).
    """

    last_rebalance_ms: int | None = None
    last_target_base: Decimal | None = None
    last_price: float | None = None
    last_price_ms: int | None = None
    variance_per_s: float | None = None
    first_price_ms: int | None = None


@dataclass(frozen=True, slots=True)
class StrategyState:
    """Per-asset memory, passed in and returned so strategies stay pure."""

    assets: Mapping[str, AssetState] = field(default_factory=dict)

    def of(self, asset: str) -> AssetState:
        return self.assets.get(asset) or _EMPTY_ASSET_STATE

    def with_assets(self, updates: Mapping[str, AssetState]) -> StrategyState:
        return StrategyState({**self.assets, **updates})

    def to_json(self) -> dict[str, dict[str, Any]]:
        """A JSON-able form (Decimals as strings) for the ledger or a state file."""
        out: dict[str, dict[str, Any]] = {}
        for asset, st in self.assets.items():
            out[asset] = {
                "last_rebalance_ms": st.last_rebalance_ms,
                "last_target_base": None
                if st.last_target_base is None
                else str(st.last_target_base),
                "last_price": st.last_price,
                "last_price_ms": st.last_price_ms,
                "variance_per_s": st.variance_per_s,
                "first_price_ms": st.first_price_ms,
            }
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, Any]]) -> StrategyState:
        assets = {}
        for asset, raw in data.items():
            target = raw.get("last_target_base")
            assets[asset] = AssetState(
                last_rebalance_ms=raw.get("last_rebalance_ms"),
                last_target_base=None if target is None else Decimal(str(target)),
                last_price=raw.get("last_price"),
                last_price_ms=raw.get("last_price_ms"),
                variance_per_s=raw.get("variance_per_s"),
                first_price_ms=raw.get("first_price_ms"),
            )
        return cls(assets)


_EMPTY_ASSET_STATE = AssetState()


@dataclass(frozen=True, slots=True)
class StrategyContext:
    """Everything a strategy may know at `now_ms` (milliseconds since the epoch)."""

    now_ms: int
    exposure: ExposureBook
    hedges: Mapping[str, Decimal]
    market: MarketSnapshot
    state: StrategyState = field(default_factory=StrategyState)
    instruments: Mapping[str, Instrument] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """Targets per asset (with a reason each) and the state to pass to the next tick."""

    targets: tuple[HedgeTarget, ...]
    state: StrategyState
    options: tuple[HedgeTarget, ...] = ()
    """Wanted totals in option symbols (signed base units, long > 0): the engine plans
    them like perp targets, keyed by symbol instead of asset."""


class HedgeStrategy(Protocol):
    """A hedge strategy: `target` is pure and deterministic given its context."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]

    def __init__(self, params: Any) -> None: ...

    def target(self, ctx: StrategyContext) -> Decision: ...


@dataclass(frozen=True, slots=True)
class AssetView:
    """One asset's numbers as a strategy needs them (floats for maths, Decimals for money).

    `lp_delta` is the LP's delta (base units, long), `gamma` d delta/dP (base per USD),
    `current` the signed hedge held now, `value_usd` the LP value exposed to this asset.
    """

    asset: str
    symbol: str
    price: float
    lp_delta: Decimal
    gamma: float
    current: Decimal
    value_usd: float
    instrument: Instrument | None
    state: AssetState
    funding_rate: float | None
    volatility: float | None


def hedged_assets(ctx: StrategyContext) -> list[str]:
    """Assets with exposure or an open hedge (a hedge without exposure must be closed)."""
    names = {a for a in ctx.exposure.assets if a != USD}
    names.update(a for a, h in ctx.hedges.items() if h != 0 and "/" not in a)  # not options
    return sorted(names)


def asset_view(ctx: StrategyContext, asset: str) -> AssetView:
    """Collect one asset's numbers from the context."""
    exp = ctx.exposure.assets.get(asset)
    instrument = ctx.instruments.get(asset)
    symbol = instrument.symbol if instrument else ""
    quote = ctx.market.quotes.get(symbol) if symbol else None
    funding = quote.funding_rate if quote is not None else None
    return AssetView(
        asset=asset,
        symbol=symbol,
        price=float(ctx.market.price(asset)),
        lp_delta=exp.delta if exp else Decimal(0),
        gamma=exp.gamma if exp else 0.0,
        current=ctx.hedges.get(asset, Decimal(0)),
        value_usd=float(exp.value_usd) if exp else 0.0,
        instrument=instrument,
        state=ctx.state.of(asset),
        funding_rate=None if funding is None else float(funding),
        volatility=ctx.market.volatility.get(asset),
    )


def to_decimal(x: float, places: int = 9) -> Decimal:
    """A float quantity as a short Decimal (the planner rounds to the venue step anyway)."""
    return Decimal(f"{x:.{places}f}")


def hold(view: AssetView, reason: str) -> HedgeTarget:
    """Leave the hedge where it is."""
    return HedgeTarget(view.asset, view.symbol, view.current, reason, act=False)


def below_min_notional(view: AssetView, wanted: Decimal, min_notional_usd: float) -> bool:
    return abs(float(wanted - view.current)) * view.price < min_notional_usd


PerAsset = Callable[[AssetView], tuple[HedgeTarget, AssetState]]


def decide_each(ctx: StrategyContext, decide: PerAsset) -> Decision:
    """Run `decide` for every hedged asset and gather targets and state."""
    targets = []
    updates = {}
    for asset in hedged_assets(ctx):
        target, st = decide(asset_view(ctx, asset))
        targets.append(target)
        updates[asset] = st
    return Decision(tuple(targets), ctx.state.with_assets(updates))


def rebalanced(view: AssetView, now_ms: int, target: Decimal) -> AssetState:
    return replace(view.state, last_rebalance_ms=now_ms, last_target_base=target)


def update_volatility(
    state: AssetState, price: float, now_ms: int, halflife_s: float
) -> AssetState:
    """Fold the return since the last seen price into the EWMA variance per second."""
    if state.last_price is None or state.last_price_ms is None:
        return replace(state, last_price=price, last_price_ms=now_ms, first_price_ms=now_ms)
    if now_ms <= state.last_price_ms:
        return replace(state, last_price=price, last_price_ms=now_ms)
    dt_s = (now_ms - state.last_price_ms) / 1000.0
    r2_per_s = math.log(price / state.last_price) ** 2 / dt_s
    var = state.variance_per_s
    if var is None:
        var = r2_per_s
    else:
        w = 1.0 - 0.5 ** (dt_s / halflife_s)
        var = var + w * (r2_per_s - var)
    return replace(state, last_price=price, last_price_ms=now_ms, variance_per_s=var)


SECONDS_PER_YEAR = 365.0 * 86400.0


def parse_params(model: type[BaseModel], pairs: Iterable[str], strategy: str = "") -> BaseModel:
    """`["band=5%", "interval=24h"]` (the `--param` flags) -> a validated Params model.

    Raises InputError naming `--param` and the key on a malformed pair, an unknown key or
    a bad value.
    """
    raw: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {pair!r}: not key=value (strategy {strategy})")
        raw[key.strip()] = value.strip()
    return validate_params(model, raw, strategy, where="--param", error=InputError)


def _problem(err: Mapping[str, Any], where: str) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "?"
    name = f"{where} {key}" if where.startswith("-") else f"{where}.{key}"
    if err["type"] == "extra_forbidden":
        return f"{name}: unknown param"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    shown = str(value)
    quiet = "got" in msg or repr(value) in msg
    if isinstance(value, int | float | str) and len(shown) < 40 and not quiet:
        msg += f", got {value!r}"
    return f"{name}: {msg}"


def validate_params(
    model: type[BaseModel],
    raw: Mapping[str, Any],
    strategy: str,
    *,
    where: str = "strategy.params",
    error: type[LphedgeError] = ConfigError,
) -> BaseModel:
    """Validate a strategy's params; one line naming each bad key as `where` calls it
    (`strategy.params.band_abs` in the config, `--param band_abs` on the command line)."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(_problem(err, where) for err in exc.errors())
        known = ", ".join(model.model_fields)
        text = f"{problems} ({strategy} params: {known})"
        raise error(" ".join(text.split())) from None


def split_prefixed(
    pairs: Sequence[str], params: Mapping[str, type[BaseModel]]
) -> dict[str, list[str]]:
    """Route `name.k=v` to strategy `name`, and plain `k=v` to every strategy that has `k`."""
    out: dict[str, list[str]] = {n: [] for n in params}
    for pair in pairs:
        key = pair.partition("=")[0].strip()
        prefix, dot, _ = key.partition(".")
        if dot:
            if prefix not in out:
                raise InputError(f"param {pair!r}: no strategy {prefix!r} among {', '.join(out)}")
            out[prefix].append(pair.strip()[len(prefix) + 1 :])
            continue
        takers = [n for n, model in params.items() if key in model.model_fields]
        if not takers and len(out) == 1:
            takers = list(out)  # let validation name the unknown key
        if not takers:
            raise InputError(f"param {pair!r}: no strategy among {', '.join(out)} has {key!r}")
        for n in takers:
            out[n].append(pair)
    return out
