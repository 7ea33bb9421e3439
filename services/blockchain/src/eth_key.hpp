#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

/// Ethereum accounts: addresses (EIP-55 checksums), secp256k1 private keys, recoverable
/// signatures and recovering a signer, on libsecp256k1 (its recovery module).
namespace restinu::blockchain::eth {

/// A 20-byte account address.
class Address {
public:
    Address() = default;
    /// From its 20 bytes; nullopt for another length.
    static std::optional<Address> fromBytes(std::string_view b);
    /// From "0x" and 40 hex digits. All lower or all upper case is taken as it is; mixed case
    /// must be the EIP-55 checksum, so a mistyped address is refused rather than used.
    static std::optional<Address> parse(std::string_view text);

    std::string bytes() const { return {bytes_.begin(), bytes_.end()}; }
    /// The EIP-55 mixed-case form ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").
    std::string checksummed() const;
    /// "0x" and lower-case hex: the form stored and compared.
    std::string lower() const;

    bool operator==(const Address&) const = default;
    auto operator<=>(const Address&) const = default;

private:
    std::array<unsigned char, 20> bytes_{};
};

/// r, s and the recovery id (0 or 1; EIP-1559's y_parity) of an ECDSA signature, s in the lower
/// half of the order (EIP-2).
struct Signature {
    std::string r;  ///< 32 bytes
    std::string s;  ///< 32 bytes
    int recovery_id = 0;
    /// r || s || v with v = 27 + recovery_id: the 65 bytes of eth_sign / personal_sign.
    std::string rsv() const;
    /// From 65 bytes r || s || v, v being 0, 1, 27 or 28; nullopt otherwise.
    static std::optional<Signature> fromRsv(std::string_view b);
};

/// A secp256k1 private key. Its bytes are wiped when it goes and never printed: there is no
/// accessor for them.
class PrivateKey {
public:
    /// From 32 bytes that are a valid secret (not zero, below the group order).
    static std::optional<PrivateKey> fromBytes(std::string_view secret);
    /// From "0x" and 64 hex digits (a key file's or the config's form).
    static std::optional<PrivateKey> parse(std::string_view hex_text);
    /// A new random key.
    static PrivateKey generate();

    PrivateKey(const PrivateKey&);
    PrivateKey& operator=(const PrivateKey&);
    ~PrivateKey();

    const Address& address() const { return address_; }
    /// Signs a 32-byte digest (RFC 6979 nonces: the same digest gives the same signature).
    Signature sign(std::string_view digest32) const;
    /// The 32 secret bytes, for sealing at rest only (custodial wallets).
    std::string exportSecret() const;

private:
    PrivateKey() = default;
    std::array<unsigned char, 32> secret_{};
    Address address_;
};

/// The address that signed `digest32`; nullopt when the signature is not valid for it.
std::optional<Address> recoverSigner(std::string_view digest32, const Signature& sig);

/// EIP-191 version 0x45: keccak256("\x19Ethereum Signed Message:\n" + len(message) + message),
/// the digest personal_sign signs (and Sign-In with Ethereum's messages).
std::string personalMessageDigest(std::string_view message);

}  // namespace restinu::blockchain::eth
