"""Deploy a small Uniswap world on a dev chain: the real v3 factory, position manager and
router, WETH9, tokens of 6/8/18 decimals, a v2 pair, pools in three fee tiers, positions in
range, below and above range in both token orientations, and swaps both ways.

Sync web3 (test support and demo only). Anvil's accounts are unlocked, so transactions
are sent as `eth_sendTransaction` from them; automine mines each at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import isqrt
from typing import Any

from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.logs import DISCARD

from bot.devchain.anvil import ACCOUNTS
from bot.devchain.contracts import artifact

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
MAX_UINT128 = 2**128 - 1
MAX_UINT256 = 2**256 - 1
DEADLINE = 2**40
TICK_SPACING = {500: 10, 3000: 60, 10000: 200}


@dataclass(frozen=True, slots=True)
class Minted:
    """A v3 position minted by the deployer; `label` says what the test meant it to be."""

    token_id: int
    label: str
    owner: str
    pool: str
    fee: int
    tick_lower: int
    tick_upper: int


@dataclass(frozen=True, slots=True)
class UniswapWorld:
    """Addresses of everything `deploy_world` put on the chain (checksummed)."""

    url: str
    deployer: str
    factory: str
    position_manager: str
    router: str
    weth: str
    tokens: Mapping[str, str]
    pools: Mapping[str, str]
    positions: tuple[Minted, ...]
    v2_factory: str
    v2_pairs: Mapping[str, str]
    batch_sender: str
    multicall: str = MULTICALL3_ADDRESS


def sqrt_price_x96(price_raw_num: int, price_raw_den: int) -> int:
    """sqrt(token1 raw per token0 raw) in Q64.96, rounded down."""
    return isqrt((price_raw_num << 192) // price_raw_den)


def close_web3(w3: Web3) -> None:
    """Close the requests sessions web3 caches, so no socket outlives the caller."""
    manager = getattr(w3.provider, "_request_session_manager", None)
    if manager is None:
        return
    for _key, session in list(manager.session_cache.items()):
        session.close()
    manager.session_cache.clear()


@dataclass
class DevChain:
    """A sync web3 session on a dev chain with send/deploy helpers."""

    url: str
    w3: Web3 = field(init=False)

    def __post_init__(self) -> None:
        self.w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def close(self) -> None:
        close_web3(self.w3)

    def contract(self, name: str, address: str) -> Contract:
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=artifact(name).abi
        )

    def deploy(self, name: str, *args: Any, sender: str = ACCOUNTS[0]) -> Contract:
        art = artifact(name)
        factory = self.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        tx_hash = factory.constructor(*args).transact({"from": sender})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1 or receipt["contractAddress"] is None:
            raise RuntimeError(f"deploying {name} failed")
        return self.contract(name, receipt["contractAddress"])

    def send(self, call: Any, sender: str = ACCOUNTS[0], value: int = 0) -> bytes:
        """Send a contract call; gas estimation raises at once if it would revert."""
        tx: dict[str, Any] = {"from": sender}
        if value:
            tx["value"] = value
        return bytes(call.transact(tx))

    def receipt(self, tx_hash: bytes) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash))
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
        return receipt

    def rpc(self, method: str, *params: Any) -> Any:
        return self.w3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]

    def set_code(self, address: str, runtime_hex: str) -> None:
        self.rpc("anvil_setCode", address, runtime_hex)


def deploy_token_on_side(
    chain: DevChain, symbol: str, decimals: int, *, other: str, below: bool
) -> Contract:
    """Deploy a TestToken whose address sorts below (or above) `other`.

    The pool's token0 is the lower address, so this fixes the orientation a test needs.
    Each retry burns a nonce; half of all addresses fit, so a few tries suffice.
    """
    for _ in range(64):
        token = chain.deploy("TestToken", f"Test {symbol}", symbol, decimals)
        if (int(token.address, 16) < int(other, 16)) == below:
            return token
    raise RuntimeError(f"could not place {symbol} {'below' if below else 'above'} {other}")


@dataclass
class Uniswap:
    """The deployed Uniswap v3 contracts plus helpers to create pools, mint and swap."""

    chain: DevChain
    factory: Contract
    npm: Contract
    router: Contract
    weth: Contract

    @classmethod
    def deploy(cls, chain: DevChain) -> Uniswap:
        weth = chain.deploy("WETH9")
        factory = chain.deploy("UniswapV3Factory")
        # The NPM only calls the descriptor in tokenURI(); any address will do here.
        npm = chain.deploy("NonfungiblePositionManager", factory.address, weth.address, ACCOUNTS[3])
        router = chain.deploy("SwapRouter", factory.address, weth.address)
        return cls(chain, factory, npm, router, weth)

    def fund(self, tokens: list[Contract], owners: tuple[str, ...] = ACCOUNTS[:2]) -> None:
        """Give each owner plenty of every token and approve the NPM and the router."""
        last = b""
        for owner in owners:
            self.chain.send(self.weth.functions.deposit(), owner, value=2_000 * 10**18)
            for token in tokens:
                if token.address != self.weth.address:
                    self.chain.send(token.functions.mint(owner, 10**40), owner)
                for spender in (self.npm.address, self.router.address):
                    last = self.chain.send(token.functions.approve(spender, MAX_UINT256), owner)
        self.chain.receipt(last)

    def create_pool(self, token0: str, token1: str, fee: int, sqrt_price: int) -> str:
        call = self.npm.functions.createAndInitializePoolIfNecessary(
            token0, token1, fee, sqrt_price
        )
        self.chain.receipt(self.chain.send(call))
        return str(self.factory.functions.getPool(token0, token1, fee).call())

    def mint_params(
        self, token0: str, token1: str, fee: int, ticks: tuple[int, int], owner: str, scale: int
    ) -> tuple[Any, ...]:
        """Params for `NonfungiblePositionManager.mint`; `scale` is each amountDesired (raw)."""
        return (token0, token1, fee, ticks[0], ticks[1], scale, scale, 0, 0, owner, DEADLINE)

    def mint(self, params: tuple[Any, ...], owner: str) -> int:
        tx = self.chain.send(self.npm.functions.mint(params), owner)
        receipt = self.chain.receipt(tx)
        events = self.npm.events.IncreaseLiquidity().process_receipt(receipt, errors=DISCARD)
        return int(events[0]["args"]["tokenId"])

    def swap(self, token_in: str, token_out: str, fee: int, amount_in: int) -> None:
        params = (token_in, token_out, fee, ACCOUNTS[0], DEADLINE, amount_in, 0, 0)
        self.chain.receipt(self.chain.send(self.router.functions.exactInputSingle(params)))


def aligned_tick(tick: int, spacing: int) -> int:
    return (tick // spacing) * spacing


def current_tick(chain: DevChain, pool: str) -> int:
    return int(chain.contract("UniswapV3Pool", pool).functions.slot0().call()[1])
