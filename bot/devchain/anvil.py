"""Run a local anvil node: free port on 127.0.0.1, fixed mnemonic, chain id 31337.

Used by the test fixtures, `make bench` and the offline demo. `Anvil` is a context
manager; it waits until the node answers JSON-RPC and stops it (and only it) on exit.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.errors import ChainUnavailable

MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337
# The first accounts of MNEMONIC (anvil/hardhat defaults): public test keys, never real funds.
ACCOUNTS = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
)

_REPO = Path(__file__).resolve().parent.parent.parent


def anvil_binary() -> Path:
    """The npm-installed anvil (`npm ci` puts it in node_modules/.bin), else one on PATH."""
    local = _REPO / "node_modules" / ".bin" / "anvil"
    if local.exists():
        return local
    found = shutil.which("anvil")
    if found is None:
        raise ChainUnavailable("anvil not found: run `npm ci` in the repository root")
    return Path(found)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 5.0) -> Any:
    """One blocking JSON-RPC call (test support: no web3 needed)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(  # noqa: S310 - local http only
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        reply = json.loads(response.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


@dataclass
class Anvil:
    """An anvil process. `url` is set once `start()` returns."""

    chain_id: int = CHAIN_ID
    extra_args: tuple[str, ...] = ()
    startup_timeout_s: float = 15.0
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Anvil:
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [
                    str(anvil_binary()),
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *("--chain-id", str(self.chain_id), "--mnemonic", MNEMONIC),
                    *("--accounts", str(len(ACCOUNTS))),
                    "--silent",
                    "--disable-code-size-limit",
                    *self.extra_args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready():
                return self
            self.stop()
        raise ChainUnavailable("anvil did not start on 127.0.0.1 (3 attempts)")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                rpc(self.url, "eth_chainId", timeout=1.0)
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def snapshot(self) -> str:
        return str(rpc(self.url, "evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if not rpc(self.url, "evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert {snapshot_id} failed")
