"""Contract artifacts for the dev chain: the real Uniswap builds from node_modules, and
our own small contracts from the committed `build/contracts.json`.

v4's npm packages ship foundry builds (`out/`, `foundry-out/`). The PositionManager pays
through Permit2, which v4-periphery vendors as sources only (it needs via-IR to build),
plus the canonical runtime bytecode its tests etch at Permit2's address: `permit2_runtime`.

PancakeSwap v3: npm `@pancakeswap/v3-core` 1.0.2 ships hardhat builds of the factory and the
pool, `@pancakeswap/v3-periphery` 1.0.2 of the NonfungiblePositionManager and SwapRouter
(1.0.3 ships none); no package ships PancakeV3PoolDeployer, so ours (`PancakePoolDeployer`)
CREATE2s the npm pool code unchanged. `@pancakeswap/masterchef-v3` 1.0.0 ships a hardhat build
of MasterChefV3 (farms); none of the LM pool it books rewards in, so ours (`PancakeLmPool`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_NODE_MODULES = _HERE.parent.parent / "node_modules"
_BUILD = _HERE / "build" / "contracts.json"

# name -> path under node_modules (hardhat artifacts for v3, waffle builds for v2)
UNISWAP_ARTIFACTS = {
    "UniswapV3Factory": (
        "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json"
    ),
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/"
        "NonfungiblePositionManager.json"
    ),
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "WETH9": "@uniswap/v2-periphery/build/WETH9.json",
    "ERC20": "@uniswap/v2-core/build/ERC20.json",
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "PoolManager": "@uniswap/v4-core/out/PoolManager.sol/PoolManager.json",
    "PoolSwapTest": "@uniswap/v4-core/out/PoolSwapTest.sol/PoolSwapTest.json",
    "PositionManager": "@uniswap/v4-periphery/foundry-out/PositionManager.sol/PositionManager.json",
    "StateView": "@uniswap/v4-periphery/foundry-out/StateView.sol/StateView.json",
    "IAllowanceTransfer": (  # Permit2's approve(), ABI only
        "@uniswap/v4-periphery/foundry-out/IAllowanceTransfer.sol/IAllowanceTransfer.default.json"
    ),
    "PancakeV3Factory": (
        "@pancakeswap/v3-core/artifacts/contracts/PancakeV3Factory.sol/PancakeV3Factory.json"
    ),
    "PancakeV3Pool": (
        "@pancakeswap/v3-core/artifacts/contracts/PancakeV3Pool.sol/PancakeV3Pool.json"
    ),
    "PancakeV3NonfungiblePositionManager": (
        "@pancakeswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/"
        "NonfungiblePositionManager.json"
    ),
    "PancakeV3SwapRouter": (
        "@pancakeswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json"
    ),
    "MasterChefV3": (
        "@pancakeswap/masterchef-v3/artifacts/contracts/MasterChefV3.sol/MasterChefV3.json"
    ),
}
PERMIT2_ADDRESS = "0x000000000022D473030F116dDEE9F6B43aC78BA3"  # the same on every chain
_PERMIT2_SOURCE = "@uniswap/v4-periphery/lib/permit2/test/utils/DeployPermit2.sol"


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def _hex(value: Any) -> str:
    if isinstance(value, dict):  # foundry: {"object": "0x...", "sourceMap": ...}
        value = value.get("object")
    text = str(value or "")
    return text if text.startswith("0x") else "0x" + text


def _node_module(relative: str) -> Path:
    path = _NODE_MODULES / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `npm ci` in the repository root")
    return path


@cache
def artifact(name: str) -> Artifact:
    """Load an artifact by name: a Uniswap one, or ours (TestToken, BlockCalls, BatchSender)."""
    if name in UNISWAP_ARTIFACTS:
        raw = json.loads(_node_module(UNISWAP_ARTIFACTS[name]).read_text())
        evm = raw.get("evm", {})
        bytecode = raw.get("bytecode") or evm.get("bytecode", {}).get("object")
        deployed = raw.get("deployedBytecode") or evm.get("deployedBytecode", {}).get("object")
        return Artifact(name, raw["abi"], _hex(bytecode), _hex(deployed))
    ours = json.loads(_BUILD.read_text())
    if name not in ours:
        raise KeyError(f"no artifact {name!r}: run `python -m bot.devchain.build_contracts`")
    art = ours[name]
    return Artifact(name, art["abi"], art["bytecode"], art["deployedBytecode"])


@cache
def permit2_runtime() -> str:
    """Permit2's deployed bytecode, from the `hex"..."` literal v4-periphery's Permit2
    copy etches in its tests (built for chain 31337; elsewhere it recomputes its EIP-712
    domain, which only signatures use)."""
    text = _node_module(_PERMIT2_SOURCE).read_text()
    found = re.search(r'hex"([0-9a-fA-F]+)"', text)
    if found is None:
        raise ValueError(f"no hex bytecode literal in {_PERMIT2_SOURCE}")
    return "0x" + found.group(1)
