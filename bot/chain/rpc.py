"""JSON-RPC over several URLs with failover, bounded jittered retries and a chain-id check.

Each URL gets an `AsyncWeb3(AsyncHTTPProvider)` whose own retry is off, so tenacity's
retries here are the only ones. Calls go out as raw JSON-RPC (no middleware) and a
round of calls as one JSON-RPC batch: one HTTP request. `RequestStats` counts both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.types import RPCEndpoint

from bot.errors import ChainMismatch, ChainUnavailable
from bot.secrets import redact, safe_url

_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError)


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


@dataclass
class _Endpoint:
    url: str
    w3: AsyncWeb3[AsyncHTTPProvider]
    chain_checked: bool = False


@dataclass
class RpcClient:
    """Failover JSON-RPC client. `chain_id=None` accepts the first endpoint's chain."""

    urls: Sequence[str]
    chain_id: int | None = None
    timeout_s: float = 10.0
    attempts: int = 3
    stats: RequestStats = field(default_factory=RequestStats)
    _endpoints: list[_Endpoint] = field(init=False)
    _preferred: int = field(init=False, default=0)

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
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(ChainUnavailable),
                stop=stop_after_attempt(self.attempts),
                wait=wait_random_exponential(multiplier=0.1, max=2.0),
                reraise=True,
            ):
                with attempt:
                    return await self._batch_with_failover(calls)
        except ChainUnavailable:
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _batch_with_failover(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        failures = []
        count = len(self._endpoints)
        for step in range(count):
            index = (self._preferred + step) % count
            endpoint = self._endpoints[index]
            try:
                results = await self._send(endpoint, calls)
            except _TRANSPORT_ERRORS as exc:
                failures.append(f"{safe_url(endpoint.url)} ({type(exc).__name__})")
                continue
            self._preferred = index
            return results
        raise ChainUnavailable(f"no RPC endpoint answered: {', '.join(failures)}")

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
            raise ChainMismatch(
                f"RPC {safe_url(endpoint.url)} serves chain id {actual}, but chain id "
                f"{self.chain_id} is configured: fix the RPC URL or chain.chain_id"
            )
        endpoint.chain_checked = True
