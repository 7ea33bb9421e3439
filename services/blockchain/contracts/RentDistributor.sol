// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title RentDistributor
/// @notice Pays rent to share holders pro rata to their balance at the moment each deposit
///         arrives, in a pull pattern: the distributor deposits, each holder claims. Nothing
///         loops over holders, so the cost of a deposit or a claim does not grow with their number.
///
/// @dev Accounting (the "magnified dividend per share" of ERC-1726 / ERC-2222 FDT):
///      - `magnifiedRentPerShare` is the running sum over deposits of
///        `amount * 2**128 / totalShares`, in units of 2**-128 of a minor unit per share.
///      - A holder's accumulated rent is `(magnifiedRentPerShare * balance + correction) / 2**128`.
///        Every balance change (mint, transfer, burn) adjusts `correction` by
///        `magnifiedRentPerShare * value` so that moving shares neither moves nor creates
///        rent already earned: rent follows the balance held when it was deposited.
///      - A claim pays accumulated minus already claimed.
///
///      Rounding, and where the remainder goes (nothing is lost, nothing is overpaid):
///      1. Per share: a deposit adds `(amount * 2**128 + carry) / totalShares` to the per-share
///         sum and keeps `(amount * 2**128 + carry) % totalShares` as the new carry
///         (`magnifiedRentRemainder`), which the next deposit distributes. Hence
///         sum(per-share increments * totalShares) + carry == sum(deposits) * 2**128 exactly.
///         The carry is below totalShares / 2**128 of one minor unit.
///      2. Per holder: a claim pays whole minor units, the floor of the holder's magnified
///         total. The fraction (below one minor unit) is not discarded: claims are recorded
///         in whole units while the magnified total keeps its fraction, so it is paid as soon
///         as later rent makes it a whole unit.
///      Bound: with E = sum over deposits of amount * balanceAtDeposit / totalShares (the exact
///      rational entitlement), a holder's total claimed rent C always satisfies E - 1 <= C <= E
///      (minor units), and C == floor(E) whenever E is not a whole number. C can be E - 1 only
///      when E is whole: the per-share floors left a sliver (far below a paisa) of that paisa
///      in the carry; the holder catches up with the next deposit. This holds while
///      totalShares**2 * numberOfDeposits < 2**128, i.e. for any real share count.
///      Rent not yet paid out, `totalRentDeposited - totalRentClaimed`, is always covered by
///      this contract's payment-token balance; once every holder has claimed it is at most one
///      minor unit per address that ever held shares.
///
///      The payment token must move exactly the amount asked (no fee-on-transfer tokens); it
///      is fixed at construction. Deposits must be below 2**128 minor units.
abstract contract RentDistributor is AccessControl {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Role that deposits rent.
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR_ROLE");

    /// @notice Fixed-point scale of `magnifiedRentPerShare`.
    uint256 public constant MAGNITUDE = 2 ** 128;

    /// @notice The ERC-20 rent is paid in.
    IERC20 public immutable paymentToken;

    /// @notice Sum over deposits of rent per share, scaled by MAGNITUDE.
    uint256 public magnifiedRentPerShare;

    /// @notice The per-share rounding remainder carried into the next deposit (scaled by
    ///         MAGNITUDE, always below the share supply at the last deposit).
    uint256 public magnifiedRentRemainder;

    /// @notice Sum of all deposits, in minor units.
    uint256 public totalRentDeposited;

    /// @notice Sum of all claims, in minor units.
    uint256 public totalRentClaimed;

    mapping(address holder => int256) private _magnifiedCorrections;
    mapping(address holder => uint256) private _claimedRent;

    /// @notice `by` deposited `amount`; `magnifiedPerShare` is the new `magnifiedRentPerShare`.
    event RentDeposited(address indexed by, uint256 amount, uint256 magnifiedPerShare);
    /// @notice `holder` was paid `amount`.
    event RentClaimed(address indexed holder, uint256 amount);
    /// @notice The unclaimed rent of `from` (about `amount`, fraction included) now belongs to `to`.
    event RentEntitlementMoved(address indexed from, address indexed to, uint256 amount);

    /// @notice A deposit of zero.
    error RentZeroAmount();
    /// @notice A deposit while no shares exist: nobody could ever claim it.
    error RentNoShares();
    /// @notice The payment token cannot be the zero address.
    error RentZeroPaymentToken();

    /// @param paymentToken_ The ERC-20 rent is paid in.
    constructor(IERC20 paymentToken_) {
        if (address(paymentToken_) == address(0)) revert RentZeroPaymentToken();
        paymentToken = paymentToken_;
    }

    /// @notice Pulls `amount` of the payment token from the caller (who must have approved this
    ///         contract) and shares it among current holders pro rata to their balances.
    /// @dev Emits {RentDeposited}. Effects before the transfer; reverts when no shares exist.
    function depositRent(uint256 amount) external onlyRole(DISTRIBUTOR_ROLE) {
        if (amount == 0) revert RentZeroAmount();
        uint256 supply = _totalShares();
        if (supply == 0) revert RentNoShares();

        uint256 magnified = amount * MAGNITUDE + magnifiedRentRemainder;
        uint256 perShare = magnifiedRentPerShare + magnified / supply;
        magnifiedRentPerShare = perShare;
        magnifiedRentRemainder = magnified % supply;
        totalRentDeposited += amount;
        emit RentDeposited(_msgSender(), amount, perShare);

        paymentToken.safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @notice Pays the caller all rent they have earned and not yet claimed.
    /// @dev Emits {RentClaimed} when something is paid. Returns 0 (and changes nothing) when
    ///      there is nothing to claim. Effects before the transfer.
    /// @return amount The amount paid, in minor units.
    function claimRent() external returns (uint256 amount) {
        return _claim(_msgSender());
    }

    /// @notice Pays `holder` all rent they have earned and not yet claimed, at the caller's gas:
    ///         the platform claims for custodial wallets (which hold no ether) and for anyone
    ///         who asks it to. The rent only ever goes to `holder`, so anyone may call it.
    /// @dev The same rules and event as {claimRent}.
    /// @return amount The amount paid, in minor units.
    function claimRentFor(address holder) external returns (uint256 amount) {
        return _claim(holder);
    }

    /// @notice Rent `holder` can claim now, in minor units.
    function withdrawableRentOf(address holder) public view returns (uint256) {
        return accumulativeRentOf(holder) - _claimedRent[holder];
    }

    /// @notice Rent `holder` has already claimed, in minor units.
    function claimedRentOf(address holder) external view returns (uint256) {
        return _claimedRent[holder];
    }

    /// @notice All rent `holder` has earned so far, claimed or not, in whole minor units.
    function accumulativeRentOf(address holder) public view returns (uint256) {
        return _magnifiedAccumulative(holder) / MAGNITUDE;
    }

    function _claim(address holder) private returns (uint256 amount) {
        _checkRentClaimer(holder);
        amount = withdrawableRentOf(holder);
        if (amount == 0) return 0;

        _claimedRent[holder] += amount;
        totalRentClaimed += amount;
        emit RentClaimed(holder, amount);

        paymentToken.safeTransfer(holder, amount);
    }

    /// @dev Shares held by `holder` (the token's balance).
    function _sharesOf(address holder) internal view virtual returns (uint256);

    /// @dev All shares in existence (the token's supply).
    function _totalShares() internal view virtual returns (uint256);

    /// @dev Hook to refuse a claim (for example from a wallet no longer verified). Default: allow.
    function _checkRentClaimer(address holder) internal view virtual {}

    /// @dev Must be called for every balance change, with the per-share sum as it stands
    ///      (mint: from == 0, burn: to == 0), so that earned rent stays with whoever earned it.
    function _rentOnSharesMoved(address from, address to, uint256 value) internal {
        int256 correction = (magnifiedRentPerShare * value).toInt256();
        if (from != address(0)) _magnifiedCorrections[from] += correction;
        if (to != address(0)) _magnifiedCorrections[to] -= correction;
    }

    /// @dev Gives everything `from` has earned and not claimed, fraction included, to `to`
    ///      (wallet recovery). Emits {RentEntitlementMoved} when there is anything to move.
    /// @return amount Whole minor units moved.
    function _moveUnclaimedRent(address from, address to) internal returns (uint256 amount) {
        uint256 unclaimed = _magnifiedAccumulative(from) - _claimedRent[from] * MAGNITUDE;
        if (unclaimed == 0) return 0;
        int256 delta = unclaimed.toInt256();
        _magnifiedCorrections[from] -= delta;
        _magnifiedCorrections[to] += delta;
        amount = unclaimed / MAGNITUDE;
        emit RentEntitlementMoved(from, to, amount);
    }

    function _magnifiedAccumulative(address holder) private view returns (uint256) {
        int256 total = (magnifiedRentPerShare * _sharesOf(holder)).toInt256() + _magnifiedCorrections[holder];
        return total.toUint256();
    }
}
