"""Compile `solidity/*.sol` with npm `solc` into the committed `build/contracts.json`.

Run `python -m bot.devchain.build_contracts` after editing a source; tests and the demo
load the JSON so they need no compiler at run time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "solidity"
OUTPUT = HERE / "build" / "contracts.json"
REPO = HERE.parent.parent

_COMPILE_JS = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


def compile_sources() -> dict[str, dict[str, object]]:
    """Standard-JSON compile of every source; returns {contract: {abi, bytecode, ...}}."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed: needed to run npm solc")
    sources = {p.name: {"content": p.read_text()} for p in sorted(SOURCES.glob("*.sol"))}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "cancun",
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }
    solc = str(REPO / "node_modules" / "solc")
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [node, "-e", _COMPILE_JS, solc],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise SystemExit("\n".join(e["formattedMessage"] for e in errors))
    contracts: dict[str, dict[str, object]] = {}
    for per_file in output["contracts"].values():
        for name, art in per_file.items():
            contracts[name] = {
                "abi": art["abi"],
                "bytecode": "0x" + art["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + art["evm"]["deployedBytecode"]["object"],
            }
    return contracts


def main() -> None:
    contracts = compile_sources()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(contracts, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.relative_to(REPO)}: {', '.join(sorted(contracts))}")


if __name__ == "__main__":
    main()
