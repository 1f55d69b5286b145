"""The REST API's routes (FastAPI): reads with a `read` token, actions with a `control` one.

`/api/v1/openapi.json` is the spec; `/` is the dashboard (a static page that calls this API
with the token the user types in). Errors are JSON `{"detail": ...}`: 401/403/429 from
`bot.api.auth`, 422 for a bad request (naming the field), 503 when the ledger cannot be
reached. Nothing here echoes a token or a URL with a key.
"""

# No `from __future__ import annotations`: FastAPI reads each route's annotations, and the
# `Reader` / `Controller` aliases are locals of the functions that define the routes.
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot import __version__, control
from bot.api import models as m
from bot.api.auth import AuthFailed, Principal, Scope, TokenBook
from bot.api.desk import DECISIONS_MAX, Desk, NotRunning
from bot.errors import InputError, LedgerUnavailable

PREFIX = "/api/v1"
_bearer = HTTPBearer(auto_error=False, description="a token from ops.api_tokens")
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": m.Problem, "description": "no token, or not a valid one"},
    429: {"model": m.Problem, "description": "too many failed logins from this client"},
    422: {"model": m.Problem, "description": "the request names a bad field or value"},
    503: {"model": m.Problem, "description": "the ledger cannot be reached"},
}
_CONTROL_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    400: {"model": m.Problem, "description": "the body is not JSON"},
    403: {"model": m.Problem, "description": "a read-only token"},
}


_NOT_RUNNING: dict[int | str, dict[str, Any]] = {
    409: {"model": m.Problem, "description": "no bot runs behind this API (a ledger only)"},
}
_HTML_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": spec["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, spec in _AUTH_ERRORS.items()
}


def create_app(desk: Desk, tokens: TokenBook) -> FastAPI:
    app = FastAPI(
        title="lphedge",
        version=__version__,
        description="Watch and steer a running lphedge bot. Every action is a ledger event "
        "naming the token that made it.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; the spec is enough
        redoc_url=None,
    )

    def caller(need: Scope) -> Any:
        def check(
            request: Request,
            _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> Principal:
            client = request.client.host if request.client else "?"
            return tokens.check(request.headers.get("authorization"), client, need)

        return Depends(check)

    _handlers(app)
    _reads(app, desk, Annotated[Principal, caller(Scope.READ)])
    _actions(app, desk, Annotated[Principal, caller(Scope.CONTROL)])
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(AuthFailed)
    async def _auth(_: Request, exc: AuthFailed) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.retry_after_s is not None:
            headers["Retry-After"] = str(exc.retry_after_s)
        return JSONResponse({"detail": exc.detail}, exc.status, headers=headers)

    @app.exception_handler(NotRunning)
    async def _not_running(_: Request, exc: NotRunning) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 409)

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        """One line naming each bad field (`body.reason: Field required`), as the CLI says it."""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return JSONResponse({"detail": problems or "invalid request"}, 422)

    @app.exception_handler(LedgerUnavailable)
    async def _ledger(_: Request, exc: LedgerUnavailable) -> JSONResponse:
        return JSONResponse({"detail": f"ledger unavailable: {exc}"}, 503)


def _reads(app: FastAPI, desk: Desk, Reader: Any) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard() -> HTMLResponse:
        page = resources.files("bot.api").joinpath("dashboard.html").read_text("utf-8")
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    @app.get(f"{PREFIX}/status", responses=_AUTH_ERRORS)
    async def status(_: Reader) -> m.Status:
        """Last tick, halts (the tick's and the operator's), exposure per asset, open orders."""
        return m.Status.model_validate(await desk.status())

    @app.get(f"{PREFIX}/exposure", responses=_AUTH_ERRORS)
    async def exposure(_: Reader) -> m.Exposure:
        """Exposure per asset (LP, perps, options, net) and per LP position."""
        return m.Exposure.model_validate(await desk.exposure())

    @app.get(f"{PREFIX}/hedges", responses=_AUTH_ERRORS)
    async def hedges(_: Reader) -> m.Hedges:
        """The hedge held per asset against the LP delta."""
        return m.Hedges.model_validate(await desk.hedges())

    @app.get(f"{PREFIX}/orders/open", responses=_AUTH_ERRORS)
    async def orders(_: Reader) -> list[dict[str, Any]]:
        """Orders whose last known status is not final."""
        return await desk.open_orders()

    @app.get(f"{PREFIX}/decisions", responses=_AUTH_ERRORS)
    async def decisions(
        _: Reader, limit: Annotated[int, Query(ge=1, le=DECISIONS_MAX)] = 50
    ) -> list[dict[str, Any]]:
        """The strategy's latest decisions, newest first, with their reasons."""
        return await desk.decisions(limit)

    @app.get(f"{PREFIX}/pnl", responses=_AUTH_ERRORS)
    async def pnl(_: Reader) -> m.Pnl:
        """PnL attribution (fees, IL, hedge, funding, costs) in total and per UTC day."""
        return m.Pnl.model_validate(await desk.pnl())

    @app.get(f"{PREFIX}/ledger/verify", responses=_AUTH_ERRORS)
    async def verify(_: Reader) -> m.Verification:
        """The hash chain, typed rows and append-only triggers, checked now."""
        return m.Verification.model_validate(await desk.verify())

    @app.get(f"{PREFIX}/report.html", response_class=HTMLResponse, responses=_HTML_ERRORS)
    async def report_html(_: Reader) -> HTMLResponse:
        """The post-trade report page (`lphedge report --html`), charts included."""
        return HTMLResponse(await desk.report_html())


def _actions(app: FastAPI, desk: Desk, Controller: Any) -> None:
    @app.post(f"{PREFIX}/halt", responses=_CONTROL_ERRORS)
    async def halt(body: m.HaltRequest, who: Controller) -> m.Recorded:
        """Halt the bot (no new hedge orders; with `flatten`, close every hedge) until resumed."""
        by = control.Caller("api", who.name)
        return m.Recorded(seq=await desk.halt(by, body.reason, body.flatten), by=str(by))

    @app.post(f"{PREFIX}/resume", responses=_CONTROL_ERRORS)
    async def resume(body: m.ResumeRequest, who: Controller) -> m.Recorded:
        """Lift an operator halt (and the halts that wait for one: drift, liquidation)."""
        by = control.Caller("api", who.name)
        return m.Recorded(seq=await desk.resume(by, body.reason), by=str(by))

    ParamsRequest = m.params_request(desk.params_model)

    @app.put(f"{PREFIX}/strategy/params", responses={**_CONTROL_ERRORS, **_NOT_RUNNING})
    async def params(body: ParamsRequest, who: Controller) -> m.ParamsRecorded:  # type: ignore[valid-type]
        """Change the running strategy's params within their bounds, from the next tick."""
        by = control.Caller("api", who.name)
        changes = body.params.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        done = await desk.reload_params(by, changes, body.reason)  # type: ignore[attr-defined]
        return m.ParamsRecorded(by=str(by), **done)
