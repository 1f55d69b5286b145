"""Chain adapter: read LP positions and pool state over JSON-RPC (web3.py), at one block."""
