"""API tokens: scopes, the Bearer scheme, and failed logins rate-limited per client; over
real HTTP on a ledger-only server (as `demo --serve` runs it)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.api.auth import AuthFailed, Scope, TokenBook
from bot.api.server import serve_ledger
from bot.config import Settings, load_settings
from bot.config_sections import ApiToken
from bot.errors import ConfigError
from bot.ledger.store import Ledger

READ = ApiToken(name="watch", token=SecretStr("r" * 30), scope="read")
CONTROL = ApiToken(name="phone", token=SecretStr("c" * 30), scope="control")


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _status(
    book: TokenBook, header: str | None, client: str = "a", need: Scope = Scope.READ
) -> int:
    try:
        book.check(header, client, need)
    except AuthFailed as err:
        return err.status
    return 200


def test_scopes_and_the_bearer_scheme() -> None:
    book = TokenBook([READ, CONTROL])
    assert book.check(f"Bearer {'r' * 30}", "a", Scope.READ).name == "watch"
    assert book.check(f"bearer {'c' * 30}", "a", Scope.CONTROL).name == "phone"
    assert _status(book, f"Bearer {'r' * 30}", need=Scope.CONTROL) == 403
    assert _status(book, f"Basic {'r' * 30}") == 401  # the right secret, the wrong scheme
    assert _status(book, "Bearer " + "r" * 29) == 401  # a prefix is not the token
    assert _status(book, None) == 401


def test_failed_logins_lock_a_client_out_for_a_minute_not_the_others() -> None:
    clock = Clock()
    book = TokenBook([READ], failures_per_minute=3, monotonic=clock)
    assert [_status(book, "Bearer nope") for _ in range(4)] == [401, 401, 401, 429]
    assert _status(book, f"Bearer {'r' * 30}") == 429  # even the right token, for now
    assert _status(book, f"Bearer {'r' * 30}", client="b") == 200  # another client is fine
    clock.t += 61
    assert _status(book, f"Bearer {'r' * 30}") == 200


def test_api_tokens_config_names_the_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """From `.env` as users give them: errors name the entry, never echo a token."""
    monkeypatch.setenv("LPHEDGE_OPS__API_TOKENS", '[{"name": "x", "token": "s3cret-short"}]')
    with pytest.raises(ConfigError, match=r"ops.api_tokens\[0\].token: must be at least 24") as err:
        load_settings()
    assert "s3cret" not in str(err.value)
    t, u = "t" * 30, "u" * 30
    same = f'[{{"name": "a", "token": "{t}"}}, {{"name": "a", "token": "{u}"}}]'
    monkeypatch.setenv("LPHEDGE_OPS__API_TOKENS", same)
    with pytest.raises(ConfigError, match=r"\[1\].name 'a' is also \[0\].name") as err:
        load_settings()
    assert "t" * 30 not in str(err.value)


async def test_rate_limit_over_http(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{db}").close()
    settings = Settings.model_validate({"ledger": {"url": f"sqlite:///{db}"}})
    server = await serve_ledger(settings, "127.0.0.1", 0, "k" * 32)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            bad = {"Authorization": "Bearer guess"}
            codes = [(await http.get("/api/v1/status", headers=bad)).status_code for _ in range(6)]
            good = await http.get("/api/v1/status", headers={"Authorization": "Bearer " + "k" * 32})
        assert codes == [401] * 5 + [429]
        assert good.status_code == 429 and int(good.headers["retry-after"]) >= 1
    finally:
        await server.close()


async def test_a_ledger_only_api_refuses_a_params_change_with_409(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{db}").close()
    settings = Settings.model_validate({"ledger": {"url": f"sqlite:///{db}"}})
    server = await serve_ledger(settings, "127.0.0.1", 0, "k" * 32)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}",
            headers={"Authorization": "Bearer " + "k" * 32},
        ) as http:
            r = await http.put(
                "/api/v1/strategy/params", json={"params": {"band_rel": 0.3}, "reason": "x"}
            )
            status = (await http.get("/api/v1/status")).json()
        assert r.status_code == 409 and "no bot runs" in r.json()["detail"]
        assert status["engine_running"] is False and status["last_tick_age_s"] is None
    finally:
        await server.close()
