// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

/// @notice PancakeSwap v3's pool deployer, for the dev chain only. npm @pancakeswap/v3-core
/// 1.0.2 ships builds of PancakeV3Factory and PancakeV3Pool but none of PancakeV3PoolDeployer,
/// the contract the factory calls to create each pool. This one does what that one does, so
/// the real factory, pool and periphery run unchanged: it holds the pool's parameters while
/// the pool is constructed (the pool reads them back from its deployer), and CREATE2s the
/// pool with salt keccak256(abi.encode(token0, token1, fee)) from the npm pool's creation
/// code, copied byte for byte from the code at `initCodeHolder`. The init code hash is then
/// the one PoolAddress in the npm periphery builds has baked in (0x6ce8eb47...), and pools
/// land where the NonfungiblePositionManager and the SwapRouter compute them.
contract PancakePoolDeployer {
    struct Parameters {
        address factory;
        address token0;
        address token1;
        uint24 fee;
        int24 tickSpacing;
    }

    Parameters public parameters;
    address public factoryAddress;
    address public immutable initCodeHolder;

    constructor(address initCodeHolder_) {
        initCodeHolder = initCodeHolder_;
    }

    function setFactoryAddress(address factory) external {
        require(factoryAddress == address(0), "already initialized");
        factoryAddress = factory;
    }

    function deploy(
        address factory,
        address token0,
        address token1,
        uint24 fee,
        int24 tickSpacing
    ) external returns (address pool) {
        require(msg.sender == factoryAddress, "only factory can call deploy");
        parameters = Parameters(factory, token0, token1, fee, tickSpacing);
        address holder = initCodeHolder;
        bytes32 salt = keccak256(abi.encode(token0, token1, fee));
        assembly {
            let size := extcodesize(holder)
            let ptr := mload(0x40)
            extcodecopy(holder, ptr, 0, size)
            pool := create2(0, ptr, size, salt)
        }
        require(pool != address(0), "pool creation failed");
        delete parameters;
    }
}
