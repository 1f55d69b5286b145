"""JSON-RPC over several URLs with failover, bounded jittered retries and a chain-id check.

Each URL gets an `AsyncWeb3(AsyncHTTPProvider)` whose own retry is off, so tenacity's
retries here are the only ones. Calls go out as raw JSON-RPC (no middleware) and a
round of calls as one JSON-RPC batch: one HTTP request. `RequestStats` counts both.
(`w3.batch_requests()` would send the same one request, but raises for the whole batch
when one call reverts; `make_batch_request` keeps each call's error.)

Every request is bounded by `timeout_s` (`chain.rpc_timeout_s`). A URL that timed out is
not asked again within the same call, so a hung node costs one timeout before the next
URL answers, and all URLs hung cost one timeout each, not one per retry. A URL serving
another chain than `chain.chain_id` is skipped for good (one warning line); if every URL
does, that is a ConfigError: the configuration, not the network, is wrong.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.types import RPCEndpoint

from bot.errors import ChainUnavailable, ConfigError
from bot.secrets import redact, safe_url

_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError)
log = logging.getLogger("lphedge.chain")


@dataclass
class RequestStats:
    """Counters a benchmark or a metric reads: HTTP requests and JSON-RPC calls sent."""

    http_requests: int = 0
    rpc_calls: int = 0


class RpcError(Exception):
    """The node answered with a JSON-RPC error (e.g. the call reverted): no failover."""

    def __init__(self, method: str, error: Any) -> None:
        message = error.get("message", error) if isinstance(error, dict) else error
        super().__init__(f"{method}: {redact(str(message))}")
        self.error = error


class _WrongChain(Exception):
    """This URL serves another chain: skip it (internal to the failover loop; the message
    is the warning line)."""


@dataclass
class _Endpoint:
    url: str
    w3: AsyncWeb3[AsyncHTTPProvider]
    chain_checked: bool = False
    wrong_chain: int | None = None  # the chain id it serves, when not the expected one


@dataclass
class RpcClient:
    """Failover JSON-RPC client. `chain_id=None` accepts the first endpoint's chain."""

    urls: Sequence[str]
    chain_id: int | None = None
    timeout_s: float = 5.0
    attempts: int = 3
    stats: RequestStats = field(default_factory=RequestStats)
    _endpoints: list[_Endpoint] = field(init=False)
    _preferred: int = field(init=False, default=0)
    # wrong-chain skips not yet logged: said once a URL answers, else the error says them
    _unsaid: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if not self.urls:
            raise ChainUnavailable("no RPC URL configured: set chain.rpc_urls or --rpc-url")
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        self._endpoints = [
            _Endpoint(
                url,
                AsyncWeb3(
                    AsyncHTTPProvider(
                        url,
                        request_kwargs={"timeout": timeout},
                        exception_retry_configuration=None,
                    )
                ),
            )
            for url in self.urls
        ]

    async def close(self) -> None:
        """Close every URL's aiohttp session (web3 caches one per URL and event loop)."""
        for endpoint in self._endpoints:
            await endpoint.w3.provider.disconnect()

    async def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call; raises RpcError if the node answers with an error."""
        (result,) = await self.batch([(method, params)])
        if isinstance(result, RpcError):
            raise result
        return result

    async def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; each result is a value or an RpcError."""
        timed_out: set[int] = set()

        def worth_retrying(exc: BaseException) -> bool:
            live = [i for i, e in enumerate(self._endpoints) if e.wrong_chain is None]
            return isinstance(exc, ChainUnavailable) and not timed_out.issuperset(live)

        async for attempt in AsyncRetrying(
            retry=retry_if_exception(worth_retrying),
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=0.1, max=2.0),
            reraise=True,
        ):
            with attempt:
                return await self._batch_with_failover(calls, timed_out)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _batch_with_failover(
        self, calls: Sequence[tuple[str, list[Any]]], timed_out: set[int]
    ) -> list[Any]:
        failures: list[str] = []
        count = len(self._endpoints)
        for step in range(count):
            index = (self._preferred + step) % count
            endpoint = self._endpoints[index]
            if endpoint.wrong_chain is not None:
                continue
            if index in timed_out:
                failures.append(f"{safe_url(endpoint.url)} (timed out after {self.timeout_s:g}s)")
                continue
            try:
                results = await self._send(endpoint, calls)
            except _WrongChain as wrong:
                self._unsaid.append(str(wrong))
                continue
            except _TRANSPORT_ERRORS as exc:
                failures.append(self._failure(index, exc, timed_out))
                continue
            for line in self._unsaid:
                log.warning("%s", line)
            self._unsaid.clear()
            if failures:
                log.warning(
                    "RPC switched to %s after %s", safe_url(endpoint.url), "; ".join(failures)
                )
            self._preferred = index
            return results
        self._raise_no_endpoint(failures)

    def _failure(self, index: int, exc: BaseException, timed_out: set[int]) -> str:
        url = safe_url(self._endpoints[index].url)
        if isinstance(exc, asyncio.TimeoutError):
            timed_out.add(index)
            why = f"timed out after {self.timeout_s:g}s"
        else:
            why = type(exc).__name__
        log.debug("RPC %s failed: %s", url, redact(str(exc)) or why)
        return f"{url} ({why})"

    def _raise_no_endpoint(self, failures: list[str]) -> NoReturn:
        wrong = [e for e in self._endpoints if e.wrong_chain is not None]
        if len(wrong) == len(self._endpoints):
            got = ", ".join(f"{e.wrong_chain} from {safe_url(e.url)}" for e in wrong)
            raise ConfigError(
                f"chain.chain_id: expected {self.chain_id}, got {got}: "
                "fix chain.chain_id or chain.rpc_urls"
            )
        skipped = [f"{safe_url(e.url)} (chain {e.wrong_chain})" for e in wrong]
        raise ChainUnavailable(f"no RPC endpoint answered: {', '.join(failures + skipped)}")

    async def _send(self, endpoint: _Endpoint, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Send the batch, with `eth_chainId` in front the first time this URL is used."""
        requests = [(RPCEndpoint(m), p) for m, p in calls]
        if not endpoint.chain_checked:
            requests.insert(0, (RPCEndpoint("eth_chainId"), []))
        self.stats.http_requests += 1
        self.stats.rpc_calls += len(requests)
        raw = await endpoint.w3.provider.make_batch_request(requests)
        if not isinstance(raw, list):  # the whole batch was refused
            raise ValueError(redact(str(raw.get("error", raw))))
        results = [
            RpcError(m, r["error"]) if "error" in r else r.get("result")
            for (m, _), r in zip(requests, raw, strict=True)
        ]
        if not endpoint.chain_checked:
            self._check_chain(endpoint, results.pop(0))
        return results

    def _check_chain(self, endpoint: _Endpoint, reported: Any) -> None:
        if isinstance(reported, RpcError):
            raise ValueError(f"eth_chainId failed: {reported}")
        actual = int(reported, 16)
        if self.chain_id is None:
            self.chain_id = actual
        elif actual != self.chain_id:
            endpoint.wrong_chain = actual
            raise _WrongChain(
                f"RPC {safe_url(endpoint.url)} serves chain id {actual}, not {self.chain_id} "
                "(chain.chain_id): skipping it"
            )
        endpoint.chain_checked = True
