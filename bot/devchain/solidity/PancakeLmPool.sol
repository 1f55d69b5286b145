// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

// Liquidity-mining pools for PancakeSwap v3 farms, for the dev chain only.
// MasterChefV3 (npm @pancakeswap/masterchef-v3 1.0.0, its build unchanged) books each staked
// position's liquidity in the LM pool of its v3 pool and prices CAKE rewards from that LM
// pool's reward growth; the npm PancakeV3Pool calls it on every swap (accumulateReward) and
// at every initialized tick a swap crosses (crossLmTick). PancakeSwap publishes its own
// PancakeV3LmPool and LMPoolDeployer as sources in its repository only, in no package we can
// install, so the dev chain uses these, which keep the same books written anew: MasterChef's
// CAKE per second for the pool (scaled by its PRECISION, 1e12) spread over the staked
// liquidity in range, growth outside each tick flipped when the price crosses it, as v3
// keeps fee growth. lphedge never calls these; it reads MasterChefV3's own views.

interface IPancakePoolView {
    function factory() external view returns (address);

    function slot0()
        external
        view
        returns (uint160, int24, uint16, uint16, uint16, uint32, bool);
}

interface IMasterChefPeriod {
    function getLatestPeriodInfo(address v3Pool) external view returns (uint256, uint256);
}

interface IPancakeFactoryLm {
    function setLmPool(address pool, address lmPool) external;
}

contract PancakeLmPool {
    uint256 internal constant Q128 = 1 << 128;
    uint256 internal constant REWARD_PRECISION = 1e12; // MasterChefV3.PRECISION

    struct LmTick {
        uint128 liquidityGross;
        int128 liquidityNet;
        uint256 rewardGrowthOutsideX128;
    }

    address public immutable pool;
    address public immutable masterChef;
    uint256 public rewardGrowthGlobalX128;
    uint128 public lmLiquidity;
    uint32 public lastRewardTimestamp;
    mapping(int24 => LmTick) public lmTicks;

    constructor(address pool_, address masterChef_) {
        pool = pool_;
        masterChef = masterChef_;
        lastRewardTimestamp = uint32(block.timestamp);
    }

    /// Books the rewards of the seconds since the last booking (the pool calls it before a
    /// swap moves the price, MasterChef before it reads or changes a position).
    function accumulateReward(uint32 currTimestamp) external {
        require(msg.sender == pool || msg.sender == masterChef, "LM: not pool or chef");
        _accumulate(currTimestamp);
    }

    function crossLmTick(int24 tick, bool zeroForOne) external {
        require(msg.sender == pool, "LM: not pool");
        LmTick storage info = lmTicks[tick];
        if (info.liquidityGross == 0) return;
        unchecked {
            info.rewardGrowthOutsideX128 = rewardGrowthGlobalX128 - info.rewardGrowthOutsideX128;
        }
        lmLiquidity = _add(lmLiquidity, zeroForOne ? -info.liquidityNet : info.liquidityNet);
    }

    function updatePosition(int24 tickLower, int24 tickUpper, int128 liquidityDelta) external {
        require(msg.sender == masterChef, "LM: not chef");
        (, int24 tick, , , , , ) = IPancakePoolView(pool).slot0();
        _accumulate(uint32(block.timestamp));
        if (liquidityDelta == 0) return;
        _updateTick(tickLower, tick, liquidityDelta, false);
        _updateTick(tickUpper, tick, liquidityDelta, true);
        if (tickLower <= tick && tick < tickUpper) lmLiquidity = _add(lmLiquidity, liquidityDelta);
    }

    /// Reward growth per unit of liquidity inside the range, as of the last booking.
    function getRewardGrowthInside(int24 tickLower, int24 tickUpper) external view returns (uint256) {
        (, int24 tick, , , , , ) = IPancakePoolView(pool).slot0();
        uint256 global = rewardGrowthGlobalX128;
        uint256 lowerOutside = lmTicks[tickLower].rewardGrowthOutsideX128;
        uint256 upperOutside = lmTicks[tickUpper].rewardGrowthOutsideX128;
        unchecked {
            uint256 below = tick >= tickLower ? lowerOutside : global - lowerOutside;
            uint256 above = tick < tickUpper ? upperOutside : global - upperOutside;
            return global - below - above;
        }
    }

    function _accumulate(uint32 currTimestamp) internal {
        uint32 last = lastRewardTimestamp;
        if (currTimestamp <= last) return;
        if (lmLiquidity != 0) {
            (uint256 perSecond, uint256 endTime) = IMasterChefPeriod(masterChef).getLatestPeriodInfo(pool);
            uint256 end = currTimestamp < endTime ? currTimestamp : endTime;
            if (end > last) {
                // checked: overflows (and reverts) only past 2**128 CAKE-seconds, not on a dev chain
                uint256 growth = ((end - last) * perSecond * Q128) / (REWARD_PRECISION * lmLiquidity);
                unchecked {
                    rewardGrowthGlobalX128 += growth;
                }
            }
        }
        lastRewardTimestamp = currTimestamp;
    }

    function _updateTick(int24 tick, int24 current, int128 delta, bool upper) internal {
        LmTick storage info = lmTicks[tick];
        uint128 grossBefore = info.liquidityGross;
        uint128 grossAfter = _add(grossBefore, delta);
        // growth outside starts as all growth so far when the tick is at or below the price
        if (grossBefore == 0 && tick <= current) info.rewardGrowthOutsideX128 = rewardGrowthGlobalX128;
        info.liquidityGross = grossAfter;
        info.liquidityNet = upper ? info.liquidityNet - delta : info.liquidityNet + delta;
        if (grossAfter == 0) delete lmTicks[tick];
    }

    function _add(uint128 x, int128 y) internal pure returns (uint128) {
        return y < 0 ? x - uint128(-y) : x + uint128(y);
    }
}

contract PancakeLmPoolDeployer {
    address public immutable masterChef;

    constructor(address masterChef_) {
        masterChef = masterChef_;
    }

    /// MasterChefV3.add() calls this for each pool it farms; the factory (which has this
    /// contract as its lmPoolDeployer) then sets the LM pool on the v3 pool.
    function deploy(address pool) external returns (address lmPool) {
        require(msg.sender == masterChef, "LM: not chef");
        lmPool = address(new PancakeLmPool(pool, masterChef));
        IPancakeFactoryLm(IPancakePoolView(pool).factory()).setLmPool(pool, lmPool);
    }
}
