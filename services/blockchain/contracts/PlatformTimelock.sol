// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title PlatformTimelock
/// @notice Holds DEFAULT_ADMIN_ROLE on every platform contract, so granting or revoking a role
///         is a public, delayed operation rather than one key's instant decision. Proposers
///         schedule a call, anyone watching sees it for `minDelay` seconds, then an executor runs
///         it. OpenZeppelin's TimelockController, unchanged; this contract only gives it a name
///         in the build artifacts.
contract PlatformTimelock is TimelockController {
    /// @param minDelay Seconds between scheduling and execution.
    /// @param proposers Addresses that may schedule (and cancel) operations.
    /// @param executors Addresses that may execute ready operations (the zero address: anyone).
    /// @param admin Optional bootstrap admin of the timelock itself; pass the zero address so
    ///        that only the timelock administers itself.
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
