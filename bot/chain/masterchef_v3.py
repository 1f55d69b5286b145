"""PancakeSwap v3 positions staked in MasterChef v3: found from the farm's own records,
owned by the staker, with the CAKE they have earned.

Staking sends the NFT to MasterChef, so the position manager names MasterChef as the
owner and no longer lists the NFT among the staker's. MasterChef keeps what we need:
`balanceOf`/`tokenOfOwnerByIndex(staker, i)` enumerate a staker's farmed NFTs,
`userPositionInfos(id).user` names the staker of one, and `pendingCake(id)` is the CAKE it
has earned (booked up to the LM pool's last update, which every swap makes). The position
itself (liquidity, ticks, fees) stays in the position manager and is read as any other.
"""

from __future__ import annotations

from bot.chain.abi import checksum, view
from bot.chain.calls import call
from bot.chain.multicall import CallMemo
from bot.errors import ConfigError

ABI = "masterchef_v3"
STAKING = "masterchef_v3"  # LpPosition.staking for a position farmed here
_USER_INFO = view(ABI, "userPositionInfos")
_USER_FIELD = _USER_INFO.outputs.index("address")  # the staker; the only address there


class FarmReadError(Exception):
    """A view of the farm's reverted; the message says which."""


def staked_ids(memo: CallMemo, farm: str, owner: str) -> list[int] | None:
    """The NFT ids `owner` has staked in the farm (None: not fetched yet)."""
    balance = memo.get(call(farm, ABI, "balanceOf", owner))
    if balance is None:
        return None
    if not balance.success or len(balance.data) < 32:
        raise FarmReadError(f"balanceOf({owner}) failed at MasterChef v3 {farm}")
    ids: list[int] = []
    for index in range(int.from_bytes(balance.data[:32], "big")):
        got = memo.get(call(farm, ABI, "tokenOfOwnerByIndex", owner, index))
        if got is not None and got.success and len(got.data) >= 32:
            ids.append(int.from_bytes(got.data[:32], "big"))
    return ids


def staker(memo: CallMemo, farm: str, token_id: int) -> str | None:
    """Who staked the NFT the farm holds (None: not fetched yet)."""
    got = memo.get(call(farm, ABI, "userPositionInfos", token_id))
    if got is None:
        return None
    if not got.success:
        raise FarmReadError(f"userPositionInfos({token_id}) reverted at MasterChef v3 {farm}")
    return str(_USER_INFO.decode(got.data)[_USER_FIELD])


def pending_cake(memo: CallMemo, farm: str, token_id: int) -> int | None:
    got = memo.get(call(farm, ABI, "pendingCake", token_id))
    if got is None:
        return None
    if not got.success or len(got.data) < 32:
        raise FarmReadError(f"pendingCake({token_id}) reverted at MasterChef v3 {farm}")
    return int.from_bytes(got.data[:32], "big")


def reward_token_address(memo: CallMemo, farm: str, npm: str, field: str) -> str | None:
    """The farm's CAKE, once the farm is known to farm `npm`'s NFTs: a farm of another
    position manager (or no MasterChef at all) is a config error naming `field`."""
    manager = memo.get(call(farm, ABI, "nonfungiblePositionManager"))
    cake = memo.get(call(farm, ABI, "CAKE"))
    if manager is None or cake is None:
        return None
    if not manager.success or len(manager.data) < 32 or not cake.success:
        raise ConfigError(
            f"{field} {farm} is not a MasterChef v3 (nonfungiblePositionManager() or CAKE() "
            "failed): check the address and the chain"
        )
    farmed = checksum(manager.data[12:32])
    if farmed != npm:
        raise ConfigError(
            f"{field} {farm} farms the NFTs of position manager {farmed}, not of "
            f"{npm} (position_managers.pancakeswap_v3): check both addresses"
        )
    return checksum(cake.data[12:32])
