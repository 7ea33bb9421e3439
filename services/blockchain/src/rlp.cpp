#include "rlp.hpp"

namespace restinu::blockchain::eth::rlp {
namespace {

// The prefix of a string (offset 0x80) or list (0xc0) whose payload has `length` bytes.
std::string prefix(std::size_t length, unsigned char offset) {
    if (length <= 55) {
        // Braces would make a list of two chars. NOLINTNEXTLINE(modernize-return-braced-init-list)
        return std::string(1, static_cast<char>(offset + length));
    }
    const std::string len = toMinimalBigEndian(U256(length));
    return static_cast<char>(offset + 55 + len.size()) + len;
}

constexpr int kMaxDepth = 64;

// Reads one item at the start of `in`; advances `in` past it.
std::optional<Item> readItem(std::string_view& in, int depth) {
    if (in.empty() || depth > kMaxDepth) {
        return std::nullopt;
    }
    const auto b = static_cast<unsigned char>(in[0]);
    Item item;
    if (b < 0x80) {
        item.bytes.assign(1, in[0]);
        in.remove_prefix(1);
        return item;
    }
    const bool is_list = b >= 0xc0;
    const unsigned base = is_list ? 0xc0 : 0x80;
    std::size_t length = 0;
    std::size_t header = 1;
    if (b - base <= 55) {
        length = b - base;
    } else {
        const std::size_t len_of_len = b - base - 55;
        if (len_of_len > 8 || in.size() < 1 + len_of_len || in[1] == '\0') {
            return std::nullopt;  // a length with a leading zero is not canonical
        }
        for (std::size_t i = 0; i < len_of_len; ++i) {
            length = (length << 8) | static_cast<unsigned char>(in[1 + i]);
        }
        if (length <= 55) {
            return std::nullopt;  // the short form had to be used
        }
        header += len_of_len;
    }
    if (in.size() - header < length) {
        return std::nullopt;
    }
    std::string_view payload = in.substr(header, length);
    in.remove_prefix(header + length);
    item.is_list = is_list;
    if (!is_list) {
        if (length == 1 && static_cast<unsigned char>(payload[0]) < 0x80) {
            return std::nullopt;  // a single low byte stands for itself
        }
        item.bytes.assign(payload);
        return item;
    }
    while (!payload.empty()) {
        auto child = readItem(payload, depth + 1);
        if (!child) {
            return std::nullopt;
        }
        item.items.push_back(std::move(*child));
    }
    return item;
}

}  // namespace

std::string bytes(std::string_view b) {
    if (b.size() == 1 && static_cast<unsigned char>(b[0]) < 0x80) {
        return std::string(b);
    }
    return prefix(b.size(), 0x80) + std::string(b);
}

std::string uint(const U256& v) {
    return bytes(toMinimalBigEndian(v));
}

std::string list(const std::vector<std::string>& encoded_items) {
    std::size_t total = 0;
    for (const auto& i : encoded_items) {
        total += i.size();
    }
    std::string out = prefix(total, 0xc0);
    out.reserve(out.size() + total);
    for (const auto& i : encoded_items) {
        out += i;
    }
    return out;
}

std::optional<Item> decode(std::string_view data) {
    auto item = readItem(data, 0);
    if (!item || !data.empty()) {
        return std::nullopt;
    }
    return item;
}

}  // namespace restinu::blockchain::eth::rlp
