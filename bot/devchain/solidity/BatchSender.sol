// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

/// @notice Sends many calls in one transaction (test setup only: mints hundreds of
/// positions in a few blocks). Anyone may use it; it holds no value between uses.
contract BatchSender {
    struct Call {
        address target;
        bytes data;
    }

    function run(Call[] calldata calls) external {
        for (uint256 i = 0; i < calls.length; ++i) {
            (bool ok, bytes memory data) = calls[i].target.call(calls[i].data);
            if (!ok) {
                assembly {
                    revert(add(data, 32), mload(data))
                }
            }
        }
    }
}
