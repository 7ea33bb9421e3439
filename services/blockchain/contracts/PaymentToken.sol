// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PaymentToken
/// @notice Local stand-in for an INR stablecoin: amounts are in paise (2 decimals), so
///         100 units are one rupee. Rent is paid and shares are priced in it. On a public
///         chain the platform points PropertyShares at a real stablecoin instead.
contract PaymentToken is ERC20, AccessControl {
    /// @notice Role that mints new tokens.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice The zero address can hold no role.
    error PaymentTokenZeroAddress();

    /// @param name_ ERC-20 name.
    /// @param symbol_ ERC-20 symbol.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (the platform timelock).
    /// @param minter Receives MINTER_ROLE (the platform's operator key).
    constructor(string memory name_, string memory symbol_, address admin, address minter) ERC20(name_, symbol_) {
        if (admin == address(0) || minter == address(0)) revert PaymentTokenZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, minter);
    }

    /// @notice Two decimals: one unit is one paisa.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice Mints `amount` paise to `to`.
    /// @dev Emits {Transfer} from the zero address.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
