#include "transaction.hpp"

#include <vector>

#include "keccak.hpp"
#include "rlp.hpp"

namespace restinu::blockchain::eth {
namespace {

std::string to(const std::optional<Address>& a) {
    return rlp::bytes(a ? a->bytes() : std::string());
}

std::vector<std::string> fields(const Eip1559Tx& tx) {
    return {rlp::uint(tx.chain_id),
            rlp::uint(tx.nonce),
            rlp::uint(tx.max_priority_fee_per_gas),
            rlp::uint(tx.max_fee_per_gas),
            rlp::uint(tx.gas_limit),
            to(tx.to),
            rlp::uint(tx.value),
            rlp::bytes(tx.data),
            rlp::list({})};
}

std::vector<std::string> fields(const LegacyTx& tx) {
    return {rlp::uint(tx.nonce), rlp::uint(tx.gas_price), rlp::uint(tx.gas_limit),
            to(tx.to),           rlp::uint(tx.value),     rlp::bytes(tx.data)};
}

// r and s as RLP integers: no leading zero bytes.
std::string scalar(const std::string& b) {
    return rlp::uint(fromBigEndian(b));
}

}  // namespace

std::string signingHash(const Eip1559Tx& tx) {
    return keccak256("\x02" + rlp::list(fields(tx)));
}

SignedTx sign(const Eip1559Tx& tx, const PrivateKey& key) {
    const auto sig = key.sign(signingHash(tx));
    auto f = fields(tx);
    f.push_back(rlp::uint(U256(sig.recovery_id)));
    f.push_back(scalar(sig.r));
    f.push_back(scalar(sig.s));
    SignedTx out;
    out.raw = "\x02" + rlp::list(f);
    out.hash = keccak256(out.raw);
    return out;
}

std::string signingHash(const LegacyTx& tx) {
    auto f = fields(tx);
    f.push_back(rlp::uint(tx.chain_id));
    f.push_back(rlp::uint(0));
    f.push_back(rlp::uint(0));
    return keccak256(rlp::list(f));
}

SignedTx sign(const LegacyTx& tx, const PrivateKey& key) {
    const auto sig = key.sign(signingHash(tx));
    auto f = fields(tx);
    f.push_back(rlp::uint(tx.chain_id * 2 + 35 + sig.recovery_id));
    f.push_back(scalar(sig.r));
    f.push_back(scalar(sig.s));
    SignedTx out;
    out.raw = rlp::list(f);
    out.hash = keccak256(out.raw);
    return out;
}

Address contractAddress(const Address& sender, const U256& nonce) {
    const auto h = keccak256(rlp::list({rlp::bytes(sender.bytes()), rlp::uint(nonce)}));
    return *Address::fromBytes(std::string_view(h).substr(12));
}

}  // namespace restinu::blockchain::eth
