#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "eth_bytes.hpp"
#include "eth_key.hpp"

/// The Solidity contract ABI (docs.soliditylang.org, "Contract ABI Specification") for the types
/// our contracts use: uintN and intN (two's complement in a U256), address, bool, bytesN, bytes,
/// string, and arrays T[] and T[k] of those. No tuples: none of our functions takes or returns
/// a struct.
namespace restinu::blockchain::eth::abi {

/// Input that does not fit its type, or return data that is not a valid encoding.
class AbiError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// One value: a number (uintN, intN), an address, a bool, bytes (bytesN, bytes, string) or an
/// array.
struct Value {
    using Array = std::vector<Value>;
    std::variant<U256, Address, bool, std::string, Array> v;

    static Value uint(U256 n) { return Value{std::move(n)}; }
    static Value address(const Address& a) { return Value{a}; }
    static Value boolean(bool b) { return Value{b}; }
    static Value bytes(std::string b) { return Value{std::move(b)}; }
    static Value array(Array a) { return Value{std::move(a)}; }

    /// The value as the type asks; AbiError if it holds another kind.
    const U256& asUint() const;
    const Address& asAddress() const;
    bool asBool() const;
    const std::string& asBytes() const;
    const Array& asArray() const;

    bool operator==(const Value&) const = default;
};

/// The first 4 bytes of keccak256 of a canonical signature ("transfer(address,uint256)").
std::string selector(std::string_view signature);
/// keccak256 of an event's canonical signature: its topic 0.
std::string eventTopic(std::string_view signature);
/// The parameter types of a signature: "f(address,uint256[])" → {"address", "uint256[]"}.
std::vector<std::string> parameterTypes(std::string_view signature);

/// `values` encoded as a tuple of `types`.
std::string encode(const std::vector<std::string>& types, const std::vector<Value>& values);
/// selector(signature) followed by the arguments encoded by the signature's types.
std::string encodeCall(std::string_view signature, const std::vector<Value>& args);
/// Return data (or a log's data) decoded as a tuple of `types`; every offset and length is
/// checked against the data, and every value against its type, so hostile data cannot make it
/// read out of bounds or allocate without limit.
std::vector<Value> decode(const std::vector<std::string>& types, std::string_view data);
/// One 32-byte word (an indexed event topic) decoded as a static type.
Value decodeTopic(std::string_view type, std::string_view topic);

}  // namespace restinu::blockchain::eth::abi
