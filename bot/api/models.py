"""The API's request and response bodies: what the OpenAPI spec promises. Quantities are
exact decimal strings (as in `lphedge status --json`), times epoch ms, ages seconds."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

Dec = str  # an exact decimal, e.g. "1.500000000000000001"


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class AssetExposure(_Out):
    asset: str
    lp_delta: Dec
    hedge: Dec
    options_delta: Dec | None
    net_delta: Dec | None
    net_delta_usd: Dec | None
    price_usd: Dec | None


class HaltInfo(_Out):
    reason: str
    source: str
    flatten: bool
    by: str | None = Field(None, description="who halted: cli:<user>, api:<token name>, ...")
    age_s: float


class ErrorInfo(_Out):
    where: str | None
    message: str | None
    age_s: float


class Status(_Out):
    mode: str
    account: str
    venue: str
    strategy: str
    params: dict[str, Any]
    engine_running: bool = Field(description="a bot runs in this process (else: ledger only)")
    last_tick_ms: int | None = Field(description="when the last tick ran (the bot's clock)")
    last_tick_age_s: float | None
    block: int | None
    halted: str | None = Field(description="the operator's (or a sticky) halt reason")
    flatten: bool
    tick_halt: HaltInfo | None
    sticky_halt: HaltInfo | None
    last_guard_halt: str | None
    hedges_read: bool
    last_error: ErrorInfo | None
    assets: list[AssetExposure]
    open_orders: list[dict[str, Any]]


class Exposure(_Out):
    block: int | None
    last_tick_age_s: float | None
    assets: list[AssetExposure]
    positions: list[dict[str, Any]] = Field(description="each LP position at the last tick")


class HedgeRow(_Out):
    asset: str
    hedge: Dec
    options_delta: Dec | None
    lp_delta: Dec
    net_delta: Dec | None


class Hedges(_Out):
    hedges_read: bool
    assets: list[HedgeRow]


class Pnl(_Out):
    window: dict[str, int | None]
    total: dict[str, Dec | None]
    days: list[dict[str, Any]]
    warnings: list[str]


class Verification(_Out):
    ok: bool
    events_checked: int
    broken_seq: int | None
    reason: str | None
    tip_hash: str
    missing_triggers: list[str]


class HaltRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: str = Field(min_length=1, max_length=500)
    flatten: bool = Field(False, description="also close every hedge")


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: str = Field(min_length=1, max_length=500)


_JSON_BOUNDS = {
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "ge": "minimum",
    "le": "maximum",
}


def _json_bounds(schema: dict[str, Any]) -> None:
    """At least one param; and bounds pydantic leaves as `gt`/`le` (a param that also has a
    before-validator, e.g. one that accepts "10%") written as JSON Schema says them."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        for ours, theirs in _JSON_BOUNDS.items():
            if ours in prop:
                prop[theirs] = prop.pop(ours)


def params_request(strategy_params: type[BaseModel]) -> type[BaseModel]:
    """The body of a params change for the running strategy: any of its params, each with
    the bounds its `Params` model sets, so the spec documents what may be changed."""
    fields: dict[str, Any] = {
        name: (
            Annotated[(info.annotation, *info.metadata)],
            Field(None, description=info.description),
        )
        for name, info in strategy_params.model_fields.items()
    }
    change = create_model(
        "ParamsChange",
        __config__=ConfigDict(extra="forbid", strict=True, json_schema_extra=_json_bounds),
        **fields,
    )
    request: type[BaseModel] = create_model(
        "ParamsRequest",
        __config__=ConfigDict(extra="forbid", strict=True),
        params=(change, Field(description="the params to change, at least one")),
        reason=(str, Field(min_length=1, max_length=500)),
    )
    return request


class Recorded(_Out):
    seq: int = Field(description="the ledger event that records the action")
    by: str = Field(description="who the ledger says acted")


class ParamsRecorded(Recorded):
    params: dict[str, Any]
    changed: list[str]


class Problem(BaseModel):
    detail: str
