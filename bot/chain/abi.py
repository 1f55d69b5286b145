"""View functions from the minimal JSON ABIs in `abis/`, with a fast static-type codec.

A tick encodes and decodes thousands of calls; eth_abi is general but slow for that, so
static types (address, bool, intN, uintN, bytesN) are packed by hand and only dynamic
outputs (`string`) go through eth_abi. A static struct output (v4's `PoolKey`) is encoded
inline, word after word, so it decodes as its fields in order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

WORD = 32
_DYNAMIC = re.compile(r"\[|\bstring\b|\bbytes\b")


def _encode_word(abi_type: str, value: Any) -> bytes:
    if abi_type == "address":
        return bytes(12) + bytes.fromhex(str(value)[2:])
    if abi_type == "bool":
        return (1 if value else 0).to_bytes(WORD, "big")
    if abi_type.startswith("int"):
        return int(value).to_bytes(WORD, "big", signed=True)
    if abi_type.startswith("uint"):
        return int(value).to_bytes(WORD, "big")
    if abi_type.startswith("bytes") and abi_type != "bytes":
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
        return raw.ljust(WORD, b"\0")  # bytesN is left-aligned
    raise TypeError(f"unsupported input type {abi_type}")


@lru_cache(maxsize=65536)
def checksum(raw20: bytes) -> str:
    """Checksummed address of 20 raw bytes (cached: keccak per call is the slow part)."""
    return to_checksum_address(raw20)


def _decode_word(abi_type: str, word: bytes) -> Any:
    if abi_type == "address":
        return checksum(word[12:])
    if abi_type == "bool":
        return word[-1] == 1
    if abi_type.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    if abi_type.startswith("bytes"):
        return word[: int(abi_type[5:])]
    return int.from_bytes(word, "big")


@dataclass(frozen=True, slots=True)
class ViewFn:
    """One view function: 4-byte selector, input and output types."""

    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dynamic: bool = False  # an output is a string, bytes or array: decode with eth_abi

    def encode(self, *args: Any) -> bytes:
        return self.selector + b"".join(map(_encode_word, self.inputs, args))

    def decode(self, data: bytes) -> tuple[Any, ...]:
        """Decode return data; raises ValueError when it is too short (not this function)."""
        if self.dynamic:
            return tuple(abi_decode(list(self.outputs), data))
        if len(data) < WORD * len(self.outputs):
            raise ValueError(f"{self.name}: {len(data)} bytes of return data is too short")
        return tuple(
            _decode_word(t, data[i * WORD : (i + 1) * WORD]) for i, t in enumerate(self.outputs)
        )

    def decode_one(self, data: bytes) -> Any:
        return self.decode(data)[0]


def _type_of(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def _is_dynamic(abi_type: str) -> bool:
    """An array, a string or `bytes` anywhere in it (bytes32 is static)."""
    return _DYNAMIC.search(abi_type) is not None


def _output_words(param: dict[str, Any]) -> tuple[str, ...]:
    """A static struct is its fields inline; anything else is one output."""
    if param["type"] == "tuple" and not _is_dynamic(_type_of(param)):
        return tuple(t for c in param["components"] for t in _output_words(c))
    return (_type_of(param),)


@cache
def view(abi_name: str, fn_name: str) -> ViewFn:
    """`view("v3_pool", "slot0")`: the function from `abis/<abi_name>.json`."""
    text = resources.files("bot.chain").joinpath("abis", f"{abi_name}.json").read_text()
    for entry in json.loads(text):
        if entry.get("type") == "function" and entry["name"] == fn_name:
            inputs = tuple(_type_of(p) for p in entry["inputs"])
            outputs = tuple(t for p in entry["outputs"] for t in _output_words(p))
            selector = keccak(text=f"{fn_name}({','.join(inputs)})")[:4]
            dynamic = any(_is_dynamic(t) for t in outputs)
            return ViewFn(fn_name, selector, inputs, outputs, dynamic)
    raise KeyError(f"no function {fn_name} in abis/{abi_name}.json")


def decode_symbol(data: bytes) -> str:
    """ERC-20 `symbol()`: a string, or bytes32 for old tokens (MKR, SAI)."""
    try:
        return str(abi_decode(["string"], data)[0])
    except Exception:  # not a string: fall back to the bytes32 form
        return data[:32].rstrip(b"\0").decode("utf-8", "replace")
