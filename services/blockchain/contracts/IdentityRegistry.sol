// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IIdentityRegistry} from "./IIdentityRegistry.sol";

/// @title IdentityRegistry
/// @notice The on-chain list of wallets whose owners passed the platform's KYC. The platform's
///         operator key (AGENT_ROLE) keeps it in step with approved KYC: it registers a wallet
///         when KYC is approved and deletes it when KYC is revoked or the wallet is lost.
///         Every PropertyShares token asks this registry before it moves shares (ERC-3643's
///         identity registry, without on-chain claims: the KYC evidence stays off chain).
/// @dev DEFAULT_ADMIN_ROLE (the platform timelock) grants and revokes AGENT_ROLE.
contract IdentityRegistry is AccessControl, IIdentityRegistry {
    /// @notice Role that registers and deletes wallets.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");

    mapping(address wallet => bool) private _verified;

    /// @notice `wallet` was added by `agent`.
    event IdentityRegistered(address indexed wallet, address indexed agent);
    /// @notice `wallet` was removed by `agent`.
    event IdentityRemoved(address indexed wallet, address indexed agent);

    /// @notice The zero address can be neither an admin, an agent nor a verified wallet.
    error IdentityZeroAddress();
    /// @notice `wallet` is already registered.
    error IdentityAlreadyRegistered(address wallet);
    /// @notice `wallet` is not registered.
    error IdentityNotRegistered(address wallet);

    /// @param admin Receives DEFAULT_ADMIN_ROLE (the platform timelock).
    /// @param agent Receives AGENT_ROLE (the platform's operator key).
    constructor(address admin, address agent) {
        if (admin == address(0) || agent == address(0)) revert IdentityZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, agent);
    }

    /// @notice Marks `wallet` as verified. Reverts if it already is.
    /// @dev Emits {IdentityRegistered}.
    function registerIdentity(address wallet) external onlyRole(AGENT_ROLE) {
        _register(wallet);
    }

    /// @notice Registers several wallets in one transaction; reverts as a whole if any one
    ///         is zero or already registered.
    /// @dev The loop runs over the caller's list, never over stored holders.
    function batchRegisterIdentity(address[] calldata wallets) external onlyRole(AGENT_ROLE) {
        for (uint256 i = 0; i < wallets.length; ++i) {
            _register(wallets[i]);
        }
    }

    /// @notice Removes `wallet`; from then on it can neither receive nor send shares.
    /// @dev Emits {IdentityRemoved}. Reverts if `wallet` is not registered.
    function deleteIdentity(address wallet) external onlyRole(AGENT_ROLE) {
        if (!_verified[wallet]) revert IdentityNotRegistered(wallet);
        _verified[wallet] = false;
        emit IdentityRemoved(wallet, _msgSender());
    }

    /// @inheritdoc IIdentityRegistry
    function isVerified(address wallet) external view returns (bool) {
        return _verified[wallet];
    }

    function _register(address wallet) private {
        if (wallet == address(0)) revert IdentityZeroAddress();
        if (_verified[wallet]) revert IdentityAlreadyRegistered(wallet);
        _verified[wallet] = true;
        emit IdentityRegistered(wallet, _msgSender());
    }
}
