#include "chain_logs.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "abi.hpp"
#include "restinu/contracts/events.hpp"

namespace restinu::blockchain {
namespace {

using eth::U256;
namespace abi = eth::abi;

eth::Address addr(std::string_view text) {
    return *eth::Address::parse(text);
}

std::string word(const eth::Address& a) {
    return std::string(12, '\0') + a.bytes();
}

const eth::Address kAlice = addr("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
const eth::Address kBob = addr("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");

TEST(ChainLogs, TopicZeroIsTheKeccakOfTheEventSignature) {
    // The ERC-20/721 Transfer topic every explorer shows.
    EXPECT_EQ(eth::hex(abi::eventTopic(signatures::kTransfer)),
              "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

TEST(ChainLogs, ASharesTransferCarriesItsAmountInDataAndADeedsItsTokenIdInATopic) {
    const auto t0 = abi::eventTopic(signatures::kTransfer);
    const U256 big = *eth::parseDecimal("123456789012345678901234567890");
    auto shares =
        decodeLog(ContractKind::Shares, {t0, word(kAlice), word(kBob)}, eth::toBigEndian(big));
    ASSERT_TRUE(shares);
    const auto& s = std::get<ShareTransferLog>(*shares);
    EXPECT_EQ(s.from, kAlice);
    EXPECT_EQ(s.to, kBob);
    EXPECT_EQ(s.amount, big);

    auto deed = decodeLog(ContractKind::Deed,
                          {t0, word(eth::Address()), word(kBob), eth::toBigEndian(7)}, "");
    ASSERT_TRUE(deed);
    const auto& d = std::get<DeedTransferLog>(*deed);
    EXPECT_EQ(d.from, eth::Address());
    EXPECT_EQ(d.token_id, U256(7));
    // The same topic with the other kind's shape is not that event.
    EXPECT_THROW(decodeLog(ContractKind::Deed, {t0, word(kAlice), word(kBob)}, eth::toBigEndian(1)),
                 abi::AbiError);
    EXPECT_THROW(decodeLog(ContractKind::Shares, {t0, word(kAlice), word(kBob)}, ""),
                 abi::AbiError);
}

TEST(ChainLogs, RentAndIdentityEventsDecodeAndOthersAreIgnored) {
    auto dep =
        decodeLog(ContractKind::Shares, {abi::eventTopic(signatures::kRentDeposited), word(kAlice)},
                  eth::toBigEndian(100001) + eth::toBigEndian(U256(1) << 200));
    ASSERT_TRUE(dep);
    EXPECT_EQ(std::get<RentDepositLog>(*dep).amount, U256(100001));
    auto claim =
        decodeLog(ContractKind::Shares, {abi::eventTopic(signatures::kRentClaimed), word(kBob)},
                  eth::toBigEndian(40000));
    ASSERT_TRUE(claim);
    EXPECT_EQ(std::get<RentClaimLog>(*claim).holder, kBob);
    auto removed =
        decodeLog(ContractKind::Registry,
                  {abi::eventTopic(signatures::kIdentityRemoved), word(kBob), word(kAlice)}, "");
    ASSERT_TRUE(removed);
    EXPECT_FALSE(std::get<IdentityLog>(*removed).registered);
    EXPECT_FALSE(
        decodeLog(ContractKind::Shares,
                  {abi::eventTopic("Approval(address,address,uint256)"), word(kAlice), word(kBob)},
                  eth::toBigEndian(1)));
    // A registry's event on a shares contract is not read as anything.
    EXPECT_FALSE(decodeLog(
        ContractKind::Shares,
        {abi::eventTopic(signatures::kIdentityRegistered), word(kBob), word(kAlice)}, ""));
    EXPECT_FALSE(decodeLog(ContractKind::Shares, {}, ""));
}

TEST(ChainLogs, ARawLogParsesFromTheNodesJsonAndRejectsBadHex) {
    auto o = boost::json::parse(R"({
        "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "topics": ["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"],
        "data": "0x",
        "blockNumber": "0x1b",
        "blockHash": "0x0f0e0d0c0b0a09080706050403020100000102030405060708090a0b0c0d0e0f",
        "logIndex": "0x2",
        "transactionHash": "0x1111111111111111111111111111111111111111111111111111111111111111",
        "removed": false})")
                 .as_object();
    auto log = parseRawLog(o);
    EXPECT_EQ(log.address, "0x5fbdb2315678afecb367f032d93f642f64180aa3");
    EXPECT_EQ(log.block_number, 27);
    EXPECT_EQ(log.log_index, 2);
    EXPECT_EQ(log.topics.size(), 1u);
    EXPECT_FALSE(log.removed);
    o["blockHash"] = "0x12";
    EXPECT_THROW(parseRawLog(o), std::invalid_argument);
}

TEST(ChainLogs, EffectsBecomeTheirEventsWithDecimalAmounts) {
    IndexedLog log;
    log.contract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    log.block_number = 27;
    log.block_hash = "0xab";
    log.log_index = 3;
    log.tx_hash = "0xcd";
    log.property_id = "8f14e45f-ceea-467a-9c4e-4e2a7c1b0d31";
    log.effect = ShareTransferLog{kAlice, kBob, *eth::parseDecimal("99999999999999999999")};
    auto e = chainEvent(log);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, "shares.transferred");
    EXPECT_EQ(e->aggregate_type, "chain");
    EXPECT_EQ(e->aggregate_id, log.contract);
    auto t = contracts::SharesTransferred::parse(e->data);
    EXPECT_EQ(t.amount, "99999999999999999999");
    EXPECT_EQ(t.from, kAlice.lower());
    EXPECT_EQ(t.at.property_id, *log.property_id);
    EXPECT_EQ(t.at.log_index, 3);

    log.effect = DeedTransferLog{eth::Address(), kBob, 5};
    log.uri = "ipfs://bafk";
    auto m = contracts::DeedMinted::parse(chainEvent(log)->data);
    EXPECT_EQ(m.token_id, "5");
    EXPECT_EQ(m.uri, "ipfs://bafk");
    log.effect = DeedTransferLog{kAlice, kBob, 5};
    EXPECT_FALSE(chainEvent(log)) << "a deed's later move has no event";
    log.property_id.reset();
    log.effect = RentClaimLog{kBob, 12};
    auto c = contracts::DividendClaimed::parse(chainEvent(log)->data);
    EXPECT_EQ(c.amount, "12");
    EXPECT_EQ(c.at.property_id, "");
}

}  // namespace
}  // namespace restinu::blockchain
