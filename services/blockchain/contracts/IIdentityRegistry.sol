// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IIdentityRegistry
/// @notice The one question a permissioned token asks of the platform's KYC registry
///         (the "identity registry" of ERC-3643, reduced to what PropertyShares needs).
interface IIdentityRegistry {
    /// @notice True when `wallet` belongs to an investor whose KYC the platform has approved.
    function isVerified(address wallet) external view returns (bool);
}
