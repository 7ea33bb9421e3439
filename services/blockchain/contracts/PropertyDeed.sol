// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";

/// @title PropertyDeed
/// @notice One non-fungible token per property, pointing at the property's title documents
///         on IPFS (`tokenURI` is `ipfs://<cid>`). A deed records who holds title on the
///         platform; it is not a bearer instrument: holders cannot transfer or approve it.
///         Only the registrar (the platform's operator key) mints and moves deeds, after the
///         off-chain conveyance is done.
/// @dev Every ERC-721 move goes through `_update`. The public transfer functions pass the
///      caller as `auth`; the registrar's paths (`_mint`, `_transfer`) pass the zero address.
///      `_update` therefore rejects any call with a non-zero `auth`, which closes
///      `transferFrom` and both `safeTransferFrom`s whoever calls them.
contract PropertyDeed is ERC721URIStorage, AccessControl {
    /// @notice Role that mints deeds and moves them between holders.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice A holder or operator tried to move a deed; only the registrar can.
    error DeedTransferRestricted();
    /// @notice Approvals are disabled because they could never be used.
    error DeedApprovalDisabled();
    /// @notice A deed needs the CID of its documents.
    error DeedEmptyCid();
    /// @notice The zero address can hold no role.
    error DeedZeroAddress();

    /// @param name_ ERC-721 name.
    /// @param symbol_ ERC-721 symbol.
    /// @param admin Receives DEFAULT_ADMIN_ROLE (the platform timelock).
    /// @param registrar Receives REGISTRAR_ROLE (the platform's operator key).
    constructor(string memory name_, string memory symbol_, address admin, address registrar)
        ERC721(name_, symbol_)
    {
        if (admin == address(0) || registrar == address(0)) revert DeedZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @notice Mints deed `tokenId` to `to` with token URI `ipfs://<cid>`.
    /// @dev Emits {Transfer} and ERC-4906 {MetadataUpdate}. Reverts if the token exists.
    /// @param to The title holder.
    /// @param tokenId The platform's identifier of the property.
    /// @param cid The IPFS CID of the deed's document bundle, without the `ipfs://` prefix.
    function mint(address to, uint256 tokenId, string calldata cid) external onlyRole(REGISTRAR_ROLE) {
        if (bytes(cid).length == 0) revert DeedEmptyCid();
        _mint(to, tokenId);
        _setTokenURI(tokenId, cid);
    }

    /// @notice Moves deed `tokenId` from `from` to `to` once the conveyance is registered.
    /// @dev Emits {Transfer}. Reverts with ERC721IncorrectOwner if `from` does not hold it.
    function registrarTransfer(address from, address to, uint256 tokenId) external onlyRole(REGISTRAR_ROLE) {
        _transfer(from, to, tokenId);
    }

    /// @notice Disabled: always reverts with {DeedApprovalDisabled}.
    function approve(address, uint256) public pure override(ERC721, IERC721) {
        revert DeedApprovalDisabled();
    }

    /// @notice Disabled: always reverts with {DeedApprovalDisabled}.
    function setApprovalForAll(address, bool) public pure override(ERC721, IERC721) {
        revert DeedApprovalDisabled();
    }

    /// @inheritdoc ERC721URIStorage
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    /// @dev Rejects every move that carries a caller to authorize (the public transfer paths).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        if (auth != address(0)) revert DeedTransferRestricted();
        return super._update(to, tokenId, auth);
    }

    /// @dev Token URIs are `ipfs://` followed by the stored CID.
    function _baseURI() internal pure override returns (string memory) {
        return "ipfs://";
    }
}
