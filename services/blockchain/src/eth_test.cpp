// The Ethereum primitives against published test vectors: Keccak-256, RLP (the Ethereum wiki's
// examples), EIP-55 checksums (the EIP's own list), EIP-155 (the EIP's signed example), the
// Solidity documentation's ABI examples. Agreement with a real node is in tests/chain_test.cpp.
#include <gtest/gtest.h>

#include "abi.hpp"
#include "eth_bytes.hpp"
#include "eth_key.hpp"
#include "keccak.hpp"
#include "rlp.hpp"
#include "transaction.hpp"

namespace restinu::blockchain::eth {
namespace {

std::string bin(std::string_view h) {
    auto b = unhex(h);
    EXPECT_TRUE(b.has_value()) << h;
    return b.value_or("");
}

std::string words(std::initializer_list<std::string_view> ws) {
    std::string out;
    for (auto w : ws) {
        out += bin(w);
    }
    return out;
}

TEST(Keccak, MatchesEthereumsKeccakNotSha3) {
    EXPECT_EQ(hex(keccak256("")),
              "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    EXPECT_EQ(hex(keccak256("abc")),
              "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(Numbers, QuantitiesAndDecimalsRoundTripAndRefuseOverflow) {
    EXPECT_EQ(quantity(0), "0x0");
    EXPECT_EQ(quantity(U256(1024)), "0x400");
    EXPECT_EQ(parseQuantity("0x400"), U256(1024));
    EXPECT_EQ(parseQuantity("0x0000ff"), U256(255));
    EXPECT_FALSE(parseQuantity("400").has_value());
    EXPECT_FALSE(parseQuantity("0x").has_value());
    EXPECT_FALSE(parseQuantity("0xg1").has_value());
    const std::string max = "0x" + std::string(64, 'f');
    EXPECT_EQ(parseQuantity(max), std::numeric_limits<U256>::max());
    EXPECT_FALSE(parseQuantity("0x1" + std::string(64, '0')).has_value());
    const auto big = parseDecimal(
        "115792089237316195423570985008687907853269984665640564039457584007913129639935");
    EXPECT_EQ(big, std::numeric_limits<U256>::max());
    EXPECT_FALSE(
        parseDecimal(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936")
            .has_value());
    EXPECT_FALSE(parseDecimal("-1").has_value());
    EXPECT_FALSE(parseDecimal("1e18").has_value());
    EXPECT_EQ(decimal(*parseDecimal("1000000000000000000")), "1000000000000000000");
    EXPECT_EQ(hex(toMinimalBigEndian(U256(0))), "0x");
    EXPECT_EQ(hex(toBigEndian(U256(0x0102), 4)), "0x00000102");
}

TEST(Rlp, EncodesTheWikisExamples) {
    EXPECT_EQ(hex(rlp::bytes("dog")), "0x83646f67");
    EXPECT_EQ(hex(rlp::list({rlp::bytes("cat"), rlp::bytes("dog")})), "0xc88363617483646f67");
    EXPECT_EQ(hex(rlp::bytes("")), "0x80");
    EXPECT_EQ(hex(rlp::list({})), "0xc0");
    EXPECT_EQ(hex(rlp::uint(0)), "0x80");
    EXPECT_EQ(hex(rlp::bytes(std::string(1, '\0'))), "0x00");
    EXPECT_EQ(hex(rlp::uint(15)), "0x0f");
    EXPECT_EQ(hex(rlp::uint(1024)), "0x820400");
    // The set-theoretical representation of three: [ [], [[]], [ [], [[]] ] ].
    const auto empty = rlp::list({});
    const auto one = rlp::list({empty});
    EXPECT_EQ(hex(rlp::list({empty, one, rlp::list({empty, one})})), "0xc7c0c1c0c3c0c1c0");
    const std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    EXPECT_EQ(hex(rlp::bytes(lorem)), "0xb838" + hex(lorem).substr(2));
    EXPECT_EQ(hex(rlp::uint(*parseQuantity("0x102030405060708090a0b0c0d0e0f2"))),
              "0x8f102030405060708090a0b0c0d0e0f2");
}

TEST(Rlp, DecodesWhatItEncodesAndRefusesNonCanonicalInput) {
    const auto enc = rlp::list(
        {rlp::bytes("cat"), rlp::list({rlp::uint(1024)}), rlp::bytes(std::string(60, 'x'))});
    auto item = rlp::decode(enc);
    ASSERT_TRUE(item.has_value());
    ASSERT_TRUE(item->is_list);
    ASSERT_EQ(item->items.size(), 3u);
    EXPECT_EQ(item->items[0].bytes, "cat");
    EXPECT_EQ(fromBigEndian(item->items[1].items[0].bytes), U256(1024));
    EXPECT_EQ(item->items[2].bytes, std::string(60, 'x'));
    for (auto bad :
         {"8100", "b800", "b80100", "c1", "83646f", "83646f6700", "", "b90001" /*short*/, "f800"}) {
        EXPECT_FALSE(rlp::decode(bin(bad)).has_value()) << bad;
    }
    std::string deep;
    for (int i = 0; i < 100; ++i) {
        deep = rlp::list({deep});
    }
    EXPECT_FALSE(rlp::decode(deep).has_value()) << "nesting beyond 64 is refused";
}

TEST(Address, Eip55ChecksumsAreTheEipsOwn) {
    for (auto a : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                   "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                   "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
                   "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
        std::string lower(a);
        std::transform(lower.begin() + 2, lower.end(), lower.begin() + 2,
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        auto parsed = Address::parse(lower);
        ASSERT_TRUE(parsed.has_value()) << a;
        EXPECT_EQ(parsed->checksummed(), a);
        EXPECT_EQ(Address::parse(a), parsed);
    }
    // One letter's case flipped: the checksum fails, so the typo is caught.
    EXPECT_FALSE(Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").has_value());
    EXPECT_FALSE(Address::parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae").has_value());
    EXPECT_FALSE(Address::parse("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00").has_value());
}

TEST(Keys, KnownKeysGiveTheirKnownAddresses) {
    auto one = PrivateKey::parse("0x" + std::string(63, '0') + "1");
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->address().checksummed(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    // anvil's first development account.
    auto dev =
        PrivateKey::parse("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
    ASSERT_TRUE(dev.has_value());
    EXPECT_EQ(dev->address().checksummed(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    EXPECT_FALSE(PrivateKey::parse("0x" + std::string(64, '0')).has_value());
    // The group order n is not a valid secret.
    EXPECT_FALSE(
        PrivateKey::parse("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .has_value());
    EXPECT_FALSE(PrivateKey::parse("0x1234").has_value());
}

TEST(Keys, SignaturesRecoverTheirSignerAndNothingElse) {
    const auto key = PrivateKey::generate();
    const auto digest = personalMessageDigest("Sign in to REST-iN-U");
    const auto sig = key.sign(digest);
    EXPECT_EQ(recoverSigner(digest, sig), key.address());
    EXPECT_EQ(key.sign(digest).rsv(), sig.rsv()) << "RFC 6979: the same digest, the same bytes";
    auto other = personalMessageDigest("Sign in to REST-iN-V");
    auto wrong = recoverSigner(other, sig);
    EXPECT_TRUE(!wrong || *wrong != key.address());
    auto back = Signature::fromRsv(sig.rsv());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(recoverSigner(digest, *back), key.address());
    EXPECT_FALSE(Signature::fromRsv(sig.rsv().substr(1)).has_value());
    // The high-s twin (s' = n - s, parity flipped) is refused (EIP-2).
    const U256 n =
        *parseQuantity("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    Signature twin{sig.r, toBigEndian(n - fromBigEndian(sig.s)), 1 - sig.recovery_id};
    EXPECT_FALSE(recoverSigner(digest, twin).has_value());
}

TEST(Transactions, Eip155SignsItsPublishedExample) {
    LegacyTx tx;
    tx.chain_id = 1;
    tx.nonce = 9;
    tx.gas_price = *parseDecimal("20000000000");
    tx.gas_limit = 21000;
    tx.to = Address::parse("0x3535353535353535353535353535353535353535");
    tx.value = *parseDecimal("1000000000000000000");
    EXPECT_EQ(hex(signingHash(tx)),
              "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
}

TEST(Transactions, Eip155SignedBytesAreThePublishedOnes) {
    std::string secret;
    for (int i = 0; i < 32; ++i) {
        secret += '\x46';
    }
    const auto key = PrivateKey::fromBytes(secret);
    ASSERT_TRUE(key.has_value());
    LegacyTx tx;
    tx.chain_id = 1;
    tx.nonce = 9;
    tx.gas_price = *parseDecimal("20000000000");
    tx.gas_limit = 21000;
    tx.to = Address::parse("0x3535353535353535353535353535353535353535");
    tx.value = *parseDecimal("1000000000000000000");
    const auto signed_tx = sign(tx, *key);
    EXPECT_EQ(hex(signed_tx.raw),
              "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640"
              "0008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8"
              "997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
}

TEST(Transactions, Eip1559EnvelopeDecodesToItsFieldsAndRecoversItsSender) {
    const auto key = PrivateKey::generate();
    Eip1559Tx tx;
    tx.chain_id = 31337;
    tx.nonce = 7;
    tx.max_priority_fee_per_gas = 1'000'000'000;
    tx.max_fee_per_gas = *parseDecimal("30000000000");
    tx.gas_limit = 100000;
    tx.to = Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    tx.value = 5;
    tx.data = bin("a9059cbb");
    const auto s = sign(tx, key);
    ASSERT_EQ(s.raw[0], '\x02');
    EXPECT_EQ(s.hash, keccak256(s.raw));
    auto item = rlp::decode(std::string_view(s.raw).substr(1));
    ASSERT_TRUE(item && item->is_list);
    ASSERT_EQ(item->items.size(), 12u);
    EXPECT_EQ(fromBigEndian(item->items[0].bytes), U256(31337));
    EXPECT_EQ(fromBigEndian(item->items[1].bytes), U256(7));
    EXPECT_EQ(item->items[5].bytes, tx.to->bytes());
    EXPECT_EQ(item->items[7].bytes, tx.data);
    EXPECT_TRUE(item->items[8].is_list && item->items[8].items.empty());
    Signature sig{toBigEndian(fromBigEndian(item->items[10].bytes)),
                  toBigEndian(fromBigEndian(item->items[11].bytes)),
                  static_cast<int>(fromBigEndian(item->items[9].bytes))};
    EXPECT_EQ(recoverSigner(signingHash(tx), sig), key.address());
}

TEST(Transactions, CreatedContractAddressesFollowSenderAndNonce) {
    // anvil's first account deploying its first contract: a widely quoted address.
    const auto dev = *Address::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    EXPECT_EQ(contractAddress(dev, 0).checksummed(), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
    EXPECT_EQ(contractAddress(dev, 1).checksummed(), "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512");
}

TEST(Abi, SelectorsAndTopicsAreTheKnownOnes) {
    EXPECT_EQ(hex(abi::selector("transfer(address,uint256)")), "0xa9059cbb");
    EXPECT_EQ(hex(abi::selector("balanceOf(address)")), "0x70a08231");
    EXPECT_EQ(hex(abi::eventTopic("Transfer(address,address,uint256)")),
              "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

TEST(Abi, EncodesTheSolidityDocsExamples) {
    using abi::Value;
    EXPECT_EQ(abi::encodeCall("baz(uint32,bool)", {Value::uint(69), Value::boolean(true)}),
              bin("cdcd77c0") +
                  words({"0000000000000000000000000000000000000000000000000000000000000045",
                         "0000000000000000000000000000000000000000000000000000000000000001"}));
    EXPECT_EQ(abi::encodeCall("bar(bytes3[2])",
                              {Value::array({Value::bytes("abc"), Value::bytes("def")})}),
              bin("fce353f6") +
                  words({"6162630000000000000000000000000000000000000000000000000000000000",
                         "6465660000000000000000000000000000000000000000000000000000000000"}));
    const auto sam =
        abi::encodeCall("sam(bytes,bool,uint256[])",
                        {Value::bytes("dave"), Value::boolean(true),
                         Value::array({Value::uint(1), Value::uint(2), Value::uint(3)})});
    EXPECT_EQ(sam, bin("a5643bf2") +
                       words({"0000000000000000000000000000000000000000000000000000000000000060",
                              "0000000000000000000000000000000000000000000000000000000000000001",
                              "00000000000000000000000000000000000000000000000000000000000000a0",
                              "0000000000000000000000000000000000000000000000000000000000000004",
                              "6461766500000000000000000000000000000000000000000000000000000000",
                              "0000000000000000000000000000000000000000000000000000000000000003",
                              "0000000000000000000000000000000000000000000000000000000000000001",
                              "0000000000000000000000000000000000000000000000000000000000000002",
                              "0000000000000000000000000000000000000000000000000000000000000003"}));
    const auto f =
        abi::encodeCall("f(uint256,uint32[],bytes10,bytes)",
                        {Value::uint(0x123), Value::array({Value::uint(0x456), Value::uint(0x789)}),
                         Value::bytes("1234567890"), Value::bytes("Hello, world!")});
    EXPECT_EQ(f, bin("8be65246") +
                     words({"0000000000000000000000000000000000000000000000000000000000000123",
                            "0000000000000000000000000000000000000000000000000000000000000080",
                            "3132333435363738393000000000000000000000000000000000000000000000",
                            "00000000000000000000000000000000000000000000000000000000000000e0",
                            "0000000000000000000000000000000000000000000000000000000000000002",
                            "0000000000000000000000000000000000000000000000000000000000000456",
                            "0000000000000000000000000000000000000000000000000000000000000789",
                            "000000000000000000000000000000000000000000000000000000000000000d",
                            "48656c6c6f2c20776f726c642100000000000000000000000000000000000000"}));
    // And back.
    auto back = abi::decode({"uint256", "uint32[]", "bytes10", "bytes"}, f.substr(4));
    ASSERT_EQ(back.size(), 4u);
    EXPECT_EQ(back[0].asUint(), U256(0x123));
    EXPECT_EQ(back[1].asArray().size(), 2u);
    EXPECT_EQ(back[1].asArray()[1].asUint(), U256(0x789));
    EXPECT_EQ(back[2].asBytes(), "1234567890");
    EXPECT_EQ(back[3].asBytes(), "Hello, world!");
}

TEST(Abi, RefusesValuesThatDoNotFitAndDataThatLies) {
    using abi::Value;
    EXPECT_THROW(abi::encode({"uint8"}, {Value::uint(256)}), abi::AbiError);
    EXPECT_THROW(abi::encode({"bytes4"}, {Value::bytes("abc")}), abi::AbiError);
    EXPECT_THROW(abi::encode({"address"}, {Value::uint(1)}), abi::AbiError);
    EXPECT_THROW(abi::encode({"uint256"}, {}), abi::AbiError);
    EXPECT_THROW(abi::encode({"tuple"}, {Value::uint(1)}), abi::AbiError);
    const std::string w0(32, '\0');
    auto word = [](std::string_view h) { return toBigEndian(*parseQuantity(h)); };
    EXPECT_THROW(abi::decode({"bool"}, word("0x2")), abi::AbiError);
    EXPECT_THROW(abi::decode({"address"}, word("0x10000000000000000000000000000000000000000")),
                 abi::AbiError);
    EXPECT_THROW(abi::decode({"uint256"}, std::string(31, '\0')), abi::AbiError);
    // An offset past the end, a length past the end, an array count no data could hold.
    EXPECT_THROW(abi::decode({"bytes"}, word("0x40")), abi::AbiError);
    EXPECT_THROW(abi::decode({"bytes"}, word("0x20") + word("0x1000")), abi::AbiError);
    EXPECT_THROW(abi::decode({"uint256[]"}, word("0x20") + word("0xffffffffffffffff")),
                 abi::AbiError);
    EXPECT_THROW(abi::decode({"string"}, word("0x20") + word("0x" + std::string(64, 'f'))),
                 abi::AbiError);
    const auto addr = *Address::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    auto topic = abi::decodeTopic("address", toBigEndian(fromBigEndian(addr.bytes())));
    EXPECT_EQ(topic.asAddress(), addr);
    EXPECT_THROW(abi::decodeTopic("string", w0), abi::AbiError);
}

}  // namespace
}  // namespace restinu::blockchain::eth
