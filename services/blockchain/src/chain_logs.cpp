#include "chain_logs.hpp"

#include <stdexcept>

#include "abi.hpp"
#include "restinu/contracts/events.hpp"

namespace restinu::blockchain {
namespace json = boost::json;
using eth::U256;
namespace abi = eth::abi;

std::optional<ContractKind> parseContractKind(std::string_view s) {
    if (s == "deed") {
        return ContractKind::Deed;
    }
    if (s == "shares") {
        return ContractKind::Shares;
    }
    if (s == "registry") {
        return ContractKind::Registry;
    }
    return std::nullopt;
}

std::string_view contractKindName(ContractKind k) {
    switch (k) {
        case ContractKind::Deed:
            return "deed";
        case ContractKind::Shares:
            return "shares";
        case ContractKind::Registry:
            return "registry";
    }
    return "";
}

namespace {

const json::value& member(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        throw std::invalid_argument("log: " + std::string(key) + " is missing");
    }
    return *v;
}

std::string hexMember(const json::object& o, std::string_view key) {
    const auto* s = member(o, key).if_string();
    auto b = s != nullptr ? eth::unhex(*s) : std::nullopt;
    if (!b) {
        throw std::invalid_argument("log: " + std::string(key) + " is not hex data");
    }
    return *b;
}

std::int64_t quantityMember(const json::object& o, std::string_view key) {
    const auto* s = member(o, key).if_string();
    auto q = s != nullptr ? eth::parseQuantity(*s) : std::nullopt;
    if (!q || *q > U256(INT64_MAX)) {
        throw std::invalid_argument("log: " + std::string(key) + " is not a quantity");
    }
    return static_cast<std::int64_t>(*q);
}

std::string hash32(const json::object& o, std::string_view key) {
    auto b = hexMember(o, key);
    if (b.size() != 32) {
        throw std::invalid_argument("log: " + std::string(key) + " is not 32 bytes");
    }
    return eth::hex(b);
}

// The topics the event needs: exactly `n` (topic 0 included).
void expectTopics(const std::vector<std::string>& topics, std::size_t n, std::string_view sig) {
    if (topics.size() != n) {
        throw abi::AbiError(std::string(sig) + ": expected " + std::to_string(n) + " topics, got " +
                            std::to_string(topics.size()));
    }
}

eth::Address topicAddress(const std::string& topic) {
    return abi::decodeTopic("address", topic).asAddress();
}

}  // namespace

RawLog parseRawLog(const json::object& o) {
    RawLog log;
    auto address = hexMember(o, "address");
    if (address.size() != 20) {
        throw std::invalid_argument("log: address is not 20 bytes");
    }
    log.address = eth::hex(address);
    const auto* topics = member(o, "topics").if_array();
    if (topics == nullptr) {
        throw std::invalid_argument("log: topics is not an array");
    }
    for (const auto& t : *topics) {
        const auto* s = t.if_string();
        auto b = s != nullptr ? eth::unhex(*s) : std::nullopt;
        if (!b || b->size() != 32) {
            throw std::invalid_argument("log: a topic is not 32 bytes of hex");
        }
        log.topics.push_back(std::move(*b));
    }
    log.data = hexMember(o, "data");
    log.block_number = quantityMember(o, "blockNumber");
    log.block_hash = hash32(o, "blockHash");
    log.log_index = quantityMember(o, "logIndex");
    log.tx_hash = hash32(o, "transactionHash");
    if (const auto* r = o.if_contains("removed"); r != nullptr && r->is_bool()) {
        log.removed = r->as_bool();
    }
    return log;
}

std::optional<LogEffect> decodeLog(ContractKind kind, const std::vector<std::string>& topics,
                                   std::string_view data) {
    static const std::string kTransfer = abi::eventTopic(signatures::kTransfer);
    static const std::string kRentDeposited = abi::eventTopic(signatures::kRentDeposited);
    static const std::string kRentClaimed = abi::eventTopic(signatures::kRentClaimed);
    static const std::string kRecovered = abi::eventTopic(signatures::kRecovered);
    static const std::string kIdentityRegistered = abi::eventTopic(signatures::kIdentityRegistered);
    static const std::string kIdentityRemoved = abi::eventTopic(signatures::kIdentityRemoved);
    if (topics.empty()) {
        return std::nullopt;  // an anonymous event: none of ours
    }
    const auto& t0 = topics[0];
    switch (kind) {
        case ContractKind::Deed:
            if (t0 == kTransfer) {
                // Transfer(address indexed from, address indexed to, uint256 indexed tokenId)
                expectTopics(topics, 4, signatures::kTransfer);
                return DeedTransferLog{topicAddress(topics[1]), topicAddress(topics[2]),
                                       abi::decodeTopic("uint256", topics[3]).asUint()};
            }
            return std::nullopt;
        case ContractKind::Shares:
            if (t0 == kTransfer) {
                // Transfer(address indexed from, address indexed to, uint256 value)
                expectTopics(topics, 3, signatures::kTransfer);
                auto v = abi::decode({"uint256"}, data);
                return ShareTransferLog{topicAddress(topics[1]), topicAddress(topics[2]),
                                        v[0].asUint()};
            }
            if (t0 == kRentDeposited) {
                // RentDeposited(address indexed by, uint256 amount, uint256 magnifiedPerShare)
                expectTopics(topics, 2, signatures::kRentDeposited);
                auto v = abi::decode({"uint256", "uint256"}, data);
                return RentDepositLog{topicAddress(topics[1]), v[0].asUint()};
            }
            if (t0 == kRentClaimed) {
                // RentClaimed(address indexed holder, uint256 amount)
                expectTopics(topics, 2, signatures::kRentClaimed);
                auto v = abi::decode({"uint256"}, data);
                return RentClaimLog{topicAddress(topics[1]), v[0].asUint()};
            }
            if (t0 == kRecovered) {
                // Recovered(address indexed lost, address indexed replacement, uint256 amount)
                expectTopics(topics, 3, signatures::kRecovered);
                auto v = abi::decode({"uint256"}, data);
                return RecoveryLog{topicAddress(topics[1]), topicAddress(topics[2]), v[0].asUint()};
            }
            return std::nullopt;
        case ContractKind::Registry:
            if (t0 == kIdentityRegistered || t0 == kIdentityRemoved) {
                // IdentityRegistered(address indexed wallet, address indexed agent), and Removed
                expectTopics(topics, 3, signatures::kIdentityRegistered);
                return IdentityLog{topicAddress(topics[1]), t0 == kIdentityRegistered};
            }
            return std::nullopt;
    }
    return std::nullopt;
}

namespace {

contracts::ChainLogRef refOf(const IndexedLog& log) {
    return {log.contract,     log.property_id.value_or(""),
            log.block_number, log.block_hash,
            log.tx_hash,      log.log_index};
}

struct EventOf {
    const IndexedLog& log;

    std::optional<rt::Event> make(std::string_view type, std::string data) const {
        return rt::makeEvent(std::string(type), std::string(contracts::kChainAggregate),
                             log.contract, std::move(data));
    }
    std::optional<rt::Event> operator()(const DeedTransferLog& e) const {
        if (e.from != eth::Address()) {
            return std::nullopt;
        }
        contracts::DeedMinted m{refOf(log), eth::decimal(e.token_id), e.to.lower(),
                                log.uri.value_or("")};
        return make(contracts::DeedMinted::kType, m.data());
    }
    std::optional<rt::Event> operator()(const ShareTransferLog& e) const {
        contracts::SharesTransferred t{refOf(log), e.from.lower(), e.to.lower(),
                                       eth::decimal(e.amount)};
        return make(contracts::SharesTransferred::kType, t.data());
    }
    std::optional<rt::Event> operator()(const RentDepositLog& e) const {
        contracts::RentDeposited d{refOf(log), e.by.lower(), eth::decimal(e.amount)};
        return make(contracts::RentDeposited::kType, d.data());
    }
    std::optional<rt::Event> operator()(const RentClaimLog& e) const {
        contracts::DividendClaimed c{refOf(log), e.holder.lower(), eth::decimal(e.amount)};
        return make(contracts::DividendClaimed::kType, c.data());
    }
    std::optional<rt::Event> operator()(const RecoveryLog&) const { return std::nullopt; }
    std::optional<rt::Event> operator()(const IdentityLog&) const { return std::nullopt; }
};

}  // namespace

std::optional<rt::Event> chainEvent(const IndexedLog& log) {
    return std::visit(EventOf{log}, log.effect);
}

}  // namespace restinu::blockchain
