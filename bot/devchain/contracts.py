"""Contract artifacts for the dev chain: the real Uniswap builds from node_modules, and
our own small contracts from the committed `build/contracts.json`.
"""

from __future__ import annotations

import json
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
}


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def _hex(value: Any) -> str:
    text = str(value or "")
    return text if text.startswith("0x") else "0x" + text


@cache
def artifact(name: str) -> Artifact:
    """Load an artifact by name: a Uniswap one, or ours (TestToken, BlockCalls, BatchSender)."""
    if name in UNISWAP_ARTIFACTS:
        path = _NODE_MODULES / UNISWAP_ARTIFACTS[name]
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run `npm ci` in the repository root")
        raw = json.loads(path.read_text())
        evm = raw.get("evm", {})
        bytecode = raw.get("bytecode") or evm.get("bytecode", {}).get("object")
        deployed = raw.get("deployedBytecode") or evm.get("deployedBytecode", {}).get("object")
        return Artifact(name, raw["abi"], _hex(bytecode), _hex(deployed))
    ours = json.loads(_BUILD.read_text())
    if name not in ours:
        raise KeyError(f"no artifact {name!r}: run `python -m bot.devchain.build_contracts`")
    art = ours[name]
    return Artifact(name, art["abi"], art["bytecode"], art["deployedBytecode"])
