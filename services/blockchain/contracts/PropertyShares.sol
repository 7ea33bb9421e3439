// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IIdentityRegistry} from "./IIdentityRegistry.sol";
import {RentDistributor} from "./RentDistributor.sol";

/// @title PropertyShares
/// @notice The fractional ownership of one property: whole shares (0 decimals), a fixed supply
///         minted once to the platform's treasury, transferable only between wallets the
///         identity registry lists as KYC-verified (ERC-3643's transfer rule), pausable, with
///         agent-driven recovery of lost wallets, and paying rent pro rata (RentDistributor).
///
/// @dev Transfer rules, all enforced in `_update`, the single path of every balance change:
///      - the receiver must be verified, also for the initial mint (so the treasury must be
///        registered before this contract is deployed);
///      - the sender must be verified, except on mint and burn and in `recoveryTransfer`
///        (a lost wallet has usually been removed from the registry already);
///      - nothing moves while paused, except in `recoveryTransfer`.
///      The spender of a `transferFrom` is not checked, as in ERC-3643: shares still only
///      move between verified wallets.
contract PropertyShares is ERC20, ERC20Pausable, RentDistributor {
    /// @notice Role that recovers lost wallets.
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");
    /// @notice Role that pauses and unpauses transfers.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice The platform's identifier of the property (the property's UUID, its 16 bytes
    ///         left-aligned).
    bytes32 public immutable propertyId;
    /// @notice Price of one share at issue, in the payment token's minor units (paise).
    uint256 public immutable issuePriceMinor;
    /// @notice The KYC registry every transfer consults.
    IIdentityRegistry public immutable identityRegistry;

    /// @dev True only inside `recoveryTransfer`, to let `_update` skip the sender and pause checks.
    bool private _recovering;

    /// @notice The agent moved `amount` shares (and the unclaimed rent) of `lost` to `replacement`.
    event Recovered(address indexed lost, address indexed replacement, uint256 amount);

    /// @notice `receiver` is not in the identity registry.
    error SharesReceiverNotVerified(address receiver);
    /// @notice `sender` is not in the identity registry.
    error SharesSenderNotVerified(address sender);
    /// @notice A constructor address argument was zero.
    error SharesZeroAddress();
    /// @notice The supply must be at least one share.
    error SharesZeroSupply();
    /// @notice Recovery needs two different wallets.
    error RecoverySameWallet(address wallet);
    /// @notice `lost` has neither shares nor unclaimed rent.
    error RecoveryNothingToMove(address lost);
    /// @notice `holder` is not in the identity registry, so its rent cannot be paid out now.
    error RentClaimerNotVerified(address holder);

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param propertyId_ See {propertyId}.
    /// @param totalShares The whole, fixed supply, minted to `treasury`.
    /// @param issuePriceMinor_ See {issuePriceMinor}.
    /// @param treasury Holds the unsold shares; must already be verified in `registry`.
    /// @param registry The identity registry.
    /// @param paymentToken_ The ERC-20 rent is paid in.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (the platform timelock).
    /// @param operator Receives AGENT_ROLE, DISTRIBUTOR_ROLE and PAUSER_ROLE (the platform's
    ///        operator key).
    constructor(
        string memory name_,
        string memory symbol_,
        bytes32 propertyId_,
        uint256 totalShares,
        uint256 issuePriceMinor_,
        address treasury,
        IIdentityRegistry registry,
        IERC20 paymentToken_,
        address admin,
        address operator
    ) ERC20(name_, symbol_) RentDistributor(paymentToken_) {
        if (address(registry) == address(0) || admin == address(0) || operator == address(0)) {
            revert SharesZeroAddress();
        }
        if (totalShares == 0) revert SharesZeroSupply();
        propertyId = propertyId_;
        issuePriceMinor = issuePriceMinor_;
        identityRegistry = registry;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, operator);
        _grantRole(DISTRIBUTOR_ROLE, operator);
        _grantRole(PAUSER_ROLE, operator);
        _mint(treasury, totalShares);
    }

    /// @notice Shares are whole: 0 decimals.
    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice Stops every transfer (recovery excepted). Rent deposits and claims go on.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes transfers.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice Moves the whole balance of `lost`, and its unclaimed rent, to `replacement`,
    ///         a verified wallet of the same investor. Works while paused and whether or not
    ///         `lost` is still verified; the agent deletes `lost` from the registry separately.
    /// @dev Emits {Transfer}, {Recovered} and, if rent was unclaimed, {RentEntitlementMoved}.
    function recoveryTransfer(address lost, address replacement) external onlyRole(AGENT_ROLE) {
        if (lost == replacement) revert RecoverySameWallet(lost);
        uint256 amount = balanceOf(lost);
        if (amount == 0 && withdrawableRentOf(lost) == 0) revert RecoveryNothingToMove(lost);

        _recovering = true;
        _transfer(lost, replacement, amount);
        _recovering = false;
        _moveUnclaimedRent(lost, replacement);
        emit Recovered(lost, replacement, amount);
    }

    /// @dev Every mint, transfer and burn: the registry checks, pause, balances, then the rent
    ///      corrections.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Pausable) {
        if (to != address(0) && !identityRegistry.isVerified(to)) {
            revert SharesReceiverNotVerified(to);
        }
        bool recovering = _recovering;
        if (from != address(0) && to != address(0) && !recovering && !identityRegistry.isVerified(from)) {
            revert SharesSenderNotVerified(from);
        }
        if (recovering) {
            ERC20._update(from, to, value); // deliberately skips ERC20Pausable's pause check
        } else {
            super._update(from, to, value);
        }
        _rentOnSharesMoved(from, to, value);
    }

    /// @dev Unverified wallets keep earning but cannot be paid until verified again or recovered.
    function _checkRentClaimer(address holder) internal view override {
        if (!identityRegistry.isVerified(holder)) revert RentClaimerNotVerified(holder);
    }

    function _sharesOf(address holder) internal view override returns (uint256) {
        return balanceOf(holder);
    }

    function _totalShares() internal view override returns (uint256) {
        return totalSupply();
    }
}
